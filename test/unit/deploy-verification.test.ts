// Deploy verification in the whole production program under mocks, with every step
// configured: smoke checks with the M2M client's bearer token after the rollout. Where each
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

const SMOKE = [
  { path: "/api/users", token: true, scopes: ["read:users"], bodyContains: '"users"' },
  { path: "/api/records", token: true, scopes: ["read:records", "read:users"] },
  { method: "HEAD", path: "/", host: "app.example.com" },
];

describe("deploy verification (production, every step configured, mocks)", () => {
  let graph: Graph;
  let outputs: Record<string, unknown>;
  let smoke: Registration;
  let api: Registration[];
  let level: Map<string, number>;

  before(async () => {
    ({ graph, outputs } = await runStack({ stack: "production", override: { "dropstack:app": { ...app, smoke: SMOKE } } }));
    smoke = graph.one(COMMAND, "-smoke");
    api = graph.ofType("docker:index/container:Container").filter((c) => /-api-\d+$/.test(c.name));
    level = new Map(deployLevels(graph).flatMap((lvl, i) => lvl.map((r) => [r.name, i] as const)));
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

  it("still exports the image as promoted once the checks pass", () => {
    assert.equal(outputs[PROMOTED_IMAGE_OUTPUT], app.image);
  });
});
