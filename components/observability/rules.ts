// Prometheus's alerting rules for the droplet, as data and as a rule file: what pages, at
// which thresholds (ObservabilitySettings.thresholds), with which labels. Pure functions of
// the settings; test/system/observability-promtool-rules.test.ts runs them through promtool.
//
// The managed database's series come from DigitalOcean's metrics endpoint (job JOBS.database):
// port 9273 of each cluster node (the cluster's `metrics_endpoints` in GET /v2/databases/{uuid},
// basic auth from GET /v2/databases/metrics/credentials; DigitalOcean's "How to Monitor
// PostgreSQL Database Performance", section "Access the Metrics Endpoint"). DigitalOcean lists
// no metric names there; the endpoint is Telegraf's Prometheus output, and the names used are:
// - `cpu_usage_idle{cpu="cpu-total"}`: Telegraf's cpu input, which Aiven's "Prometheus system
//   metrics" documents for the same kind of endpoint (100 - idle = busy);
// - `postgresql_pg_stat_activity_conn_count`: the connection count DigitalOcean's own agent
//   collects from this endpoint (digitalocean/do-agent, cmd/do-agent/whitelist.go, dbaasWhitelist).
// The endpoint exposes no max_connections, hence settings.databaseConnectionLimit.
import { Document } from "yaml";
import { DATA_MOUNT } from "../common/names";
import { UNITS } from "../hooks/schedule";
import {
  ALERT_SEVERITIES,
  JOBS,
  NGINX_LOG_METRICS,
  PERCENT_THRESHOLDS,
  WATCHDOG_ALERT,
  type AlertThresholds,
  type ObservabilitySettings,
} from "./settings";

export type Severity = (typeof ALERT_SEVERITIES)[keyof typeof ALERT_SEVERITIES];

/** Every alert the rules define, in rule-file order. */
export const ALERT_NAMES = [
  "HttpErrorRatioHigh",
  "HttpLatencyP95High",
  "LoginSuccessLow",
  "ScrapeTargetDown",
  "HostMetricsDown",
  "DiskFreeLow",
  "MemoryAvailableLow",
  "DatabaseCpuHigh",
  "DatabaseConnectionsHigh",
  "CertificateExpiringSoon",
  "CertificateProbeFailed",
  "BackupsStale",
  WATCHDOG_ALERT,
] as const;
export type AlertName = (typeof ALERT_NAMES)[number];

/** One alerting rule as Prometheus's rule file spells it. */
export interface AlertRule {
  alert: AlertName;
  expr: string;
  /** How long the condition must hold before the alert fires (a Prometheus duration). */
  for: string;
  labels: { severity: Severity; stack: string };
  annotations: { summary: string; description: string };
}

export interface AlertRuleGroup {
  name: string;
  rules: AlertRule[];
}

/** The rule file's name under CONFIG_PATHS.prometheusRulesDir. */
export const ALERT_RULES_FILE = "dropstack-alerts.yml";

/**
 * The request windows. A host's 5xx share and p95 are judged only once it has served
 * MIN_REQUESTS in the window, so one error among three requests at night does not page.
 */
export const REQUEST_WINDOW = "5m";
export const MIN_REQUESTS = 100;
/** Logins are rarer than requests: a longer window, and fewer attempts needed to judge. */
export const LOGIN_WINDOW = "15m";
export const MIN_LOGIN_ATTEMPTS = 20;
/** certbot renews a certificate this many days before it expires. */
const CERTBOT_RENEWAL_DAYS = 30;
/** The filesystems whose free space is watched: the droplet's root and the data volume. */
export const WATCHED_MOUNTPOINTS = ["/", DATA_MOUNT] as const;

const POSITIVE_THRESHOLDS = ["p95LatencyMs", "minCertificateDays"] as const satisfies readonly (keyof AlertThresholds)[];

// Label values and annotations are Go templates in Prometheus, so what the settings put into
// them must not contain template syntax: a Pulumi stack name and a plain URL path cannot.
const STACK_NAME = /^[A-Za-z0-9_.-]+$/;
const URL_PATH = /^\/[A-Za-z0-9_\-./~]*$/;

/** Throws an Error naming the first setting the rules cannot be rendered from. */
export function validateAlertSettings(settings: ObservabilitySettings): void {
  if (!STACK_NAME.test(settings.stack))
    throw new Error(`stack must be a Pulumi stack name (letters, digits, _ . -), got ${JSON.stringify(settings.stack)}`);
  const thresholds = settings.thresholds;
  for (const key of PERCENT_THRESHOLDS) {
    const value = thresholds[key];
    if (!Number.isFinite(value) || value < 0 || value > 100)
      throw new Error(`thresholds.${key} must be a percentage from 0 to 100, got ${value}`);
  }
  for (const key of POSITIVE_THRESHOLDS) {
    const value = thresholds[key];
    if (!Number.isFinite(value) || value <= 0) throw new Error(`thresholds.${key} must be a positive number, got ${value}`);
  }
  if (!Number.isInteger(settings.backupCheckIntervalMinutes) || settings.backupCheckIntervalMinutes < 1)
    throw new Error(`backupCheckIntervalMinutes must be a whole number of minutes, at least 1, got ${settings.backupCheckIntervalMinutes}`);
  if (!Number.isInteger(settings.databaseConnectionLimit) || settings.databaseConnectionLimit < 1)
    throw new Error(`databaseConnectionLimit must be a whole number of connections, at least 1, got ${settings.databaseConnectionLimit}`);
  if (settings.loginPath !== undefined && !URL_PATH.test(settings.loginPath))
    throw new Error(`loginPath must be a URL path like /login, got ${JSON.stringify(settings.loginPath)}`);
}

/** A PromQL regex matching exactly the given strings (Prometheus anchors label regexes). */
function anyOf(values: readonly string[]): string {
  return values.map((value) => value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
}

/** `name{label="value", ...}`, the values quoted as PromQL strings. */
function selector(name: string, matchers: Record<string, string>, regexMatchers: Record<string, string> = {}): string {
  const parts = [
    ...Object.entries(matchers).map(([label, value]) => `${label}=${JSON.stringify(value)}`),
    ...Object.entries(regexMatchers).map(([label, value]) => `${label}=~${JSON.stringify(value)}`),
  ];
  return `${name}{${parts.join(", ")}}`;
}

interface RuleSpec {
  alert: AlertName;
  severity: Severity;
  for: string;
  expr: string;
  summary: string;
  description: string;
}

function rule(settings: ObservabilitySettings, spec: RuleSpec): AlertRule {
  return {
    alert: spec.alert,
    expr: spec.expr,
    for: spec.for,
    labels: { severity: spec.severity, stack: settings.stack },
    annotations: { summary: spec.summary, description: spec.description },
  };
}

function requestRules(settings: ObservabilitySettings): AlertRule[] {
  const { max5xxPercent, p95LatencyMs, minLoginSuccessPercent } = settings.thresholds;
  const requests = NGINX_LOG_METRICS.requests;
  const seconds = NGINX_LOG_METRICS.requestSeconds;
  const w = REQUEST_WINDOW;
  const enoughRequests = `sum by (host) (increase(${requests}[${w}])) >= ${MIN_REQUESTS}`;
  const rules = [
    rule(settings, {
      alert: "HttpErrorRatioHigh",
      severity: ALERT_SEVERITIES.critical,
      for: "5m",
      expr:
        `sum by (host) (rate(${requests}{status=~"5.."}[${w}])) / sum by (host) (rate(${requests}[${w}])) * 100 > ${max5xxPercent}` +
        ` and on (host) ${enoughRequests}`,
      summary: `{{ $labels.host }}: {{ $value | printf "%.1f" }}% of responses are 5xx`,
      description:
        `More than ${max5xxPercent}% of the responses nginx sent for {{ $labels.host }} over the last ${w} were server errors ` +
        `({{ $value | printf "%.1f" }}%). Hosts that served fewer than ${MIN_REQUESTS} requests in the window are not judged.`,
    }),
    rule(settings, {
      alert: "HttpLatencyP95High",
      severity: ALERT_SEVERITIES.warning,
      for: "10m",
      expr:
        `histogram_quantile(0.95, sum by (host, le) (rate(${seconds}_bucket[${w}]))) * 1000 > ${p95LatencyMs}` +
        ` and on (host) sum by (host) (increase(${seconds}_count[${w}])) >= ${MIN_REQUESTS}`,
      summary: `{{ $labels.host }}: p95 request time is {{ $value | printf "%.0f" }} ms`,
      description:
        `The 95th percentile of request times at nginx for {{ $labels.host }} has been above ${p95LatencyMs} ms ` +
        `({{ $value | printf "%.0f" }} ms over the last ${w}) for 10 minutes.`,
    }),
  ];
  if (settings.loginPath !== undefined) {
    const attempts = `${requests}{login="true"}`;
    // Success is a 2xx or 3xx answer. The failures are counted rather than the successes so that
    // a host where every login fails (no 2xx/3xx series at all) still yields a value.
    rules.push(
      rule(settings, {
        alert: "LoginSuccessLow",
        severity: ALERT_SEVERITIES.critical,
        for: "10m",
        expr:
          `(1 - sum by (host) (rate(${requests}{login="true", status!~"[23].."}[${LOGIN_WINDOW}])) / sum by (host) (rate(${attempts}[${LOGIN_WINDOW}]))) * 100` +
          ` < ${minLoginSuccessPercent} and on (host) sum by (host) (increase(${attempts}[${LOGIN_WINDOW}])) >= ${MIN_LOGIN_ATTEMPTS}`,
        summary: `{{ $labels.host }}: only {{ $value | printf "%.1f" }}% of logins succeed`,
        description:
          `Fewer than ${minLoginSuccessPercent}% of the requests to ${settings.loginPath} on {{ $labels.host }} got a 2xx or 3xx ` +
          `answer over the last ${LOGIN_WINDOW} ({{ $value | printf "%.1f" }}%). Judged once ${MIN_LOGIN_ATTEMPTS} attempts were made in the window.`,
      }),
    );
  }
  return rules;
}

function hostRules(settings: ObservabilitySettings): AlertRule[] {
  const { minDiskFreePercent, minMemoryAvailablePercent } = settings.thresholds;
  const node = { job: JOBS.node };
  const mounts = { mountpoint: anyOf(WATCHED_MOUNTPOINTS) };
  return [
    rule(settings, {
      alert: "ScrapeTargetDown",
      severity: ALERT_SEVERITIES.warning,
      for: "5m",
      expr: `up{job!=${JSON.stringify(JOBS.node)}} == 0`,
      summary: `Prometheus cannot scrape {{ $labels.job }} ({{ $labels.instance }})`,
      description:
        `The {{ $labels.job }} target {{ $labels.instance }} has not answered Prometheus's scrapes for 5 minutes; ` +
        `its metrics, and the alerts built on them, are missing meanwhile.`,
    }),
    rule(settings, {
      alert: "HostMetricsDown",
      severity: ALERT_SEVERITIES.critical,
      for: "5m",
      expr: `${selector("up", node)} == 0`,
      summary: `Host metrics are down: node-exporter ({{ $labels.instance }}) does not answer`,
      description:
        `Prometheus has not scraped node-exporter for 5 minutes, so the disk and memory alerts cannot fire. ` +
        `The droplet itself being down is caught by DigitalOcean's uptime check, not here: this Prometheus runs on the droplet.`,
    }),
    rule(settings, {
      alert: "DiskFreeLow",
      severity: ALERT_SEVERITIES.critical,
      for: "5m",
      expr: `${selector("node_filesystem_avail_bytes", node, mounts)} / ${selector("node_filesystem_size_bytes", node, mounts)} * 100 < ${minDiskFreePercent}`,
      summary: `{{ $labels.mountpoint }} has {{ $value | printf "%.1f" }}% free space left`,
      description:
        `The filesystem mounted at {{ $labels.mountpoint }} on the droplet has had less than ${minDiskFreePercent}% free space ` +
        `for 5 minutes ({{ $value | printf "%.1f" }}%).`,
    }),
    rule(settings, {
      alert: "MemoryAvailableLow",
      severity: ALERT_SEVERITIES.warning,
      for: "10m",
      expr: `${selector("node_memory_MemAvailable_bytes", node)} / ${selector("node_memory_MemTotal_bytes", node)} * 100 < ${minMemoryAvailablePercent}`,
      summary: `The droplet has {{ $value | printf "%.1f" }}% of its memory available`,
      description:
        `Less than ${minMemoryAvailablePercent}% of the droplet's memory has been available for 10 minutes ` +
        `({{ $value | printf "%.1f" }}%); the kernel's OOM killer is next.`,
    }),
  ];
}

function databaseRules(settings: ObservabilitySettings): AlertRule[] {
  const { maxDatabaseCpuPercent, maxDatabaseConnectionsPercent } = settings.thresholds;
  const limit = settings.databaseConnectionLimit;
  const database = { job: JOBS.database };
  return [
    rule(settings, {
      alert: "DatabaseCpuHigh",
      severity: ALERT_SEVERITIES.warning,
      for: "10m",
      expr: `100 - ${selector("cpu_usage_idle", { ...database, cpu: "cpu-total" })} > ${maxDatabaseCpuPercent}`,
      summary: `Database node {{ $labels.instance }} is {{ $value | printf "%.1f" }}% busy`,
      description:
        `The managed PostgreSQL node {{ $labels.instance }} has used more than ${maxDatabaseCpuPercent}% CPU for 10 minutes ` +
        `({{ $value | printf "%.1f" }}%).`,
    }),
    rule(settings, {
      alert: "DatabaseConnectionsHigh",
      severity: ALERT_SEVERITIES.warning,
      for: "5m",
      expr: `sum by (instance) (${selector("postgresql_pg_stat_activity_conn_count", database)}) / ${limit} * 100 > ${maxDatabaseConnectionsPercent}`,
      summary: `Database node {{ $labels.instance }} uses {{ $value | printf "%.1f" }}% of its connections`,
      description:
        `The managed PostgreSQL node {{ $labels.instance }} has held more than ${maxDatabaseConnectionsPercent}% of the ${limit} ` +
        `connections it accepts for 5 minutes ({{ $value | printf "%.1f" }}%); new connections are refused at 100%.`,
    }),
  ];
}

function certificateRules(settings: ObservabilitySettings): AlertRule[] {
  const { minCertificateDays } = settings.thresholds;
  const certificates = { job: JOBS.certificates };
  return [
    rule(settings, {
      alert: "CertificateExpiringSoon",
      severity: ALERT_SEVERITIES.warning,
      for: "30m",
      expr: `(${selector("probe_ssl_earliest_cert_expiry", certificates)} - time()) / 86400 < ${minCertificateDays}`,
      summary: `The TLS certificate of {{ $labels.instance }} expires in {{ $value | printf "%.1f" }} days`,
      description:
        `The certificate {{ $labels.instance }} presents expires in less than ${minCertificateDays} days ` +
        `({{ $value | printf "%.1f" }}).` +
        (minCertificateDays < CERTBOT_RENEWAL_DAYS
          ? ` certbot renews ${CERTBOT_RENEWAL_DAYS} days ahead, so its renewals have been failing.`
          : ""),
    }),
    rule(settings, {
      alert: "CertificateProbeFailed",
      severity: ALERT_SEVERITIES.critical,
      for: "10m",
      expr: `${selector("probe_success", certificates)} == 0`,
      summary: `The HTTPS probe of {{ $labels.instance }} fails`,
      description:
        `The blackbox exporter has not completed a TLS request to {{ $labels.instance }} through nginx for 10 minutes: ` +
        `the certificate is invalid or expired, or nginx does not answer for that host.`,
    }),
  ];
}

function backupRules(settings: ObservabilitySettings): AlertRule[] {
  // The freshness check rewrites the probe file every interval; a failure that outlasts two
  // intervals means a check that could have cleared it has come and gone, so one missed or
  // late run does not page.
  const tolerated = 2 * settings.backupCheckIntervalMinutes;
  return [
    rule(settings, {
      alert: "BackupsStale",
      severity: ALERT_SEVERITIES.critical,
      for: `${tolerated}m`,
      expr: `${selector("probe_success", { job: JOBS.backups })} == 0`,
      summary: `Backups are stale or the last restore drill failed`,
      description:
        `The backup freshness probe ({{ $labels.instance }}) has failed for ${tolerated} minutes: the newest verified backup ` +
        `is older than the backup schedule allows, or the last restore drill failed. The freshness check runs every ` +
        `${settings.backupCheckIntervalMinutes} minutes and says why in its journal: journalctl -u ${UNITS.checkService}.`,
    }),
  ];
}

function watchdogRules(settings: ObservabilitySettings): AlertRule[] {
  return [
    rule(settings, {
      alert: WATCHDOG_ALERT,
      severity: ALERT_SEVERITIES.warning,
      for: "0s",
      expr: "vector(1)",
      summary: "Watchdog: the alerting pipeline is alive",
      description:
        "This alert always fires, as a dead man's switch: while it shows in Alertmanager, Prometheus evaluates the rules " +
        "and its alerts arrive. Alertmanager routes it to a receiver that notifies no one.",
    }),
  ];
}

/** The rules in their groups (one group per concern, each evaluated on its own). */
export function alertRuleGroups(settings: ObservabilitySettings): AlertRuleGroup[] {
  validateAlertSettings(settings);
  return [
    { name: "dropstack-requests", rules: requestRules(settings) },
    { name: "dropstack-host", rules: hostRules(settings) },
    { name: "dropstack-database", rules: databaseRules(settings) },
    { name: "dropstack-certificates", rules: certificateRules(settings) },
    { name: "dropstack-backups", rules: backupRules(settings) },
    { name: "dropstack-watchdog", rules: watchdogRules(settings) },
  ];
}

/** Every alerting rule, in rule-file order. */
export function alertRules(settings: ObservabilitySettings): AlertRule[] {
  return alertRuleGroups(settings).flatMap((group) => group.rules);
}

/** The Prometheus rule file (ALERT_RULES_FILE) for these settings. */
export function renderAlertRules(settings: ObservabilitySettings): string {
  const groups = alertRuleGroups(settings).map((group) => ({
    name: group.name,
    rules: group.rules.map((r) => ({ alert: r.alert, expr: r.expr, for: r.for, labels: r.labels, annotations: r.annotations })),
  }));
  const document = new Document({ groups });
  document.commentBefore = " Rendered by dropstack from components/observability/rules.ts; changes here are overwritten.";
  return document.toString({ lineWidth: 0 });
}
