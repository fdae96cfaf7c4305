// The database policies through `npm run check`'s real analyzer, on stack variants.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCheck } from "../support/check";
import { checkUnsafeVariant } from "../support/unsafe-stacks";

type Violation = { policy: string; enforcementLevel: string; message: string };

/** Production's shared unsafe variant: one node, PostgreSQL 12 and adminCidrs open to the world, among other edits. */
function checkUnsafeProduction() {
  const report = checkUnsafeVariant("production");
  return { status: report.status, stderr: report.stderr, violations: (report.json?.violations ?? []) as Violation[] };
}

describe("npm run check (database policies)", () => {
  it("exits 1 naming database-cluster-high-availability when production runs one node", () => {
    const { status, stderr, violations } = checkUnsafeProduction();
    assert.equal(status, 1, stderr);
    const found = violations.find((v) => v.policy === "database-cluster-high-availability");
    assert.equal(found?.enforcementLevel, "mandatory");
    assert.match(found?.message ?? "", /dropstack:postgres\.nodes/);
  });

  it("exits 1 naming database-cluster-supported-version for PostgreSQL 12", () => {
    const { status, stderr, violations } = checkUnsafeProduction();
    assert.equal(status, 1, stderr);
    assert.ok(
      violations.some((v) => v.policy === "database-cluster-supported-version" && v.enforcementLevel === "mandatory"),
      JSON.stringify(violations),
    );
  });

  it("exits 1 naming database-firewall-no-public-sources when adminCidrs opens the database to the world", () => {
    const { status, stderr, violations } = checkUnsafeProduction();
    assert.equal(status, 1, stderr);
    const found = violations.find((v) => v.policy === "database-firewall-no-public-sources");
    assert.equal(found?.enforcementLevel, "mandatory");
    assert.match(found?.message ?? "", /0\.0\.0\.0\/0/);
  });

  it("only warns about staging's single node, and the committed stacks break no database or backups policy", () => {
    const staging = runCheck("staging");
    const ours = (report: ReturnType<typeof runCheck>) =>
      (report.json?.violations ?? []).filter((v) => /^(database|backups)-/.test(v.policy));
    assert.deepEqual(
      ours(staging).map((v) => [v.policy, v.enforcementLevel]),
      [["database-cluster-high-availability", "advisory"]],
    );
    assert.deepEqual(ours(runCheck("production")), []);
  });
});
