// dropstack:postgres.restore through `npm run check` as users run it: the production stack
// with a restore passes every policy (the restored cluster is protected, highly available,
// in the VPC, behind a firewall), the check says when DigitalOcean would refuse the restore
// point, and a bad timestamp exits 2 naming the key before anything is evaluated.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCheck, writeStackVariant } from "../support/check";

const CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";

function checkProductionWithRestore(restore: unknown) {
  return runCheck("production", {
    configFile: writeStackVariant("production", (c) => {
      (c["dropstack:postgres"] as Record<string, unknown>).restore = restore;
    }),
  });
}

describe("npm run check (postgres.restore)", () => {
  it("passes every mandatory policy with a restored cluster beside production's, and notes a restore point past the 7 days", () => {
    // Long past for any clock this test will run on: the note does not depend on when it runs.
    const report = checkProductionWithRestore({ timestamp: "2020-01-01T00:00:00Z" });
    assert.equal(report.status, 0, report.stderr);
    assert.equal(report.json?.summary.mandatory, 0, JSON.stringify(report.json?.violations));
    const clusters = (report.json?.resources ?? []).filter((r) => r.type === CLUSTER);
    assert.deepEqual(clusters.map((c) => c.name).sort(), ["dropstack-production-pg", "dropstack-production-pg-pitr-20200101t000000z"]);
    for (const cluster of clusters) assert.equal(cluster.protect, true, cluster.name);
    const advisories = (report.json?.violations ?? []).filter((v) => v.urn.includes("-pitr-"));
    assert.deepEqual(advisories, [], "the restored cluster breaks no policy, advisory ones included");
    assert.match(
      report.stderr,
      /Note: postgres\.restore\.timestamp 2020-01-01T00:00:00Z is \d+\.\d days old; DigitalOcean keeps point-in-time backups for 7 days/,
    );
  });

  it("notes a restore point in the future", () => {
    const report = checkProductionWithRestore({ timestamp: "2999-01-01T00:00:00Z" });
    assert.equal(report.status, 0, report.stderr);
    assert.match(report.stderr, /Note: postgres\.restore\.timestamp 2999-01-01T00:00:00Z is in the future/);
  });

  it("exits 2 naming dropstack:postgres.restore.timestamp for a time without an offset", () => {
    const report = checkProductionWithRestore({ timestamp: "2026-11-28 09:30" });
    assert.equal(report.status, 2, report.stderr);
    assert.match(report.stderr, /dropstack:postgres\.restore\.timestamp: expected an RFC 3339 UTC time/);
    assert.equal(report.stdout, "", "nothing evaluated, nothing printed");
  });
});
