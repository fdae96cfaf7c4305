// The Observability component's vocabulary: the services it runs on the droplet, where each
// listens and keeps its data, the images they run, and the settings every renderer reads.
// The renderers (prometheus.ts, rules.ts, alertmanager.ts, loki.ts, alloy.ts, grafana.ts)
// are pure functions of ObservabilitySettings; index.ts wires their output into containers.
import { DATA_DIRS } from "../common/names";

/** Where the monitoring services keep their data on the protected volume. */
export const OBSERVABILITY_DATA_DIR = DATA_DIRS.observability;

/**
 * The services, each one container on the droplet's private app network, reachable by its
 * alias there and never published on the droplet's interfaces (Grafana is served by nginx).
 */
export const SERVICES = {
  prometheus: { alias: "prometheus", port: 9090, image: "prom/prometheus:v3.5.0" },
  alertmanager: { alias: "alertmanager", port: 9093, image: "prom/alertmanager:v0.28.1" },
  loki: { alias: "loki", port: 3100, image: "grafana/loki:3.5.3" },
  grafana: { alias: "grafana", port: 3000, image: "grafana/grafana:12.1.1" },
  /** Ships container logs to Loki; turns nginx's access log into request metrics. */
  alloy: { alias: "alloy", port: 12345, image: "grafana/alloy:v1.10.1" },
  nodeExporter: { alias: "node-exporter", port: 9100, image: "prom/node-exporter:v1.9.1" },
  cadvisor: { alias: "cadvisor", port: 8080, image: "gcr.io/cadvisor/cadvisor:v0.52.1" },
  redisExporter: { alias: "cache-exporter", port: 9121, image: "oliver006/redis_exporter:v1.74.0" },
  /** TLS certificate expiry and the backup freshness probe, through nginx. */
  blackbox: { alias: "blackbox", port: 9115, image: "prom/blackbox-exporter:v0.27.0" },
} as const;
export type ServiceName = keyof typeof SERVICES;

/** Each service's data folder on the volume (the services without state have none). */
export const SERVICE_DATA_DIRS = {
  prometheus: `${OBSERVABILITY_DATA_DIR}/prometheus`,
  alertmanager: `${OBSERVABILITY_DATA_DIR}/alertmanager`,
  loki: `${OBSERVABILITY_DATA_DIR}/loki`,
  grafana: `${OBSERVABILITY_DATA_DIR}/grafana`,
  alloy: `${OBSERVABILITY_DATA_DIR}/alloy`,
} as const;

/** Where each service reads its configuration inside its container. */
export const CONFIG_PATHS = {
  prometheus: "/etc/prometheus/prometheus.yml",
  /** Rule files: one per group, all under this folder. */
  prometheusRulesDir: "/etc/prometheus/rules",
  /** The DigitalOcean database metrics password (basic_auth password_file). */
  prometheusDatabasePasswordFile: "/etc/prometheus/secrets/database-metrics-password",
  /**
   * The database cluster's CA certificate (tls_config ca_file): the metrics endpoint's
   * certificate is signed by the cluster's own CA, as its PostgreSQL port's is, not a public one.
   */
  prometheusDatabaseCaFile: "/etc/prometheus/database-ca.crt",
  alertmanager: "/etc/alertmanager/alertmanager.yml",
  /** The SMTP password (smtp_auth_password_file). */
  alertmanagerSmtpPasswordFile: "/etc/alertmanager/secrets/smtp-password",
  /** The webhook URL, which usually carries a token (url_file). */
  alertmanagerWebhookUrlFile: "/etc/alertmanager/secrets/webhook-url",
  loki: "/etc/loki/loki.yaml",
  alloy: "/etc/alloy/config.alloy",
  /**
   * The remote Loki's basic auth password (dropstack:observability.remoteLoki), read by Alloy's
   * local.file: exactly the password, with no trailing newline (local.file does not trim).
   */
  alloyRemoteLokiPasswordFile: "/etc/alloy/secrets/remote-loki-password",
  blackbox: "/etc/blackbox/blackbox.yml",
  /** redis_exporter's --redis.password-file: a JSON map of Redis URI to password. */
  redisExporterPasswordFile: "/etc/redis-exporter/passwords.json",
  grafanaProvisioning: "/etc/grafana/provisioning",
  grafanaDashboards: "/etc/grafana/dashboards",
  /** The admin user's password (GF_SECURITY_ADMIN_PASSWORD__FILE). */
  grafanaAdminPasswordFile: "/etc/grafana/secrets/admin-password",
  /** The Auth0 client's secret, when Grafana signs users in with Auth0 (GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET__FILE). */
  grafanaOauthClientSecretFile: "/etc/grafana/secrets/oauth-client-secret",
} as const;

/** Outgoing mail for Alertmanager (dropstack:observability.smtp; the password is separate and secret). */
export interface SmtpSettings {
  /** host:port, e.g. smtp.example.com:587 */
  smarthost: string;
  /** The From address. */
  from: string;
  username?: string;
  /** STARTTLS is required unless false (a relay on a private network). */
  requireTls: boolean;
}

/** The alerting thresholds; defaults are the figures teams use for go/no-go today. */
export interface AlertThresholds {
  /** 5xx responses as a share of all responses, percent (default 1). */
  max5xxPercent: number;
  /** p95 request time at nginx, milliseconds (default 150: the API's latency SLO). */
  p95LatencyMs: number;
  /** Successful logins as a share of login attempts, percent (default 90). */
  minLoginSuccessPercent: number;
  /** Free space on / and the data volume, percent (default 10). */
  minDiskFreePercent: number;
  /** Available memory, percent (default 10). */
  minMemoryAvailablePercent: number;
  /** Database CPU, percent (default 80). */
  maxDatabaseCpuPercent: number;
  /** Database connections as a share of the server's max_connections, percent (default 80). */
  maxDatabaseConnectionsPercent: number;
  /** TLS certificates must be valid for at least this many days (default 14; certbot renews at 30). */
  minCertificateDays: number;
}

/** Everything the renderers need, resolved from config with defaults applied. */
export interface ObservabilitySettings {
  /** `<project>-<stack>`: the prefix of every resource and container name. */
  name: string;
  /** dropstack:stack name, attached to every alert as the `stack` label. */
  stack: string;
  /** dropstack:hosts.monitoring: Grafana's FQDN, served by nginx with TLS. */
  monitoringHost: string;
  /** The hosts nginx serves with a certificate (api, app, monitoring), for the expiry probes. */
  tlsHosts: string[];
  /** The nginx container's name on the app network (the blackbox probes go through it). */
  nginxContainer: string;
  /**
   * scale.droplets > 1: the load balancer holds the certificates (nginx serves plain HTTP), so
   * the expiry probes ask each host by its public name, which resolves to the load balancer.
   */
  certificatesAtLoadBalancer?: boolean;
  /** The path of the backup freshness probe nginx serves on hosts.api (hooks/schedule.ts BACKUP_PROBE). */
  backupProbe: { host: string; path: string };
  /** The api replicas' network alias and port (the app's /metrics, when appMetricsPath is set). */
  app: { alias: string; port: number; metricsPath?: string };
  /** The Redis alias and port on the app network. */
  redis: { alias: string; port: number };
  /** The request path whose responses count as login attempts (dropstack:observability.loginPath). */
  loginPath?: string;
  /** Prometheus keeps at most this much, e.g. "5GB" (--storage.tsdb.retention.size). */
  metricsRetentionSize: string;
  /** And at most this many days (--storage.tsdb.retention.time). */
  metricsRetentionDays: number;
  /** Loki deletes log lines older than this many days. */
  logRetentionDays: number;
  /** When set, Alloy ships logs to this Loki push URL instead of the one on the droplet. */
  remoteLoki?: { url: string; username?: string };
  /** dropstack:alerts.emails */
  alertEmails: string[];
  smtp?: SmtpSettings;
  /** True when dropstack:observability.webhook is set (the URL itself is secret, in a file). */
  webhook: boolean;
  thresholds: AlertThresholds;
  /** How often the backup freshness check runs; the backup alert allows for one missed run. */
  backupCheckIntervalMinutes: number;
  /**
   * The connections the managed PostgreSQL cluster takes from dropstack's roles: its
   * max_connections less the ones DigitalOcean keeps for maintenance (backendConnections in
   * components/database/settings.ts). DigitalOcean's metrics endpoint does not expose
   * max_connections, so the connections alert measures against this figure.
   */
  databaseConnectionLimit: number;
}

/** The thresholds that are percentages (0 to 100); the rest are positive counts of ms or days. */
export const PERCENT_THRESHOLDS = [
  "max5xxPercent",
  "minLoginSuccessPercent",
  "minDiskFreePercent",
  "minMemoryAvailablePercent",
  "maxDatabaseCpuPercent",
  "maxDatabaseConnectionsPercent",
] as const satisfies readonly (keyof AlertThresholds)[];

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  max5xxPercent: 1,
  p95LatencyMs: 150,
  minLoginSuccessPercent: 90,
  minDiskFreePercent: 10,
  minMemoryAvailablePercent: 10,
  maxDatabaseCpuPercent: 80,
  maxDatabaseConnectionsPercent: 80,
  minCertificateDays: 14,
};

/**
 * The always-firing alert that proves rules are evaluated and alerts reach Alertmanager (a
 * dead man's switch); Alertmanager routes it to a receiver that notifies no one.
 */
export const WATCHDOG_ALERT = "Watchdog";
/** The `severity` label's values: both notify every receiver; a critical inhibits its warning. */
export const ALERT_SEVERITIES = { critical: "critical", warning: "warning" } as const;

/** The Prometheus job names, which the rules, the dashboards and the scrape config share. */
export const JOBS = {
  prometheus: "prometheus",
  alertmanager: "alertmanager",
  node: "node",
  containers: "cadvisor",
  nginx: "nginx",
  redis: "redis",
  app: "app",
  database: "database",
  certificates: "certificates",
  backups: "backups",
  loki: "loki",
  grafana: "grafana",
} as const;

/**
 * The metrics Alloy derives from nginx's access log (loki.process stage.metrics, alloy.ts).
 * Alloy exposes them with the `loki_process_custom_` prefix, which the names below include,
 * on its own /metrics, where every component metric also carries component_id and
 * component_path. `host` is a host nginx serves, or "other" (alloy.ts UNKNOWN_HOST).
 */
export const NGINX_LOG_METRICS = {
  /**
   * Counter; labels host, status (e.g. "200"), and, only when loginPath is set, login: "true"
   * for requests whose path starts with it, else "false".
   */
  requests: "loki_process_custom_nginx_http_requests_total",
  /** Histogram of $request_time in seconds (series _bucket with le, _sum, _count); labels host. */
  requestSeconds: "loki_process_custom_nginx_http_request_duration_seconds",
} as const;

/**
 * The labels Alloy gives the log streams it ships to Loki, which the dashboards query.
 * Container logs carry `role` (the container's dropstack.role label, which the json-file log
 * driver writes into each line's attrs) and `stream` (stdout or stderr).
 */
export const LOG_LABELS = {
  /** `job` of every container's log lines. */
  containersJob: "containers",
  /** `job` of the deploy markers. */
  deploysJob: "deploys",
  /** The label carrying the container's dropstack.role. */
  role: "role",
  stream: "stream",
} as const;

/**
 * One JSON line per finished deploy ({"image", "stack", "at"}), appended on the droplet after
 * the smoke test passed; Alloy ships it to Loki, and Grafana marks each as an annotation.
 */
export const DEPLOY_LOG = `${OBSERVABILITY_DATA_DIR}/deploys/deploys.log`;
/** Where Alloy sees the Docker engine's json-file logs (mounted read-only). */
export const DOCKER_LOG_DIR = "/var/lib/docker/containers";
