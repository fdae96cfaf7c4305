// Production's policy configuration as code under test: every policy in the pack (the real
// list the analyzer serves) is mandatory in policies/production.json, unless
// policies/production-exceptions.json names it with a reason. Switching a policy to
// advisory or off there, or adding a policy the config leaves weaker, fails here.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { policies } from "../../policies/all";
import { effectiveConfig, readPolicyConfig } from "../../tools/check/analyzer";
import { ROOT } from "../support/program";

type PolicyConfig = ReturnType<typeof readPolicyConfig>;
interface Pack {
  name: string;
  enforcementLevel?: string;
}

const CONFIG_FILE = path.join(ROOT, "policies", "production.json");
const EXCEPTIONS_FILE = path.join(ROOT, "policies", "production-exceptions.json");

/** Problems with production's enforcement: empty when every policy is mandatory or a reasoned exception. */
function enforcementProblems(pack: Pack[], config: PolicyConfig, exceptions: Record<string, unknown>): string[] {
  const names = pack.map((p) => p.name);
  const effective = effectiveConfig(names, config);
  const problems: string[] = [];
  for (const [name, reason] of Object.entries(exceptions)) {
    if (!names.includes(name)) problems.push(`exception for ${name}, which the pack does not have`);
    else if (typeof reason !== "string" || reason.trim().length < 10) problems.push(`exception for ${name} without a reason`);
  }
  for (const policy of pack) {
    // The config decides; the policy's own default counts only where the config is silent.
    const level = effective[policy.name].enforcementLevel ?? policy.enforcementLevel;
    const excepted = Object.prototype.hasOwnProperty.call(exceptions, policy.name);
    if (level !== "mandatory" && !excepted) problems.push(`${policy.name} is ${String(level)} in production without a listed exception`);
    if (level === "mandatory" && excepted) problems.push(`${policy.name} is mandatory: drop its stale exception`);
  }
  return problems;
}

const config = readPolicyConfig(CONFIG_FILE);
const exceptions = JSON.parse(readFileSync(EXCEPTIONS_FILE, "utf8")) as Record<string, unknown>;
// The variants below weaken one thing at a time from a config where everything is mandatory.
const BASE: PolicyConfig = { all: "mandatory" };

describe("production policy configuration", () => {
  it("reads the pack's real policy list", () => {
    assert.ok(policies.length >= 20, `expected the whole pack, got ${policies.length} policies`);
    assert.equal(new Set(policies.map((p) => p.name)).size, policies.length, "policy names are unique");
  });

  it("keeps every policy mandatory, except those listed with a reason", () => {
    assert.ok(
      typeof exceptions === "object" && exceptions !== null && !Array.isArray(exceptions),
      "exceptions: an object of policy name → reason",
    );
    assert.deepEqual(enforcementProblems(policies, config, exceptions), []);
  });

  it("fails when any one policy is switched to advisory or off", () => {
    for (const policy of policies) {
      for (const level of ["advisory", "disabled"] as const) {
        for (const entry of [level, { enforcementLevel: level }]) {
          const weakened = { ...BASE, [policy.name]: entry } as PolicyConfig;
          const problems = enforcementProblems(policies, weakened, {});
          assert.deepEqual(
            problems,
            [`${policy.name} is ${level} in production without a listed exception`],
            `${policy.name} → ${JSON.stringify(entry)}`,
          );
        }
      }
    }
  });

  it("fails for every policy without its own mandatory entry when `all` is weakened or dropped", () => {
    const own = Object.fromEntries(Object.entries(BASE).filter(([k]) => k !== "all")) as PolicyConfig;
    const levelOf = (v: PolicyConfig[string]) => (typeof v === "string" ? v : v.enforcementLevel);
    const unpinned = policies.filter((p) => !(p.name in own && levelOf(own[p.name]) === "mandatory")).map((p) => p.name);
    assert.ok(unpinned.length > 0);
    for (const level of ["advisory", "disabled"] as const) {
      assert.deepEqual(
        enforcementProblems(policies, { ...own, all: level }, {}),
        unpinned.map((n) => `${n} is ${level} in production without a listed exception`),
      );
    }
    const advisoryByDefault = policies.map((p) => ({ name: p.name, enforcementLevel: "advisory" }));
    assert.deepEqual(
      enforcementProblems(advisoryByDefault, own, {}),
      unpinned.map((n) => `${n} is advisory in production without a listed exception`),
    );
  });

  it("accepts a weakened policy only with a reason, and rejects stale or unknown exceptions", () => {
    const [first, second] = policies;
    const weakened = { ...BASE, [first.name]: "advisory" } as PolicyConfig;
    assert.deepEqual(
      enforcementProblems(policies, weakened, { [first.name]: "tracked upstream: the provider cannot report this setting yet" }),
      [],
    );
    assert.deepEqual(enforcementProblems(policies, weakened, { [first.name]: "" }), [`exception for ${first.name} without a reason`]);
    assert.deepEqual(enforcementProblems(policies, BASE, { [second.name]: "no longer needed but still listed here" }), [
      `${second.name} is mandatory: drop its stale exception`,
    ]);
    assert.deepEqual(enforcementProblems(policies, BASE, { "no-such-policy": "a reason that names nothing real" }), [
      "exception for no-such-policy, which the pack does not have",
    ]);
  });
});

describe("the policy pack's own text", () => {
  it("gives every policy a unique name and a description that says what it protects", () => {
    const names = policies.map((policy) => policy.name);
    assert.equal(new Set(names).size, names.length, "unique names");
    for (const policy of policies) {
      assert.match(policy.name, /^[a-z0-9]+(-[a-z0-9.]+)+$/, policy.name);
      assert.ok(policy.description.length >= 30 && policy.description.endsWith("."), `${policy.name}: "${policy.description}"`);
    }
  });
});
