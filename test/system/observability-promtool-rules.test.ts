// The rendered alerting rules, read by the real promtool: `check rules` on several settings
// variants, and `test rules` with unit tests generated here, for every rule a case where it
// fires (its labels and annotations) and one where it stays quiet, on both sides of its
// threshold where it has one. The series each case feeds in are the ones the rules read in
// production: Alloy's nginx request metrics, node-exporter, DigitalOcean's database metrics
// endpoint and the blackbox exporter's probes.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { alertRules, renderAlertRules, type AlertName, type AlertRule } from "../../components/observability/rules";
import { JOBS, NGINX_LOG_METRICS, WATCHDOG_ALERT, type ObservabilitySettings } from "../../components/observability/settings";
import { requireTools, run, scopedTempDirs } from "../../tools/lib/system";
import { observabilitySettings } from "../support/observability";

const tempDir = scopedTempDirs(after);

interface InputSeries {
  series: string;
  values: string;
}

/** An alert the case expects: the labels of the series that fires it, and its value. */
interface Firing {
  labels: Record<string, string>;
  value: number;
}

/** One unit test: input series, and at `evalMinutes` the alerts expected of the rule (none: it stays quiet). */
interface Case {
  name: string;
  series: InputSeries[];
  evalMinutes: number;
  fires: Firing[];
}

/** `name{label="value", ...}` as promtool's input_series takes it. */
function series(name: string, labels: Record<string, string>, values: string): InputSeries {
  const matchers = Object.entries(labels).map(([label, value]) => `${label}=${JSON.stringify(value)}`);
  return { series: `${name}{${matchers.join(", ")}}`, values };
}

/** The series' span in minutes: past the latest evaluation, BackupsStale's with a 60-minute check interval (minute 132). */
const MINUTES = 180;
/** A counter growing by `perMinute` every minute. */
const counter = (perMinute: number) => `0+${perMinute}x${MINUTES}`;
/** A gauge holding `value`. */
const gauge = (value: number) => `${value}x${MINUTES}`;
/** A gauge at `before` from minute 0 to `minutes`, then at `after`. */
const step = (before: number, minutes: number, after: number) => `${before}x${minutes} ${after}x${MINUTES}`;

// Thresholds in percent are approached a tenth of a point away: the values below are whole
// tenths (k / 10), which the data express exactly.
const tenthsAbove = (threshold: number) => Math.floor(threshold * 10 + 1e-9) + 1;
const tenthsBelow = (threshold: number) => Math.ceil(threshold * 10 - 1e-9) - 1;

const HOST = "api.example.com";
const OTHER_HOST = "app.example.com";
const REQUESTS = NGINX_LOG_METRICS.requests;
const SECONDS = NGINX_LOG_METRICS.requestSeconds;

/** 1000 requests a minute on `host`, `errorTenths` tenths of a percent of them 5xx. */
function requestsWithErrors(host: string, errorTenths: number): InputSeries[] {
  return [
    series(REQUESTS, { host, status: "200" }, counter(1000 - errorTenths)),
    series(REQUESTS, { host, status: "503" }, counter(errorTenths)),
  ];
}

/**
 * 1000 requests a minute on `host` whose p95 interpolates to `p95Ms`: 900 of them in the bucket
 * ending a quarter below it, the other 100 in the bucket ending a quarter above, so the 95th
 * percentile falls halfway through that bucket.
 */
function requestTimes(host: string, p95Ms: number, perMinute = 1000): InputSeries[] {
  const bucket = (le: string, count: number) => series(`${SECONDS}_bucket`, { host, le }, counter(count));
  return [
    bucket(String((p95Ms * 0.75) / 1000), perMinute * 0.9),
    bucket(String((p95Ms * 1.25) / 1000), perMinute),
    bucket("+Inf", perMinute),
    series(`${SECONDS}_count`, { host }, counter(perMinute)),
  ];
}

/** 1000 login attempts a minute on HOST, `successTenths` tenths of a percent of them answered 2xx/3xx. */
function logins(successTenths: number): InputSeries[] {
  const redirected = Math.min(100, Math.floor(successTenths / 2));
  return [
    series(REQUESTS, { host: HOST, status: "200", login: "true" }, counter(successTenths - redirected)),
    series(REQUESTS, { host: HOST, status: "302", login: "true" }, counter(redirected)),
    series(REQUESTS, { host: HOST, status: "401", login: "true" }, counter(1000 - successTenths)),
    // Refusals elsewhere on the host are not login attempts.
    series(REQUESTS, { host: HOST, status: "401" }, counter(5000)),
  ];
}

const TARGETS = {
  prometheus: { job: JOBS.prometheus, instance: "localhost:9090" },
  node: { job: JOBS.node, instance: "node-exporter:9100" },
  redis: { job: JOBS.redis, instance: "cache-exporter:9121" },
};

const FILESYSTEM_SIZE = 100_000_000_000;
function filesystem(mountpoint: string, device: string, freeTenths: number): { labels: Record<string, string>; series: InputSeries[] } {
  const labels = { ...TARGETS.node, device, fstype: "ext4", mountpoint };
  return {
    labels,
    series: [
      series("node_filesystem_size_bytes", labels, gauge(FILESYSTEM_SIZE)),
      series("node_filesystem_avail_bytes", labels, gauge(freeTenths * (FILESYSTEM_SIZE / 1000))),
    ],
  };
}

const MEMORY = 8_000_000_000;
function memory(availableTenths: number): InputSeries[] {
  return [
    series("node_memory_MemTotal_bytes", TARGETS.node, gauge(MEMORY)),
    series("node_memory_MemAvailable_bytes", TARGETS.node, gauge(availableTenths * (MEMORY / 1000))),
  ];
}

const DATABASE_NODE = { job: JOBS.database, instance: "10.110.0.5:9273", host: "db-postgresql-fra1-42-do-user-1-0" };
const DATABASE_STANDBY = { job: JOBS.database, instance: "10.110.0.6:9273", host: "replica-db-postgresql-fra1-42-do-user-1-0" };

function connections(node: Record<string, string>, count: number): InputSeries[] {
  const labels = { ...node, datname: "app", usename: "app" };
  return [
    series("postgresql_pg_stat_activity_conn_count", { ...labels, state: "active" }, gauge(Math.ceil(count / 2))),
    series("postgresql_pg_stat_activity_conn_count", { ...labels, state: "idle" }, gauge(Math.floor(count / 2))),
  ];
}

/** probe_ssl_earliest_cert_expiry for a certificate with `days` left at minute `atMinutes`. */
function certificate(instance: string, days: number, atMinutes: number): InputSeries {
  return series("probe_ssl_earliest_cert_expiry", { job: JOBS.certificates, instance }, gauge(atMinutes * 60 + Math.round(days * 86400)));
}

/** The cases of each rule; a Record, so a new rule without cases does not compile. */
const CASES: Record<AlertName, (settings: ObservabilitySettings) => Case[]> = {
  HttpErrorRatioHigh: ({ thresholds: { max5xxPercent } }) => {
    const above = tenthsAbove(max5xxPercent);
    const below = tenthsBelow(max5xxPercent);
    return [
      {
        name: "5xx share just above the limit on one host",
        series: [...requestsWithErrors(HOST, above), ...requestsWithErrors(OTHER_HOST, below)],
        evalMinutes: 20,
        fires: [{ labels: { host: HOST }, value: above / 10 }],
      },
      { name: "5xx share just below the limit", series: requestsWithErrors(HOST, below), evalMinutes: 20, fires: [] },
      {
        name: "one error in three requests at night",
        series: [
          series(REQUESTS, { host: HOST, status: "200" }, counter(0.4)),
          series(REQUESTS, { host: HOST, status: "500" }, counter(0.2)),
        ],
        evalMinutes: 20,
        fires: [],
      },
    ];
  },

  HttpLatencyP95High: ({ thresholds: { p95LatencyMs } }) => {
    const margin = Math.max(1, Math.round(p95LatencyMs / 20));
    return [
      {
        name: "p95 just above the limit on one host",
        series: [...requestTimes(HOST, p95LatencyMs + margin), ...requestTimes(OTHER_HOST, p95LatencyMs - margin)],
        evalMinutes: 25,
        fires: [{ labels: { host: HOST }, value: p95LatencyMs + margin }],
      },
      { name: "p95 just below the limit", series: requestTimes(HOST, p95LatencyMs - margin), evalMinutes: 25, fires: [] },
      { name: "slow requests, but too few to judge", series: requestTimes(HOST, p95LatencyMs * 10, 2), evalMinutes: 25, fires: [] },
    ];
  },

  LoginSuccessLow: ({ thresholds: { minLoginSuccessPercent } }) => {
    const below = tenthsBelow(minLoginSuccessPercent);
    return [
      {
        name: "login success just below the minimum",
        series: logins(below),
        evalMinutes: 30,
        fires: [{ labels: { host: HOST }, value: below / 10 }],
      },
      {
        name: "every login fails",
        series: [series(REQUESTS, { host: HOST, status: "500", login: "true" }, counter(100))],
        evalMinutes: 30,
        fires: [{ labels: { host: HOST }, value: 0 }],
      },
      { name: "login success just above the minimum", series: logins(tenthsAbove(minLoginSuccessPercent)), evalMinutes: 30, fires: [] },
      {
        name: "failed logins, but too few to judge",
        series: [series(REQUESTS, { host: HOST, status: "401", login: "true" }, counter(0.1))],
        evalMinutes: 30,
        fires: [],
      },
    ];
  },

  // `up` turns 0 at minute 11; the rule waits 5 minutes.
  ScrapeTargetDown: () => {
    const targets = (redis: string, node: string) => [
      series("up", TARGETS.prometheus, gauge(1)),
      series("up", TARGETS.redis, redis),
      series("up", TARGETS.node, node),
    ];
    return [
      {
        name: "a target down for 6 minutes",
        series: targets(step(1, 10, 0), gauge(1)),
        evalMinutes: 17,
        fires: [{ labels: TARGETS.redis, value: 0 }],
      },
      { name: "a target down for 4 minutes", series: targets(step(1, 10, 0), gauge(1)), evalMinutes: 15, fires: [] },
      { name: "node-exporter down (HostMetricsDown's)", series: targets(gauge(1), gauge(0)), evalMinutes: 20, fires: [] },
    ];
  },

  HostMetricsDown: () => {
    const targets = (node: string, redis: string) => [series("up", TARGETS.node, node), series("up", TARGETS.redis, redis)];
    return [
      {
        name: "node-exporter down for 6 minutes",
        series: targets(step(1, 10, 0), gauge(1)),
        evalMinutes: 17,
        fires: [{ labels: TARGETS.node, value: 0 }],
      },
      { name: "node-exporter down for 4 minutes", series: targets(step(1, 10, 0), gauge(1)), evalMinutes: 15, fires: [] },
      { name: "another target down", series: targets(gauge(1), gauge(0)), evalMinutes: 20, fires: [] },
    ];
  },

  DiskFreeLow: ({ thresholds: { minDiskFreePercent } }) => {
    const below = tenthsBelow(minDiskFreePercent);
    const above = tenthsAbove(minDiskFreePercent);
    const root = (free: number) => filesystem("/", "/dev/vda1", free);
    const data = (free: number) => filesystem("/srv", "/dev/sda", free);
    return [
      {
        name: "/ just below the minimum",
        series: [...root(below).series, ...data(above).series],
        evalMinutes: 10,
        fires: [{ labels: root(below).labels, value: below / 10 }],
      },
      {
        name: "/srv just below the minimum",
        series: [...root(above).series, ...data(below).series],
        evalMinutes: 10,
        fires: [{ labels: data(below).labels, value: below / 10 }],
      },
      {
        name: "/ and /srv just above the minimum, other filesystems full",
        series: [
          ...root(above).series,
          ...data(above).series,
          ...filesystem("/boot", "/dev/vda16", 1).series,
          ...filesystem("/srv/backups", "/dev/sdb", 1).series,
        ],
        evalMinutes: 10,
        fires: [],
      },
    ];
  },

  MemoryAvailableLow: ({ thresholds: { minMemoryAvailablePercent } }) => {
    const below = tenthsBelow(minMemoryAvailablePercent);
    return [
      {
        name: "available memory just below the minimum",
        series: memory(below),
        evalMinutes: 15,
        fires: [{ labels: TARGETS.node, value: below / 10 }],
      },
      {
        name: "available memory just above the minimum",
        series: memory(tenthsAbove(minMemoryAvailablePercent)),
        evalMinutes: 15,
        fires: [],
      },
    ];
  },

  DatabaseCpuHigh: ({ thresholds: { maxDatabaseCpuPercent } }) => {
    const above = tenthsAbove(maxDatabaseCpuPercent);
    const below = tenthsBelow(maxDatabaseCpuPercent);
    const idle = (busyTenths: number, cpu = "cpu-total") =>
      series("cpu_usage_idle", { ...DATABASE_NODE, cpu }, gauge((1000 - busyTenths) / 10));
    return [
      {
        name: "CPU just above the limit",
        series: [idle(above)],
        evalMinutes: 15,
        fires: [{ labels: { ...DATABASE_NODE, cpu: "cpu-total" }, value: above / 10 }],
      },
      { name: "CPU just below the limit, one core saturated", series: [idle(below), idle(995, "cpu0")], evalMinutes: 15, fires: [] },
    ];
  },

  DatabaseConnectionsHigh: ({ thresholds: { maxDatabaseConnectionsPercent }, databaseConnectionLimit }) => {
    const atLimit = (maxDatabaseConnectionsPercent * databaseConnectionLimit) / 100;
    const above = Math.floor(atLimit) + 1;
    const below = Math.ceil(atLimit) - 1;
    return [
      {
        name: "connections just above the limit on the primary",
        series: [...connections(DATABASE_NODE, above), ...connections(DATABASE_STANDBY, below)],
        evalMinutes: 10,
        fires: [{ labels: { instance: DATABASE_NODE.instance }, value: (above / databaseConnectionLimit) * 100 }],
      },
      { name: "connections just below the limit", series: connections(DATABASE_NODE, below), evalMinutes: 10, fires: [] },
    ];
  },

  // The certificates' remaining days at the evaluation, two hours either side of the minimum.
  CertificateExpiringSoon: ({ thresholds: { minCertificateDays }, tlsHosts }) => {
    const evalMinutes = 40;
    const soon = minCertificateDays - 1 / 12;
    return [
      {
        name: "a certificate just inside the minimum",
        series: [certificate(tlsHosts[0], soon, evalMinutes), certificate(tlsHosts[1], 80, evalMinutes)],
        evalMinutes,
        fires: [{ labels: { job: JOBS.certificates, instance: tlsHosts[0] }, value: soon }],
      },
      {
        name: "a certificate just outside the minimum",
        series: [certificate(tlsHosts[0], minCertificateDays + 1 / 12, evalMinutes)],
        evalMinutes,
        fires: [],
      },
    ];
  },

  // The probe fails from minute 11; the rule waits 10 minutes.
  CertificateProbeFailed: ({ tlsHosts }) => {
    const probes = [
      series("probe_success", { job: JOBS.certificates, instance: tlsHosts[0] }, step(1, 10, 0)),
      series("probe_success", { job: JOBS.certificates, instance: tlsHosts[1] }, gauge(1)),
    ];
    return [
      {
        name: "a probe failing for 11 minutes",
        series: probes,
        evalMinutes: 22,
        fires: [{ labels: { job: JOBS.certificates, instance: tlsHosts[0] }, value: 0 }],
      },
      { name: "a probe failing for 9 minutes", series: probes, evalMinutes: 20, fires: [] },
    ];
  },

  // The freshness probe fails from minute 11; one missed check run (two intervals) is tolerated.
  BackupsStale: ({ backupCheckIntervalMinutes, backupProbe }) => {
    const labels = { job: JOBS.backups, instance: `http://${backupProbe.host}${backupProbe.path}` };
    const probe = [series("probe_success", labels, step(1, 10, 0))];
    const tolerated = 2 * backupCheckIntervalMinutes;
    return [
      { name: "failing a minute longer than tolerated", series: probe, evalMinutes: 11 + tolerated + 1, fires: [{ labels, value: 0 }] },
      { name: "failing a minute shorter than tolerated", series: probe, evalMinutes: 11 + tolerated - 1, fires: [] },
    ];
  },

  // A dead man's switch has no quiet case: it fires without any input, and (see testFile) in every other case too.
  [WATCHDOG_ALERT]: () => [{ name: "no series at all", series: [], evalMinutes: 1, fires: [{ labels: {}, value: 1 }] }],
};

/** `value` as Go's printf %.Nf writes it, refusing values so close to a rounding tie that float error could flip it. */
function fixed(value: number, decimals: number): string {
  const scaled = Math.abs(value) * 10 ** decimals;
  if (Math.abs(scaled - Math.floor(scaled) - 0.5) < 1e-6)
    throw new Error(`case value ${value} is too close to a rounding tie for %.${decimals}f`);
  return value.toFixed(decimals);
}

/** The annotations Prometheus renders for an alert: the rules use only $labels.NAME and $value | printf. */
function expand(template: string, firing: Firing): string {
  return template.replace(/\{\{(.*?)\}\}/g, (_, action: string) => {
    const label = /^ \$labels\.(\w+) $/.exec(action);
    if (label) {
      const value = firing.labels[label[1]];
      if (value === undefined) throw new Error(`the case's series have no label ${label[1]} for ${template}`);
      return value;
    }
    const printf = /^ \$value \| printf "%\.(\d)f" $/.exec(action);
    if (printf) return fixed(firing.value, Number(printf[1]));
    throw new Error(`a template action this test cannot expand: {{${action}}}`);
  });
}

function expectedAlerts(rule: AlertRule, fires: Firing[]) {
  return fires.map((firing) => ({
    exp_labels: { ...firing.labels, ...rule.labels },
    exp_annotations: { summary: expand(rule.annotations.summary, firing), description: expand(rule.annotations.description, firing) },
  }));
}

/** A promtool test file for the rule file `ruleFile` holding `rules`. */
function testFile(ruleFile: string, settings: ObservabilitySettings, rules: AlertRule[]): string {
  const watchdog = rules.find((r) => r.alert === WATCHDOG_ALERT) ?? assert.fail("no Watchdog rule");
  const tests = rules.flatMap((rule) =>
    CASES[rule.alert](settings).map((c) => {
      assert.ok(c.evalMinutes < MINUTES, `${rule.alert}: ${c.name} evaluates past the series`);
      return {
        name: `${rule.alert}: ${c.name}`,
        interval: "1m",
        input_series: c.series,
        alert_rule_test: [
          { eval_time: `${c.evalMinutes}m`, alertname: rule.alert, exp_alerts: expectedAlerts(rule, c.fires) },
          ...(rule === watchdog
            ? []
            : [
                {
                  eval_time: `${c.evalMinutes}m`,
                  alertname: WATCHDOG_ALERT,
                  exp_alerts: expectedAlerts(watchdog, [{ labels: {}, value: 1 }]),
                },
              ]),
        ],
      };
    }),
  );
  return stringify({ rule_files: [ruleFile], evaluation_interval: "1m", tests }, { lineWidth: 0 });
}

const VARIANTS: { name: string; settings: ObservabilitySettings }[] = [
  { name: "defaults", settings: observabilitySettings({ loginPath: "/login" }) },
  { name: "defaults-no-login", settings: observabilitySettings({ stack: "production", databaseConnectionLimit: 97 }) },
  {
    name: "strict",
    settings: observabilitySettings({
      stack: "acme-eu.prod_2",
      loginPath: "/api/v1/session",
      backupCheckIntervalMinutes: 5,
      databaseConnectionLimit: 47,
      thresholds: {
        max5xxPercent: 0.5,
        p95LatencyMs: 80,
        minLoginSuccessPercent: 98.5,
        minDiskFreePercent: 25,
        minMemoryAvailablePercent: 20,
        maxDatabaseCpuPercent: 60,
        maxDatabaseConnectionsPercent: 50,
        minCertificateDays: 30,
      },
    }),
  },
  {
    name: "lax",
    settings: observabilitySettings({
      stack: "review-42",
      backupCheckIntervalMinutes: 60,
      databaseConnectionLimit: 497,
      thresholds: {
        max5xxPercent: 5,
        p95LatencyMs: 1200,
        minLoginSuccessPercent: 60,
        minDiskFreePercent: 5,
        minMemoryAvailablePercent: 3,
        maxDatabaseCpuPercent: 95,
        maxDatabaseConnectionsPercent: 90,
        minCertificateDays: 3,
      },
    }),
  },
  {
    name: "fractional",
    settings: observabilitySettings({
      loginPath: "/login",
      backupCheckIntervalMinutes: 10,
      thresholds: {
        max5xxPercent: 2.35,
        p95LatencyMs: 333,
        minLoginSuccessPercent: 92.25,
        minDiskFreePercent: 12.5,
        minMemoryAvailablePercent: 7.75,
        maxDatabaseCpuPercent: 72.5,
        maxDatabaseConnectionsPercent: 66.6,
        minCertificateDays: 7.5,
      },
    }),
  },
];

interface VariantFiles {
  variant: string;
  settings: ObservabilitySettings;
  /** The rendered rule file's name. */
  rules: string;
  /** The generated unit tests' file name. */
  tests: string;
}

/** The alert names a test file expects to fire, and those it expects to stay quiet, in some case. */
function coverage(testFileText: string): { fires: Set<string>; quiet: Set<string> } {
  const parsed = parse(testFileText) as {
    tests: { alert_rule_test: { alertname: string; exp_alerts: { exp_labels: Record<string, string> }[] }[] }[];
  };
  const fires = new Set<string>();
  const quiet = new Set<string>();
  for (const test of parsed.tests) {
    for (const expectation of test.alert_rule_test) (expectation.exp_alerts.length > 0 ? fires : quiet).add(expectation.alertname);
  }
  return { fires, quiet };
}

describe("promtool reading the rendered alerting rules", { timeout: 120_000 }, () => {
  let promtool = "";
  let dir = "";
  const files: VariantFiles[] = [];

  before(() => {
    promtool = requireTools([{ command: "promtool", debianPackage: "prometheus" }]).promtool;
    dir = tempDir("promtool-rules");
    for (const { name, settings } of VARIANTS) {
      const rules = `${name}-rules.yml`;
      const tests = `${name}-tests.yml`;
      writeFileSync(join(dir, rules), renderAlertRules(settings));
      writeFileSync(join(dir, tests), testFile(rules, settings, alertRules(settings)));
      files.push({ variant: name, rules, tests, settings });
    }
  });

  it("accepts every variant's rule file (promtool check rules)", () => {
    const result = run([promtool, "check", "rules", ...files.map((f) => f.rules)], { cwd: dir });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    for (const file of files) {
      const count = alertRules(file.settings).length;
      assert.match(result.stdout, new RegExp(`Checking ${file.rules}\\n  SUCCESS: ${count} rules found`), result.stdout);
    }
  });

  it("has, for every rule of every variant, a case where it fires and one where it stays quiet", () => {
    for (const file of files) {
      const { fires, quiet } = coverage(testFile(file.rules, file.settings, alertRules(file.settings)));
      const ruleNames = (parse(renderAlertRules(file.settings)) as { groups: { rules: { alert: string }[] }[] }).groups.flatMap((g) =>
        g.rules.map((r) => r.alert),
      );
      for (const name of ruleNames) {
        assert.ok(fires.has(name), `${file.variant}: no case where ${name} fires`);
        // The Watchdog fires whatever the input, so it has no quiet case.
        if (name !== WATCHDOG_ALERT) assert.ok(quiet.has(name), `${file.variant}: no case where ${name} stays quiet`);
      }
      assert.deepEqual(
        [...fires].filter((n) => !ruleNames.includes(n)),
        [],
        `${file.variant}: cases for rules the file does not have`,
      );
    }
  });

  it("the rules fire, and stay quiet, as the generated unit tests expect (promtool test rules)", () => {
    const result = run([promtool, "test", "rules", ...files.map((f) => f.tests)], { cwd: dir });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    for (const file of files) assert.match(result.stdout, new RegExp(`Unit Testing:  ${file.tests}\\n  SUCCESS`), result.stdout);
  });

  /**
   * Runs the unit tests of `cases` against its own rules with the expressions and durations the
   * thresholds of `thresholdsOf` give them, names, labels and annotations kept; returns the alerts
   * whose rules moved and the unit tests that failed.
   */
  function runWithThresholdsOf(cases: VariantFiles, thresholdsOf: VariantFiles) {
    const rules = alertRules(cases.settings);
    const { thresholds, backupCheckIntervalMinutes } = thresholdsOf.settings;
    const moved = alertRules({ ...cases.settings, thresholds, backupCheckIntervalMinutes });
    assert.deepEqual(
      moved.map((r) => r.alert),
      rules.map((r) => r.alert),
    );
    const ruleFile = `${cases.variant}-with-${thresholdsOf.variant}-thresholds-rules.yml`;
    const testsFile = `${cases.variant}-with-${thresholdsOf.variant}-thresholds-tests.yml`;
    const movedRules = rules.map((rule, i) => ({ ...rule, expr: moved[i].expr, for: moved[i].for }));
    writeFileSync(join(dir, ruleFile), stringify({ groups: [{ name: "moved", rules: movedRules }] }, { lineWidth: 0 }));
    writeFileSync(join(dir, testsFile), testFile(ruleFile, cases.settings, rules));
    const result = run([promtool, "test", "rules", testsFile], { cwd: dir });
    const output = result.stdout + result.stderr;
    assert.notEqual(result.status, 0, output);
    const failed = [...output.matchAll(/name: (.+),\n\s+alertname: (\w+),/g)].map(([, test, alert]) => ({ test, alert }));
    const quietCases = new Set(
      rules.flatMap((rule) =>
        CASES[rule.alert](cases.settings)
          .filter((c) => c.fires.length === 0)
          .map((c) => `${rule.alert}: ${c.name}`),
      ),
    );
    return {
      movedAlerts: rules.filter((rule, i) => rule.expr !== moved[i].expr || rule.for !== moved[i].for).map((r) => r.alert),
      failedAlerts: [...new Set(failed.map((f) => f.alert))],
      failedFiringCases: failed.filter((f) => !quietCases.has(f.test)).map((f) => f.test),
      failedQuietCases: failed.filter((f) => quietCases.has(f.test)).map((f) => f.test),
      output,
    };
  }

  it("the cases where rules fire fail when the thresholds are laxer", () => {
    const [defaults, , , lax] = files;
    const { movedAlerts, failedAlerts, failedFiringCases, failedQuietCases, output } = runWithThresholdsOf(defaults, lax);
    assert.equal(movedAlerts.length, 9, movedAlerts.join(", "));
    assert.deepEqual(failedAlerts.sort(), movedAlerts.sort(), output);
    for (const alert of movedAlerts)
      assert.ok(
        failedFiringCases.some((test) => test.startsWith(`${alert}: `)),
        `no firing case of ${alert} failed`,
      );
    assert.deepEqual(failedQuietCases, [], output);
  });

  it("the cases where rules stay quiet fail when the thresholds are stricter", () => {
    const [, , strict, lax] = files;
    const { movedAlerts, failedAlerts, failedQuietCases, output } = runWithThresholdsOf(lax, strict);
    assert.equal(movedAlerts.length, 8, movedAlerts.join(", "));
    assert.deepEqual(failedAlerts.sort(), movedAlerts.sort(), output);
    // Every quiet case near a threshold fails; firing cases may too, where they hold a quiet
    // companion (a second host, filesystem or database node just on the safe side).
    for (const alert of movedAlerts)
      assert.ok(
        failedQuietCases.some((test) => test.startsWith(`${alert}: `)),
        `no quiet case of ${alert} failed`,
      );
  });
});
