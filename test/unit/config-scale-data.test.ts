// The config keys of the data tier scaling out adds, as the schema checks them: scale.valkey's
// size (a priced one) and nodes (a primary and one standby), and past one droplet the Valkey
// shape and eviction policy DigitalOcean takes; postgres.readReplicaSize against postgres.size,
// and the replicas' names against DigitalOcean's limit. One droplet and no replicas (the
// committed stacks) are held to none of the cross-checks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig, scaleDataProblems } from "../../components/config/schema";
import { POSTGRES_NODE_PRICES, VALKEY_NODE_PRICES } from "../../components/cost/prices";
import { REDIS_EVICTION_POLICIES } from "../../components/cache/render";
import { VALKEY_EVICTION_POLICIES } from "../../components/valkey/settings";
import { type MinimalConfig, minimalConfig, problemsAfter } from "../support/config";

/** Past one droplet: scale.droplets needs manageDns, so both are set. */
const scaledOut = (raw: MinimalConfig, droplets = 2) => {
  raw.manageDns = true;
  raw.scale = { ...(raw.scale as object), droplets };
};

const valkey = (raw: MinimalConfig, settings: Record<string, unknown>) => {
  const scale = (raw.scale ?? {}) as Record<string, unknown>;
  raw.scale = { ...scale, valkey: { ...(scale.valkey as object), ...settings } };
};

describe("scale.valkey.size", () => {
  const priced = Object.keys(VALKEY_NODE_PRICES).filter((size) => VALKEY_NODE_PRICES[size].monthlyUsd !== null);

  it("takes every size the Valkey price table prices, and defaults to one", () => {
    assert.ok(priced.length > 0);
    for (const size of priced)
      assert.deepEqual(
        problemsAfter((raw) => valkey(raw, { size, nodes: 1 })),
        [],
        size,
      );
    const parsed = parseStackConfig(minimalConfig(), "staging");
    assert.ok(parsed.ok);
    assert.ok(priced.includes(parsed.config.scale.valkey.size));
  });

  it("refuses any other, listing the priced ones, even database sizes PostgreSQL's table prices", () => {
    const others = [...Object.keys(POSTGRES_NODE_PRICES).filter((size) => !priced.includes(size)), "db-s-3vcpu-3gb", "", "DB-S-1VCPU-1GB"];
    for (const size of others)
      assert.deepEqual(
        problemsAfter((raw) => valkey(raw, { size })),
        [
          `dropstack:scale.valkey.size: expected a size the price table prices (${priced.join(", ")}), e.g. db-s-1vcpu-2gb, got ${JSON.stringify(size)}`,
        ],
        size,
      );
  });
});

describe("scale.valkey.nodes", () => {
  it("takes a primary alone or with one standby, and refuses more", () => {
    for (const nodes of [1, 2])
      assert.deepEqual(
        problemsAfter((raw) => valkey(raw, { nodes })),
        [],
        String(nodes),
      );
    for (const nodes of [0, 3, 1.5])
      assert.deepEqual(
        problemsAfter((raw) => valkey(raw, { nodes })),
        [`dropstack:scale.valkey.nodes: must be a whole number from 1 to 2, got ${nodes}`],
        String(nodes),
      );
  });

  it("defaults to a standby in production and none in staging", () => {
    const staging = parseStackConfig(minimalConfig(), "staging");
    assert.ok(staging.ok);
    assert.equal(staging.config.scale.valkey.nodes, 1);
  });
});

describe("past one droplet, the Valkey DigitalOcean takes", () => {
  it("refuses a standby on the 1 GB plan, and only when the droplets share Valkey", () => {
    const small = (raw: MinimalConfig) => valkey(raw, { size: "db-s-1vcpu-1gb", nodes: 2 });
    assert.deepEqual(problemsAfter(small), [], "one droplet runs its own Redis: the Valkey keys are not used");
    for (const droplets of [2, 5, 10]) {
      const found = problemsAfter((raw) => {
        scaledOut(raw, droplets);
        small(raw);
      });
      assert.equal(found.length, 1, String(droplets));
      assert.match(found[0], /^dropstack:scale\.valkey\.size: db-s-1vcpu-1gb cannot have a standby node: .*2 GB of RAM or more/);
    }
    for (const [size, nodes] of [
      ["db-s-1vcpu-1gb", 1],
      ["db-s-1vcpu-2gb", 2],
    ] as const)
      assert.deepEqual(
        problemsAfter((raw) => {
          scaledOut(raw);
          valkey(raw, { size, nodes });
        }),
        [],
        `${size} × ${nodes}`,
      );
  });

  it("refuses an LFU eviction policy Valkey does not take, and only when the droplets share Valkey", () => {
    for (const evictionPolicy of REDIS_EVICTION_POLICIES) {
      const policy = (raw: MinimalConfig) => void (raw.redis = { evictionPolicy });
      assert.deepEqual(problemsAfter(policy), [], `${evictionPolicy} on one droplet's Redis`);
      const found = problemsAfter((raw) => {
        scaledOut(raw);
        policy(raw);
      });
      if ((VALKEY_EVICTION_POLICIES as readonly string[]).includes(evictionPolicy)) assert.deepEqual(found, [], evictionPolicy);
      else
        assert.deepEqual(found, [
          `dropstack:redis.evictionPolicy: ${evictionPolicy} is not one DigitalOcean's managed Valkey takes (${VALKEY_EVICTION_POLICIES.join(", ")}); ${evictionPolicy.replace("lfu", "lru")} evicts from the same keys, least recently used first (scale.droplets > 1 runs managed Valkey)`,
        ]);
    }
  });
});

describe("postgres.readReplicaSize", () => {
  const sizes = Object.keys(POSTGRES_NODE_PRICES).filter((size) => POSTGRES_NODE_PRICES[size].monthlyUsd !== null);

  it("takes the cluster's size or a larger one, and any size without replicas", () => {
    for (const [i, size] of sizes.entries()) {
      for (const readReplicaSize of sizes.slice(i))
        assert.deepEqual(
          problemsAfter((raw) => void (raw.postgres = { size, readReplicas: 2, readReplicaSize })),
          [],
          `${size} → ${readReplicaSize}`,
        );
      for (const readReplicaSize of sizes)
        assert.deepEqual(
          problemsAfter((raw) => void (raw.postgres = { size, readReplicas: 0, readReplicaSize })),
          [],
          `no replicas: ${readReplicaSize}`,
        );
    }
  });

  it("refuses a smaller one with replicas, naming both sizes", () => {
    for (const [i, size] of sizes.entries()) {
      for (const readReplicaSize of sizes.slice(0, i)) {
        const found = problemsAfter((raw) => void (raw.postgres = { size, readReplicas: 1, readReplicaSize }));
        assert.equal(found.length, 1, `${size} → ${readReplicaSize}`);
        assert.match(
          found[0],
          new RegExp(
            `^dropstack:postgres\\.readReplicaSize: ${readReplicaSize} \\(\\d+ GB\\) is smaller than postgres\\.size ${size} \\(\\d+ GB\\)`,
          ),
        );
      }
    }
  });
});

describe("read replica names", () => {
  it("refuses replicas whose names would pass DigitalOcean's 63 characters, naming the longest", () => {
    // dropstack-<stack>-pg-replica-<n>: 63 characters at a 40-character stack with one digit of n.
    const fits = "s".repeat(40);
    const tooLong = "s".repeat(41);
    assert.deepEqual(
      problemsAfter((raw) => void (raw.postgres = { readReplicas: 5 }), fits),
      [],
    );
    assert.deepEqual(
      problemsAfter((raw) => void (raw.postgres = { readReplicas: 0 }), tooLong),
      [],
    );
    const found = problemsAfter((raw) => void (raw.postgres = { readReplicas: 5 }), tooLong);
    assert.deepEqual(found, [
      `dropstack:postgres.readReplicas: the read replica name dropstack-${tooLong}-pg-replica-5 would have 64 characters; DigitalOcean allows 63 (use a shorter project or stack name)`,
    ]);
  });

  it("counts the restored cluster's name when postgres.restore is set", () => {
    const config = {
      scale: { droplets: 1, valkey: { size: "db-s-1vcpu-2gb", nodes: 1 } },
      postgres: { size: "db-s-1vcpu-2gb", readReplicas: 3 },
      redis: { evictionPolicy: "noeviction" },
    };
    const restored = "acme-prod-pg-pitr-20261128t093000z";
    assert.deepEqual(scaleDataProblems(config, restored), []);
    const long = `${"a".repeat(30)}-pg-pitr-20261128t093000z`;
    assert.deepEqual(
      scaleDataProblems(config, long).map((p) => p.path),
      [["postgres", "readReplicas"]],
    );
  });
});
