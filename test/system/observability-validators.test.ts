// prometheus.yml, blackbox.yml and alertmanager.yml read by Debian's real programs: each
// checker accepts every shape of the rendered files, and the servers, started on loopback
// with them, do what the files promise: Prometheus takes the flags and turns the probe jobs
// into the right blackbox requests, the blackbox exporter presents each host's name as SNI
// and checks the backup file, Alertmanager routes, inhibits and delivers as configured.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTlsServer, createSecureContext, type SecureContext, type Server as TlsServer } from "node:tls";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { stringify } from "yaml";
import { renderAlertmanagerConfig, RECIPIENTS_RECEIVER, WATCHDOG_RECEIVER } from "../../components/observability/alertmanager";
import {
  BACKUP_PROBE_MODULE,
  certificateModule,
  prometheusCommand,
  renderBlackboxConfig,
  renderPrometheusConfig,
  type DatabaseMetrics,
} from "../../components/observability/prometheus";
import { CONFIG_PATHS, JOBS, WATCHDOG_ALERT, type ObservabilitySettings } from "../../components/observability/settings";
import { freePort, requireTools, run, scopedTempDirs } from "../../tools/lib/system";
import { DATABASE_METRICS, SMTP, observabilitySettings } from "../support/observability";

const tools = requireTools([
  { command: "promtool", debianPackage: "prometheus" },
  { command: "prometheus", debianPackage: "prometheus" },
  { command: "amtool", debianPackage: "prometheus-alertmanager" },
  { command: "prometheus-alertmanager", debianPackage: "prometheus-alertmanager" },
  { command: "prometheus-blackbox-exporter", debianPackage: "prometheus-blackbox-exporter" },
  { command: "openssl", debianPackage: "openssl" },
]);
const tempDir = scopedTempDirs(after);

const BASE: ObservabilitySettings = observabilitySettings({
  name: "shop-production",
  stack: "production",
  nginxContainer: "shop-production-nginx",
  app: { alias: "api", port: 8000, metricsPath: "/metrics" },
  alertEmails: ["ops@example.com", "dev@example.org"],
  smtp: SMTP,
  webhook: true,
});

const VARIANTS: [string, ObservabilitySettings, DatabaseMetrics | undefined][] = [
  ["everything: app metrics, database, emails with a login, webhook, three hosts", BASE, DATABASE_METRICS],
  [
    "the least: no app metrics, no database, no recipients, one host",
    {
      ...BASE,
      stack: "staging",
      tlsHosts: ["api.example.com"],
      app: { alias: "api", port: 3000 },
      alertEmails: [],
      smtp: undefined,
      webhook: false,
    },
    undefined,
  ],
  [
    "emails through a relay without login or STARTTLS, no webhook",
    {
      ...BASE,
      alertEmails: ["ops@example.com"],
      smtp: { smarthost: "10.0.0.5:25", from: "alerts@example.com", requireTls: false },
      webhook: false,
    },
    { targets: [DATABASE_METRICS.targets[0]], username: "metrics" },
  ],
  [
    "webhook only, app metrics on their own path",
    { ...BASE, alertEmails: [], smtp: undefined, app: { alias: "web", port: 8080, metricsPath: "/internal/metrics" } },
    undefined,
  ],
  [
    "small retention, two hosts",
    { ...BASE, tlsHosts: ["api.example.com", "app.example.com"], metricsRetentionSize: "512MB", metricsRetentionDays: 3 },
    DATABASE_METRICS,
  ],
];

/** A rule file in the rules folder, as the rules renderer writes them (one group per file). */
const RULE_FILE = stringify({
  groups: [{ name: "watchdog", rules: [{ alert: WATCHDOG_ALERT, expr: "vector(1)", labels: { severity: "none" } }] }],
});

function openssl(...args: string[]): void {
  const result = run([tools.openssl, ...args]);
  assert.equal(result.status, 0, result.stderr);
}

/** A CA, and a certificate it signed for each name, valid `days` days. */
function certificateAuthority(
  dir: string,
  names: string[],
  days = 30,
): { caFile: string; certificates: Map<string, { cert: string; key: string }> } {
  const caKey = join(dir, "ca.key");
  const caFile = join(dir, "ca.crt");
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    caKey,
    "-out",
    caFile,
    "-days",
    "365",
    "-subj",
    "/CN=dropstack test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  );
  const certificates = new Map<string, { cert: string; key: string }>();
  for (const name of names) {
    const [key, csr, cert, ext] = ["key", "csr", "crt", "ext"].map((suffix) => join(dir, `${name}.${suffix}`));
    writeFileSync(ext, `subjectAltName=DNS:${name}\n`);
    openssl("req", ...ec, "-keyout", key, "-out", csr, "-subj", `/CN=${name}`);
    openssl(
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      caFile,
      "-CAkey",
      caKey,
      "-CAcreateserial",
      "-days",
      String(days),
      "-extfile",
      ext,
      "-out",
      cert,
    );
    certificates.set(name, { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") });
  }
  return { caFile, certificates };
}

/**
 * Writes the rendered files and the files they refer to under `root`, at their paths in the
 * containers (so /etc/prometheus/... becomes <root>/etc/prometheus/...), and returns the
 * rendered text with those paths moved likewise.
 */
function containerFiles(root: string, settings: ObservabilitySettings, database: DatabaseMetrics | undefined, caFile: string) {
  const moved = (text: string) => text.replace(/(^|\s)(\/etc\/(?:prometheus|alertmanager|blackbox)\/)/gm, `$1${root}$2`);
  const files: [string, string][] = [
    [CONFIG_PATHS.prometheus, moved(renderPrometheusConfig(settings, database))],
    [`${CONFIG_PATHS.prometheusRulesDir}/watchdog.yml`, RULE_FILE],
    [CONFIG_PATHS.prometheusDatabasePasswordFile, "metrics-password"],
    [CONFIG_PATHS.prometheusDatabaseCaFile, readFileSync(caFile, "utf8")],
    [CONFIG_PATHS.blackbox, moved(renderBlackboxConfig(settings))],
    [CONFIG_PATHS.alertmanager, moved(renderAlertmanagerConfig(settings))],
    [CONFIG_PATHS.alertmanagerSmtpPasswordFile, "smtp-password"],
    [CONFIG_PATHS.alertmanagerWebhookUrlFile, "http://127.0.0.1:9/hook"],
  ];
  for (const [path, text] of files) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return { path: (containerPath: string) => join(root, containerPath), prometheusYml: files[0][1], alertmanagerYml: files[5][1] };
}

describe("the checkers accept every shape of the rendered files", () => {
  let caFile = "";
  before(() => {
    caFile = certificateAuthority(tempDir("obs-ca"), []).caFile;
  });

  for (const [name, settings, database] of VARIANTS) {
    describe(name, () => {
      let files: ReturnType<typeof containerFiles>;
      before(() => {
        files = containerFiles(tempDir("obs-check"), settings, database, caFile);
      });

      test("promtool check config, rule files included", () => {
        // The moved paths must be the only ones left: a container path would be checked against this machine.
        assert.doesNotMatch(files.prometheusYml, /(^|\s)\/etc\/prometheus\//m);
        const result = run([tools.promtool, "check", "config", files.path(CONFIG_PATHS.prometheus)]);
        assert.equal(result.status, 0, result.stdout + result.stderr);
        assert.match(result.stdout, /SUCCESS: 1 rule files found/, "the rule_files glob finds the rules folder's file");
        assert.match(result.stdout, /SUCCESS: 1 rules found/);
      });

      test("amtool check-config", () => {
        const result = run([tools.amtool, "check-config", files.path(CONFIG_PATHS.alertmanager)]);
        assert.equal(result.status, 0, result.stdout + result.stderr);
        assert.match(result.stdout, /SUCCESS/);
        assert.match(result.stdout, /- 2 receivers/);
        assert.match(result.stdout, /- 1 inhibit rules/);
      });

      test("amtool: the Watchdog reaches no one, every other alert the recipients", () => {
        const route = (...labels: string[]) =>
          run([tools.amtool, "config", "routes", "test", `--config.file=${files.path(CONFIG_PATHS.alertmanager)}`, ...labels]);
        const cases: [string[], string][] = [
          [[`alertname=${WATCHDOG_ALERT}`, "severity=none"], WATCHDOG_RECEIVER],
          [["alertname=DiskFull", "severity=critical"], RECIPIENTS_RECEIVER],
          [["alertname=DiskFull", "severity=warning"], RECIPIENTS_RECEIVER],
          [["alertname=CertificateExpiring"], RECIPIENTS_RECEIVER],
        ];
        for (const [labels, receiver] of cases) {
          const result = route(...labels);
          assert.equal(result.status, 0, result.stderr);
          assert.equal(result.stdout.trim(), receiver, labels.join(" "));
        }
      });

      test("prometheus-blackbox-exporter --config.check", () => {
        const result = run([tools["prometheus-blackbox-exporter"], "--config.check", `--config.file=${files.path(CONFIG_PATHS.blackbox)}`]);
        assert.equal(result.status, 0, result.stdout + result.stderr);
        assert.match(result.stderr, /Config file is ok/);
      });
    });
  }
});

/** A server process on loopback, up once `readyUrl` answers 200. */
class Server {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  log = "";

  constructor(argv: string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env });
    this.child.stdout?.on("data", (chunk) => (this.log += chunk));
    this.child.stderr?.on("data", (chunk) => (this.log += chunk));
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
  }

  async ready(readyUrl: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`${this.child.spawnfile} exited:\n${this.log}`);
      const status = await fetch(readyUrl).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) return;
      if (Date.now() > deadline) throw new Error(`${readyUrl} not ready after ${timeoutMs} ms:\n${this.log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  assert.equal(response.status, 200, `${url}: ${await response.clone().text()}`);
  return ((await response.json()) as { data: T }).data;
}

async function poll<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("Prometheus running with the rendered flags and prometheus.yml", () => {
  const settings: ObservabilitySettings = { ...BASE, metricsRetentionSize: "512MB", metricsRetentionDays: 10 };
  let prometheus: Server;
  let base = "";

  before(async () => {
    const root = tempDir("obs-prometheus");
    const files = containerFiles(root, settings, DATABASE_METRICS, certificateAuthority(root, []).caFile);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // The container's flags, with its paths moved under root and the listen address on loopback.
    const flags = prometheusCommand(settings).map((flag) => {
      const [name, value] = flag.split("=", 2);
      if (name === "--config.file") return `${name}=${files.path(value)}`;
      if (name === "--storage.tsdb.path") return `${name}=${join(root, value)}`;
      if (name === "--web.listen-address") return `${name}=127.0.0.1:${port}`;
      return flag;
    });
    prometheus = new Server([tools.prometheus, ...flags]);
    await prometheus.ready(`${base}/-/ready`);
  });
  after(() => prometheus?.stop());

  test("retention by size and by age, as given", async () => {
    const flags = await getJson<Record<string, string>>(`${base}/api/v1/status/flags`);
    // Prometheus reads the size in powers of 2, and shows it so.
    assert.equal(flags["storage.tsdb.retention.size"], "512MiB");
    assert.equal(flags["storage.tsdb.retention.time"], "10d");
    const runtime = await getJson<{ storageRetention: string }>(`${base}/api/v1/status/runtimeinfo`);
    assert.equal(runtime.storageRetention, "10d or 512MiB");
  });

  test("the rules folder's files are loaded", async () => {
    const rules = await getJson<{ groups: { name: string; rules: { name: string }[] }[] }>(`${base}/api/v1/rules`);
    assert.deepEqual(
      rules.groups.map((group) => [group.name, group.rules.map((rule) => rule.name)]),
      [["watchdog", [WATCHDOG_ALERT]]],
    );
  });

  test("each job scrapes what it should: probes through the blackbox exporter, the database over HTTPS", async () => {
    type Target = { scrapeUrl: string; labels: Record<string, string> };
    const expectedJobs = Object.values(JOBS).filter((job) => job !== JOBS.app); // the app's alias resolves only on the droplet
    const targets = await poll("every static job's targets", async () => {
      const active = (await getJson<{ activeTargets: Target[] }>(`${base}/api/v1/targets?state=active`)).activeTargets;
      return expectedJobs.every((job) => active.some((target) => target.labels.job === job)) ? active : undefined;
    });
    const byJob = (job: string) =>
      targets
        .filter((target) => target.labels.job === job)
        .map((target) => ({ url: target.scrapeUrl, instance: target.labels.instance }))
        .sort((a, b) => a.instance.localeCompare(b.instance));
    assert.deepEqual(
      byJob(JOBS.certificates),
      [...settings.tlsHosts].sort().map((host) => ({
        url: `http://blackbox:9115/probe?module=${encodeURIComponent(certificateModule(host))}&target=${encodeURIComponent(`${settings.nginxContainer}:443`)}`,
        instance: host,
      })),
    );
    const { host, path } = settings.backupProbe;
    assert.deepEqual(byJob(JOBS.backups), [
      {
        url: `http://blackbox:9115/probe?module=${BACKUP_PROBE_MODULE}&target=${encodeURIComponent(`http://${settings.nginxContainer}:80${path}`)}`,
        instance: `${host}${path}`,
      },
    ]);
    assert.deepEqual(
      byJob(JOBS.database).map((target) => target.url),
      [...DATABASE_METRICS.targets].sort().map((target) => `https://${target}/metrics`),
    );
    assert.deepEqual(byJob(JOBS.nginx), [{ url: "http://alloy:12345/metrics", instance: "alloy:12345" }]);
    assert.deepEqual(byJob(JOBS.redis), [{ url: "http://cache-exporter:9121/metrics", instance: "cache-exporter:9121" }]);
  });
});

/** Sends the certificate for the name the client asks for (SNI), or for `fallbackName`, and records the names asked. */
async function startSniServer(certificates: Map<string, { cert: string; key: string }>, fallbackName: string) {
  const contexts = new Map<string, SecureContext>([...certificates].map(([name, pair]) => [name, createSecureContext(pair)]));
  const served = new Set(certificates.keys());
  const askedFor: string[] = [];
  const server: TlsServer = createTlsServer(
    {
      ...certificates.get(fallbackName)!,
      SNICallback: (name, callback) => {
        askedFor.push(name);
        callback(null, contexts.get(served.has(name) ? name : fallbackName));
      },
    },
    (socket) => socket.end(),
  );
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { port, askedFor, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function metric(text: string, name: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}

describe("the blackbox exporter running with the rendered blackbox.yml", () => {
  // nginx serves a certificate for api and app; monitoring's name gets api's certificate.
  const settings: ObservabilitySettings = {
    ...BASE,
    backupProbe: { host: "api.shop.example.org", path: "/.well-known/acme-challenge/backups" },
  };
  const [api, app, monitoring] = settings.tlsHosts;
  let blackbox: Server;
  let base = "";
  let certificates: Map<string, { cert: string; key: string }>;
  let tls: Awaited<ReturnType<typeof startSniServer>>;
  let backupServer: HttpServer;
  let backupPort = 0;
  let backupStatus = 200;
  const backupRequests: { path: string; host: string | undefined }[] = [];

  before(async () => {
    const root = tempDir("obs-blackbox");
    const authority = certificateAuthority(root, [api, app]);
    certificates = authority.certificates;
    const files = containerFiles(root, settings, undefined, authority.caFile);
    tls = await startSniServer(certificates, api);
    backupServer = createHttpServer((request, response) => {
      backupRequests.push({ path: request.url ?? "", host: request.headers.host });
      // A redirect leads to a page that answers 200, as an app's catch-all route would.
      if (request.url !== settings.backupProbe.path) response.writeHead(200);
      else if (backupStatus === 301) response.writeHead(301, { Location: `/moved${request.url}` });
      else response.writeHead(backupStatus);
      response.end();
    });
    backupPort = await freePort();
    await new Promise<void>((resolve) => backupServer.listen(backupPort, "127.0.0.1", resolve));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // Go reads its trusted roots from SSL_CERT_FILE: the test CA stands in for the public ones.
    blackbox = new Server(
      [
        tools["prometheus-blackbox-exporter"],
        `--config.file=${files.path(CONFIG_PATHS.blackbox)}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { ...process.env, SSL_CERT_FILE: authority.caFile },
    );
    await blackbox.ready(`${base}/metrics`);
  });
  after(async () => {
    await blackbox?.stop();
    await tls?.close();
    backupServer?.close();
  });

  const probe = async (module: string, target: string) => {
    const response = await fetch(`${base}/probe?module=${encodeURIComponent(module)}&target=${encodeURIComponent(target)}`);
    assert.equal(response.status, 200);
    return response.text();
  };

  test("each host's module presents its name as SNI and reports its certificate's expiry", async () => {
    for (const host of [api, app]) {
      tls.askedFor.length = 0;
      const result = await probe(certificateModule(host), `127.0.0.1:${tls.port}`);
      assert.deepEqual(tls.askedFor, [host]);
      assert.equal(metric(result, "probe_success"), 1, result);
      const notAfter = Date.parse(new X509Certificate(certificates.get(host)!.cert).validTo) / 1000;
      assert.equal(metric(result, "probe_ssl_earliest_cert_expiry"), notAfter);
    }
  });

  test("a certificate for another name fails the probe", async () => {
    tls.askedFor.length = 0;
    const result = await probe(certificateModule(monitoring), `127.0.0.1:${tls.port}`);
    assert.deepEqual(tls.askedFor, [monitoring]);
    assert.equal(metric(result, "probe_success"), 0, result);
  });

  test("the backup probe sends the api host and succeeds only on 200, following no redirect", async () => {
    const target = `http://127.0.0.1:${backupPort}${settings.backupProbe.path}`;
    for (const [status, success] of [
      [200, 1],
      [404, 0],
      [301, 0],
      [200, 1],
    ]) {
      backupStatus = status;
      backupRequests.length = 0;
      const result = await probe(BACKUP_PROBE_MODULE, target);
      assert.equal(metric(result, "probe_success"), success, `${status}: ${result}`);
      assert.deepEqual(backupRequests, [{ path: settings.backupProbe.path, host: settings.backupProbe.host }], `status ${status}`);
    }
  });
});

describe("Alertmanager running with the rendered alertmanager.yml", { timeout: 120_000 }, () => {
  // The webhook only: mail would need a relay.
  const settings: ObservabilitySettings = { ...BASE, stack: "staging", alertEmails: [], smtp: undefined, webhook: true };
  let alertmanager: Server;
  let base = "";
  let hook: HttpServer;
  const delivered: { text: string }[] = [];

  before(async () => {
    const root = tempDir("obs-alertmanager");
    const files = containerFiles(root, settings, undefined, certificateAuthority(root, []).caFile);
    hook = createHttpServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        delivered.push({ text: body });
        response.end("ok");
      });
    });
    const hookPort = await freePort();
    await new Promise<void>((resolve) => hook.listen(hookPort, "127.0.0.1", resolve));
    // As the deploy writes it: the URL alone, with a line end.
    writeFileSync(files.path(CONFIG_PATHS.alertmanagerWebhookUrlFile), `http://127.0.0.1:${hookPort}/hook\n`);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    alertmanager = new Server([
      tools["prometheus-alertmanager"],
      `--config.file=${files.path(CONFIG_PATHS.alertmanager)}`,
      `--storage.path=${join(root, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
    ]);
    await alertmanager.ready(`${base}/-/ready`);
    const alert = (alertname: string, severity: string) => ({ labels: { alertname, severity, stack: settings.stack } });
    const response = await fetch(`${base}/api/v2/alerts`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify([
        alert(WATCHDOG_ALERT, "none"),
        alert("DiskFull", "critical"),
        alert("DiskFull", "warning"),
        alert("HighLatency", "warning"),
      ]),
    });
    assert.equal(response.status, 200, await response.text());
  });
  after(async () => {
    await alertmanager?.stop();
    hook?.close();
  });

  test("a warning is inhibited by the critical alert of the same name, and only by it", async () => {
    type Alert = { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } };
    const states = await poll("the alerts' states", async () => {
      const alerts = (await (await fetch(`${base}/api/v2/alerts`)).json()) as Alert[];
      return alerts.length === 4 ? alerts : undefined;
    });
    const state = (alertname: string, severity: string) =>
      states.find((a) => a.labels.alertname === alertname && a.labels.severity === severity)?.status;
    assert.equal(state("DiskFull", "warning")?.state, "suppressed");
    assert.equal(state("DiskFull", "warning")?.inhibitedBy.length, 1);
    assert.equal(state("DiskFull", "critical")?.state, "active");
    assert.equal(state("HighLatency", "warning")?.state, "active");
  });

  test("the Watchdog is grouped for no one; the rest for the recipients, by alert name", async () => {
    type Group = { labels: Record<string, string>; receiver: { name: string } };
    const groups = (await (await fetch(`${base}/api/v2/alerts/groups`)).json()) as Group[];
    assert.deepEqual(groups.map((group) => [group.labels.alertname, group.labels.stack, group.receiver.name]).sort(), [
      ["DiskFull", settings.stack, RECIPIENTS_RECEIVER],
      ["HighLatency", settings.stack, RECIPIENTS_RECEIVER],
      [WATCHDOG_ALERT, settings.stack, WATCHDOG_RECEIVER],
    ]);
  });

  test("the webhook read from its file is sent each group once the group wait is over; never the Watchdog", async () => {
    await poll("two notifications at the webhook", async () => (delivered.length >= 2 ? true : undefined), 90_000).catch((error: Error) => {
      throw new Error(`${error.message} (${delivered.length} arrived); Alertmanager's log:\n${alertmanager.log}`);
    });
    // Whatever else is on its way arrives within a second or two of the first ones.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const titles = delivered.map((d) => (JSON.parse(d.text) as { attachments: { title: string }[] }).attachments[0].title).sort();
    assert.equal(titles.length, 2, titles.join("\n"));
    assert.match(titles[0], /^\[FIRING:1\] DiskFull /, "the inhibited warning is not counted");
    assert.match(titles[1], /^\[FIRING:1\] HighLatency /);
  });
});
