// Off-site retention that cannot empty the bucket, run for real: the backup command (a deploy's
// and the timer's) against a real PostgreSQL, Debian's rclone client in place of the rclone
// image, and a real S3 server (s3rver) on loopback. Only docker is a stand-in (fake-docker.ts).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type HookPaths, backupStdin, renderBackupCommand } from "../../components/hooks/commands";
import { offsiteRetention } from "../../components/backups/settings";
import { startPostgres, type PostgresServer } from "../../tools/lib/postgres";
import { makeTempDir, requireTools, runAsync } from "../../tools/lib/system";
import { installFakeDocker, withRealRclone } from "./fake-docker";
import { startS3, type S3Server } from "../support/s3";

const HOOKS_SOURCE = join(__dirname, "..", "..", "components", "hooks");
const BUCKET = "acme-backups";
const PREFIX = "postgres/";
const DAY_MS = 86_400_000;
const KEYS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** backup.sh's name for a dump of `db` made at `time`, with an optional label. */
function backupName(db: string, time: Date, label = ""): string {
  const stamp = time
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.(\d{3})Z$/, (_m, ms: string) => `.${ms}000000Z`);
  return `${db}-${stamp}${label ? `-${label}` : ""}.dump`;
}

/** A deterministic PRNG, so a failing case can be replayed. */
function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * The rule, written independently of the shell: objects with a backup.sh stamp older than the
 * `keep`-th newest complete copy (a .dump with its .json) and more than `days` old go; all else stays.
 */
function expectedAfterPrune(keys: string[], keep: number, days: number, now: number): string[] {
  const names = keys.map((k) => k.slice(PREFIX.length));
  const stampOf = (name: string) => /-(\d{8}T\d{6}\.\d{9}Z)/.exec(name)?.[1];
  const complete = names
    .filter((n) => n.endsWith(".dump") && names.includes(`${n}.json`) && stampOf(n))
    .map((n) => stampOf(n) as string)
    .sort()
    .reverse();
  if (complete.length <= keep) return keys;
  const oldestKept = complete[keep - 1];
  return keys.filter((key) => {
    const stamp = stampOf(key.slice(PREFIX.length));
    if (!stamp || stamp >= oldestKept) return true;
    const time = Date.parse(
      `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`,
    );
    return time >= now - days * DAY_MS;
  });
}

describe("off-site retention with rclone against an S3 server", () => {
  let pg: PostgresServer;
  let s3: S3Server;
  let env: NodeJS.ProcessEnv;
  let paths: HookPaths;
  let root: string;
  let counter = 0;

  before(async () => {
    const { rclone } = requireTools([{ command: "rclone", debianPackage: "rclone" }]);
    pg = await startPostgres();
    root = makeTempDir("offsite-retention");
    s3 = await startS3(join(root, "s3"), [BUCKET]);
    const docker = installFakeDocker(root);
    env = withRealRclone(docker.env, rclone, s3.port);
    paths = { hooksDir: join(root, "hooks"), backupDir: join(root, "backups"), runDir: join(root, "run"), statusDir: join(root, "status") };
    for (const dir of Object.values(paths)) mkdirSync(dir, { recursive: true });
    for (const file of ["lib.sh", "backup.sh"]) writeFileSync(join(paths.hooksDir, file), readFileSync(join(HOOKS_SOURCE, file)));
  });
  after(async () => {
    await s3?.stop();
    await pg?.stop();
  });

  /** A database of its own, a bucket prefix of its own; runs the backup command once. */
  async function backupWith(seed: (prefix: string) => Promise<void>, keep: number, days = keep) {
    const db = `app${++counter}`;
    pg.createDatabase(db);
    pg.psql("CREATE TABLE t (id int); INSERT INTO t VALUES (1);", db);
    const prefix = `${PREFIX.slice(0, -1)}${counter}/`;
    await seed(prefix);
    const before = await s3.list(BUCKET, prefix);
    const backupDir = join(root, `backups-${db}`);
    mkdirSync(backupDir);
    const command = renderBackupCommand({
      network: "dropstack",
      clientImage: "postgres:16.6-bookworm",
      label: "scheduled",
      keep,
      offsite: { bucket: BUCKET, endpoint: s3.endpoint, prefix },
      offsiteRetention: { keep, days },
      paths: { ...paths, backupDir },
    });
    const started = Date.now();
    const result = await runAsync(["bash", "-c", command], { input: backupStdin({ databaseUrl: pg.url(db), offsite: KEYS }), env });
    assert.equal(result.status, 0, result.stderr);
    const backup = result.stdout.trim().split("\n").at(-1) ?? "";
    const uploaded = `${prefix}${backup.split("/").at(-1)}`;
    return { db, prefix, before, after: await s3.list(BUCKET, prefix), uploaded, started, stderr: result.stderr, backup };
  }

  const seedCopies =
    (db: () => string, times: Date[], options: { withoutJson?: Date[] } = {}) =>
    async (prefix: string) => {
      for (const time of times) {
        const name = backupName(db(), time, "v1");
        await s3.put(BUCKET, `${prefix}${name}`, "dump");
        if (!options.withoutJson?.includes(time)) await s3.put(BUCKET, `${prefix}${name}.json`, "{}");
      }
    };

  for (const keep of [1, 3, 5]) {
    test(`no backup for 60 days, then one: the newest ${keep} complete copies stay (keep ${keep})`, async () => {
      const now = Date.now();
      // Ten daily copies, the newest 60 days old: no backup ran since.
      const old = Array.from({ length: 10 }, (_, i) => new Date(now - (60 + i) * DAY_MS));
      const run = await backupWith(
        seedCopies(() => `app${counter}`, old),
        keep,
      );
      assert.equal(run.before.length, 20, "60 days without a backup removed nothing: no rule expires copies by age");
      const dumps = run.after.filter((k) => k.endsWith(".dump"));
      assert.equal(dumps.length, keep, run.stderr);
      assert.ok(dumps.includes(run.uploaded), "the new copy is kept");
      const newestOld = old.slice(0, keep - 1).map((t) => `${run.prefix}${backupName(run.db, t, "v1")}`);
      for (const key of newestOld) assert.ok(dumps.includes(key), `${key} is among the newest ${keep} and must stay`);
      for (const key of dumps) assert.ok(run.after.includes(`${key}.json`), `${key} lost its .json`);
      assert.match(run.stderr, new RegExp(`kept the newest ${keep} complete copies.*deleted ${2 * (10 - (keep - 1))} object`));
      // What the freshness check reads: the copy that just finished.
      const status = JSON.parse(readFileSync(join(paths.statusDir, "offsite.json"), "utf8")) as { file: string; finished_at: string };
      assert.equal(status.file, run.uploaded.slice(run.prefix.length));
      assert.ok(Date.parse(status.finished_at) >= Math.floor(run.started / 1000) * 1000);
    });
  }

  test("copies younger than the age limit stay even beyond the newest keep; only older ones go", async () => {
    const now = Date.now();
    const times = [1, 2, 3, 10, 20, 30].map((d) => new Date(now - d * DAY_MS - 60_000));
    const run = await backupWith(
      seedCopies(() => `app${counter}`, times),
      2,
      7,
    );
    const dumps = run.after.filter((k) => k.endsWith(".dump")).map((k) => k.slice(run.prefix.length));
    // Kept: the new one, and the 1-, 2- and 3-day-old copies (under 7 days); 10, 20 and 30 days go.
    assert.deepEqual(
      dumps.sort(),
      [run.uploaded.slice(run.prefix.length), ...times.slice(0, 3).map((t) => backupName(run.db, t, "v1"))].sort(),
    );
  });

  test("generated buckets (orphans, uploads in flight, foreign files, many ages): exactly the rule's objects remain", async () => {
    const random = prng(15);
    for (let round = 0; round < 4; round++) {
      const keep = 1 + Math.floor(random() * 4);
      const days = 1 + Math.floor(random() * 10);
      const now = Date.now();
      const run = await backupWith(
        async (prefix) => {
          const count = 3 + Math.floor(random() * 7);
          for (let i = 0; i < count; i++) {
            const time = new Date(now - Math.floor(random() * 40 * DAY_MS) - 60_000);
            const name = backupName(`app${counter}`, time, random() < 0.5 ? "v2" : "");
            const kind = random();
            // Most are complete; some lack their .json (a killed upload), some are a .json alone.
            if (kind < 0.75 || kind >= 0.9) await s3.put(BUCKET, `${prefix}${name}`, "dump");
            if (kind < 0.9) await s3.put(BUCKET, `${prefix}${name}.json`, "{}");
          }
          await s3.put(BUCKET, `${prefix}README.txt`, "not a backup");
        },
        keep,
        days,
      );
      const expected = expectedAfterPrune(run.before.concat([run.uploaded, `${run.uploaded}.json`]).sort(), keep, days, now);
      assert.deepEqual(run.after, expected, `round ${round}: keep ${keep}, days ${days}\n${run.stderr}`);
      assert.ok(run.after.includes(`${run.prefix}README.txt`), "a file that is not a backup is never deleted");
      // Whatever the mix, at least `keep` complete copies (or all there were) remain.
      const completeAfter = run.after.filter((k) => k.endsWith(".dump") && run.after.includes(`${k}.json`));
      const completeBefore = run.before.filter((k) => k.endsWith(".dump") && run.before.includes(`${k}.json`));
      assert.ok(completeAfter.length >= Math.min(keep, completeBefore.length + 1));
    }
  });

  test("the default rule is offsiteRetention(backups.keep): the newest keep, and keep days", () => {
    const command = renderBackupCommand({
      network: "n",
      clientImage: "c",
      label: "l",
      keep: 14,
      offsite: { bucket: BUCKET, endpoint: "https://fra1.digitaloceanspaces.com", prefix: PREFIX },
    });
    const rule = offsiteRetention(14);
    assert.match(command, new RegExp(`local keep=${rule.keep} days=${rule.days} `));
  });
});
