// Cost policy: the stack's monthly price (components/cost, from its price table) stays
// within the budget the policy config sets for the stack:
//   "budget-monthly": { "enforcementLevel": "mandatory", "monthlyUsd": 400 }
// Without monthlyUsd there is no budget to exceed.
import { StackValidationPolicy } from "@pulumi/policy";
import { biggestItems, estimateCost, formatUsd } from "../components/cost/estimate";
import { asProps, known } from "./util";

export interface BudgetConfig {
  monthlyUsd?: number;
}

/** The message for a stack over budget: the total, the budget and the items that cost most. */
export function budgetViolation(
  resources: { type: string; name: string; props: Record<string, unknown> }[],
  budget: BudgetConfig,
): string | undefined {
  if (budget.monthlyUsd === undefined) return undefined;
  const estimate = estimateCost(resources);
  if (estimate.totalUsd <= budget.monthlyUsd) return undefined;
  const biggest = biggestItems(estimate, 3)
    .map((i) => `${i.name} (${i.what}) ${formatUsd(i.monthlyUsd)}`)
    .join(", ");
  const unpriced =
    estimate.unpriced > 0 ? `; ${estimate.unpriced} item${estimate.unpriced === 1 ? "" : "s"} without a sourced price not counted` : "";
  return `the stack costs ${formatUsd(estimate.totalUsd)} a month, over its budget of ${formatUsd(budget.monthlyUsd)} (budget-monthly.monthlyUsd in the stack's policy config)${unpriced}. Biggest items: ${biggest}`;
}

export const budgetMonthly: StackValidationPolicy = {
  name: "budget-monthly",
  description:
    "The stack's monthly price (droplets, backups, volumes, databases, Spaces, reserved IPs, uptime checks) stays within budget-monthly.monthlyUsd of the stack's policy config.",
  configSchema: { properties: { monthlyUsd: { type: "number", minimum: 0 } } },
  validateStack: (args, reportViolation) => {
    const resources = args.resources.map((r) => ({ type: r.type, name: r.name, props: known(() => asProps(r.props)) ?? {} }));
    const message = budgetViolation(resources, args.getConfig<BudgetConfig>());
    if (message) reportViolation(message);
  },
};

export const costPolicies = [budgetMonthly];
