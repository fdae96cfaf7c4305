// dropstack:observability and hosts.monitoring: defaults, each key's message, and the checks
// that read several keys (mail needs a relay, credentials come in pairs, the metrics fit the volume).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig, retentionSizeBytes } from "../../components/config/schema";
import { DEFAULT_ALERT_THRESHOLDS } from "../../components/observability/settings";
import { type MinimalConfig, minimalConfig, problemsAfter } from "../support/config";

const SMTP = { smarthost: "smtp.example.com:587", from: "alerts@example.com" };
const PRODUCTION = { adminCidrs: ["203.0.113.0/24"], backups: { offsite: false }, promotion: { allowUnpromoted: true } };

function parsed(change: (raw: MinimalConfig) => void, stack = "staging") {
  const raw = minimalConfig();
  if (stack === "production") Object.assign(raw, PRODUCTION);
  change(raw);
  const result = parseStackConfig(raw, stack);
  assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
  return result.config;
}

const withObservability =
  (observability: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  (raw: MinimalConfig) =>
    Object.assign(raw, { observability, ...extra });

describe("observability defaults", () => {
  it("is off in staging and on in production, with bounded retention and the default thresholds", () => {
    assert.equal(parsed(() => {}).observability.enabled, false);
    const production = parsed(() => {}, "production").observability;
    assert.equal(production.enabled, true);
    assert.equal(production.metricsRetentionSize, "2GB");
    assert.equal(production.metricsRetentionDays, 15);
    assert.equal(production.logRetentionDays, 14);
    assert.deepEqual(production.thresholds, DEFAULT_ALERT_THRESHOLDS);
    assert.equal(production.smtp, undefined);
  });

  it("can be turned on in staging and off in production", () => {
    assert.equal(parsed(withObservability({ enabled: true })).observability.enabled, true);
    assert.equal(parsed(withObservability({ enabled: false }), "production").observability.enabled, false);
  });

  it("keeps a threshold given and defaults the others", () => {
    const thresholds = parsed(withObservability({ thresholds: { p95LatencyMs: 300 } })).observability.thresholds;
    assert.deepEqual(thresholds, { ...DEFAULT_ALERT_THRESHOLDS, p95LatencyMs: 300 });
  });
});

describe("observability keys", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ enabled: "yes" }, 'dropstack:observability.enabled: expected true or false, got "yes"'],
    [{ metricsRetentionSize: "5 GB" }, 'dropstack:observability.metricsRetentionSize: expected a size like 512MB or 5GB, got "5 GB"'],
    [{ metricsRetentionSize: "0GB" }, 'dropstack:observability.metricsRetentionSize: expected a size like 512MB or 5GB, got "0GB"'],
    [{ metricsRetentionSize: "5gb" }, 'dropstack:observability.metricsRetentionSize: expected a size like 512MB or 5GB, got "5gb"'],
    [{ metricsRetentionDays: 0 }, "dropstack:observability.metricsRetentionDays: must be a whole number from 1 to 3650, got 0"],
    [{ logRetentionDays: 1.5 }, "dropstack:observability.logRetentionDays: must be a whole number from 1 to 365, got 1.5"],
    [{ loginPath: "auth/login" }, 'dropstack:observability.loginPath: expected a request path like /auth/login, got "auth/login"'],
    [
      { appMetricsPath: "/metrics?x=1" },
      'dropstack:observability.appMetricsPath: expected a request path like /auth/login, got "/metrics?x=1"',
    ],
    [
      { thresholds: { max5xxPercent: 101 } },
      "dropstack:observability.thresholds.max5xxPercent: must be a percentage from 0 to 100, got 101",
    ],
    [
      { thresholds: { minCertificateDays: 90 } },
      "dropstack:observability.thresholds.minCertificateDays: must be a whole number from 1 to 89, got 90",
    ],
    [
      { thresholds: { p95: 1 } },
      "dropstack:observability.thresholds.p95: unknown key; did you mean dropstack:observability.thresholds.p95LatencyMs?",
    ],
    [
      { smtp: { ...SMTP, smarthost: "smtp.example.com" } },
      'dropstack:observability.smtp.smarthost: expected host:port of the mail relay, e.g. smtp.example.com:587, got "smtp.example.com"',
    ],
    [{ smtp: { ...SMTP, from: "alerts" } }, 'dropstack:observability.smtp.from: expected an email address, got "alerts"'],
    [
      { remoteLoki: { url: "http://loki.example.com/loki/api/v1/push" } },
      "dropstack:observability.remoteLoki.url: expected an https:// URL, got a http URL",
    ],
    [
      { remoteLoki: { url: "https://u:p@loki.example.com/push" } },
      "dropstack:observability.remoteLoki.url: expected a URL without credentials in it",
    ],
    [{ remoteLoki: { url: "loki" } }, "dropstack:observability.remoteLoki.url: expected an https:// URL"],
  ];
  for (const [observability, message] of cases)
    it(`refuses ${JSON.stringify(observability)}`, () => assert.deepEqual(problemsAfter(withObservability(observability)), [message]));

  it("never repeats a secret value in a message", () => {
    const problems = problemsAfter(
      withObservability({
        webhookUrl: 42,
        smtp: { ...SMTP, username: "u", password: 7 },
        remoteLoki: { url: "https://l.example.com", username: "t", password: "" },
      }),
    );
    assert.deepEqual(problems.sort(), [
      "dropstack:observability.remoteLoki.password: must not be empty",
      "dropstack:observability.smtp.password: expected text",
      "dropstack:observability.webhookUrl: expected text",
    ]);
  });
});

describe("observability checks across keys (only when it is on)", () => {
  it("needs a mail relay to mail dropstack:alerts.emails", () => {
    const emails = { alerts: { emails: ["ops@example.com"] } };
    assert.deepEqual(problemsAfter(withObservability({ enabled: true }, emails)), [
      "dropstack:observability.smtp: required to mail dropstack:alerts.emails: the relay Alertmanager sends through (smarthost, from)",
    ]);
    assert.deepEqual(problemsAfter(withObservability({ enabled: true, smtp: SMTP }, emails)), []);
    assert.deepEqual(problemsAfter(withObservability({ enabled: false }, emails)), [], "off: nothing to mail through");
    assert.deepEqual(problemsAfter(withObservability({ enabled: true })), [], "no one to mail");
  });

  it("takes relay and Loki credentials in pairs", () => {
    assert.deepEqual(problemsAfter(withObservability({ enabled: true, smtp: { ...SMTP, username: "alerts" } })), [
      "dropstack:observability.smtp.password: set both smtp.username and smtp.password (secret), or neither for a relay without authentication",
    ]);
    assert.deepEqual(problemsAfter(withObservability({ enabled: true, smtp: { ...SMTP, password: "s3cret" } })), [
      "dropstack:observability.smtp.username: set both smtp.username and smtp.password (secret), or neither for a relay without authentication",
    ]);
    assert.deepEqual(problemsAfter(withObservability({ enabled: true, smtp: { ...SMTP, username: "a", password: "s3cret" } })), []);
    assert.deepEqual(
      problemsAfter(withObservability({ enabled: true, remoteLoki: { url: "https://logs.example.com/loki/api/v1/push", password: "p" } })),
      ["dropstack:observability.remoteLoki.username: set both remoteLoki.username and remoteLoki.password (secret), or neither"],
    );
    assert.deepEqual(
      problemsAfter(
        withObservability({ enabled: true, remoteLoki: { url: "https://logs.example.com/loki/api/v1/push", username: "tenant" } }),
      ),
      ["dropstack:observability.remoteLoki.password: set both remoteLoki.username and remoteLoki.password (secret), or neither"],
    );
  });

  it("keeps the metrics to half of the data volume", () => {
    const sized = (size: string, volumeGb: number) =>
      withObservability({ enabled: true, metricsRetentionSize: size }, { droplet: { volumeGb } });
    assert.deepEqual(problemsAfter(sized("10GB", 20)), []);
    assert.deepEqual(problemsAfter(sized("10241MB", 20)), [
      "dropstack:observability.metricsRetentionSize: 10241MB is more than half of the 20 GB data volume (dropstack:droplet.volumeGb), which backups, Redis and logs share",
    ]);
    assert.deepEqual(problemsAfter(sized("11GB", 20)).length, 1);
    assert.deepEqual(problemsAfter(sized("1TB", 2048)), []);
    assert.deepEqual(problemsAfter(withObservability({ enabled: false, metricsRetentionSize: "1TB" })), [], "off: nothing is stored");
  });

  it("names Grafana's host only when the monitoring is on", () => {
    const hosts = { api: "api.example.com", monitoring: "grafana.example.com" };
    assert.deepEqual(
      problemsAfter((raw) => Object.assign(raw, { hosts })),
      [
        "dropstack:hosts.monitoring: is Grafana's name, and the monitoring is off: set observability.enabled: true, or remove hosts.monitoring",
      ],
    );
    assert.deepEqual(
      problemsAfter((raw) => Object.assign(raw, { hosts, observability: { enabled: true } })),
      [],
    );
    assert.deepEqual(
      problemsAfter((raw) => Object.assign(raw, { hosts }), "production").filter((p) => p.includes("monitoring")),
      [],
    );
  });

  it("gives Grafana a name of its own", () => {
    const ON = { enabled: true };
    for (const monitoring of ["api.example.com", "app.example.com"])
      assert.deepEqual(
        problemsAfter((raw) =>
          Object.assign(raw, { hosts: { api: "api.example.com", app: "app.example.com", monitoring }, observability: ON }),
        ),
        ["dropstack:hosts.monitoring: must differ from hosts.api and hosts.app: Grafana gets a name of its own"],
      );
    assert.deepEqual(
      problemsAfter((raw) =>
        Object.assign(raw, { hosts: { api: "api.example.com", monitoring: "grafana.example.com" }, observability: ON }),
      ),
      [],
    );
    assert.deepEqual(
      problemsAfter((raw) =>
        Object.assign(raw, { manageDns: true, hosts: { api: "api.example.com", monitoring: "grafana.other.org" }, observability: ON }),
      ),
      ['dropstack:hosts.monitoring: "grafana.other.org" is not inside the managed zone "example.com"'],
    );
  });
});

describe("retentionSizeBytes", () => {
  it("reads Prometheus's base-2 units", () => {
    assert.equal(retentionSizeBytes("512MB"), 512 * 2 ** 20);
    assert.equal(retentionSizeBytes("2GB"), 2 * 2 ** 30);
    assert.equal(retentionSizeBytes("1TB"), 2 ** 40);
    assert.equal(retentionSizeBytes("64KB"), 64 * 1024);
    for (const bad of ["2G", "GB", "-1GB", "1.5GB", "01GB", "2 GB"]) assert.equal(retentionSizeBytes(bad), undefined, bad);
  });
});

describe("observability.grafanaRoles", () => {
  const AUTH0 = { apiIdentifier: "https://api.example.com", roles: { super_admin: ["write:all"], support: ["read:all"], patient: [] } };

  it("maps roles of auth0.roles to Grafana's, and refuses roles the tenant does not have", () => {
    const roles = (grafanaRoles: Record<string, string[]>) => (raw: MinimalConfig) =>
      Object.assign(raw, { auth0: AUTH0, observability: { grafanaRoles } });
    assert.deepEqual(parsed(roles({ admin: ["super_admin"], viewer: ["support"] })).observability.grafanaRoles, {
      admin: ["super_admin"],
      editor: [],
      viewer: ["support"],
    });
    assert.deepEqual(problemsAfter(roles({ admin: ["admin"], editor: ["support", "constructor"] })), [
      'dropstack:observability.grafanaRoles.admin: "admin" is not a role in auth0.roles',
      'dropstack:observability.grafanaRoles.editor: "constructor" is not a role in auth0.roles',
    ]);
    assert.deepEqual(problemsAfter(roles({ viewer: ["Support"] })), [
      'dropstack:observability.grafanaRoles.viewer.0: expected a role name from auth0.roles, got "Support"',
    ]);
  });

  it("needs the tenant the roles come from", () => {
    assert.deepEqual(problemsAfter(withObservability({ grafanaRoles: { admin: ["ops"] } })), [
      "dropstack:observability.grafanaRoles.admin: needs dropstack:auth0: Grafana's roles come from its tenant",
    ]);
  });
});
