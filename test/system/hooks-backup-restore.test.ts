// backup.sh and restore.sh against a real PostgreSQL: what a deploy relies on before it
// migrates, and what an operator relies on when rolling back.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { asUnprivileged, requireTools, run, scopedTempDirs } from "../../tools/lib/system";
import { startPostgres, type PostgresServer } from "../../tools/lib/postgres";
import { verifyReasons } from "../support/hooks";

const HOOKS = join(__dirname, "..", "..", "components", "hooks");
const BACKUP = join(HOOKS, "backup.sh");
const RESTORE = join(HOOKS, "restore.sh");

/** Temp dirs removed when this file's tests are done. */
const tempDir = scopedTempDirs(after);

function hookEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, ...vars };
}

function backup(vars: Record<string, string>) {
  return run([BACKUP], { env: hookEnv(vars) });
}

function restore(file: string, databaseUrl: string) {
  return run([RESTORE, file], { env: hookEnv({ DATABASE_URL: databaseUrl }) });
}

function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Every entry, hidden ones (temp files) included. */
function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}

const FIXTURE = `
CREATE SCHEMA inventory;
CREATE SCHEMA billing;
CREATE SCHEMA "Ünïcode schema";
CREATE TYPE billing.invoice_state AS ENUM ('draft', 'sent', 'paid');
CREATE DOMAIN billing.cents AS bigint CHECK (VALUE >= 0);
CREATE SEQUENCE billing.invoice_number START 1000 INCREMENT 7;
CREATE SEQUENCE inventory.batch_number;

CREATE TABLE inventory.items (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  name text NOT NULL,
  photo bytea,
  attributes jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT '2024-01-01T00:00:00Z'
);
COMMENT ON TABLE inventory.items IS 'Stock keeping units — «ünïcode» comment';
CREATE TABLE billing.invoices (
  number bigint PRIMARY KEY DEFAULT nextval('billing.invoice_number'),
  item_id bigint NOT NULL REFERENCES inventory.items (id),
  state billing.invoice_state NOT NULL DEFAULT 'draft',
  amount billing.cents NOT NULL,
  note text,
  attachment oid
);
CREATE INDEX invoices_unpaid ON billing.invoices (state) WHERE state <> 'paid';
CREATE TABLE billing.audit (
  id serial PRIMARY KEY,
  invoice bigint NOT NULL,
  old_state billing.invoice_state,
  new_state billing.invoice_state
);
CREATE TABLE public.app_settings (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE "Ünïcode schema"."Tëxt" (id int PRIMARY KEY, body text NOT NULL);

CREATE FUNCTION billing.record_state_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.state IS DISTINCT FROM OLD.state THEN
    INSERT INTO billing.audit (invoice, old_state, new_state) VALUES (NEW.number, OLD.state, NEW.state);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER invoices_state_audit AFTER UPDATE ON billing.invoices
  FOR EACH ROW EXECUTE FUNCTION billing.record_state_change();
CREATE FUNCTION billing.total(billing.invoice_state) RETURNS bigint LANGUAGE sql STABLE
  AS 'SELECT coalesce(sum(amount), 0) FROM billing.invoices WHERE state = $1';
CREATE VIEW billing.open_invoices AS
  SELECT i.number, i.amount, it.sku FROM billing.invoices i JOIN inventory.items it ON it.id = i.item_id
  WHERE i.state <> 'paid';
CREATE MATERIALIZED VIEW billing.totals AS
  SELECT state, sum(amount) AS amount FROM billing.invoices GROUP BY state;
GRANT USAGE ON SCHEMA inventory TO reporting;
GRANT SELECT ON inventory.items TO reporting;

INSERT INTO inventory.items (sku, name, photo, attributes)
  SELECT 'SKU-' || g, 'Item ' || g || ' ☕ 日本語 ñ',
         decode(md5(g::text) || md5((g * 7)::text), 'hex') || '\\x00ff00'::bytea,
         jsonb_build_object('weight', g * 1.5, 'tags', jsonb_build_array('a', 'b'))
  FROM generate_series(1, 500) g;
INSERT INTO inventory.items (sku, name, photo)
  VALUES ('SKU-ODD', E'tab\\there\\nnewline \\\\ backslash "quote" ''single''', NULL);
INSERT INTO billing.invoices (item_id, state, amount, note)
  SELECT g, (ARRAY['draft', 'sent', 'paid'])[1 + g % 3]::billing.invoice_state, g * 100,
         CASE WHEN g % 2 = 0 THEN 'note ' || g END
  FROM generate_series(1, 300) g;
UPDATE billing.invoices SET state = 'paid' WHERE number % 5 = 0 AND state <> 'paid';
UPDATE billing.invoices
  SET attachment = lo_from_bytea(0, convert_to('scan of invoice ' || number || ' ✓', 'UTF8') || '\\x000102ff'::bytea)
  WHERE number % 50 = 0;
SELECT lo_from_bytea(0, convert_to((SELECT string_agg(md5(g::text), '') FROM generate_series(1, 10000) g), 'UTF8'));
INSERT INTO public.app_settings VALUES ('theme', 'dark'), ('greeting', 'Grüß Gott 👋');
INSERT INTO "Ünïcode schema"."Tëxt" VALUES (1, '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 — Zażółć gęślą jaźń');
SELECT setval('billing.invoice_number', 123456, true);
SELECT setval('inventory.batch_number', 42, false);
REFRESH MATERIALIZED VIEW billing.totals;
`;

describe("backup.sh and restore.sh", () => {
  let pg: PostgresServer;
  let fixtureBackup: string;
  let databases = 0;

  /** A fresh, empty database for one test. */
  function freshDatabase(): string {
    const name = `target_${++databases}`;
    pg.createDatabase(name);
    return name;
  }

  /** Everything pg_dump sees (schema, data, sequences, large objects) as plain SQL. */
  function dumpAll(database: string, ...options: string[]): string {
    const result = run(["pg_dump", "--no-sync", ...options, `--dbname=${pg.url(database)}`]);
    assert.equal(result.status, 0, result.stderr);
    // PostgreSQL >= 15.14 brackets plain dumps with a per-dump random \restrict key.
    return result.stdout.replace(/^\\(un)?restrict .*$/gm, "");
  }

  before(async () => {
    requireTools([{ command: "sha256sum", debianPackage: "coreutils" }]);
    pg = await startPostgres();
    pg.psql("CREATE ROLE reporting NOLOGIN");
    pg.createDatabase("app");
    pg.psql(FIXTURE, "app");
    const dir = tempDir("fixture-backup");
    const made = backup({ DATABASE_URL: pg.url("app"), BACKUP_DIR: dir });
    assert.equal(made.status, 0, made.stderr);
    fixtureBackup = lastLine(made.stdout);
  });
  after(() => pg?.stop());

  test("backup then restore into a fresh database reproduces schema, data, sequences and large objects", () => {
    const target = freshDatabase();
    const restored = restore(fixtureBackup, pg.url(target));
    assert.equal(restored.status, 0, restored.stderr);

    assert.equal(dumpAll(target, "--schema-only"), dumpAll("app", "--schema-only"));
    assert.equal(dumpAll(target), dumpAll("app"));

    const largeObjects = "SELECT oid, md5(lo_get(oid)) FROM pg_largeobject_metadata ORDER BY oid";
    assert.equal(pg.psql(largeObjects, target), pg.psql(largeObjects, "app"));
    assert.equal(pg.psql("SELECT count(*) FROM pg_largeobject_metadata", target), "7");
    const attachment = `SELECT convert_from(substring(lo_get(attachment) FROM 1 FOR 20), 'UTF8')
                        FROM billing.invoices WHERE number = 1350`;
    assert.equal(pg.psql(attachment, target), "scan of invoice 1350");

    const rowDigest = (table: string) => `SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM ${table} t`;
    for (const table of ["inventory.items", "billing.invoices", "billing.audit", "billing.totals", `"Ünïcode schema"."Tëxt"`]) {
      assert.equal(pg.psql(rowDigest(table), target), pg.psql(rowDigest(table), "app"), table);
    }
    assert.equal(pg.psql(`SELECT body FROM "Ünïcode schema"."Tëxt"`, target), "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 — Zażółć gęślą jaźń");
    assert.equal(pg.psql("SELECT nextval('billing.invoice_number'), nextval('inventory.batch_number')", target), "123463|42");
    // The restored trigger and function still work.
    pg.psql("UPDATE billing.invoices SET state = 'paid' WHERE number = 1014", target);
    assert.equal(pg.psql("SELECT old_state, new_state FROM billing.audit WHERE invoice = 1014", target), "draft|paid");
    assert.equal(pg.psql("SELECT billing.total('sent')", target), pg.psql("SELECT billing.total('sent')", "app"));
  });

  test("the .json metadata describes the dump exactly", () => {
    const dir = tempDir("metadata");
    const label = 'release "2024.1" \\ ✓\nsecond line';
    const startedAt = Math.floor(Date.now() / 1000) * 1000;
    const made = backup({ DATABASE_URL: pg.url("app"), BACKUP_DIR: dir, BACKUP_LABEL: label });
    assert.equal(made.status, 0, made.stderr);
    const file = lastLine(made.stdout);
    assert.equal(join(dir, basename(file)), file);
    assert.match(basename(file), /^app-\d{8}T\d{6}\.\d{9}Z-release__2024\.1_+second_line\.dump$/);
    assert.deepEqual(listDir(dir), [basename(file), `${basename(file)}.json`]);

    const metadata = JSON.parse(readFileSync(`${file}.json`, "utf8"));
    assert.deepEqual(Object.keys(metadata).sort(), [
      "bytes",
      "created_at",
      "database",
      "file",
      "format",
      "label",
      "pg_dump_version",
      "server_version",
      "sha256",
    ]);
    assert.equal(metadata.sha256, sha256(file));
    assert.equal(metadata.sha256, run(["sha256sum", file]).stdout.split(" ")[0]);
    assert.equal(metadata.bytes, statSync(file).size);
    assert.equal(metadata.database, "app");
    assert.equal(metadata.server_version, pg.psql("SHOW server_version"));
    assert.equal(metadata.label, label);
    assert.equal(metadata.file, basename(file));
    assert.equal(metadata.format, "pg_dump-custom");
    assert.equal(`pg_dump (PostgreSQL) ${metadata.pg_dump_version}`, run(["pg_dump", "--version"]).stdout.trim());
    assert.match(metadata.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const createdAt = Date.parse(metadata.created_at);
    assert.ok(createdAt >= startedAt && createdAt <= Date.now(), `${metadata.created_at} is not the time of this run`);
    assert.equal(run(["pg_restore", "--list", file]).status, 0);
  });

  test("without a label the metadata says null and the name has no label part", () => {
    const dir = tempDir("unlabelled");
    const made = backup({ DATABASE_URL: pg.url("app"), BACKUP_DIR: dir });
    assert.equal(made.status, 0, made.stderr);
    const file = lastLine(made.stdout);
    assert.match(basename(file), /^app-\d{8}T\d{6}\.\d{9}Z\.dump$/);
    assert.equal(JSON.parse(readFileSync(`${file}.json`, "utf8")).label, null);
  });

  test("the sha256 is the same through openssl and through the sha256sum fallback", () => {
    const tools = requireTools([
      { command: "bash", debianPackage: "bash" },
      { command: "openssl", debianPackage: "openssl" },
      { command: "sha256sum", debianPackage: "coreutils" },
    ]);
    const digest = (path: string) =>
      run([tools.bash, "-c", `source '${join(HOOKS, "lib.sh")}' && sha256_hex <'${fixtureBackup}'`], { env: { PATH: path } });
    const withOpenssl = digest(process.env.PATH ?? "");
    const onlyCoreutils = tempDir("no-openssl");
    symlinkSync(tools.sha256sum, join(onlyCoreutils, "sha256sum"));
    const withoutOpenssl = digest(onlyCoreutils);
    assert.equal(withOpenssl.stdout, `${sha256(fixtureBackup)}\n`, withOpenssl.stderr);
    assert.equal(withoutOpenssl.stdout, `${sha256(fixtureBackup)}\n`, withoutOpenssl.stderr);
  });

  describe("a tampered backup is refused and the target stays untouched", () => {
    function tamperedCopy(tamper: (file: string) => void): string {
      const dir = tempDir("tampered");
      const file = join(dir, basename(fixtureBackup));
      copyFileSync(fixtureBackup, file);
      copyFileSync(`${fixtureBackup}.json`, `${file}.json`);
      tamper(file);
      return file;
    }

    function assertRefused(file: string, reason: RegExp) {
      const target = freshDatabase();
      pg.psql("CREATE TABLE sentinel (id int); INSERT INTO sentinel VALUES (1)", target);
      const before = dumpAll(target);
      const restored = restore(file, pg.url(target));
      assert.notEqual(restored.status, 0);
      assert.match(restored.stderr, reason);
      assert.equal(verifyReasons(restored.stderr).length, 1, restored.stderr);
      assert.match(restored.stderr, /refusing to restore/);
      assert.equal(dumpAll(target), before);
    }

    test("one byte flipped", () => {
      const file = tamperedCopy((path) => {
        const bytes = readFileSync(path);
        const middle = Math.floor(bytes.length / 2);
        bytes[middle] ^= 0xff;
        writeFileSync(path, bytes);
      });
      assertRefused(file, /sha256 [0-9a-f]{64} does not match/);
    });

    test("truncated", () => {
      const file = tamperedCopy((path) => truncateSync(path, statSync(path).size - 100));
      assertRefused(file, /truncated or altered/);
    });

    test("no .json beside it", () => {
      const dir = tempDir("no-json");
      const file = join(dir, basename(fixtureBackup));
      copyFileSync(fixtureBackup, file);
      assertRefused(file, /no metadata file/);
    });

    test("a .json whose sha256 was rewritten to match something else", () => {
      const file = tamperedCopy((path) => {
        const json = readFileSync(`${path}.json`, "utf8");
        writeFileSync(`${path}.json`, json.replace(/"sha256": "[0-9a-f]{64}"/, `"sha256": "${"0".repeat(64)}"`));
      });
      assertRefused(file, /does not match its metadata/);
    });
  });

  test("restore.sh takes exactly one backup file and says how to call it otherwise", () => {
    const target = freshDatabase();
    pg.psql("CREATE TABLE sentinel (id int); INSERT INTO sentinel VALUES (1)", target);
    const before = dumpAll(target);
    for (const args of [[], [fixtureBackup, fixtureBackup], [fixtureBackup, "--clean"]]) {
      const restored = run([RESTORE, ...args], { env: hookEnv({ DATABASE_URL: pg.url(target) }) });
      assert.equal(restored.status, 1, `restore.sh ${args.join(" ")}`);
      assert.match(restored.stderr, /usage: restore\.sh <backup file>/);
    }
    assert.equal(dumpAll(target), before);
  });

  test("a hook copied without the lib.sh beside it stops before it touches anything", () => {
    const dir = tempDir("no-lib");
    for (const hook of [BACKUP, RESTORE]) {
      copyFileSync(hook, join(dir, basename(hook)));
      chmodSync(join(dir, basename(hook)), 0o755);
    }
    const target = freshDatabase();
    pg.psql("CREATE TABLE sentinel (id int); INSERT INTO sentinel VALUES (1)", target);
    const before = dumpAll(target);
    const restored = run([join(dir, "restore.sh"), fixtureBackup], { env: hookEnv({ DATABASE_URL: pg.url(target) }) });
    assert.equal(restored.status, 1);
    assert.match(restored.stderr, /lib\.sh/);
    assert.equal(dumpAll(target), before);

    const backups = tempDir("no-lib-backups");
    const made = run([join(dir, "backup.sh")], { env: hookEnv({ DATABASE_URL: pg.url("app"), BACKUP_DIR: backups }) });
    assert.equal(made.status, 1);
    assert.match(made.stderr, /lib\.sh/);
    assert.deepEqual(listDir(backups), []);
  });

  test("a restore that fails partway leaves the target as it was", () => {
    const target = freshDatabase();
    // The primary key of public.app_settings is created after all data has loaded.
    pg.psql("CREATE TABLE public.app_settings_pkey (id int)", target);
    const before = dumpAll(target);
    const restored = restore(fixtureBackup, pg.url(target));
    assert.notEqual(restored.status, 0);
    assert.match(restored.stderr, /app_settings_pkey/);
    assert.equal(dumpAll(target), before);
  });

  describe("a failed backup leaves nothing behind and says why", () => {
    test("wrong password in DATABASE_URL", () => {
      const dir = tempDir("bad-url");
      const made = backup({ DATABASE_URL: pg.url("app", { user: "postgres", password: "wrong" }), BACKUP_DIR: dir });
      assert.equal(made.status, 1);
      // The lock session is the first connection, so it is the one that is refused.
      assert.match(made.stderr, /could not take the database lock: .*password authentication failed.*nothing was dumped/);
      assert.doesNotMatch(made.stderr, new RegExp(pg.password));
      assert.equal(made.stdout, "");
      assert.deepEqual(listDir(dir), []);
    });

    test("pg_dump fails after it has started writing", () => {
      // LOCK TABLE only needs UPDATE, so pg_dump gets as far as COPY (after writing the
      // archive's header and table of contents) before it is denied.
      pg.createDatabase("partly_readable");
      pg.psql(
        `CREATE ROLE partial_reader LOGIN PASSWORD 'partial';
         CREATE TABLE readable AS SELECT g AS id, md5(g::text) AS body FROM generate_series(1, 1000) g;
         CREATE TABLE writable_only AS SELECT g AS id FROM generate_series(1, 10) g;
         GRANT SELECT ON readable TO partial_reader;
         GRANT UPDATE ON writable_only TO partial_reader;`,
        "partly_readable",
      );
      const dir = tempDir("dump-fails");
      const reader = { user: "partial_reader", password: "partial" };
      const made = backup({ DATABASE_URL: pg.url("partly_readable", reader), BACKUP_DIR: dir });
      assert.equal(made.status, 1);
      assert.match(made.stderr, /permission denied for table writable_only/);
      assert.match(made.stderr, /pg_dump failed/);
      assert.deepEqual(listDir(dir), []);
    });

    test("unwritable BACKUP_DIR", () => {
      const parent = tempDir("read-only");
      const dir = join(parent, "backups");
      run(["mkdir", "-m", "0555", dir]);
      // Root writes anywhere, so the script runs as an unprivileged user then.
      const made = run(asUnprivileged([BACKUP]), { env: hookEnv({ DATABASE_URL: pg.url("app"), BACKUP_DIR: dir }) });
      assert.equal(made.status, 1);
      assert.match(made.stderr, /BACKUP_DIR .* is not a writable directory/);
      assert.deepEqual(listDir(dir), []);
    });

    test("missing or invalid settings", () => {
      const dir = tempDir("settings");
      const noUrl = backup({ BACKUP_DIR: dir });
      assert.equal(noUrl.status, 1);
      assert.match(noUrl.stderr, /DATABASE_URL must be set/);
      const noDir = backup({ DATABASE_URL: pg.url("app") });
      assert.equal(noDir.status, 1);
      assert.match(noDir.stderr, /BACKUP_DIR must be set/);
      const badKeep = backup({ DATABASE_URL: pg.url("app"), BACKUP_DIR: dir, BACKUP_KEEP: "0" });
      assert.equal(badKeep.status, 1);
      assert.match(badKeep.stderr, /BACKUP_KEEP must be an integer >= 1, got '0'/);
      assert.deepEqual(listDir(dir), []);
    });
  });

  test("BACKUP_KEEP prunes this database's older backups and nothing else", () => {
    const dir = tempDir("prune");
    pg.createDatabase("other");
    const env = { DATABASE_URL: pg.url("app"), BACKUP_DIR: dir };
    const otherBackup = lastLine(backup({ DATABASE_URL: pg.url("other"), BACKUP_DIR: dir }).stdout);
    const unrelated = ["notes.txt", "app-manual.dump", "app.dump.json"];
    for (const name of unrelated) writeFileSync(join(dir, name), "keep me");
    // A dump whose run died before its .json appeared, older than everything kept.
    const orphan = "app-20000101T000000.000000000Z.dump";
    writeFileSync(join(dir, orphan), "orphan");
    // Hidden partial files: one abandoned long ago, one that a running backup could own.
    const abandoned = ".dropstack-backup-20000101T000000.000000000Z.123.partial";
    const inProgress = ".dropstack-backup-20990101T000000.000000000Z.456.partial";
    writeFileSync(join(dir, abandoned), "");
    writeFileSync(join(dir, inProgress), "");
    const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
    utimesSync(join(dir, abandoned), twoHoursAgo, twoHoursAgo);

    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const result = backup(env);
      assert.equal(result.status, 0, result.stderr);
      made.push(lastLine(result.stdout));
    }
    const pruning = backup({ ...env, BACKUP_KEEP: "2", BACKUP_LABEL: "keep-two" });
    assert.equal(pruning.status, 0, pruning.stderr);
    made.push(lastLine(pruning.stdout));
    assert.match(pruning.stderr, /pruned app-/);

    const kept = made.slice(-2).flatMap((file) => [basename(file), `${basename(file)}.json`]);
    const expected = [...kept, basename(otherBackup), `${basename(otherBackup)}.json`, ...unrelated, inProgress].sort();
    assert.deepEqual(listDir(dir), expected);
  });
});
