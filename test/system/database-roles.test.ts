// The privilege model the Database component applies through @pulumi/postgresql, applied
// as the same SQL to a real PostgreSQL: the migrator owns and changes the schema, the app
// role only reads and writes rows, readonly only reads, and nobody else gets in.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { RoleKind, privilegeModel, renderGrantSql, renderRoleSql } from "../../components/database/privileges";
import { PostgresServer, startPostgres } from "../../tools/lib/postgres";
import { run } from "../../tools/lib/system";

const DATABASE = "app";

describe("database roles on a real PostgreSQL", () => {
  const model = privilegeModel();
  const passwords: Record<RoleKind, string> = {
    migrator: randomBytes(20).toString("hex"),
    app: randomBytes(20).toString("hex"),
    readonly: randomBytes(20).toString("hex"),
  };
  let pg: PostgresServer;

  /** psql as one of the model's roles (or any login role), like the hooks and the app connect. */
  const as = (user: string, sql: string, password = passwords[user as RoleKind]) =>
    run([join(pg.binDir, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", pg.url(DATABASE, { user, password }), "-f", "-"], {
      input: sql,
    });
  const ok = (user: string, sql: string) => {
    const result = as(user, sql);
    assert.equal(result.status, 0, `${user} should run ${sql}\n${result.stderr}`);
    return result.stdout.trim();
  };
  const denied = (user: string, sql: string, reason: RegExp) => {
    const result = as(user, sql);
    assert.notEqual(result.status, 0, `${user} must not be able to run ${sql}`);
    assert.match(result.stderr, reason, sql);
  };

  before(async () => {
    pg = await startPostgres();
    pg.createDatabase(DATABASE);
    pg.psql(renderRoleSql(model, passwords), DATABASE);
    // A table that exists before the grants are applied: postgresql.Grant covers it.
    ok("migrator", "CREATE TABLE legacy (id bigserial PRIMARY KEY, note text NOT NULL); INSERT INTO legacy (note) VALUES ('from before');");
    pg.psql(renderGrantSql(model, DATABASE), DATABASE);
    // A table a later migration creates: the default privileges cover it.
    ok("migrator", "CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL);");
  });
  after(() => pg?.stop());

  it("lets the migrator own the app schema, where unqualified names land, and change it", () => {
    assert.equal(pg.psql("SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'app'", DATABASE), "migrator");
    assert.equal(pg.psql("SELECT tableowner FROM pg_tables WHERE schemaname = 'app' AND tablename = 'notes'", DATABASE), "migrator");
    assert.equal(ok("migrator", "SELECT current_schema()"), "app");
    ok("migrator", "ALTER TABLE notes ADD COLUMN pinned boolean NOT NULL DEFAULT false; CREATE INDEX notes_pinned ON notes (pinned);");
    ok("migrator", "CREATE TABLE scratch (id int); DROP TABLE scratch;");
    ok("migrator", "CREATE EXTENSION IF NOT EXISTS pgcrypto; SELECT gen_random_uuid();");
  });

  it("lets the app role read and write rows in tables created before and after the grants", () => {
    assert.equal(ok("app", "INSERT INTO notes (body) VALUES ('hello') RETURNING body"), "hello");
    ok("app", "UPDATE notes SET body = 'hello again' WHERE body = 'hello'");
    assert.equal(ok("app", "SELECT body FROM notes"), "hello again");
    ok("app", "DELETE FROM notes");
    assert.equal(ok("app", "INSERT INTO legacy (note) VALUES ('from the app') RETURNING id"), "2");
    assert.equal(ok("app", "SELECT count(*) FROM legacy"), "2");
  });

  it("keeps the app role from creating, altering, dropping or truncating anything", () => {
    denied("app", "CREATE TABLE sneaky (id int)", /permission denied for schema app/);
    denied("app", "CREATE TABLE public.sneaky (id int)", /permission denied for schema public/);
    denied("app", "ALTER TABLE notes ADD COLUMN sneaky text", /must be owner of table notes/);
    denied("app", "DROP TABLE notes", /must be owner of table notes/);
    denied("app", "CREATE INDEX sneaky ON notes (body)", /must be owner of table notes/);
    denied("app", "TRUNCATE notes", /permission denied for table notes/);
    denied("app", "CREATE SCHEMA sneaky", /permission denied for database app/);
    denied("app", "CREATE TEMP TABLE sneaky (id int)", /permission denied to create temporary tables/);
    denied("app", "ALTER SCHEMA app RENAME TO mine", /must be owner of schema app/);
    denied("app", "SET ROLE migrator", /permission denied to set role "migrator"/);
    assert.equal(
      pg.psql(
        "SELECT has_schema_privilege('app', 'app', 'CREATE'), has_database_privilege('app', 'app', 'CREATE'), " +
          "has_table_privilege('app', 'app.notes', 'TRUNCATE'), has_table_privilege('app', 'app.notes', 'REFERENCES'), has_table_privilege('app', 'app.notes', 'TRIGGER')",
        DATABASE,
      ),
      "f|f|f|f|f",
    );
  });

  it("lets readonly SELECT and nothing else", () => {
    ok("migrator", "INSERT INTO notes (body) VALUES ('visible')");
    assert.equal(ok("readonly", "SELECT body FROM notes"), "visible");
    assert.equal(ok("readonly", "SELECT count(*) FROM legacy"), "2");
    denied("readonly", "INSERT INTO notes (body) VALUES ('nope')", /permission denied for table notes/);
    denied("readonly", "UPDATE notes SET body = 'nope'", /permission denied for table notes/);
    denied("readonly", "DELETE FROM notes", /permission denied for table notes/);
    denied("readonly", "SELECT nextval('notes_id_seq')", /permission denied for sequence notes_id_seq/);
    denied("readonly", "CREATE TABLE sneaky (id int)", /permission denied for schema app/);
  });

  it("turns away roles the model does not name: PUBLIC lost CONNECT on the app database", () => {
    const strangerPassword = randomBytes(12).toString("hex");
    pg.psql(`CREATE ROLE stranger LOGIN PASSWORD '${strangerPassword}'`);
    const result = as("stranger", "SELECT 1", strangerPassword);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /permission denied for database "?app"?/);
  });

  it("converges when the provider re-applies the grants (revoke all, then grant)", () => {
    pg.psql(renderGrantSql(model, DATABASE), DATABASE);
    assert.equal(ok("app", "INSERT INTO notes (body) VALUES ('still works') RETURNING body"), "still works");
    denied("readonly", "DELETE FROM notes", /permission denied for table notes/);
  });
});
