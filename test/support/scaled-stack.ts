// The resources the scale-out policies judge, as the program registers them past one droplet
// (README "Growing past one droplet"): droplets sharing one tag, a load balancer (inputs as
// @pulumi/digitalocean's LoadBalancerArgs) that terminates TLS and health-checks nginx, a
// droplet firewall that admits port 80 from that load balancer only, managed Valkey and a
// PostgreSQL cluster with a standby. With one droplet: today's stack (Redis container, web
// ports open to the world, no load balancer). Each edit breaks one scale-out policy;
// test/unit/policies-scale.test.ts runs them over every droplet count and
// test/cli/scale-policies-check.test.ts through the real analyzer.
import * as digitalocean from "@pulumi/digitalocean";
import * as docker from "@pulumi/docker";
import { CONTAINER_ROLES, LOAD_BALANCER_HEALTH_PATH, roleLabel } from "../../components/common/names";
import { SSH_PORT, dropletInboundRules } from "../../components/network/rules";
import { typeOf } from "./policy";

export const DROPLET = typeOf(digitalocean.Droplet);
export const LOAD_BALANCER = typeOf(digitalocean.LoadBalancer);
export const FIREWALL = typeOf(digitalocean.Firewall);
export const CLUSTER = typeOf(digitalocean.DatabaseCluster);
export const CONTAINER = typeOf(docker.Container);

export const TAG = "acme-app";
export const ADMIN_CIDRS = ["198.51.100.0/24"];
/** What the engine would hand over for the load balancer's id in a rule once it exists. */
export const LOAD_BALANCER_UID = "4de7ac8b-495b-4884-9a69-1050c6793cd6";

export type Props = Record<string, unknown>;

/** The stack's resources by role; an edit changes or removes entries before they are listed. */
export interface ScaledStack {
  droplets: { name: string; props: Props }[];
  loadBalancer?: { name: string; props: Props };
  firewall: { name: string; props: Props };
  postgres: { name: string; props: Props };
  valkey?: { name: string; props: Props };
  redis?: { name: string; props: Props };
}

/** The droplet's name: the primary keeps today's, the others are `Host("<name>-<i>")`'s. */
export function dropletName(i: number): string {
  return i === 1 ? "acme-droplet" : `acme-${i}-droplet`;
}

export function loadBalancerArgs(): Props {
  return {
    name: "acme-lb",
    region: "fra1",
    vpcUuid: "vpc-1",
    sizeUnit: 1,
    dropletTag: TAG,
    redirectHttpToHttps: true,
    forwardingRules: [
      { entryProtocol: "https", entryPort: 443, targetProtocol: "http", targetPort: 80, certificateName: "acme-cert" },
      { entryProtocol: "http", entryPort: 80, targetProtocol: "http", targetPort: 80 },
    ],
    healthcheck: { protocol: "http", port: 80, path: LOAD_BALANCER_HEALTH_PATH, checkIntervalSeconds: 10 },
  };
}

/** Port 80 from the load balancer only, no 443, SSH from the admin CIDRs as before. */
export function scaledInboundRules(): Props[] {
  return [
    { protocol: "tcp", portRange: "80", sourceLoadBalancerUids: [LOAD_BALANCER_UID] },
    { protocol: "tcp", portRange: SSH_PORT, sourceAddresses: ADMIN_CIDRS },
  ];
}

/**
 * The stack with `droplets` droplets. `scaled` (the default past one droplet) builds the
 * scale-out topology; without it, today's single-droplet one.
 */
export function scaledStack(droplets: number, scaled = droplets > 1): ScaledStack {
  return {
    droplets: Array.from({ length: droplets }, (_, i) => ({
      name: dropletName(i + 1),
      props: { name: dropletName(i + 1), region: "fra1", size: "s-2vcpu-4gb", vpcUuid: "vpc-1", tags: [TAG], monitoring: true },
    })),
    ...(scaled ? { loadBalancer: { name: "acme-lb", props: loadBalancerArgs() } } : {}),
    firewall: {
      name: "acme-firewall",
      props: { name: "acme-droplet", tags: [TAG], inboundRules: scaled ? scaledInboundRules() : dropletInboundRules(ADMIN_CIDRS) },
    },
    postgres: { name: "acme-pg", props: { engine: "pg", version: "16", nodeCount: 2, size: "db-s-2vcpu-4gb", region: "fra1" } },
    ...(scaled
      ? { valkey: { name: "acme-valkey", props: { engine: "valkey", version: "8", nodeCount: 2, size: "db-s-1vcpu-2gb", region: "fra1" } } }
      : {
          redis: {
            name: "acme-redis",
            props: { image: "redis:7.4.1-alpine", labels: [roleLabel(CONTAINER_ROLES.cache)], networksAdvanced: [{ name: "dropstack" }] },
          },
        }),
  };
}

/** The stack as the policy test harness takes it. */
export function listed(stack: ScaledStack): { type: string; name: string; props: Props }[] {
  return [
    ...stack.droplets.map((d) => ({ type: DROPLET, ...d })),
    ...(stack.loadBalancer ? [{ type: LOAD_BALANCER, ...stack.loadBalancer }] : []),
    { type: FIREWALL, ...stack.firewall },
    { type: CLUSTER, ...stack.postgres },
    ...(stack.valkey ? [{ type: CLUSTER, ...stack.valkey }] : []),
    ...(stack.redis ? [{ type: CONTAINER, ...stack.redis }] : []),
  ];
}

export const SCALE_POLICY_NAMES = ["scale-load-balancer-health-check", "scale-managed-valkey", "scale-postgres-standby"] as const;
export type ScalePolicyName = (typeof SCALE_POLICY_NAMES)[number];

export interface ScaleEdit {
  apply(stack: ScaledStack): void;
  /** The one policy the edit breaks. */
  breaks: ScalePolicyName;
}

const lb = (stack: ScaledStack) => stack.loadBalancer?.props as Props;

/** One edit per way a scaled stack can go wrong. */
export const SCALE_EDITS = {
  missingLoadBalancer: {
    apply: (s) => delete s.loadBalancer,
    breaks: "scale-load-balancer-health-check",
  },
  tcpHealthCheck: {
    apply: (s) => (lb(s).healthcheck = { protocol: "tcp", port: 80 }),
    breaks: "scale-load-balancer-health-check",
  },
  noHealthCheck: {
    apply: (s) => delete lb(s).healthcheck,
    breaks: "scale-load-balancer-health-check",
  },
  healthCheckWithoutPath: {
    apply: (s) => (lb(s).healthcheck = { protocol: "http", port: 80 }),
    breaks: "scale-load-balancer-health-check",
  },
  healthCheckOnTheAppsPath: {
    apply: (s) => (lb(s).healthcheck = { protocol: "http", port: 80, path: "/health" }),
    breaks: "scale-load-balancer-health-check",
  },
  loadBalancerWithoutTag: {
    apply: (s) => {
      delete lb(s).dropletTag;
      lb(s).dropletIds = s.droplets.map((_, i) => 1000 + i);
    },
    breaks: "scale-load-balancer-health-check",
  },
  lastDropletUntagged: {
    apply: (s) => (s.droplets[s.droplets.length - 1].props.tags = ["acme-other"]),
    breaks: "scale-load-balancer-health-check",
  },
  redirectOff: {
    apply: (s) => (lb(s).redirectHttpToHttps = false),
    breaks: "scale-load-balancer-health-check",
  },
  redirectUnset: {
    apply: (s) => delete lb(s).redirectHttpToHttps,
    breaks: "scale-load-balancer-health-check",
  },
  firewallOpenToTheWorld: {
    apply: (s) => (s.firewall.props.inboundRules = dropletInboundRules(ADMIN_CIDRS)),
    breaks: "scale-load-balancer-health-check",
  },
  firewallWorldBesideLoadBalancer: {
    apply: (s) => (s.firewall.props.inboundRules = [{ ...scaledInboundRules()[0], sourceAddresses: ["::/0"] }, scaledInboundRules()[1]]),
    breaks: "scale-load-balancer-health-check",
  },
  firewallAllPortsToAdmins: {
    apply: (s) =>
      (s.firewall.props.inboundRules = [...scaledInboundRules(), { protocol: "tcp", portRange: "1-65535", sourceAddresses: ADMIN_CIDRS }]),
    breaks: "scale-load-balancer-health-check",
  },
  redisContainerPresent: {
    apply: (s) => (s.redis = scaledStack(1, false).redis),
    breaks: "scale-managed-valkey",
  },
  valkeyMissing: {
    apply: (s) => delete s.valkey,
    breaks: "scale-managed-valkey",
  },
  valkeyAsRedisEngine: {
    apply: (s) => ((s.valkey as { props: Props }).props.engine = "redis"),
    breaks: "scale-managed-valkey",
  },
  singlePostgresNode: {
    apply: (s) => (s.postgres.props.nodeCount = 1),
    breaks: "scale-postgres-standby",
  },
} satisfies Record<string, ScaleEdit>;

export type ScaleEditName = keyof typeof SCALE_EDITS;

/** The scale-out topology with `droplets` droplets (one included) and the edits applied. */
export function editedStack(droplets: number, ...edits: ScaleEditName[]): ScaledStack {
  const stack = scaledStack(droplets, true);
  for (const name of edits) SCALE_EDITS[name].apply(stack);
  return stack;
}
