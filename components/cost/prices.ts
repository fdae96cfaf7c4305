// What the billable DigitalOcean resources dropstack can declare cost per month, in USD,
// each with the public page it was read from and the date that page states. DigitalOcean's
// own price pages were not all in the material available when the table was compiled, so
// several figures come from dated third-party transcriptions of them; each source says
// which. A price no public page confirmed is null ("unsourced"): the check lists the
// resource as unpriced rather than guessing, and its total says how many items it leaves
// out. The config schema accepts exactly the droplet, database and Valkey sizes listed here,
// so a size nobody has looked up cannot reach a stack unnoticed.

export interface Price {
  /** USD per month; null when no public source was found. */
  monthlyUsd: number | null;
  /** Where the figure comes from (or why there is none). */
  source: string;
  /** The date the source states for the figure (ISO); undefined when the page is undated or there is no source. */
  asOf?: string;
}

/** When the table was last read: every source below was read on or before this day. */
export const PRICES_READ_ON = "2026-11-30";

const DROPLET_SOURCE =
  "https://github.com/Hamerbyh/vpsprice/blob/4e71e186814c10cad6f5ff12e8ba49e7178b5d57/src/providers/digitalocean/droplet-price.md (Basic Regular droplets with SSD, dated 2024-03-26: $4 512MB, $6 1GB, $12 1vCPU/2GB, $18 2vCPU/2GB, $24 4GB, $48 8GB, $96 16GB; the same figures DigitalOcean set in its 2022-07-01 price change, tabulated in https://gist.github.com/colinwilson/cd31bde012f6727b24b2fc4ebee749c0)";

const droplet = (monthlyUsd: number): Price => ({ monthlyUsd, source: DROPLET_SOURCE, asOf: "2024-03-26" });

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

// Managed PostgreSQL is billed per node: a standby costs what the primary costs ("optional
// standby node (doubles cost)" in the Bytebase comparison; "Having a Standby Node bumps the
// cost up to $60/month" for the 2 GiB plan in dwyl/learn-postgresql#54, 2023-11-18), and
// each plan includes its storage, so the price of a cluster is the node price × nodes.
const ASTOR_URL =
  "https://github.com/astorDev/astorDev.github.io/blob/56f032976886619ff55e611f9075245eed00bcdd/articles/postgres-hosting-prices/index.md";
const BYTEBASE_URL =
  "https://github.com/bytebase/bytebase.com/blob/5053919615b3bed75e4d4cb628cdab834b045cbc/content/blog/postgres-hosting-options-pricing-comparison.md";
const astor = (row: string, monthlyUsd: number): Price => ({
  monthlyUsd,
  source: `${ASTOR_URL} (article dated 2024-05-08 tabulating https://www.digitalocean.com/pricing/managed-databases#postgresql, Basic Regular CPU: ${row})`,
  asOf: "2024-05-08",
});
const bytebase = (quote: string, monthlyUsd: number, astorNote: string): Price => ({
  monthlyUsd,
  source: `${BYTEBASE_URL} (Bytebase comparison dated 2025-05-06: DigitalOcean "${quote}"; ${astorNote} in ${ASTOR_URL} of 2024-05-08)`,
  asOf: "2025-05-06",
});
const unsourcedNode = (what: string): Price => ({
  monthlyUsd: null,
  source: `unsourced: no dated public page with the price of the ${what} PostgreSQL node was found`,
});

/**
 * Managed PostgreSQL, per node (primary and each standby). Sizes with two dated sources
 * take the newer one; where they disagree the source says so. The two largest Basic sizes
 * appear in no dated public source found, so they stay unsourced and the check lists a
 * cluster of that size as unpriced.
 */
export const POSTGRES_NODE_PRICES: Readonly<Record<string, Price>> = {
  "db-s-1vcpu-1gb": bytebase("$15.00 (1 vCPU, 1 GiB)", 15, "the same figure"),
  "db-s-1vcpu-2gb": astor("1 vCPU, 2 GiB, 30 GiB $30.00", 30),
  "db-s-2vcpu-4gb": bytebase("$60.00 (2 vCPU, 4 GiB)", 60, "the same figure"),
  "db-s-4vcpu-8gb": astor("4 vCPUs, 8 GiB, 140 GiB $120.00", 120),
  "db-s-6vcpu-16gb": bytebase("$244.00 (6 vCPU, 16 GiB)", 244, "$240.00"),
  "db-s-8vcpu-32gb": unsourcedNode("8 vCPU / 32 GiB"),
  "db-s-16vcpu-64gb": unsourcedNode("16 vCPU / 64 GiB"),
};

/**
 * A PostgreSQL read replica (read-only node) is billed as a node of its size: DigitalOcean's
 * PostgreSQL pricing page starts read-only nodes at the 1 GiB node's $15, and a replica is
 * sized with the same slugs as the cluster's nodes. The estimate prices a replica from
 * POSTGRES_NODE_PRICES by its size and adds this source.
 */
export const READ_REPLICA_BILLING = {
  source:
    'https://docs.digitalocean.com/products/databases/postgresql/details/pricing/ (last edited 2025-06-17: "Read-only nodes begin at $15.00 per month", the price of the 1 GiB node: a read-only node costs what a node of its size costs)',
  asOf: "2025-06-17",
} as const;

const VALKEY_URL = "https://docs.digitalocean.com/products/databases/valkey/details/pricing/";

/**
 * Managed Valkey, per node (primary and its standby), storage included. DigitalOcean's Valkey
 * pricing page gives the two smallest plans; no dated public page with a larger plan's figure
 * was found, so the config takes these two sizes only.
 */
export const VALKEY_NODE_PRICES: Readonly<Record<string, Price>> = {
  "db-s-1vcpu-1gb": {
    monthlyUsd: 15,
    source: `${VALKEY_URL} (last edited 2025-06-17: "Single node clusters begin at $15.00 per month for a single node cluster with 1 GiB of RAM")`,
    asOf: "2025-06-17",
  },
  "db-s-1vcpu-2gb": {
    monthlyUsd: 30,
    source: `${VALKEY_URL} (last edited 2025-06-17: "High availability clusters begin at $30.00 per month for a 2 GiB RAM/1 vCPU primary node with at least one $30.00 per month matching standby node")`,
    asOf: "2025-06-17",
  },
};

const LOAD_BALANCER_URL = "https://docs.digitalocean.com/products/networking/load-balancers/details/pricing/";

/**
 * Regional load balancers, per node (the provider's `sizeUnit`, 1 unless set), by the
 * LoadBalancer's `type` (REGIONAL unless set). A global load balancer's price depends on its
 * traffic, so it is not in the table.
 */
export const LOAD_BALANCER_NODE_PRICES: Readonly<Record<string, Price>> = {
  REGIONAL: {
    monthlyUsd: 12,
    source: `${LOAD_BALANCER_URL} (last edited 2025-02-28: "Regional HTTP load balancers cost $12.00 per month per node.")`,
    asOf: "2025-02-28",
  },
  REGIONAL_NETWORK: {
    monthlyUsd: 15,
    source: `${LOAD_BALANCER_URL} (last edited 2025-02-28: "Regional network load balancers cost $15.00 per month per node.")`,
    asOf: "2025-02-28",
  },
};

/**
 * Droplet backups add a share of the droplet's price by backup plan ("basic" plans). A
 * droplet with `backups` and no `backupPolicy` gets the daily plan: "If omitted and
 * `backups` is `true`, the backup plan will default to daily" (the provider's Droplet
 * reference, node_modules/@pulumi/digitalocean/droplet.d.ts).
 */
export const DROPLET_BACKUP_SHARES = {
  shares: { weekly: 0.2, daily: 0.3 } as Readonly<Record<string, number>>,
  defaultPlan: "daily",
  source:
    "https://docs.digitalocean.com/products/backups/details/pricing (validated 2026-03-09, basic plans: weekly adds 20.0% of the Droplet's cost per month, daily adds 30.0%)",
  asOf: "2026-03-09",
} as const;

/** Block storage volumes, per GiB (billed on the size, attached or not). */
export const VOLUME_PER_GB: Price = {
  monthlyUsd: 0.1,
  source:
    'https://github.com/hashbang/gitops/issues/76 (2021-02-09: DigitalOcean volumes "are $10/100GB"; $0.10 per GB a month is the launch price in https://thenewstack.io/digitalocean-launches-block-storage-service-storage-hungry-cloud-users/)',
  asOf: "2021-02-09",
};

/** One Spaces subscription covers every bucket of the team (250 GiB storage, 1 TiB transfer included). */
export const SPACES_SUBSCRIPTION: Price = {
  monthlyUsd: 5,
  source:
    'https://github.com/hashbang/gitops/issues/76 (2021-02-09: DigitalOcean Spaces "$5/250GB per month"; DigitalOcean staff confirm one $5 subscription however many Spaces at https://www.digitalocean.com/community/questions/prices-explanation-5-per-space-or-5-for-spaces, 2018-11-27)',
  asOf: "2021-02-09",
};

/** Reserved IPs cost nothing while assigned to a droplet (dropstack always assigns its one). */
export const RESERVED_IP_ASSIGNED: Price = {
  monthlyUsd: 0,
  source:
    'https://docs.digitalocean.com/products/networking/reserved-ips/how-to/modify/ (last updated 2025-06-17: "Assigned reserved IPv4 addresses are free, but unassigned reserved IPv4 addresses are not.")',
  asOf: "2025-06-17",
};

/** An unassigned reserved IP is billed, but no stored page states the figure. */
export const RESERVED_IP_UNASSIGNED: Price = {
  monthlyUsd: null,
  source:
    "unsourced: DigitalOcean's reserved IP pages say an unassigned reserved IPv4 is billed, but no public page with the monthly figure was found (dropstack always assigns its reserved IP)",
};

/** Uptime checks (DigitalOcean Monitoring → Uptime). */
export const UPTIME_CHECK: Price = {
  monthlyUsd: 1,
  source:
    'https://docs.digitalocean.com/products/uptime/details/ (generated 2026-03-27: "Each Uptime check costs $1.00 per month, billed in hourly increments. There is no additional cost for alerts.")',
  asOf: "2026-03-27",
};

/**
 * DigitalOcean resources dropstack declares that have no charge of their own, with why.
 * The estimate leaves them out; a test keeps every DigitalOcean type the program declares
 * either priced or in this list, so a new billable resource cannot go unpriced unnoticed.
 */
export const UNBILLED: Readonly<Record<string, string>> = {
  "digitalocean:index/uptimeAlert:UptimeAlert":
    'no charge: "There is no additional cost for alerts" (https://docs.digitalocean.com/products/uptime/details/, generated 2026-03-27)',
  "digitalocean:index/monitorAlert:MonitorAlert":
    'no charge: "DigitalOcean Monitoring is a free, opt-in service ... supports configurable metrics alert policies" (https://docs.digitalocean.com/products/monitoring/details/features/)',
  "digitalocean:index/certificate:Certificate":
    'no charge: "There is no additional cost to use Let\'s Encrypt with load balancers" (https://docs.digitalocean.com/products/networking/load-balancers/details/pricing/, last edited 2025-02-28)',
  "digitalocean:index/firewall:Firewall":
    'no charge: "Cloud Firewalls are a network-based, stateful firewall service for Droplets provided at no additional cost" (https://docs.digitalocean.com/products/networking/firewalls/reference/, last edited 2025-12-11)',
  "digitalocean:index/reservedIpAssignment:ReservedIpAssignment":
    "part of the reserved IP: it makes the reserved IP's price the assigned one",
  "digitalocean:index/volumeAttachment:VolumeAttachment": "part of the volume, which is billed by its size whether attached or not",
  "digitalocean:index/databaseDb:DatabaseDb": "part of the database cluster, billed per node",
  "digitalocean:index/databaseUser:DatabaseUser": "part of the database cluster, billed per node",
  "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool": "part of the database cluster, billed per node",
  "digitalocean:index/databaseFirewall:DatabaseFirewall": "part of the database cluster, billed per node",
  "digitalocean:index/databaseValkeyConfig:DatabaseValkeyConfig": "part of the Valkey cluster, billed per node",
  "digitalocean:index/spacesKey:SpacesKey": "part of the Spaces subscription",
  "digitalocean:index/project:Project": "no price: no public DigitalOcean page read lists a charge for projects (account organisation)",
  "digitalocean:index/tag:Tag": "no price: no public DigitalOcean page read lists a charge for tags (account organisation)",
  "digitalocean:index/vpc:Vpc":
    "no price: no public DigitalOcean page read lists a charge for a VPC network (traffic inside one does not count against bandwidth)",
  "digitalocean:index/domain:Domain": "no price: no public DigitalOcean page read lists a charge for DNS domains",
  "digitalocean:index/dnsRecord:DnsRecord": "no price: no public DigitalOcean page read lists a charge for DNS records",
};
