import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { DATABASE_CLUSTER, DROPLET, RESERVED_IP, RESERVED_IP_ASSIGNMENT, SPACES_BUCKET } from "../../components/cost/estimate";
import { budgetMonthly } from "../../policies/cost";
import { FakeResource, stackViolations } from "../support/policy";

const stack = (size: string, backups: boolean, pgSize = "db-s-2vcpu-4gb"): FakeResource[] => [
  { type: DROPLET, name: "web", props: { size, backups } },
  { type: DATABASE_CLUSTER, name: "pg", props: { size: pgSize, nodeCount: 2 } },
  { type: SPACES_BUCKET, name: "backups", props: {} },
  { type: RESERVED_IP, name: "ip", props: {} },
  { type: RESERVED_IP_ASSIGNMENT, name: "ip-assignment", props: {} },
];

describe("budget-monthly", () => {
  it("flags a stack over its budget with the total and the biggest items", async () => {
    // db-s-2vcpu-4gb $60 × 2 + s-4vcpu-8gb $48 + daily backups $14.40 + Spaces $5 = $187.40
    const violations = await stackViolations(budgetMonthly, stack("s-4vcpu-8gb", true), { monthlyUsd: 150 });
    assert.equal(violations.length, 1);
    assert.match(violations[0], /costs \$187\.40 a month, over its budget of \$150\.00/);
    assert.match(
      violations[0],
      /Biggest items: pg \(db-s-2vcpu-4gb × 2 nodes\) \$120\.00, web \(s-4vcpu-8gb\) \$48\.00, web backups \(daily backups, .*\) \$14\.40$/,
    );
    assert.doesNotMatch(violations[0], /without a sourced price/);
  });

  it("says what it could not count when part of the stack has no sourced price", async () => {
    // The 8 vCPU database node has no sourced price: $48 + $14.40 + $5 = $67.40 counted.
    const violations = await stackViolations(budgetMonthly, stack("s-4vcpu-8gb", true, "db-s-8vcpu-32gb"), { monthlyUsd: 50 });
    assert.equal(violations.length, 1);
    assert.match(violations[0], /costs \$67\.40 a month, over its budget of \$50\.00/);
    assert.match(violations[0], /1 item without a sourced price not counted/);
  });

  it("counts the items it could not price, in the plural for more than one", async () => {
    // Neither the droplet's size nor the database's has a sourced price: Spaces' $5 is counted.
    const violations = await stackViolations(budgetMonthly, stack("s-99vcpu-1tb", false, "db-s-8vcpu-32gb"), { monthlyUsd: 1 });
    assert.equal(violations.length, 1);
    assert.match(violations[0], /; 2 items without a sourced price not counted\. Biggest items:/);
  });

  it("passes a stack within its budget (the total exactly at it included), and one without a budget", async () => {
    for (const size of ["s-1vcpu-1gb", "s-2vcpu-4gb", "s-4vcpu-8gb"]) {
      assert.deepEqual(await stackViolations(budgetMonthly, stack(size, true), { monthlyUsd: 187.4 }), [], size);
      assert.deepEqual(await stackViolations(budgetMonthly, stack(size, true), {}), [], size);
    }
    assert.equal((await stackViolations(budgetMonthly, stack("s-4vcpu-8gb", true), { monthlyUsd: 187.39 })).length, 1);
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
