// The Monitoring component as the committed production stack registers it, under mocks.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { PROMOTED_IMAGE_OUTPUT } from "../../components/promotion/evaluate";
import type { Graph, Registration } from "../../tools/check/harness";
import { setStackReferenceOutputs } from "../../tools/check/mocks";
import { committedValue, runStack } from "../support/program";

const UPTIME_CHECK = "digitalocean:index/uptimeCheck:UptimeCheck";
const UPTIME_ALERT = "digitalocean:index/uptimeAlert:UptimeAlert";
const MONITOR_ALERT = "digitalocean:index/monitorAlert:MonitorAlert";

describe("Monitoring component (production, mocks)", () => {
  let graph: Graph;
  let outputs: Record<string, unknown>;
  let check: Registration;
  const emails = committedValue<{ emails: string[] }>("production", "dropstack:alerts").emails;

  before(async () => {
    // As `npm run check` does offline: staging promoted the committed production image.
    setStackReferenceOutputs(committedValue<{ stagingStack: string }>("production", "dropstack:promotion").stagingStack, {
      [PROMOTED_IMAGE_OUTPUT]: committedValue<{ image: string }>("production", "dropstack:app").image,
    });
    ({ graph, outputs } = await runStack({ stack: "production" }));
    check = graph.one(UPTIME_CHECK, "-uptime");
  });

  it("checks the API's health endpoint over https from probes near the droplet", () => {
    const hosts = committedValue<{ api: string }>("production", "dropstack:hosts");
    const app = committedValue<{ healthPath: string }>("production", "dropstack:app");
    assert.equal(check.inputs.target, `https://${hosts.api}${app.healthPath}`);
    assert.equal(check.inputs.type, "https");
    assert.equal(committedValue("production", "dropstack:region"), "fra1");
    assert.deepEqual(check.inputs.regions, ["eu_west", "us_east"]);
    assert.equal(check.inputs.enabled, true);
    assert.equal(outputs.healthCheckUrl, check.inputs.target);
  });

  it("alerts dropstack:alerts.emails when the API is down, slow or its certificate is expiring", () => {
    const alerts = graph.ofType(UPTIME_ALERT).filter((a) => !a.name.endsWith("-backups-stale"));
    assert.deepEqual(alerts.map((a) => a.inputs.type).sort(), ["down", "latency", "ssl_expiry"]);
    for (const alert of alerts) {
      // The mock gives DigitalOcean resources numeric IDs; the dependency names which one.
      assert.match(String(alert.inputs.checkId), /^\d+$/);
      assert.deepEqual(alert.propertyDependencies.checkId, [check.urn], `${alert.name} belongs to the uptime check`);
      assert.deepEqual(alert.inputs.notifications, [{ emails }]);
      assert.equal(typeof alert.inputs.name, "string");
    }
    const latency = alerts.find((a) => a.inputs.type === "latency");
    assert.equal(latency?.inputs.comparison, "greater_than");
    assert.ok(Number(latency?.inputs.threshold) >= 500, "latency threshold in milliseconds");
  });

  it("watches the backup freshness probe over http and alerts when it is gone (stale backups, a failed drill)", () => {
    const hosts = committedValue<{ api: string }>("production", "dropstack:hosts");
    const probe = graph.one(UPTIME_CHECK, "-backups");
    assert.equal(probe.inputs.target, `http://${hosts.api}/.well-known/acme-challenge/dropstack-backups`);
    assert.equal(probe.inputs.type, "http");
    assert.deepEqual(probe.inputs.regions, ["eu_west", "us_east"]);
    const alert = graph.one(UPTIME_ALERT, "-backups-stale");
    assert.equal(alert.inputs.type, "down");
    assert.equal(alert.inputs.period, "10m");
    assert.deepEqual(alert.propertyDependencies.checkId, [probe.urn]);
    assert.deepEqual(alert.inputs.notifications, [{ emails }]);
    assert.match(String(alert.inputs.name), /backups are stale or the last restore drill failed/);
  });

  it("alerts on the droplet's CPU, memory and disk", () => {
    const droplet = graph.one("digitalocean:index/droplet:Droplet", "-droplet");
    const alerts = graph.ofType(MONITOR_ALERT);
    assert.deepEqual(alerts.map((a) => a.inputs.type).sort(), [
      "v1/insights/droplet/cpu",
      "v1/insights/droplet/disk_utilization_percent",
      "v1/insights/droplet/memory_utilization_percent",
    ]);
    for (const alert of alerts) {
      assert.equal((alert.inputs.entities as string[]).length, 1);
      assert.match((alert.inputs.entities as string[])[0], /^\d+$/);
      assert.deepEqual(alert.propertyDependencies.entities, [droplet.urn], `${alert.name} watches the droplet`);
      assert.equal(alert.inputs.compare, "GreaterThan");
      assert.equal(alert.inputs.window, "5m");
      assert.equal(alert.inputs.enabled, true);
      assert.deepEqual(alert.inputs.alerts, { emails });
      assert.match(String(alert.inputs.description), /^dropstack-production: droplet /);
    }
  });

  it("groups everything under the Monitoring component", () => {
    const component = graph.one("dropstack:index:Monitoring", "");
    for (const r of [check, ...graph.ofType(UPTIME_ALERT), ...graph.ofType(MONITOR_ALERT)]) assert.equal(r.parent, component.urn, r.name);
  });
});
