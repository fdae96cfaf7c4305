// prometheus.yml, the Prometheus container's flags and blackbox.yml: what Prometheus scrapes
// on the droplet's private network, and how the blackbox exporter probes nginx for the TLS
// certificates and the backup freshness file. Rendered for both Debian's Prometheus 2.42 /
// blackbox 0.23 (which check them in the system tests) and the images in settings.ts
// (Prometheus 3.x, blackbox 0.27), so only settings both read are used.
import { Document } from "yaml";
import { isHostname } from "../config/hostname";
import { controlCharacterAt } from "../config/text";
import { isAlias, isPort } from "../proxy/upstream";
import { CONFIG_PATHS, JOBS, SERVICES, type ObservabilitySettings } from "./settings";

/**
 * How often every target is scraped and every rule evaluated. Twice the usual 15s halves what
 * the droplet stores under metricsRetentionSize, and stays well inside the alerts' windows of
 * minutes: rate() over [2m] or longer keeps four samples or more (Prometheus's built-in 1m
 * would leave two).
 */
export const SCRAPE_INTERVAL = "30s";
export const EVALUATION_INTERVAL = "30s";

/**
 * Where the TSDB lives inside the container. The prom/prometheus image declares this folder
 * a VOLUME, so the data folder (SERVICE_DATA_DIRS.prometheus) must be mounted exactly here or
 * Docker adds an anonymous volume to every new container.
 */
export const PROMETHEUS_STORAGE_PATH = "/prometheus";

/** nginx's ports inside its container (components/proxy/nginx-conf.ts listens on the standard ones). */
const NGINX_HTTPS_PORT = 443;
/** The backup freshness file is served from the ACME webroot, which nginx serves on port 80 only. */
const NGINX_HTTP_PORT = 80;

/** The blackbox module that requests the backup freshness file. */
export const BACKUP_PROBE_MODULE = "backup_probe";
/** The blackbox module that checks `host`'s certificate: one per host, each with its own SNI. */
export function certificateModule(host: string): string {
  return `tls_${host}`;
}

/** How long one probe may take: under Prometheus's default 10s scrape timeout, so a slow nginx fails the probe, not the scrape. */
const PROBE_TIMEOUT = "5s";

/** The DigitalOcean database cluster's metrics endpoints and the account's metrics user. */
export interface DatabaseMetrics {
  /** `host:port` per node (metricsEndpointTargets turns the provider's URLs into these). */
  targets: string[];
  username: string;
}

/** What Prometheus accepts for --storage.tsdb.retention.size: a whole number and a unit (powers of 2, so 1KB is 1024B). */
const RETENTION_SIZE = /^[1-9][0-9]*(B|KB|MB|GB|TB|PB|EB)$/;
const URL_PATH = /^\/[A-Za-z0-9._~/-]*$/;

const describe = (value: unknown) => JSON.stringify(value);

/**
 * The database cluster's metrics endpoints as the DigitalOcean provider gives them
 * (DatabaseCluster.metricsEndpoints: `https://<host>:<port>/metrics`, one per node), as the
 * `host:port` targets renderPrometheusConfig takes.
 */
export function metricsEndpointTargets(endpoints: string[]): string[] {
  return endpoints.map((endpoint) => {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new Error(`database metrics endpoint: expected a URL like https://db-host:9273/metrics, got ${describe(endpoint)}`);
    }
    if (url.protocol !== "https:" || url.pathname !== "/metrics" || url.port === "" || url.search !== "" || url.username !== "")
      throw new Error(`database metrics endpoint: expected a URL like https://db-host:9273/metrics, got ${describe(endpoint)}`);
    return `${url.hostname}:${url.port}`;
  });
}

/** Every problem with the settings the scrape config and blackbox.yml read, as `setting: message`. */
export function validateScrapeSettings(settings: ObservabilitySettings): string[] {
  const problems: string[] = [];
  const add = (setting: string, message: string) => problems.push(`${setting}: ${message}`);

  if (settings.stack.length === 0 || controlCharacterAt(settings.stack) >= 0)
    add("stack", `expected a stack name without control characters, got ${describe(settings.stack)}`);
  if (settings.tlsHosts.length === 0) add("tlsHosts", "expected at least one host (nginx serves hosts.api with a certificate)");
  for (const host of settings.tlsHosts) {
    if (!isHostname(host)) add("tlsHosts", `expected hostnames like api.example.com, got ${describe(host)}`);
  }
  const duplicates = settings.tlsHosts.filter((host, index) => settings.tlsHosts.indexOf(host) !== index);
  if (duplicates.length > 0) add("tlsHosts", `lists ${describe(duplicates[0])} twice`);
  if (!isAlias(settings.nginxContainer))
    add("nginxContainer", `expected a container name like shop-production-nginx, got ${describe(settings.nginxContainer)}`);
  if (!isHostname(settings.backupProbe.host))
    add("backupProbe.host", `expected a hostname like api.example.com, got ${describe(settings.backupProbe.host)}`);
  if (!URL_PATH.test(settings.backupProbe.path))
    add(
      "backupProbe.path",
      `expected a URL path like /.well-known/acme-challenge/dropstack-backups, got ${describe(settings.backupProbe.path)}`,
    );
  if (!isAlias(settings.app.alias)) add("app.alias", `expected a Docker network alias like api, got ${describe(settings.app.alias)}`);
  if (!isPort(settings.app.port)) add("app.port", `expected a port from 1 to 65535, got ${describe(settings.app.port)}`);
  if (settings.app.metricsPath !== undefined && !URL_PATH.test(settings.app.metricsPath))
    add("app.metricsPath", `expected a URL path like /metrics, got ${describe(settings.app.metricsPath)}`);
  return problems;
}

function validateDatabaseMetrics(database: DatabaseMetrics): string[] {
  const problems: string[] = [];
  if (database.targets.length === 0) problems.push("database.targets: the cluster has no metrics endpoints (metricsEndpoints is empty)");
  for (const target of database.targets) {
    const [host, port, ...rest] = target.split(":");
    if (rest.length > 0 || !isHostname(host) || !/^[0-9]+$/.test(port ?? "") || !isPort(Number(port)))
      problems.push(`database.targets: expected host:port like db-host.db.ondigitalocean.com:9273, got ${describe(target)}`);
  }
  if (database.username.length === 0 || /\s/.test(database.username) || controlCharacterAt(database.username) >= 0)
    problems.push(`database.username: expected the metrics user name, without spaces, got ${describe(database.username)}`);
  return problems;
}

function throwIfAny(what: string, problems: string[]): void {
  if (problems.length > 0) throw new Error(`invalid ${what}: ${problems.join("; ")}`);
}

const address = (service: keyof typeof SERVICES) => `${SERVICES[service].alias}:${SERVICES[service].port}`;

/** A job scraping one service of the Observability component at its alias. */
function serviceJob(job: string, service: keyof typeof SERVICES) {
  return { job_name: job, static_configs: [{ targets: [address(service)] }] };
}

/**
 * Probe jobs go through the blackbox exporter: each target becomes the probe's `target`
 * parameter, and Prometheus scrapes the exporter in its place. The instance label, set on
 * each target group, names what is probed.
 */
const PROBE_RELABELLING = [
  { source_labels: ["__address__"], target_label: "__param_target" },
  { target_label: "__address__", replacement: address("blackbox") },
];

function certificatesJob(settings: ObservabilitySettings) {
  return {
    job_name: JOBS.certificates,
    metrics_path: "/probe",
    // One group per host: the host is the instance, and its own module presents its name as
    // SNI. Every probe connects to the nginx container on the private network, and nginx
    // refuses a handshake for a name it does not serve (ssl_reject_handshake); behind a load
    // balancer, to the host's public name: the load balancer's certificate is the one users get.
    static_configs: settings.tlsHosts.map((host) => ({
      targets: [`${settings.certificatesAtLoadBalancer ? host : settings.nginxContainer}:${NGINX_HTTPS_PORT}`],
      labels: { __param_module: certificateModule(host), instance: host },
    })),
    relabel_configs: PROBE_RELABELLING,
  };
}

function backupsJob(settings: ObservabilitySettings) {
  const { host, path } = settings.backupProbe;
  return {
    job_name: JOBS.backups,
    metrics_path: "/probe",
    params: { module: [BACKUP_PROBE_MODULE] },
    static_configs: [{ targets: [`http://${settings.nginxContainer}:${NGINX_HTTP_PORT}${path}`], labels: { instance: `${host}${path}` } }],
    relabel_configs: PROBE_RELABELLING,
  };
}

function appJob(settings: ObservabilitySettings, metricsPath: string) {
  return {
    job_name: JOBS.app,
    metrics_path: metricsPath,
    // Docker's embedded DNS answers the alias with every replica's address, so each replica is
    // a target of its own and replicas that come and go in a rollout are picked up.
    dns_sd_configs: [{ names: [settings.app.alias], type: "A", port: settings.app.port }],
  };
}

function databaseJob(database: DatabaseMetrics) {
  return {
    job_name: JOBS.database,
    scheme: "https",
    metrics_path: "/metrics",
    basic_auth: { username: database.username, password_file: CONFIG_PATHS.prometheusDatabasePasswordFile },
    // The endpoints present a certificate signed by the cluster's own CA, as its PostgreSQL port does.
    tls_config: { ca_file: CONFIG_PATHS.prometheusDatabaseCaFile },
    static_configs: [{ targets: database.targets }],
  };
}

/** A config file as YAML under a comment naming it and where it comes from. */
export function renderConfigYaml(header: string, content: unknown): string {
  // Repeated objects stay written out: the files are read by people too, not only parsers.
  const document = new Document(content, { aliasDuplicateObjects: false });
  document.commentBefore = ` ${header}\n Rendered by dropstack (components/observability); edits on the droplet are overwritten by the next deploy.`;
  return document.toString({ lineWidth: 0 });
}

/**
 * prometheus.yml. `database` is the managed PostgreSQL cluster's metrics endpoints, or
 * undefined to scrape no database. Throws, listing every problem, on invalid settings.
 */
export function renderPrometheusConfig(settings: ObservabilitySettings, database: DatabaseMetrics | undefined): string {
  throwIfAny("scrape settings", [...validateScrapeSettings(settings), ...(database ? validateDatabaseMetrics(database) : [])]);
  const metricsPath = settings.app.metricsPath;
  const config = {
    global: {
      scrape_interval: SCRAPE_INTERVAL,
      evaluation_interval: EVALUATION_INTERVAL,
      // Attached to every series leaving Prometheus, alerts included: Alertmanager groups by it.
      external_labels: { stack: settings.stack },
    },
    alerting: { alertmanagers: [{ static_configs: [{ targets: [address("alertmanager")] }] }] },
    rule_files: [`${CONFIG_PATHS.prometheusRulesDir}/*.yml`],
    scrape_configs: [
      serviceJob(JOBS.prometheus, "prometheus"),
      serviceJob(JOBS.alertmanager, "alertmanager"),
      serviceJob(JOBS.node, "nodeExporter"),
      serviceJob(JOBS.containers, "cadvisor"),
      // Alloy's own /metrics carries the request metrics it derives from nginx's access log.
      serviceJob(JOBS.nginx, "alloy"),
      // redis_exporter scrapes Redis at its --redis.addr on every scrape of its /metrics.
      serviceJob(JOBS.redis, "redisExporter"),
      serviceJob(JOBS.loki, "loki"),
      serviceJob(JOBS.grafana, "grafana"),
      ...(metricsPath !== undefined ? [appJob(settings, metricsPath)] : []),
      ...(database ? [databaseJob(database)] : []),
      certificatesJob(settings),
      backupsJob(settings),
    ],
  };
  return renderConfigYaml("prometheus.yml for the Observability component.", config);
}

/**
 * The Prometheus container's command: the image's entrypoint is the prometheus binary, so
 * these are its flags. Retention is by size and by age, whichever is reached first.
 */
export function prometheusCommand(settings: ObservabilitySettings): string[] {
  const problems: string[] = [];
  if (!RETENTION_SIZE.test(settings.metricsRetentionSize))
    problems.push(
      `metricsRetentionSize: expected a whole number and one of the units Prometheus accepts (B, KB, MB, GB, TB, PB, EB), like 512MB or 5GB, got ${describe(settings.metricsRetentionSize)}`,
    );
  if (!(Number.isInteger(settings.metricsRetentionDays) && settings.metricsRetentionDays >= 1))
    problems.push(`metricsRetentionDays: expected a whole number of days, at least 1, got ${describe(settings.metricsRetentionDays)}`);
  throwIfAny("Prometheus settings", problems);
  return [
    `--config.file=${CONFIG_PATHS.prometheus}`,
    `--storage.tsdb.path=${PROMETHEUS_STORAGE_PATH}`,
    `--storage.tsdb.retention.size=${settings.metricsRetentionSize}`,
    `--storage.tsdb.retention.time=${settings.metricsRetentionDays}d`,
    `--web.listen-address=0.0.0.0:${SERVICES.prometheus.port}`,
  ];
}

/**
 * blackbox.yml. Certificates are checked with the TCP prober and TLS, one module per host
 * with its name as SNI (tls_config.server_name, which blackbox 0.23 and 0.27 both read from
 * the file): the handshake alone yields probe_ssl_earliest_cert_expiry, and no HTTP request
 * reaches nginx's access log, the request metrics derived from it, or the app. The
 * certificate is verified against the system's public roots, so a placeholder or expired
 * one fails the probe. The backup probe is a plain HTTP GET with the api host as Host header;
 * redirects are not followed, since nginx redirects to HTTPS anything it does not serve on
 * port 80.
 */
export function renderBlackboxConfig(settings: ObservabilitySettings): string {
  throwIfAny("scrape settings", validateScrapeSettings(settings));
  const modules: Record<string, unknown> = {};
  for (const host of settings.tlsHosts) {
    modules[certificateModule(host)] = {
      prober: "tcp",
      timeout: PROBE_TIMEOUT,
      // Docker's networks are IPv4: skip asking for an AAAA record first.
      tcp: { preferred_ip_protocol: "ip4", tls: true, tls_config: { server_name: host } },
    };
  }
  modules[BACKUP_PROBE_MODULE] = {
    prober: "http",
    timeout: PROBE_TIMEOUT,
    http: {
      method: "GET",
      preferred_ip_protocol: "ip4",
      headers: { Host: settings.backupProbe.host },
      valid_status_codes: [200],
      follow_redirects: false,
    },
  };
  return renderConfigYaml("blackbox.yml for the Observability component.", { modules });
}
