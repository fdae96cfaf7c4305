// Auth0 policies' full messages, field by field: every client URL list with the config key it
// comes from, every attack protection with its label, the token dialect as set (or "unset");
// and every non-SPA application type left to its own grants, whatever they are.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as auth0 from "@pulumi/auth0";
import { insecureUrlReason } from "../../components/identity/settings";
import {
  auth0ApiRbacEnforced,
  auth0AttackProtectionEnabled,
  auth0ClientNoInsecureUrls,
  auth0SpaNoPasswordOrImplicitGrant,
} from "../../policies/identity";
import { resourceViolations, typeOf } from "../support/policy";

const CLIENT = typeOf(auth0.Client);

describe("auth0-client-no-insecure-urls messages", () => {
  it("names the list and where the stack sets it, for every client URL list", async () => {
    for (const [property, source] of [
      ["callbacks", "dropstack:auth0.spa.callbacks"],
      ["allowedLogoutUrls", "dropstack:auth0.spa.logoutUrls"],
      ["webOrigins", "dropstack:auth0.spa.webOrigins"],
      ["allowedOrigins", "the client's allowedOrigins"],
    ]) {
      for (const url of ["http://app.example.com", "https://localhost:3000", "https://127.0.0.1"]) {
        const reason = insecureUrlReason(url);
        assert.ok(reason, url);
        assert.deepEqual(
          await resourceViolations(auth0ClientNoInsecureUrls, { type: CLIENT, name: "spa", props: { [property]: [url] } }),
          [`client spa allows ${property} "${url}", which ${reason}: remove it from ${source} (use https:// on a public host)`],
          `${property} ${url}`,
        );
      }
    }
  });
});

describe("auth0-spa-no-password-or-implicit-grant on other application types", () => {
  it("leaves regular web, machine-to-machine and native clients to their own grants, set or not", async () => {
    for (const appType of ["regular_web", "non_interactive", "native", undefined]) {
      for (const grantTypes of [undefined, ["password"], ["implicit", "http://auth0.com/oauth/grant-type/password-realm"]]) {
        const props: Record<string, unknown> = { appType };
        if (grantTypes) props.grantTypes = grantTypes;
        assert.deepEqual(
          await resourceViolations(auth0SpaNoPasswordOrImplicitGrant, { type: CLIENT, name: "other", props }),
          [],
          JSON.stringify(props),
        );
      }
    }
  });
});

describe("auth0-api-rbac-enforced token dialect message", () => {
  it("says the dialect is unset, or quotes the one set", async () => {
    for (const [tokenDialect, shown] of [
      [undefined, "unset"],
      ["access_token", '"access_token"'],
      ["", '""'],
      [null, '"null"'],
    ] as const) {
      assert.deepEqual(
        await resourceViolations(auth0ApiRbacEnforced, {
          type: typeOf(auth0.ResourceServer),
          name: "api",
          props: { enforcePolicies: true, tokenDialect },
        }),
        [`API api issues tokens without a permissions claim (tokenDialect ${shown}): set tokenDialect to "access_token_authz"`],
        String(tokenDialect),
      );
    }
  });
});

describe("auth0-attack-protection-enabled messages", () => {
  it("names each protection that is off by its label and property", async () => {
    const protections = [
      ["bruteForceProtection", "brute-force protection"],
      ["breachedPasswordDetection", "breached-password detection"],
      ["suspiciousIpThrottling", "suspicious-IP throttling"],
    ];
    for (const [off, label] of protections) {
      const props = Object.fromEntries(protections.map(([property]) => [property, { enabled: property !== off }]));
      assert.deepEqual(
        await resourceViolations(auth0AttackProtectionEnabled, { type: typeOf(auth0.AttackProtection), name: "tenant", props }),
        [`tenant has ${label} off: set ${off}.enabled to true (attackProtectionSettings in components/identity/settings.ts)`],
        off,
      );
    }
  });
});
