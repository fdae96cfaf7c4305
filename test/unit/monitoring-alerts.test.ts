import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DO_REGIONS } from "../../components/config/schema";
import {
  DROPLET_ALERT_RULES,
  UPTIME_ALERT_RULES,
  UPTIME_PROBE_REGIONS,
  describeDropletAlert,
  healthCheckUrl,
  uptimeProbeRegions,
} from "../../components/monitoring/alerts";

describe("uptimeProbeRegions", () => {
  it("probes from the region nearest the droplet first, plus a different one", () => {
    assert.deepEqual(uptimeProbeRegions("fra1"), ["eu_west", "us_east"]);
    assert.deepEqual(uptimeProbeRegions("sfo3"), ["us_west", "us_east"]);
    assert.deepEqual(uptimeProbeRegions("nyc3"), ["us_east", "us_west"]);
    assert.deepEqual(uptimeProbeRegions("sgp1"), ["se_asia", "eu_west"]);
  });

  it("covers every region the config accepts, with two distinct probe regions the API knows", () => {
    for (const region of DO_REGIONS) {
      const probes = uptimeProbeRegions(region);
      assert.equal(new Set(probes).size, 2, region);
      for (const probe of probes) assert.ok((UPTIME_PROBE_REGIONS as readonly string[]).includes(probe), `${region}: ${probe}`);
    }
  });

  it("refuses a region it has no probes for", () => {
    assert.throws(() => uptimeProbeRegions("mars1"), /no Uptime probe regions known for DigitalOcean region "mars1"/);
  });
});

describe("healthCheckUrl", () => {
  it("requests the health path over https on the API host", () => {
    assert.equal(healthCheckUrl("api.example.com", "/health"), "https://api.example.com/health");
    assert.equal(healthCheckUrl("api.example.com", "/api/v1/health-check"), "https://api.example.com/api/v1/health-check");
  });

  it("refuses anything that is not a hostname and a path", () => {
    assert.throws(() => healthCheckUrl("https://api.example.com", "/health"), /expected a hostname/);
    assert.throws(() => healthCheckUrl("api.example.com", "health"), /expected a path like \/health/);
    assert.throws(() => healthCheckUrl("api.example.com", "/health?x=1"), /expected a path/);
  });
});

describe("alert rules", () => {
  it("use the API's values: alert types, comparisons and periods it validates", () => {
    const periods = ["2m", "3m", "5m", "10m", "15m", "30m", "1h"];
    for (const rule of UPTIME_ALERT_RULES) {
      assert.ok(["down", "down_global", "latency", "ssl_expiry"].includes(rule.type), rule.key);
      assert.ok(periods.includes(rule.period), rule.key);
      if (rule.type === "latency" || rule.type === "ssl_expiry") {
        assert.ok(rule.threshold !== undefined && rule.threshold > 0, `${rule.key} has a threshold`);
        assert.ok(rule.comparison === "greater_than" || rule.comparison === "less_than", `${rule.key} has a comparison`);
      }
    }
    assert.deepEqual(UPTIME_ALERT_RULES.map((r) => r.type).sort(), ["down", "latency", "ssl_expiry"]);
  });

  it("watch droplet CPU, memory and disk as percentages over a 5 minute window", () => {
    assert.deepEqual(
      DROPLET_ALERT_RULES.map((r) => r.type),
      ["v1/insights/droplet/cpu", "v1/insights/droplet/memory_utilization_percent", "v1/insights/droplet/disk_utilization_percent"],
    );
    for (const rule of DROPLET_ALERT_RULES) {
      assert.equal(rule.window, "5m");
      assert.ok(rule.value > 50 && rule.value < 100, `${rule.key}: ${rule.value}%`);
    }
  });

  it("describe a droplet alert by stack, metric and window", () => {
    const cpu = DROPLET_ALERT_RULES.find((r) => r.key === "cpu");
    assert.ok(cpu);
    assert.equal(describeDropletAlert("dropstack-production", cpu), "dropstack-production: droplet CPU above 90% for 5m");
  });
});
