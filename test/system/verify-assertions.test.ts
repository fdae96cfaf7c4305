// The schema assertions (dropstack:app.verify.sql): the rendered verify hook run by bash as
// sshd runs it, verify.sh run by the docker stand-in in the client image's place, psql for
// real against a real PostgreSQL with the program's roles and grants, as the readonly role.
// Every assertion runs; each failure is named; a passing run is what lets the rollout start.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { renderVerifyCommand, verifyStdin, type SqlAssertion } from "../../components/hooks/commands";
import type { PostgresServer } from "../../tools/lib/postgres";
import { startRolesDatabase, type RolesDatabase } from "../support/roles-database";
import { makeTempDir, runAsync, type Finished } from "../../tools/lib/system";
import { installFakeDocker, type FakeDocker } from "./fake-docker";

const HOOKS_SOURCE = join(__dirname, "..", "..", "components", "hooks");
const DATABASE = "app";
const TABLES = 43;

describe("schema assertions as the readonly role on a real PostgreSQL", () => {
  let pg: PostgresServer;
  let passwords: RolesDatabase["passwords"];
  let docker: FakeDocker;
  let hooksDir: string;

  before(async () => {
    ({ pg, passwords } = await startRolesDatabase(DATABASE));
    // What a migration leaves behind, run as the migrator: 43 tables, one with a defaulted column.
    const tables = Array.from({ length: TABLES - 1 }, (_, i) => `CREATE TABLE t${i} (id int);`).join(" ");
    pg.psql(
      `SET ROLE migrator; SET search_path = app; CREATE TABLE users (id serial PRIMARY KEY, "localId" text NOT NULL DEFAULT 'guest'); ${tables} INSERT INTO users DEFAULT VALUES;`,
      DATABASE,
    );
    const root = makeTempDir("verify");
    docker = installFakeDocker(root);
    hooksDir = join(root, "hooks");
    mkdirSync(hooksDir);
    for (const file of ["lib.sh", "verify.sh"]) writeFileSync(join(hooksDir, file), readFileSync(join(HOOKS_SOURCE, file)));
  });
  after(() => pg?.stop());

  const readonlyUrl = () => pg.url(DATABASE, { user: "readonly", password: passwords.readonly });

  function verify(assertions: SqlAssertion[], stdin = verifyStdin(readonlyUrl())): Promise<Finished> {
    const script = renderVerifyCommand({
      network: "dropstack",
      clientImage: "postgres:16.6-bookworm",
      assertions,
      statementTimeoutMs: 2000,
      paths: { hooksDir, backupDir: join(hooksDir, "unused"), runDir: join(hooksDir, "unused"), statusDir: join(hooksDir, "unused") },
    });
    return runAsync(["bash", "-c", script], { input: stdin, env: docker.env });
  }

  const COLUMN_DEFAULT: SqlAssertion = {
    name: "users.localId defaults to guest",
    query: `SELECT column_default = '''guest''::text' FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 'users' AND column_name = 'localId'`,
  };
  const TABLE_COUNT: SqlAssertion = {
    name: "43 tables",
    query: `SELECT count(*) = ${TABLES} FROM information_schema.tables WHERE table_schema = 'app'`,
  };

  it("passes when every assertion returns true, reading the schema and the rows as the readonly role", async () => {
    const result = await verify([COLUMN_DEFAULT, TABLE_COUNT, { name: "a user exists", query: "SELECT EXISTS (SELECT 1 FROM users)" }]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /assertion "users\.localId defaults to guest" holds/);
    assert.match(result.stdout, /all 3 schema assertions hold/);
    const run = docker.invocations().at(-1) ?? [];
    assert.ok(run.includes("postgres:16.6-bookworm"), "runs in the client image");
    assert.ok(!run.join(" ").includes(passwords.readonly), "the readonly password is not in docker's arguments");
  });

  it("runs every assertion and names each one that is not true: false, NULL, no row, not a boolean, several rows, an error", async () => {
    const result = await verify([
      { name: "false", query: "SELECT 1 = 2" },
      TABLE_COUNT,
      { name: "null", query: "SELECT NULL::boolean" },
      { name: "no row", query: "SELECT true WHERE false" },
      { name: "a number", query: "SELECT 1" },
      { name: "two rows", query: "SELECT true FROM generate_series(1, 2)" },
      { name: "missing column", query: "SELECT nope FROM users" },
      { name: "last, true", query: "SELECT true" },
    ]);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /6 of 8 schema assertions failed, so the rollout does not start:/);
    const failed = result.stderr
      .split("\n")
      .filter((l) => l.startsWith('  "'))
      .map((l) => /^ {2}"([^"]+)"/.exec(l)?.[1]);
    assert.deepEqual(failed, ["false", "null", "no row", "a number", "two rows", "missing column"]);
    assert.match(result.stderr, /"false": returned f, not true/);
    assert.match(result.stderr, /"two rows": returned t \| t, not true/);
    assert.match(result.stderr, /"missing column": the query failed: .*column "nope" does not exist/);
    assert.match(result.stdout, /assertion "last, true" holds/, "assertions after a failure still run");
  });

  it("runs read-only: an assertion that writes or changes the schema fails, and nothing changes", async () => {
    const result = await verify([
      { name: "writes", query: "INSERT INTO users DEFAULT VALUES RETURNING true" },
      { name: "ddl", query: "CREATE TABLE app.sneaky (id int); SELECT true" },
    ]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /"writes": the query failed: .*(read-only transaction|permission denied)/);
    assert.match(result.stderr, /"ddl": the query failed: .*(read-only transaction|permission denied)/);
    assert.equal(pg.psql("SELECT count(*) FROM app.users", DATABASE), "1");
  });

  it("stops a query that runs past the statement timeout", async () => {
    const result = await verify([{ name: "slow", query: "SELECT pg_sleep(5) IS NOT NULL" }]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /"slow": the query failed: .*statement timeout/);
  });

  it("fails, without running anything, when the readonly URL does not arrive or does not connect", async () => {
    const missing = await verify([TABLE_COUNT], "");
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /the readonly database URL did not arrive on stdin/);
    const wrong = await verify([TABLE_COUNT], verifyStdin(pg.url(DATABASE, { user: "readonly", password: "wrong" })));
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /"43 tables": the query failed: .*password authentication failed/);
    assert.ok(!wrong.stderr.includes(passwords.readonly));
  });
});
