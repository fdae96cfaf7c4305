// The whole budget-monthly message for stacks whose every item has a sourced price: the total,
// the budget and the three biggest items, and nothing about unpriced items. Generated over
// droplet sizes, with and without backups and a database, against budgets just under the total.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DATABASE_CLUSTER, DROPLET, SPACES_BUCKET, biggestItems, estimateCost, formatUsd } from "../../components/cost/estimate";
import { budgetMonthly, budgetViolation } from "../../policies/cost";
import { FakeResource, stackViolations } from "../support/policy";

const stacks: FakeResource[][] = [];
for (const size of ["s-1vcpu-1gb", "s-2vcpu-4gb", "s-4vcpu-8gb"]) {
  for (const backups of [false, true]) {
    stacks.push([{ type: DROPLET, name: "web", props: { size, backups } }]);
    stacks.push([
      { type: DROPLET, name: "web", props: { size, backups } },
      { type: DATABASE_CLUSTER, name: "pg", props: { size: "db-s-2vcpu-4gb", nodeCount: 2 } },
      { type: SPACES_BUCKET, name: "backups", props: {} },
    ]);
  }
}

describe("budget-monthly message for a fully priced stack", () => {
  it("states the total, the budget and the biggest items, and nothing more", async () => {
    for (const stack of stacks) {
      const resources = stack.map((r) => ({ type: r.type, name: r.name ?? "r", props: r.props }));
      const estimate = estimateCost(resources);
      assert.equal(estimate.unpriced, 0, JSON.stringify(stack));
      const biggest = biggestItems(estimate, 3)
        .map((i) => `${i.name} (${i.what}) ${formatUsd(i.monthlyUsd)}`)
        .join(", ");
      for (const monthlyUsd of [0, estimate.totalUsd - 0.01]) {
        const expected = `the stack costs ${formatUsd(estimate.totalUsd)} a month, over its budget of ${formatUsd(monthlyUsd)} (budget-monthly.monthlyUsd in the stack's policy config). Biggest items: ${biggest}`;
        assert.equal(budgetViolation(resources, { monthlyUsd }), expected);
        assert.deepEqual(await stackViolations(budgetMonthly, stack, { monthlyUsd }), [expected]);
      }
    }
  });
});
