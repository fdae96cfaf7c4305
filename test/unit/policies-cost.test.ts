import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { DATABASE_CLUSTER, DROPLET, RESERVED_IP, RESERVED_IP_ASSIGNMENT, SPACES_BUCKET } from "../../components/cost/estimate";
import { budgetMonthly } from "../../policies/cost";
import { FakeResource, stackViolations } from "../support/policy";

const stack = (size: string, backups: boolean): FakeResource[] => [
  { type: DROPLET, name: "web", props: { size, backups } },
  { type: DATABASE_CLUSTER, name: "pg", props: { size: "db-s-2vcpu-4gb", nodeCount: 2 } },
  { type: SPACES_BUCKET, name: "backups", props: {} },
  { type: RESERVED_IP, name: "ip", props: {} },
  { type: RESERVED_IP_ASSIGNMENT, name: "ip-assignment", props: {} },
];

describe("budget-monthly", () => {
  it("flags a stack over its budget with the total and the biggest items", async () => {
    // s-4vcpu-8gb $48 + backups $9.60 + Spaces $5 = $62.60
    const violations = await stackViolations(budgetMonthly, stack("s-4vcpu-8gb", true), { monthlyUsd: 50 });
    assert.equal(violations.length, 1);
    assert.match(violations[0], /costs \$62\.60 a month, over its budget of \$50\.00/);
    assert.match(
      violations[0],
      /Biggest items: web \(s-4vcpu-8gb\) \$48\.00, web backups \(.*\) \$9\.60, backups \(Spaces subscription\) \$5\.00/,
    );
    assert.match(violations[0], /1 item without a sourced price not counted/);
  });

  it("passes a stack within its budget, and one without a budget", async () => {
    for (const size of ["s-1vcpu-1gb", "s-2vcpu-4gb", "s-4vcpu-8gb"]) {
      assert.deepEqual(await stackViolations(budgetMonthly, stack(size, true), { monthlyUsd: 62.6 }), [], size);
      assert.deepEqual(await stackViolations(budgetMonthly, stack(size, true), {}), [], size);
    }
  });

  it("is mandatory in production and advisory in staging, with budgets set", () => {
    for (const [file, level] of [
      ["production.json", "mandatory"],
      ["staging.json", "advisory"],
    ] as const) {
      const config = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "policies", file), "utf8"));
      assert.equal(config["budget-monthly"].enforcementLevel, level, file);
      assert.ok(config["budget-monthly"].monthlyUsd > 0, file);
    }
  });
});
