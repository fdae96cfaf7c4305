// The Auth0 tenant the committed production stack declares, under mocks: the API and its
// scopes, roles and their permissions, the SPA and M2M clients, the Management API grants,
// the post-login Action (with its default role and its own management client) and its
// binding, attack protection, and the outputs.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { readPostLoginActionCode } from "../../components/identity/action";
import type { Graph } from "../../tools/check/harness";
import { ROOT, committedValue, runStack } from "../support/program";

const T = {
  api: "auth0:index/resourceServer:ResourceServer",
  scopes: "auth0:index/resourceServerScopes:ResourceServerScopes",
  role: "auth0:index/role:Role",
  rolePermissions: "auth0:index/rolePermissions:RolePermissions",
  client: "auth0:index/client:Client",
  credentials: "auth0:index/clientCredentials:ClientCredentials",
  grant: "auth0:index/clientGrant:ClientGrant",
  action: "auth0:index/action:Action",
  triggerActions: "auth0:index/triggerActions:TriggerActions",
  attackProtection: "auth0:index/attackProtection:AttackProtection",
};

const roles = committedValue<{ roles: Record<string, string[]>; apiIdentifier: string; defaultRole?: string; assignDefaultRole?: boolean }>(
  "production",
  "dropstack:auth0",
);

let graph: Graph;
let outputs: Record<string, unknown>;

before(async () => {
  // Promotion is not under test here: without a staging stack to read, the guard needs the override.
  const promotion = { ...committedValue("production", "dropstack:promotion"), allowUnpromoted: true };
  ({ graph, outputs } = await runStack({ inThisProcess: true, stack: "production", override: { "dropstack:promotion": promotion } }));
});

describe("Identity under mocks (production)", () => {
  it("declares an RS256 API with RBAC and permissions in the access token", () => {
    const api = graph.one(T.api, "-api");
    assert.equal(api.inputs.identifier, "https://api.example.com");
    assert.equal(api.inputs.enforcePolicies, true);
    assert.equal(api.inputs.tokenDialect, "access_token_authz");
    assert.equal(api.inputs.signingAlg, "RS256");
    assert.equal(api.inputs.skipConsentForVerifiableFirstPartyClients, true);
    assert.ok(Number(api.inputs.tokenLifetimeForWeb) <= Number(api.inputs.tokenLifetime));
    assert.equal(graph.one("dropstack:index:Identity").urn, api.parent);
  });

  it("gives the API the union of the roles' permissions, in one scopes resource", () => {
    const scopes = graph.one(T.scopes);
    assert.equal(scopes.inputs.resourceServerIdentifier, "https://api.example.com");
    const names = (scopes.inputs.scopes as { name: string }[]).map((s) => s.name);
    // Sorted, each once, however many roles hold it.
    assert.deepEqual(names, [...new Set(Object.values(roles.roles).flat())].sort());
    assert.deepEqual(names, ["read:prescriptions", "read:records", "read:users", "write:prescriptions", "write:records", "write:users"]);
    assert.ok(graph.dependsOn(scopes, graph.one(T.api, "-api")));
  });

  it("creates every configured role, each with its own permissions on the API", () => {
    assert.deepEqual(
      graph
        .ofType(T.role)
        .map((r) => r.inputs.name)
        .sort(),
      Object.keys(roles.roles).sort(),
    );
    for (const [role, permissions] of Object.entries(roles.roles)) {
      const found = graph.ofType(T.rolePermissions).filter((r) => r.name.endsWith(`-role-${role}-permissions`));
      if (permissions.length === 0) {
        assert.equal(found.length, 0, `${role} has no permissions, so no RolePermissions`);
        continue;
      }
      assert.equal(found.length, 1);
      const granted = found[0].inputs.permissions as { name: string; resourceServerIdentifier: string }[];
      assert.deepEqual(granted.map((p) => p.name).sort(), [...permissions].sort());
      assert.ok(granted.every((p) => p.resourceServerIdentifier === "https://api.example.com"));
      assert.equal(found[0].inputs.roleId, `${graph.one(T.role, `-role-${role}`).name}-id`);
      assert.ok(graph.dependsOn(found[0], graph.one(T.scopes)), `${role}'s permissions wait for the API's scopes`);
    }
  });

  it("makes the SPA a public, OIDC-conformant client with only code and refresh grants", () => {
    const spa = graph.one(T.client, "-spa");
    assert.equal(spa.inputs.appType, "spa");
    assert.equal(spa.inputs.oidcConformant, true);
    assert.deepEqual(spa.inputs.grantTypes, ["authorization_code", "refresh_token"]);
    const refresh = spa.inputs.refreshToken as Record<string, unknown>;
    assert.equal(refresh.rotationType, "rotating");
    assert.equal(refresh.expirationType, "expiring");
    for (const key of ["callbacks", "allowedLogoutUrls", "webOrigins"]) assert.deepEqual(spa.inputs[key], ["https://app.example.com"], key);
    const credentials = graph.one(T.credentials, "-spa-credentials");
    assert.equal(credentials.inputs.authenticationMethod, "none");
    assert.equal(credentials.inputs.clientId, "mock-client-id-dropstack-production-spa");
  });

  it("grants the M2M client the fewest Management API scopes, on the tenant's audience", () => {
    const m2m = graph.one(T.client, "-user-management");
    assert.equal(m2m.inputs.appType, "non_interactive");
    assert.deepEqual(m2m.inputs.grantTypes, ["client_credentials"]);
    const grant = graph.one(T.grant, "-user-management-grant");
    assert.equal(grant.inputs.audience, `https://${committedValue<string>("production", "auth0:domain")}/api/v2/`);
    assert.equal(grant.inputs.clientId, "mock-client-id-dropstack-production-user-management");
    assert.deepEqual(grant.inputs.scopes, ["read:users", "create:users", "update:users", "read:roles", "create:role_members"]);
    assert.ok(graph.dependsOn(grant, m2m));
  });

  it("deploys the post-login Action on node22 with the claim namespace, the default role and its management client's credentials", () => {
    const action = graph.one(T.action, "-post-login");
    assert.equal(action.inputs.code, readPostLoginActionCode());
    assert.equal(action.inputs.runtime, "node22");
    assert.equal(action.inputs.deploy, true);
    assert.deepEqual(action.inputs.supportedTriggers, { id: "post-login", version: "v3" });
    assert.equal(roles.defaultRole, "guest");
    assert.equal(roles.assignDefaultRole, true);
    assert.deepEqual(action.inputs.secrets, [
      { name: "CLAIM_NAMESPACE", value: roles.apiIdentifier },
      { name: "DEFAULT_ROLE", value: "guest" },
      { name: "AUTH0_DOMAIN", value: committedValue<string>("production", "auth0:domain") },
      { name: "MANAGEMENT_CLIENT_ID", value: "mock-client-id-dropstack-production-post-login-management" },
      { name: "MANAGEMENT_CLIENT_SECRET", value: "mock-client-secret-dropstack-production-post-login-management-credentials" },
    ]);
    assert.ok(action.secretInputs.includes("secrets"), "the Action's secrets go to the engine as a secret");
  });

  it("gives the Action a Management API client of its own, granted only what assigning the default role needs", () => {
    const client = graph.one(T.client, "-post-login-management");
    assert.equal(client.inputs.appType, "non_interactive");
    assert.deepEqual(client.inputs.grantTypes, ["client_credentials"]);
    assert.equal(graph.one(T.credentials, "-post-login-management-credentials").inputs.clientId, client.outputs.clientId);
    const grant = graph.one(T.grant, "-post-login-management-grant");
    assert.equal(grant.inputs.clientId, client.outputs.clientId);
    assert.equal(grant.inputs.audience, `https://${committedValue<string>("production", "auth0:domain")}/api/v2/`);
    assert.deepEqual(grant.inputs.scopes, ["read:roles", "create:role_members"]);
    assert.ok(graph.dependsOn(graph.one(T.action, "-post-login"), grant), "the Action is deployed once its client may assign roles");
  });

  it("keeps the Action's client secret in the Action's secrets only: no output, no other resource", () => {
    const secret = String(graph.one(T.credentials, "-post-login-management-credentials").outputs.clientSecret);
    assert.match(secret, /^mock-client-secret-/);
    assert.ok(!JSON.stringify(outputs).includes(secret), "a stack output holds the Action's client secret");
    const holders = graph.registrations.filter((r) => JSON.stringify(r.inputs).includes(secret)).map((r) => r.name);
    assert.deepEqual(holders, [graph.one(T.action, "-post-login").name]);
  });

  it("binds exactly that Action, then the MFA opt-in Action (auth0.mfa optional), to the post-login trigger", () => {
    const action = graph.one(T.action, "-post-login");
    const optIn = graph.one(T.action, "-mfa-opt-in");
    const binding = graph.one(T.triggerActions);
    assert.equal(binding.inputs.trigger, "post-login");
    assert.deepEqual(binding.inputs.actions, [
      { id: `${action.name}-id`, displayName: action.name },
      { id: `${optIn.name}-id`, displayName: optIn.name },
    ]);
    assert.ok(graph.dependsOn(binding, action));
  });

  it("enables all three attack protections and notifies admins (alerts.emails is set)", () => {
    const protection = graph.one(T.attackProtection);
    for (const key of ["bruteForceProtection", "breachedPasswordDetection", "suspiciousIpThrottling"]) {
      assert.equal((protection.inputs[key] as { enabled: boolean }).enabled, true, key);
    }
    assert.ok((protection.inputs.suspiciousIpThrottling as { shields: string[] }).shields.includes("admin_notification"));
  });

  it("exports the app's Auth0 settings and keeps the M2M credentials secret", async () => {
    assert.equal(outputs.auth0Domain, "acme.eu.auth0.com");
    assert.equal(outputs.auth0Audience, "https://api.example.com");
    assert.equal(outputs.auth0SpaClientId, "mock-client-id-dropstack-production-spa");
    assert.equal(outputs.auth0RolesClaim, "https://api.example.com/roles");
    assert.equal(outputs.auth0M2mClientId, "mock-client-id-dropstack-production-user-management");
    assert.equal(outputs.auth0M2mClientSecret, "mock-client-secret-dropstack-production-user-management-credentials");
    // The managed database connection's ID, for users:import --connection-id.
    assert.equal(outputs.auth0DatabaseConnectionId, `${graph.one("auth0:index/connection:Connection", "-database").name}-id`);

    // The program module the harness ran, for the Output objects themselves (secrecy is not in resolved values).
    const program = createRequire(__filename)(path.join(ROOT, "index.ts")) as Record<string, pulumi.Output<unknown>>;
    assert.equal(await pulumi.isSecret(program.auth0M2mClientSecret), true);
    assert.equal(await pulumi.isSecret(program.auth0M2mClientId), true);
    assert.equal(await pulumi.isSecret(program.auth0SpaClientId), false);
  });
});
