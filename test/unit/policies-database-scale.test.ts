// The database policies on what scaling out adds. The managed Valkey cluster (a
// DatabaseCluster with engine "valkey"): the rules about PostgreSQL's data and versions leave
// it alone, the rules every cluster follows (VPC, maintenance window, standby, firewall) still
// hold it, and a PostgreSQL cluster, or one that names no engine, is held to every rule as
// before. Read replicas: each needs a firewall of its own.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as digitalocean from "@pulumi/digitalocean";
import {
  databaseClusterHasFirewall,
  databaseClusterHighlyAvailable,
  databaseClusterMaintenanceWindow,
  databaseClusterPrivateNetwork,
  databaseClusterProtected,
  databaseClusterSupportedVersion,
} from "../../policies/database";
import { goodCluster } from "../support/database-cluster";
import { resourceViolations, stackViolations, typeOf } from "../support/policy";

const CLUSTER = typeOf(digitalocean.DatabaseCluster);
const FIREWALL = typeOf(digitalocean.DatabaseFirewall);
const REPLICA = typeOf(digitalocean.DatabaseReplica);

const valkey = { ...goodCluster, engine: "valkey", version: "8", size: "db-s-1vcpu-2gb" };

describe("database policies on the Valkey cluster", () => {
  it("want it protected, as PostgreSQL's (a broker's queued jobs live there), but not PostgreSQL's versions", async () => {
    for (const version of ["7", "8", "9"]) {
      const props = { ...valkey, version };
      assert.equal((await resourceViolations(databaseClusterProtected, { type: CLUSTER, props })).length, 1, version);
      assert.deepEqual(await resourceViolations(databaseClusterProtected, { type: CLUSTER, props, protect: true }), []);
      assert.deepEqual(await resourceViolations(databaseClusterSupportedVersion, { type: CLUSTER, props }), []);
    }
  });

  it("still hold a PostgreSQL cluster, or one without an engine, to protection and version", async () => {
    for (const engine of ["pg", undefined]) {
      const props = { ...valkey, engine, version: "8" };
      assert.equal((await resourceViolations(databaseClusterProtected, { type: CLUSTER, props })).length, 1, String(engine));
      assert.equal((await resourceViolations(databaseClusterSupportedVersion, { type: CLUSTER, props })).length, 1, String(engine));
    }
  });

  it("want a standby, naming scale.valkey.nodes", async () => {
    const found = await resourceViolations(databaseClusterHighlyAvailable, { type: CLUSTER, props: { ...valkey, nodeCount: 1 } });
    assert.equal(found.length, 1);
    assert.match(found[0], /dropstack:scale\.valkey\.nodes/);
    assert.deepEqual(await resourceViolations(databaseClusterHighlyAvailable, { type: CLUSTER, props: valkey }), []);
  });

  it("want it in the VPC with a maintenance window", async () => {
    assert.equal(
      (await resourceViolations(databaseClusterPrivateNetwork, { type: CLUSTER, props: { ...valkey, privateNetworkUuid: undefined } }))
        .length,
      1,
    );
    assert.equal(
      (await resourceViolations(databaseClusterMaintenanceWindow, { type: CLUSTER, props: { ...valkey, maintenanceWindows: [] } })).length,
      1,
    );
    assert.deepEqual(await resourceViolations(databaseClusterPrivateNetwork, { type: CLUSTER, props: valkey }), []);
    assert.deepEqual(await resourceViolations(databaseClusterMaintenanceWindow, { type: CLUSTER, props: valkey }), []);
  });

  it("want a firewall on it", async () => {
    const cluster = { type: CLUSTER, name: "valkey", props: valkey };
    const found = await stackViolations(databaseClusterHasFirewall, [cluster]);
    assert.match(found[0], /database cluster valkey has no DatabaseFirewall/);
    assert.deepEqual(
      await stackViolations(databaseClusterHasFirewall, [
        cluster,
        { type: FIREWALL, name: "fw", props: { clusterId: "1", rules: [{ type: "tag", value: "app" }] }, dependsOn: ["valkey"] },
      ]),
      [],
    );
  });
});

describe("policy database-cluster-has-firewall on read replicas", () => {
  const cluster = { type: CLUSTER, name: "pg", props: goodCluster, protect: true };
  const clusterFirewall = { type: FIREWALL, name: "pg-fw", props: { clusterId: "1", rules: [] }, dependsOn: ["pg"] };
  const replicas = ["pg-replica-1", "pg-replica-2", "pg-replica-3"].map((name) => ({
    type: REPLICA,
    name,
    props: { clusterId: "1", name, size: "db-s-2vcpu-4gb", region: "fra1" },
    dependsOn: ["pg"],
  }));
  const firewallOf = (replica: string) => ({
    type: FIREWALL,
    name: `${replica}-firewall`,
    props: { clusterId: `uuid-${replica}`, rules: [{ type: "tag", value: "app" }] },
    dependsOn: [replica],
  });

  it("flags each replica no firewall points at, even when the cluster's own firewall exists", async () => {
    for (let guarded = 0; guarded <= replicas.length; guarded++) {
      const found = await stackViolations(databaseClusterHasFirewall, [
        cluster,
        clusterFirewall,
        ...replicas,
        ...replicas.slice(0, guarded).map((r) => firewallOf(r.name)),
      ]);
      assert.deepEqual(
        found,
        replicas
          .slice(guarded)
          .map(
            (r) =>
              `read replica ${r.name} has no DatabaseFirewall whose clusterId is this replica's uuid: add one admitting only the droplet tag`,
          ),
        `${guarded} of ${replicas.length} guarded`,
      );
    }
  });
});
