// What the billable DigitalOcean resources dropstack can declare cost per month, in USD,
// each with the public page it was read from and that page's date. A price that no
// public page confirmed is null ("unsourced"): the check lists the resource as unpriced
// rather than guessing, and its total says how many items it leaves out.
// The config schema accepts exactly the droplet and database sizes listed here, so a
// size nobody has looked up cannot reach a stack unnoticed.

export interface Price {
  /** USD per month; null when no public source was found. */
  monthlyUsd: number | null;
  /** Where the figure comes from (or why there is none). */
  source: string;
  /** The date the source states for the figure (ISO); undefined when the page is undated or there is no source. */
  asOf?: string;
}

/** When the table was compiled: every source above was read on this day. */
export const PRICES_READ_ON = "2026-11-28";

const DROPLET_SOURCE =
  "https://gist.github.com/colinwilson/cd31bde012f6727b24b2fc4ebee749c0 (DigitalOcean's Basic Regular droplet prices from its 2022-07-01 price change, tabulated; the current table is https://docs.digitalocean.com/products/droplets/details/pricing)";
const UNSOURCED = "unsourced: no public DigitalOcean page with this figure was found when the table was written";

const droplet = (monthlyUsd: number): Price => ({ monthlyUsd, source: DROPLET_SOURCE, asOf: "2022-07-01" });
const unsourced: Price = { monthlyUsd: null, source: UNSOURCED };

/** Basic (Regular, shared CPU) droplets by size slug. */
export const DROPLET_PRICES: Readonly<Record<string, Price>> = {
  "s-1vcpu-512mb-10gb": droplet(4),
  "s-1vcpu-1gb": droplet(6),
  "s-1vcpu-2gb": droplet(12),
  "s-2vcpu-2gb": droplet(18),
  "s-2vcpu-4gb": droplet(24),
  "s-4vcpu-8gb": droplet(48),
  "s-8vcpu-16gb": droplet(96),
};

/**
 * Managed PostgreSQL, per node (primary and each standby). No public page stating the
 * current per-size figures was found, so every entry is unsourced until someone reads
 * https://www.digitalocean.com/pricing/managed-databases and fills them in.
 */
export const POSTGRES_NODE_PRICES: Readonly<Record<string, Price>> = {
  "db-s-1vcpu-1gb": unsourced,
  "db-s-1vcpu-2gb": unsourced,
  "db-s-2vcpu-4gb": unsourced,
  "db-s-4vcpu-8gb": unsourced,
  "db-s-6vcpu-16gb": unsourced,
  "db-s-8vcpu-32gb": unsourced,
  "db-s-16vcpu-64gb": unsourced,
};

/** Weekly droplet backups add a share of the droplet's price. */
export const DROPLET_BACKUP_SHARE = {
  share: 0.2,
  source:
    "https://docs.digitalocean.com/products/backups/details/pricing (basic plan: weekly backups add 20.0% of the Droplet's cost per month)",
  asOf: "2026-03-09",
} as const;

/** Block storage volumes, per GiB. */
export const VOLUME_PER_GB: Price = unsourced;

/** One Spaces subscription covers every bucket of the team (250 GiB storage, 1 TiB transfer included). */
export const SPACES_SUBSCRIPTION: Price = {
  monthlyUsd: 5,
  source:
    "https://www.digitalocean.com/community/questions/prices-explanation-5-per-space-or-5-for-spaces (DigitalOcean staff: $5 subscription, however many Spaces)",
  asOf: "2018-11-27",
};

/** Reserved IPs cost nothing while assigned to a droplet (dropstack always assigns its one). */
export const RESERVED_IP_ASSIGNED: Price = {
  monthlyUsd: 0,
  source:
    "https://docs.digitalocean.com/products/networking/floating-ips/ (free when assigned to a Droplet; reserved IPs are the renamed floating IPs)",
};

/** An unassigned reserved IP is billed (same page). */
export const RESERVED_IP_UNASSIGNED: Price = {
  monthlyUsd: 4,
  source: RESERVED_IP_ASSIGNED.source,
};

/** Uptime checks. */
export const UPTIME_CHECK: Price = unsourced;
