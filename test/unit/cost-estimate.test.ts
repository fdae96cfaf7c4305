import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DATABASE_CLUSTER,
  DROPLET,
  PricedResource,
  RESERVED_IP,
  RESERVED_IP_ASSIGNMENT,
  SPACES_BUCKET,
  UPTIME_CHECK_TYPE,
  VOLUME,
  biggestItems,
  compareCosts,
  estimateCost,
  formatDelta,
} from "../../components/cost/estimate";
import {
  DROPLET_BACKUP_SHARES,
  DROPLET_PRICES,
  POSTGRES_NODE_PRICES,
  SPACES_SUBSCRIPTION,
  UNBILLED,
  VOLUME_PER_GB,
} from "../../components/cost/prices";
import { renderCost } from "../../tools/check/cost";

const droplet = (size: string, backups = false, backupPolicy?: { plan: string }): PricedResource => ({
  type: DROPLET,
  name: "web",
  props: { size, backups, ...(backupPolicy ? { backupPolicy } : {}) },
});

describe("estimateCost", () => {
  it("prices every droplet size from the table, with or without backups of each plan", () => {
    // No backupPolicy means DigitalOcean's default plan (daily), as the provider documents.
    const policies: [{ plan: string } | undefined, string][] = [
      [undefined, DROPLET_BACKUP_SHARES.defaultPlan],
      ...Object.keys(DROPLET_BACKUP_SHARES.shares).map((plan): [{ plan: string }, string] => [{ plan }, plan]),
    ];
    for (const [size, price] of Object.entries(DROPLET_PRICES)) {
      const base = price.monthlyUsd as number;
      assert.equal(estimateCost([droplet(size)]).totalUsd, base, size);
      assert.equal(estimateCost([droplet(size)]).items.length, 1);
      for (const [policy, plan] of policies) {
        const estimate = estimateCost([droplet(size, true, policy)]);
        const expected = Math.round(base * (1 + DROPLET_BACKUP_SHARES.shares[plan]) * 100) / 100;
        assert.equal(estimate.totalUsd, expected, `${size} backups ${plan}`);
        assert.equal(estimate.items.length, 2);
        assert.match(estimate.items[1].what, new RegExp(`^${plan} backups, `));
        assert.equal(estimate.unpriced, 0);
      }
    }
    assert.ok(DROPLET_BACKUP_SHARES.shares.daily > DROPLET_BACKUP_SHARES.shares.weekly, "daily backups cost more than weekly");
  });

  it("leaves a backup plan the table does not price unpriced", () => {
    const estimate = estimateCost([droplet("s-2vcpu-4gb", true, { plan: "every-4-hours" })]);
    assert.equal(estimate.totalUsd, 24);
    assert.equal(estimate.unpriced, 1);
    assert.match(estimate.items[1].source, /not in the price table.*backup plan every-4-hours/);
  });

  it("leaves a size outside the table unpriced instead of guessing", () => {
    const estimate = estimateCost([droplet("s-3vcpu-1gb", true)]);
    assert.equal(estimate.totalUsd, 0);
    assert.equal(estimate.unpriced, 2);
    assert.match(estimate.items[0].source, /not in the price table/);
  });

  it("counts database nodes and volume sizes, and lists the unsourced ones as unpriced", () => {
    for (const nodeCount of [1, 2, 3]) {
      const estimate = estimateCost([{ type: DATABASE_CLUSTER, name: "pg", props: { size: "db-s-2vcpu-4gb", nodeCount } }]);
      assert.equal(estimate.items[0].what, `db-s-2vcpu-4gb × ${nodeCount} node${nodeCount === 1 ? "" : "s"}`);
      const perNode = POSTGRES_NODE_PRICES["db-s-2vcpu-4gb"].monthlyUsd;
      assert.equal(estimate.items[0].monthlyUsd, perNode === null ? null : perNode * nodeCount);
    }
    for (const size of [1, 20, 100, 16384]) {
      const volume = estimateCost([{ type: VOLUME, name: "data", props: { size } }]);
      assert.equal(volume.items[0].what, `${size} GiB`);
      assert.equal(volume.items[0].monthlyUsd, Math.round(size * (VOLUME_PER_GB.monthlyUsd as number) * 100) / 100);
    }
  });

  it("charges one Spaces subscription however many buckets, and nothing for resources that are free", () => {
    const buckets = [1, 2, 3].map((i): PricedResource => ({ type: SPACES_BUCKET, name: `b${i}`, props: {} }));
    const free: PricedResource[] = [
      { type: "digitalocean:index/vpc:Vpc", name: "vpc", props: {} },
      { type: "digitalocean:index/firewall:Firewall", name: "fw", props: {} },
      { type: "dropstack:index:Host", name: "host", props: {} },
    ];
    const estimate = estimateCost([...buckets, ...free]);
    assert.equal(estimate.totalUsd, SPACES_SUBSCRIPTION.monthlyUsd);
    assert.equal(estimate.items.length, 3);
  });

  it("reserved IPs are free when assigned, and not taken for free when not", () => {
    const ip: PricedResource = { type: RESERVED_IP, name: "ip", props: {} };
    const assigned = estimateCost([ip, { type: RESERVED_IP_ASSIGNMENT, name: "a", props: {} }]);
    assert.equal(assigned.totalUsd, 0);
    assert.equal(assigned.unpriced, 0);
    // DigitalOcean bills an unassigned reserved IP; with no sourced figure it is unpriced, not $0.
    const unassigned = estimateCost([ip]);
    assert.equal(unassigned.items[0].monthlyUsd, null);
    assert.equal(unassigned.unpriced, 1);
  });

  it("lists a DigitalOcean resource the table neither prices nor knows to be free as unpriced", () => {
    const types = ["digitalocean:index/loadBalancer:LoadBalancer", "digitalocean:index/databaseReplica:DatabaseReplica"];
    for (const type of types) {
      const estimate = estimateCost([{ type, name: "x", props: {} }]);
      assert.equal(estimate.unpriced, 1, type);
      assert.match(estimate.items[0].source, /not in the price table/);
    }
    const free = estimateCost(Object.keys(UNBILLED).map((type, i) => ({ type, name: `r${i}`, props: {} })));
    assert.deepEqual(free.items, []);
  });

  it("lists the biggest priced items first", () => {
    const estimate = estimateCost([
      droplet("s-1vcpu-1gb"),
      { ...droplet("s-4vcpu-8gb", true), name: "big" },
      { type: UPTIME_CHECK_TYPE, name: "up", props: {} },
    ]);
    assert.deepEqual(
      biggestItems(estimate, 3).map((i) => i.name),
      ["big", "big backups", "web"],
    );
  });
});

describe("compareCosts", () => {
  it("shows what a size change adds or saves per month", () => {
    const sizes = Object.keys(DROPLET_PRICES);
    for (const from of sizes) {
      for (const to of sizes) {
        const result = compareCosts(estimateCost([droplet(from)]), estimateCost([droplet(to)]));
        const delta = (DROPLET_PRICES[to].monthlyUsd as number) - (DROPLET_PRICES[from].monthlyUsd as number);
        assert.equal(result.totalDeltaUsd, delta);
        assert.equal(result.changes.length, from === to ? 0 : 1, `${from} → ${to}`);
      }
    }
  });

  it("reports added and removed items", () => {
    const result = compareCosts(estimateCost([droplet("s-2vcpu-4gb")]), estimateCost([droplet("s-2vcpu-4gb", true)]));
    assert.equal(result.changes.length, 1);
    assert.equal(result.changes[0].name, "web backups");
    assert.equal(result.changes[0].before, undefined);
    // Daily backups (the default plan) add 30% of $24.
    assert.equal(formatDelta(result.totalDeltaUsd), "+$7.20");
    assert.equal(formatDelta(compareCosts(estimateCost([droplet("s-2vcpu-4gb", true)]), estimateCost([])).totalDeltaUsd), "-$31.20");
  });
});

describe("the check's cost section", () => {
  it("prints each billable resource, the total and the change", () => {
    const before = estimateCost([droplet("s-2vcpu-4gb")]);
    const after = estimateCost([droplet("s-4vcpu-8gb"), { type: VOLUME, name: "data", props: { size: 20 } }]);
    const text = renderCost(after, { against: "Pulumi.base.yaml", result: compareCosts(before, after) });
    assert.match(text, /^ {4}web +s-4vcpu-8gb +\$48\.00$/m);
    assert.match(text, /^ {4}data +20 GiB +\$2\.00$/m);
    assert.match(text, /^ {4}Total: \$50\.00\/month$/m);
    assert.match(text, /web: s-2vcpu-4gb \$24\.00 → s-4vcpu-8gb \$48\.00 {2}\+\$24\.00/);
    assert.match(text, /data: \(absent\) → 20 GiB \$2\.00 {2}\+\$2\.00/);
    assert.match(text, /Total change: \+\$26\.00\/month/);
  });

  it("says why each unpriced item is left out of the total", () => {
    const estimate = estimateCost([
      droplet("s-2vcpu-4gb"),
      { type: DATABASE_CLUSTER, name: "pg", props: { size: "db-s-8vcpu-32gb", nodeCount: 2 } },
    ]);
    const text = renderCost(estimate);
    assert.match(text, /^ {4}pg +db-s-8vcpu-32gb × 2 nodes +unpriced$/m);
    assert.match(text, /^ {4}Total: \$24\.00\/month \(\+ 1 unpriced item left out: no sourced price in the table\)$/m);
    assert.match(
      text,
      /^ {4}Unpriced pg: unsourced: no dated public page with the price of the 8 vCPU \/ 32 GiB PostgreSQL node was found$/m,
    );
    assert.doesNotMatch(renderCost(estimateCost([droplet("s-2vcpu-4gb")])), /Unpriced/);
  });
});
