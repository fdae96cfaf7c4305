// docs/rollback.md's data-restore runbook, run exactly as written: its marked bash blocks
// are extracted and run with bash against a real PostgreSQL set up the way dropstack sets up
// the managed one (migrator owns the `app` schema; app and readonly get grants). Only docker
// is a stand-in (test/system/fake-docker.ts), and /srv/ points into a temp dir.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HOOK_SCRIPTS, postgresClientImage } from "../../components/hooks/commands";
import { startPostgres, type PostgresServer } from "../../tools/lib/postgres";
import { type Finished, makeTempDir, run, runAsync } from "../../tools/lib/system";
import { installFakeDocker, type FakeDocker } from "./fake-docker";
import { runbookBlock } from "../support/runbook";

const ROOT = join(__dirname, "..", "..");
const RUNBOOK = readFileSync(join(ROOT, "docs", "rollback.md"), "utf8");
const ROLE_PASSWORDS = { migrator: "migrator-pw-5b2e", app: "app-pw-c81d", readonly: "readonly-pw-90fa" };

function bash(script: string, stdin: string, env: NodeJS.ProcessEnv): Promise<Finished> {
  return runAsync(["bash", "-c", script], { input: stdin, env });
}

describe("data restore runbook (docs/rollback.md) on a real PostgreSQL", () => {
  let pg: PostgresServer;
  let root: string;
  let docker: FakeDocker;
  let srv: string;
  let backupDir: string;
  let databaseCounter = 0;

  before(async () => {
    pg = await startPostgres();
    root = makeTempDir("runbook");
    docker = installFakeDocker(root);
    srv = join(root, "srv");
    backupDir = join(srv, "backups");
    mkdirSync(join(srv, "dropstack", "hooks"), { recursive: true });
    mkdirSync(backupDir);
    for (const file of HOOK_SCRIPTS)
      writeFileSync(join(srv, "dropstack", "hooks", file), readFileSync(join(ROOT, "components", "hooks", file)));
    pg.psql(
      Object.entries(ROLE_PASSWORDS)
        .map(([role, password]) => `CREATE ROLE ${role} LOGIN PASSWORD '${password}'; ALTER ROLE ${role} SET search_path = app;`)
        .join("\n"),
    );
  });
  after(async () => {
    await pg?.stop();
  });

  const url = (database: string, role: keyof typeof ROLE_PASSWORDS) => pg.url(database, { user: role, password: ROLE_PASSWORDS[role] });
  const asRole = (database: string, role: keyof typeof ROLE_PASSWORDS, sql: string) =>
    run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url(database, role), "-c", sql]);

  /** An app database as the Database component leaves it, with one release's data, and a backup of it. */
  async function deployedDatabase(): Promise<{ database: string; backup: string }> {
    const database = `app${++databaseCounter}`;
    pg.createDatabase(database);
    pg.psql(
      `REVOKE ALL ON DATABASE ${database} FROM PUBLIC; GRANT CONNECT, CREATE, TEMPORARY ON DATABASE ${database} TO migrator; GRANT CONNECT ON DATABASE ${database} TO app, readonly;`,
    );
    const setup = asRole(
      database,
      "migrator",
      [
        "CREATE SCHEMA app; GRANT USAGE ON SCHEMA app TO app, readonly;",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO app;",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO readonly;",
        "CREATE TABLE app.accounts (id int PRIMARY KEY, owner text NOT NULL);",
        "INSERT INTO app.accounts VALUES (1, 'ada'), (2, 'grace');",
      ].join(" "),
    );
    assert.equal(setup.status, 0, setup.stderr);
    const made = run(["bash", join(srv, "dropstack", "hooks", "backup.sh")], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: url(database, "migrator"),
        BACKUP_DIR: backupDir,
        BACKUP_LABEL: "ghcr.io/acme/api@sha256:release-2",
      },
    });
    assert.equal(made.status, 0, made.stderr);
    // Then a bad release: a broken migration and writes after the backup.
    assert.equal(
      asRole(
        database,
        "migrator",
        "ALTER TABLE app.accounts ADD COLUMN broken int; DELETE FROM app.accounts WHERE id = 2; INSERT INTO app.accounts VALUES (3, 'eve', 0);",
      ).status,
      0,
    );
    return { database, backup: made.stdout.trim().split("\n").at(-1) ?? "" };
  }

  /** A marked block as an operator runs it, with /srv/ in the temp dir, after setting BACKUP and CLIENT as the runbook says. */
  function runbook(name: string, backup: string, stdin: string[]) {
    const preamble = `BACKUP=${JSON.stringify(backup)}\nCLIENT=${postgresClientImage("16")}\n`;
    return bash(preamble + runbookBlock(name).replaceAll("/srv/", `${srv}/`), stdin.map((l) => `${l}\n`).join(""), docker.env);
  }

  test("the client image table matches the images the hooks use", () => {
    for (const version of ["15", "16", "17"]) {
      assert.ok(RUNBOOK.includes(`| ${version} | \`${postgresClientImage(version)}\` |`), `postgres.version ${version}`);
    }
  });

  test("in place: the live database goes back to the backup, the newer data is set aside, grants work again", async () => {
    const { database, backup } = await deployedDatabase();
    const result = await runbook("in-place", backup, [url(database, "migrator")]);
    assert.equal(result.status, 0, result.stderr);

    assert.equal(pg.psql("SELECT string_agg(id || ':' || owner, ',' ORDER BY id) FROM app.accounts", database), "1:ada,2:grace");
    assert.equal(
      pg.psql("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'app' AND column_name = 'broken'", database),
      "0",
    );
    assert.equal(
      pg.psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM app_before_restore.accounts", database),
      "1,3",
      "the data written since is set aside",
    );
    assert.equal(asRole(database, "app", "SELECT count(*) FROM accounts").stdout.trim(), "2", "the app role reads the restored table");
    assert.equal(asRole(database, "readonly", "SELECT count(*) FROM accounts").stdout.trim(), "2");
    // The next migration's tables are still granted to the app: default privileges came back.
    assert.equal(asRole(database, "migrator", "CREATE TABLE app.invoices (id int)").status, 0);
    assert.equal(asRole(database, "app", "INSERT INTO invoices VALUES (1)").status, 0);

    assert.ok(
      readdirSync(backupDir).some((f) => f.endsWith("-before-restore.dump")),
      "a backup of the state before the restore",
    );
    const calls = docker.invocations();
    for (const role of ["api", "worker"]) {
      assert.ok(
        calls.some((c) => c.join(" ") === `ps -q --filter label=dropstack.role=${role}`),
        `${role} containers are stopped first`,
      );
      assert.ok(
        calls.some((c) => c.join(" ") === `ps -aq --filter label=dropstack.role=${role}`),
        `${role} containers are started again`,
      );
    }
    assert.ok(!readFileSync(docker.logFile, "utf8").includes(ROLE_PASSWORDS.migrator), "the URL reached docker's command line");
  });

  test("in place: a backup that does not match its .json changes nothing", async () => {
    const { database, backup } = await deployedDatabase();
    const bytes = readFileSync(backup);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(backup, bytes);
    const result = await runbook("in-place", backup, [url(database, "migrator")]);
    assert.match(result.stderr, /sha256 [0-9a-f]{64} does not match its metadata/);
    assert.match(result.stderr, /refusing to restore/);
    assert.equal(
      pg.psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM app.accounts", database),
      "1,3",
      "the live data is back in place",
    );
    assert.equal(pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'app_before_restore'", database), "0");
    assert.equal(asRole(database, "app", "SELECT count(*) FROM accounts").stdout.trim(), "2");
  });

  test("fresh database: the backup is restored next to the live database, which is untouched", async () => {
    const { database, backup } = await deployedDatabase();
    const result = await runbook("fresh-database", backup, [pg.url("postgres"), url("app_restore", "migrator")]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(pg.psql("SELECT string_agg(id || ':' || owner, ',' ORDER BY id) FROM app.accounts", "app_restore"), "1:ada,2:grace");
    assert.equal(asRole("app_restore", "app", "SELECT count(*) FROM accounts").stdout.trim(), "2", "the app role may connect and read");
    assert.equal(
      pg.psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM app.accounts", database),
      "1,3",
      "the live database is untouched",
    );
    assert.ok(!readFileSync(docker.logFile, "utf8").includes(pg.password), "the admin URL reached docker's command line");
  });
});
