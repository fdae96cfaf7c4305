// The Identity component's pure decisions: SPA URL defaults, scopes, the Management API
// audience and tenant domain, URL safety and attack-protection settings.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig } from "../../components/config/schema";
import {
  FORBIDDEN_SPA_GRANTS,
  MANAGEMENT_API_SCOPES,
  SPA_GRANT_TYPES,
  SPA_REFRESH_TOKEN,
  API_TOKEN_LIFETIME_FOR_WEB_S,
  API_TOKEN_LIFETIME_S,
  apiScopes,
  attackProtectionSettings,
  claimNamespace,
  insecureUrlReason,
  managementApiAudience,
  resolveTenantDomain,
  rolesHolding,
  spaUrls,
  webOriginProblems,
} from "../../components/identity/settings";
import { committedValue } from "../support/program";

describe("spaUrls", () => {
  it("defaults every list to the app's https origin", () => {
    assert.deepEqual(spaUrls({}, { api: "api.example.com", app: "app.example.com" }), {
      callbacks: ["https://app.example.com"],
      logoutUrls: ["https://app.example.com"],
      webOrigins: ["https://app.example.com"],
    });
  });

  it("falls back to the API host when the app has no host of its own", () => {
    const urls = spaUrls({}, { api: "api.example.com" });
    assert.deepEqual(urls.callbacks, ["https://api.example.com"]);
    assert.deepEqual(urls.webOrigins, ["https://api.example.com"]);
  });

  it("keeps each configured list and defaults only the others", () => {
    const urls = spaUrls({ callbacks: ["https://app.example.com/callback"] }, { api: "api.example.com", app: "app.example.com" });
    assert.deepEqual(urls.callbacks, ["https://app.example.com/callback"]);
    assert.deepEqual(urls.logoutUrls, ["https://app.example.com"]);
    assert.deepEqual(urls.webOrigins, ["https://app.example.com"]);
  });
});

describe("webOriginProblems", () => {
  it("accepts origins, with or without port", () => {
    assert.deepEqual(webOriginProblems(["https://app.example.com", "https://app.example.com:8443", "https://app.example.com/"]), []);
  });

  it("names the key of an origin that has a path", () => {
    const problems = webOriginProblems(["https://app.example.com", "https://app.example.com/callback"]);
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^dropstack:auth0\.spa\.webOrigins\.1: "https:\/\/app\.example\.com\/callback" is not an origin/);
  });
});

describe("apiScopes and rolesHolding", () => {
  const roles = { super_admin: ["write:users", "read:records"], doctor: ["read:records", "write:records"], guest: [] };

  it("is the sorted union of every role's permissions", () => {
    assert.deepEqual(apiScopes(roles), ["read:records", "write:records", "write:users"]);
  });

  it("is empty when no role has permissions", () => {
    assert.deepEqual(apiScopes({ guest: [] }), []);
  });

  it("lists the roles that hold a permission", () => {
    assert.deepEqual(rolesHolding(roles, "read:records"), ["doctor", "super_admin"]);
    assert.deepEqual(rolesHolding(roles, "write:users"), ["super_admin"]);
  });
});

describe("claimNamespace", () => {
  it("is auth0.claimNamespace when set, else the API identifier", () => {
    assert.equal(
      claimNamespace({ apiIdentifier: "https://api.example.com", claimNamespace: "https://claims.example.com" }),
      "https://claims.example.com",
    );
    assert.equal(claimNamespace({ apiIdentifier: "https://api.example.com" }), "https://api.example.com");
  });
});

describe("tenant domain and Management API audience", () => {
  it("builds the audience from the tenant domain", () => {
    assert.equal(managementApiAudience("acme.eu.auth0.com"), "https://acme.eu.auth0.com/api/v2/");
  });

  it("prefers auth0:domain over AUTH0_DOMAIN", () => {
    assert.deepEqual(resolveTenantDomain("acme.eu.auth0.com", "other.auth0.com"), { ok: true, domain: "acme.eu.auth0.com" });
    assert.deepEqual(resolveTenantDomain(undefined, "Other.Auth0.com"), { ok: true, domain: "other.auth0.com" });
  });

  it("names auth0:domain when it is missing or not a hostname", () => {
    const missing = resolveTenantDomain(undefined, undefined);
    assert.equal(missing.ok, false);
    assert.match(!missing.ok ? missing.problem : "", /^auth0:domain: required when dropstack:auth0 is set/);
    const url = resolveTenantDomain("https://acme.eu.auth0.com/", undefined);
    assert.equal(url.ok, false);
    assert.match(!url.ok ? url.problem : "", /^auth0:domain: expected the tenant's hostname/);
  });
});

describe("insecureUrlReason", () => {
  it("flags plain http and local hosts", () => {
    assert.equal(insecureUrlReason("http://app.example.com/callback"), "uses plain http://");
    assert.equal(insecureUrlReason("HTTP://APP.EXAMPLE.COM"), "uses plain http://");
    assert.equal(insecureUrlReason("https://localhost:3000/callback"), "points at localhost");
    assert.equal(insecureUrlReason("https://dev.localhost"), "points at localhost");
    assert.equal(insecureUrlReason("https://127.0.0.1:8443"), "points at a loopback address");
    assert.equal(insecureUrlReason("https://[::1]:8443/cb"), "points at a loopback address");
    assert.equal(insecureUrlReason("https://user@localhost/cb"), "points at localhost");
  });

  it("accepts https on public hosts, including ones that merely contain 'localhost'", () => {
    assert.equal(insecureUrlReason("https://app.example.com/callback"), undefined);
    assert.equal(insecureUrlReason("https://localhost.example.com"), undefined);
    assert.equal(insecureUrlReason("https://127.example.com"), undefined);
  });

  it("stays valid config: the policy, not config validation, blocks these in production", () => {
    const auth0 = {
      ...committedValue("production", "dropstack:auth0"),
      spa: { callbacks: ["http://localhost:3000/callback"], webOrigins: ["http://127.0.0.1:3000"] },
    };
    const raw = Object.fromEntries(
      [
        "region",
        "domain",
        "manageDns",
        "hosts",
        "adminCidrs",
        "sshPublicKeys",
        "droplet",
        "postgres",
        "redis",
        "app",
        "tls",
        "backups",
        "alerts",
        "observability",
        "proxy",
        "promotion",
      ].map((k) => [k, committedValue("production", `dropstack:${k}`)]),
    );
    const result = parseStackConfig({ ...raw, auth0 }, "production");
    assert.equal(result.ok, true, result.ok ? "" : result.problems.join("\n"));
  });
});

describe("client and token settings", () => {
  it("gives the SPA only the code flow and refresh tokens", () => {
    assert.deepEqual([...SPA_GRANT_TYPES], ["authorization_code", "refresh_token"]);
    for (const grant of FORBIDDEN_SPA_GRANTS) assert.ok(!(SPA_GRANT_TYPES as readonly string[]).includes(grant));
  });

  it("rotates refresh tokens with a finite absolute and idle lifetime", () => {
    assert.equal(SPA_REFRESH_TOKEN.rotationType, "rotating");
    assert.equal(SPA_REFRESH_TOKEN.expirationType, "expiring");
    assert.equal(SPA_REFRESH_TOKEN.infiniteTokenLifetime, false);
    assert.equal(SPA_REFRESH_TOKEN.infiniteIdleTokenLifetime, false);
    assert.ok(SPA_REFRESH_TOKEN.idleTokenLifetime < SPA_REFRESH_TOKEN.tokenLifetime);
  });

  it("keeps the web token lifetime within the API token lifetime, as Auth0 requires", () => {
    assert.ok(API_TOKEN_LIFETIME_FOR_WEB_S <= API_TOKEN_LIFETIME_S);
  });

  it("grants the user-management client no delete or blanket scopes", () => {
    assert.deepEqual([...MANAGEMENT_API_SCOPES], ["read:users", "create:users", "update:users", "read:roles", "create:role_members"]);
    assert.ok(MANAGEMENT_API_SCOPES.every((s) => !s.startsWith("delete:") && !s.includes("client")));
  });
});

describe("attackProtectionSettings", () => {
  it("enables all three protections, blocking", () => {
    const settings = attackProtectionSettings([]);
    for (const protection of [settings.bruteForceProtection, settings.breachedPasswordDetection, settings.suspiciousIpThrottling]) {
      assert.equal(protection.enabled, true);
      assert.ok(protection.shields.includes("block"));
    }
    assert.equal(settings.bruteForceProtection.mode, "count_per_identifier_and_ip");
  });

  it("notifies admins only when alert emails are configured", () => {
    const quiet = attackProtectionSettings([]);
    assert.ok(!quiet.breachedPasswordDetection.shields.includes("admin_notification"));
    assert.ok(!quiet.suspiciousIpThrottling.shields.includes("admin_notification"));
    assert.equal("adminNotificationFrequencies" in quiet.breachedPasswordDetection, false);

    const alerting = attackProtectionSettings(["ops@example.com"]);
    assert.ok(alerting.breachedPasswordDetection.shields.includes("admin_notification"));
    assert.ok(alerting.suspiciousIpThrottling.shields.includes("admin_notification"));
    assert.deepEqual((alerting.breachedPasswordDetection as { adminNotificationFrequencies?: string[] }).adminNotificationFrequencies, [
      "daily",
    ]);
  });
});
