// One lock for the database's jobs: backup.sh (a deploy's, or the timer's, which runs the same
// command) holds migrate.sh's advisory lock for the whole dump, so a scheduled backup never
// overlaps a deploy's migration or backup. The real scripts against a real PostgreSQL.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { commandsDir, run, scopedTempDirs } from "../../tools/lib/system";
import { startPostgres, type PostgresServer } from "../../tools/lib/postgres";

const HOOKS = join(__dirname, "..", "..", "components", "hooks");
const BACKUP = join(HOOKS, "backup.sh");
const MIGRATE = join(HOOKS, "migrate.sh");
const tempDir = scopedTempDirs(after);

interface Started {
  finished: Promise<{ status: number | null; stdout: string; stderr: string }>;
  stderr: () => string;
}

function start(script: string, env: NodeJS.ProcessEnv): Started {
  const child = spawn(script, [], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return {
    finished: new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr }))),
    stderr: () => stderr,
  };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

/** Runs until the test creates `release` (at most 30 s), leaving `started` and `finished` behind. */
function blockingCommand(dir: string): string {
  return (
    `touch '${dir}/started'; i=0; ` +
    `while [ ! -e '${dir}/release' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done; ` +
    `touch '${dir}/finished'`
  );
}

const mtimeMs = (file: string) => statSync(file).mtimeMs;
const dumps = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".dump"));

describe("backup.sh and migrate.sh share one lock", () => {
  let pg: PostgresServer;
  let backupDir: string;

  before(async () => {
    pg = await startPostgres();
    pg.createDatabase("app");
    pg.psql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 100);", "app");
  });
  after(async () => {
    await pg?.stop();
  });

  const env = (vars: Record<string, string>, path = process.env.PATH): NodeJS.ProcessEnv => ({
    PATH: path,
    DATABASE_URL: pg.url("app"),
    BACKUP_DIR: backupDir,
    ...vars,
  });
  const freshBackup = () => {
    backupDir = tempDir("lock-backups");
    const made = run([BACKUP], { env: env({}) });
    assert.equal(made.status, 0, made.stderr);
  };

  test("a backup started during a migration waits for it, then dumps", async () => {
    freshBackup();
    const marks = tempDir("lock-migration");
    const migration = start(MIGRATE, env({ BACKUP_MAX_AGE_S: "3600", MIGRATE_COMMAND: blockingCommand(marks) }));
    await waitFor(() => existsSync(join(marks, "started")), "the migration started");
    const backup = start(BACKUP, env({}));
    await waitFor(() => backup.stderr().includes("taking the database lock"), "the backup asked for the lock");
    await sleep(1500);
    assert.equal(dumps(backupDir).length, 1, "no dump while the migration runs");
    assert.doesNotMatch(backup.stderr(), /dumping the database/);
    const released = Date.now();
    writeFileSync(join(marks, "release"), "");
    const [migrated, backedUp] = await Promise.all([migration.finished, backup.finished]);
    assert.equal(migrated.status, 0, migrated.stderr);
    assert.equal(backedUp.status, 0, backedUp.stderr);
    assert.match(backedUp.stderr, /database lock taken after [1-9]\d*s/);
    const newest = backedUp.stdout.trim().split("\n").at(-1) ?? "";
    const created = /"created_at": "([^"]+)"/.exec(readFileSync(`${newest}.json`, "utf8"))?.[1] ?? "";
    // created_at has whole seconds: the dump began no earlier than the second the migration ended.
    assert.ok(
      Date.parse(created) >= Math.floor(mtimeMs(join(marks, "finished")) / 1000) * 1000,
      `${created} is before the migration ended`,
    );
    assert.ok(Date.parse(created) >= Math.floor(released / 1000) * 1000);
  });

  test("a migration started during a backup waits until the dump is done", async () => {
    freshBackup();
    const marks = tempDir("lock-slow-dump");
    // pg_dump that first waits for the test: the backup holds the lock meanwhile.
    const path = commandsDir(tempDir("lock-path"), {
      shadows: {
        pg_dump: `touch '${marks}/dump-started'; ${blockingCommand(marks).replace(/started|finished/g, "dump-$&")}; exec ${run(["bash", "-c", "command -v pg_dump"]).stdout.trim()} "$@"`,
      },
    });
    const backup = start(BACKUP, env({}, path));
    await waitFor(() => existsSync(join(marks, "dump-started")), "pg_dump started");
    const migrationMarks = tempDir("lock-waiting-migration");
    const migration = start(MIGRATE, env({ BACKUP_MAX_AGE_S: "3600", MIGRATE_COMMAND: `touch '${migrationMarks}/started'` }));
    await waitFor(() => migration.stderr().includes("taking the migration lock"), "the migration asked for the lock");
    await sleep(1500);
    assert.equal(existsSync(join(migrationMarks, "started")), false, "the migration ran during the dump");
    writeFileSync(join(marks, "release"), "");
    const backedUp = await backup.finished;
    const backupDone = Date.now();
    const migrated = await migration.finished;
    assert.equal(backedUp.status, 0, backedUp.stderr);
    assert.equal(migrated.status, 0, migrated.stderr);
    assert.ok(mtimeMs(join(migrationMarks, "started")) >= mtimeMs(join(marks, "dump-finished")));
    assert.ok(mtimeMs(join(migrationMarks, "started")) <= backupDone + 60_000);
  });

  test("two backups never dump at once: the second waits for the first", async () => {
    freshBackup();
    const marks = tempDir("lock-two-backups");
    const path = commandsDir(tempDir("lock-path-2"), {
      shadows: { pg_dump: `${blockingCommand(marks)}; exec ${run(["bash", "-c", "command -v pg_dump"]).stdout.trim()} "$@"` },
    });
    const first = start(BACKUP, env({}, path));
    await waitFor(() => existsSync(join(marks, "started")), "the first dump started");
    const second = start(BACKUP, env({}));
    await waitFor(() => second.stderr().includes("taking the database lock"), "the second backup asked for the lock");
    await sleep(1000);
    assert.doesNotMatch(second.stderr(), /dumping the database/);
    writeFileSync(join(marks, "release"), "");
    const [a, b] = await Promise.all([first.finished, second.finished]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    assert.equal(dumps(backupDir).length, 3);
  });

  test("a backup that cannot get the lock in BACKUP_LOCK_TIMEOUT_S fails and leaves nothing", async () => {
    freshBackup();
    const marks = tempDir("lock-timeout");
    const migration = start(MIGRATE, env({ BACKUP_MAX_AGE_S: "3600", MIGRATE_COMMAND: blockingCommand(marks) }));
    await waitFor(() => existsSync(join(marks, "started")), "the migration started");
    const refused = await start(BACKUP, env({ BACKUP_LOCK_TIMEOUT_S: "1" })).finished;
    writeFileSync(join(marks, "release"), "");
    assert.equal((await migration.finished).status, 0);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /could not take the database lock: .*lock timeout.*BACKUP_LOCK_TIMEOUT_S=1s.*nothing was dumped/);
    assert.equal(refused.stdout, "");
    assert.equal(dumps(backupDir).length, 1);
    assert.deepEqual(
      readdirSync(backupDir).filter((f) => f.startsWith(".")),
      [],
    );
  });

  test("rejects a BACKUP_LOCK_TIMEOUT_S that is not a whole number of seconds", () => {
    backupDir = tempDir("lock-bad-timeout");
    for (const value of ["-1", "1.5", "soon", "1e3"]) {
      const result = run([BACKUP], { env: env({ BACKUP_LOCK_TIMEOUT_S: value }) });
      assert.equal(result.status, 1, value);
      assert.match(result.stderr, /BACKUP_LOCK_TIMEOUT_S must be an integer >= 0/);
    }
  });
});
