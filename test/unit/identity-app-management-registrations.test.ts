// Under mocks (staging) with dropstack:auth0.appManagementScopes: the app's own M2M client, a
// Management API grant of exactly those scopes, and its ID and secret in every app container's
// environment (secret); the committed stack, without the key, registers none of it.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Graph } from "../../tools/check/graph";
import { committedValue, runStack } from "../support/program";

const SCOPES = ["update:users_app_metadata", "read:users", "create:role_members"];

describe("the app's Management API client", () => {
  let graph: Graph;
  before(async () => {
    const auth0 = committedValue<Record<string, unknown>>("staging", "dropstack:auth0");
    ({ graph } = await runStack({ stack: "staging", override: { "dropstack:auth0": { ...auth0, appManagementScopes: SCOPES } } }));
  });

  it("is a client-credentials client whose Management API grant holds exactly the scopes, sorted", () => {
    const client = graph.one("auth0:index/client:Client", "-app-management");
    assert.equal(client.inputs.appType, "non_interactive");
    assert.deepEqual(client.inputs.grantTypes, ["client_credentials"]);
    const grant = graph.one("auth0:index/clientGrant:ClientGrant", "-app-management-grant");
    assert.deepEqual(grant.inputs.scopes, [...SCOPES].sort());
    assert.match(String(grant.inputs.audience), /^https:\/\/[^/]+\/api\/v2\/$/);
    assert.equal(grant.inputs.clientId, client.outputs.clientId);
    const credentials = graph.one("auth0:index/clientCredentials:ClientCredentials", "-app-management-credentials");
    assert.ok(credentials.additionalSecretOutputs.includes("clientSecret"));
  });

  it("puts its ID and secret in every app container's environment, as secrets", () => {
    const containers = graph.ofType("docker:index/container:Container").filter((c) => /-(api-\d+|worker-\w+)$/.test(c.name));
    assert.ok(containers.length > 0);
    const client = graph.one("auth0:index/client:Client", "-app-management");
    for (const container of containers) {
      const envs = container.inputs.envs as string[];
      assert.ok(envs.includes(`AUTH0_MANAGEMENT_CLIENT_ID=${String(client.outputs.clientId)}`), container.name);
      assert.ok(
        envs.some((e) => e.startsWith("AUTH0_MANAGEMENT_CLIENT_SECRET=") && e.length > "AUTH0_MANAGEMENT_CLIENT_SECRET=".length),
        container.name,
      );
      assert.ok(container.secretInputs.includes("envs"), `${container.name}: envs secret`);
    }
  });
});
