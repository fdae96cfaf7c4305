// Each Auth0 policy with a violating and a compliant resource, called as the analyzer would.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as auth0 from "@pulumi/auth0";
import * as digitalocean from "@pulumi/digitalocean";
import { attackProtectionSettings } from "../../components/identity/settings";
import {
  auth0ActionCurrentRuntime,
  auth0ApiRbacEnforced,
  auth0AttackProtectionEnabled,
  auth0AttackProtectionPresent,
  auth0ClientNoInsecureUrls,
  auth0SpaNoPasswordOrImplicitGrant,
} from "../../policies/identity";
import { policies } from "../../policies/all";
import { resourceViolations, stackViolations, typeOf } from "../support/policy";

// Type tokens from the SDK classes, not the policy's own constants, so a policy that names the wrong type fails.
const TYPES = {
  client: typeOf(auth0.Client),
  action: typeOf(auth0.Action),
  resourceServer: typeOf(auth0.ResourceServer),
  attackProtection: typeOf(auth0.AttackProtection),
};

const SPA = {
  appType: "spa",
  grantTypes: ["authorization_code", "refresh_token"],
  callbacks: ["https://app.example.com"],
  allowedLogoutUrls: ["https://app.example.com"],
  webOrigins: ["https://app.example.com"],
};

const client = (props: Record<string, unknown>) => ({ type: TYPES.client, name: "dropstack-production-spa", props });

describe("auth0-client-no-insecure-urls", () => {
  it("passes https URLs on public hosts", async () => {
    assert.deepEqual(await resourceViolations(auth0ClientNoInsecureUrls, client(SPA)), []);
  });

  it("names the config key of a localhost http callback", async () => {
    const violations = await resourceViolations(
      auth0ClientNoInsecureUrls,
      client({ ...SPA, callbacks: ["http://localhost:3000/callback"] }),
    );
    assert.equal(violations.length, 1);
    assert.match(
      violations[0],
      /callbacks "http:\/\/localhost:3000\/callback", which uses plain http:\/\/: remove it from dropstack:auth0\.spa\.callbacks/,
    );
  });

  it("flags loopback logout URLs, web origins and allowed origins too", async () => {
    const violations = await resourceViolations(
      auth0ClientNoInsecureUrls,
      client({
        ...SPA,
        allowedLogoutUrls: ["https://127.0.0.1:8443"],
        webOrigins: ["https://localhost:5173"],
        allowedOrigins: ["http://app.example.com"],
      }),
    );
    assert.equal(violations.length, 3);
    assert.match(violations.join("\n"), /dropstack:auth0\.spa\.logoutUrls/);
    assert.match(violations.join("\n"), /dropstack:auth0\.spa\.webOrigins/);
    assert.match(violations.join("\n"), /allowedOrigins "http:\/\/app\.example\.com"/);
  });

  it("ignores other resource types", async () => {
    assert.deepEqual(
      await resourceViolations(auth0ClientNoInsecureUrls, { type: TYPES.action, props: { callbacks: ["http://localhost"] } }),
      [],
    );
  });
});

describe("auth0-spa-no-password-or-implicit-grant", () => {
  it("passes the code flow with refresh tokens", async () => {
    assert.deepEqual(await resourceViolations(auth0SpaNoPasswordOrImplicitGrant, client(SPA)), []);
  });

  it("flags implicit, password and password-realm grants", async () => {
    const violations = await resourceViolations(
      auth0SpaNoPasswordOrImplicitGrant,
      client({
        ...SPA,
        grantTypes: ["authorization_code", "implicit", "password", "http://auth0.com/oauth/grant-type/password-realm"],
      }),
    );
    assert.equal(violations.length, 1);
    assert.match(violations[0], /allows the implicit, password, http:\/\/auth0\.com\/oauth\/grant-type\/password-realm grants/);
  });

  it("names a single forbidden grant in the singular", async () => {
    for (const grant of ["implicit", "password"]) {
      const violations = await resourceViolations(
        auth0SpaNoPasswordOrImplicitGrant,
        client({ ...SPA, grantTypes: ["authorization_code", grant] }),
      );
      assert.equal(violations.length, 1, grant);
      assert.match(violations[0], new RegExp(`allows the ${grant} grant: keep grantTypes`));
    }
  });

  it("flags an SPA with grantTypes unset, since Auth0 then enables implicit", async () => {
    const unset: Record<string, unknown> = { ...SPA };
    delete unset.grantTypes;
    const violations = await resourceViolations(auth0SpaNoPasswordOrImplicitGrant, client(unset));
    assert.equal(violations.length, 1);
    assert.match(violations[0], /leaves grantTypes unset/);
  });

  it("leaves non-SPA clients to their own grants", async () => {
    assert.deepEqual(
      await resourceViolations(
        auth0SpaNoPasswordOrImplicitGrant,
        client({ appType: "non_interactive", grantTypes: ["client_credentials"] }),
      ),
      [],
    );
  });
});

describe("auth0-action-current-runtime", () => {
  const action = (props: Record<string, unknown>) => ({ type: TYPES.action, name: "dropstack-production-post-login", props });

  it("passes node22", async () => {
    assert.deepEqual(
      await resourceViolations(
        auth0ActionCurrentRuntime,
        action({ runtime: "node22", code: "exports.onExecutePostLogin = async () => {}" }),
      ),
      [],
    );
  });

  it("flags node18 and an unset runtime", async () => {
    assert.match(
      (await resourceViolations(auth0ActionCurrentRuntime, action({ runtime: "node18" })))[0],
      /runs on "node18": set runtime to "node22"/,
    );
    assert.match((await resourceViolations(auth0ActionCurrentRuntime, action({})))[0], /runs on the provider's default runtime/);
  });
});

describe("auth0-api-rbac-enforced", () => {
  const api = (props: Record<string, unknown>) => ({ type: TYPES.resourceServer, name: "dropstack-production-api", props });

  it("passes RBAC with permissions in the access token", async () => {
    assert.deepEqual(
      await resourceViolations(auth0ApiRbacEnforced, api({ enforcePolicies: true, tokenDialect: "access_token_authz" })),
      [],
    );
    assert.deepEqual(
      await resourceViolations(auth0ApiRbacEnforced, api({ enforcePolicies: true, tokenDialect: "rfc9068_profile_authz" })),
      [],
    );
  });

  it("flags RBAC off and a dialect without permissions", async () => {
    const violations = await resourceViolations(auth0ApiRbacEnforced, api({ enforcePolicies: false, tokenDialect: "access_token" }));
    assert.equal(violations.length, 2);
    assert.match(violations[0], /RBAC off: set enforcePolicies: true/);
    assert.match(violations[1], /tokenDialect "access_token"\): set tokenDialect to "access_token_authz"/);
  });
});

describe("auth0-attack-protection-enabled", () => {
  const protection = (props: Record<string, unknown>) => ({
    type: TYPES.attackProtection,
    name: "dropstack-production-attack-protection",
    props,
  });

  it("passes the component's settings", async () => {
    assert.deepEqual(await resourceViolations(auth0AttackProtectionEnabled, protection(attackProtectionSettings(["ops@example.com"]))), []);
  });

  it("names each protection that is off or missing", async () => {
    const violations = await resourceViolations(
      auth0AttackProtectionEnabled,
      protection({
        bruteForceProtection: { enabled: false, mode: "count_per_identifier_and_ip" },
        breachedPasswordDetection: { enabled: true },
      }),
    );
    assert.equal(violations.length, 2);
    assert.match(violations[0], /brute-force protection off: set bruteForceProtection\.enabled to true/);
    assert.match(violations[1], /suspicious-IP throttling off: set suspiciousIpThrottling\.enabled to true/);
  });
});

describe("auth0-attack-protection-present", () => {
  it("passes a tenant that declares attack protection", async () => {
    assert.deepEqual(
      await stackViolations(auth0AttackProtectionPresent, [
        { type: TYPES.client, name: "spa", props: SPA },
        { type: TYPES.attackProtection, name: "ap", props: attackProtectionSettings([]) },
      ]),
      [],
    );
  });

  it("passes a stack without Auth0 resources", async () => {
    assert.deepEqual(
      await stackViolations(auth0AttackProtectionPresent, [{ type: typeOf(digitalocean.Droplet), name: "d", props: {} }]),
      [],
    );
  });

  it("flags Auth0 resources without attack protection", async () => {
    const violations = await stackViolations(auth0AttackProtectionPresent, [
      { type: TYPES.client, name: "spa", props: SPA },
      { type: TYPES.resourceServer, name: "api", props: {} },
    ]);
    assert.equal(violations.length, 1);
    assert.match(violations[0], /manages 2 Auth0 resource\(s\) but no auth0\.AttackProtection/);
  });
});

describe("policy pack registry", () => {
  it("registers every identity policy in the pack", () => {
    const names = policies.map((p) => p.name);
    for (const name of [
      "auth0-client-no-insecure-urls",
      "auth0-spa-no-password-or-implicit-grant",
      "auth0-action-current-runtime",
      "auth0-api-rbac-enforced",
      "auth0-attack-protection-enabled",
      "auth0-attack-protection-present",
    ])
      assert.ok(names.includes(name), `${name} is not in policies/all.ts`);
  });
});
