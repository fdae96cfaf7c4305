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
import { DROPLET_BACKUP_SHARE, DROPLET_PRICES, POSTGRES_NODE_PRICES, SPACES_SUBSCRIPTION } from "../../components/cost/prices";
import { renderCost } from "../../tools/check/cost";

const droplet = (size: string, backups = false): PricedResource => ({ type: DROPLET, name: "web", props: { size, backups } });

describe("estimateCost", () => {
  it("prices every droplet size from the table, with or without backups", () => {
    for (const [size, price] of Object.entries(DROPLET_PRICES)) {
      for (const backups of [false, true]) {
        const estimate = estimateCost([droplet(size, backups)]);
        const base = price.monthlyUsd as number;
        const expected = Math.round(base * (1 + (backups ? DROPLET_BACKUP_SHARE.share : 0)) * 100) / 100;
        assert.equal(estimate.totalUsd, expected, `${size} backups=${backups}`);
        assert.equal(estimate.items.length, backups ? 2 : 1);
        assert.equal(estimate.unpriced, 0);
      }
    }
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
    const volume = estimateCost([{ type: VOLUME, name: "data", props: { size: 100 } }]);
    assert.equal(volume.items[0].what, "100 GiB");
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

  it("reserved IPs are free when assigned and billed when not", () => {
    const ip: PricedResource = { type: RESERVED_IP, name: "ip", props: {} };
    assert.equal(estimateCost([ip, { type: RESERVED_IP_ASSIGNMENT, name: "a", props: {} }]).totalUsd, 0);
    assert.ok(estimateCost([ip]).totalUsd > 0);
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
    assert.equal(formatDelta(result.totalDeltaUsd), "+$4.80");
    assert.equal(formatDelta(compareCosts(estimateCost([droplet("s-2vcpu-4gb", true)]), estimateCost([])).totalDeltaUsd), "-$28.80");
  });
});

describe("the check's cost section", () => {
  it("prints each billable resource, the total and the change", () => {
    const before = estimateCost([droplet("s-2vcpu-4gb")]);
    const after = estimateCost([droplet("s-4vcpu-8gb"), { type: VOLUME, name: "data", props: { size: 20 } }]);
    const text = renderCost(after, { against: "Pulumi.base.yaml", result: compareCosts(before, after) });
    assert.match(text, /^ {4}web +s-4vcpu-8gb +\$48\.00$/m);
    assert.match(text, /^ {4}Total: \$48\.00\/month/m);
    assert.match(text, /web: s-2vcpu-4gb \$24\.00 → s-4vcpu-8gb \$48\.00 {2}\+\$24\.00/);
    assert.match(text, /Total change: \+\$24\.00\/month/);
  });
});
