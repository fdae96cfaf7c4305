// The check's cost section: every billable resource with its monthly price and the
// stack total, and with --compare what this config adds per month against another one.
import { spawnSync } from "node:child_process";
import {
  CostComparison,
  CostEstimate,
  PricedResource,
  compareCosts,
  estimateCost,
  formatDelta,
  formatUsd,
} from "../../components/cost/estimate";
import { PRICES_READ_ON } from "../../components/cost/prices";
import { PRELOAD } from "./analyzer";
import type { Registration } from "./harness";

export function costOf(registrations: Registration[]): CostEstimate {
  const resources: PricedResource[] = registrations.map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
  return estimateCost(resources);
}

const price = (usd: number | null) => (usd === null ? "unpriced" : formatUsd(usd));

export function renderCost(estimate: CostEstimate, comparison?: { against: string; result: CostComparison }): string {
  const rows = estimate.items.map((i) => [`    ${i.name}`, i.what, price(i.monthlyUsd)]);
  const widths = [0, 1].map((c) => Math.max(0, ...rows.map((r) => r[c].length)) + 2);
  const lines = [`Cost per month (DigitalOcean list prices read ${PRICES_READ_ON}, components/cost/prices.ts):`];
  for (const [name, what, usd] of rows) lines.push(name.padEnd(widths[0]) + what.padEnd(widths[1]) + usd.padStart(9));
  const unpriced =
    estimate.unpriced > 0
      ? ` (+ ${estimate.unpriced} unpriced item${estimate.unpriced === 1 ? "" : "s"} left out: no sourced price in the table)`
      : "";
  lines.push(`    Total: ${formatUsd(estimate.totalUsd)}/month${unpriced}`);
  // Say why each unpriced item has no price, so a total that leaves something out is never
  // read as the whole bill.
  for (const i of estimate.items.filter((item) => item.monthlyUsd === null)) lines.push(`    Unpriced ${i.name}: ${i.source}`);
  if (comparison) {
    lines.push("", `Cost change against ${comparison.against}:`);
    if (comparison.result.changes.length === 0) lines.push("    no billable change");
    for (const c of comparison.result.changes) {
      const from = c.before ? `${c.before.what} ${price(c.before.monthlyUsd)}` : "(absent)";
      const to = c.after ? `${c.after.what} ${price(c.after.monthlyUsd)}` : "(removed)";
      lines.push(`    ${c.name}: ${from} → ${to}  ${c.deltaUsd === null ? "unpriced" : formatDelta(c.deltaUsd)}`);
    }
    lines.push(`    Total change: ${formatDelta(comparison.result.totalDeltaUsd)}/month`);
  }
  return lines.join("\n");
}

export function costJson(estimate: CostEstimate, comparison?: { against: string; result: CostComparison }) {
  return {
    currency: "USD",
    pricesReadOn: PRICES_READ_ON,
    items: estimate.items,
    monthlyUsd: estimate.totalUsd,
    unpriced: estimate.unpriced,
    ...(comparison
      ? { compare: { against: comparison.against, changes: comparison.result.changes, monthlyDeltaUsd: comparison.result.totalDeltaUsd } }
      : {}),
  };
}

export class CompareError extends Error {}

/**
 * Prices another config of the same stack. Pulumi's runtime runs one program per
 * process, so the other config is checked by a second `check --json` process.
 */
export function estimateOtherConfig(checkScript: string, stack: string, stackFile: string): CostEstimate {
  // The same fast start as `npm run check` itself.
  const run = spawnSync(process.execPath, [...PRELOAD, checkScript, stack, "--config-file", stackFile, "--json"], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  let document: { cost?: { items: CostEstimate["items"]; monthlyUsd: number; unpriced: number } } | undefined;
  try {
    document = JSON.parse(run.stdout);
  } catch {
    document = undefined;
  }
  if (!document?.cost) {
    throw new CompareError(
      `--compare ${stackFile}: its check did not finish (exit ${run.status}): ${run.stderr.trim().split("\n").slice(-3).join(" ")}`,
    );
  }
  return { items: document.cost.items, totalUsd: document.cost.monthlyUsd, unpriced: document.cost.unpriced };
}

export { compareCosts };
