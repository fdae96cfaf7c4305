// Staging keeps backups on the droplet volume only (backups.offsite: false) and runs a
// single-node database: no Spaces resources at all, the cluster still guarded.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Graph } from "../../tools/check/harness";
import { runStack } from "../support/program";

describe("staging (mocks)", () => {
  let graph: Graph;
  let outputs: Record<string, unknown>;
  before(async () => {
    ({ graph, outputs } = await runStack({ stack: "staging" }));
  });

  it("creates no bucket and no Spaces key when backups.offsite is false", () => {
    assert.deepEqual(graph.ofType("digitalocean:index/spacesBucket:SpacesBucket"), []);
    assert.deepEqual(graph.ofType("digitalocean:index/spacesKey:SpacesKey"), []);
    assert.equal(outputs.backupsBucket, null, "explicitly absent, not an undefined export the runtime warns about");
    assert.equal(outputs.backupsEndpoint, null, "explicitly absent, not an undefined export the runtime warns about");
  });

  it("still runs a protected, firewalled, one-node cluster with the default maintenance window", () => {
    const cluster = graph.one("digitalocean:index/databaseCluster:DatabaseCluster");
    assert.equal(cluster.protect, true);
    assert.equal(cluster.inputs.nodeCount, 1);
    assert.deepEqual(cluster.inputs.maintenanceWindows, [{ day: "sunday", hour: "03:00:00" }]);
    assert.equal(graph.one("digitalocean:index/databaseConnectionPool:DatabaseConnectionPool").inputs.size, 35, "db-s-1vcpu-2gb");
    assert.deepEqual(graph.one("digitalocean:index/databaseFirewall:DatabaseFirewall").inputs.rules, [
      { type: "tag", value: "dropstack-staging-app" },
      { type: "ip_addr", value: "198.51.100.0/24" },
    ]);
  });
});
