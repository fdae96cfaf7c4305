// The app's environment in the whole production program under mocks, with appSecrets set:
// every container and the migration get it, it stays secret end to end, and the migration
// connects as the migrator while the app goes through the pool, in DATABASE_URL and in the
// split POSTGRES_* variables alike.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { POSTGRES_ENVIRONMENT_NAMES } from "../../components/app/render";
import { stackAppEnvironmentNames } from "../../components/config";
import { ROLE_NAMES } from "../../components/database/privileges";
import { connectionUri } from "../../components/database/settings";
import { PROMOTED_IMAGE_OUTPUT } from "../../components/promotion";
import type { Graph, Registration } from "../../tools/check/harness";
import { setStackReferenceOutputs } from "../../tools/check/mocks";
import { committedValue, runStack } from "../support/program";

const APP_SECRETS = { SECRET_KEY: "app-secret-key-7c41e9", SENTRY_DSN: "https://abc123@sentry.example.com/42" };
const app = committedValue<{ image: string; env: Record<string, string> }>("production", "dropstack:app");

function postgresPart(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(POSTGRES_ENVIRONMENT_NAMES.map((name) => [name, env[name]]));
}

/** The URL the Database component would build from the split variables. */
function connectionUriOf(env: Record<string, string>): string {
  return connectionUri({
    host: env.POSTGRES_HOST,
    port: Number(env.POSTGRES_PORT),
    user: env.POSTGRES_USER,
    password: env.POSTGRES_PASSWORD,
    database: env.POSTGRES_DB,
  });
}

function envOf(container: Registration): Record<string, string> {
  return Object.fromEntries(
    (container.inputs.envs as string[]).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

describe("app environment (production with appSecrets, mocks)", () => {
  let graph: Graph;
  let containers: Registration[];

  before(async () => {
    setStackReferenceOutputs(committedValue<{ stagingStack: string }>("production", "dropstack:promotion").stagingStack, {
      [PROMOTED_IMAGE_OUTPUT]: app.image,
    });
    ({ graph } = await runStack({ stack: "production", override: { "dropstack:appSecrets": APP_SECRETS } }));
    containers = graph.ofType("docker:index/container:Container").filter((c) => /-(api-\d+|worker-.+)$/.test(c.name));
  });

  it("gives every api and worker container the same environment: pool URL, Redis, Auth0, app.env and appSecrets", () => {
    const pool = graph.one("digitalocean:index/databaseConnectionPool:DatabaseConnectionPool");
    const expected = envOf(containers[0]);
    for (const container of containers) assert.deepEqual(envOf(container), expected, container.name);
    assert.match(
      expected.DATABASE_URL,
      new RegExp(`@${String(pool.outputs.privateHost).replace(/\./g, "\\.")}:`),
      "the app goes through the pool",
    );
    assert.match(expected.REDIS_URL, /^redis:\/\//);
    assert.ok(
      Object.keys(expected).some((k) => k.startsWith("AUTH0_")),
      "Auth0 settings from the Identity component",
    );
    for (const [name, value] of Object.entries({ ...app.env, ...APP_SECRETS })) assert.equal(expected[name], value, name);
  });

  it("reserves, in the config schema, exactly the variables the stack sets", () => {
    const stackSet = Object.keys(envOf(containers[0])).filter((name) => !(name in app.env) && !(name in APP_SECRETS));
    assert.deepEqual(stackSet.sort(), stackAppEnvironmentNames(true).sort());
  });

  it("splits DATABASE_URL into POSTGRES_HOST, _PORT, _USER, _PASSWORD and _DB: the app role at the pool", () => {
    const pool = graph.one("digitalocean:index/databaseConnectionPool:DatabaseConnectionPool");
    const appPassword = String(graph.one("digitalocean:index/databaseUser:DatabaseUser", "-pg-app").outputs.password);
    const env = envOf(containers[0]);
    assert.deepEqual(postgresPart(env), {
      POSTGRES_HOST: String(pool.outputs.privateHost),
      POSTGRES_PORT: String(pool.outputs.port),
      POSTGRES_USER: ROLE_NAMES.app,
      POSTGRES_PASSWORD: appPassword,
      POSTGRES_DB: String(pool.inputs.name),
    });
    assert.equal(connectionUriOf(env), env.DATABASE_URL, "the parts make DATABASE_URL again");
  });

  it("runs the migration with the same environment, but as the migrator on a direct connection, in both forms", () => {
    const stdin = String(graph.one("command:remote:Command", "-migrate").inputs.stdin).trimEnd().split("\n");
    const migratorPassword = String(graph.one("random:index/randomPassword:RandomPassword", "-pg-migrator-password").outputs.result);
    assert.ok(stdin[0].includes(migratorPassword), "migrate.sh connects as the migrator");
    assert.ok(!stdin[0].includes("pool"), "directly, since its advisory lock is session-level");
    const migrationEnv = Object.fromEntries(
      stdin.slice(1).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    assert.equal(migrationEnv.DATABASE_URL, stdin[0]);
    const cluster = graph.one("digitalocean:index/databaseCluster:DatabaseCluster");
    assert.deepEqual(postgresPart(migrationEnv), {
      POSTGRES_HOST: String(cluster.outputs.privateHost),
      POSTGRES_PORT: String(cluster.outputs.port),
      POSTGRES_USER: ROLE_NAMES.migrator,
      POSTGRES_PASSWORD: migratorPassword,
      POSTGRES_DB: String(graph.one("digitalocean:index/databaseDb:DatabaseDb").inputs.name),
    });
    assert.equal(connectionUriOf(migrationEnv), migrationEnv.DATABASE_URL, "the parts make its DATABASE_URL again");
    const appEnv = envOf(containers[0]);
    const connection = ["DATABASE_URL", ...POSTGRES_ENVIRONMENT_NAMES] as string[];
    assert.deepEqual(Object.keys(migrationEnv).sort(), Object.keys(appEnv).sort());
    for (const name of Object.keys(appEnv).filter((n) => !connection.includes(n))) assert.equal(migrationEnv[name], appEnv[name], name);
  });

  it("keeps appSecrets secret everywhere: no resource holds them in a non-secret input", () => {
    for (const container of containers) assert.ok(container.secretInputs.includes("envs"));
    assert.ok(graph.one("command:remote:Command", "-migrate").secretInputs.includes("stdin"));
    for (const r of graph.registrations) {
      for (const [key, value] of Object.entries(r.inputs)) {
        if (r.secretInputs.includes(key)) continue;
        const text = JSON.stringify(value) ?? "";
        for (const secret of Object.values(APP_SECRETS))
          assert.ok(!text.includes(secret), `${r.type} ${r.name}.${key} holds an appSecret in the clear`);
      }
    }
  });
});
