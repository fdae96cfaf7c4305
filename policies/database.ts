import * as digitalocean from "@pulumi/digitalocean";
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { ADMIN_SOURCE_LIMIT, describeTooWideSources } from "../components/network/cidr";
import { MIN_POSTGRES_MAJOR } from "../components/database/settings";
import { asList, asProps } from "./util";

const CLUSTER_TYPE = "digitalocean:index/databaseCluster:DatabaseCluster";

/**
 * A PostgreSQL cluster: engine "pg", or no engine said, as before managed Valkey (scale-out)
 * put a second engine in the stack.
 */
export function isPostgres(cluster: { engine?: unknown }): boolean {
  return cluster.engine === undefined || cluster.engine === "pg";
}
const FIREWALL_TYPE = "digitalocean:index/databaseFirewall:DatabaseFirewall";
const REPLICA_TYPE = "digitalocean:index/databaseReplica:DatabaseReplica";

export const databaseClusterProtected: ResourceValidationPolicy = {
  name: "database-cluster-protected",
  description:
    "The managed PostgreSQL cluster holds the app's data, and managed Valkey what the app's broker queues: each must be protected from deletion and replacement.",
  validateResource: validateResourceOfType(digitalocean.DatabaseCluster, (_cluster, args, reportViolation) => {
    if (!args.opts.protect)
      reportViolation("set `protect: true` on the database cluster so `pulumi destroy` or a replace cannot delete the data");
  }),
};

/**
 * The config key that sets a managed cluster's node count, and the counts with a standby, by
 * engine (PostgreSQL when it cannot be told): DigitalOcean gives Valkey one standby at most.
 */
const NODES: Record<string, { key: string; withStandby: string }> = {
  pg: { key: "dropstack:postgres.nodes", withStandby: "2 or 3" },
  valkey: { key: "dropstack:scale.valkey.nodes", withStandby: "2" },
};

/**
 * Why a cluster has no standby node to fail over to, or undefined when it has one: shared by
 * database-cluster-high-availability and, past one droplet, scale-postgres-standby.
 */
export function standbyProblem(cluster: { engine?: unknown; nodeCount?: unknown }): string | undefined {
  if (Number(cluster.nodeCount) >= 2) return undefined;
  const { key, withStandby } = NODES[String(cluster.engine)] ?? NODES.pg;
  return `the cluster has ${String(cluster.nodeCount)} node(s): set ${key} to ${withStandby} for a standby that takes over on failure`;
}

export const databaseClusterHighlyAvailable: ResourceValidationPolicy = {
  name: "database-cluster-high-availability",
  description: "Production databases run a standby node, so a node failure or maintenance fails over instead of taking the app down.",
  validateResource: validateResourceOfType(digitalocean.DatabaseCluster, (cluster, _args, reportViolation) => {
    const problem = standbyProblem(cluster);
    if (problem) reportViolation(problem);
  }),
};

export const databaseClusterSupportedVersion: ResourceValidationPolicy = {
  name: "database-cluster-supported-version",
  description: `PostgreSQL runs a supported major version (${MIN_POSTGRES_MAJOR} or newer), which the hooks and the privilege model assume.`,
  validateResource: validateResourceOfType(digitalocean.DatabaseCluster, (cluster, _args, reportViolation) => {
    // Valkey's versions (scale.valkey.version, "8") are not PostgreSQL's.
    if (!isPostgres(cluster)) return;
    // An unset version reads as NaN, which is refused like an old one.
    const major = Number(String(cluster.version).split(".")[0]);
    if (!Number.isInteger(major) || major < MIN_POSTGRES_MAJOR) {
      reportViolation(
        `PostgreSQL version "${String(cluster.version ?? "unset")}" is not supported: set dropstack:postgres.version to "${MIN_POSTGRES_MAJOR}" or newer (e.g. "16")`,
      );
    }
  }),
};

export const databaseClusterMaintenanceWindow: ResourceValidationPolicy = {
  name: "database-cluster-maintenance-window",
  description: "The cluster has a fixed maintenance window, so DigitalOcean patches it at a known, quiet hour.",
  validateResource: validateResourceOfType(digitalocean.DatabaseCluster, (cluster, _args, reportViolation) => {
    const windows = asList(cluster.maintenanceWindows)
      .map(asProps)
      .filter((w) => w.day && w.hour);
    if (windows.length === 0)
      reportViolation("no maintenance window: set dropstack:postgres.maintenance.day and dropstack:postgres.maintenance.hour");
  }),
};

export const databaseClusterPrivateNetwork: ResourceValidationPolicy = {
  name: "database-cluster-private-network",
  description: "The cluster lives in the stack's VPC, so the droplet reaches it over the private network.",
  validateResource: validateResourceOfType(digitalocean.DatabaseCluster, (cluster, _args, reportViolation) => {
    if (!cluster.privateNetworkUuid) reportViolation("the cluster is not in a VPC: set privateNetworkUuid to the stack's VPC id");
  }),
};

export const databaseFirewallNoPublicSources: ResourceValidationPolicy = {
  name: "database-firewall-no-public-sources",
  description: `The database trusts the droplet and the admin CIDRs only; its address sources together cover at most one IPv4 /${ADMIN_SOURCE_LIMIT[4].prefix} and one IPv6 /${ADMIN_SOURCE_LIMIT[6].prefix}, however they are spelled or split.`,
  validateResource: validateResourceOfType(digitalocean.DatabaseFirewall, (firewall, _args, reportViolation) => {
    const sources = asList(firewall.rules)
      .map(asProps)
      .filter((rule) => rule.type === "ip_addr")
      .map((rule) => String(rule.value ?? ""));
    const tooWide = describeTooWideSources(sources);
    if (tooWide) {
      reportViolation(
        `the database's trusted sources ${sources.join(", ")} ${tooWide}: list only your admin networks in dropstack:adminCidrs`,
      );
    }
  }),
};

export const databaseClusterHasFirewall: StackValidationPolicy = {
  name: "database-cluster-has-firewall",
  description:
    "Every database cluster and read replica has a firewall (trusted sources); without one DigitalOcean accepts connections from anywhere.",
  validateStack: (args, reportViolation) => {
    const firewalls = args.resources.filter((r) => r.type === FIREWALL_TYPE);
    for (const cluster of args.resources.filter((r) => r.type === CLUSTER_TYPE)) {
      if (!firewalls.some((f) => firewallGuards(f, cluster))) {
        reportViolation(
          `database cluster ${cluster.name} has no DatabaseFirewall whose clusterId is this cluster's id: add one admitting only the droplet tag and dropstack:adminCidrs`,
          cluster.urn,
        );
      }
    }
    // A read replica keeps trusted sources of its own; its firewall names it by uuid.
    for (const replica of args.resources.filter((r) => r.type === REPLICA_TYPE)) {
      if (!firewalls.some((f) => firewallGuards(f, replica))) {
        reportViolation(
          `read replica ${replica.name} has no DatabaseFirewall whose clusterId is this replica's uuid: add one admitting only the droplet tag`,
          replica.urn,
        );
      }
    }
  },
};

function firewallGuards(firewall: PolicyResource, cluster: PolicyResource): boolean {
  const clusterIdSources = [...(firewall.propertyDependencies.clusterId ?? []), ...firewall.dependencies];
  return clusterIdSources.some((r) => r.urn === cluster.urn);
}

export const databasePolicies = [
  databaseClusterProtected,
  databaseClusterHighlyAvailable,
  databaseClusterSupportedVersion,
  databaseClusterMaintenanceWindow,
  databaseClusterPrivateNetwork,
  databaseFirewallNoPublicSources,
  databaseClusterHasFirewall,
];
