// What scaling out adds to the bill, priced from the registrations as the check and the budget
// policy see them: the load balancer per node, managed Valkey per node, PostgreSQL read
// replicas at the node price of their size, and N droplets with N volumes. The new price
// tables follow the table's rules: a dated public source for every figure.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DATABASE_CLUSTER,
  DATABASE_REPLICA,
  DROPLET,
  LOAD_BALANCER,
  PricedResource,
  VOLUME,
  estimateCost,
} from "../../components/cost/estimate";
import {
  DROPLET_PRICES,
  LOAD_BALANCER_NODE_PRICES,
  POSTGRES_NODE_PRICES,
  PRICES_READ_ON,
  Price,
  READ_REPLICA_BILLING,
  UNBILLED,
  VALKEY_NODE_PRICES,
  VOLUME_PER_GB,
} from "../../components/cost/prices";

const usd = (price: Price) => price.monthlyUsd as number;
const cents = (n: number) => Math.round(n * 100) / 100;

describe("the scale-out price tables", () => {
  it("give every figure a public source stating the date it is dated", () => {
    const all: [string, Price | typeof READ_REPLICA_BILLING][] = [
      ...Object.entries(VALKEY_NODE_PRICES),
      ...Object.entries(LOAD_BALANCER_NODE_PRICES),
      ["read replica billing", READ_REPLICA_BILLING],
    ];
    for (const [name, price] of all) {
      if ("monthlyUsd" in price) assert.ok(price.monthlyUsd !== null && price.monthlyUsd > 0, name);
      assert.match(price.source, /^https:\/\/docs\.digitalocean\.com\/\S+ \(last edited \d{4}-\d{2}-\d{2}: ".+"/, name);
      assert.ok(price.asOf && price.asOf <= PRICES_READ_ON, name);
      assert.ok(price.source.includes(price.asOf), `${name} states its date`);
    }
  });

  it("price Valkey nodes by size, the larger plan at least the smaller", () => {
    const prices = Object.values(VALKEY_NODE_PRICES).map(usd);
    assert.deepEqual(
      prices,
      [...prices].sort((a, b) => a - b),
    );
  });
});

describe("the load balancer", () => {
  const lb = (props: Record<string, unknown>): PricedResource => ({ type: LOAD_BALANCER, name: "lb", props });

  it("costs the per-node price of its type times sizeUnit, a regional one unless its type says otherwise", () => {
    for (const sizeUnit of [1, 2, 3, 10, 100]) {
      for (const [type, price] of [
        [undefined, LOAD_BALANCER_NODE_PRICES.REGIONAL],
        ["REGIONAL", LOAD_BALANCER_NODE_PRICES.REGIONAL],
        ["REGIONAL_NETWORK", LOAD_BALANCER_NODE_PRICES.REGIONAL_NETWORK],
      ] as const) {
        const estimate = estimateCost([lb({ sizeUnit, ...(type ? { type } : {}) })]);
        assert.equal(estimate.totalUsd, cents(usd(price) * sizeUnit), `${type} × ${sizeUnit}`);
        assert.equal(estimate.unpriced, 0);
        assert.equal(
          estimate.items[0].what,
          `${(type ?? "REGIONAL").toLowerCase()} load balancer × ${sizeUnit} node${sizeUnit === 1 ? "" : "s"}`,
        );
        assert.equal(estimate.items[0].source, price.source);
      }
    }
    assert.equal(usd(LOAD_BALANCER_NODE_PRICES.REGIONAL), 12);
  });

  it("is unpriced when global (priced by traffic), sized the legacy way, or of no stated size", () => {
    for (const props of [{ sizeUnit: 1, type: "GLOBAL" }, { size: "lb-small" }, {}, { sizeUnit: 0 }, { sizeUnit: 1.5 }]) {
      const estimate = estimateCost([lb(props)]);
      assert.equal(estimate.unpriced, 1, JSON.stringify(props));
      assert.equal(estimate.totalUsd, 0);
      assert.match(estimate.items[0].source, /not in the price table/);
    }
  });
});

describe("database clusters by engine", () => {
  const cluster = (props: Record<string, unknown>): PricedResource => ({ type: DATABASE_CLUSTER, name: "c", props });

  it("prices a Valkey cluster from the Valkey table, per node", () => {
    for (const [size, price] of Object.entries(VALKEY_NODE_PRICES)) {
      for (const nodeCount of [1, 2]) {
        const estimate = estimateCost([cluster({ engine: "valkey", size, nodeCount })]);
        assert.equal(estimate.totalUsd, cents(usd(price) * nodeCount), `${size} × ${nodeCount}`);
        assert.equal(estimate.items[0].what, `valkey ${size} × ${nodeCount} node${nodeCount === 1 ? "" : "s"}`);
        assert.equal(estimate.items[0].source, price.source);
      }
    }
  });

  it("leaves a Valkey size the table does not price, and an engine it does not know, unpriced", () => {
    for (const props of [
      { engine: "valkey", size: "db-s-2vcpu-4gb", nodeCount: 2 },
      { engine: "mysql", size: "db-s-1vcpu-2gb", nodeCount: 1 },
      { engine: "redis", size: "db-s-1vcpu-1gb", nodeCount: 1 },
    ]) {
      const estimate = estimateCost([cluster(props)]);
      assert.equal(estimate.unpriced, 1, JSON.stringify(props));
      assert.match(estimate.items[0].source, /not in the price table/);
    }
  });

  it("prices a PostgreSQL cluster the same whether it names its engine or not", () => {
    for (const size of Object.keys(POSTGRES_NODE_PRICES)) {
      const named = estimateCost([cluster({ engine: "pg", size, nodeCount: 2 })]);
      const unnamed = estimateCost([cluster({ size, nodeCount: 2 })]);
      assert.deepEqual(named, unnamed, size);
    }
  });

  it("counts the Valkey configuration as part of its cluster", () => {
    assert.ok(Object.hasOwn(UNBILLED, "digitalocean:index/databaseValkeyConfig:DatabaseValkeyConfig"));
  });

  it("counts the load balancer's Let's Encrypt certificate as free, citing the load balancer pricing page", () => {
    const why = UNBILLED["digitalocean:index/certificate:Certificate"];
    assert.match(
      why,
      /^no charge: .*Let's Encrypt.*https:\/\/docs\.digitalocean\.com\/products\/networking\/load-balancers\/details\/pricing\//,
    );
    assert.deepEqual(
      estimateCost([{ type: "digitalocean:index/certificate:Certificate", name: "cert", props: { type: "lets_encrypt" } }]).items,
      [],
    );
  });
});

describe("read replicas", () => {
  it("cost the node price of their size each, citing the node price and why a replica costs it", () => {
    for (const [size, price] of Object.entries(POSTGRES_NODE_PRICES)) {
      for (const count of [1, 2, 5]) {
        const replicas = Array.from({ length: count }, (_, i): PricedResource => ({
          type: DATABASE_REPLICA,
          name: `pg-replica-${i + 1}`,
          props: { size, region: "fra1" },
        }));
        const estimate = estimateCost(replicas);
        assert.equal(estimate.items.length, count);
        if (price.monthlyUsd === null) {
          assert.equal(estimate.unpriced, count, size);
          assert.equal(estimate.items[0].source, price.source);
        } else {
          assert.equal(estimate.totalUsd, cents(price.monthlyUsd * count), `${size} × ${count}`);
          assert.equal(estimate.items[0].what, `${size} read replica`);
          assert.equal(estimate.items[0].source, `${price.source}; ${READ_REPLICA_BILLING.source}`);
        }
      }
    }
  });
});

describe("N droplets and N volumes", () => {
  it("add up to N times one droplet with its volume, each an item of its own", () => {
    for (const size of ["s-1vcpu-1gb", "s-2vcpu-4gb", "s-4vcpu-8gb"]) {
      for (const droplets of [1, 2, 3, 10]) {
        const resources = Array.from({ length: droplets }, (_, i): PricedResource[] => [
          { type: DROPLET, name: `web-${i + 1}-droplet`, props: { size, backups: false } },
          { type: VOLUME, name: `web-${i + 1}-data`, props: { size: 20 } },
        ]).flat();
        const estimate = estimateCost(resources);
        assert.equal(estimate.items.length, 2 * droplets);
        assert.equal(estimate.unpriced, 0);
        assert.equal(estimate.totalUsd, cents(droplets * (usd(DROPLET_PRICES[size]) + 20 * usd(VOLUME_PER_GB))), `${size} × ${droplets}`);
      }
    }
  });

  it("price a whole scaled-out stack: droplets, volumes, load balancer, Valkey, cluster and replicas", () => {
    const estimate = estimateCost([
      ...[1, 2, 3].flatMap((n): PricedResource[] => [
        { type: DROPLET, name: `d${n}`, props: { size: "s-2vcpu-4gb" } },
        { type: VOLUME, name: `v${n}`, props: { size: 20 } },
      ]),
      { type: LOAD_BALANCER, name: "lb", props: { sizeUnit: 2 } },
      { type: DATABASE_CLUSTER, name: "valkey", props: { engine: "valkey", size: "db-s-1vcpu-2gb", nodeCount: 2 } },
      { type: DATABASE_CLUSTER, name: "pg", props: { engine: "pg", size: "db-s-2vcpu-4gb", nodeCount: 2 } },
      { type: DATABASE_REPLICA, name: "pg-replica-1", props: { size: "db-s-2vcpu-4gb" } },
      { type: DATABASE_REPLICA, name: "pg-replica-2", props: { size: "db-s-4vcpu-8gb" } },
    ]);
    assert.equal(estimate.unpriced, 0);
    assert.equal(
      estimate.totalUsd,
      cents(
        3 * (usd(DROPLET_PRICES["s-2vcpu-4gb"]) + 20 * usd(VOLUME_PER_GB)) +
          2 * usd(LOAD_BALANCER_NODE_PRICES.REGIONAL) +
          2 * usd(VALKEY_NODE_PRICES["db-s-1vcpu-2gb"]) +
          3 * usd(POSTGRES_NODE_PRICES["db-s-2vcpu-4gb"]) +
          usd(POSTGRES_NODE_PRICES["db-s-4vcpu-8gb"]),
      ),
    );
  });
});
