// Pure settings for the managed PostgreSQL cluster: connection URIs, the maintenance
// window, the trusted sources and the pool size. Unit-tested without mocks.
import { isIP } from "node:net";

/** Oldest PostgreSQL major dropstack runs on (pg_dump/pg_restore in the hooks, PUBLIC's CREATE on public revoked). */
export const MIN_POSTGRES_MAJOR = 15;

export interface ConnectionParts {
  user: string;
  password: string;
  host: string;
  port: number;
  database: string;
}

/**
 * `postgresql://user:password@host:port/database?sslmode=require`, with user, password
 * and database percent-encoded so any character survives libpq and URL parsers.
 */
export function connectionUri(parts: ConnectionParts): string {
  if (!parts.host) throw new Error("connectionUri: host is empty");
  if (!Number.isInteger(parts.port) || parts.port < 1 || parts.port > 65535) throw new Error(`connectionUri: bad port ${parts.port}`);
  const host = isIP(parts.host) === 6 ? `[${parts.host}]` : parts.host;
  const credentials = `${encodeURIComponent(parts.user)}:${encodeURIComponent(parts.password)}`;
  return `postgresql://${credentials}@${host}:${parts.port}/${encodeURIComponent(parts.database)}?sslmode=require`;
}

/** DigitalOcean wants the hour as "HH:MM:SS" in UTC and reports it back that way, so state never drifts. */
export function maintenanceWindow(day: string, hour: number): { day: string; hour: string } {
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw new Error(`maintenance hour must be 0-23, got ${hour}`);
  return { day, hour: `${String(hour).padStart(2, "0")}:00:00` };
}

export interface TrustedSource<T> {
  type: "tag" | "ip_addr";
  value: T | string;
}

/**
 * The droplet (by its tag, so a replacement droplet is admitted at once) and the IPv4
 * admin CIDRs. DigitalOcean database trusted sources take no IPv6, so IPv6 admin ranges
 * reach SSH but not the database admin endpoint.
 */
export function trustedSources<T>(dropletTag: T, adminCidrs: readonly string[]): TrustedSource<T>[] {
  return [{ type: "tag", value: dropletTag }, ...ipv4Only(adminCidrs).map((cidr): TrustedSource<T> => ({ type: "ip_addr", value: cidr }))];
}

export function ipv4Only(cidrs: readonly string[]): string[] {
  return [...new Set(cidrs.filter((c) => isIP(c.split("/")[0]) === 4))];
}

/** RAM in GB from a database size slug such as `db-s-2vcpu-4gb` or `gd-8vcpu-32gb`. */
export function ramGbOf(sizeSlug: string): number | undefined {
  const match = /-(\d+)gb$/.exec(sizeSlug);
  return match ? Number(match[1]) : undefined;
}

/**
 * Backend connections DigitalOcean gives a cluster: 25 per GB of RAM, 3 kept for
 * maintenance. Unknown slugs are sized like the smallest (1 GB) node, which never
 * asks for more than the cluster has.
 */
export function backendConnections(sizeSlug: string): number {
  return 25 * (ramGbOf(sizeSlug) ?? 1) - 3;
}

/**
 * The app's PgBouncer pool takes three quarters of the backend connections; the rest
 * stay free for the direct connections of the migrator, readonly, backups and admins.
 */
export function appPoolSize(sizeSlug: string): number {
  const total = backendConnections(sizeSlug);
  const reserved = Math.max(5, Math.ceil(total / 4));
  return Math.max(1, total - reserved);
}

/** The DigitalOcean name of the cluster's n-th read replica (from 1). */
export function readReplicaName(clusterName: string, n: number): string {
  return `${clusterName}-replica-${n}`;
}

/**
 * Why a read replica of `replicaSize` cannot serve a cluster of `primarySize`, or undefined:
 * DigitalOcean's read-only node "size ... must be equal to or larger than the primary node"
 * (its PostgreSQL read-only node how-to), compared by RAM, which every size slug states.
 */
export function readReplicaSizeProblem(primarySize: string, replicaSize: string): string | undefined {
  const primary = ramGbOf(primarySize);
  const replica = ramGbOf(replicaSize);
  if (primary === undefined || replica === undefined || replica >= primary) return undefined;
  return `${replicaSize} (${replica} GB) is smaller than postgres.size ${primarySize} (${primary} GB): DigitalOcean's read replicas are the primary's size or larger`;
}
