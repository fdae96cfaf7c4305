// The scale-out policies called directly, over every droplet count (1 to 10) and every edit of
// test/support/scaled-stack.ts: the scale-out topology passes, each edit breaks exactly its
// policy past one droplet, and nothing is asked of one droplet.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { StackValidationPolicy } from "@pulumi/policy";
import { MAX_APP_DROPLETS } from "../../components/config/schema";
import { LOAD_BALANCER_HEALTH_PATH } from "../../components/common/names";
import { policies } from "../../policies/all";
import { scaleLoadBalancerHealthCheck, scaleManagedValkey, scalePostgresStandby } from "../../policies/scale";
import { effectiveConfig, readPolicyConfig } from "../../tools/check/analyzer";
import { FakeResource, stackViolations } from "../support/policy";
import { ROOT } from "../support/program";
import {
  ADMIN_CIDRS,
  LOAD_BALANCER,
  SCALE_EDITS,
  SCALE_POLICY_NAMES,
  type ScaleEditName,
  type ScalePolicyName,
  dropletName,
  editedStack,
  listed,
  loadBalancerArgs,
  scaledStack,
} from "../support/scaled-stack";

const POLICIES: Record<ScalePolicyName, StackValidationPolicy> = {
  "scale-load-balancer-health-check": scaleLoadBalancerHealthCheck,
  "scale-managed-valkey": scaleManagedValkey,
  "scale-postgres-standby": scalePostgresStandby,
};
const EDITS = Object.keys(SCALE_EDITS) as ScaleEditName[];
const SCALED_COUNTS = Array.from({ length: MAX_APP_DROPLETS - 1 }, (_, i) => i + 2);

/** Every scale policy's violations on the stack, by policy. */
async function findings(resources: FakeResource[]): Promise<Record<ScalePolicyName, string[]>> {
  const entries = await Promise.all(
    SCALE_POLICY_NAMES.map(async (name) => [name, await stackViolations(POLICIES[name], resources)] as const),
  );
  return Object.fromEntries(entries) as Record<ScalePolicyName, string[]>;
}

const none: Record<ScalePolicyName, string[]> = {
  "scale-load-balancer-health-check": [],
  "scale-managed-valkey": [],
  "scale-postgres-standby": [],
};

describe("scale-out policies on the stacks they are written for", () => {
  it("pass the scale-out topology at every droplet count from 2 to 10", async () => {
    for (const droplets of SCALED_COUNTS) assert.deepEqual(await findings(listed(scaledStack(droplets))), none, `${droplets} droplets`);
  });

  it("pass today's single droplet: no load balancer, web ports open to the world, a Redis container, one PostgreSQL node", async () => {
    const today = scaledStack(1);
    assert.equal(today.loadBalancer, undefined);
    today.postgres.props.nodeCount = 1;
    assert.deepEqual(await findings(listed(today)), none);
  });

  it("ask nothing of one droplet, whichever edit it has", async () => {
    for (const edit of EDITS) assert.deepEqual(await findings(listed(editedStack(1, edit))), none, edit);
  });

  it("are in the pack, mandatory in production and advisory in staging", () => {
    const names = policies.map((p) => p.name);
    for (const stack of ["production", "staging"]) {
      const effective = effectiveConfig(names, readPolicyConfig(`${ROOT}/policies/${stack}.json`));
      for (const name of SCALE_POLICY_NAMES)
        assert.equal(effective[name].enforcementLevel, stack === "production" ? "mandatory" : "advisory", `${stack}: ${name}`);
    }
  });
});

describe("each scale-out edit breaks its own policy and no other", () => {
  for (const edit of EDITS) {
    it(`${edit}: ${SCALE_EDITS[edit].breaks} at every droplet count from 2 to 10`, async () => {
      for (const droplets of SCALED_COUNTS) {
        const found = await findings(listed(editedStack(droplets, edit)));
        const broken = SCALE_EDITS[edit].breaks;
        assert.ok(found[broken].length > 0, `${droplets} droplets: ${broken} found nothing`);
        for (const message of found[broken]) assert.match(message, new RegExp(`\\b${droplets} droplets\\b`), `${droplets}: ${message}`);
        assert.deepEqual({ ...found, [broken]: [] }, none, `${droplets} droplets`);
      }
    });
  }

  it("all of them at once: every policy reports", async () => {
    // Removing the load balancer or Valkey would leave the edits of their inputs nothing to change.
    const found = await findings(listed(editedStack(4, ...EDITS.filter((e) => e !== "missingLoadBalancer" && e !== "valkeyMissing"))));
    for (const name of SCALE_POLICY_NAMES) assert.ok(found[name].length > 0, name);
  });
});

describe("scale-load-balancer-health-check's messages", () => {
  const lbFindings = async (...edits: ScaleEditName[]) => stackViolations(scaleLoadBalancerHealthCheck, listed(editedStack(3, ...edits)));
  const prefix = "load balancer acme-lb cannot front the 3 droplets: ";

  it("names the missing load balancer", async () => {
    assert.deepEqual(await lbFindings("missingLoadBalancer"), [
      "the stack has 3 droplets and no load balancer in front of them: dropstack:scale.droplets > 1 needs a DigitalOcean load balancer that terminates TLS and health-checks each droplet",
    ]);
  });

  it("says what each health check lacks and which path to ask", async () => {
    assert.deepEqual(await lbFindings("tcpHealthCheck"), [
      `${prefix}its health check is tcp, which passes while nginx accepts connections even when the app is down or the droplet is drained: use protocol "http" with path "${LOAD_BALANCER_HEALTH_PATH}"`,
    ]);
    assert.deepEqual(await lbFindings("noHealthCheck"), [
      `${prefix}it has no health check: set healthcheck to protocol "http", port 80, path "${LOAD_BALANCER_HEALTH_PATH}", so a droplet whose app is down or that a deploy drains gets no traffic`,
    ]);
    const wrongPath = (what: string) =>
      `${prefix}its health check asks ${what}, not "${LOAD_BALANCER_HEALTH_PATH}", where nginx answers the api's health and 503 while the rolling deploy drains the droplet`;
    assert.deepEqual(await lbFindings("healthCheckWithoutPath"), [wrongPath("no path")]);
    assert.deepEqual(await lbFindings("healthCheckOnTheAppsPath"), [wrongPath('"/health"')]);
  });

  it("accepts HTTPS and any spelling of the protocol's case, and refuses every other protocol", async () => {
    for (const protocol of ["http", "https", "HTTP", "Https"]) {
      const stack = scaledStack(2);
      (stack.loadBalancer?.props.healthcheck as Record<string, unknown>).protocol = protocol;
      assert.deepEqual(await stackViolations(scaleLoadBalancerHealthCheck, listed(stack)), [], protocol);
    }
    for (const protocol of ["tcp", "TCP", "udp", "http2", "grpc"]) {
      const stack = scaledStack(2);
      (stack.loadBalancer?.props.healthcheck as Record<string, unknown>).protocol = protocol;
      const found = await stackViolations(scaleLoadBalancerHealthCheck, listed(stack));
      assert.equal(found.length, 1, protocol);
      assert.match(found[0], new RegExp(`its health check is ${protocol},`), protocol);
    }
  });

  it("asks for a droplet tag instead of droplet ids, and names the droplets without it", async () => {
    assert.deepEqual(await lbFindings("loadBalancerWithoutTag"), [
      `${prefix}it selects no droplets by tag (dropletTag): a droplet added or replaced would get no traffic until its id is listed; set dropletTag to the tag every app droplet carries`,
    ]);
    assert.deepEqual(await lbFindings("lastDropletUntagged"), [
      `${prefix}droplet ${dropletName(3)} does not carry its dropletTag "acme-app", so it gets no traffic: give every app droplet that tag`,
    ]);
    const stack = scaledStack(3);
    for (const droplet of stack.droplets.slice(1)) droplet.props.tags = [];
    assert.deepEqual(await stackViolations(scaleLoadBalancerHealthCheck, listed(stack)), [
      `${prefix}droplets ${dropletName(2)}, ${dropletName(3)} do not carry its dropletTag "acme-app", so they get no traffic: give every app droplet that tag`,
    ]);
  });

  it("asks for the HTTP to HTTPS redirect", async () => {
    const redirect = `${prefix}redirectHttpToHttps is off, so http:// requests reach the app unencrypted instead of being redirected: set redirectHttpToHttps: true`;
    assert.deepEqual(await lbFindings("redirectOff"), [redirect]);
    assert.deepEqual(await lbFindings("redirectUnset"), [redirect]);
  });

  it("lists every problem of one load balancer in one finding", async () => {
    const found = await lbFindings("tcpHealthCheck", "loadBalancerWithoutTag", "redirectOff");
    assert.equal(found.length, 1);
    assert.match(found[0], /health check is tcp.*; it selects no droplets by tag.*; redirectHttpToHttps is off/);
  });

  it("names the firewall's rules that admit web traffic from elsewhere", async () => {
    const firewall = (rules: string) =>
      `firewall acme-firewall lets web traffic reach the 3 droplets around their load balancer: ${rules}. TLS ends at the load balancer and nginx trusts the client address it forwards, so allow port 80 from sourceLoadBalancerUids only and close 443`;
    assert.deepEqual(await lbFindings("firewallOpenToTheWorld"), [
      firewall(
        "inbound tcp port 80 admits the whole internet (0.0.0.0/0, ::/0); inbound tcp port 443 admits the whole internet (0.0.0.0/0, ::/0)",
      ),
    ]);
    assert.deepEqual(await lbFindings("firewallWorldBesideLoadBalancer"), [
      firewall("inbound tcp port 80 admits the whole internet (::/0)"),
    ]);
    assert.deepEqual(await lbFindings("firewallAllPortsToAdmins"), [firewall("inbound tcp port 1-65535 admits addresses 198.51.100.0/24")]);
  });

  it("judges every kind of source and every range that covers a web port, and leaves other ports and protocols alone", async () => {
    const withRule = async (rule: Record<string, unknown>) => {
      const stack = scaledStack(2);
      stack.firewall.props.inboundRules = [...(stack.firewall.props.inboundRules as unknown[]), rule];
      return stackViolations(scaleLoadBalancerHealthCheck, listed(stack));
    };
    for (const [key, value, what] of [
      ["sourceTags", ["acme-app"], "tags (sourceTags)"],
      ["sourceDropletIds", [1001], "droplets (sourceDropletIds)"],
      ["sourceKubernetesIds", ["k8s-1"], "Kubernetes clusters (sourceKubernetesIds)"],
    ] as const) {
      for (const portRange of ["443", "80-443", "1-65535", "all", undefined]) {
        const found = await withRule({ protocol: "tcp", ...(portRange ? { portRange } : {}), [key]: value });
        assert.equal(found.length, 1, `${key} ${portRange}`);
        assert.match(found[0], new RegExp(`port ${portRange ?? "all"} admits ${what.replace(/[()]/g, "\\$&")}\\.`), `${key} ${portRange}`);
      }
    }
    for (const rule of [
      { protocol: "tcp", portRange: "8080", sourceAddresses: ["0.0.0.0/0"] },
      { protocol: "tcp", portRange: "81-442", sourceAddresses: ["0.0.0.0/0"] },
      { protocol: "udp", portRange: "443", sourceAddresses: ADMIN_CIDRS },
      { protocol: "icmp", sourceAddresses: ["0.0.0.0/0"] },
      { protocol: "tcp", portRange: "443", sourceLoadBalancerUids: ["lb-2"] },
      { protocol: "tcp", portRange: "80", sourceAddresses: ["0.0.0.0/0"], action: "deny" },
    ])
      assert.deepEqual(await withRule(rule), [], JSON.stringify(rule));
  });

  it("is satisfied by one sound load balancer beside another, and names each when none is sound", async () => {
    const other: FakeResource = { type: LOAD_BALANCER, name: "acme-internal-lb", props: { ...loadBalancerArgs(), healthcheck: undefined } };
    assert.deepEqual(await stackViolations(scaleLoadBalancerHealthCheck, [...listed(scaledStack(3)), other]), []);
    const found = await stackViolations(scaleLoadBalancerHealthCheck, [...listed(editedStack(3, "redirectOff")), other]);
    assert.deepEqual(
      found.map((m) => m.split(":")[0]),
      ["load balancer acme-lb cannot front the 3 droplets", "load balancer acme-internal-lb cannot front the 3 droplets"],
    );
  });
});

describe("scale-managed-valkey's and scale-postgres-standby's messages", () => {
  it("asks for managed Valkey and names the Redis container", async () => {
    assert.deepEqual(await stackViolations(scaleManagedValkey, listed(editedStack(5, "valkeyMissing"))), [
      'the stack has 5 droplets and no managed Valkey (a DatabaseCluster with engine "valkey"): past one droplet the app\'s cache, sessions and rate limits must be shared by every droplet',
    ]);
    assert.deepEqual(await stackViolations(scaleManagedValkey, listed(editedStack(5, "redisContainerPresent"))), [
      "Redis container acme-redis would give each of the 5 droplets its own cache, so sessions, rate limits and cached data differ by droplet: past one droplet the app uses managed Valkey instead",
    ]);
  });

  it("finds a Redis container by its image when it carries no cache label", async () => {
    const stack = editedStack(2, "redisContainerPresent");
    (stack.redis as { props: Record<string, unknown> }).props.labels = [];
    assert.equal((await stackViolations(scaleManagedValkey, listed(stack))).length, 1);
  });

  it("names the single-node PostgreSQL cluster and the key that adds a standby, and leaves Valkey's nodes alone", async () => {
    assert.deepEqual(await stackViolations(scalePostgresStandby, listed(editedStack(2, "singlePostgresNode"))), [
      "PostgreSQL cluster acme-pg serves 2 droplets without a standby: the cluster has 1 node(s): set dropstack:postgres.nodes to 2 or 3 for a standby that takes over on failure",
    ]);
    const stack = scaledStack(2);
    (stack.valkey as { props: Record<string, unknown> }).props.nodeCount = 1;
    assert.deepEqual(await stackViolations(scalePostgresStandby, listed(stack)), []);
  });
});

describe("scale-out policies during a preview", () => {
  // The analyzer's props proxy throws on values unknown until the update: ids, tag names.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const proxy = require("@pulumi/policy/proxy") as { unknownCheckingProxy<T>(v: T): T; unknownStringValue: string };
  const unknown = proxy.unknownStringValue;
  const previewed = (resources: FakeResource[]) => resources.map((r) => ({ ...r, props: proxy.unknownCheckingProxy(r.props) }));

  it("do not judge what is not known yet", async () => {
    const stack = scaledStack(3);
    const balancer = stack.loadBalancer as { props: Record<string, unknown> };
    balancer.props.dropletTag = unknown;
    for (const droplet of stack.droplets) droplet.props.tags = [unknown];
    stack.firewall.props.inboundRules = [
      { protocol: "tcp", portRange: "80", sourceLoadBalancerUids: [unknown], sourceDropletIds: unknown },
    ];
    stack.postgres.props.nodeCount = unknown;
    assert.deepEqual(await findings(previewed(listed(stack))), none);
  });

  it("still judge what is known beside it", async () => {
    const stack = editedStack(3, "tcpHealthCheck", "firewallWorldBesideLoadBalancer", "singlePostgresNode");
    (stack.loadBalancer as { props: Record<string, unknown> }).props.dropletTag = unknown;
    (stack.firewall.props.inboundRules as Record<string, unknown>[])[0].sourceLoadBalancerUids = [unknown];
    const found = await findings(previewed(listed(stack)));
    assert.equal(found["scale-load-balancer-health-check"].length, 2);
    assert.match(found["scale-load-balancer-health-check"][0], /health check is tcp/);
    assert.match(found["scale-load-balancer-health-check"][1], /admits the whole internet \(::\/0\)/);
    assert.equal(found["scale-postgres-standby"].length, 1);
  });
});
