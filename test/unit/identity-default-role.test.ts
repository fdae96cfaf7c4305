// The Identity component's side of auth0.defaultRole, under Pulumi mocks: the Action's
// secrets in each configuration, and with auth0.assignDefaultRole the Action's own
// Management API client, granted exactly the scopes the assignment needs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as auth0 from "@pulumi/auth0";
import * as pulumi from "@pulumi/pulumi";
import { Auth0Settings, Identity } from "../../components/identity";
import { POST_LOGIN_MANAGEMENT_SCOPES } from "../../components/identity/settings";
import { outputValue, recordResources } from "../support/pulumi-mocks";

const created = recordResources();

const AUTH0: Auth0Settings = {
  apiIdentifier: "https://api.example.com",
  roles: { super_admin: ["read:users"], guest: [] },
  spa: {},
};

function identity(name: string, settings: Partial<Auth0Settings>): Identity {
  return new Identity(name, {
    auth0: { ...AUTH0, ...settings },
    hosts: { api: "api.example.com" },
    alertEmails: [],
    domain: "acme.eu.auth0.com",
  });
}

type ActionSecrets = { name: string; value: string }[];

/** The Action's secrets as registered, in order, and whether Pulumi sent them as a secret. */
async function registeredSecrets(tenant: Identity): Promise<{ secret: boolean; secrets: ActionSecrets }> {
  const wire = (await created.inputsOf(tenant.postLogin)).secrets as Record<string, unknown> | ActionSecrets;
  const secret = !Array.isArray(wire) && wire[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;
  return { secret, secrets: (secret ? (wire as { value: ActionSecrets }).value : wire) as ActionSecrets };
}

/** The Action's secrets, which hold nothing secret without a management client. */
async function actionSecrets(tenant: Identity): Promise<ActionSecrets> {
  const registered = await registeredSecrets(tenant);
  assert.equal(registered.secret, false);
  return registered.secrets;
}

/** Everything the component registered under `name`, by resource name. */
function registeredUnder(name: string): string[] {
  return [...created.keys()].filter((resource) => resource.startsWith(`${name}-`)).sort();
}

describe("Identity and auth0.defaultRole", () => {
  it("without a default role, gives the Action only the claim namespace and registers no extra client", async () => {
    for (const settings of [{}, { assignDefaultRole: false }]) {
      const name = `no-default-${Object.keys(settings).length}`;
      const tenant = identity(name, settings);
      assert.deepEqual(await actionSecrets(tenant), [{ name: "CLAIM_NAMESPACE", value: "https://api.example.com" }]);
      assert.equal(tenant.postLoginManagement, undefined);
      assert.ok(!registeredUnder(name).some((resource) => resource.includes("post-login-management")));
    }
  });

  it("with a default role and no assignment, adds DEFAULT_ROLE and no management credentials", async () => {
    for (const [i, settings] of [{ defaultRole: "guest" }, { defaultRole: "super_admin", assignDefaultRole: false }].entries()) {
      const tenant = identity(`token-only-${i}`, settings);
      assert.deepEqual(await actionSecrets(tenant), [
        { name: "CLAIM_NAMESPACE", value: "https://api.example.com" },
        { name: "DEFAULT_ROLE", value: settings.defaultRole },
      ]);
      assert.equal(tenant.postLoginManagement, undefined);
      assert.ok(!registeredUnder(`token-only-${i}`).some((resource) => resource.includes("post-login-management")));
    }
  });

  it("with assignment, gives the Action a client of its own: client credentials only, granted exactly read:roles and create:role_members", async () => {
    const tenant = identity("assigning", { defaultRole: "guest", assignDefaultRole: true });
    assert.ok(tenant.postLoginManagement);
    const client = await created.inputsOf(tenant.postLoginManagement.client);
    assert.equal(client.name, "assigning-post-login-management");
    assert.equal(client.appType, "non_interactive");
    assert.deepEqual(client.grantTypes, ["client_credentials"]);
    assert.equal(client.callbacks, undefined);

    const grant = await created.inputsOf(tenant.postLoginManagement.grant);
    assert.equal(grant.clientId, "mock-client-id-assigning-post-login-management");
    assert.equal(grant.audience, "https://acme.eu.auth0.com/api/v2/");
    assert.deepEqual(grant.scopes, ["read:roles", "create:role_members"]);
    assert.deepEqual(grant.scopes, [...POST_LOGIN_MANAGEMENT_SCOPES]);
    assert.ok(
      !(grant.scopes as string[]).some((scope) => scope.endsWith(":users") || scope.includes("*")),
      "no user-editing scope: create:role_members is the narrower of the two Auth0 accepts for assigning roles",
    );

    const registered = await registeredSecrets(tenant);
    assert.equal(registered.secret, true, "the management client's secret goes to Auth0 as a Pulumi secret");
    assert.deepEqual(registered.secrets, [
      { name: "CLAIM_NAMESPACE", value: "https://api.example.com" },
      { name: "DEFAULT_ROLE", value: "guest" },
      { name: "AUTH0_DOMAIN", value: "acme.eu.auth0.com" },
      { name: "MANAGEMENT_CLIENT_ID", value: "mock-client-id-assigning-post-login-management" },
      { name: "MANAGEMENT_CLIENT_SECRET", value: "mock-client-secret-assigning-post-login-management-credentials" },
    ]);
    // Registered by now: the Action's secrets wait for its output.
    const credentials = created.get("assigning-post-login-management-credentials");
    assert.equal(credentials?.type, "auth0:index/clientCredentials:ClientCredentials");
    assert.equal(credentials.inputs.clientId, "mock-client-id-assigning-post-login-management");
    assert.equal(credentials.inputs.authenticationMethod, "client_secret_post");
  });

  it("keeps the Action's client apart from the user-management client and out of the component's outputs", async () => {
    const tenant = identity("apart", { defaultRole: "guest", assignDefaultRole: true });
    assert.ok(tenant.postLoginManagement);
    assert.notEqual(tenant.postLoginManagement.client, tenant.m2m);
    assert.notEqual(tenant.postLoginManagement.grant, tenant.m2mGrant);
    const secret = "mock-client-secret-apart-post-login-management-credentials";
    const exposed = {
      appEnvironment: await outputValue(tenant.appEnvironment),
      managementEnvironment: await outputValue(tenant.managementEnvironment),
      m2mClientSecret: await outputValue(tenant.m2mClientSecret),
    };
    assert.ok(!JSON.stringify(exposed).includes(secret));
    // The only registered input that holds it is the Action's secrets.
    await registeredSecrets(tenant);
    const holders = registeredUnder("apart").filter((resource) => JSON.stringify(created.get(resource)?.inputs).includes(secret));
    assert.deepEqual(holders, ["apart-post-login"]);
    assert.ok(tenant.postLoginManagement.client instanceof auth0.Client);
  });
});
