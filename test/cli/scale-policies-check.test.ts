// The scale-out policies through the real policy pack and its gRPC analyzer, on the committed
// production program's registrations grown to three droplets the way the program registers
// them past one (README "Growing past one droplet"): two more droplets beside the primary, a
// load balancer, the firewall admitting port 80 from it only, managed Valkey instead of the
// Redis container. The edits are test/support/scaled-stack.ts's, so the stacks judged here and
// in test/unit/policies-scale.test.ts differ only in where their resources come from.
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as digitalocean from "@pulumi/digitalocean";
import { type PolicyRun, analyze } from "../../tools/check/analyzer";
import type { Registration } from "../../tools/check/graph";
import { runCheck } from "../support/check";
import { typeOf } from "../support/policy";
import { ROOT, runStack } from "../support/program";
import { registration } from "../support/registration";
import {
  CLUSTER,
  DROPLET,
  FIREWALL,
  LOAD_BALANCER,
  SCALE_EDITS,
  SCALE_POLICY_NAMES,
  type ScaleEditName,
  type ScaledStack,
  loadBalancerArgs,
  scaledInboundRules,
} from "../support/scaled-stack";

const DROPLETS = 3;
const STACK = "production";
const NAME = `dropstack-${STACK}`;
const URN_PREFIX = `urn:pulumi:${STACK}::dropstack::`;
const STACK_URN = `${URN_PREFIX}pulumi:pulumi:Stack::${NAME}`;
const REDIS_CONTAINER = `${NAME}-redis`;

/** The edits of the unsafe variant: one or more per scale-out policy, on different resources. */
const UNSAFE: ScaleEditName[] = [
  "tcpHealthCheck",
  "redirectOff",
  "firewallOpenToTheWorld",
  "valkeyMissing",
  "redisContainerPresent",
  "singlePostgresNode",
];

/** A dropstack component at the top of the stack, as index.ts makes them. */
const component = (type: string, name: string): Registration =>
  registration(`dropstack:index:${type}`, name, {
    urn: `${URN_PREFIX}pulumi:pulumi:Stack$dropstack:index:${type}::${name}`,
    id: "",
    custom: false,
    parent: STACK_URN,
  });

/** A registration with these inputs, as the engine hands a resource in a preview that creates or changes it. */
const withInputs = (r: Registration, props: Record<string, unknown>): Registration => ({
  ...r,
  wireInputs: props,
  inputs: props,
  outputs: {},
});

/**
 * The program's registrations grown to DROPLETS droplets, with the edits applied to the
 * scale-out resources. An edit that keeps a Redis container keeps the program's own.
 */
function scaledRegistrations(program: Registration[], edits: ScaleEditName[]): Registration[] {
  const one = (type: string, name: string) => {
    const found = program.filter((r) => r.type === type && r.name === name);
    assert.equal(found.length, 1, `${type} ${name}`);
    return found[0];
  };
  const primary = one(DROPLET, `${NAME}-droplet`);
  const firewall = one(FIREWALL, `${NAME}-firewall`);
  const postgres = one(CLUSTER, `${NAME}-pg`);
  const postgresFirewall = one(typeOf(digitalocean.DatabaseFirewall), `${NAME}-pg-firewall`);
  const tag = (primary.wireInputs.tags as string[])[0];
  const sshRule = (firewall.wireInputs.inboundRules as Record<string, unknown>[]).find((r) => r.portRange === "22");
  assert.ok(sshRule, "the program's firewall admits SSH");

  const stack: ScaledStack = {
    droplets: Array.from({ length: DROPLETS }, (_, i) => {
      const name = i === 0 ? primary.name : `${NAME}-${i + 1}-droplet`;
      return { name, props: { ...primary.wireInputs, name } };
    }),
    loadBalancer: { name: `${NAME}-lb`, props: { ...loadBalancerArgs(), name: `${NAME}-lb`, dropletTag: tag } },
    firewall: { name: firewall.name, props: { ...firewall.wireInputs, inboundRules: [scaledInboundRules()[0], sshRule] } },
    postgres: { name: postgres.name, props: { ...postgres.wireInputs } },
    valkey: {
      name: `${NAME}-valkey`,
      props: { ...postgres.wireInputs, name: `${NAME}-valkey`, engine: "valkey", version: "8", size: "db-s-1vcpu-2gb", nodeCount: 2 },
    },
  };
  for (const edit of edits) SCALE_EDITS[edit].apply(stack);

  const loadBalancerUrn = `${URN_PREFIX}${LOAD_BALANCER}::${NAME}-lb`;
  const valkeyUrn = `${URN_PREFIX}dropstack:index:Cache$${CLUSTER}::${NAME}-valkey`;
  const hosts = stack.droplets.slice(1).map((_, i) => component("Host", `${NAME}-${i + 2}`));
  const replaced = new Map<string, Registration>([
    [primary.urn, withInputs(primary, stack.droplets[0].props)],
    [
      firewall.urn,
      {
        ...withInputs(firewall, stack.firewall.props),
        dependencies: [...firewall.dependencies, loadBalancerUrn],
        propertyDependencies: { ...firewall.propertyDependencies, inboundRules: [loadBalancerUrn] },
      },
    ],
    [postgres.urn, withInputs(postgres, stack.postgres.props)],
  ]);
  const kept = program
    .filter((r) => stack.redis !== undefined || !(r.type.endsWith("container:Container") && r.name === REDIS_CONTAINER))
    .map((r) => replaced.get(r.urn) ?? r);
  const added: Registration[] = [
    ...hosts,
    ...stack.droplets.slice(1).map((droplet, i) => ({
      ...withInputs(primary, droplet.props),
      name: droplet.name,
      urn: primary.urn.replace(/::[^:]+$/, `::${droplet.name}`),
      parent: hosts[i].urn,
    })),
    ...(stack.loadBalancer
      ? [
          {
            ...withInputs(registration(LOAD_BALANCER, stack.loadBalancer.name, { urn: loadBalancerUrn, id: "" }), stack.loadBalancer.props),
            version: primary.version,
          },
        ]
      : []),
    ...(stack.valkey
      ? [
          {
            ...withInputs(postgres, stack.valkey.props),
            name: stack.valkey.name,
            urn: valkeyUrn,
            parent: component("Cache", NAME).urn,
          },
          // Its trusted sources, like PostgreSQL's: the droplet tag and the admin CIDRs.
          {
            ...postgresFirewall,
            name: `${stack.valkey.name}-firewall`,
            urn: `${URN_PREFIX}dropstack:index:Cache$${postgresFirewall.type}::${stack.valkey.name}-firewall`,
            parent: component("Cache", NAME).urn,
            dependencies: [valkeyUrn],
            propertyDependencies: { clusterId: [valkeyUrn] },
          },
        ]
      : []),
  ];
  return [...kept, ...added];
}

async function check(registrations: Registration[], policyConfig: "production" | "staging"): Promise<PolicyRun> {
  return analyze({
    packDir: path.join(ROOT, "policies"),
    policyConfigFile: path.join(ROOT, "policies", `${policyConfig}.json`),
    stack: STACK,
    project: "dropstack",
    registrations,
  });
}

const scaleFindings = (run: PolicyRun) =>
  run.violations
    .filter((v) => (SCALE_POLICY_NAMES as readonly string[]).includes(v.policy))
    .map((v) => ({ policy: v.policy, level: v.enforcementLevel, resource: v.urn.split("::").pop() ?? "" }));

describe("npm run check's analyzer on production grown to three droplets", () => {
  let program: Registration[];
  before(async () => {
    program = (await runStack({ stack: STACK })).graph.registrations;
  });

  it("finds nothing to say about the scale-out topology", async () => {
    const registrations = scaledRegistrations(program, []);
    assert.equal(registrations.filter((r) => r.type === DROPLET).length, DROPLETS);
    assert.equal(registrations.filter((r) => r.type === LOAD_BALANCER).length, 1);
    const run = await check(registrations, "production");
    assert.deepEqual(
      run.policies.filter((p) => (SCALE_POLICY_NAMES as readonly string[]).includes(p.name)).map((p) => [p.name, p.enforcementLevel]),
      SCALE_POLICY_NAMES.map((name) => [name, "mandatory"]),
    );
    assert.deepEqual(scaleFindings(run), []);
    // Nor does any other policy: Valkey is a DatabaseCluster too, judged by the database policies.
    assert.deepEqual(
      run.violations.filter((v) => v.enforcementLevel === "mandatory"),
      [],
    );
  });

  const expected = (level: string) => [
    { policy: "scale-load-balancer-health-check", level, resource: `${NAME}-lb` },
    { policy: "scale-load-balancer-health-check", level, resource: `${NAME}-firewall` },
    { policy: "scale-managed-valkey", level, resource: "" },
    { policy: "scale-managed-valkey", level, resource: REDIS_CONTAINER },
    { policy: "scale-postgres-standby", level, resource: `${NAME}-pg` },
  ];
  const sorted = (findings: { policy: string; level: string; resource: string }[]) =>
    [...findings].sort((a, b) => `${a.policy} ${a.resource}`.localeCompare(`${b.policy} ${b.resource}`));

  it("refuses every unsafe edit in production, on the resource each one breaks", async () => {
    const run = await check(scaledRegistrations(program, UNSAFE), "production");
    assert.deepEqual(sorted(scaleFindings(run)), sorted(expected("mandatory")));
    const balancer = run.violations.find((v) => v.urn.endsWith(`::${NAME}-lb`));
    assert.match(balancer?.message ?? "", /health check is tcp.*redirectHttpToHttps is off/);
  });

  it("only warns about them in staging", async () => {
    const run = await check(scaledRegistrations(program, UNSAFE), "staging");
    assert.deepEqual(sorted(scaleFindings(run)), sorted(expected("advisory")));
  });

  it("says nothing about the committed stacks, each on one droplet", () => {
    for (const stack of ["staging", "production"]) {
      const report = runCheck(stack);
      assert.ok(report.json, report.stderr);
      assert.deepEqual(
        (report.json.violations ?? []).filter((v) => v.policy.startsWith("scale-")),
        [],
        stack,
      );
    }
  });
});
