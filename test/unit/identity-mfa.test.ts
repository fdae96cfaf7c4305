// The Identity component under mocks for each auth0.mfa policy and for connection sets the
// committed stacks do not have: the Guardian it registers, whether the opt-in Action exists
// and is bound, and which connections and enabled-client owners appear (the SPA alone when
// Grafana does not sign in here).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { Auth0Settings, Identity } from "../../components/identity";
import { MFA_FACTORS, MFA_POLICIES, guardianSettings, type MfaPolicy } from "../../components/identity/settings";
import { outputValue, recordResources } from "../support/pulumi-mocks";

before(() => {
  delete process.env.AUTH0_DOMAIN;
});
const created = recordResources();

const AUTH0: Auth0Settings = { apiIdentifier: "https://api.example.com", roles: { admin: ["read:all"] }, spa: {} };

function identity(name: string, auth0: Partial<Auth0Settings>): Identity {
  return new Identity(name, {
    auth0: { ...AUTH0, ...auth0 },
    hosts: { api: "api.example.com", app: "app.example.com" },
    alertEmails: [],
    domain: "acme.eu.auth0.com",
  });
}

/** Names of the resources registered under a component name prefix, by type. */
function registered(prefix: string, type: string): string[] {
  return [...created.values()]
    .filter((r) => r.type === type && r.name.startsWith(`${prefix}-`))
    .map((r) => r.name)
    .sort();
}

describe("Identity MFA per policy", () => {
  it("registers the Guardian for every policy and factor set, with the opt-in Action bound only for optional", async () => {
    const factorSets = [["otp"], ["webauthn-roaming", "webauthn-platform", "recovery-code"], ["push", "email"], [...MFA_FACTORS]];
    for (const policy of MFA_POLICIES)
      for (const [i, factors] of (policy === "off" ? [[]] : factorSets).entries()) {
        const name = `mfa-${policy}-${i}`;
        const mfa = { policy, factors } as Auth0Settings["mfa"];
        const tenant = identity(name, { mfa });
        assert.deepEqual(await created.inputsOf(tenant.guardian), guardianSettings(mfa), name);
        const flow = (await created.inputsOf(tenant.postLoginBinding)).actions as { displayName: string }[];
        if (policy === "optional") {
          assert.ok(tenant.mfaOptIn);
          assert.equal((await created.inputsOf(tenant.mfaOptIn)).name, `${name}-mfa-opt-in`);
          assert.deepEqual(
            flow.map((a) => a.displayName),
            [`${name}-post-login`, `${name}-mfa-opt-in`],
          );
        } else {
          assert.equal(tenant.mfaOptIn, undefined, name);
          assert.deepEqual(registered(name, "auth0:index/action:Action"), [`${name}-post-login`]);
          assert.deepEqual(
            flow.map((a) => a.displayName),
            [`${name}-post-login`],
          );
        }
      }
  });

  it("defaults to optional with otp when auth0.mfa is unset", async () => {
    const tenant = identity("mfa-default", {});
    const guardian = await created.inputsOf(tenant.guardian);
    assert.equal(guardian.policy, "never");
    assert.equal(guardian.otp, true);
    assert.ok(tenant.mfaOptIn);
  });

  it("enforces MFA through Guardian alone when required, with a primary factor on", async () => {
    const guardian = await created.inputsOf(identity("mfa-required-alone", { mfa: { policy: "required" as MfaPolicy } }).guardian);
    assert.equal(guardian.policy, "all-applications");
    assert.equal(guardian.otp, true);
  });
});

describe("Identity connections without Grafana", () => {
  it("registers no connection and no owner when auth0.connections is unset", async () => {
    const tenant = identity("no-connections", {});
    await outputValue(tenant.spaClientId);
    assert.equal(tenant.databaseConnection, undefined);
    assert.deepEqual(tenant.socialConnections, {});
    assert.deepEqual(tenant.connectionClients, []);
    assert.deepEqual(registered("no-connections", "auth0:index/connection:Connection"), []);
  });

  it("enables each configured connection for the SPA alone", async () => {
    const sets: [string, NonNullable<Auth0Settings["connections"]>][] = [
      [
        "database-only",
        {
          database: {
            name: "users",
            password: { policy: "excellent", minLength: 16, history: 0, noPersonalInfo: false, dictionary: true },
            disableSignup: true,
            requiresUsername: true,
          },
        },
      ],
      ["github-only", { github: { clientId: "gh", clientSecret: "gh-secret" } }],
      ["both-social", { google: { clientId: "g", clientSecret: "g-secret" }, github: { clientId: "gh", clientSecret: "gh-secret" } }],
    ];
    for (const [name, connections] of sets) {
      const tenant = identity(name, { connections });
      const spaClientId = await outputValue(tenant.spaClientId);
      const expected = Object.keys(connections).sort();
      assert.deepEqual(registered(name, "auth0:index/connection:Connection"), expected.map((k) => `${name}-connection-${k}`).sort());
      assert.equal(tenant.connectionClients.length, expected.length);
      for (const owner of tenant.connectionClients) assert.deepEqual((await created.inputsOf(owner)).enabledClients, [spaClientId], name);
      for (const social of Object.values(tenant.socialConnections)) assert.equal(await pulumi.isSecret(social.options), true, name);
    }
    const withDatabase = identity("database-options", { connections: sets[0][1] });
    assert.ok(withDatabase.databaseConnection);
    const database = (await created.inputsOf(withDatabase.databaseConnection)).options as Record<string, unknown>;
    assert.equal(database.passwordPolicy, "excellent");
    assert.deepEqual(database.passwordHistories, [{ enable: false, size: 0 }]);
    assert.equal(database.disableSignup, true);
    assert.equal(database.requiresUsername, true);
  });
});
