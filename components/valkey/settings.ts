// Pure rules for DigitalOcean's managed Valkey (the Valkey component, used past one droplet):
// which eviction policies it takes, how many nodes of which size, and the URL the app gets.
// Unit-tested without mocks.
import { REDIS_EVICTION_POLICIES, buildRedisUrl } from "../cache/render";
import { ramGbOf } from "../database/settings";

/**
 * The maxmemory policies DigitalOcean's Valkey configuration takes: the provider's
 * `valkey_maxmemory_policy` refuses anything else before the API is asked
 * (terraform-provider-digitalocean, resource_database_valkey_config.go). Redis's two LFU
 * policies are not among them.
 */
export const VALKEY_EVICTION_POLICIES = [
  "noeviction",
  "allkeys-lru",
  "allkeys-random",
  "volatile-lru",
  "volatile-random",
  "volatile-ttl",
] as const;

/** The LRU policy with the same key scope as each policy Valkey refuses: what to use instead. */
const NEAREST_ACCEPTED: Readonly<Record<string, string>> = { "allkeys-lfu": "allkeys-lru", "volatile-lfu": "volatile-lru" };

/** Why dropstack:redis.evictionPolicy cannot be managed Valkey's, or undefined. */
export function valkeyEvictionPolicyProblem(policy: string): string | undefined {
  if ((VALKEY_EVICTION_POLICIES as readonly string[]).includes(policy)) return undefined;
  const instead = NEAREST_ACCEPTED[policy];
  if (instead)
    return `${policy} is not one DigitalOcean's managed Valkey takes (${VALKEY_EVICTION_POLICIES.join(", ")}); ${instead} evicts from the same keys, least recently used first`;
  return `expected one of ${REDIS_EVICTION_POLICIES.join(", ")}, got ${JSON.stringify(policy)}`;
}

/**
 * dropstack:redis.evictionPolicy as the Valkey configuration's `valkeyMaxmemoryPolicy`. The
 * names are Redis's own, so every policy Valkey takes passes unchanged; an LFU policy is
 * refused rather than quietly swapped for another.
 */
export function valkeyMaxmemoryPolicy(policy: string): string {
  const problem = valkeyEvictionPolicyProblem(policy);
  if (problem) throw new Error(`dropstack:redis.evictionPolicy: ${problem}`);
  return policy;
}

/** A primary and at most one standby: "Valkey clusters can have up to one standby node" (DigitalOcean's Valkey standby-node how-to). */
export const VALKEY_MAX_NODES = 2;
/** "standby nodes are only supported for plans with 2GB of RAM or more" (the same page). */
export const VALKEY_STANDBY_MIN_RAM_GB = 2;

/** What DigitalOcean would refuse about a Valkey cluster of `nodes` nodes of `size`, by the key to change. */
export function valkeyClusterProblems(cluster: { size: string; nodes: number }): { key: "size" | "nodes"; message: string }[] {
  if (!Number.isInteger(cluster.nodes) || cluster.nodes < 1 || cluster.nodes > VALKEY_MAX_NODES)
    return [
      {
        key: "nodes",
        message: `must be 1 or ${VALKEY_MAX_NODES} (a primary and at most one standby: DigitalOcean's Valkey takes one standby node), got ${cluster.nodes}`,
      },
    ];
  const ram = ramGbOf(cluster.size);
  if (cluster.nodes > 1 && (ram === undefined || ram < VALKEY_STANDBY_MIN_RAM_GB))
    return [
      {
        key: "size",
        message: `${cluster.size} cannot have a standby node: DigitalOcean supports Valkey standbys on plans with ${VALKEY_STANDBY_MIN_RAM_GB} GB of RAM or more (use db-s-1vcpu-2gb, or scale.valkey.nodes 1)`,
      },
    ];
  return [];
}

export interface ValkeyConnection {
  /** The cluster's user (`default` on DigitalOcean). */
  user: string;
  password: string;
  /** The cluster's private (VPC) host: the droplets reach it without leaving the VPC. */
  host: string;
  port: number;
}

/** `rediss://<user>:<password>@<host>:<port>/0`: DigitalOcean's Valkey takes TLS connections only. */
export function valkeyUrl(connection: ValkeyConnection): string {
  return buildRedisUrl({ ...connection, db: 0, tls: true });
}

/**
 * `rediss://<host>:<port>` without credentials: redis_exporter's --redis.addr, which it also
 * looks its password up by (the observability component's password file).
 */
export function valkeyExporterAddress(host: string, port: number): string {
  // valkeyUrl refuses a bad host or port; the address is its URL without user, password and database.
  return valkeyUrl({ user: "default", password: "", host, port })
    .replace(/^rediss:\/\/[^@]*@/, "rediss://")
    .replace(/\/0$/, "");
}
