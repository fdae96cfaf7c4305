// The pure decisions behind auth0.connections and auth0.mfa, and the config keys that feed
// them: the database connection's options, social connections' options, the Guardian
// arguments per MFA policy and factor set, and what the schema accepts, defaults and refuses.
// Cases are generated per class: every password level and length bound, every factor subset,
// every policy, both stacks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig } from "../../components/config/schema";
import {
  DEFAULT_MFA,
  DEFAULT_SOCIAL_SCOPES,
  MFA_FACTORS,
  MFA_POLICIES,
  PASSWORD_POLICIES,
  PRIMARY_MFA_FACTORS,
  PRODUCTION_PASSWORD_FLOOR,
  SOCIAL_STRATEGIES,
  type DatabaseConnectionSettings,
  type MfaFactor,
  type SocialProvider,
  attackProtectionSettings,
  databaseConnectionOptions,
  guardianSettings,
  mfaProblems,
  needsMfaOptInAction,
  passwordPolicyAtLeast,
  resolveMfa,
  socialConnectionOptions,
} from "../../components/identity/settings";
import { plaintextSecrets } from "../../policies/secrets";
import { minimalConfig } from "../support/config";

/** Every subset of a list, the empty one included. */
function subsets<T>(items: readonly T[]): T[][] {
  return items.reduce<T[][]>((all, item) => all.concat(all.map((s) => [...s, item])), [[]]);
}

const database = (overrides: Partial<DatabaseConnectionSettings["password"]> = {}): DatabaseConnectionSettings => ({
  name: "dropstack-users",
  password: { policy: "good", minLength: 12, history: 5, noPersonalInfo: true, dictionary: true, ...overrides },
  disableSignup: false,
  requiresUsername: false,
});

describe("passwordPolicyAtLeast", () => {
  it("orders Auth0's levels none < low < fair < good < excellent, for every pair", () => {
    for (const [i, level] of PASSWORD_POLICIES.entries())
      for (const [j, floor] of PASSWORD_POLICIES.entries())
        assert.equal(passwordPolicyAtLeast(level, floor), i >= j, `${level} vs ${floor}`);
  });

  it("is false for anything that is not a level", () => {
    for (const value of [undefined, null, "", "GOOD", "strong", 3, true, ["good"], { policy: "good" }])
      assert.equal(passwordPolicyAtLeast(value, "none"), false, JSON.stringify(value));
  });
});

describe("databaseConnectionOptions", () => {
  it("states every password setting as configured, for every level and across the length and history bounds", () => {
    for (const policy of PASSWORD_POLICIES)
      for (const minLength of [1, 8, 10, 12, 64, 128])
        for (const history of [0, 1, 5, 24])
          for (const flag of [true, false]) {
            const options = databaseConnectionOptions(database({ policy, minLength, history, noPersonalInfo: flag, dictionary: !flag }));
            assert.equal(options.passwordPolicy, policy);
            assert.deepEqual(options.passwordComplexityOptions, { minLength });
            assert.deepEqual(options.passwordHistories, [{ enable: history > 0, size: history }]);
            assert.deepEqual(options.passwordNoPersonalInfo, { enable: flag });
            assert.deepEqual(options.passwordDictionary, { enable: !flag });
          }
  });

  it("always turns brute-force protection on, and passes signup and username settings through", () => {
    for (const disableSignup of [true, false])
      for (const requiresUsername of [true, false]) {
        const options = databaseConnectionOptions({ ...database(), disableSignup, requiresUsername });
        assert.equal(options.bruteForceProtection, true);
        assert.equal(options.disableSignup, disableSignup);
        assert.equal(options.requiresUsername, requiresUsername);
      }
  });

  it("relies on the tenant's attack protection for breached passwords and lockouts, which stays on", () => {
    for (const emails of [[], ["ops@example.com"]]) {
      const protection = attackProtectionSettings(emails);
      assert.equal(protection.breachedPasswordDetection.enabled, true);
      assert.ok(protection.breachedPasswordDetection.shields.includes("block"));
      // Signups with a breached password are refused too, not only logins.
      assert.deepEqual(protection.breachedPasswordDetection.preUserRegistration.shields, ["block"]);
      assert.equal(protection.bruteForceProtection.enabled, true);
      assert.ok(protection.bruteForceProtection.shields.includes("block"));
    }
  });
});

describe("socialConnectionOptions", () => {
  it("asks only for the default scopes when none are configured, and copies configured ones", () => {
    for (const provider of Object.keys(SOCIAL_STRATEGIES) as SocialProvider[]) {
      const defaults = socialConnectionOptions(provider, { clientId: "id-1" });
      assert.deepEqual(defaults, { clientId: "id-1", scopes: [...DEFAULT_SOCIAL_SCOPES[provider]] });
      assert.ok(defaults.scopes.includes("email"), `${provider} asks for the email`);
      defaults.scopes.push("changed");
      assert.ok(!DEFAULT_SOCIAL_SCOPES[provider].includes("changed"), "the defaults are not shared");
      const scopes = ["email", "read_user"];
      const configured = socialConnectionOptions(provider, { clientId: "id-2", scopes });
      assert.deepEqual(configured.scopes, scopes);
      assert.notEqual(configured.scopes, scopes);
    }
  });

  it("never carries the client secret", () => {
    const options = socialConnectionOptions("google", { clientId: "id", clientSecret: "s3cr3t" } as never);
    assert.deepEqual(Object.keys(options).sort(), ["clientId", "scopes"]);
  });
});

describe("resolveMfa and mfaProblems", () => {
  it("defaults to optional with otp, and to no factor when the policy is off", () => {
    assert.deepEqual(resolveMfa(undefined), DEFAULT_MFA);
    assert.deepEqual(resolveMfa({}), { policy: "optional", factors: ["otp"] });
    assert.deepEqual(resolveMfa({ policy: "off" }), { policy: "off", factors: [] });
    assert.deepEqual(resolveMfa({ policy: "required" }), { policy: "required", factors: ["otp"] });
    assert.deepEqual(resolveMfa({ factors: ["push"] }), { policy: "optional", factors: ["push"] });
  });

  it("accepts a factor set under optional and required exactly when it holds a primary factor, and only none under off", () => {
    for (const factors of subsets(MFA_FACTORS)) {
      const primary = factors.some((f) => (PRIMARY_MFA_FACTORS as readonly string[]).includes(f));
      for (const policy of MFA_POLICIES) {
        const problems = mfaProblems({ policy, factors });
        const usable = policy === "off" ? factors.length === 0 : primary;
        assert.equal(problems.length === 0, usable, `${policy} ${factors.join(",")}: ${JSON.stringify(problems)}`);
        for (const problem of problems) assert.equal(problem.key, "factors");
      }
    }
  });

  it("says why: fallbacks alone, factors under off, and repeats", () => {
    assert.match(
      mfaProblems({ policy: "required", factors: ["email", "recovery-code"] })[0].message,
      /offers email and recovery-code only beside one of them/,
    );
    assert.match(mfaProblems({ policy: "optional", factors: [] })[0].message, /^policy "optional" needs one of otp, webauthn-roaming/);
    assert.match(
      mfaProblems({ policy: "off", factors: ["otp", "otp"] })
        .map((p) => p.message)
        .join("\n"),
      /lists otp more than once[\s\S]*uses no factor, got otp:/,
    );
  });
});

describe("guardianSettings", () => {
  it("states every factor, on exactly when listed, for every factor subset and policy", () => {
    for (const factors of subsets(MFA_FACTORS))
      for (const policy of MFA_POLICIES) {
        const guardian = guardianSettings({ policy, factors });
        const on = (f: MfaFactor) => factors.includes(f);
        assert.equal(guardian.policy, policy === "required" ? "all-applications" : "never");
        assert.equal(guardian.otp, on("otp"));
        assert.equal(guardian.email, on("email"));
        assert.equal(guardian.recoveryCode, on("recovery-code"));
        assert.deepEqual(guardian.webauthnRoaming, { enabled: on("webauthn-roaming") });
        assert.deepEqual(guardian.webauthnPlatform, { enabled: on("webauthn-platform") });
        assert.deepEqual(guardian.push, on("push") ? { enabled: true, provider: "guardian" } : { enabled: false });
        // Factors that need a provider dropstack does not configure are stated off.
        assert.deepEqual(guardian.phone, { enabled: false });
        assert.deepEqual(guardian.duo, { enabled: false });
      }
  });

  it("defaults like resolveMfa, and needs the opt-in Action only for optional", () => {
    assert.deepEqual(guardianSettings(undefined), guardianSettings({ policy: "optional", factors: ["otp"] }));
    assert.equal(guardianSettings({ policy: "off" }).otp, false);
    assert.equal(needsMfaOptInAction(undefined), true);
    for (const policy of MFA_POLICIES) assert.equal(needsMfaOptInAction({ policy }), policy === "optional", policy);
  });
});

/** The smallest config for the stack with `auth0` set as given. */
function withAuth0(auth0: Record<string, unknown>, stack: "staging" | "production") {
  const raw: Record<string, unknown> = { ...minimalConfig(), auth0: { apiIdentifier: "https://api.example.com", ...auth0 } };
  if (stack === "production")
    Object.assign(raw, {
      adminCidrs: ["198.51.100.0/24"],
      backups: { offsite: true },
      promotion: { stagingStack: "acme/dropstack/staging" },
    });
  return parseStackConfig(raw, stack);
}

function problems(auth0: Record<string, unknown>, stack: "staging" | "production" = "staging"): string[] {
  const result = withAuth0(auth0, stack);
  return result.ok ? [] : result.problems;
}

describe("config: auth0.connections", () => {
  it("leaves connections and mfa unset unless configured", () => {
    const result = withAuth0({}, "staging");
    assert.ok(result.ok);
    assert.equal(result.config.auth0?.connections, undefined);
    assert.equal(result.config.auth0?.mfa, undefined);
  });

  it("defaults the database connection, with production's stronger password policy", () => {
    for (const stack of ["staging", "production"] as const) {
      const result = withAuth0({ connections: { database: {} } }, stack);
      assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
      assert.deepEqual(result.config.auth0?.connections?.database, {
        name: "dropstack-users",
        password: { policy: stack === "production" ? "good" : "fair", minLength: 12, history: 5, noPersonalInfo: true, dictionary: true },
        disableSignup: false,
        requiresUsername: false,
      });
    }
  });

  it("makes the production default pass the production floor", () => {
    const result = withAuth0({ connections: { database: {} } }, "production");
    assert.ok(result.ok);
    const password = result.config.auth0?.connections?.database?.password;
    assert.ok(password && passwordPolicyAtLeast(password.policy, PRODUCTION_PASSWORD_FLOOR.policy));
    assert.ok(password.minLength >= PRODUCTION_PASSWORD_FLOOR.minLength);
  });

  it("accepts every level and the bounds of length and history, and refuses past them, naming the key", () => {
    for (const policy of PASSWORD_POLICIES) assert.deepEqual(problems({ connections: { database: { password: { policy } } } }), []);
    const at = (key: string) => `dropstack:auth0.connections.database.password.${key}`;
    for (const minLength of [1, 128]) assert.deepEqual(problems({ connections: { database: { password: { minLength } } } }), []);
    for (const minLength of [0, 129, 12.5, "12"])
      assert.deepEqual(problems({ connections: { database: { password: { minLength } } } }), [
        `${at("minLength")}: must be a whole number from 1 to 128, got ${JSON.stringify(minLength)}`,
      ]);
    for (const history of [0, 24]) assert.deepEqual(problems({ connections: { database: { password: { history } } } }), []);
    for (const history of [-1, 25])
      assert.deepEqual(problems({ connections: { database: { password: { history } } } }), [
        `${at("history")}: must be a whole number from 0 to 24, got ${history}`,
      ]);
    assert.deepEqual(problems({ connections: { database: { password: { policy: "strong" } } } }), [
      `${at("policy")}: expected one of none, low, fair, good, excellent, got "strong"`,
    ]);
  });

  it("accepts Auth0 connection names and refuses others", () => {
    for (const name of ["a", "users", "Acme-Users-2", "x".repeat(128)])
      assert.deepEqual(problems({ connections: { database: { name } } }), [], name);
    for (const name of ["", "-users", "users-", "acme users", "acme_users", "x".repeat(129)])
      assert.match(
        problems({ connections: { database: { name } } }).join("\n"),
        /^dropstack:auth0\.connections\.database\.name: expected a connection name/,
        name,
      );
  });

  it("refuses unknown keys, e.g. the flat Auth0 spellings, pointing at the nested one", () => {
    for (const flat of ["passwordPolicy", "passwordMinLength", "passwordHistory", "passwordDictionary"])
      assert.deepEqual(problems({ connections: { database: { [flat]: "good" } } }), [
        `dropstack:auth0.connections.database.${flat}: unknown key; did you mean dropstack:auth0.connections.database.password?`,
      ]);
  });

  it("takes social connections with a client ID, secret and optional scopes, and never repeats the secret", () => {
    for (const provider of ["google", "github"]) {
      const at = `dropstack:auth0.connections.${provider}`;
      const result = withAuth0({ connections: { [provider]: { clientId: "abc.apps", clientSecret: "s3cr3t-value" } } }, "staging");
      assert.ok(result.ok);
      assert.deepEqual(result.config.auth0?.connections?.[provider as SocialProvider], {
        clientId: "abc.apps",
        clientSecret: "s3cr3t-value",
      });
      assert.deepEqual(problems({ connections: { [provider]: { clientId: "abc" } } }), [`${at}.clientSecret: required`]);
      assert.deepEqual(problems({ connections: { [provider]: { clientId: "abc", clientSecret: "" } } }), [
        `${at}.clientSecret: must not be empty`,
      ]);
      for (const secret of [42, ["s3cr3t-value"], { value: "s3cr3t-value" }]) {
        const found = problems({ connections: { [provider]: { clientId: "abc", clientSecret: secret } } });
        assert.deepEqual(found, [`${at}.clientSecret: expected text`]);
      }
      assert.deepEqual(problems({ connections: { [provider]: { clientId: "a b", clientSecret: "s" } } }), [
        `${at}.clientId: expected the OAuth client ID the provider issued, got "a b"`,
      ]);
      assert.deepEqual(problems({ connections: { [provider]: { clientId: "a", clientSecret: "s", scopes: [] } } }), [
        `${at}.scopes: list at least one attribute, e.g. email, or leave scopes out for the defaults`,
      ]);
      assert.match(
        problems({ connections: { [provider]: { clientId: "a", clientSecret: "s", scopes: ["Email"] } } })[0],
        /scopes\.0: expected an Auth0 attribute name/,
      );
    }
  });

  it("is flagged by config-secrets-encrypted when a client secret is stored in plain text, and not once it is secret", () => {
    for (const provider of ["google", "github"]) {
      const auth0 = JSON.stringify({
        apiIdentifier: "https://api.example.com",
        connections: {
          database: { name: "users", password: { policy: "good", minLength: 12 } },
          [provider]: { clientId: "id", clientSecret: "s" },
        },
        mfa: { policy: "optional", factors: ["otp"] },
      });
      const path = `dropstack:auth0.connections.${provider}.clientSecret`;
      assert.deepEqual(plaintextSecrets({ "dropstack:auth0": auth0 }, []), [
        `${path} is a credential stored in plain text: pulumi config set --secret --path '${path}' <value>`,
      ]);
      // `config set --secret --path` makes the whole dropstack:auth0 key secret.
      assert.deepEqual(plaintextSecrets({ "dropstack:auth0": auth0 }, ["dropstack:auth0"]), []);
    }
  });

  it("holds nothing config-secrets-encrypted mistakes for a credential in the database settings or mfa", () => {
    const auth0 = JSON.stringify({
      apiIdentifier: "https://api.example.com",
      connections: {
        database: {
          name: "users",
          password: { policy: "good", minLength: 12, history: 5, noPersonalInfo: true, dictionary: true },
          disableSignup: true,
          requiresUsername: false,
        },
        google: { clientId: "id", scopes: ["email"] },
      },
      mfa: { policy: "required", factors: [...MFA_FACTORS] },
    });
    assert.deepEqual(plaintextSecrets({ "dropstack:auth0": auth0 }, []), []);
  });
});

describe("config: auth0.mfa", () => {
  it("takes every policy and every usable factor set, and names the key of the others", () => {
    for (const policy of MFA_POLICIES)
      for (const factors of subsets(MFA_FACTORS)) {
        const expected = mfaProblems({ policy, factors }).map((p) => `dropstack:auth0.mfa.${p.key}: ${p.message}`);
        assert.deepEqual(problems({ mfa: { policy, factors } }), expected, `${policy} ${factors.join(",")}`);
      }
  });

  it("refuses unknown policies and factors, naming the item", () => {
    assert.deepEqual(problems({ mfa: { policy: "always" } }), [
      `dropstack:auth0.mfa.policy: expected one of off, optional, required, got "always"`,
    ]);
    assert.deepEqual(problems({ mfa: { factors: ["otp", "sms"] } }), [
      `dropstack:auth0.mfa.factors.1: expected one of ${MFA_FACTORS.join(", ")}, got "sms"`,
    ]);
    assert.deepEqual(problems({ mfa: { factors: "otp" } }), [`dropstack:auth0.mfa.factors: expected a list of factors, got "otp"`]);
  });
});
