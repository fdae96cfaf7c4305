// Grafana as code, read as Grafana and its users would: every panel and annotation names a
// datasource that is provisioned, every PromQL selector reads a job the scrape config has
// and a metric its exporter publishes, the alert thresholds are the lines on the charts, the
// OAuth role mapping gives each Auth0 user the role they should have (evaluated with a real
// JMESPath implementation), and no secret is ever a value of the environment.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { search } from "jmespath";
import { parse } from "yaml";
import type { Dashboard, Panel, RowPanel } from "@grafana/schema";
import { DATA_MOUNT } from "../../components/common/names";
import { DATABASE_METRICS } from "../../components/observability/dashboards/database";
import {
  DASHBOARD_FOLDER,
  DATASOURCE_UIDS,
  GRAFANA_ADMIN_PASSWORD_FILE,
  GRAFANA_OAUTH_CLIENT_SECRET_FILE,
  type GrafanaOAuth,
  dashboardPath,
  dashboardQueries,
  dashboards,
  grafanaEnvironment,
  grafanaRoleAttributePath,
  lokiQueryUrl,
  renderDashboard,
  renderDashboardProvider,
  renderGrafanaDatasources,
} from "../../components/observability/grafana";
import {
  CONFIG_PATHS,
  DEFAULT_ALERT_THRESHOLDS,
  JOBS,
  LOG_LABELS,
  NGINX_LOG_METRICS,
  SERVICES,
  type AlertThresholds,
  type ObservabilitySettings,
} from "../../components/observability/settings";
import { observabilitySettings } from "../support/observability";

const BASE: ObservabilitySettings = observabilitySettings({
  name: "shop-production",
  stack: "production",
  monitoringHost: "monitoring.shop.example.com",
  tlsHosts: ["api.shop.example.com", "app.shop.example.com", "monitoring.shop.example.com"],
  nginxContainer: "shop-production-nginx",
  backupProbe: { host: "api.shop.example.com", path: "/.well-known/dropstack/backup" },
  app: { alias: "api", port: 8080, metricsPath: "/metrics" },
  alertEmails: ["ops@shop.example.com"],
  backupCheckIntervalMinutes: 60,
});

/** Settings the way different stacks have them, each threshold different from the others. */
const VARIANTS: Array<{ label: string; settings: ObservabilitySettings }> = [
  { label: "defaults", settings: BASE },
  { label: "login path", settings: { ...BASE, loginPath: "/api/auth/login", databaseConnectionLimit: 97 } },
  {
    label: "staging, remote Loki, own thresholds",
    settings: {
      ...BASE,
      name: "shop-staging",
      stack: "staging",
      monitoringHost: "monitoring.staging.shop.example.com",
      loginPath: "/login",
      remoteLoki: { url: "https://logs.example.net/loki/api/v1/push", username: "1234" },
      databaseConnectionLimit: 22,
      thresholds: {
        max5xxPercent: 2.5,
        p95LatencyMs: 420,
        minLoginSuccessPercent: 75,
        minDiskFreePercent: 15,
        minMemoryAvailablePercent: 7,
        maxDatabaseCpuPercent: 65,
        maxDatabaseConnectionsPercent: 90,
        minCertificateDays: 20,
      },
    },
  },
];

type AnyPanel = Panel | RowPanel;

/** Every panel, rows' nested panels included. */
function panelsOf(dashboard: Dashboard): AnyPanel[] {
  return (dashboard.panels ?? []).flatMap((panel) => (panel.type === "row" && "panels" in panel ? [panel, ...panel.panels] : [panel]));
}

function panelTitled(dashboard: Dashboard, title: string): Panel {
  const found = panelsOf(dashboard).filter((panel): panel is Panel => panel.type !== "row" && panel.title === title);
  assert.equal(found.length, 1, `one panel titled "${title}" in ${dashboard.title}`);
  return found[0];
}

/** The panel's colour steps: [value, colour] with null for the base step. */
function steps(panel: Panel): Array<[number | null, string]> {
  return (panel.fieldConfig?.defaults.thresholds?.steps ?? []).map((step) => [step.value, step.color]);
}

function thresholdsStyle(panel: Panel): unknown {
  return (panel.fieldConfig?.defaults.custom as { thresholdsStyle?: { mode: string } } | undefined)?.thresholdsStyle?.mode;
}

interface Selector {
  metric: string;
  matchers: Array<{ label: string; op: string; value: string }>;
}

const GROUPING = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);
const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset"]);
/** Aggregations take their grouping before the parentheses too: `sum by (host) (...)`. */
const AGGREGATIONS = new Set([
  "sum",
  "min",
  "max",
  "avg",
  "group",
  "stddev",
  "stdvar",
  "count",
  "count_values",
  "bottomk",
  "topk",
  "quantile",
]);

/** The series selectors of a PromQL expression: metric names and their label matchers. */
function selectorsIn(expr: string): Selector[] {
  // Blank out string contents so braces and brackets inside them are not read as syntax.
  const masked = expr.replace(/"(?:[^"\\]|\\.)*"/g, (text) => `"${" ".repeat(text.length - 2)}"`);
  const found: Selector[] = [];
  const skipPast = (from: number, close: string) => {
    const end = masked.indexOf(close, from);
    assert.notEqual(end, -1, `unclosed ${close} in ${expr}`);
    return end + 1;
  };
  let i = 0;
  while (i < masked.length) {
    const char = masked[i];
    if (char === "{") {
      i = skipPast(i, "}");
    } else if (char === "[") {
      i = skipPast(i, "]");
    } else if (/[0-9.]/.test(char)) {
      i = i + (/^[0-9.eE]+/.exec(masked.slice(i)) ?? [""])[0].length;
    } else if (/[A-Za-z_:]/.test(char)) {
      const name = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(masked.slice(i))![0];
      i += name.length;
      const next = masked.slice(i).trimStart()[0];
      if (GROUPING.has(name) && next === "(") {
        i = skipPast(i, ")");
      } else if (next === "(" || KEYWORDS.has(name) || AGGREGATIONS.has(name)) {
        continue; // a function or an operator
      } else {
        const selector: Selector = { metric: name, matchers: [] };
        if (next === "{") {
          const open = masked.indexOf("{", i);
          const close = skipPast(open, "}");
          const block = expr.slice(open + 1, close - 1);
          for (const match of block.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")/g)) {
            selector.matchers.push({ label: match[1], op: match[2], value: JSON.parse(match[3]) as string });
          }
          i = close;
        }
        found.push(selector);
      }
    } else {
      i++;
    }
  }
  return found;
}

/** The metrics each exporter publishes that the dashboards may read, by the job that scrapes it. */
const EXPORTER_METRICS: Record<string, readonly string[]> = {
  [JOBS.node]: [
    "node_cpu_seconds_total",
    "node_memory_MemAvailable_bytes",
    "node_memory_MemTotal_bytes",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
  ],
  [JOBS.containers]: ["container_cpu_usage_seconds_total", "container_memory_working_set_bytes"],
  [JOBS.redis]: ["redis_memory_used_bytes", "redis_memory_max_bytes", "redis_connected_clients", "redis_blocked_clients"],
  [JOBS.database]: Object.values(DATABASE_METRICS),
};
/** Alloy's metrics from nginx's access log, with a histogram's series suffixes. */
const NGINX_SERIES = new Set([
  NGINX_LOG_METRICS.requests,
  ...["_bucket", "_sum", "_count"].map((suffix) => `${NGINX_LOG_METRICS.requestSeconds}${suffix}`),
]);
const JOB_NAMES = new Set<string>(Object.values(JOBS));

describe("selectorsIn (the test's PromQL reader)", () => {
  it("finds metrics and matchers, and skips functions, groupings, ranges and strings", () => {
    assert.deepEqual(selectorsIn('sum by (le, host) (rate(a_bucket{job="x",code=~"5.."}[5m])) / on (host) b'), [
      {
        metric: "a_bucket",
        matchers: [
          { label: "job", op: "=", value: "x" },
          { label: "code", op: "=~", value: "5.." },
        ],
      },
      { metric: "b", matchers: [] },
    ]);
    assert.deepEqual(selectorsIn('histogram_quantile(0.95, c{l="{not [a] selector}"}) > bool 1e3'), [
      { metric: "c", matchers: [{ label: "l", op: "=", value: "{not [a] selector}" }] },
    ]);
  });
});

describe("renderGrafanaDatasources", () => {
  for (const { label, settings } of VARIANTS) {
    it(`provisions Prometheus (default), Loki and Alertmanager under the exported uids (${label})`, () => {
      const doc = parse(renderGrafanaDatasources(settings)) as {
        apiVersion: number;
        prune: boolean;
        datasources: Array<{
          name: string;
          type: string;
          uid: string;
          url: string;
          isDefault?: boolean;
          editable: boolean;
          access: string;
        }>;
      };
      assert.equal(doc.apiVersion, 1);
      assert.equal(doc.prune, true);
      const byUid = new Map(doc.datasources.map((ds) => [ds.uid, ds]));
      assert.deepEqual([...byUid.keys()].sort(), Object.values(DATASOURCE_UIDS).sort());
      assert.equal(byUid.get(DATASOURCE_UIDS.prometheus)?.type, "prometheus");
      assert.equal(byUid.get(DATASOURCE_UIDS.prometheus)?.url, `http://${SERVICES.prometheus.alias}:${SERVICES.prometheus.port}`);
      assert.equal(byUid.get(DATASOURCE_UIDS.alertmanager)?.type, "alertmanager");
      assert.equal(byUid.get(DATASOURCE_UIDS.alertmanager)?.url, `http://${SERVICES.alertmanager.alias}:${SERVICES.alertmanager.port}`);
      assert.equal(byUid.get(DATASOURCE_UIDS.loki)?.type, "loki");
      assert.deepEqual(
        doc.datasources.filter((ds) => ds.isDefault).map((ds) => ds.uid),
        [DATASOURCE_UIDS.prometheus],
      );
      for (const ds of doc.datasources) {
        assert.equal(ds.editable, false, ds.name);
        assert.equal(ds.access, "proxy", ds.name);
      }
    });
  }

  it("queries the Loki on the droplet, or the remote Loki Alloy pushes to, at its base URL", () => {
    const lokiUrl = (settings: ObservabilitySettings) =>
      (parse(renderGrafanaDatasources(settings)) as { datasources: Array<{ uid: string; url: string }> }).datasources.find(
        (ds) => ds.uid === DATASOURCE_UIDS.loki,
      )?.url;
    assert.equal(lokiUrl(BASE), `http://${SERVICES.loki.alias}:${SERVICES.loki.port}`);
    assert.equal(lokiUrl({ ...BASE, remoteLoki: { url: "https://logs.example.net/loki/api/v1/push" } }), "https://logs.example.net");
    assert.equal(
      lokiUrl({ ...BASE, remoteLoki: { url: "https://gw.example.net:8443/tenant-a/loki/api/v1/push" } }),
      "https://gw.example.net:8443/tenant-a",
    );
  });

  it("refuses a remote Loki URL it cannot query, or one carrying credentials, naming the setting", () => {
    const refused: Array<[string, RegExp]> = [
      ["logs.example.net/loki/api/v1/push", /dropstack:observability\.remoteLoki\.url must be an https URL/],
      ["http://logs.example.net/loki/api/v1/push", /remoteLoki\.url must use https/],
      ["https://logs.example.net/api/prom/push", /remoteLoki\.url must be Loki's push URL/],
      ["https://logs.example.net/loki/api/v1/push?tenant=a", /remoteLoki\.url must have no query/],
      ["https://user:hunter2@logs.example.net/loki/api/v1/push", /remoteLoki\.url must not carry credentials/],
      ["http://user:hunter2@logs.example.net/loki/api/v1/push", /remoteLoki\.url must not carry credentials/],
    ];
    for (const [url, message] of refused) {
      assert.throws(() => lokiQueryUrl({ ...BASE, remoteLoki: { url } }), message, url);
      assert.throws(() => renderGrafanaDatasources({ ...BASE, remoteLoki: { url } }), message, url);
      // The message must not repeat a password it was handed.
      assert.throws(
        () => lokiQueryUrl({ ...BASE, remoteLoki: { url } }),
        (error: Error) => !error.message.includes("hunter2"),
        url,
      );
    }
  });
});

describe("renderDashboardProvider", () => {
  it("loads the dashboards folder, refuses UI saves and drops a dashboard whose file is gone", () => {
    const doc = parse(renderDashboardProvider()) as { apiVersion: number; providers: Array<Record<string, unknown>> };
    assert.equal(doc.apiVersion, 1);
    assert.equal(doc.providers.length, 1);
    const [provider] = doc.providers;
    assert.equal(provider.type, "file");
    assert.equal(provider.allowUiUpdates, false);
    assert.equal(provider.disableDeletion, false);
    assert.equal(provider.folder, DASHBOARD_FOLDER);
    assert.deepEqual(provider.options, { path: CONFIG_PATHS.grafanaDashboards, foldersFromFilesStructure: false });
  });

  it("puts each dashboard's file in the folder the provider reads", () => {
    for (const key of Object.keys(dashboards(BASE))) {
      assert.equal(dashboardPath(key), `${CONFIG_PATHS.grafanaDashboards}/${key}.json`);
    }
    assert.throws(() => dashboardPath("../grafana.ini"), /dashboard key must be/);
  });
});

describe("dashboards", () => {
  it("has an overview and a database dashboard, each with its own uid, read-only, on Grafana 12's schema", () => {
    const all = dashboards(BASE);
    assert.deepEqual(Object.keys(all).sort(), ["database", "overview"]);
    const uids = Object.values(all).map((d) => d.uid);
    assert.equal(new Set(uids).size, uids.length);
    for (const dashboard of Object.values(all)) {
      assert.equal(dashboard.editable, false, dashboard.title);
      assert.equal(dashboard.schemaVersion, 41, dashboard.title);
      assert.match(dashboard.uid ?? "", /^[a-z0-9-]{8,40}$/, "Grafana takes uids of 8 to 40 characters");
    }
  });

  for (const { label, settings } of VARIANTS) {
    it(`names only provisioned datasources, in panels, queries and annotations (${label})`, () => {
      const provisioned = new Map(
        (parse(renderGrafanaDatasources(settings)) as { datasources: Array<{ uid: string; type: string }> }).datasources.map((ds) => [
          ds.uid,
          ds.type,
        ]),
      );
      for (const dashboard of Object.values(dashboards(settings))) {
        const refs: Array<[string, unknown]> = [];
        for (const panel of panelsOf(dashboard)) {
          if (panel.type === "row" || !("targets" in panel)) continue;
          refs.push([`panel "${panel.title}"`, panel.datasource]);
          for (const target of panel.targets ?? []) refs.push([`a query of "${panel.title}"`, target.datasource]);
          assert.ok((panel.targets ?? []).length > 0, `panel "${panel.title}" has queries`);
        }
        const annotations = dashboard.annotations?.list ?? [];
        assert.ok(annotations.length > 0, `${dashboard.title} has annotations`);
        for (const annotation of annotations) refs.push([`annotation "${annotation.name}"`, annotation.datasource]);
        for (const [where, ref] of refs) {
          const { uid, type } = ref as { uid: string; type: string };
          assert.ok(provisioned.has(uid), `${dashboard.title}: ${where} names datasource ${uid}`);
          assert.equal(type, provisioned.get(uid), `${dashboard.title}: ${where} names ${uid} as a ${type}`);
        }
      }
    });

    it(`reads, in every PromQL selector, a job of JOBS and a metric that job's exporter publishes (${label})`, () => {
      for (const dashboard of Object.values(dashboards(settings))) {
        const { promql } = dashboardQueries(dashboard);
        assert.ok(promql.length > 0);
        for (const expr of promql) {
          const selectors = selectorsIn(expr);
          assert.ok(selectors.length > 0, expr);
          for (const { metric, matchers } of selectors) {
            const jobs = matchers.filter((m) => m.label === "job");
            for (const job of jobs) {
              assert.equal(job.op, "=", `${expr}: job is matched exactly`);
              assert.ok(JOB_NAMES.has(job.value), `${expr}: job "${job.value}" is not in JOBS`);
            }
            if (NGINX_SERIES.has(metric)) continue;
            assert.equal(jobs.length, 1, `${expr}: ${metric} is read from one job`);
            if (metric === "up") continue;
            assert.ok(
              (EXPORTER_METRICS[jobs[0].value] ?? []).includes(metric),
              `${expr}: ${metric} is not a metric the ${jobs[0].value} job's exporter publishes`,
            );
          }
        }
      }
    });

    it(`queries Loki only for the log streams Alloy labels, this stack's on a shared Loki (${label})`, () => {
      const jobs = new Set<string>([LOG_LABELS.containersJob, LOG_LABELS.deploysJob]);
      for (const dashboard of Object.values(dashboards(settings))) {
        const { logql } = dashboardQueries(dashboard);
        assert.ok(logql.length > 0);
        for (const expr of logql) {
          const stream = /^\{([^}]*)\}/.exec(expr);
          assert.ok(stream, `${expr} starts with a stream selector`);
          const matchers = new Map([...stream[1].matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
          assert.ok(jobs.has(matchers.get("job") ?? ""), `${expr} selects a job Alloy ships`);
          // Alloy labels streams with their stack only when it ships them to a remote Loki.
          assert.equal(matchers.get("stack"), settings.remoteLoki ? settings.stack : undefined, expr);
        }
      }
    });

    it(`marks this stack's deploys from Loki on every dashboard (${label})`, () => {
      for (const dashboard of Object.values(dashboards(settings))) {
        const deploys = (dashboard.annotations?.list ?? []).filter((a) => a.name === "Deploys");
        assert.equal(deploys.length, 1, dashboard.title);
        const annotation = deploys[0] as (typeof deploys)[0] & Record<string, unknown>;
        assert.equal(annotation.datasource?.uid, DATASOURCE_UIDS.loki);
        assert.equal(annotation.enable, true);
        const stack = settings.remoteLoki ? `,stack="${settings.stack}"` : "";
        assert.equal(annotation.expr, `{job="${LOG_LABELS.deploysJob}"${stack}} | json`);
        // The line's JSON fields become labels, which title, text and tags are drawn from.
        assert.equal(annotation.textFormat, "{{image}}");
        assert.match(String(annotation.titleFormat), /\{\{stack\}\}/);
        assert.equal(annotation.tagKeys, "stack");
      }
    });

    it(`lays panels out on the 24-column grid without overlap, ids unique (${label})`, () => {
      for (const dashboard of Object.values(dashboards(settings))) {
        const top = dashboard.panels ?? [];
        const ids = top.map((panel) => panel.id);
        assert.equal(new Set(ids).size, ids.length, dashboard.title);
        const cells = new Set<string>();
        for (const panel of top) {
          const pos = panel.gridPos!;
          assert.ok(pos.x >= 0 && pos.x + pos.w <= 24, `${dashboard.title}: "${panel.title}" fits the grid`);
          for (let x = pos.x; x < pos.x + pos.w; x++) {
            for (let y = pos.y; y < pos.y + pos.h; y++) {
              const cell = `${x},${y}`;
              assert.ok(!cells.has(cell), `${dashboard.title}: "${panel.title}" overlaps another panel at ${cell}`);
              cells.add(cell);
            }
          }
        }
      }
    });

    it(`renders each dashboard as the JSON it is (${label})`, () => {
      for (const dashboard of Object.values(dashboards(settings))) {
        const text = renderDashboard(dashboard);
        assert.ok(text.endsWith("\n"));
        assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(dashboard)));
      }
    });
  }
});

describe("the login panel", () => {
  it("is there only when loginPath is set, counting login requests answered 2xx or 3xx", () => {
    const titles = (settings: ObservabilitySettings) =>
      panelsOf(dashboards(settings).overview)
        .filter((panel) => panel.type !== "row")
        .map((panel) => panel.title);
    assert.ok(!titles(BASE).includes("Login success"));
    for (const loginPath of ["/login", "/api/v2/session"]) {
      const overview = dashboards({ ...BASE, loginPath }).overview;
      const panel = panelTitled(overview, "Login success");
      assert.match(panel.description ?? "", new RegExp(loginPath.replace(/\//g, "\\/")));
      const [expr] = dashboardQueries({ schemaVersion: 41, panels: [panel] }).promql;
      const selectors = selectorsIn(expr);
      assert.ok(selectors.every((s) => s.metric === NGINX_LOG_METRICS.requests));
      assert.ok(selectors.every((s) => s.matchers.some((m) => m.label === "login" && m.op === "=" && m.value === "true")));
      assert.ok(selectors.some((s) => s.matchers.some((m) => m.label === "status" && m.op === "=~" && m.value === "[23]..")));
    }
  });
});

describe("thresholds on the panels", () => {
  const variants: AlertThresholds[] = [
    DEFAULT_ALERT_THRESHOLDS,
    ...VARIANTS.map((v) => v.settings.thresholds),
    { ...DEFAULT_ALERT_THRESHOLDS, max5xxPercent: 0.5, p95LatencyMs: 1500, minDiskFreePercent: 25, maxDatabaseCpuPercent: 95 },
  ];

  for (const thresholds of variants) {
    it(`draws each alert threshold where the alert fires (5xx ${thresholds.max5xxPercent}%, p95 ${thresholds.p95LatencyMs} ms)`, () => {
      const all = dashboards({ ...BASE, loginPath: "/login", databaseConnectionLimit: 47, thresholds });
      const bad: Array<[Dashboard, string, "above" | "below", number]> = [
        [all.overview, "5xx responses", "above", thresholds.max5xxPercent],
        [all.overview, "Request time", "above", thresholds.p95LatencyMs / 1000],
        [all.overview, "Login success", "below", thresholds.minLoginSuccessPercent],
        [all.overview, "Memory available", "below", thresholds.minMemoryAvailablePercent],
        [all.overview, "Disk free", "below", thresholds.minDiskFreePercent],
        [all.database, "Database CPU", "above", thresholds.maxDatabaseCpuPercent],
        [all.database, "Database connections", "above", Math.floor((47 * thresholds.maxDatabaseConnectionsPercent) / 100)],
      ];
      for (const [dashboard, title, side, value] of bad) {
        const panel = panelTitled(dashboard, title);
        const expected: Array<[number | null, string]> =
          side === "above"
            ? [
                [null, "green"],
                [value, "red"],
              ]
            : [
                [null, "red"],
                [value, "green"],
              ];
        assert.deepEqual(steps(panel), expected, title);
        assert.equal(thresholdsStyle(panel), "dashed", `${title} draws its threshold`);
      }
    });
  }

  it("refuses a connection limit that is not a positive whole number", () => {
    for (const databaseConnectionLimit of [0, -1, 2.5, Number.NaN])
      assert.throws(() => dashboards({ ...BASE, databaseConnectionLimit }), /databaseConnectionLimit .* must be a positive whole number/);
  });

  it("watches free space on / and the data volume", () => {
    const [expr] = dashboardQueries({ schemaVersion: 41, panels: [panelTitled(dashboards(BASE).overview, "Disk free")] }).promql;
    for (const { matchers } of selectorsIn(expr)) {
      const mountpoint = matchers.find((m) => m.label === "mountpoint");
      assert.ok(mountpoint && mountpoint.op === "=~");
      const regex = new RegExp(`^(?:${mountpoint.value})$`);
      assert.ok(regex.test("/") && regex.test(DATA_MOUNT));
      assert.ok(!regex.test("/boot") && !regex.test(`${DATA_MOUNT}/x`) && !regex.test("/run"));
    }
  });

  it("refuses thresholds no panel can draw, naming the setting", () => {
    assert.throws(
      () => dashboards({ ...BASE, thresholds: { ...DEFAULT_ALERT_THRESHOLDS, max5xxPercent: 0 } }),
      /dropstack:observability\.thresholds\.max5xxPercent .* got 0/,
    );
    assert.throws(
      () => dashboards({ ...BASE, thresholds: { ...DEFAULT_ALERT_THRESHOLDS, minDiskFreePercent: 101 } }),
      /thresholds\.minDiskFreePercent .* got 101/,
    );
    assert.throws(
      () => dashboards({ ...BASE, thresholds: { ...DEFAULT_ALERT_THRESHOLDS, p95LatencyMs: Number.NaN } }),
      /thresholds\.p95LatencyMs .* got NaN/,
    );
    assert.throws(
      () => dashboards({ ...BASE, databaseConnectionLimit: 0 }),
      /databaseConnectionLimit .* must be a positive whole number, got 0/,
    );
    assert.throws(() => dashboards({ ...BASE, databaseConnectionLimit: 22.5 }), /databaseConnectionLimit .* got 22.5/);
  });
});

const CLAIM = "https://api.shop.example.com/roles";
const OAUTH: GrafanaOAuth = {
  domain: "shop.eu.auth0.com",
  clientId: "AbC123xyz_-",
  rolesClaim: CLAIM,
  adminRoles: ["super_admin", "ops"],
  editorRoles: ["pharmacist", "store manager"],
  viewerRoles: ["support"],
};

/** The Grafana role the path gives a user whose ID token carries these claims. */
function roleFor(path: string, claims: Record<string, unknown>): unknown {
  return search(claims, path);
}

describe("grafanaRoleAttributePath", () => {
  const path = grafanaRoleAttributePath(OAUTH.rolesClaim, OAUTH.adminRoles, OAUTH.editorRoles, OAUTH.viewerRoles);
  const cases: Array<[string, unknown, string]> = [
    ["an admin role", ["super_admin"], "Admin"],
    ["the other admin role", ["ops"], "Admin"],
    ["an admin and an editor role", ["pharmacist", "ops"], "Admin"],
    ["an editor role", ["pharmacist"], "Editor"],
    ["an editor role with a space", ["store manager"], "Editor"],
    ["a viewer role", ["support"], "Viewer"],
    ["a viewer and an editor role", ["support", "pharmacist"], "Editor"],
    ["an unmapped role", ["customer"], ""],
    ["no roles", [], ""],
    ["a role that only contains an admin role's name", ["super_admin_trainee", "admin"], ""],
    ["the roles as one string", "super_admin", ""],
    ["a null claim", null, ""],
  ];
  for (const [what, roles, expected] of cases) {
    it(`maps ${what} to ${expected || "no role (refused)"}`, () => {
      assert.equal(roleFor(path, { sub: "auth0|1", email: "a@shop.example.com", [CLAIM]: roles }), expected);
    });
  }

  it("maps a token without the roles claim to no role, and reads no other claim", () => {
    assert.equal(roleFor(path, { sub: "auth0|1" }), "");
    assert.equal(roleFor(path, { sub: "auth0|1", roles: ["super_admin"], "https://other.example.com/roles": ["super_admin"] }), "");
  });

  it("refuses everyone when no role is mapped, and gives each Grafana role only through its own list", () => {
    const nobody = grafanaRoleAttributePath(CLAIM, [], [], []);
    assert.equal(roleFor(nobody, { [CLAIM]: ["super_admin"] }), "");
    const editorsOnly = grafanaRoleAttributePath(CLAIM, [], ["super_admin"], []);
    assert.equal(roleFor(editorsOnly, { [CLAIM]: ["super_admin"] }), "Editor");
    const adminsOnly = grafanaRoleAttributePath(CLAIM, ["pharmacist"], [], []);
    assert.equal(roleFor(adminsOnly, { [CLAIM]: ["pharmacist"] }), "Admin");
    assert.equal(roleFor(adminsOnly, { [CLAIM]: ["ops"] }), "");
    const viewersOnly = grafanaRoleAttributePath(CLAIM, [], [], ["ops"]);
    assert.equal(roleFor(viewersOnly, { [CLAIM]: ["ops"] }), "Viewer");
    assert.equal(roleFor(viewersOnly, { [CLAIM]: ["pharmacist"] }), "");
  });

  it("reads claims whose names a bare identifier cannot spell", () => {
    for (const claim of ["roles", "https://example.com/roles", "urn:example:roles", 'we"ird/roles.v2']) {
      const p = grafanaRoleAttributePath(claim, ["a"], ["b"], ["c"]);
      assert.equal(roleFor(p, { [claim]: ["a"] }), "Admin", claim);
      assert.equal(roleFor(p, { [claim]: ["b"] }), "Editor", claim);
      assert.equal(roleFor(p, { [claim]: ["c"] }), "Viewer", claim);
      assert.equal(roleFor(p, { [claim]: ["d"] }), "", claim);
    }
  });

  it("refuses role names a raw string cannot carry the same way in every implementation, and overlaps", () => {
    assert.throws(
      () => grafanaRoleAttributePath(CLAIM, ["o'brien"], [], []),
      /dropstack:observability\.grafanaRoles\.admin .* got "o'brien"/,
    );
    assert.throws(() => grafanaRoleAttributePath(CLAIM, [], ["a\\b"], []), /grafanaRoles\.editor/);
    assert.throws(() => grafanaRoleAttributePath(CLAIM, [], [], ["x'y"]), /grafanaRoles\.viewer/);
    assert.throws(() => grafanaRoleAttributePath(CLAIM, [""], [], []), /grafanaRoles\.admin/);
    assert.throws(() => grafanaRoleAttributePath(CLAIM, ["ops"], ["pharmacist", "ops"], []), /admin and \.editor both name "ops"/);
    assert.throws(() => grafanaRoleAttributePath(CLAIM, ["ops"], [], ["ops"]), /admin and \.viewer both name "ops"/);
    assert.throws(() => grafanaRoleAttributePath(CLAIM, [], ["ops"], ["ops"]), /editor and \.viewer both name "ops"/);
    assert.throws(() => grafanaRoleAttributePath("", ["ops"], [], []), /roles claim/);
  });
});

/** Environment keys that name a secret: each must point at a file instead of holding it. */
const SECRET_KEY = /PASSWORD|SECRET|TOKEN|CREDENTIAL|API_KEY|PRIVATE/;
/** Endpoints whose names mention one (GF_AUTH_GENERIC_OAUTH_TOKEN_URL) are not secrets. */
const isSecretKey = (key: string) => SECRET_KEY.test(key) && !key.endsWith("_URL");
const CONFIG_FILES = new Set<string>(Object.values(CONFIG_PATHS));

describe("grafanaEnvironment", () => {
  for (const { label, settings } of VARIANTS) {
    for (const oauth of [undefined, OAUTH]) {
      const mode = oauth ? "with Auth0" : "without OAuth";
      it(`holds no secret: every secret setting is a __FILE path under CONFIG_PATHS (${label}, ${mode})`, () => {
        const env = grafanaEnvironment(settings, oauth);
        const secretKeys = Object.keys(env).filter(isSecretKey);
        assert.ok(secretKeys.includes("GF_SECURITY_ADMIN_PASSWORD__FILE"));
        for (const key of secretKeys) {
          assert.ok(key.endsWith("__FILE"), `${key} holds a value, not a file`);
          assert.ok(CONFIG_FILES.has(env[key]), `${key}=${env[key]} is not a path in CONFIG_PATHS`);
        }
        for (const [key, value] of Object.entries(env)) {
          assert.ok(key.startsWith("GF_"), key);
          assert.equal(typeof value, "string", key);
        }
      });

      it(`serves Grafana behind nginx at the monitoring host, closed to strangers and silent to grafana.com (${label}, ${mode})`, () => {
        const env = grafanaEnvironment(settings, oauth);
        assert.equal(env.GF_SERVER_ROOT_URL, `https://${settings.monitoringHost}/`);
        assert.equal(env.GF_SERVER_DOMAIN, settings.monitoringHost);
        assert.equal(env.GF_SERVER_PROTOCOL, "http");
        assert.equal(env.GF_SERVER_HTTP_PORT, String(SERVICES.grafana.port));
        assert.equal(env.GF_SECURITY_ADMIN_PASSWORD__FILE, GRAFANA_ADMIN_PASSWORD_FILE);
        assert.equal(env.GF_PATHS_PROVISIONING, CONFIG_PATHS.grafanaProvisioning);
        assert.equal(env.GF_AUTH_ANONYMOUS_ENABLED, "false");
        assert.equal(env.GF_USERS_ALLOW_SIGN_UP, "false");
        assert.equal(env.GF_ANALYTICS_REPORTING_ENABLED, "false");
        assert.equal(env.GF_ANALYTICS_CHECK_FOR_UPDATES, "false");
        assert.equal(env.GF_SECURITY_COOKIE_SECURE, "true");
      });
    }
  }

  it("signs in with the Auth0 tenant when asked, refusing unmapped users, the login form kept for the generated admin", () => {
    const env = grafanaEnvironment(BASE, OAUTH);
    assert.equal(env.GF_AUTH_GENERIC_OAUTH_ENABLED, "true");
    assert.equal(env.GF_AUTH_GENERIC_OAUTH_CLIENT_ID, OAUTH.clientId);
    assert.equal(env.GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET__FILE, GRAFANA_OAUTH_CLIENT_SECRET_FILE);
    assert.equal(env.GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET, undefined);
    assert.equal(env.GF_AUTH_GENERIC_OAUTH_AUTH_URL, "https://shop.eu.auth0.com/authorize");
    assert.equal(env.GF_AUTH_GENERIC_OAUTH_TOKEN_URL, "https://shop.eu.auth0.com/oauth/token");
    assert.equal(env.GF_AUTH_GENERIC_OAUTH_API_URL, "https://shop.eu.auth0.com/userinfo");
    // The Identity component's Grafana client takes its secret in the request body.
    assert.equal(env.GF_AUTH_GENERIC_OAUTH_AUTH_STYLE, "InParams");
    assert.deepEqual(env.GF_AUTH_GENERIC_OAUTH_SCOPES.split(" ").sort(), ["email", "openid", "profile"]);
    assert.equal(
      env.GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_PATH,
      grafanaRoleAttributePath(CLAIM, OAUTH.adminRoles, OAUTH.editorRoles, OAUTH.viewerRoles),
    );
    assert.equal(env.GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_STRICT, "true");
    assert.equal(env.GF_AUTH_OAUTH_AUTO_LOGIN, "true");
    assert.equal(env.GF_USERS_AUTO_ASSIGN_ORG_ROLE, "Viewer");
    assert.equal(env.GF_AUTH_DISABLE_LOGIN_FORM, undefined);
    const signout = new URL(env.GF_AUTH_SIGNOUT_REDIRECT_URL);
    assert.equal(`${signout.origin}${signout.pathname}`, "https://shop.eu.auth0.com/v2/logout");
    assert.equal(signout.searchParams.get("client_id"), OAUTH.clientId);
    assert.equal(signout.searchParams.get("returnTo"), `https://${BASE.monitoringHost}/login`);
  });

  it("keeps the login form and sets no OAuth without it", () => {
    const env = grafanaEnvironment(BASE);
    assert.equal(env.GF_AUTH_DISABLE_LOGIN_FORM, undefined);
    assert.deepEqual(
      Object.keys(env).filter((key) => key.startsWith("GF_AUTH_GENERIC_OAUTH_")),
      [],
    );
  });

  it("refuses a monitoring host, tenant or client ID that is not one, naming the setting", () => {
    assert.throws(
      () => grafanaEnvironment({ ...BASE, monitoringHost: "https://monitoring.example.com" }),
      /dropstack:hosts\.monitoring must be a hostname/,
    );
    assert.throws(
      () => grafanaEnvironment(BASE, { ...OAUTH, domain: "shop.eu.auth0.com/" }),
      /auth0:domain.* got "shop\.eu\.auth0\.com\/"/,
    );
    assert.throws(() => grafanaEnvironment(BASE, { ...OAUTH, clientId: "abc\nGF_X=1" }), /Auth0 client ID/);
    assert.throws(() => grafanaEnvironment(BASE, { ...OAUTH, clientId: "" }), /Auth0 client ID/);
  });
});
