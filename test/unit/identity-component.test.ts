// The Identity component on its own under Pulumi mocks, for what the committed stacks do
// not exercise: its output fields, a custom claim namespace, the API-host fallback, a
// roles-without-permissions tenant, and where the tenant domain comes from.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { InvalidConfigError } from "../../components/config";
import { Auth0Settings, Identity, IdentityArgs } from "../../components/identity";
import { outputValue, recordResources } from "../support/pulumi-mocks";

before(() => {
  delete process.env.AUTH0_DOMAIN;
});
const created = recordResources();

const AUTH0: Auth0Settings = {
  apiIdentifier: "https://api.example.com",
  roles: { super_admin: ["read:users", "write:users"], pharmacist: ["read:prescriptions"], guest: [] },
  spa: {},
};

function identity(name: string, overrides: Partial<IdentityArgs> = {}): Identity {
  return new Identity(name, {
    auth0: AUTH0,
    hosts: { api: "api.example.com", app: "app.example.com" },
    alertEmails: [],
    domain: "acme.eu.auth0.com",
    ...overrides,
  });
}

describe("Identity outputs", () => {
  it("gives the app its Auth0 environment, in the clear", async () => {
    const tenant = identity("outputs");
    assert.deepEqual(await outputValue(tenant.appEnvironment), {
      AUTH0_DOMAIN: "acme.eu.auth0.com",
      AUTH0_AUDIENCE: "https://api.example.com",
      AUTH0_CLIENT_ID: "mock-client-id-outputs-spa",
      AUTH0_ROLES_CLAIM: "https://api.example.com/roles",
    });
    assert.equal(await pulumi.isSecret(tenant.appEnvironment), false);
    assert.equal(await outputValue(tenant.spaClientId), "mock-client-id-outputs-spa");
    assert.equal(await outputValue(tenant.audience), "https://api.example.com");
    assert.equal(await outputValue(tenant.domain), "acme.eu.auth0.com");
  });

  it("keeps the user-management credentials secret", async () => {
    const tenant = identity("secrets");
    assert.equal(await pulumi.isSecret(tenant.m2mClientSecret), true);
    assert.equal(await pulumi.isSecret(tenant.m2mClientId), true);
    assert.equal(await pulumi.isSecret(tenant.managementEnvironment), true);
    assert.deepEqual(await outputValue(tenant.managementEnvironment), {
      AUTH0_DOMAIN: "acme.eu.auth0.com",
      AUTH0_MANAGEMENT_CLIENT_ID: "mock-client-id-secrets-user-management",
      AUTH0_MANAGEMENT_CLIENT_SECRET: "mock-client-secret-secrets-user-management-credentials",
    });
  });
});

describe("Identity resources", () => {
  it("uses auth0.claimNamespace for the Action secret and the roles claim when set", async () => {
    const tenant = identity("namespace", { auth0: { ...AUTH0, claimNamespace: "https://claims.example.com/" } });
    assert.deepEqual((await created.inputsOf(tenant.postLogin)).secrets, [
      { name: "CLAIM_NAMESPACE", value: "https://claims.example.com/" },
    ]);
    assert.equal(tenant.rolesClaim, "https://claims.example.com/roles");
  });

  it("points the SPA at the API host when there is no app host, and uses configured lists as given", async () => {
    const tenant = identity("api-host", {
      hosts: { api: "api.example.com" },
      auth0: { ...AUTH0, spa: { callbacks: ["https://api.example.com/callback"] } },
    });
    const spa = await created.inputsOf(tenant.spa);
    assert.deepEqual(spa.callbacks, ["https://api.example.com/callback"]);
    assert.deepEqual(spa.allowedLogoutUrls, ["https://api.example.com"]);
    assert.deepEqual(spa.webOrigins, ["https://api.example.com"]);
  });

  it("turns admin notifications on only with alert emails", async () => {
    const quiet = await created.inputsOf(identity("quiet").attackProtection);
    assert.ok(!(quiet.suspiciousIpThrottling as { shields: string[] }).shields.includes("admin_notification"));
    const alerting = await created.inputsOf(identity("alerting", { alertEmails: ["ops@example.com"] }).attackProtection);
    assert.ok((alerting.breachedPasswordDetection as { shields: string[] }).shields.includes("admin_notification"));
  });

  it("gives roles without permissions no RolePermissions, and skips scopes when no role has any", async () => {
    const some = identity("some-permissions");
    assert.deepEqual(Object.keys(some.roles).sort(), ["guest", "pharmacist", "super_admin"]);
    assert.deepEqual(Object.keys(some.rolePermissions).sort(), ["pharmacist", "super_admin"]);
    assert.ok(some.scopes);
    assert.deepEqual((await created.inputsOf(some.scopes)).scopes, [
      { name: "read:prescriptions", description: "Held by pharmacist" },
      { name: "read:users", description: "Held by super_admin" },
      { name: "write:users", description: "Held by super_admin" },
    ]);

    const none = identity("no-permissions", { auth0: { ...AUTH0, roles: { guest: [] } } });
    assert.equal(none.scopes, undefined);
    assert.deepEqual(none.rolePermissions, {});
    assert.equal((await created.inputsOf(none.roles.guest)).name, "guest");
  });
});

describe("Identity tenant domain", () => {
  it("reads auth0:domain, then AUTH0_DOMAIN, for the Management API audience", async () => {
    pulumi.runtime.setConfig("auth0:domain", "from-config.eu.auth0.com");
    process.env.AUTH0_DOMAIN = "from-env.eu.auth0.com";
    try {
      const fromConfig = identity("domain-config", { domain: undefined });
      assert.equal((await created.inputsOf(fromConfig.m2mGrant)).audience, "https://from-config.eu.auth0.com/api/v2/");
      pulumi.runtime.setConfig("auth0:domain", "");
      const fromEnv = identity("domain-env", { domain: undefined });
      assert.equal((await created.inputsOf(fromEnv.m2mGrant)).audience, "https://from-env.eu.auth0.com/api/v2/");
    } finally {
      delete process.env.AUTH0_DOMAIN;
    }
  });

  it("fails as invalid config, naming auth0:domain, when neither is set", () => {
    assert.throws(
      () => identity("no-domain", { domain: undefined }),
      (e: unknown) => {
        assert.ok(e instanceof InvalidConfigError);
        assert.match(e.message, /auth0:domain: required when dropstack:auth0 is set/);
        return true;
      },
    );
  });

  it("fails as invalid config when a web origin has a path", () => {
    assert.throws(
      () => identity("bad-origin", { auth0: { ...AUTH0, spa: { webOrigins: ["https://app.example.com/callback"] } } }),
      /dropstack:auth0\.spa\.webOrigins\.0: .* is not an origin/,
    );
  });
});
