// An app that migrates at start-up, under dropstack: its role (through the pool) has no DDL
// rights, so its replica never turns healthy, and the Docker provider's failure only says
// `container failed to be in healthy state`. The start-up check (renderStartupCheckCommand)
// runs beside that health wait and fails the deploy saying why. The errors it looks for are
// taken from a real PostgreSQL with the program's roles and grants, each schema change
// attempted as the app role; the check runs in bash against a docker stand-in holding them
// as a replica's logs, and is held to shellcheck.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DDL_PERMISSION_ERRORS, renderStartupCheckCommand } from "../../components/app/render";
import type { PostgresServer } from "../../tools/lib/postgres";
import { startRolesDatabase, type RolesDatabase } from "../support/roles-database";
import { makeTempDir, requireTools, run, runAsync } from "../../tools/lib/system";

const IMAGE_ID = `sha256:${"7a".repeat(32)}`;
const DATABASE = "app";

// What a migration at start-up tries, as Alembic or Django would.
const SCHEMA_CHANGES = [
  "CREATE TABLE users (id int)",
  "CREATE TABLE public.users (id int)",
  "ALTER TABLE notes ADD COLUMN \"localId\" text DEFAULT 'guest'",
  "CREATE INDEX notes_body ON notes (body)",
  "DROP TABLE notes",
  "ALTER TABLE notes RENAME TO posts",
  "CREATE SCHEMA audit",
  "CREATE EXTENSION IF NOT EXISTS pgcrypto",
];

describe("the start-up check on a replica that migrates at start-up", () => {
  let pg: PostgresServer;
  let passwords: RolesDatabase["passwords"];
  let root: string;
  let env: NodeJS.ProcessEnv;
  const refused = new Map<string, string>();

  before(async () => {
    ({ pg, passwords } = await startRolesDatabase(DATABASE));
    pg.psql("SET ROLE migrator; SET search_path = app; CREATE TABLE notes (id serial PRIMARY KEY, body text);", DATABASE);
    for (const sql of SCHEMA_CHANGES) {
      const result = run([
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        pg.url(DATABASE, { user: "app", password: passwords.app }),
        "-c",
        sql,
      ]);
      assert.notEqual(result.status, 0, `the app role must not be able to run ${sql}`);
      refused.set(sql, result.stderr.trim());
    }

    root = makeTempDir("startup-check");
    const bin = join(root, "bin");
    mkdirSync(bin);
    // docker as the check uses it; a container is <root>/containers/<name>/{logs,health}.
    writeFileSync(
      join(bin, "docker"),
      [
        "#!/usr/bin/env bash",
        "set -euo pipefail",
        "dir=$FAKE_DIR/containers",
        `if [[ "$*" == "ps --all --filter label=dropstack.role=api --filter ancestor=${IMAGE_ID} --format {{.Names}}" ]]; then`,
        '  for c in "$dir"/*/; do [[ -d $c ]] && basename "$c"; done; exit 0',
        "fi",
        'if [[ $1 == logs && $2 == --tail ]]; then cat "$dir/$4/logs"; exit 0; fi',
        'if [[ $1 == inspect && $2 == --format ]]; then cat "$dir/$4/health"; exit 0; fi',
        'echo "fake docker: unexpected $*" >&2; exit 2',
      ].join("\n"),
    );
    chmodSync(join(bin, "docker"), 0o755);
    env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_DIR: root };
  });
  after(() => pg?.stop());

  function replicas(containers: Record<string, { logs: string; health: string }>): void {
    rmSync(join(root, "containers"), { recursive: true, force: true });
    for (const [name, { logs, health }] of Object.entries(containers)) {
      mkdirSync(join(root, "containers", name), { recursive: true });
      writeFileSync(join(root, "containers", name, "logs"), logs);
      writeFileSync(join(root, "containers", name, "health"), `${health}\n`);
    }
  }
  const check = (seconds = 2, appearSeconds = 2) =>
    runAsync(["bash", "-c", renderStartupCheckCommand({ imageId: IMAGE_ID, seconds, intervalSeconds: 1, appearSeconds })], { env });

  it("recognises every refusal PostgreSQL gives the app role for a schema change", () => {
    for (const [sql, error] of refused)
      assert.ok(
        DDL_PERMISSION_ERRORS.some((message) => error.includes(message)),
        `${sql}: "${error}" is not recognised`,
      );
  });

  it("fails the deploy naming app.migrate when a starting replica logs any of them, however the app wraps it", async () => {
    const wrappers = [
      (e: string) => e,
      (e: string) => `sqlalchemy.exc.ProgrammingError: (psycopg2.errors.InsufficientPrivilege) ${e.replace(/^.*ERROR:\s*/, "")}`,
      (e: string) => `django.db.utils.ProgrammingError: ${e.replace(/^.*ERROR:\s*/, "")}`,
      (e: string) => `{"level":"error","msg":"migration failed","error":"${e.replace(/^.*ERROR:\s*/, "")}"}`,
    ];
    for (const [sql, error] of refused) {
      for (const wrap of wrappers) {
        replicas({
          "dropstack-production-api-0-4f1e2d3": {
            logs: `INFO  [alembic.runtime.migration] Running upgrade  -> 0002\n${wrap(error)}\nTraceback (most recent call last):\n`,
            health: "starting",
          },
        });
        const result = await check();
        assert.equal(result.status, 1, `${sql}: ${result.stdout}`);
        assert.match(result.stderr, /api replica dropstack-production-api-0-4f1e2d3 logs PostgreSQL permission errors on schema changes:/);
        assert.ok(result.stderr.includes(`  ${wrap(error).split("\n")[0]}`), result.stderr);
        assert.match(result.stderr, /Run migrations in dropstack:app\.migrate .* take them out of the app's start-up/);
      }
    }
  });

  it("passes once a replica of the image is healthy, or turned unhealthy for another reason, or none appears, or the time is up", async () => {
    replicas({ "api-0": { logs: "Uvicorn running on http://0.0.0.0:8000\n", health: "healthy" } });
    const healthy = await check();
    assert.equal(healthy.status, 0, healthy.stderr);
    assert.match(healthy.stdout, /is healthy; its logs show no schema permission errors/);

    replicas({ "api-0": { logs: "KeyError: 'SECRET_KEY'\n", health: "unhealthy" } });
    const other = await check();
    assert.equal(other.status, 0, other.stderr);
    assert.match(other.stdout, /is unhealthy, and its logs show no schema permission errors/);

    replicas({});
    const none = await check(10, 1);
    assert.equal(none.status, 0, none.stderr);
    assert.match(none.stdout, /no api container of this image appeared within 1s: nothing to check/);

    replicas({ "api-0": { logs: "starting\n", health: "starting" } });
    const started = Date.now();
    const slow = await check(2);
    assert.equal(slow.status, 0, slow.stderr);
    assert.match(slow.stdout, /no api replica of this image turned healthy within 2s/);
    assert.ok(Date.now() - started >= 2000);
  });

  it("does not mistake other errors for a migration at start-up: a table the app may not read, a lost connection", async () => {
    const denied = run([
      "psql",
      "-X",
      "-q",
      "-d",
      pg.url(DATABASE, { user: "readonly", password: passwords.readonly }),
      "-c",
      "INSERT INTO notes (body) VALUES ('x')",
    ]);
    assert.notEqual(denied.status, 0);
    replicas({
      "api-0": {
        logs: `${denied.stderr}\nconnection to server at "db" (10.0.0.5), port 25061 failed: Connection refused\n`,
        health: "unhealthy",
      },
    });
    const result = await check();
    assert.equal(result.status, 0, result.stderr);
  });

  it("passes shellcheck", () => {
    const { shellcheck } = requireTools([{ command: "shellcheck", debianPackage: "shellcheck" }]);
    const file = join(root, "startup-check.sh");
    writeFileSync(file, `#!/bin/bash\n${renderStartupCheckCommand({ imageId: IMAGE_ID })}\n`);
    const result = run([shellcheck, "--severity=style", file]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});
