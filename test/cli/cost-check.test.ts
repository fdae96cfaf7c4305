// The check's cost section on the committed stacks, end to end (`npm run check -- <stack>
// --json`, and `--compare` against a stack file with other sizes): every billable resource
// both stacks declare is priced, and a size change shows what it adds per month.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CostItem } from "../../components/cost/estimate";
import { DROPLET_PRICES, POSTGRES_NODE_PRICES, UNBILLED } from "../../components/cost/prices";
import { runCheck, writeStackVariant } from "../support/check";

interface CostDocument {
  items: CostItem[];
  monthlyUsd: number;
  unpriced: number;
  compare?: {
    against: string;
    changes: { name: string; before?: CostItem; after?: CostItem; deltaUsd: number | null }[];
    monthlyDeltaUsd: number;
  };
}

function cost(stack: string, options: Parameters<typeof runCheck>[1] = {}): { cost: CostDocument; types: string[] } {
  const report = runCheck(stack, options);
  assert.equal(report.status, 0, report.stderr);
  const document = report.json as unknown as { cost: CostDocument; resources: { type: string }[] };
  return { cost: document.cost, types: document.resources.map((r) => r.type) };
}

const price = (table: Readonly<Record<string, { monthlyUsd: number | null }>>, slug: string) => table[slug].monthlyUsd as number;

describe("the check prices both committed stacks", () => {
  for (const stack of ["staging", "production"]) {
    it(`${stack}: every DigitalOcean resource is priced or known to cost nothing, and nothing is left unpriced`, () => {
      const { cost: document, types } = cost(stack);
      assert.equal(document.unpriced, 0, JSON.stringify(document.items.filter((i) => i.monthlyUsd === null)));
      const priced = new Set(document.items.map((i) => i.type));
      for (const type of new Set(types.filter((t) => t.startsWith("digitalocean:")))) {
        assert.ok(priced.has(type) || Object.hasOwn(UNBILLED, type), `${type} is neither priced nor in UNBILLED`);
      }
      for (const type of ["droplet:Droplet", "volume:Volume", "databaseCluster:DatabaseCluster", "uptimeCheck:UptimeCheck"]) {
        assert.ok(priced.has(`digitalocean:index/${type}`), `${stack} prices its ${type}`);
      }
      const sum = Math.round(document.items.reduce((total, i) => total + (i.monthlyUsd as number), 0) * 100) / 100;
      assert.equal(document.monthlyUsd, sum);
      assert.ok(document.monthlyUsd > 0);
    });
  }
});

describe("--compare", () => {
  it("shows what a droplet and database size change adds per month, item by item", () => {
    // The committed staging sizes are the base; the variant is the change under review.
    const variant = writeStackVariant("staging", (config) => {
      config["dropstack:droplet"] = { ...(config["dropstack:droplet"] as object), size: "s-4vcpu-8gb" };
      config["dropstack:postgres"] = { ...(config["dropstack:postgres"] as object), size: "db-s-2vcpu-4gb", nodes: 2 };
    });
    const { cost: document } = cost("staging", { configFile: variant, extraArgs: ["--compare", "Pulumi.staging.yaml"] });
    const compare = document.compare;
    assert.ok(compare, "the --json document has cost.compare");
    assert.equal(compare.against, "Pulumi.staging.yaml");
    const delta = (suffix: string) => compare.changes.find((c) => c.name.endsWith(suffix))?.deltaUsd;
    assert.equal(delta("-droplet"), price(DROPLET_PRICES, "s-4vcpu-8gb") - price(DROPLET_PRICES, "s-2vcpu-4gb"));
    assert.equal(delta("-pg"), 2 * price(POSTGRES_NODE_PRICES, "db-s-2vcpu-4gb") - price(POSTGRES_NODE_PRICES, "db-s-1vcpu-2gb"));
    assert.equal(compare.changes.length, 2, JSON.stringify(compare.changes));
    assert.equal(compare.monthlyDeltaUsd, (delta("-droplet") as number) + (delta("-pg") as number));
  });
});
