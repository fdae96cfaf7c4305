// Prices a stack from its resources (type, name, inputs), the same way for the check
// (which has the program's registrations) and the budget policy (which has the
// analyzer's resources). Pure: no Pulumi, no I/O.
import {
  DROPLET_BACKUP_SHARES,
  DROPLET_PRICES,
  LOAD_BALANCER_NODE_PRICES,
  POSTGRES_NODE_PRICES,
  Price,
  READ_REPLICA_BILLING,
  RESERVED_IP_ASSIGNED,
  RESERVED_IP_UNASSIGNED,
  SPACES_SUBSCRIPTION,
  UNBILLED,
  UPTIME_CHECK,
  VALKEY_NODE_PRICES,
  VOLUME_PER_GB,
} from "./prices";

export interface PricedResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
}

export interface CostItem {
  /** The resource's logical name (a droplet's backups are an item of their own, "<droplet> backups"). */
  name: string;
  type: string;
  /** What is billed, e.g. "s-2vcpu-4gb" or "db-s-2vcpu-4gb × 2 nodes". */
  what: string;
  /** USD per month; null when the price table has no sourced figure. */
  monthlyUsd: number | null;
  source: string;
}

export interface CostEstimate {
  items: CostItem[];
  /** Sum of the priced items, in USD per month. */
  totalUsd: number;
  /** Items left out of the total because the table has no sourced price for them. */
  unpriced: number;
}

export const DROPLET = "digitalocean:index/droplet:Droplet";
export const VOLUME = "digitalocean:index/volume:Volume";
export const DATABASE_CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";
export const DATABASE_REPLICA = "digitalocean:index/databaseReplica:DatabaseReplica";
export const LOAD_BALANCER = "digitalocean:index/loadBalancer:LoadBalancer";
export const SPACES_BUCKET = "digitalocean:index/spacesBucket:SpacesBucket";
export const RESERVED_IP = "digitalocean:index/reservedIp:ReservedIp";
export const RESERVED_IP_ASSIGNMENT = "digitalocean:index/reservedIpAssignment:ReservedIpAssignment";
export const UPTIME_CHECK_TYPE = "digitalocean:index/uptimeCheck:UptimeCheck";

/** Whole cents, so sums of table prices print exactly. */
function cents(usd: number): number {
  return Math.round(usd * 100) / 100;
}

function times(price: Price, factor: number): number | null {
  return price.monthlyUsd === null ? null : cents(price.monthlyUsd * factor);
}

const NOT_IN_TABLE = (what: string) => `not in the price table (components/cost/prices.ts): ${what}`;

function lookup(table: Readonly<Record<string, Price>>, slug: unknown): Price {
  const key = String(slug);
  return Object.hasOwn(table, key) ? table[key] : { monthlyUsd: null, source: NOT_IN_TABLE(key) };
}

/** The droplet's backup plan: its backupPolicy's, or DigitalOcean's default when it sets none. */
function backupPlan(policy: unknown): string {
  const plan = typeof policy === "object" && policy !== null ? (policy as { plan?: unknown }).plan : undefined;
  return typeof plan === "string" && plan !== "" ? plan : DROPLET_BACKUP_SHARES.defaultPlan;
}

function positive(value: unknown, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/**
 * The node prices of a database cluster's engine, and what its item says before the size:
 * PostgreSQL's bare (as before there was another engine; a cluster that names none is one),
 * Valkey's with its name. Undefined for an engine the table does not price.
 */
function clusterEngine(engine: unknown): { prices: Readonly<Record<string, Price>>; label: string } | undefined {
  if (engine === undefined || engine === "pg") return { prices: POSTGRES_NODE_PRICES, label: "" };
  if (engine === "valkey") return { prices: VALKEY_NODE_PRICES, label: "valkey " };
  return undefined;
}

/** Every billable resource of the stack with its monthly price, and the total of those priced. */
export function estimateCost(resources: PricedResource[]): CostEstimate {
  const items: CostItem[] = [];
  const assignedIps = resources.some((r) => r.type === RESERVED_IP_ASSIGNMENT);
  let spacesSeen = false;
  for (const r of resources) {
    if (r.type === DROPLET) {
      const price = lookup(DROPLET_PRICES, r.props.size);
      items.push({ name: r.name, type: r.type, what: String(r.props.size), monthlyUsd: price.monthlyUsd, source: price.source });
      if (r.props.backups === true) {
        const plan = backupPlan(r.props.backupPolicy);
        const share = Object.hasOwn(DROPLET_BACKUP_SHARES.shares, plan) ? DROPLET_BACKUP_SHARES.shares[plan] : undefined;
        items.push({
          name: `${r.name} backups`,
          type: r.type,
          what: share === undefined ? `${plan} backups` : `${plan} backups, ${share * 100}% of the droplet`,
          monthlyUsd: price.monthlyUsd === null || share === undefined ? null : cents(price.monthlyUsd * share),
          source: share === undefined ? NOT_IN_TABLE(`backup plan ${plan}`) : DROPLET_BACKUP_SHARES.source,
        });
      }
    } else if (r.type === VOLUME) {
      const gb = positive(r.props.size, 0);
      items.push({ name: r.name, type: r.type, what: `${gb} GiB`, monthlyUsd: times(VOLUME_PER_GB, gb), source: VOLUME_PER_GB.source });
    } else if (r.type === DATABASE_CLUSTER) {
      const nodes = positive(r.props.nodeCount, 1);
      const engine = clusterEngine(r.props.engine);
      const price = engine
        ? lookup(engine.prices, r.props.size)
        : { monthlyUsd: null, source: NOT_IN_TABLE(`engine ${String(r.props.engine)}`) };
      items.push({
        name: r.name,
        type: r.type,
        what: `${engine?.label ?? ""}${String(r.props.size)} × ${nodes} node${nodes === 1 ? "" : "s"}`,
        monthlyUsd: times(price, nodes),
        source: price.source,
      });
    } else if (r.type === DATABASE_REPLICA) {
      const price = lookup(POSTGRES_NODE_PRICES, r.props.size);
      items.push({
        name: r.name,
        type: r.type,
        what: `${String(r.props.size)} read replica`,
        monthlyUsd: price.monthlyUsd,
        source: price.monthlyUsd === null ? price.source : `${price.source}; ${READ_REPLICA_BILLING.source}`,
      });
    } else if (r.type === LOAD_BALANCER) {
      // Priced per node, as the registration states it in sizeUnit (dropstack always sets it);
      // the legacy `size` (lb-small, …) names no node count any dated page prices.
      const units = Number(r.props.sizeUnit);
      const kind = typeof r.props.type === "string" && r.props.type !== "" ? r.props.type : "REGIONAL";
      const stated = Number.isInteger(units) && units > 0;
      const price = stated
        ? lookup(LOAD_BALANCER_NODE_PRICES, kind)
        : { monthlyUsd: null, source: NOT_IN_TABLE("a load balancer without sizeUnit") };
      items.push({
        name: r.name,
        type: r.type,
        what: stated ? `${kind.toLowerCase()} load balancer × ${units} node${units === 1 ? "" : "s"}` : "load balancer",
        monthlyUsd: stated ? times(price, units) : null,
        source: price.source,
      });
    } else if (r.type === SPACES_BUCKET) {
      // One subscription per team covers every bucket.
      items.push({
        name: r.name,
        type: r.type,
        what: spacesSeen ? "covered by the Spaces subscription" : "Spaces subscription",
        monthlyUsd: spacesSeen ? 0 : SPACES_SUBSCRIPTION.monthlyUsd,
        source: SPACES_SUBSCRIPTION.source,
      });
      spacesSeen = true;
    } else if (r.type === RESERVED_IP) {
      const price = assignedIps ? RESERVED_IP_ASSIGNED : RESERVED_IP_UNASSIGNED;
      items.push({
        name: r.name,
        type: r.type,
        what: assignedIps ? "assigned to a droplet" : "not assigned",
        monthlyUsd: price.monthlyUsd,
        source: price.source,
      });
    } else if (r.type === UPTIME_CHECK_TYPE) {
      items.push({ name: r.name, type: r.type, what: "uptime check", monthlyUsd: UPTIME_CHECK.monthlyUsd, source: UPTIME_CHECK.source });
    } else if (r.type.startsWith("digitalocean:") && !Object.hasOwn(UNBILLED, r.type)) {
      // A DigitalOcean resource nobody has priced or shown to be free: listed as
      // unpriced, so a new billable resource shows up in the check instead of costing nothing.
      items.push({ name: r.name, type: r.type, what: r.type.split(":").pop() ?? r.type, monthlyUsd: null, source: NOT_IN_TABLE(r.type) });
    }
  }
  return {
    items,
    totalUsd: cents(items.reduce((sum, i) => sum + (i.monthlyUsd ?? 0), 0)),
    unpriced: items.filter((i) => i.monthlyUsd === null).length,
  };
}

/** The priced items, most expensive first. */
export function biggestItems(estimate: CostEstimate, count: number): (CostItem & { monthlyUsd: number })[] {
  return estimate.items
    .filter((i): i is CostItem & { monthlyUsd: number } => i.monthlyUsd !== null && i.monthlyUsd > 0)
    .sort((a, b) => b.monthlyUsd - a.monthlyUsd || a.name.localeCompare(b.name))
    .slice(0, count);
}

export interface CostChange {
  name: string;
  before?: CostItem;
  after?: CostItem;
  /** after − before in USD per month; null when either side is unpriced. */
  deltaUsd: number | null;
}

export interface CostComparison {
  changes: CostChange[];
  /** Difference of the two totals (priced items only). */
  totalDeltaUsd: number;
}

/** What going from `before` to `after` adds (or saves) per month, item by item (items matched by name). */
export function compareCosts(before: CostEstimate, after: CostEstimate): CostComparison {
  const names = [...new Set([...after.items.map((i) => i.name), ...before.items.map((i) => i.name)])];
  const changes: CostChange[] = [];
  for (const name of names) {
    const b = before.items.find((i) => i.name === name);
    const a = after.items.find((i) => i.name === name);
    if (b && a && b.what === a.what && b.monthlyUsd === a.monthlyUsd) continue;
    const deltaUsd =
      (b && b.monthlyUsd === null) || (a && a.monthlyUsd === null) ? null : cents((a?.monthlyUsd ?? 0) - (b?.monthlyUsd ?? 0));
    changes.push({ name, before: b, after: a, deltaUsd });
  }
  return { changes, totalDeltaUsd: cents(after.totalUsd - before.totalUsd) };
}

export function formatUsd(usd: number): string {
  return `$${usd.toFixed(2)}`;
}

export function formatDelta(usd: number): string {
  return `${usd < 0 ? "-" : "+"}$${Math.abs(usd).toFixed(2)}`;
}
