// What the Monitoring component watches and when it pages, as plain data and pure
// functions (tested without mocks). Values are the DigitalOcean API's own spellings: the
// provider's generated docs show them camelCased ("euWest", "greaterThan"), but the API
// and the Terraform provider underneath validate snake_case ("eu_west", "greater_than").
import { isHostname } from "../config/hostname";
import { DO_REGIONS } from "../config/schema";
import { BACKUP_PROBE } from "../hooks/schedule";

export type DoRegion = (typeof DO_REGIONS)[number];

/** The places DigitalOcean Uptime probes from. */
export const UPTIME_PROBE_REGIONS = ["us_east", "us_west", "eu_west", "se_asia"] as const;
export type UptimeProbeRegion = (typeof UPTIME_PROBE_REGIONS)[number];

// The probe region nearest the droplet first (what most users see), then a second one on
// another network path, so the dashboard can tell a regional routing problem from an outage.
const PROBES_BY_REGION: Record<DoRegion, [UptimeProbeRegion, UptimeProbeRegion]> = {
  nyc1: ["us_east", "us_west"],
  nyc2: ["us_east", "us_west"],
  nyc3: ["us_east", "us_west"],
  tor1: ["us_east", "us_west"],
  atl1: ["us_east", "us_west"],
  sfo2: ["us_west", "us_east"],
  sfo3: ["us_west", "us_east"],
  ams3: ["eu_west", "us_east"],
  lon1: ["eu_west", "us_east"],
  fra1: ["eu_west", "us_east"],
  blr1: ["se_asia", "eu_west"],
  sgp1: ["se_asia", "eu_west"],
  syd1: ["se_asia", "us_west"],
};

/** Probe regions for a droplet region, nearest first. */
export function uptimeProbeRegions(region: string): UptimeProbeRegion[] {
  const probes = PROBES_BY_REGION[region as DoRegion];
  if (!probes) throw new Error(`no Uptime probe regions known for DigitalOcean region ${JSON.stringify(region)}`);
  return [...probes];
}

/** The URL the uptime check requests: the API's health endpoint through nginx and TLS. */
export function healthCheckUrl(apiHost: string, healthPath: string): string {
  if (!isHostname(apiHost)) throw new Error(`expected a hostname like api.example.com, got ${JSON.stringify(apiHost)}`);
  if (!/^\/[\w\-./]*$/.test(healthPath)) throw new Error(`expected a path like /health, got ${JSON.stringify(healthPath)}`);
  return `https://${apiHost}${healthPath}`;
}

export interface UptimeAlertRule {
  /** Short name used in resource names: `${name}-uptime-${key}`. */
  key: string;
  type: "down" | "down_global" | "latency" | "ssl_expiry";
  /** Milliseconds for latency, days for ssl_expiry; none for down. */
  threshold?: number;
  comparison?: "greater_than" | "less_than";
  period: "2m" | "3m" | "5m" | "10m" | "15m" | "30m" | "1h";
  summary: string;
}

export const UPTIME_ALERT_RULES: readonly UptimeAlertRule[] = [
  // Probes run about once a minute; three minutes rides out a single lost probe.
  { key: "down", type: "down", period: "3m", summary: "the health endpoint is down" },
  // A health endpoint that takes over a second for five minutes means a saturated app or
  // database long before it fails outright.
  {
    key: "latency",
    type: "latency",
    threshold: 1000,
    comparison: "greater_than",
    period: "5m",
    summary: "the health endpoint answers slower than 1000 ms",
  },
  // certbot renews 30 days before expiry; 14 days left means two weeks of failed renewals.
  {
    key: "tls-expiry",
    type: "ssl_expiry",
    threshold: 14,
    comparison: "less_than",
    period: "1h",
    summary: "the TLS certificate expires within 14 days",
  },
];

export interface DropletAlertRule {
  key: string;
  type: string;
  /** Percent. */
  value: number;
  window: "5m" | "10m" | "30m" | "1h";
  summary: string;
}

export const DROPLET_ALERT_RULES: readonly DropletAlertRule[] = [
  // Sustained, not a spike from an image pull or a migration.
  { key: "cpu", type: "v1/insights/droplet/cpu", value: 90, window: "5m", summary: "CPU above 90%" },
  // Redis' maxmemory and the app share the droplet; above 90% the kernel starts killing.
  { key: "memory", type: "v1/insights/droplet/memory_utilization_percent", value: 90, window: "5m", summary: "memory above 90%" },
  // Room to act before docker images, logs or the AOF fill a disk.
  { key: "disk", type: "v1/insights/droplet/disk_utilization_percent", value: 80, window: "5m", summary: "disk above 80%" },
];

/**
 * The description DigitalOcean shows in the alert and its emails: which stack, what
 * crossed which line.
 */
export function describeDropletAlert(stackName: string, rule: DropletAlertRule): string {
  return `${stackName}: droplet ${rule.summary} for ${rule.window}`;
}

/**
 * The backup freshness probe (components/hooks/schedule.ts): a file in the ACME webroot that the
 * droplet's freshness check keeps only while the newest verified backup is younger than twice
 * the interval, the last off-site copy too, and the last restore drill passed. Plain HTTP, as
 * nginx serves the ACME webroot on port 80 only.
 */
export function backupProbeUrl(apiHost: string): string {
  if (!isHostname(apiHost)) throw new Error(`expected a hostname like api.example.com, got ${JSON.stringify(apiHost)}`);
  return `http://${apiHost}${BACKUP_PROBE.path}`;
}

/** The probe answering 404 means stale backups or a failed drill; the check runs every 15 minutes. */
export const BACKUP_ALERT_RULE: UptimeAlertRule = {
  key: "backups",
  type: "down",
  period: "10m",
  summary: "backups are stale or the last restore drill failed (the droplet's /srv/dropstack/status/backups.json says why)",
};
