// The pure rules for read replicas: their names, and the size DigitalOcean takes for them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readReplicaName, readReplicaSizeProblem } from "../../components/database/settings";
import { POSTGRES_NODE_PRICES } from "../../components/cost/prices";

const SIZES = Object.keys(POSTGRES_NODE_PRICES);

describe("read replica names", () => {
  it("number the replicas of a cluster from 1, after its name", () => {
    for (const cluster of ["dropstack-production-pg", "acme-staging-pg-pitr-20261128t093000z"]) {
      const names = [1, 2, 3, 4, 5].map((n) => readReplicaName(cluster, n));
      assert.deepEqual(
        names,
        [1, 2, 3, 4, 5].map((n) => `${cluster}-replica-${n}`),
      );
    }
  });
});

describe("read replica sizes", () => {
  it("take the cluster's size and every larger one the price table lists", () => {
    for (const [i, primary] of SIZES.entries()) {
      for (const replica of SIZES.slice(i)) assert.equal(readReplicaSizeProblem(primary, replica), undefined, `${primary} → ${replica}`);
    }
  });

  it("refuse every smaller one, naming both sizes and their RAM", () => {
    for (const [i, primary] of SIZES.entries()) {
      for (const replica of SIZES.slice(0, i)) {
        const problem = readReplicaSizeProblem(primary, replica);
        assert.match(
          problem ?? "",
          new RegExp(`^${replica} \\(\\d+ GB\\) is smaller than postgres\\.size ${primary} \\(\\d+ GB\\): DigitalOcean's read replicas`),
          `${primary} → ${replica}`,
        );
      }
    }
  });

  it("leave sizes whose RAM the slug does not state to DigitalOcean", () => {
    assert.equal(readReplicaSizeProblem("db-s-2vcpu-4gb", "db-custom"), undefined);
    assert.equal(readReplicaSizeProblem("db-custom", "db-s-1vcpu-1gb"), undefined);
  });
});
