import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import {
  LOKI_DATA_DIR,
  LOKI_SCHEMA_FROM,
  MAX_LOG_RETENTION_DAYS,
  lokiRetentionPeriod,
  renderLokiConfig,
  validateLokiSettings,
} from "../../components/observability/loki";
import { DEFAULT_ALERT_THRESHOLDS, SERVICES, type ObservabilitySettings } from "../../components/observability/settings";

// ---------------------------------------------------------------------------------------------
// Settings variants

const base: ObservabilitySettings = {
  name: "shop-production",
  stack: "production",
  monitoringHost: "monitoring.example.com",
  tlsHosts: ["api.example.com", "app.example.com", "monitoring.example.com"],
  nginxContainer: "shop-production-nginx",
  backupProbe: { host: "api.example.com", path: "/.dropstack/backup" },
  app: { alias: "api", port: 8000 },
  redis: { alias: "redis", port: 6379 },
  metricsRetentionSize: "5GB",
  metricsRetentionDays: 15,
  logRetentionDays: 14,
  alertEmails: ["ops@example.com"],
  webhook: false,
  thresholds: DEFAULT_ALERT_THRESHOLDS,
  backupCheckIntervalMinutes: 60,
};

function settings(overrides: Partial<ObservabilitySettings> = {}): ObservabilitySettings {
  return { ...base, ...overrides };
}

/** Named variants the Alloy tests run over: login on and off, local and remote Loki, other SLOs. */
const VARIANTS: [string, ObservabilitySettings][] = [
  ["defaults, login path, local Loki", settings({ loginPath: "/login" })],
  ["no login path", settings()],
  [
    "login under /api, p95 SLO 123 ms",
    settings({ loginPath: "/api/v1/auth/login", thresholds: { ...DEFAULT_ALERT_THRESHOLDS, p95LatencyMs: 123 } }),
  ],
  [
    "remote Loki with a user, p95 SLO 1.5 s",
    settings({
      loginPath: "/session",
      remoteLoki: { url: "https://logs-prod-012.grafana.net/loki/api/v1/push", username: "123456" },
      thresholds: { ...DEFAULT_ALERT_THRESHOLDS, p95LatencyMs: 1500 },
    }),
  ],
  ["remote Loki without a user", settings({ remoteLoki: { url: "https://loki.example.org:8443/custom/loki/api/v1/push" } })],
  ["only the monitoring host", settings({ tlsHosts: [], loginPath: "/" })],
];

// ---------------------------------------------------------------------------------------------
// Loki

describe("renderLokiConfig", () => {
  for (const days of [1, 7, 14, 30, 90, MAX_LOG_RETENTION_DAYS]) {
    it(`is a single-binary Loki keeping ${days} days of logs on the volume`, () => {
      const config = parse(renderLokiConfig(settings({ logRetentionDays: days })));
      assert.equal(config.auth_enabled, false);
      assert.equal(config.server.http_listen_port, SERVICES.loki.port);
      assert.equal(config.common.replication_factor, 1);
      assert.equal(config.common.ring.kvstore.store, "inmemory");
      assert.equal(config.common.path_prefix, LOKI_DATA_DIR);

      // Retention: on in the compactor, with the delete request store it requires, for the days set.
      assert.equal(config.compactor.retention_enabled, true);
      assert.equal(config.compactor.delete_request_store, "filesystem");
      assert.equal(config.limits_config.retention_period, `${days * 24}h`);
      assert.equal(lokiRetentionPeriod({ logRetentionDays: days }), `${days * 24}h`);
      assert.equal(hoursOf(config.limits_config.retention_period) / 24, days);

      // One tsdb v13 period from a fixed day in the past, with the 24h index retention needs.
      assert.equal(config.schema_config.configs.length, 1);
      const [period] = config.schema_config.configs;
      assert.deepEqual(
        { store: period.store, schema: period.schema, object_store: period.object_store, index: period.index.period },
        { store: "tsdb", schema: "v13", object_store: "filesystem", index: "24h" },
      );
      assert.equal(String(period.from), LOKI_SCHEMA_FROM);
      assert.match(LOKI_SCHEMA_FROM, /^\d{4}-\d{2}-\d{2}$/);
      assert.ok(Date.parse(LOKI_SCHEMA_FROM) < Date.now());
      // The delete requests live in the same store as the chunks.
      assert.equal(config.compactor.delete_request_store, period.object_store);

      assert.equal(config.analytics.reporting_enabled, false);
    });
  }

  it("keeps every path it writes under the container's data folder", () => {
    const config = parse(renderLokiConfig(base));
    const paths = stringsUnder(config).filter(([key]) => /directory|path_prefix/.test(key));
    assert.ok(paths.length >= 4, JSON.stringify(paths));
    for (const [key, path] of paths) assert.ok(path === LOKI_DATA_DIR || path.startsWith(`${LOKI_DATA_DIR}/`), `${key}: ${path}`);
  });

  it("limits ingestion to what one small app sends, with room for one Alloy push", () => {
    const limits = parse(renderLokiConfig(base)).limits_config;
    assert.ok(limits.ingestion_rate_mb > 0 && limits.ingestion_rate_mb <= 4, String(limits.ingestion_rate_mb));
    assert.ok(limits.ingestion_burst_size_mb >= limits.ingestion_rate_mb);
    // Alloy's loki.write batches up to 1 MiB: a burst smaller than one push refuses every push.
    assert.ok(limits.ingestion_burst_size_mb >= 1.05);
    assert.ok(bytesOf(limits.per_stream_rate_limit) <= limits.ingestion_rate_mb * 1e6);
    assert.ok(bytesOf(limits.per_stream_rate_limit_burst) >= bytesOf(limits.per_stream_rate_limit));
    assert.ok(limits.max_global_streams_per_user >= 100 && limits.max_global_streams_per_user <= 5000);
    assert.equal(limits.max_line_size_truncate, true);
    assert.equal(limits.allow_structured_metadata, true);
  });

  it("reads only logRetentionDays: the other settings change nothing", () => {
    const rendered = renderLokiConfig(base);
    for (const [, variant] of VARIANTS) assert.equal(renderLokiConfig(variant), rendered);
  });

  for (const days of [0, -1, 1.5, MAX_LOG_RETENTION_DAYS + 1, 10000, Number.NaN, Number.POSITIVE_INFINITY, "30" as unknown as number]) {
    it(`refuses logRetentionDays ${String(days)}, naming the setting and value`, () => {
      const shown = typeof days === "number" ? String(days) : JSON.stringify(days);
      assert.deepEqual(validateLokiSettings({ logRetentionDays: days }).length, 1);
      assert.throws(
        () => renderLokiConfig(settings({ logRetentionDays: days })),
        (error: Error) => error.message.includes("dropstack:observability.logRetentionDays") && error.message.includes(`got ${shown}`),
      );
    });
  }
});

function hoursOf(duration: string): number {
  const match = /^(\d+)h$/.exec(duration);
  assert.ok(match, duration);
  return Number(match[1]);
}

function bytesOf(size: string): number {
  const match = /^(\d+)(KB|MB)$/.exec(size);
  assert.ok(match, size);
  return Number(match[1]) * (match[2] === "KB" ? 1e3 : 1e6);
}

function stringsUnder(value: unknown, key = ""): [string, string][] {
  if (typeof value === "string") return [[key, value]];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringsUnder(item, `${key}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => stringsUnder(v, key ? `${key}.${k}` : k));
  return [];
}
