// prometheus.yml, blackbox.yml, Prometheus's flags and alertmanager.yml as pure renderings:
// which jobs, targets, probes and receivers each shape of settings yields, the settings they
// refuse (naming the setting), and that no rendered file carries a secret.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  BACKUP_PROBE_MODULE,
  PROMETHEUS_STORAGE_PATH,
  certificateModule,
  metricsEndpointTargets,
  prometheusCommand,
  renderBlackboxConfig,
  renderPrometheusConfig,
  type DatabaseMetrics,
} from "../../components/observability/prometheus";
import { RECIPIENTS_RECEIVER, WATCHDOG_RECEIVER, renderAlertmanagerConfig } from "../../components/observability/alertmanager";
import { CONFIG_PATHS, JOBS, SERVICES, WATCHDOG_ALERT, type ObservabilitySettings } from "../../components/observability/settings";
import { DATABASE_METRICS, SMTP, observabilitySettings } from "../support/observability";

const BASE: ObservabilitySettings = observabilitySettings({
  name: "shop-production",
  stack: "production",
  nginxContainer: "shop-production-nginx",
  alertEmails: [],
});

/** Every combination of the settings that change what is scraped, probed and notified. */
function variants(): { label: string; settings: ObservabilitySettings; database: DatabaseMetrics | undefined }[] {
  const out = [];
  for (const metricsPath of [undefined, "/metrics", "/internal/prometheus"])
    for (const database of [undefined, DATABASE_METRICS, { targets: [DATABASE_METRICS.targets[0]], username: "metrics" }])
      for (const tlsHosts of [["api.example.com"], BASE.tlsHosts])
        for (const [alertEmails, smtp] of [
          [[], undefined],
          [["ops@example.com"], SMTP],
          [["ops@example.com", "dev@example.org"], { ...SMTP, username: undefined, requireTls: false }],
        ] as const)
          for (const webhook of [false, true]) {
            const settings: ObservabilitySettings = {
              ...BASE,
              stack: webhook ? "staging" : "production",
              app: { ...BASE.app, metricsPath },
              tlsHosts: [...tlsHosts],
              alertEmails: [...alertEmails],
              smtp,
              webhook,
            };
            const label = `metricsPath=${metricsPath}, database=${database?.targets.length ?? 0}, hosts=${tlsHosts.length}, emails=${alertEmails.length}, webhook=${webhook}`;
            out.push({ label, settings, database });
          }
  return out;
}

interface Job {
  job_name: string;
  metrics_path?: string;
  scheme?: string;
  params?: Record<string, string[]>;
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
  dns_sd_configs?: { names: string[]; type: string; port: number }[];
  basic_auth?: { username: string; password_file: string };
  tls_config?: { ca_file: string };
  relabel_configs?: { source_labels?: string[]; target_label: string; replacement?: string }[];
}

function jobsOf(settings: ObservabilitySettings, database: DatabaseMetrics | undefined): Map<string, Job> {
  const config = parse(renderPrometheusConfig(settings, database)) as { scrape_configs: Job[] };
  const jobs = new Map(config.scrape_configs.map((job) => [job.job_name, job]));
  assert.equal(jobs.size, config.scrape_configs.length, "job names are unique");
  return jobs;
}

/** What Prometheus ends up requesting for a probe job's target group, after relabelling. */
function probeOf(job: Job, group: { targets: string[]; labels?: Record<string, string> }) {
  assert.deepEqual(job.relabel_configs, [
    { source_labels: ["__address__"], target_label: "__param_target" },
    { target_label: "__address__", replacement: `${SERVICES.blackbox.alias}:${SERVICES.blackbox.port}` },
  ]);
  assert.equal(job.metrics_path, "/probe");
  assert.equal(group.targets.length, 1);
  return { target: group.targets[0], module: group.labels?.__param_module ?? job.params?.module[0], instance: group.labels?.instance };
}

const ALWAYS: [string, keyof typeof SERVICES][] = [
  [JOBS.prometheus, "prometheus"],
  [JOBS.alertmanager, "alertmanager"],
  [JOBS.node, "nodeExporter"],
  [JOBS.containers, "cadvisor"],
  [JOBS.nginx, "alloy"],
  [JOBS.redis, "redisExporter"],
  [JOBS.loki, "loki"],
  [JOBS.grafana, "grafana"],
];

describe("prometheus.yml", () => {
  for (const { label, settings, database } of variants()) {
    test(`jobs and targets: ${label}`, () => {
      const jobs = jobsOf(settings, database);
      const expected = [
        ...ALWAYS.map(([job]) => job),
        ...(settings.app.metricsPath ? [JOBS.app] : []),
        ...(database ? [JOBS.database] : []),
        JOBS.certificates,
        JOBS.backups,
      ];
      assert.deepEqual([...jobs.keys()].sort(), expected.sort());
      for (const [job, service] of ALWAYS) {
        assert.deepEqual(jobs.get(job)?.static_configs, [{ targets: [`${SERVICES[service].alias}:${SERVICES[service].port}`] }], job);
        assert.equal(jobs.get(job)?.metrics_path, undefined, `${job} uses /metrics`);
      }
      const app = jobs.get(JOBS.app);
      if (settings.app.metricsPath) {
        assert.equal(app?.metrics_path, settings.app.metricsPath);
        assert.deepEqual(app?.dns_sd_configs, [{ names: [settings.app.alias], type: "A", port: settings.app.port }]);
      }
      const db = jobs.get(JOBS.database);
      if (database) {
        assert.equal(db?.scheme, "https");
        assert.equal(db?.metrics_path, "/metrics");
        assert.deepEqual(db?.basic_auth, { username: database.username, password_file: CONFIG_PATHS.prometheusDatabasePasswordFile });
        assert.deepEqual(db?.tls_config, { ca_file: CONFIG_PATHS.prometheusDatabaseCaFile });
        assert.deepEqual(db?.static_configs, [{ targets: database.targets }]);
      }
    });
  }

  test("every TLS host is probed through nginx with its own module, as its own instance", () => {
    for (const tlsHosts of [["api.example.com"], ["api.example.com", "app.example.com"], BASE.tlsHosts]) {
      const settings = { ...BASE, tlsHosts, nginxContainer: "acme-staging-nginx" };
      const job = jobsOf(settings, undefined).get(JOBS.certificates)!;
      const probes = job.static_configs!.map((group) => probeOf(job, group));
      assert.deepEqual(
        probes,
        tlsHosts.map((host) => ({ target: "acme-staging-nginx:443", module: certificateModule(host), instance: host })),
      );
      const modules = (parse(renderBlackboxConfig(settings)) as { modules: Record<string, unknown> }).modules;
      for (const host of tlsHosts) {
        assert.deepEqual(modules[certificateModule(host)], {
          prober: "tcp",
          timeout: "5s",
          tcp: { preferred_ip_protocol: "ip4", tls: true, tls_config: { server_name: host } },
        });
      }
      assert.deepEqual(Object.keys(modules).sort(), [...tlsHosts.map(certificateModule), BACKUP_PROBE_MODULE].sort());
    }
  });

  test("behind a load balancer every TLS host is probed by its public name, where the load balancer's certificate is", () => {
    for (const tlsHosts of [["api.example.com"], ["api.example.com", "app.example.com"], BASE.tlsHosts]) {
      const settings = { ...BASE, tlsHosts, nginxContainer: "acme-production-nginx", certificatesAtLoadBalancer: true };
      const job = jobsOf(settings, undefined).get(JOBS.certificates)!;
      assert.deepEqual(
        job.static_configs!.map((group) => probeOf(job, group)),
        tlsHosts.map((host) => ({ target: `${host}:443`, module: certificateModule(host), instance: host })),
      );
    }
  });

  test("the backup probe asks nginx's port 80 for the file, with the api host, expecting 200 and no redirect", () => {
    for (const backupProbe of [BASE.backupProbe, { host: "api.shop.example.org", path: "/.well-known/acme-challenge/backups-fresh" }]) {
      const settings = { ...BASE, backupProbe };
      const job = jobsOf(settings, undefined).get(JOBS.backups)!;
      assert.deepEqual(probeOf(job, job.static_configs![0]), {
        target: `http://${BASE.nginxContainer}:80${backupProbe.path}`,
        module: BACKUP_PROBE_MODULE,
        instance: `${backupProbe.host}${backupProbe.path}`,
      });
      const modules = (parse(renderBlackboxConfig(settings)) as { modules: Record<string, { http: Record<string, unknown> }> }).modules;
      assert.deepEqual(modules[BACKUP_PROBE_MODULE].http, {
        method: "GET",
        preferred_ip_protocol: "ip4",
        headers: { Host: backupProbe.host },
        valid_status_codes: [200],
        follow_redirects: false,
      });
    }
  });

  test("globals: intervals, the stack label, Alertmanager and the rules folder", () => {
    for (const stack of ["staging", "production", "eu-production"]) {
      const config = parse(renderPrometheusConfig({ ...BASE, stack }, undefined)) as Record<string, unknown>;
      assert.deepEqual(config.global, { scrape_interval: "30s", evaluation_interval: "30s", external_labels: { stack } });
      assert.deepEqual(config.alerting, { alertmanagers: [{ static_configs: [{ targets: ["alertmanager:9093"] }] }] });
      assert.deepEqual(config.rule_files, [`${CONFIG_PATHS.prometheusRulesDir}/*.yml`]);
    }
  });

  const refusals: [string, Partial<ObservabilitySettings>, DatabaseMetrics | undefined, RegExp][] = [
    ["an empty stack", { stack: "" }, undefined, /stack: /],
    ["a stack with a line break", { stack: "prod\nuction" }, undefined, /stack: /],
    ["no TLS host", { tlsHosts: [] }, undefined, /tlsHosts: expected at least one host/],
    ["a TLS host that is an IP", { tlsHosts: ["203.0.113.7"] }, undefined, /tlsHosts: expected hostnames.*"203\.0\.113\.7"/],
    ["an uppercase TLS host", { tlsHosts: ["API.example.com"] }, undefined, /tlsHosts: .*"API\.example\.com"/],
    ["a TLS host twice", { tlsHosts: ["api.example.com", "api.example.com"] }, undefined, /tlsHosts: lists "api\.example\.com" twice/],
    ["a container name with a space", { nginxContainer: "shop nginx" }, undefined, /nginxContainer: .*"shop nginx"/],
    ["a container name with a slash", { nginxContainer: "shop/nginx" }, undefined, /nginxContainer: /],
    ["a probe host without a dot", { backupProbe: { host: "api", path: "/x" } }, undefined, /backupProbe\.host: .*"api"/],
    ["a relative probe path", { backupProbe: { host: "api.example.com", path: "x" } }, undefined, /backupProbe\.path: .*"x"/],
    ["a probe path with a query", { backupProbe: { host: "api.example.com", path: "/x?y=1" } }, undefined, /backupProbe\.path: /],
    ["a relative metrics path", { app: { alias: "api", port: 8000, metricsPath: "metrics" } }, undefined, /app\.metricsPath: .*"metrics"/],
    ["app port 0", { app: { alias: "api", port: 0, metricsPath: "/metrics" } }, undefined, /app\.port: .*0/],
    ["app port 65536", { app: { alias: "api", port: 65536 } }, undefined, /app\.port: /],
    ["an alias with a space", { app: { alias: "my api", port: 8000 } }, undefined, /app\.alias: .*"my api"/],
    ["no database targets", {}, { targets: [], username: "m" }, /database\.targets: .*metricsEndpoints is empty/],
    ["a database URL as target", {}, { targets: ["https://db.example.com:9273/metrics"], username: "m" }, /database\.targets: .*https/],
    ["a database target without port", {}, { targets: ["db.example.com"], username: "m" }, /database\.targets: .*"db\.example\.com"/],
    ["a database port out of range", {}, { targets: ["db.example.com:99999"], username: "m" }, /database\.targets: /],
    ["an empty metrics user", {}, { targets: DATABASE_METRICS.targets, username: "" }, /database\.username: /],
    ["a metrics user with a space", {}, { targets: DATABASE_METRICS.targets, username: "a b" }, /database\.username: /],
  ];
  for (const [what, change, database, message] of refusals) {
    test(`refuses ${what}, naming the setting`, () => {
      const settings = { ...BASE, ...change };
      assert.throws(() => renderPrometheusConfig(settings, database), message);
      if (database === undefined) assert.throws(() => renderBlackboxConfig(settings), message);
    });
  }

  test("reports every problem at once", () => {
    assert.throws(
      () => renderPrometheusConfig({ ...BASE, tlsHosts: [], nginxContainer: "a b" }, { targets: [], username: "" }),
      (error: Error) => ["tlsHosts:", "nginxContainer:", "database.targets:", "database.username:"].every((s) => error.message.includes(s)),
    );
  });
});

describe("the database's metrics endpoints", () => {
  test("the provider's URLs become host:port targets", () => {
    assert.deepEqual(
      metricsEndpointTargets([
        "https://db-a.b.db.ondigitalocean.com:9273/metrics",
        "https://replica-db-a.b.db.ondigitalocean.com:9273/metrics",
      ]),
      ["db-a.b.db.ondigitalocean.com:9273", "replica-db-a.b.db.ondigitalocean.com:9273"],
    );
    assert.deepEqual(metricsEndpointTargets([]), []);
  });
  for (const endpoint of [
    "db-a.b.db.ondigitalocean.com:9273",
    "http://db-a.b.db.ondigitalocean.com:9273/metrics",
    "https://db-a.b.db.ondigitalocean.com/metrics",
    "https://db-a.b.db.ondigitalocean.com:9273/other",
    "https://user@db-a.b.db.ondigitalocean.com:9273/metrics",
    "https://db-a.b.db.ondigitalocean.com:9273/metrics?x=1",
  ]) {
    test(`refuses ${endpoint}`, () => {
      assert.throws(
        () => metricsEndpointTargets([endpoint]),
        /database metrics endpoint: expected a URL like https:\/\/db-host:9273\/metrics/,
      );
    });
  }
});

describe("Prometheus's flags", () => {
  for (const [size, days] of [
    ["512MB", 15],
    ["5GB", 30],
    ["1TB", 1],
    ["100B", 365],
    ["64KB", 7],
  ] as const) {
    test(`retention ${size} and ${days} days`, () => {
      assert.deepEqual(prometheusCommand({ ...BASE, metricsRetentionSize: size, metricsRetentionDays: days }), [
        `--config.file=${CONFIG_PATHS.prometheus}`,
        `--storage.tsdb.path=${PROMETHEUS_STORAGE_PATH}`,
        `--storage.tsdb.retention.size=${size}`,
        `--storage.tsdb.retention.time=${days}d`,
        "--web.listen-address=0.0.0.0:9090",
      ]);
    });
  }
  for (const size of ["5 GB", "5gb", "5GiB", "1.5GB", "0GB", "5G", "GB", "", "05GB", "5GB\n--web.enable-admin-api"]) {
    test(`refuses retention size ${JSON.stringify(size)}, naming metricsRetentionSize`, () => {
      assert.throws(
        () => prometheusCommand({ ...BASE, metricsRetentionSize: size }),
        (error: Error) => error.message.includes("metricsRetentionSize:") && error.message.includes(JSON.stringify(size)),
      );
    });
  }
  for (const days of [0, -1, 1.5, Number.NaN]) {
    test(`refuses ${days} retention days, naming metricsRetentionDays`, () => {
      assert.throws(
        () => prometheusCommand({ ...BASE, metricsRetentionDays: days }),
        /metricsRetentionDays: expected a whole number of days/,
      );
    });
  }
});

interface Receiver {
  name: string;
  email_configs?: { to: string; send_resolved: boolean }[];
  slack_configs?: { api_url_file: string; send_resolved: boolean }[];
}
interface AlertmanagerConfig {
  global: Record<string, unknown>;
  route: { receiver: string; group_by: string[]; routes: { receiver: string; matchers: string[] }[] } & Record<string, unknown>;
  inhibit_rules: Record<string, unknown>[];
  receivers: Receiver[];
}

describe("alertmanager.yml", () => {
  for (const { label, settings } of variants().filter((v) => v.database === undefined && v.settings.app.metricsPath === undefined)) {
    test(`receivers and routes: ${label}`, () => {
      const config = parse(renderAlertmanagerConfig(settings)) as AlertmanagerConfig;
      assert.deepEqual(
        config.receivers.map((r) => r.name),
        [RECIPIENTS_RECEIVER, WATCHDOG_RECEIVER],
      );
      const [recipients, watchdog] = config.receivers;
      assert.deepEqual(watchdog, { name: WATCHDOG_RECEIVER }, "the Watchdog's receiver has no integration");
      assert.deepEqual(
        recipients.email_configs,
        settings.alertEmails.length ? settings.alertEmails.map((to) => ({ to, send_resolved: true })) : undefined,
      );
      assert.deepEqual(
        recipients.slack_configs,
        settings.webhook ? [{ api_url_file: CONFIG_PATHS.alertmanagerWebhookUrlFile, send_resolved: true }] : undefined,
      );
      // Every alert but the Watchdog reaches the recipients, whatever its severity: no other route.
      assert.equal(config.route.receiver, RECIPIENTS_RECEIVER);
      assert.deepEqual(config.route.routes, [{ receiver: WATCHDOG_RECEIVER, matchers: [`alertname="${WATCHDOG_ALERT}"`] }]);
      assert.deepEqual(config.route.group_by, ["alertname", "stack"]);
      assert.deepEqual([config.route.group_wait, config.route.group_interval, config.route.repeat_interval], ["30s", "5m", "4h"]);
      assert.deepEqual(config.inhibit_rules, [
        { source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: ["alertname", "stack"] },
      ]);
      const smtp = settings.smtp;
      if (settings.alertEmails.length === 0 || smtp === undefined) assert.deepEqual(config.global, {});
      else
        assert.deepEqual(config.global, {
          smtp_from: smtp.from,
          smtp_smarthost: smtp.smarthost,
          ...(smtp.username
            ? { smtp_auth_username: smtp.username, smtp_auth_password_file: CONFIG_PATHS.alertmanagerSmtpPasswordFile }
            : {}),
          smtp_require_tls: smtp.requireTls,
        });
    });
  }

  test("emails without SMTP settings are refused, naming dropstack:observability.smtp", () => {
    for (const alertEmails of [["ops@example.com"], ["ops@example.com", "dev@example.com"]]) {
      assert.throws(
        () => renderAlertmanagerConfig({ ...BASE, alertEmails, smtp: undefined }),
        /dropstack:observability\.smtp: is required/,
      );
    }
  });

  test("SMTP settings without emails render no mail settings", () => {
    const config = parse(renderAlertmanagerConfig({ ...BASE, smtp: SMTP, webhook: true })) as AlertmanagerConfig;
    assert.deepEqual(config.global, {});
    assert.equal(config.receivers[0].email_configs, undefined);
  });

  const refusals: [string, Partial<ObservabilitySettings>, RegExp][] = [
    ["an address without a domain", { alertEmails: ["ops"], smtp: SMTP }, /dropstack:alerts\.emails: .*"ops"/],
    ["an address with a line break", { alertEmails: ["ops@example.com\nBcc: x@y.z"], smtp: SMTP }, /dropstack:alerts\.emails: /],
    [
      "an address twice",
      { alertEmails: ["a@example.com", "a@example.com"], smtp: SMTP },
      /dropstack:alerts\.emails: lists "a@example\.com" twice/,
    ],
    ["a smarthost without port", { alertEmails: ["a@example.com"], smtp: { ...SMTP, smarthost: "smtp.example.com" } }, /smtp\.smarthost: /],
    [
      "a smarthost with a URL",
      { alertEmails: ["a@example.com"], smtp: { ...SMTP, smarthost: "smtp://smtp.example.com:587" } },
      /smtp\.smarthost: /,
    ],
    [
      "a smarthost port out of range",
      { alertEmails: ["a@example.com"], smtp: { ...SMTP, smarthost: "smtp.example.com:70000" } },
      /smtp\.smarthost: /,
    ],
    ["a From that is no address", { alertEmails: ["a@example.com"], smtp: { ...SMTP, from: "Alerts" } }, /smtp\.from: .*"Alerts"/],
    ["an empty SMTP user", { alertEmails: ["a@example.com"], smtp: { ...SMTP, username: "" } }, /smtp\.username: /],
  ];
  for (const [what, change, message] of refusals) {
    test(`refuses ${what}, naming the setting`, () => {
      assert.throws(() => renderAlertmanagerConfig({ ...BASE, ...change }), message);
    });
  }

  test("a relay on a private address is accepted", () => {
    const config = parse(
      renderAlertmanagerConfig({
        ...BASE,
        alertEmails: ["a@example.com"],
        smtp: { smarthost: "10.0.0.5:25", from: "a@example.com", requireTls: false },
      }),
    ) as AlertmanagerConfig;
    assert.equal(config.global.smtp_smarthost, "10.0.0.5:25");
    assert.equal(config.global.smtp_auth_username, undefined);
  });
});

// The fields of Prometheus, blackbox and Alertmanager configs that hold a secret inline; each
// has a *_file twin, which is what the renderers must use.
const INLINE_SECRET_KEYS = new Set([
  "password",
  "bearer_token",
  "credentials",
  "client_secret",
  "auth_password",
  "auth_secret",
  "smtp_auth_password",
  "smtp_auth_secret",
  "api_url",
  "slack_api_url",
  "url",
  "api_key",
  "service_key",
  "routing_key",
  "bot_token",
  "webhook_url",
]);

/** Calls visit with every [key, value] of a parsed YAML tree, at any depth. */
function walk(node: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(node)) node.forEach((item) => walk(item, visit));
  else if (node !== null && typeof node === "object")
    for (const [key, value] of Object.entries(node)) {
      visit(key, value);
      walk(value, visit);
    }
}

test("no rendered file holds a secret: every secret is a file under CONFIG_PATHS", () => {
  const secretFiles = new Set<string>([
    CONFIG_PATHS.prometheusDatabasePasswordFile,
    CONFIG_PATHS.alertmanagerSmtpPasswordFile,
    CONFIG_PATHS.alertmanagerWebhookUrlFile,
  ]);
  const referenced = new Set<string>();
  for (const { settings, database } of variants()) {
    const files = [renderPrometheusConfig(settings, database), renderBlackboxConfig(settings), renderAlertmanagerConfig(settings)];
    for (const text of files) {
      walk(parse(text), (key, value) => {
        assert.ok(!INLINE_SECRET_KEYS.has(key), `inline secret field ${key}: ${JSON.stringify(value)}`);
        if (key.endsWith("_file") && key !== "ca_file") {
          assert.ok(secretFiles.has(value as string), `${key} points at ${JSON.stringify(value)}, outside CONFIG_PATHS`);
          referenced.add(value as string);
        }
      });
    }
  }
  assert.deepEqual([...referenced].sort(), [...secretFiles].sort(), "each secret file is used by some variant");
});
