// The hooks' rendered shell run in bash, with the tools they call (rclone, docker, pg_restore)
// replaced by functions that record what they are asked: off-site retention, the image prune
// after a passing deploy, the backup hook's run and the restore drill. The rendering itself is
// asserted whole in hooks-rendered-whole.test.ts; these files are apart because these tests
// start shells and take seconds where the others take milliseconds.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { type HookPaths, renderBackupCommand, renderOffsitePrune, renderPruneImagesCommand } from "../../components/hooks/commands";
import { renderDrillCommand } from "../../components/hooks/schedule";

const OFFSITE = { bucket: "acme-backups-x1", endpoint: "https://fra1.digitaloceanspaces.com", prefix: "postgres/" };

/** A backup.sh name whose stamp is `seconds` before `now` (epoch seconds). */
function backupName(now: number, seconds: number, label = "img"): string {
  const stamp = new Date((now - seconds) * 1000)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.(\d{3})Z$/, ".$1000000Z");
  return `app-${stamp}-${label}.dump`;
}

/**
 * Runs the rendered off-site prune in bash against a bucket listing, with rclone replaced by a
 * function that prints the listing (or fails) and records what it is asked to delete.
 */
function runOffsitePrune(listing: string[] | "fails", rule: { keep: number; days: number }, deleteFails = false) {
  const dir = mkdtempSync(join(tmpdir(), "dropstack-offsite-prune-"));
  const deleted = join(dir, "deleted");
  const stub = [
    "offsite_rclone() {",
    '  if [[ $1 == lsf ]]; then [[ $LISTING != fails ]] || return 1; printf "%s" "$LISTING"; return 0; fi',
    '  if [[ $1 == --stdin && $2 == delete && $3 == --files-from-raw && $4 == - && $5 == offsite:b/p/ ]]; then cat >>"$DELETED"; return "$DELETE_STATUS"; fi',
    '  echo "unexpected rclone call: $*" >&2; return 99',
    "}",
  ].join("\n");
  const result = spawnSync("bash", ["-c", `set -euo pipefail\n${stub}\n${renderOffsitePrune("offsite:b/p/", rule).join("\n")}`], {
    encoding: "utf8",
    env: {
      ...process.env,
      LISTING: listing === "fails" ? "fails" : listing.map((name) => `${name}\n`).join(""),
      DELETED: deleted,
      DELETE_STATUS: deleteFails ? "1" : "0",
    },
  });
  const removed = existsSync(deleted) ? readFileSync(deleted, "utf8").split("\n").filter(Boolean) : [];
  rmSync(dir, { recursive: true, force: true });
  return { ...result, removed };
}

describe("off-site retention", () => {
  const now = Math.floor(Date.now() / 1000);
  const day = 86_400;

  it("deletes only copies older than both the newest `keep` complete ones and `days`, for every keep and days", () => {
    for (const keep of [1, 2, 5])
      for (const days of [1, 3, 7]) {
        // Eight daily complete copies, an hour past each day so no stamp sits on the cut-off.
        const copies = Array.from({ length: 8 }, (_, i) => backupName(now, i * day + 3600));
        const listing = [...copies.flatMap((dump) => [dump, `${dump}.json`]), "notes.txt", "app-latest.dump"];
        const result = runOffsitePrune(listing, { keep, days });
        assert.equal(result.status, 0, result.stderr);
        const expected = copies.filter((_, i) => i >= Math.max(keep, days)).flatMap((dump) => [dump, `${dump}.json`]);
        assert.deepEqual([...result.removed].sort(), [...expected].sort(), `keep ${keep}, days ${days}`);
        assert.match(
          result.stderr,
          new RegExp(
            `kept the newest ${keep} complete copies and every copy under ${days} days old; deleted ${expected.length} object\\(s\\)`,
          ),
        );
      }
  });

  it("never deletes the newest complete copies, however old, nor an upload in flight or foreign objects", () => {
    const old = Array.from({ length: 3 }, (_, i) => backupName(now, (100 + i) * day));
    const inFlight = backupName(now, 60);
    const orphan = backupName(now, 200 * day);
    const listing = [...old.flatMap((dump) => [dump, `${dump}.json`]), inFlight, orphan, "readme.txt"];
    const keepAll = runOffsitePrune(listing, { keep: 3, days: 1 });
    assert.equal(keepAll.status, 0, keepAll.stderr);
    assert.deepEqual(keepAll.removed, [], "three complete copies, keep 3: nothing goes, not even the orphan");
    assert.match(keepAll.stderr, /off-site holds 3 complete copies \(keeping at least 3\); nothing to prune/);
    const keepTwo = runOffsitePrune(listing, { keep: 2, days: 1 });
    assert.deepEqual([...keepTwo.removed].sort(), [old[2], `${old[2]}.json`, orphan].sort());
  });

  it("never deletes an object that is not a backup.sh name, however old the stamp inside it", () => {
    const copies = Array.from({ length: 3 }, (_, i) => backupName(now, (100 + i) * day));
    const stamp = /-(\d{8}T\d{6}\.\d{9}Z)-/.exec(copies[2])?.[1] as string;
    // A stamp 200 days old inside names backup.sh never writes: other extensions, suffixes
    // after .dump, no database part, characters file_safe replaces, parts too long.
    const foreign = [
      `report-${stamp}.pdf`,
      `app-${stamp}.dump.bak`,
      `app-${stamp}.dump.json.tmp`,
      `app-${stamp}.dump.partial`,
      `${stamp}.dump`,
      `-${stamp}.dump`,
      `app-${stamp}-la bel.dump`,
      `app db-${stamp}.dump`,
      `${"d".repeat(65)}-${stamp}.dump`,
      `app-${stamp}-${"l".repeat(65)}.dump`,
      `old-app-${stamp}.dump.json.json`,
      `app-${stamp}.dumps`,
      `app-${stamp}Z.dump`,
    ];
    const listing = [...copies.flatMap((dump) => [dump, `${dump}.json`]), ...foreign.flatMap((name) => [name, `${name}.json`])];
    const result = runOffsitePrune(listing, { keep: 1, days: 1 });
    assert.equal(result.status, 0, result.stderr);
    const expected = copies.slice(1).flatMap((dump) => [dump, `${dump}.json`]);
    assert.deepEqual([...result.removed].sort(), [...expected].sort());
    // A label and a database name with every character file_safe keeps are backup.sh names.
    const labelled = [`my_app.v2-${stamp}-pre-migrate_1.dump`, `a-${stamp}.dump`];
    const own = runOffsitePrune([...copies.slice(0, 1), `${copies[0]}.json`, ...labelled.flatMap((n) => [n, `${n}.json`])], {
      keep: 1,
      days: 1,
    });
    assert.deepEqual([...own.removed].sort(), labelled.flatMap((n) => [n, `${n}.json`]).sort());
  });

  it("reports a failed listing or deletion and leaves the new copy's success alone", () => {
    const listing = Array.from({ length: 3 }, (_, i) => backupName(now, (10 + i) * day)).flatMap((dump) => [dump, `${dump}.json`]);
    const unlisted = runOffsitePrune("fails", { keep: 1, days: 1 });
    assert.equal(unlisted.status, 0);
    assert.deepEqual(unlisted.removed, []);
    assert.match(unlisted.stderr, /warning: could not list offsite:b\/p\/ to prune it; nothing was deleted/);
    const undeleted = runOffsitePrune(listing, { keep: 1, days: 1 }, true);
    assert.equal(undeleted.status, 0);
    assert.match(undeleted.stderr, /warning: could not delete every one of the 4 old object\(s\) off-site/);
    assert.doesNotMatch(undeleted.stderr, /kept the newest/);
  });
});

/** An image ID made of one repeated hex digit pair. */
const imageId = (n: number) => `sha256:${n.toString(16).padStart(2, "0").repeat(32)}`;

/**
 * Runs the rendered image prune in bash with docker replaced by a function: `ps` lists
 * $CONTAINERS, `inspect` answers $IN_USE, `image ls` lists $IMAGES, `image rm` records the ID
 * (and fails for $RM_FAILS).
 */
function runPruneImages(input: {
  history: string[];
  current: number;
  containers: number;
  inUse: number[];
  images: number[];
  rmFails?: number;
  keep?: number;
}) {
  const dir = mkdtempSync(join(tmpdir(), "dropstack-prune-images-"));
  const history = join(dir, "deployed-images");
  writeFileSync(history, input.history.map((line) => `${line}\n`).join(""));
  const stub = [
    "docker() {",
    '  case "$1 $2" in',
    '    "ps --all") printf "%s" "$CONTAINERS" ;;',
    '    "inspect --format") printf "%s" "$IN_USE" ;;',
    '    "image ls") [[ $5 == ghcr.io/acme/api ]] && printf "%s" "$IMAGES" ;;',
    '    "image rm") printf "%s\\n" "$4" >>"$REMOVED"; [[ $4 != "$RM_FAILS" ]] ;;',
    '    *) echo "unexpected docker call: $*" >&2; return 99 ;;',
    "  esac",
    "}",
  ].join("\n");
  const script = renderPruneImagesCommand({
    repository: "ghcr.io/acme/api",
    imageId: imageId(input.current),
    historyFile: history,
    ...(input.keep ? { keep: input.keep } : {}),
  });
  const lines = (ids: number[]) => ids.map((id) => `${imageId(id)}\n`).join("");
  const result = spawnSync("bash", ["-c", `${stub}\n${script}`], {
    encoding: "utf8",
    env: {
      ...process.env,
      CONTAINERS: Array.from({ length: input.containers }, (_, i) => `container${i}\n`).join(""),
      IN_USE: lines(input.inUse),
      IMAGES: lines(input.images),
      REMOVED: join(dir, "removed"),
      RM_FAILS: input.rmFails === undefined ? "" : imageId(input.rmFails),
    },
  });
  const removed = existsSync(join(dir, "removed")) ? readFileSync(join(dir, "removed"), "utf8").split("\n").filter(Boolean) : [];
  const recorded = readFileSync(history, "utf8").split("\n").filter(Boolean);
  rmSync(dir, { recursive: true, force: true });
  return { ...result, removed, recorded };
}

describe("pruning old app images after a passing deploy", () => {
  it("keeps the last deployed images and those a container uses, and removes the repository's others", () => {
    for (const keep of [1, 2, 3]) {
      const result = runPruneImages({
        history: [imageId(1), imageId(2), imageId(3)],
        current: 4,
        containers: 2,
        inUse: [1, 4],
        images: [1, 2, 3, 4, 5],
        keep,
      });
      assert.equal(result.status, 0, result.stderr);
      const kept = new Set([1, 4, ...[4, 3, 2].slice(0, keep)]);
      const expected = [1, 2, 3, 4, 5].filter((id) => !kept.has(id)).map(imageId);
      assert.deepEqual([...result.removed].sort(), expected, `keep ${keep}`);
      assert.deepEqual(result.recorded, [1, 2, 3, 4].map(imageId), "the deployed image is recorded once, last");
      assert.match(
        result.stdout,
        new RegExp(
          `kept ${5 - expected.length} app image\\(s\\) \\(the last ${keep} deployed and those in use\\), removed ${expected.length}\\n$`,
        ),
      );
    }
  });

  it("records a redeploy of the same image once, trims the history to 20 entries, and works with no container at all", () => {
    const history = Array.from({ length: 30 }, (_, i) => imageId(i + 1));
    const result = runPruneImages({ history, current: 30, containers: 0, inUse: [], images: [29, 30, 31] });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.recorded, history.slice(10), "the newest 20, the current one not repeated");
    assert.deepEqual(result.removed, [imageId(31)], "the default keeps the running and the previous image");
  });

  it("reports an image it cannot remove and still succeeds: the rollout already did", () => {
    const result = runPruneImages({
      history: [imageId(1)],
      current: 2,
      containers: 1,
      inUse: [2],
      images: [1, 2, 3, 4],
      keep: 1,
      rmFails: 3,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.removed, [imageId(1), imageId(3)].concat(imageId(4)).sort());
    assert.match(result.stderr, new RegExp(`could not remove ${imageId(3)}; left in place`));
    assert.match(result.stdout, /removed 2\n$/);
  });
});

/** A temp folder holding the hook folders, each created. */
function hookFolders(prefix: string): { dir: string; paths: HookPaths } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const paths: HookPaths = {
    hooksDir: join(dir, "hooks"),
    backupDir: join(dir, "backups"),
    runDir: join(dir, "run"),
    statusDir: join(dir, "status"),
  };
  for (const path of Object.values(paths)) mkdirSync(path);
  return { dir, paths };
}

/**
 * Runs the rendered backup hook in bash with docker replaced by a function that records each
 * call and the env files it is given; the backup.sh container prints $OUTPUT and creates the
 * files named in $CREATE.
 */
function runBackupHook(stdin: string, options: { offsite: boolean; output?: string; create?: string[] }) {
  const { dir, paths } = hookFolders("dropstack-backup-hook-");
  const dump = join(paths.backupDir, "app-20261129T010203.123456789Z-img.dump");
  const stub = [
    "docker() {",
    '  printf "%s\\n" "$*" >>"$T/calls"',
    '  local -a args=("$@")',
    "  local i",
    '  for ((i = 0; i < ${#args[@]}; i++)); do if [[ ${args[i]} == --env-file ]]; then cat -- "${args[i + 1]}" >>"$T/envs"; fi; done',
    '  if [[ $* == *backup.sh* ]]; then printf "%b" "$OUTPUT"; for f in $CREATE; do : >"$f"; done; fi',
    "}",
  ].join("\n");
  const script = renderBackupCommand({
    network: "n",
    clientImage: "c",
    label: "img",
    keep: 2,
    paths,
    ...(options.offsite ? { offsite: OFFSITE } : {}),
  });
  const result = spawnSync("bash", ["-c", `${stub}\n${script}`], {
    input: stdin,
    encoding: "utf8",
    env: {
      ...process.env,
      T: dir,
      OUTPUT: options.output ?? `pg_dump said something\\n${dump}\\n`,
      CREATE: (options.create ?? [dump, `${dump}.json`]).join(" "),
    },
  });
  const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), "utf8") : "");
  const status = join(paths.statusDir, "offsite.json");
  const offsite = existsSync(status) ? { text: readFileSync(status, "utf8"), mode: statSync(status).mode & 0o777 } : undefined;
  const calls = read("calls").split("\n").filter(Boolean);
  const envs = read("envs");
  rmSync(dir, { recursive: true, force: true });
  return { ...result, calls, envs, offsite, dump };
}

describe("the backup hook's run", () => {
  const url = "postgresql://migrator:pw@db:25060/app";

  it("passes the database URL to backup.sh through an env file and prints the backup's path last", () => {
    const result = runBackupHook(`${url}\n`, { offsite: false });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `pg_dump said something\n${result.dump}\n`);
    assert.equal(result.envs, `DATABASE_URL=${url}\n`);
    assert.equal(result.calls.length, 1);
    assert.match(result.stderr, /^dropstack: backing up before deploying img$/m);
    assert.equal(result.offsite, undefined);
  });

  it("copies the dump off-site, then its .json, which marks a complete copy; records the copy; the key only through an env file", () => {
    const result = runBackupHook(`${url}\nAKID\nSECRET\n`, { offsite: true });
    assert.equal(result.status, 0, result.stderr);
    const copies = result.calls.filter((call) => call.includes(" copyto "));
    assert.deepEqual(
      copies.map((call) => call.replace(/^.* copyto /, "")),
      [
        `--s3-no-check-bucket ${result.dump} offsite:acme-backups-x1/postgres/${basename(result.dump)}`,
        `--s3-no-check-bucket ${result.dump}.json offsite:acme-backups-x1/postgres/${basename(result.dump)}.json`,
      ],
    );
    assert.ok(result.envs.includes("RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID=AKID\nRCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY=SECRET\n"));
    assert.ok(
      !result.calls.some((call) => call.includes("SECRET") || call.includes("AKID") || call.includes(url)),
      "no secret in an argument",
    );
    assert.equal(result.offsite?.mode, 0o644);
    assert.match(
      result.offsite?.text ?? "",
      new RegExp(`^\\{"file": "${basename(result.dump)}", "finished_at": "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"\\}\\n$`),
    );
    assert.match(result.stderr, /copied app-\S+\.dump and its \.json to offsite:acme-backups-x1\/postgres\//);
    assert.equal(result.stdout.split("\n").at(-2), result.dump);
  });

  it("stops before any container when a secret did not arrive on stdin", () => {
    for (const [stdin, offsite, what] of [
      ["", false, "the database URL"],
      ["\n", false, "the database URL"],
      [`${url}\n`, true, "the Spaces access key"],
      [`${url}\nAKID\n`, true, "the Spaces secret key"],
    ] as const) {
      const result = runBackupHook(stdin, { offsite });
      assert.equal(result.status, 1, `${what}: ${result.stderr}`);
      assert.equal(result.stderr, `dropstack: ${what} did not arrive on stdin\n`);
      assert.deepEqual(result.calls, []);
    }
  });

  it("fails, copying nothing off-site, when backup.sh printed no backup or its files are missing", () => {
    const none = runBackupHook(`${url}\nAKID\nSECRET\n`, { offsite: true, output: "oops\\n" });
    assert.equal(none.status, 1);
    assert.match(none.stderr, /dropstack: backup\.sh did not print a backup path \(got: oops\)/);
    const missing = runBackupHook(`${url}\nAKID\nSECRET\n`, { offsite: true, create: [] });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /dropstack: \S+\.dump or its \.json is missing/);
    const noJson = runBackupHook(`${url}\nAKID\nSECRET\n`, { offsite: true, create: [missing.dump] });
    assert.equal(noJson.status, 1);
    for (const result of [none, missing, noJson]) assert.equal(result.calls.length, 1, "only the backup container ran");
  });
});

/**
 * Runs the rendered drill command in bash with docker replaced by a function: an rclone `lsf`
 * prints $LISTING, `copyto` creates the file it is asked for, and drill.sh's container records
 * the dump it was given, prints $RESULT and exits with $DRILL_STATUS.
 */
function runDrill(options: {
  offsite: boolean;
  stdin?: string;
  backups?: string[];
  listing?: string[];
  result?: string;
  drillStatus?: number;
}) {
  const { dir, paths } = hookFolders("dropstack-drill-");
  for (const file of options.backups ?? []) writeFileSync(join(paths.backupDir, file), "");
  const drillDir = join(dir, "drill");
  const stub = [
    "docker() {",
    "  local last=${*: -1}",
    '  if [[ $* == *" lsf --files-only "* ]]; then printf "%b" "$LISTING"; return 0; fi',
    '  if [[ $* == *" copyto "* ]]; then printf "%s\\n" "${*: -2:1}" >>"$T/downloads"; : >"$last"; return 0; fi',
    '  if [[ $* == *drill.sh* ]]; then printf "%s\\n" "$last" >"$T/drilled"; printf "%s\\n" "$@" | sed -n "s|^DRILL_WORK_DIR=\\(.*\\)/server$|\\1|p" >"$T/rundir"; printf "%b" "$RESULT"; return "$DRILL_STATUS"; fi',
    '  echo "unexpected docker call: $*" >&2; return 99',
    "}",
  ].join("\n");
  const script = renderDrillCommand({
    clientImage: "c",
    roles: ["app"],
    paths,
    drillDir,
    ...(options.offsite ? { offsite: OFFSITE } : {}),
  });
  const result = spawnSync("bash", ["-c", `${stub}\n${script}`], {
    input: options.stdin ?? (options.offsite ? "url\nAKID\nSECRET\n" : "url\n"),
    encoding: "utf8",
    env: {
      ...process.env,
      T: dir,
      LISTING: (options.listing ?? []).map((name) => `${name}\\n`).join(""),
      RESULT: options.result ?? `restoring\\n{"ok": true, "tables": 3}\\n`,
      DRILL_STATUS: String(options.drillStatus ?? 0),
    },
  });
  const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : undefined);
  const status = join(paths.statusDir, "drill.json");
  const out = {
    ...result,
    drilled: read(join(dir, "drilled"))?.trim(),
    downloads: read(join(dir, "downloads"))?.split("\n").filter(Boolean) ?? [],
    runDir: read(join(dir, "rundir"))?.trim(),
    runDirLeft: existsSync(read(join(dir, "rundir"))?.trim() || join(dir, "none")),
    written: read(status),
    mode: existsSync(status) ? statSync(status).mode & 0o777 : undefined,
    backupDir: paths.backupDir,
    drillDirMode: existsSync(drillDir) ? statSync(drillDir).mode & 0o777 : undefined,
  };
  rmSync(dir, { recursive: true, force: true });
  return out;
}

describe("the restore drill's host command", () => {
  const stamp = (day: number) => `202611${String(day).padStart(2, "0")}T050000.000000000Z`;
  const failure = (error: string) =>
    new RegExp(
      `^\\{"ok": false, "file": null, "bytes": null, "backup_created_at": null, "started_at": "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ", "seconds": 0, "tables": null, "rows": null, "error": "${error}"\\}\\n$`,
    );

  it("restores the newest local backup that has its .json, and publishes drill.sh's result whole", () => {
    const backups = [
      `app-${stamp(1)}-a.dump`,
      `app-${stamp(1)}-a.dump.json`,
      `app-${stamp(3)}-b.dump`,
      `app-${stamp(3)}-b.dump.json`,
      `app-${stamp(2)}-c.dump`,
      `app-${stamp(2)}-c.dump.json`,
      `app-${stamp(4)}-d.dump`,
      `app-${stamp(5)}-e.dump.json`,
    ];
    const result = runDrill({ offsite: false, backups });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.drilled, join(result.backupDir, `app-${stamp(3)}-b.dump`), "the newest dump whose .json is there too");
    assert.equal(result.written, '{"ok": true, "tables": 3}\n');
    assert.equal(result.mode, 0o644);
    assert.equal(result.drillDirMode, 0o750);
    assert.match(result.stderr, new RegExp(`drill of the newest local backup, app-${stamp(3)}-b\\.dump`));
    assert.match(result.runDir ?? "", /\/drill\/run\.[A-Za-z0-9]{6}$/);
    assert.equal(result.runDirLeft, false, "the run's scratch folder is removed");
  });

  it("restores the newest complete off-site copy, downloading the dump and its .json", () => {
    const listing = [
      `app-${stamp(2)}-a.dump`,
      `app-${stamp(2)}-a.dump.json`,
      `app-${stamp(4)}-b.dump`,
      `app-${stamp(4)}-b.dump.json`,
      `app-${stamp(6)}-c.dump`,
      "notes.txt",
    ];
    const result = runDrill({ offsite: true, listing });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.downloads, [
      `offsite:acme-backups-x1/postgres/app-${stamp(4)}-b.dump`,
      `offsite:acme-backups-x1/postgres/app-${stamp(4)}-b.dump.json`,
    ]);
    assert.match(result.drilled ?? "", new RegExp(`/run\\.[^/]+/app-${stamp(4)}-b\\.dump$`));
    assert.equal(result.written, '{"ok": true, "tables": 3}\n');
  });

  it("records a failure the monitoring can read, and fails, when there is nothing to restore or drill.sh gives no result", () => {
    const none = runDrill({ offsite: false, backups: [`app-${stamp(4)}-d.dump`] });
    assert.equal(none.status, 1);
    assert.match(none.written ?? "", failure("no local backup to restore"));
    assert.equal(none.drilled, undefined);
    const noCopy = runDrill({ offsite: true, listing: [`app-${stamp(6)}-c.dump`] });
    assert.equal(noCopy.status, 1);
    assert.match(noCopy.written ?? "", failure("no complete off-site copy to restore"));
    const crashed = runDrill({
      offsite: false,
      backups: [`app-${stamp(1)}-a.dump`, `app-${stamp(1)}-a.dump.json`],
      result: "",
      drillStatus: 3,
    });
    assert.equal(crashed.status, 1);
    assert.match(crashed.written ?? "", failure("drill.sh gave no result \\(exit 3\\)"));
    assert.match(crashed.stderr, /dropstack: drill failed: drill\.sh gave no result \(exit 3\)/);
    const failed = runDrill({
      offsite: false,
      backups: [`app-${stamp(1)}-a.dump`, `app-${stamp(1)}-a.dump.json`],
      result: '{"ok": false, "error": "x"}\\n',
      drillStatus: 1,
    });
    assert.equal(failed.status, 1, "drill.sh's own failure is the command's");
    assert.equal(failed.written, '{"ok": false, "error": "x"}\n');
  });

  it("says so when the Spaces key did not arrive, and still tries the listing", () => {
    const result = runDrill({ offsite: true, stdin: "url\n", listing: [] });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /dropstack: the Spaces key did not arrive on stdin/);
    assert.match(result.written ?? "", failure("no complete off-site copy to restore"));
  });
});
