// Every PromQL expression the Grafana dashboards run, parsed by Prometheus's own parser:
// `promtool check rules` on a rule file that records each one. A query Prometheus cannot
// parse is a panel that shows "bad_data" instead of a chart, found here rather than at 3 am.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { dashboardQueries, dashboards } from "../../components/observability/grafana";
import { DEFAULT_ALERT_THRESHOLDS, type ObservabilitySettings } from "../../components/observability/settings";
import { requireTools, run, scopedTempDirs } from "../../tools/lib/system";
import { observabilitySettings } from "../support/observability";

const tools = requireTools([{ command: "promtool", debianPackage: "prometheus" }]);
const tempDir = scopedTempDirs(after);

const BASE: ObservabilitySettings = observabilitySettings({
  name: "shop-production",
  stack: "production",
  monitoringHost: "monitoring.shop.example.com",
  tlsHosts: ["api.shop.example.com", "monitoring.shop.example.com"],
  nginxContainer: "shop-production-nginx",
  backupProbe: { host: "api.shop.example.com", path: "/.well-known/dropstack/backup" },
  app: { alias: "api", port: 8080 },
  alertEmails: [],
  backupCheckIntervalMinutes: 60,
});

/** Each shape of dashboard: the login panel on and off, thresholds that print as decimals, the connections line on and off. */
const VARIANTS: Array<[string, ObservabilitySettings]> = [
  ["defaults", BASE],
  ["login path, connection limit", { ...BASE, loginPath: "/api/login", databaseConnectionLimit: 97 }],
  [
    "fractional thresholds, remote Loki",
    {
      ...BASE,
      stack: "staging",
      loginPath: "/login",
      remoteLoki: { url: "https://logs.example.net/loki/api/v1/push" },
      databaseConnectionLimit: 22,
      thresholds: { ...DEFAULT_ALERT_THRESHOLDS, max5xxPercent: 0.25, p95LatencyMs: 87.5, minLoginSuccessPercent: 99.9 },
    },
  ],
];

/** Every distinct PromQL expression of every dashboard, for one stack's settings. */
function promqlOf(settings: ObservabilitySettings): string[] {
  return [...new Set(Object.values(dashboards(settings)).flatMap((dashboard) => dashboardQueries(dashboard).promql))];
}

/** Runs `promtool check rules` on a rule group recording each expression; returns its exit status and output. */
function checkRules(dir: string, exprs: string[]): { status: number; output: string } {
  const file = join(dir, "dashboards.rules.yml");
  const rules = exprs.map((expr, index) => ({ record: `dashboard_query_${index}`, expr }));
  writeFileSync(file, stringify({ groups: [{ name: "dashboard-queries", rules }] }));
  const result = run([tools.promtool, "check", "rules", file]);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("promtool parses every PromQL expression of the dashboards", () => {
  for (const [label, settings] of VARIANTS) {
    it(label, () => {
      const exprs = promqlOf(settings);
      assert.ok(exprs.length >= 15, `expected the dashboards' queries, got ${exprs.length}`);
      const { status, output } = checkRules(tempDir("grafana-queries"), exprs);
      assert.equal(status, 0, output);
      assert.match(output, new RegExp(`SUCCESS: ${exprs.length} rules found`));
    });
  }

  it("covers the login panel's query only when loginPath is set", () => {
    const withLogin = promqlOf({ ...BASE, loginPath: "/login" });
    const without = promqlOf(BASE);
    assert.ok(withLogin.length > without.length);
    assert.ok(withLogin.some((expr) => expr.includes('login="true"')));
    assert.ok(!without.some((expr) => expr.includes('login="true"')));
  });

  it("fails on an expression Prometheus cannot parse, naming it", () => {
    const exprs = promqlOf(BASE);
    const broken = exprs[0].replace(/\)$/, "");
    assert.notEqual(broken, exprs[0], "the first query ends in a parenthesis to remove");
    const { status, output } = checkRules(tempDir("grafana-queries-broken"), [...exprs.slice(1), broken]);
    assert.notEqual(status, 0, output);
    assert.match(output, new RegExp(`"dashboard_query_${exprs.length - 1}": could not parse expression`));
  });
});
