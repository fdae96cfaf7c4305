// The guards of backup.sh, restore.sh and lib.sh, one failure at a time: a missing tool,
// a pg_dump or pg_restore that misbehaves, a name collision, a signal mid-dump, a broken
// sha256. Each must stop the hook with its own message and leave nothing behind; the
// shell mutation run (npm run test:mutation:shell) shows that every guard is needed.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commandsDir, findExecutable, requireTools, run, scopedTempDirs } from "../../tools/lib/system";
import { startPostgres, type PostgresServer } from "../../tools/lib/postgres";
import { verifyReasons } from "../support/hooks";

const HOOKS = join(__dirname, "..", "..", "components", "hooks");
const BACKUP = join(HOOKS, "backup.sh");
const RESTORE = join(HOOKS, "restore.sh");
const LIB = join(HOOKS, "lib.sh");

const tempDir = scopedTempDirs(after);

/** A PATH of one directory (see commandsDir), removed with this file's temp dirs. */
function toolDir(options: { without?: string[]; shadows?: Record<string, string> } = {}): string {
  return commandsDir(tempDir("tools"), options);
}

/** The real program a shadow stands in for. */
function real(command: string): string {
  const path = findExecutable(command);
  if (!path) throw new Error(`${command} is not installed`);
  return path;
}

describe("hook guards", () => {
  let pg: PostgresServer;
  let goodBackup: string;

  before(async () => {
    requireTools([
      { command: "sha256sum", debianPackage: "coreutils" },
      { command: "openssl", debianPackage: "openssl" },
      { command: "strace", debianPackage: "strace" },
    ]);
    pg = await startPostgres();
    pg.createDatabase("app");
    pg.psql("CREATE TABLE items AS SELECT g AS id, md5(g::text) AS body FROM generate_series(1, 2000) g", "app");
    const made = backupWith({ BACKUP_DIR: tempDir("good") });
    assert.equal(made.status, 0, made.stderr);
    goodBackup = made.stdout.trim();
  });
  after(() => pg?.stop());

  function backupWith(vars: Record<string, string>, path = process.env.PATH ?? "") {
    return run([BACKUP], { env: { PATH: path, DATABASE_URL: pg.url("app"), ...vars } });
  }

  function assertFailedCleanly(made: ReturnType<typeof run>, dir: string, message: RegExp) {
    assert.equal(made.status, 1, made.stderr);
    assert.match(made.stderr, message);
    assert.equal(made.stdout, "");
    assert.deepEqual(readdirSync(dir), []);
  }

  describe("backup.sh", () => {
    test("names the tool it cannot find", () => {
      for (const missing of ["pg_dump", "pg_restore", "sha256sum", "mkfifo"]) {
        const dir = tempDir("no-tool");
        const made = backupWith({ BACKUP_DIR: dir }, toolDir({ without: [missing] }));
        assertFailedCleanly(made, dir, new RegExp(`${missing} is not installed`));
      }
    });

    test("a lock session that cannot get its temporary directory or its fifos dumps nothing", () => {
      const noTemp = tempDir("no-temp");
      const made = backupWith({ BACKUP_DIR: noTemp, TMPDIR: join(noTemp, "missing") });
      assertFailedCleanly(made, noTemp, /error: cannot create a temporary directory for the lock session/);
      const noFifo = tempDir("no-fifo");
      const failed = backupWith({ BACKUP_DIR: noFifo }, toolDir({ shadows: { mkfifo: "exit 1" } }));
      assertFailedCleanly(failed, noFifo, /error: cannot create the lock session's fifos/);
    });

    test("a BACKUP_DIR that cannot be created", () => {
      const parent = tempDir("file-parent");
      writeFileSync(join(parent, "not-a-dir"), "");
      const made = backupWith({ BACKUP_DIR: join(parent, "not-a-dir", "backups") });
      assert.equal(made.status, 1);
      assert.match(made.stderr, /cannot create BACKUP_DIR/);
      assert.deepEqual(readdirSync(parent), ["not-a-dir"]);
    });

    test("a pg_dump that writes nothing and exits 0", () => {
      const dir = tempDir("empty-dump");
      const made = backupWith({ BACKUP_DIR: dir }, toolDir({ shadows: { pg_dump: "exit 0" } }));
      assertFailedCleanly(made, dir, /pg_dump wrote an empty file/);
    });

    test("an archive whose table of contents lacks what the metadata records", () => {
      const cases: Array<[string, RegExp]> = [
        ["s/^;     Format: CUSTOM$/;     Format: TAR/", /does not describe a custom-format archive/],
        ["/^;     dbname: /d", /names no database/],
        ["/^;     Dumped from database version: /d", /has no server version/],
        ["/^;     Dumped by pg_dump version: /d", /has no pg_dump version/],
      ];
      for (const [edit, message] of cases) {
        const dir = tempDir("toc");
        const pgRestore = `if [[ $1 == --list ]]; then '${real("pg_restore")}' "$@" | sed -e '${edit}'; else exec '${real("pg_restore")}' "$@"; fi`;
        const made = backupWith({ BACKUP_DIR: dir }, toolDir({ shadows: { pg_restore: pgRestore } }));
        assertFailedCleanly(made, dir, message);
      }
    });

    test("a dump pg_restore cannot read", () => {
      const dir = tempDir("unreadable");
      const pgRestore = `if [[ $1 == --list ]]; then echo 'pg_restore: error: corrupt archive' >&2; exit 1; fi; exec '${real("pg_restore")}' "$@"`;
      const made = backupWith({ BACKUP_DIR: dir }, toolDir({ shadows: { pg_restore: pgRestore } }));
      assertFailedCleanly(made, dir, /the dump is not a readable archive: pg_restore --list failed/);
    });

    test("a second backup in the same instant refuses to replace the first", () => {
      const dir = tempDir("same-instant");
      const date = `echo '2026-01-02T03:04:05Z 20260102T030405.000000000Z'`;
      const path = toolDir({ shadows: { date } });
      const first = backupWith({ BACKUP_DIR: dir }, path);
      assert.equal(first.status, 0, first.stderr);
      const files = readdirSync(dir).sort();
      const contents = files.map((file) => readFileSync(join(dir, file)));
      const second = backupWith({ BACKUP_DIR: dir, BACKUP_LABEL: "" }, path);
      assert.equal(second.status, 1);
      assert.match(second.stderr, /already exists/);
      assert.deepEqual(readdirSync(dir).sort(), files);
      assert.deepEqual(
        files.map((file) => readFileSync(join(dir, file))),
        contents,
      );
    });

    for (const [signal, status] of [
      ["SIGHUP", 129],
      ["SIGINT", 130],
      ["SIGTERM", 143],
    ] as const) {
      test(`${signal} mid-dump exits ${status} and leaves nothing`, async () => {
        const dir = tempDir("signal");
        // pg_dump writes its archive, then hangs as a slow dump would.
        const path = toolDir({ shadows: { pg_dump: `'${real("pg_dump")}' "$@" && exec sleep 60` } });
        const child = spawn(BACKUP, [], {
          env: { PATH: path, DATABASE_URL: pg.url("app"), BACKUP_DIR: dir },
          detached: true,
          stdio: "ignore",
        });
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code, killedBy) => resolve(killedBy ? -1 : code)));
        const deadline = Date.now() + 60_000;
        while (!readdirSync(dir).some((file) => file.endsWith(".partial") && statSync(join(dir, file)).size > 0)) {
          assert.ok(Date.now() < deadline, "the dump never started");
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        // As a terminal or a service manager does: to the whole process group.
        process.kill(-(child.pid ?? 0), signal);
        assert.equal(await exited, status);
        assert.deepEqual(readdirSync(dir), []);
      });
    }

    test("the dump and its metadata reach the disk before their names appear, and the names after", () => {
      const dir = tempDir("durable");
      const trace = join(tempDir("trace"), "strace.log");
      const made = run(
        [real("strace"), "-f", "-y", "-qq", "-o", trace, "-e", "trace=fsync,fdatasync,syncfs,rename,renameat,renameat2", BACKUP],
        {
          env: { PATH: process.env.PATH, DATABASE_URL: pg.url("app"), BACKUP_DIR: dir },
        },
      );
      assert.equal(made.status, 0, made.stderr);
      const calls = readFileSync(trace, "utf8").split("\n");
      const index = (pattern: RegExp) => calls.findIndex((line) => pattern.test(line));
      const synced = (suffix: string) => index(new RegExp(`f(data)?sync\\(\\d+<[^>]*${suffix}>\\) = 0`));
      const renamed = (suffix: string) => index(new RegExp(`rename(at2?)?\\(.*\\.partial${suffix}".*\\.dump${suffix}"`));
      const dumpSynced = synced("\\.partial");
      const jsonSynced = synced("\\.partial\\.json");
      const dumpRenamed = renamed("");
      const jsonRenamed = renamed("\\.json");
      const dirSynced = index(new RegExp(`f(data)?sync\\(\\d+<${dir}>\\) = 0`));
      for (const [what, at] of Object.entries({ dumpSynced, jsonSynced, dumpRenamed, jsonRenamed, dirSynced })) {
        assert.ok(at >= 0, `${what} not found in:\n${calls.join("\n")}`);
      }
      assert.ok(dumpSynced < dumpRenamed && jsonSynced < dumpRenamed, "data synced before the first rename");
      assert.ok(dumpRenamed < jsonRenamed, "the dump is named before its metadata");
      assert.ok(jsonRenamed < dirSynced, "the directory synced after both renames");
    });

    test("a sha256 that fails fails the backup, through openssl or the sha256sum fallback", () => {
      const failing = "cat >/dev/null; exit 1";
      for (const path of [toolDir({ shadows: { openssl: failing } }), toolDir({ without: ["openssl"], shadows: { sha256sum: failing } })]) {
        const dir = tempDir("bad-sha");
        const made = backupWith({ BACKUP_DIR: dir }, path);
        assert.equal(made.status, 1, made.stderr);
        assert.deepEqual(readdirSync(dir), []);
      }
    });
  });

  describe("restore.sh", () => {
    function restoreInto(file: string, path = process.env.PATH ?? "") {
      const target = `restore_${Math.random().toString(36).slice(2, 10)}`;
      pg.createDatabase(target);
      const restored = run([RESTORE, file], { env: { PATH: path, DATABASE_URL: pg.url(target) } });
      const tables = pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", target).trim();
      return { ...restored, tables };
    }

    function copyWithMetadata(edit: (json: string) => string): string {
      const dir = tempDir("edited");
      const file = join(dir, "copy.dump");
      writeFileSync(file, readFileSync(goodBackup));
      writeFileSync(`${file}.json`, edit(readFileSync(`${goodBackup}.json`, "utf8")));
      return file;
    }

    test("names the tool it cannot find, and restores nothing", () => {
      for (const missing of ["pg_restore", "sha256sum"]) {
        const restored = restoreInto(goodBackup, toolDir({ without: [missing] }));
        assert.equal(restored.status, 1);
        assert.match(restored.stderr, new RegExp(`${missing} is not installed`));
        assert.equal(restored.tables, "0");
      }
    });

    test("without DATABASE_URL it says so and connects nowhere", () => {
      const restored = run([RESTORE, goodBackup], { env: { PATH: process.env.PATH } });
      assert.equal(restored.status, 1);
      assert.match(restored.stderr, /DATABASE_URL must be set/);
      assert.doesNotMatch(restored.stderr, /pg_restore|restoring/);
    });

    const refusals: Array<[string, () => string, RegExp]> = [
      ["a backup that does not exist", () => join(tempDir("missing"), "nothing.dump"), /nothing\.dump: no such file/],
      [
        "metadata whose sha256 is not 64 hex digits",
        () => copyWithMetadata((json) => json.replace(/"sha256": "[0-9a-f]{64}"/, `"sha256": "abc"`)),
        /no valid "sha256" field/,
      ],
      [
        "metadata whose bytes is not a number",
        () => copyWithMetadata((json) => json.replace(/"bytes": \d+/, `"bytes": "12"`)),
        /no valid "bytes" field/,
      ],
      [
        "metadata with the sha256 twice",
        () => copyWithMetadata((json) => json.replace(/( {2}"sha256": .*\n)/, "$1$1")),
        /no valid "sha256" field/,
      ],
    ];
    for (const [name, file, message] of refusals) {
      test(`refuses ${name} and restores nothing`, () => {
        const restored = restoreInto(file());
        assert.equal(restored.status, 1);
        assert.match(restored.stderr, message);
        assert.equal(verifyReasons(restored.stderr).length, 1, restored.stderr);
        assert.match(restored.stderr, /refusing to restore/);
        assert.equal(restored.tables, "0");
      });
    }
  });

  describe("lib.sh", () => {
    function libCall(call: string, json: string) {
      const dir = tempDir("lib");
      writeFileSync(join(dir, "x.dump.json"), json);
      return run(["bash", "-c", `source '${LIB}' && ${call} '${join(dir, "x.dump")}'`], { env: { PATH: process.env.PATH } });
    }

    test("backup_created_epoch reads a UTC created_at and refuses anything else", () => {
      const ok = libCall("backup_created_epoch", `{\n  "created_at": "2026-01-02T03:04:05Z"\n}\n`);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout.trim(), String(Date.UTC(2026, 0, 2, 3, 4, 5) / 1000));
      for (const created of [`"2026-01-02 03:04:05"`, `"yesterday"`, `""`, "null", `"2026-01-02T03:04:05+02:00"`]) {
        const bad = libCall("backup_created_epoch", `{\n  "created_at": ${created}\n}\n`);
        assert.equal(bad.status, 1, `created_at ${created} gave ${bad.stdout}`);
        assert.equal(bad.stdout, "");
      }
      const missing = libCall("backup_created_epoch", `{\n  "label": null\n}\n`);
      assert.equal(missing.status, 1);
    });

    test("wait_for_lock reports why, not a dead script, when the lock session's psql has already exited", () => {
      // psql refused the password and exited before the lock request was written: a pipe
      // without a reader. The request must fail quietly and the reason be read back.
      const reasons = ['psql: error: password authentication failed for user "app"', "FATAL:  too many connections"];
      for (const reason of reasons) {
        const script = [
          "set -euo pipefail",
          `source '${LIB}'`,
          "exec {lock_in}> >(exec true)",
          "sleep 0.3",
          `exec {lock_out}< <(printf '%s\\n' ${JSON.stringify(reason)})`,
          "if wait_for_lock 'dropstack test lock' 5; then echo acquired; else echo \"refused ($?): $lock_output\"; fi",
        ].join("\n");
        const result = run(["bash", "-c", script], { env: { PATH: process.env.PATH } });
        assert.equal(result.status, 0, `killed by a signal? ${result.status} ${result.stderr}`);
        assert.equal(result.stdout, `refused (1): ${reason}\n`);
        assert.doesNotMatch(result.stderr, /broken pipe/i, "the failed write says nothing of its own");
      }
    });
  });
});
