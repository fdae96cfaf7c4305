// auth0-database-password-policy and auth0-mfa-required, each with generated violating and
// compliant cases, called as the analyzer would; and their levels: mandatory in production,
// advisory in staging, like the other Auth0 policy staging relaxes.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as auth0 from "@pulumi/auth0";
import * as digitalocean from "@pulumi/digitalocean";
import { readMfaOptInActionCode, readPostLoginActionCode } from "../../components/identity/action";
import {
  MFA_FACTORS,
  PASSWORD_POLICIES,
  PRIMARY_MFA_FACTORS,
  PRODUCTION_PASSWORD_FLOOR,
  type DatabaseConnectionSettings,
  type MfaFactor,
  databaseConnectionOptions,
  guardianSettings,
  passwordPolicyAtLeast,
} from "../../components/identity/settings";
import { policies } from "../../policies/all";
import { auth0DatabasePasswordPolicy, auth0MfaRequired } from "../../policies/identity";
import { effectiveConfig, readPolicyConfig } from "../../tools/check/analyzer";
import { type FakeResource, resourceViolations, stackViolations, typeOf } from "../support/policy";
import { ROOT } from "../support/program";

const TYPES = {
  connection: typeOf(auth0.Connection),
  guardian: typeOf(auth0.Guardian),
  action: typeOf(auth0.Action),
  triggerActions: typeOf(auth0.TriggerActions),
  client: typeOf(auth0.Client),
};

const database = (password: Partial<DatabaseConnectionSettings["password"]>): DatabaseConnectionSettings => ({
  name: "dropstack-users",
  password: { policy: "good", minLength: 12, history: 5, noPersonalInfo: true, dictionary: true, ...password },
  disableSignup: false,
  requiresUsername: false,
});

const connection = (options: Record<string, unknown>, strategy = "auth0"): FakeResource => ({
  type: TYPES.connection,
  name: "dropstack-production-connection-database",
  props: { name: "dropstack-users", strategy, options },
});

describe("auth0-database-password-policy", () => {
  it(`passes every level from ${PRODUCTION_PASSWORD_FLOOR.policy} up with ${PRODUCTION_PASSWORD_FLOOR.minLength}+ characters, as the component renders it`, async () => {
    let checked = 0;
    for (const policy of PASSWORD_POLICIES.filter((p) => passwordPolicyAtLeast(p, PRODUCTION_PASSWORD_FLOOR.policy)))
      for (const minLength of [PRODUCTION_PASSWORD_FLOOR.minLength, 12, 15, 64, 128])
        for (const history of [0, 5]) {
          const options = databaseConnectionOptions(database({ policy, minLength, history }));
          assert.deepEqual(await resourceViolations(auth0DatabasePasswordPolicy, connection(options)), [], `${policy} ${minLength}`);
          checked++;
        }
    assert.equal(checked, 3 * 5 * 2);
  });

  it("refuses a level below the floor, or none, naming the config key", async () => {
    for (const policy of [
      ...PASSWORD_POLICIES.filter((p) => !passwordPolicyAtLeast(p, PRODUCTION_PASSWORD_FLOOR.policy)),
      undefined,
      "GOOD",
      "strong",
      3,
    ]) {
      const options = { ...databaseConnectionOptions(database({})), passwordPolicy: policy };
      const violations = await resourceViolations(auth0DatabasePasswordPolicy, connection(options));
      assert.equal(violations.length, 1, String(policy));
      assert.match(
        violations[0],
        new RegExp(
          `^database connection dropstack-production-connection-database has password policy ${policy === undefined ? "unset" : `"${String(policy)}"`}: set dropstack:auth0\\.connections\\.database\\.password\\.policy to "fair" or stronger`,
        ),
      );
    }
  });

  it("refuses passwords shorter than the floor, or no length at all, naming the config key", async () => {
    for (let minLength = 1; minLength < PRODUCTION_PASSWORD_FLOOR.minLength; minLength++) {
      const violations = await resourceViolations(
        auth0DatabasePasswordPolicy,
        connection(databaseConnectionOptions(database({ minLength }))),
      );
      assert.deepEqual(violations, [
        `database connection dropstack-production-connection-database accepts passwords of ${minLength} characters: set dropstack:auth0.connections.database.password.minLength to ${PRODUCTION_PASSWORD_FLOOR.minLength} or more`,
      ]);
    }
    for (const complexity of [undefined, {}, { minLength: "12" }]) {
      const options = { ...databaseConnectionOptions(database({})), passwordComplexityOptions: complexity };
      const violations = await resourceViolations(auth0DatabasePasswordPolicy, connection(options));
      assert.equal(violations.length, 1, JSON.stringify(complexity));
      assert.match(violations[0], /accepts passwords of any length its policy allows: set .*password\.minLength to 10 or more/);
    }
  });

  it("refuses brute-force protection off or unset", async () => {
    for (const bruteForceProtection of [false, undefined, "true"]) {
      const options = { ...databaseConnectionOptions(database({})), bruteForceProtection };
      const violations = await resourceViolations(auth0DatabasePasswordPolicy, connection(options));
      assert.equal(violations.length, 1);
      assert.match(violations[0], /has brute-force protection off/);
    }
  });

  it("reports each weakness of one connection, and an unset options block as all of them", async () => {
    const weak = databaseConnectionOptions(database({ policy: "low", minLength: 6 }));
    assert.equal((await resourceViolations(auth0DatabasePasswordPolicy, connection({ ...weak, bruteForceProtection: false }))).length, 3);
    assert.equal((await resourceViolations(auth0DatabasePasswordPolicy, connection(undefined as never))).length, 3);
  });

  it("leaves social connections and other resource types alone", async () => {
    for (const strategy of ["google-oauth2", "github", "email", "waad"])
      assert.deepEqual(await resourceViolations(auth0DatabasePasswordPolicy, connection({ clientId: "x" }, strategy)), [], strategy);
    assert.deepEqual(
      await resourceViolations(auth0DatabasePasswordPolicy, { type: TYPES.client, props: { strategy: "auth0", options: {} } }),
      [],
    );
  });
});

/** The Identity component's MFA resources for a policy and factors, as the analyzer sees them. */
function mfaResources(
  mfa: { policy: "off" | "optional" | "required"; factors: MfaFactor[] },
  optIn = mfa.policy === "optional",
): FakeResource[] {
  const actions = [
    { name: "t-post-login", code: readPostLoginActionCode() },
    ...(optIn ? [{ name: "t-mfa-opt-in", code: readMfaOptInActionCode() }] : []),
  ];
  return [
    { type: TYPES.client, name: "t-spa", props: { appType: "spa" } },
    { type: TYPES.guardian, name: "t-mfa", props: guardianSettings(mfa) },
    ...actions.map((a) => ({ type: TYPES.action, name: a.name, props: { name: a.name, code: a.code, deploy: true, runtime: "node22" } })),
    {
      type: TYPES.triggerActions,
      name: "t-post-login-flow",
      props: { trigger: "post-login", actions: actions.map((a) => ({ id: `${a.name}-id`, displayName: a.name })) },
    },
  ];
}

/** Every subset of a list, the empty one included. */
function subsets<T>(items: readonly T[]): T[][] {
  return items.reduce<T[][]>((all, item) => all.concat(all.map((s) => [...s, item])), [[]]);
}

describe("auth0-mfa-required", () => {
  it("passes optional and required with any factor set that holds a primary factor", async () => {
    let checked = 0;
    for (const factors of subsets(MFA_FACTORS).filter((s) => s.some((f) => (PRIMARY_MFA_FACTORS as readonly string[]).includes(f))))
      for (const policy of ["optional", "required"] as const) {
        assert.deepEqual(await stackViolations(auth0MfaRequired, mfaResources({ policy, factors })), [], `${policy} ${factors.join(",")}`);
        checked++;
      }
    assert.equal(checked, 2 * (2 ** 6 - 2 ** 2));
  });

  it("passes Adaptive MFA (confidence-score) with a factor, and phone or Duo as the factor", async () => {
    const resources = mfaResources({ policy: "required", factors: ["otp"] });
    const guardian = resources[1];
    guardian.props = { ...guardian.props, policy: "confidence-score" };
    assert.deepEqual(await stackViolations(auth0MfaRequired, resources), []);
    for (const factor of ["phone", "duo"]) {
      guardian.props = { ...guardianSettings({ policy: "required", factors: [] }), [factor]: { enabled: true } };
      assert.deepEqual(await stackViolations(auth0MfaRequired, resources), [], factor);
    }
  });

  it("refuses MFA off: no factor, and a never policy without the opt-in Action", async () => {
    const violations = await stackViolations(auth0MfaRequired, mfaResources({ policy: "off", factors: [] }));
    assert.equal(violations.length, 2);
    assert.match(
      violations[0],
      /^t-mfa enables no factor users can enrol \(otp, webauthn-roaming, webauthn-platform, push, phone, duo\): set dropstack:auth0\.mfa\.policy to "optional" or "required"/,
    );
    assert.match(violations[1], /^t-mfa has MFA policy "never" and the post-login flow lacks the MFA opt-in Action/);
  });

  it("refuses factor sets without a primary factor, whatever the policy", async () => {
    for (const factors of subsets(["email", "recovery-code"] as MfaFactor[]))
      for (const policy of ["optional", "required"] as const) {
        const violations = await stackViolations(auth0MfaRequired, mfaResources({ policy, factors }));
        assert.equal(violations.length, 1, `${policy} ${factors.join(",")}`);
        assert.match(violations[0], /enables no factor users can enrol/);
      }
  });

  it("refuses policy never unless a deployed opt-in Action is bound to the post-login flow", async () => {
    const broken: [string, (resources: FakeResource[]) => void][] = [
      [
        "no opt-in Action",
        (rs) =>
          rs.splice(
            rs.findIndex((r) => r.name === "t-mfa-opt-in"),
            1,
          ),
      ],
      [
        "Action with other code",
        (rs) =>
          Object.assign(rs.find((r) => r.name === "t-mfa-opt-in")?.props ?? {}, { code: "exports.onExecutePostLogin = async () => {};" }),
      ],
      ["Action not deployed", (rs) => Object.assign(rs.find((r) => r.name === "t-mfa-opt-in")?.props ?? {}, { deploy: false })],
      [
        "Action not in the flow",
        (rs) => {
          const flow = rs.find((r) => r.type === TYPES.triggerActions);
          if (flow) flow.props = { ...flow.props, actions: [{ id: "t-post-login-id", displayName: "t-post-login" }] };
        },
      ],
      [
        "flow of another trigger",
        (rs) => {
          const flow = rs.find((r) => r.type === TYPES.triggerActions);
          if (flow) flow.props = { ...flow.props, trigger: "credentials-exchange" };
        },
      ],
      [
        "no flow",
        (rs) =>
          rs.splice(
            rs.findIndex((r) => r.type === TYPES.triggerActions),
            1,
          ),
      ],
    ];
    for (const [what, breakIt] of broken) {
      const resources = mfaResources({ policy: "optional", factors: ["otp"] });
      assert.deepEqual(await stackViolations(auth0MfaRequired, resources), [], `${what}: intact first`);
      breakIt(resources);
      const violations = await stackViolations(auth0MfaRequired, resources);
      assert.equal(violations.length, 1, what);
      assert.match(violations[0], /policy "never" and the post-login flow lacks the MFA opt-in Action/, what);
    }
  });

  it("refuses a missing Guardian, and an unknown or unset policy", async () => {
    const withoutGuardian = mfaResources({ policy: "required", factors: ["otp"] }).filter((r) => r.type !== TYPES.guardian);
    assert.deepEqual(await stackViolations(auth0MfaRequired, withoutGuardian), [
      `the stack manages ${withoutGuardian.length} Auth0 resource(s) but no auth0.Guardian, so MFA is whatever the dashboard says: set dropstack:auth0.mfa.policy to "optional" or "required"`,
    ]);
    for (const policy of [undefined, "always", ""]) {
      const resources = mfaResources({ policy: "required", factors: ["otp"] });
      resources[1].props = { ...resources[1].props, policy };
      const violations = await stackViolations(auth0MfaRequired, resources);
      assert.equal(violations.length, 1, String(policy));
      assert.match(violations[0], /^t-mfa has MFA policy (unset|"[^"]*"): set dropstack:auth0\.mfa\.policy/);
    }
  });

  it("leaves stacks without Auth0 resources alone", async () => {
    assert.deepEqual(await stackViolations(auth0MfaRequired, [{ type: typeOf(digitalocean.Droplet), name: "d", props: {} }]), []);
    assert.deepEqual(await stackViolations(auth0MfaRequired, []), []);
  });
});

describe("connection and MFA policy levels", () => {
  const levelIn = (file: string, name: string) =>
    effectiveConfig(
      policies.map((p) => p.name),
      readPolicyConfig(path.join(ROOT, "policies", file)),
    )[name].enforcementLevel;

  it("are in the pack, mandatory in production without exception and advisory in staging", () => {
    const exceptions = JSON.parse(readFileSync(path.join(ROOT, "policies", "production-exceptions.json"), "utf8")) as object;
    for (const policy of [auth0DatabasePasswordPolicy, auth0MfaRequired]) {
      assert.ok(policies.includes(policy), `${policy.name} is served`);
      assert.equal(levelIn("production.json", policy.name), "mandatory");
      assert.equal(levelIn("staging.json", policy.name), "advisory");
      assert.equal(policy.name in exceptions, false);
    }
  });
});
