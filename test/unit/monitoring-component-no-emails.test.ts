// Staging with nobody to alert: the uptime check still runs (its dashboard is useful), but
// no alert is created that would notify nobody.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Graph } from "../../tools/check/harness";
import { runStack } from "../support/program";

describe("Monitoring component (staging without alerts.emails, mocks)", () => {
  let graph: Graph;

  before(async () => {
    ({ graph } = await runStack({ stack: "staging", override: { "dropstack:alerts": { emails: [] } } }));
  });

  it("keeps the uptime check on the API", () => {
    const check = graph.one("digitalocean:index/uptimeCheck:UptimeCheck", "-uptime");
    assert.equal(check.inputs.target, "https://api.staging.example.com/health");
  });

  it("creates no uptime or droplet alerts", () => {
    assert.equal(graph.ofType("digitalocean:index/uptimeAlert:UptimeAlert").length, 0);
    assert.equal(graph.ofType("digitalocean:index/monitorAlert:MonitorAlert").length, 0);
  });
});
