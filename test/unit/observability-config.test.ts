// From the validated config to the renderers' settings: Grafana's host and its default, the
// hosts whose certificates are probed, the database's connection limit by size, and which
// optional parts are on.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backendConnections } from "../../components/database/settings";
import { monitoringHost, observabilitySettings, type ObservabilityInput } from "../../components/observability/config";
import { DEFAULT_ALERT_THRESHOLDS } from "../../components/observability/settings";

const INPUT: ObservabilityInput = {
  project: "shop",
  stack: "production",
  domain: "shop.example.com",
  hosts: { api: "api.shop.example.com" },
  appPort: 8080,
  alertEmails: ["ops@shop.example.com"],
  postgres: { size: "db-s-2vcpu-4gb" },
  observability: { metricsRetentionSize: "5GB", metricsRetentionDays: 30, logRetentionDays: 7 },
};

describe("observabilitySettings", () => {
  it("names Grafana hosts.monitoring, else monitoring.<domain>", () => {
    assert.equal(monitoringHost("example.com", {}), "monitoring.example.com");
    assert.equal(monitoringHost("example.com", { monitoring: "grafana.ops.example.com" }), "grafana.ops.example.com");
    assert.equal(observabilitySettings(INPUT, "shop-production-nginx").monitoringHost, "monitoring.shop.example.com");
  });

  it("probes the certificate of every host nginx serves, Grafana's included", () => {
    assert.deepEqual(observabilitySettings(INPUT, "n").tlsHosts, ["api.shop.example.com", "monitoring.shop.example.com"]);
    const withApp = observabilitySettings(
      { ...INPUT, hosts: { api: "a.example.com", app: "b.example.com", monitoring: "c.example.com" } },
      "n",
    );
    assert.deepEqual(withApp.tlsHosts, ["a.example.com", "b.example.com", "c.example.com"]);
  });

  it("takes the stack's names, retention, recipients and the database size's connection limit", () => {
    const settings = observabilitySettings(INPUT, "shop-production-nginx");
    assert.equal(settings.name, "shop-production");
    assert.equal(settings.stack, "production");
    assert.equal(settings.nginxContainer, "shop-production-nginx");
    assert.deepEqual(settings.app, { alias: "api", port: 8080 });
    assert.equal(settings.metricsRetentionSize, "5GB");
    assert.equal(settings.metricsRetentionDays, 30);
    assert.equal(settings.logRetentionDays, 7);
    assert.deepEqual(settings.alertEmails, ["ops@shop.example.com"]);
    for (const size of ["db-s-1vcpu-1gb", "db-s-2vcpu-4gb", "db-s-4vcpu-8gb"])
      assert.equal(observabilitySettings({ ...INPUT, postgres: { size } }, "n").databaseConnectionLimit, backendConnections(size), size);
    assert.equal(settings.backupProbe.host, "api.shop.example.com");
  });

  it("turns on only the parts the config sets", () => {
    const bare = observabilitySettings(INPUT, "n");
    assert.equal(bare.webhook, false);
    assert.equal(bare.loginPath, undefined);
    assert.equal(bare.app.metricsPath, undefined);
    assert.equal(bare.smtp, undefined);
    assert.equal(bare.remoteLoki, undefined);
    assert.deepEqual(bare.thresholds, DEFAULT_ALERT_THRESHOLDS);
    const full = observabilitySettings(
      {
        ...INPUT,
        observability: {
          ...INPUT.observability,
          loginPath: "/auth/login",
          appMetricsPath: "/metrics",
          smtp: { smarthost: "smtp.example.com:587", from: "a@example.com", username: "u", requireTls: false },
          webhookUrl: "secret",
          remoteLoki: { url: "https://logs.example.com/loki/api/v1/push", username: "t" },
          thresholds: { p95LatencyMs: 300 },
        },
      },
      "n",
    );
    assert.equal(full.webhook, true);
    assert.equal(full.loginPath, "/auth/login");
    assert.equal(full.app.metricsPath, "/metrics");
    assert.deepEqual(full.smtp, { smarthost: "smtp.example.com:587", from: "a@example.com", username: "u", requireTls: false });
    assert.deepEqual(full.remoteLoki, { url: "https://logs.example.com/loki/api/v1/push", username: "t" });
    assert.deepEqual(full.thresholds, { ...DEFAULT_ALERT_THRESHOLDS, p95LatencyMs: 300 });
    assert.ok(!JSON.stringify(full).includes("secret"), "the webhook URL itself stays out of the settings");
  });
});
