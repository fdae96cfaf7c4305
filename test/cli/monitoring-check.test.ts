// `npm run check` end to end for monitoring: the resources in the report, and the
// production rule that alerts must reach someone, through the real policy analyzer.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCheck } from "../support/check";
import { checkUnsafeVariant } from "../support/unsafe-stacks";

describe("npm run check (monitoring)", () => {
  it("lists the uptime check and its alerts for production", () => {
    const report = runCheck("production");
    assert.equal(report.status, 0, report.stderr);
    const count = (type: string) => report.json?.resources.filter((r) => r.type === type).length;
    // The API's health check and the backup freshness probe's.
    assert.equal(count("digitalocean:index/uptimeCheck:UptimeCheck"), 2);
    assert.equal(count("digitalocean:index/uptimeAlert:UptimeAlert"), 4);
    assert.equal(count("digitalocean:index/monitorAlert:MonitorAlert"), 3);
    assert.ok(!report.json?.violations.some((v) => v.policy.startsWith("monitoring-")));
  });

  it("exits 1 naming monitoring-alerts-configured when production has no alert emails", () => {
    // The shared unsafe variants have no alert emails, among other edits (test/support/unsafe-stacks.ts).
    const report = checkUnsafeVariant("production");
    assert.equal(report.status, 1, report.stderr);
    const violation = report.json?.violations.find((v) => v.policy === "monitoring-alerts-configured");
    assert.equal(violation?.enforcementLevel, "mandatory");
    assert.match(violation?.message ?? "", /dropstack:alerts\.emails/);
  });

  it("only warns when staging has no alert emails", () => {
    const report = checkUnsafeVariant("staging");
    assert.equal(report.status, 0, report.stderr);
    const violation = report.json?.violations.find((v) => v.policy === "monitoring-alerts-configured");
    assert.equal(violation?.enforcementLevel, "advisory");
  });
});
