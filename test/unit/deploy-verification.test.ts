// Deploy verification in the whole production program under mocks, with every step
// configured: schema assertions between the migration and the rollout, smoke checks with the
// M2M client's bearer token after the rollout, then the post-deploy watch. Where each
// step sits in the deploy order (dependsOn), what it runs, and that its secrets travel on
// stdin only.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Graph, Registration } from "../../tools/check/harness";
import { deployLevels } from "../../tools/check/report";
import { PROMOTED_IMAGE_OUTPUT } from "../../components/promotion";
import { committedValue, runStack } from "../support/program";

const COMMAND = "command:remote:Command";
const GRANT = "auth0:index/clientGrant:ClientGrant";
const app = committedValue<Record<string, unknown> & { image: string; replicas: number }>("production", "dropstack:app");
const auth0 = committedValue<{ apiIdentifier: string }>("production", "dropstack:auth0");

const VERIFY = {
  sql: [
    {
      name: "users.localId defaults to guest",
      query: "SELECT column_default LIKE '%guest%' FROM information_schema.columns WHERE column_name = 'localId'",
    },
    { name: "43 tables", query: "SELECT count(*) = 43 FROM information_schema.tables WHERE table_schema = 'app'" },
  ],
};
const WATCH = { seconds: 300, max5xxPercent: 0.5, p95LatencyMs: 1500, minRequests: 50 };
const SMOKE = [
  { path: "/api/users", token: true, scopes: ["read:users"], bodyContains: '"users"' },
  { path: "/api/records", token: true, scopes: ["read:records", "read:users"] },
  { method: "HEAD", path: "/", host: "app.example.com" },
];

describe("deploy verification (production, every step configured, mocks)", () => {
  let graph: Graph;
  let outputs: Record<string, unknown>;
  let migrate: Registration;
  let verify: Registration;
  let smoke: Registration;
  let watch: Registration;
  let api: Registration[];
  let workers: Registration[];
  let level: Map<string, number>;

  before(async () => {
    ({ graph, outputs } = await runStack({
      stack: "production",
      override: { "dropstack:app": { ...app, smoke: SMOKE, verify: VERIFY, watch: WATCH } },
    }));
    migrate = graph.one(COMMAND, "-migrate");
    verify = graph.one(COMMAND, "-verify");
    smoke = graph.one(COMMAND, "-smoke");
    watch = graph.one(COMMAND, "-watch");
    api = graph.ofType("docker:index/container:Container").filter((c) => /-api-\d+$/.test(c.name));
    workers = graph.ofType("docker:index/container:Container").filter((c) => c.name.includes("-worker-"));
    level = new Map(deployLevels(graph).flatMap((lvl, i) => lvl.map((r) => [r.name, i] as const)));
  });

  it("runs the schema assertions after the migration and before any app container, each its own step", () => {
    assert.ok(graph.dependsOn(verify, migrate));
    assert.ok(!graph.dependsOn(migrate, verify));
    for (const container of [...api, ...workers])
      assert.ok(graph.dependsOn(container, verify), `${container.name} waits for the assertions`);
    const steps = [migrate, verify, ...api.slice(0, 1)].map((r) => level.get(r.name) as number);
    assert.deepEqual(
      steps,
      [...steps].sort((a, b) => a - b),
    );
    assert.equal(new Set(steps).size, steps.length);
  });

  it("runs the assertions as the readonly role, on every deploy, with the URI on the secret stdin only", () => {
    const password = String(graph.one("random:index/randomPassword:RandomPassword", "-pg-readonly-password").outputs.result);
    assert.ok(verify.secretInputs.includes("stdin"));
    assert.ok(!verify.secretInputs.includes("create"));
    assert.match(String(verify.inputs.stdin), new RegExp(`^postgresql://readonly:${password}@`));
    for (const [key, value] of Object.entries(verify.inputs))
      if (key !== "stdin") assert.ok(!JSON.stringify(value).includes(password), `verify.${key} holds the readonly password`);
    assert.deepEqual(verify.inputs.triggers, migrate.inputs.triggers, "a new image or migrate command runs them again");
    assert.ok(verify.replaceOnChanges.includes("triggers"));
    const create = String(verify.inputs.create);
    assert.ok(create.includes("-e ASSERTION_COUNT=2"));
    assert.ok(create.includes(`-e 'ASSERTION_2=43 tables\t${VERIFY.sql[1].query.replace(/'/g, "'\\''")}'`), create);
    assert.ok(create.includes("'postgres:16.6-bookworm'"));
  });

  it("runs the smoke checks after every replica took traffic: health path first, then app.smoke in order", () => {
    for (const replica of api) assert.ok(graph.dependsOn(smoke, replica), `smoke waits for ${replica.name}`);
    assert.ok((level.get(smoke.name) as number) > Math.max(...api.map((r) => level.get(r.name) as number)));
    const create = String(smoke.inputs.create);
    const lines = /\nCHECKS='([^']*)'\n/.exec(create)?.[1].split("\n");
    assert.deepEqual(lines, [
      "GET\tapi.example.com\t/health\t2xx\t0\t",
      'GET\tapi.example.com\t/api/users\t200\t1\t"users"',
      "GET\tapi.example.com\t/api/records\t200\t1\t",
      "HEAD\tapp.example.com\t/\t200\t0\t",
    ]);
    assert.ok(create.includes(`\nTOKEN_URL='https://acme.eu.auth0.com/oauth/token'\nTOKEN_AUDIENCE='${auth0.apiIdentifier}'\n`));
  });

  it("grants the M2M client the API with the checks' scopes, before the smoke test asks for a token", () => {
    const grant = graph.one(GRANT, "-smoke-grant");
    const m2m = graph.one("auth0:index/client:Client", "-user-management");
    assert.equal(grant.inputs.clientId, m2m.outputs.clientId);
    assert.equal(grant.inputs.audience, auth0.apiIdentifier);
    assert.deepEqual(grant.inputs.scopes, ["read:records", "read:users"]);
    assert.ok(graph.dependsOn(smoke, grant));
  });

  it("sends the M2M client ID and secret on the smoke test's secret stdin, never in its command", () => {
    const secret = String(
      graph.one("auth0:index/clientCredentials:ClientCredentials", "-user-management-credentials").outputs.clientSecret,
    );
    assert.ok(smoke.secretInputs.includes("stdin"));
    assert.ok(!smoke.secretInputs.includes("create"), "the checks stay visible in previews");
    assert.ok(String(smoke.inputs.stdin).endsWith(`\n${secret}\n`));
    for (const [key, value] of Object.entries(smoke.inputs)) {
      if (key !== "stdin") assert.ok(!JSON.stringify(value).includes(secret), `smoke.${key} holds the client secret`);
    }
  });

  it("watches after the smoke test, and prunes old images only after the watch passed", () => {
    const prune = graph.one(COMMAND, "-prune-images");
    assert.ok(graph.dependsOn(watch, smoke));
    assert.ok(graph.dependsOn(prune, watch));
    const steps = [smoke, watch, prune].map((r) => level.get(r.name) as number);
    assert.deepEqual(steps, [steps[0], steps[0] + 1, steps[0] + 2]);
    assert.deepEqual(watch.inputs.triggers, smoke.inputs.triggers, "every rollout is watched");
  });

  it("watches nginx's container with the configured limits and names the stack in the rollback it prints", () => {
    const create = String(watch.inputs.create);
    const nginx = graph.one("docker:index/container:Container", "-nginx");
    const imageId = String(graph.one("docker:index/remoteImage:RemoteImage", "-app-image").outputs.imageId);
    for (const line of [
      `NGINX_CONTAINER='${String(nginx.outputs.name)}'`,
      "WINDOW_S='300'",
      "MAX_5XX_BASIS_POINTS='50'",
      "MAX_P95_MS='1500'",
      "MIN_REQUESTS='50'",
      `CURRENT_IMAGE='${imageId}'`,
      "HISTORY='/srv/dropstack/deployed-images'",
      "STACK='production'",
    ])
      assert.ok(create.includes(`\n${line}\n`), line);
    assert.ok(!watch.secretInputs.includes("create"), "previews show the limits");
    assert.equal(watch.inputs.stdin, undefined, "the watch needs no secret");
  });

  it("still exports the image as promoted once the checks pass", () => {
    assert.equal(outputs[PROMOTED_IMAGE_OUTPUT], app.image);
  });
});
