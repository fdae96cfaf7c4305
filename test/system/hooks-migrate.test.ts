// migrate.sh against a real PostgreSQL: it runs only behind a fresh verified backup,
// never overlaps another migration of the same database, and reports the migration's
// own exit status.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { commandsDir, run, scopedTempDirs } from "../../tools/lib/system";
import { startPostgres, type PostgresServer } from "../../tools/lib/postgres";

const HOOKS = join(__dirname, "..", "..", "components", "hooks");
const BACKUP = join(HOOKS, "backup.sh");
const MIGRATE = join(HOOKS, "migrate.sh");

interface Finished {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Temp dirs removed when this file's tests are done. */
const tempDir = scopedTempDirs(after);

function hookEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, ...vars };
}

/** Starts migrate.sh without waiting for it, for the tests that race or signal it. */
function startMigrate(vars: Record<string, string>) {
  const child = spawn(MIGRATE, [], { env: hookEnv(vars), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const finished = new Promise<Finished>((resolve) => child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr })));
  // Unlike `finished`, does not wait for an orphaned migration to close the output pipes.
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_status, signal) => resolve(signal)));
  return { child, finished, exited };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

/**
 * A migration that announces itself, then runs until the test creates `release` (or 30 s
 * pass, so a failed test leaves no process behind for long).
 */
function blockingMigration(dir: string): string {
  return (
    `touch '${dir}/started'; i=0; ` +
    `while [ ! -e '${dir}/release' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done; ` +
    `touch '${dir}/finished'`
  );
}

describe("migrate.sh", () => {
  let pg: PostgresServer;
  let backupDir: string;
  let freshBackup: string;

  const base = () => ({ DATABASE_URL: pg.url("app"), BACKUP_DIR: backupDir, BACKUP_MAX_AGE_S: "3600" });
  const migrateNow = (vars: Record<string, string>) => run([MIGRATE], { env: hookEnv(vars) });
  const heldMigrationLocks = () =>
    Number(
      pg.psql(`SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
               WHERE l.locktype = 'advisory' AND l.granted AND d.datname = 'app'`),
    );
  const dumpAll = () => {
    const result = run(["pg_dump", "--no-sync", `--dbname=${pg.url("app")}`]);
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.replace(/^\\(un)?restrict .*$/gm, "");
  };

  /** A copy of the fresh backup in its own directory, optionally spoilt. */
  function backupCopy(spoil: (dump: string) => void = () => {}): string {
    const dir = tempDir("migrate-backups");
    const dump = join(dir, basename(freshBackup));
    copyFileSync(freshBackup, dump);
    copyFileSync(`${freshBackup}.json`, `${dump}.json`);
    spoil(dump);
    return dir;
  }

  before(async () => {
    pg = await startPostgres();
    pg.createDatabase("app");
    pg.psql(
      `CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL);
       INSERT INTO accounts SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 100) g;`,
      "app",
    );
    backupDir = tempDir("migrate-backups");
    const made = run([BACKUP], { env: hookEnv({ DATABASE_URL: pg.url("app"), BACKUP_DIR: backupDir }) });
    assert.equal(made.status, 0, made.stderr);
    freshBackup = made.stdout.trimEnd().split("\n").at(-1) ?? "";
  });
  after(() => pg?.stop());

  describe("refuses to run without a fresh verified backup", () => {
    function assertRefused(vars: Record<string, string>, reason: RegExp) {
      const marker = join(tempDir("marker"), "migrated");
      const result = migrateNow({ ...base(), ...vars, MIGRATE_COMMAND: `touch '${marker}'` });
      assert.equal(result.status, 1);
      assert.match(result.stderr, reason);
      assert.equal(existsSync(marker), false, "the migration ran");
    }

    test("no backup at all", () => {
      assertRefused({ BACKUP_DIR: tempDir("empty") }, /no verified backup of it in .* from the last 3600s/);
      assertRefused({ BACKUP_DIR: "/nonexistent/backups" }, /BACKUP_DIR \/nonexistent\/backups does not exist/);
    });

    test("the newest backup is older than BACKUP_MAX_AGE_S", () => {
      const dir = backupCopy((dump) => {
        const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, "Z");
        const json = readFileSync(`${dump}.json`, "utf8");
        writeFileSync(`${dump}.json`, json.replace(/"created_at": "[^"]+"/, `"created_at": "${twoHoursAgo}"`));
      });
      assertRefused({ BACKUP_DIR: dir }, /\d+s old, BACKUP_MAX_AGE_S is 3600s/);
    });

    test("the backup does not match its .json", () => {
      const flipped = backupCopy((dump) => {
        const bytes = readFileSync(dump);
        bytes[Math.floor(bytes.length / 2)] ^= 0x01;
        writeFileSync(dump, bytes);
      });
      assertRefused({ BACKUP_DIR: flipped }, /sha256 [0-9a-f]{64} does not match/);
      const rewrittenBytes = backupCopy((dump) => {
        const json = readFileSync(`${dump}.json`, "utf8");
        writeFileSync(`${dump}.json`, json.replace(/"bytes": \d+/, `"bytes": 1`));
      });
      assertRefused({ BACKUP_DIR: rewrittenBytes }, /its metadata says 1: truncated or altered/);
    });

    test("the backup has no .json", () => {
      const dir = tempDir("no-json");
      copyFileSync(freshBackup, join(dir, basename(freshBackup)));
      assertRefused({ BACKUP_DIR: dir }, /no verified backup/);
    });

    test("the only fresh backup is of another database", () => {
      pg.createDatabase("other");
      const dir = tempDir("other-backups");
      const made = run([BACKUP], { env: hookEnv({ DATABASE_URL: pg.url("other"), BACKUP_DIR: dir }) });
      assert.equal(made.status, 0, made.stderr);
      assertRefused({ BACKUP_DIR: dir }, /no verified backup of it/);
    });

    test("BACKUP_MAX_AGE_S missing or not a number", () => {
      const withoutMaxAge: Record<string, string> = base();
      delete withoutMaxAge.BACKUP_MAX_AGE_S;
      const missing = migrateNow({ ...withoutMaxAge, MIGRATE_COMMAND: "true" });
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /BACKUP_MAX_AGE_S must be set/);
      const invalid = migrateNow({ ...base(), BACKUP_MAX_AGE_S: "an hour", MIGRATE_COMMAND: "true" });
      assert.equal(invalid.status, 1);
      assert.match(invalid.stderr, /BACKUP_MAX_AGE_S must be an integer >= 1, got 'an hour'/);
    });
  });

  describe("stops before it takes the lock or runs anything when", () => {
    function assertStopped(result: ReturnType<typeof run>, marker: string, reason: RegExp) {
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, reason);
      assert.equal(existsSync(marker), false, "the migration ran");
      assert.equal(heldMigrationLocks(), 0);
    }
    const markerCommand = () => {
      const marker = join(tempDir("marker"), "migrated");
      return { marker, command: `touch '${marker}'` };
    };

    test("it was copied without the lib.sh beside it", () => {
      const dir = tempDir("no-lib");
      copyFileSync(MIGRATE, join(dir, "migrate.sh"));
      chmodSync(join(dir, "migrate.sh"), 0o755);
      const { marker, command } = markerCommand();
      assertStopped(run([join(dir, "migrate.sh")], { env: hookEnv({ ...base(), MIGRATE_COMMAND: command }) }), marker, /lib\.sh/);
    });

    test("MIGRATE_LOCK_TIMEOUT_S is not a number", () => {
      const { marker, command } = markerCommand();
      assertStopped(
        migrateNow({ ...base(), MIGRATE_LOCK_TIMEOUT_S: "soon", MIGRATE_COMMAND: command }),
        marker,
        /MIGRATE_LOCK_TIMEOUT_S must be an integer >= 0, got 'soon'/,
      );
    });

    test("the database cannot be queried", () => {
      const { marker, command } = markerCommand();
      const url = pg.url("app", { user: "postgres", password: "wrong" });
      assertStopped(
        migrateNow({ ...base(), DATABASE_URL: url, MIGRATE_COMMAND: command }),
        marker,
        /cannot query the database in DATABASE_URL/,
      );
    });

    test("a tool it needs is missing", () => {
      for (const missing of ["psql", "sha256sum", "mkfifo"]) {
        const { marker, command } = markerCommand();
        const path = commandsDir(tempDir("tools"), { without: [missing] });
        const result = run([MIGRATE], { env: { ...base(), PATH: path, MIGRATE_COMMAND: command } });
        assertStopped(result, marker, new RegExp(`${missing} is not installed`));
      }
    });
  });

  for (const [signal, number] of [
    ["SIGHUP", 1],
    ["SIGINT", 2],
  ] as const) {
    test(`${signal} reaches the migration too, and migrate.sh exits with the migration's status`, async () => {
      const dir = tempDir("signal");
      const name = signal.slice(3);
      const migration = `trap 'echo stopped >> "${dir}/trapped"; exit ${number + 10}' ${name}; ${blockingMigration(dir)}`;
      const running = startMigrate({ ...base(), MIGRATE_COMMAND: migration });
      await waitFor(() => existsSync(join(dir, "started")), "the migration started");
      running.child.kill(signal);
      const result = await running.finished;
      assert.equal(result.status, number + 10, result.stderr);
      assert.match(result.stderr, new RegExp(`received ${signal}; passing it to the migration`));
      assert.equal(readFileSync(join(dir, "trapped"), "utf8"), "stopped\n");
      await waitFor(() => heldMigrationLocks() === 0, "the lock was released", 5_000);
    });
  }

  test("when the lock session dies mid-migration, migrate.sh says so and still reports the migration's status", async () => {
    const dir = tempDir("lock-lost");
    const running = startMigrate({ ...base(), MIGRATE_COMMAND: blockingMigration(dir) });
    await waitFor(() => existsSync(join(dir, "started")), "the migration started");
    const lockPsql = run(["pgrep", "-P", String(running.child.pid), "-x", "psql"]);
    assert.equal(lockPsql.status, 0, "the lock session's psql was not found");
    run(["kill", "-KILL", ...lockPsql.stdout.trim().split("\n")]);
    await waitFor(() => heldMigrationLocks() === 0, "the server ended the lock session", 5_000);
    writeFileSync(join(dir, "release"), "");
    const result = await running.finished;
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /migration succeeded/);
    assert.match(result.stderr, /the migration lock session ended during the migration; another migration may have overlapped it/);
  });

  test("runs the migration with DATABASE_URL behind a fresh backup and exits with its status", async () => {
    const ok = migrateNow({
      ...base(),
      MIGRATE_COMMAND: `psql -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c 'CREATE TABLE migrated (id int)' && echo migrated`,
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, "migrated\n");
    assert.match(ok.stderr, new RegExp(`fresh verified backup: ${freshBackup}`));
    assert.equal(pg.psql("SELECT to_regclass('public.migrated') IS NOT NULL", "app"), "t");
    // The server drops the lock as the lock session closes, a moment after migrate.sh exits.
    await waitFor(() => heldMigrationLocks() === 0, "the lock was released", 5_000);

    const failed = migrateNow({ ...base(), MIGRATE_COMMAND: "echo broken >&2; exit 42" });
    assert.equal(failed.status, 42);
    assert.match(failed.stderr, /broken/);
    assert.match(failed.stderr, /migration failed with status 42/);
    await waitFor(() => heldMigrationLocks() === 0, "the lock was released", 5_000);
  });

  test("a failing transactional migration exits with its status and leaves the database as it was", () => {
    const migration = join(tempDir("migration"), "0002_nicknames.sql");
    writeFileSync(
      migration,
      `CREATE TABLE nicknames (account int REFERENCES accounts (id), nickname text);
       ALTER TABLE accounts ADD COLUMN verified boolean NOT NULL DEFAULT false;
       UPDATE accounts SET email = upper(email);
       INSERT INTO nicknames VALUES (1, 'first');
       ALTER TABLE accounts ADD CONSTRAINT impossible CHECK (id < 0);`,
    );
    const before = dumpAll();
    const result = migrateNow({
      ...base(),
      MIGRATE_COMMAND: `psql -X -q -v ON_ERROR_STOP=1 --single-transaction -f '${migration}' -d "$DATABASE_URL"`,
    });
    assert.equal(result.status, 3, "psql exits 3 when a script fails under ON_ERROR_STOP");
    assert.match(result.stderr, /check constraint "impossible"/);
    assert.equal(dumpAll(), before);
  });

  test("two concurrent runs never overlap", async () => {
    pg.psql("CREATE TABLE migration_log (run text, event text, at timestamptz DEFAULT clock_timestamp())", "app");
    const log = (event: string) =>
      `psql -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "INSERT INTO migration_log (run, event) VALUES ('$RUN', '${event}')"`;
    const command = `${log("start")} && sleep 1 && ${log("end")}`;
    const runs = ["A", "B"].map((name) => startMigrate({ ...base(), MIGRATE_COMMAND: command, RUN: name }));
    const results = await Promise.all(runs.map((r) => r.finished));
    for (const result of results) assert.equal(result.status, 0, result.stderr);

    const intervals = pg
      .psql(
        `SELECT run, extract(epoch FROM min(at) FILTER (WHERE event = 'start')),
                extract(epoch FROM max(at) FILTER (WHERE event = 'end'))
         FROM migration_log GROUP BY run ORDER BY 2`,
        "app",
      )
      .split("\n")
      .map((line) => line.split("|"));
    assert.deepEqual(intervals.map(([run]) => run).sort(), ["A", "B"]);
    const [first, second] = intervals.map(([, start, end]) => ({ start: Number(start), end: Number(end) }));
    assert.ok(first.end > first.start && second.end > second.start);
    assert.ok(first.end <= second.start, `migrations overlapped: ${JSON.stringify(intervals)}`);
  });

  test("waits for a running migration only up to MIGRATE_LOCK_TIMEOUT_S", async () => {
    const dir = tempDir("holder");
    const holder = startMigrate({ ...base(), MIGRATE_COMMAND: blockingMigration(dir) });
    await waitFor(() => existsSync(join(dir, "started")), "the first migration started");

    const marker = join(tempDir("marker"), "migrated");
    const waiter = migrateNow({ ...base(), MIGRATE_LOCK_TIMEOUT_S: "1", MIGRATE_COMMAND: `touch '${marker}'` });
    assert.equal(waiter.status, 1);
    assert.match(waiter.stderr, /could not take the migration lock: .*lock timeout/);
    assert.equal(existsSync(marker), false);

    writeFileSync(join(dir, "release"), "");
    assert.equal((await holder.finished).status, 0);
    assert.equal(heldMigrationLocks(), 0);
  });

  test("a run stopped while it waits for the lock leaves no session waiting for it", async () => {
    const dir = tempDir("holder");
    const holder = startMigrate({ ...base(), MIGRATE_COMMAND: blockingMigration(dir) });
    await waitFor(() => existsSync(join(dir, "started")), "the first migration started");
    const waitingForLock = () => Number(pg.psql(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`));

    const marker = join(tempDir("marker"), "migrated");
    const waiter = startMigrate({ ...base(), MIGRATE_COMMAND: `touch '${marker}'` });
    await waitFor(() => waitingForLock() === 1, "the second run waits for the lock");
    waiter.child.kill("SIGTERM");
    const stopped = await waiter.finished;
    assert.equal(stopped.status, 143, stopped.stderr);
    assert.match(stopped.stderr, /received SIGTERM before the migration started/);
    await waitFor(() => waitingForLock() === 0, "the waiting lock session was cancelled", 5_000);

    writeFileSync(join(dir, "release"), "");
    assert.equal((await holder.finished).status, 0);
    await sleep(300);
    assert.equal(heldMigrationLocks(), 0, "a lock was taken after the stopped run had gone");
    assert.equal(existsSync(marker), false);
  });

  test("the lock outlives a server-side idle_session_timeout shorter than the migration", async () => {
    pg.psql("ALTER DATABASE app SET idle_session_timeout = '300ms'");
    try {
      const dir = tempDir("idle");
      const running = startMigrate({ ...base(), MIGRATE_COMMAND: blockingMigration(dir) });
      await waitFor(() => existsSync(join(dir, "started")), "the migration started");
      await sleep(1000);
      assert.equal(heldMigrationLocks(), 1, "the idle lock session was ended");
      writeFileSync(join(dir, "release"), "");
      const result = await running.finished;
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stderr, /released the migration lock/);
    } finally {
      pg.psql("ALTER DATABASE app RESET idle_session_timeout");
    }
  });

  test("SIGTERM reaches the migration, and the lock is released once it has stopped", async () => {
    const dir = tempDir("term");
    const migration = `trap 'echo stopped >> "${dir}/trapped"; exit 5' TERM; ${blockingMigration(dir)}`;
    const running = startMigrate({ ...base(), MIGRATE_COMMAND: migration });
    await waitFor(() => existsSync(join(dir, "started")), "the migration started");
    assert.equal(heldMigrationLocks(), 1);

    running.child.kill("SIGTERM");
    const result = await running.finished;
    assert.equal(result.status, 5, result.stderr);
    assert.match(result.stderr, /received SIGTERM; passing it to the migration/);
    assert.equal(readFileSync(join(dir, "trapped"), "utf8"), "stopped\n");
    assert.equal(existsSync(join(dir, "finished")), false);
    await waitFor(() => heldMigrationLocks() === 0, "the lock was released", 5_000);
  });

  test("when migrate.sh is killed outright, the lock lasts exactly as long as the migration", async () => {
    const dir = tempDir("kill");
    const running = startMigrate({ ...base(), MIGRATE_COMMAND: blockingMigration(dir) });
    await waitFor(() => existsSync(join(dir, "started")), "the migration started");

    running.child.kill("SIGKILL");
    assert.equal(await running.exited, "SIGKILL");
    await sleep(300);
    assert.equal(heldMigrationLocks(), 1, "the lock went away while the migration was still running");

    writeFileSync(join(dir, "release"), "");
    await waitFor(() => heldMigrationLocks() === 0, "the lock was released after the migration ended", 5_000);
    assert.equal(existsSync(join(dir, "finished")), true);
    await running.finished;
  });
});
