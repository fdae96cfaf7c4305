import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { DATA_MOUNT } from "../../components/common/names";
import {
  ALERT_NAMES,
  ALERT_RULES_FILE,
  alertRuleGroups,
  alertRules,
  renderAlertRules,
  type AlertName,
  type AlertRule,
} from "../../components/observability/rules";
import {
  JOBS,
  NGINX_LOG_METRICS,
  WATCHDOG_ALERT,
  type AlertThresholds,
  type ObservabilitySettings,
} from "../../components/observability/settings";
import { observabilitySettings } from "../support/observability";

function ruleNamed(rules: AlertRule[], name: AlertName): AlertRule {
  const found = rules.find((r) => r.alert === name);
  assert.ok(found, `no ${name} rule among ${rules.map((r) => r.alert).join(", ")}`);
  return found;
}

/** Each threshold, the rule it moves, the comparison it sits in, and values to try it at. */
const THRESHOLD_RULES: { key: keyof AlertThresholds; alert: AlertName; comparison: ">" | "<"; values: number[] }[] = [
  { key: "max5xxPercent", alert: "HttpErrorRatioHigh", comparison: ">", values: [0.5, 2.35, 5, 25] },
  { key: "p95LatencyMs", alert: "HttpLatencyP95High", comparison: ">", values: [80, 333, 1200] },
  { key: "minLoginSuccessPercent", alert: "LoginSuccessLow", comparison: "<", values: [60, 92.25, 99.9] },
  { key: "minDiskFreePercent", alert: "DiskFreeLow", comparison: "<", values: [5, 12.5, 25] },
  { key: "minMemoryAvailablePercent", alert: "MemoryAvailableLow", comparison: "<", values: [3, 7.75, 20] },
  { key: "maxDatabaseCpuPercent", alert: "DatabaseCpuHigh", comparison: ">", values: [60, 72.5, 95] },
  { key: "maxDatabaseConnectionsPercent", alert: "DatabaseConnectionsHigh", comparison: ">", values: [50, 66.6, 90] },
  { key: "minCertificateDays", alert: "CertificateExpiringSoon", comparison: "<", values: [3, 7.5, 30] },
];

describe("alert thresholds", () => {
  it("cover every threshold the settings have", () => {
    assert.deepEqual(THRESHOLD_RULES.map((t) => t.key).sort(), Object.keys(observabilitySettings().thresholds).sort());
  });

  for (const { key, alert, comparison, values } of THRESHOLD_RULES) {
    it(`${key} moves ${alert}'s comparison and nothing else`, () => {
      const base = alertRules(observabilitySettings({ loginPath: "/login" }));
      for (const value of values) {
        const moved = alertRules(observabilitySettings({ loginPath: "/login", thresholds: { [key]: value } }));
        const rule = ruleNamed(moved, alert);
        assert.ok(
          rule.expr.includes(` ${comparison} ${value} `) || rule.expr.endsWith(` ${comparison} ${value}`),
          `${key}=${value}: ${rule.expr}`,
        );
        assert.ok(rule.annotations.description.includes(`${value}`), `${key}=${value}: the description names the threshold`);
        for (const other of moved.filter((r) => r.alert !== alert)) {
          assert.equal(other.expr, ruleNamed(base, other.alert).expr, `${key}=${value} changed ${other.alert}`);
        }
      }
    });
  }

  it("the backup alert tolerates one missed run of the freshness check", () => {
    for (const interval of [5, 15, 60, 90]) {
      const rule = ruleNamed(alertRules(observabilitySettings({ backupCheckIntervalMinutes: interval })), "BackupsStale");
      assert.equal(rule.for, `${2 * interval}m`);
      assert.match(rule.annotations.description, new RegExp(`every ${interval} minutes`));
    }
  });

  it("the connections alert measures against the cluster's connection limit", () => {
    for (const limit of [22, 47, 97, 497]) {
      const rule = ruleNamed(alertRules(observabilitySettings({ databaseConnectionLimit: limit })), "DatabaseConnectionsHigh");
      assert.ok(rule.expr.includes(`/ ${limit} * 100 > 80`), rule.expr);
      assert.match(rule.annotations.description, new RegExp(`of the ${limit} connections`));
    }
  });

  it("judge a host's traffic only once it has enough requests, so a quiet night does not page", () => {
    const rules = alertRules(observabilitySettings({ loginPath: "/login" }));
    for (const name of ["HttpErrorRatioHigh", "HttpLatencyP95High"] as const) {
      assert.match(ruleNamed(rules, name).expr, / and on \(host\) sum by \(host\) \(increase\(\w+\[5m\]\)\) >= 100$/, name);
    }
    assert.match(
      ruleNamed(rules, "LoginSuccessLow").expr,
      / and on \(host\) sum by \(host\) \(increase\(\w+\{login="true"\}\[15m\]\)\) >= 20$/,
    );
  });
});

describe("the login alert", () => {
  it("exists only when a login path is configured", () => {
    const without = alertRules(observabilitySettings());
    assert.deepEqual(
      without.map((r) => r.alert),
      ALERT_NAMES.filter((n) => n !== "LoginSuccessLow"),
    );
    for (const loginPath of ["/login", "/api/v1/auth/token", "/oauth/callback"]) {
      const rule = ruleNamed(alertRules(observabilitySettings({ loginPath })), "LoginSuccessLow");
      assert.ok(rule.annotations.description.includes(` ${loginPath} `), rule.annotations.description);
      assert.ok(rule.expr.includes(`${NGINX_LOG_METRICS.requests}{login="true"`), rule.expr);
      // Success is a 2xx or 3xx answer: the rule counts everything else as a failure.
      assert.ok(rule.expr.includes(`status!~"[23].."`), rule.expr);
    }
  });
});

describe("alert labels and annotations", () => {
  const variants: ObservabilitySettings[] = [
    observabilitySettings(),
    observabilitySettings({ stack: "production", loginPath: "/login" }),
    observabilitySettings({ stack: "acme-eu.prod_2", loginPath: "/session", backupCheckIntervalMinutes: 5 }),
  ];

  it("every alert carries its severity and the stack, and explains itself", () => {
    for (const settings of variants) {
      for (const rule of alertRules(settings)) {
        assert.deepEqual(Object.keys(rule.labels).sort(), ["severity", "stack"], rule.alert);
        assert.ok(rule.labels.severity === "critical" || rule.labels.severity === "warning", rule.alert);
        assert.equal(rule.labels.stack, settings.stack, rule.alert);
        assert.ok(rule.annotations.summary.length > 0 && rule.annotations.description.length > rule.annotations.summary.length, rule.alert);
        assert.match(rule.for, /^\d+[smh]$/, rule.alert);
      }
    }
  });

  it("names every alert once", () => {
    const names = alertRules(observabilitySettings({ loginPath: "/login" })).map((r) => r.alert);
    assert.deepEqual(names, [...ALERT_NAMES]);
    assert.equal(new Set(names).size, names.length);
  });

  it("reads each series from the job that scrapes it", () => {
    const rules = alertRules(observabilitySettings());
    assert.equal(ruleNamed(rules, "ScrapeTargetDown").expr, `up{job!="${JOBS.node}"} == 0`);
    assert.equal(ruleNamed(rules, "HostMetricsDown").expr, `up{job="${JOBS.node}"} == 0`);
    for (const name of ["DiskFreeLow", "MemoryAvailableLow"] as const) {
      for (const selector of ruleNamed(rules, name).expr.match(/node_\w+\{[^}]*\}/g) ?? assert.fail(name)) {
        assert.ok(selector.includes(`job="${JOBS.node}"`), `${name}: ${selector}`);
      }
    }
    for (const name of ["DatabaseCpuHigh", "DatabaseConnectionsHigh"] as const) {
      assert.ok(ruleNamed(rules, name).expr.includes(`job="${JOBS.database}"`), name);
    }
    assert.ok(ruleNamed(rules, "DatabaseCpuHigh").expr.includes('cpu_usage_idle{job="database", cpu="cpu-total"}'));
    for (const name of ["CertificateExpiringSoon", "CertificateProbeFailed"] as const) {
      assert.ok(ruleNamed(rules, name).expr.includes(`job="${JOBS.certificates}"`), name);
    }
    assert.equal(ruleNamed(rules, "BackupsStale").expr, `probe_success{job="${JOBS.backups}"} == 0`);
  });

  it("watches the root filesystem and the data volume, by the host's mountpoints", () => {
    const expr = ruleNamed(alertRules(observabilitySettings()), "DiskFreeLow").expr;
    assert.equal(DATA_MOUNT, "/srv");
    assert.equal((expr.match(/mountpoint=~"\/\|\/srv"/g) ?? []).length, 2, expr);
  });

  it("says that a droplet down as a whole is DigitalOcean's uptime check's to catch", () => {
    const rule = ruleNamed(alertRules(observabilitySettings()), "HostMetricsDown");
    assert.match(rule.annotations.description, /DigitalOcean's uptime check/);
    assert.equal(rule.labels.severity, "critical");
  });

  it("keeps a Watchdog that always fires, as a dead man's switch", () => {
    const rule = ruleNamed(alertRules(observabilitySettings()), WATCHDOG_ALERT);
    assert.equal(rule.expr, "vector(1)");
    assert.match(rule.annotations.description, /always fires, as a dead man's switch/);
  });

  it("blames certbot for a certificate close to expiry only when it would have renewed it", () => {
    const description = (days: number) =>
      ruleNamed(alertRules(observabilitySettings({ thresholds: { minCertificateDays: days } })), "CertificateExpiringSoon").annotations
        .description;
    assert.match(description(14), /certbot renews 30 days ahead/);
    assert.doesNotMatch(description(30), /certbot/);
    assert.doesNotMatch(description(45), /certbot/);
  });
});

describe("renderAlertRules", () => {
  for (const settings of [observabilitySettings(), observabilitySettings({ stack: "production", loginPath: "/login" })]) {
    it(`renders the rules as Prometheus rule groups (${settings.stack}, login ${settings.loginPath ?? "off"})`, () => {
      const text = renderAlertRules(settings);
      assert.ok(text.startsWith("# Rendered by dropstack"), text.slice(0, 80));
      const parsed = parse(text) as { groups: { name: string; rules: AlertRule[] }[] };
      assert.deepEqual(
        parsed.groups.map((g) => g.name),
        alertRuleGroups(settings).map((g) => g.name),
      );
      assert.equal(new Set(parsed.groups.map((g) => g.name)).size, parsed.groups.length);
      assert.ok(parsed.groups.every((g) => g.rules.length > 0));
      assert.deepEqual(
        parsed.groups.flatMap((g) => g.rules),
        alertRules(settings),
      );
    });
  }

  it("has a file name for the rules folder", () => {
    assert.match(ALERT_RULES_FILE, /^[a-z-]+\.yml$/);
  });
});

describe("settings validation", () => {
  type Change = Parameters<typeof observabilitySettings>[0];
  const refused: [string, Change, RegExp][] = [];
  for (const key of [
    "max5xxPercent",
    "minLoginSuccessPercent",
    "minDiskFreePercent",
    "minMemoryAvailablePercent",
    "maxDatabaseCpuPercent",
    "maxDatabaseConnectionsPercent",
  ] as const) {
    for (const value of [-1, 100.5, 250, Number.NaN, Number.POSITIVE_INFINITY]) {
      refused.push([
        `${key}=${value}`,
        { thresholds: { [key]: value } },
        new RegExp(`^thresholds\\.${key} must be a percentage from 0 to 100, got ${value}$`),
      ]);
    }
  }
  for (const key of ["p95LatencyMs", "minCertificateDays"] as const) {
    for (const value of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      refused.push([
        `${key}=${value}`,
        { thresholds: { [key]: value } },
        new RegExp(`^thresholds\\.${key} must be a positive number, got ${value}$`),
      ]);
    }
  }
  for (const value of [0, -15, 7.5, Number.NaN]) {
    refused.push([
      `backupCheckIntervalMinutes=${value}`,
      { backupCheckIntervalMinutes: value },
      new RegExp(`^backupCheckIntervalMinutes must be .*, got ${value}$`),
    ]);
  }
  for (const value of [0, -1, 22.5]) {
    refused.push([
      `databaseConnectionLimit=${value}`,
      { databaseConnectionLimit: value },
      new RegExp(`^databaseConnectionLimit must be .*, got ${value}$`),
    ]);
  }
  for (const stack of ["", "prod{{ .x }}", "my stack", 'a"b']) {
    refused.push([`stack=${JSON.stringify(stack)}`, { stack }, /^stack must be a Pulumi stack name/]);
  }
  for (const loginPath of ["login", "/login?next=/", "/{{ $value }}", "/log in", ""]) {
    refused.push([`loginPath=${JSON.stringify(loginPath)}`, { loginPath }, /^loginPath must be a URL path like \/login, got /]);
  }

  for (const [name, change, message] of refused) {
    it(`refuses ${name}, naming the setting`, () => {
      const settings = observabilitySettings(change);
      assert.throws(() => alertRules(settings), { message });
      assert.throws(() => renderAlertRules(settings), { message });
    });
  }

  it("accepts the edges of the ranges", () => {
    for (const value of [0, 100]) {
      assert.doesNotThrow(() => alertRules(observabilitySettings({ thresholds: { max5xxPercent: value, minDiskFreePercent: value } })));
    }
    assert.doesNotThrow(() =>
      alertRules(observabilitySettings({ thresholds: { p95LatencyMs: 0.5, minCertificateDays: 0.25 }, backupCheckIntervalMinutes: 1 })),
    );
  });
});
