// Point-in-time recovery's pure rules (components/database/restore.ts) and the config key
// that uses them, dropstack:postgres.restore: which timestamps are accepted, what
// DigitalOcean receives, the restored cluster's name, and the 7-day window note.
import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import { rawNamespaceConfig } from "../../components/config";
import { parseStackConfig } from "../../components/config/schema";
import {
  CLUSTER_NAME,
  MAX_CLUSTER_NAME,
  PITR_WINDOW_DAYS,
  describeRestoreTimestampProblem,
  normalizedRestoreTimestamp,
  pitrWindowNote,
  restoredClusterName,
} from "../../components/database/restore";
import { readStackFile } from "../../tools/check/stack-file";
import { ROOT } from "../support/program";
import { runbookBlock } from "../support/runbook";
import { minimalConfig } from "../support/config";

const DAY_MS = 24 * 3600 * 1000;

const minimal = (restore?: unknown) => ({ ...minimalConfig(), postgres: restore === undefined ? {} : { restore } });

function problems(raw: Record<string, unknown>, stack = "staging", project = "dropstack"): string[] {
  const result = parseStackConfig(raw, stack, project);
  return result.ok ? [] : result.problems;
}

/** `instant` written with the offset `minutes` east of UTC, as RFC 3339 writes it. */
function withOffset(instant: Date, minutes: number): string {
  const local = new Date(instant.getTime() + minutes * 60_000).toISOString().slice(0, 19);
  if (minutes === 0) return `${local}Z`;
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

// Instants around the edges a parser gets wrong: year and month ends, a leap day, midnight.
const INSTANTS = ["2026-11-28T09:30:00Z", "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z", "2028-02-29T12:00:00Z", "2026-03-01T00:30:05Z"];
const OFFSETS = [0, 60, -300, 330, 345, -600, 840, -720];

describe("restore timestamps", () => {
  it("accepts every instant written in UTC or with any offset, and hands DigitalOcean the same instant in UTC", () => {
    for (const text of INSTANTS) {
      const instant = new Date(text);
      for (const offset of OFFSETS) {
        const written = withOffset(instant, offset);
        assert.equal(describeRestoreTimestampProblem(written), undefined, written);
        assert.equal(normalizedRestoreTimestamp(written), text, written);
      }
    }
  });

  it("refuses what is not an RFC 3339 time to whole seconds with an offset", () => {
    const refused = [
      "",
      "2026-11-28",
      "2026-11-28T09:30:00", // no offset: a different instant on every machine
      "2026-11-28 09:30:00Z",
      "2026-11-28T09:30Z",
      "2026-11-28T09:30:00.123Z",
      "2026-11-28T09:30:00+0100",
      "2026-11-28T09:30:00 UTC",
      "28/11/2026 09:30",
      "1732786200",
      "now",
      " 2026-11-28T09:30:00Z",
      "2026-11-28T09:30:00Z ",
    ];
    for (const value of refused) assert.match(describeRestoreTimestampProblem(value) ?? "", /expected an RFC 3339 UTC time/, value);
  });

  it("refuses dates and times that do not exist", () => {
    const unreal = [
      "2026-02-29T00:00:00Z",
      "2026-02-30T00:00:00Z",
      "2026-04-31T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-00-10T00:00:00Z",
      "2026-11-00T00:00:00Z",
      "2026-11-28T24:00:00Z",
      "2026-11-28T09:60:00Z",
      "2026-11-28T09:30:60Z",
      "2026-11-28T09:30:00+24:00",
      "2026-11-28T09:30:00+01:60",
    ];
    for (const value of unreal) assert.match(describeRestoreTimestampProblem(value) ?? "", /is not a real date and time/, value);
    assert.throws(() => normalizedRestoreTimestamp("2026-02-30T00:00:00Z"), /not a real date/);
  });
});

describe("restored cluster names", () => {
  it("names the restored cluster after the source and the UTC restore point, one name per instant", () => {
    assert.equal(
      restoredClusterName("dropstack-production-pg", "2026-11-28T10:30:00+01:00"),
      "dropstack-production-pg-pitr-20261128t093000z",
    );
    const names = new Set<string>();
    for (const text of INSTANTS) {
      for (const offset of OFFSETS) names.add(restoredClusterName("acme-staging-pg", withOffset(new Date(text), offset)));
    }
    assert.equal(names.size, INSTANTS.length, "every way of writing one instant gives one name, different instants differ");
    for (const name of names) assert.match(name, CLUSTER_NAME);
  });
});

describe("the point-in-time window note", () => {
  const at = "2026-11-20T12:00:00Z";
  const atMs = Date.parse(at);

  it("says nothing inside the window, from the restore point itself to exactly 7 days later", () => {
    for (const ageMs of [0, 1000, 3600_000, DAY_MS, 6.5 * DAY_MS, PITR_WINDOW_DAYS * DAY_MS])
      assert.equal(pitrWindowNote(at, new Date(atMs + ageMs)), undefined, `${ageMs} ms old`);
  });

  it("says DigitalOcean refuses a restore point older than 7 days, with its age", () => {
    for (const ageMs of [PITR_WINDOW_DAYS * DAY_MS + 1000, 8 * DAY_MS, 60 * DAY_MS]) {
      const note = pitrWindowNote(at, new Date(atMs + ageMs)) ?? "";
      assert.match(note, /keeps point-in-time backups for 7 days/);
      assert.match(note, new RegExp(`is ${(ageMs / DAY_MS).toFixed(1)} days old`));
    }
  });

  it("says a restore point in the future is refused", () => {
    for (const aheadMs of [1000, DAY_MS]) assert.match(pitrWindowNote(at, new Date(atMs - aheadMs)) ?? "", /is in the future/);
  });

  it("depends only on its arguments", () => {
    const now = new Date(atMs + 8 * DAY_MS);
    assert.equal(pitrWindowNote(at, now), pitrWindowNote(at, now));
    assert.equal(pitrWindowNote("2026-11-20T13:00:00+01:00", now), pitrWindowNote(at, now), "one instant, one answer");
  });
});

describe("dropstack:postgres.restore", () => {
  it("is optional, and takes a timestamp with an optional source cluster", () => {
    const none = parseStackConfig(minimal(), "staging");
    assert.ok(none.ok);
    assert.equal(none.config.postgres.restore, undefined);
    for (const restore of [{ timestamp: "2026-11-28T09:30:00Z" }, { timestamp: "2026-11-28T09:30:00Z", fromCluster: "legacy-pg" }]) {
      const result = parseStackConfig(minimal(restore), "production");
      // Production has other required keys; none of its problems may be about the restore.
      const restoreProblems = result.ok ? [] : result.problems.filter((p) => p.includes("restore"));
      assert.deepEqual(restoreProblems, [], JSON.stringify(restore));
      const staging = parseStackConfig(minimal(restore), "staging");
      assert.ok(staging.ok);
      assert.deepEqual(staging.config.postgres.restore, restore);
    }
  });

  it("names the key of every problem", () => {
    const cases: [unknown, string][] = [
      [{}, "dropstack:postgres.restore.timestamp: required"],
      [{ timestamp: "2026-11-28T09:30:00" }, "dropstack:postgres.restore.timestamp: expected an RFC 3339 UTC time"],
      [{ timestamp: "2026-02-30T09:30:00Z" }, 'dropstack:postgres.restore.timestamp: "2026-02-30T09:30:00Z" is not a real date'],
      [{ timestamp: 1732786200 }, "dropstack:postgres.restore.timestamp: expected text, got 1732786200"],
      [{ timestamp: "2026-11-28T09:30:00Z", fromCluster: "Legacy_PG" }, "dropstack:postgres.restore.fromCluster: expected a DigitalOcean"],
      [
        { timestamp: "2026-11-28T09:30:00Z", time: "x" },
        "dropstack:postgres.restore.time: unknown key; did you mean dropstack:postgres.restore.timestamp?",
      ],
      ["2026-11-28T09:30:00Z", "dropstack:postgres.restore: expected a mapping of keys to values"],
      [
        { timestamp: "2026-11-28T09:30:00Z", fromCluster: "dropstack-staging-pg-pitr-20261128t093000z" },
        "dropstack:postgres.restore.fromCluster: is the cluster this restore creates",
      ],
    ];
    for (const [restore, expected] of cases) {
      const found = problems(minimal(restore));
      assert.equal(found.length, 1, `${JSON.stringify(restore)}: ${found.join("; ")}`);
      assert.ok(found[0].startsWith(expected), `${JSON.stringify(restore)}: ${found[0]}`);
    }
  });

  it("refuses a restore whose cluster name DigitalOcean would not take, naming the key", () => {
    // dropstack's names: <project>-<stack>-pg-pitr-<15 characters>; 63 at most.
    const longest = MAX_CLUSTER_NAME - "-staging-pg-pitr-20261128t093000z".length;
    const restore = { timestamp: "2026-11-28T09:30:00Z" };
    assert.deepEqual(problems(minimal(restore), "staging", "p".repeat(longest)), []);
    const found = problems(minimal(restore), "staging", "p".repeat(longest + 1));
    assert.equal(found.length, 1);
    assert.match(
      found[0],
      /^dropstack:postgres\.restore: the restored cluster's name p+-staging-pg-pitr-20261128t093000z would have 64 characters/,
    );
  });
});

/**
 * What `pulumi config set --path` / `pulumi config rm --path` do to the stack's `dropstack:`
 * values, for the runbook's lines (commented lines are not run). Returns how many ran.
 */
function applyConfigCommands(raw: Record<string, unknown>, block: string): number {
  let ran = 0;
  for (const line of block.split("\n")) {
    const set = /^pulumi config set --path 'dropstack:([^']+)' '([^']*)' --stack production$/.exec(line);
    const rm = /^pulumi config rm --path 'dropstack:([^']+)' --stack production$/.exec(line);
    if (!set && !rm) {
      assert.ok(!/^pulumi config/.test(line), `a config line this test does not understand: ${line}`);
      continue;
    }
    const keys = (set ?? rm)?.[1].split(".") ?? [];
    let node = raw;
    for (const key of keys.slice(0, -1)) {
      if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    if (set) node[keys[keys.length - 1]] = set[2];
    else delete node[keys[keys.length - 1]];
    ran++;
  }
  return ran;
}

describe("the point-in-time runbook's config steps (docs/rollback.md)", () => {
  const committed = () => rawNamespaceConfig(readStackFile(path.join(ROOT, "Pulumi.production.yaml")).config);

  it("cut over: gives a production config the program accepts, restoring to the runbook's time", () => {
    const block = runbookBlock("pitr-cut-over");
    const raw = committed();
    assert.equal(applyConfigCommands(raw, block), 1);
    const result = parseStackConfig(raw, "production");
    assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
    const timestamp = /'dropstack:postgres\.restore\.timestamp' '([^']+)'/.exec(block)?.[1] ?? "";
    assert.deepEqual(result.config.postgres.restore, { timestamp });
    assert.equal(pitrWindowNote(timestamp, new Date(Date.parse(timestamp) + 3600_000)), undefined, "an hour later it is inside the window");
    const committedResult = parseStackConfig(committed(), "production");
    assert.ok(committedResult.ok);
    const expected = { ...committedResult.config, postgres: { ...committedResult.config.postgres, restore: { timestamp } } };
    assert.deepEqual(result.config, expected, "nothing else changes");
  });

  it("back: gives back the committed config", () => {
    const raw = committed();
    applyConfigCommands(raw, runbookBlock("pitr-cut-over"));
    assert.equal(applyConfigCommands(raw, runbookBlock("pitr-back")), 1);
    assert.deepEqual(raw, committed());
  });
});
