// Database policies at their edges: the full messages users read (the version they set, or
// "unset"), maintenance windows missing a day or an hour (every combination of the two), an
// address rule without a value, and stacks of several clusters, firewalls and other resources
// that depend on a cluster without guarding it. Beside PostgreSQL, managed Valkey (scale-out) is
// a DatabaseCluster too: the PostgreSQL version rule leaves it alone, and the standby rule
// names the key that sets its nodes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as digitalocean from "@pulumi/digitalocean";
import {
  databaseClusterHasFirewall,
  databaseClusterHighlyAvailable,
  databaseClusterMaintenanceWindow,
  databaseClusterPrivateNetwork,
  databaseClusterSupportedVersion,
  databaseFirewallNoPublicSources,
} from "../../policies/database";
import { goodCluster } from "../support/database-cluster";
import { FakeResource, resourceViolations, stackViolations, typeOf } from "../support/policy";

const CLUSTER = typeOf(digitalocean.DatabaseCluster);
const FIREWALL = typeOf(digitalocean.DatabaseFirewall);

const cluster = (props: Record<string, unknown>) => ({ type: CLUSTER, name: "pg", props: { ...goodCluster, ...props } });

describe("database-cluster-supported-version messages", () => {
  it("quotes the version the stack set, or says it is unset", async () => {
    for (const [version, shown] of [
      ["12", "12"],
      ["14.9", "14.9"],
      ["latest", "latest"],
      ["", ""],
      [undefined, "unset"],
    ] as const) {
      assert.deepEqual(
        await resourceViolations(databaseClusterSupportedVersion, cluster({ version })),
        [`PostgreSQL version "${shown}" is not supported: set dropstack:postgres.version to "15" or newer (e.g. "16")`],
        String(version),
      );
    }
  });
});

describe("database policies on a managed Valkey cluster", () => {
  it("judge Valkey's versions by no PostgreSQL rule, while a PostgreSQL cluster of the same version is refused", async () => {
    for (const version of ["7", "8", "9"]) {
      assert.deepEqual(await resourceViolations(databaseClusterSupportedVersion, cluster({ engine: "valkey", version })), [], version);
      assert.equal((await resourceViolations(databaseClusterSupportedVersion, cluster({ engine: "pg", version }))).length, 1, version);
    }
  });

  it("name the key that sets each engine's nodes when a cluster has no standby", async () => {
    // DigitalOcean gives Valkey one standby at most.
    for (const [engine, key, withStandby] of [
      ["pg", "dropstack:postgres.nodes", "2 or 3"],
      ["valkey", "dropstack:scale.valkey.nodes", "2"],
      [undefined, "dropstack:postgres.nodes", "2 or 3"],
    ] as const) {
      assert.deepEqual(
        await resourceViolations(databaseClusterHighlyAvailable, cluster({ engine, nodeCount: 1 })),
        [`the cluster has 1 node(s): set ${key} to ${withStandby} for a standby that takes over on failure`],
        String(engine),
      );
      assert.deepEqual(await resourceViolations(databaseClusterHighlyAvailable, cluster({ engine, nodeCount: 2 })), [], String(engine));
    }
  });
});

describe("database-cluster-maintenance-window with partial windows", () => {
  const message = "no maintenance window: set dropstack:postgres.maintenance.day and dropstack:postgres.maintenance.hour";
  it("refuses windows that lack a day, an hour or both", async () => {
    const partial = [
      {},
      { day: "sunday" },
      { hour: "03:00:00" },
      { day: "", hour: "03:00:00" },
      { day: "sunday", hour: "" },
      "sunday",
      null,
    ];
    for (const window of partial) {
      assert.deepEqual(
        await resourceViolations(databaseClusterMaintenanceWindow, cluster({ maintenanceWindows: [window] })),
        [message],
        JSON.stringify(window),
      );
    }
    assert.deepEqual(await resourceViolations(databaseClusterMaintenanceWindow, cluster({ maintenanceWindows: partial })), [message]);
  });
  it("accepts a complete window among partial ones", async () => {
    const windows = [{ day: "sunday" }, { day: "monday", hour: "04:00:00" }, { hour: "05:00:00" }];
    assert.deepEqual(await resourceViolations(databaseClusterMaintenanceWindow, cluster({ maintenanceWindows: windows })), []);
  });
});

describe("database-cluster-private-network message", () => {
  it("says the cluster is outside a VPC and which property places it", async () => {
    for (const privateNetworkUuid of [undefined, ""]) {
      assert.deepEqual(await resourceViolations(databaseClusterPrivateNetwork, cluster({ privateNetworkUuid })), [
        "the cluster is not in a VPC: set privateNetworkUuid to the stack's VPC id",
      ]);
    }
  });
});

describe("database-firewall-no-public-sources with an address rule without a value", () => {
  it("refuses the rule, naming its empty source", async () => {
    const rules = [{ type: "tag", value: "app" }, { type: "ip_addr", value: "203.0.113.7/32" }, { type: "ip_addr" }];
    assert.deepEqual(await resourceViolations(databaseFirewallNoPublicSources, { type: FIREWALL, props: { clusterId: "c", rules } }), [
      `the database's trusted sources 203.0.113.7/32,  source "" is not an address range: list only your admin networks in dropstack:adminCidrs`,
    ]);
  });
});

describe("database-cluster-has-firewall across a stack", () => {
  const pg = (name: string): FakeResource => ({ type: CLUSTER, name, props: goodCluster, protect: true });
  const firewall = (name: string, dependsOn: string[]): FakeResource => ({
    type: FIREWALL,
    name,
    props: { clusterId: "1", rules: [] },
    dependsOn,
  });
  const noFirewall = (name: string) =>
    `database cluster ${name} has no DatabaseFirewall whose clusterId is this cluster's id: add one admitting only the droplet tag and dropstack:adminCidrs`;

  it("does not count other resources that depend on the cluster as its firewall", async () => {
    for (const type of [
      typeOf(digitalocean.DatabaseConnectionPool),
      typeOf(digitalocean.DatabaseDb),
      typeOf(digitalocean.DatabaseUser),
      typeOf(digitalocean.Firewall),
      typeOf(digitalocean.Droplet),
    ]) {
      assert.deepEqual(
        await stackViolations(databaseClusterHasFirewall, [pg("pg"), { type, name: "dependent", props: {}, dependsOn: ["pg"] }]),
        [noFirewall("pg")],
        type,
      );
    }
  });

  it("accepts clusters that each have their own firewall", async () => {
    assert.deepEqual(
      await stackViolations(databaseClusterHasFirewall, [
        pg("pg"),
        pg("analytics"),
        firewall("fw", ["pg"]),
        firewall("analytics-fw", ["analytics"]),
      ]),
      [],
    );
  });

  it("accepts a firewall that depends on its cluster and on other resources (the droplet it admits, the VPC)", async () => {
    const stack: FakeResource[] = [
      { type: typeOf(digitalocean.Vpc), name: "vpc", props: {} },
      { type: typeOf(digitalocean.Droplet), name: "web", props: {} },
      pg("pg"),
    ];
    for (const dependsOn of [
      ["vpc", "pg"],
      ["pg", "web"],
      ["vpc", "web", "pg"],
    ]) {
      assert.deepEqual(await stackViolations(databaseClusterHasFirewall, [...stack, firewall("fw", dependsOn)]), [], dependsOn.join());
    }
  });

  it("names each cluster left without a firewall", async () => {
    assert.deepEqual(
      await stackViolations(databaseClusterHasFirewall, [pg("pg"), pg("analytics"), pg("reports"), firewall("fw", ["analytics"])]),
      [noFirewall("pg"), noFirewall("reports")],
    );
  });
});
