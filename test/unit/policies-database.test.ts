// Database policies called directly: a violating and a compliant case each.
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
  databaseFirewallNoPublicSources,
} from "../../policies/database";
import { trustedSources } from "../../components/database/settings";
import { goodCluster } from "../support/database-cluster";
import { resourceViolations, stackViolations, typeOf } from "../support/policy";

const CLUSTER = typeOf(digitalocean.DatabaseCluster);
const FIREWALL = typeOf(digitalocean.DatabaseFirewall);

describe("policy database-cluster-protected", () => {
  it("flags an unprotected cluster", async () => {
    const found = await resourceViolations(databaseClusterProtected, { type: CLUSTER, props: goodCluster });
    assert.equal(found.length, 1);
    assert.match(found[0], /protect: true/);
  });
  it("accepts a protected cluster", async () => {
    assert.deepEqual(await resourceViolations(databaseClusterProtected, { type: CLUSTER, props: goodCluster, protect: true }), []);
  });
});

describe("policy database-cluster-high-availability", () => {
  it("flags a single-node cluster, naming the config key", async () => {
    const found = await resourceViolations(databaseClusterHighlyAvailable, { type: CLUSTER, props: { ...goodCluster, nodeCount: 1 } });
    assert.match(found[0], /dropstack:postgres\.nodes/);
  });
  it("accepts a cluster with a standby", async () => {
    assert.deepEqual(await resourceViolations(databaseClusterHighlyAvailable, { type: CLUSTER, props: goodCluster }), []);
    assert.deepEqual(
      await resourceViolations(databaseClusterHighlyAvailable, { type: CLUSTER, props: { ...goodCluster, nodeCount: 3 } }),
      [],
    );
  });
});

describe("policy database-cluster-supported-version", () => {
  it("flags PostgreSQL 12 and a missing version", async () => {
    const found = await resourceViolations(databaseClusterSupportedVersion, { type: CLUSTER, props: { ...goodCluster, version: "12" } });
    assert.match(found[0], /dropstack:postgres\.version.*"15"/);
    assert.equal(
      (await resourceViolations(databaseClusterSupportedVersion, { type: CLUSTER, props: { ...goodCluster, version: undefined } })).length,
      1,
    );
  });
  it("accepts 15 and newer", async () => {
    for (const version of ["15", "16", "17"]) {
      assert.deepEqual(
        await resourceViolations(databaseClusterSupportedVersion, { type: CLUSTER, props: { ...goodCluster, version } }),
        [],
        version,
      );
    }
  });
});

describe("policy database-cluster-maintenance-window", () => {
  it("flags a cluster without a window", async () => {
    const found = await resourceViolations(databaseClusterMaintenanceWindow, {
      type: CLUSTER,
      props: { ...goodCluster, maintenanceWindows: undefined },
    });
    assert.match(found[0], /dropstack:postgres\.maintenance/);
  });
  it("accepts a cluster with a day and hour", async () => {
    assert.deepEqual(await resourceViolations(databaseClusterMaintenanceWindow, { type: CLUSTER, props: goodCluster }), []);
  });
});

describe("policy database-cluster-private-network", () => {
  it("flags a cluster outside a VPC", async () => {
    assert.equal(
      (await resourceViolations(databaseClusterPrivateNetwork, { type: CLUSTER, props: { ...goodCluster, privateNetworkUuid: undefined } }))
        .length,
      1,
    );
  });
  it("accepts a cluster in a VPC", async () => {
    assert.deepEqual(await resourceViolations(databaseClusterPrivateNetwork, { type: CLUSTER, props: goodCluster }), []);
  });
});

describe("policy database-firewall-no-public-sources", () => {
  it("flags 0.0.0.0/0 and ::/0 trusted sources", async () => {
    const rules = [
      { type: "tag", value: "app" },
      { type: "ip_addr", value: "0.0.0.0/0" },
      { type: "ip_addr", value: "::/0" },
    ];
    const found = await resourceViolations(databaseFirewallNoPublicSources, { type: FIREWALL, props: { clusterId: "c", rules } });
    assert.equal(found.length, 1);
    assert.match(
      found[0],
      /0\.0\.0\.0\/0, ::\/0 together cover 4,294,967,296 IPv4 addresses .* and 2\^128 IPv6 addresses .*dropstack:adminCidrs/,
    );
  });
  it("accepts the droplet tag and admin CIDRs", async () => {
    const rules = trustedSources("dropstack-production-app", ["198.51.100.0/24", "203.0.113.7/32"]);
    assert.deepEqual(await resourceViolations(databaseFirewallNoPublicSources, { type: FIREWALL, props: { clusterId: "c", rules } }), []);
  });
});

describe("policy database-cluster-has-firewall", () => {
  const cluster = { type: CLUSTER, name: "pg", props: goodCluster, protect: true };
  it("flags a cluster no firewall points at", async () => {
    const found = await stackViolations(databaseClusterHasFirewall, [
      cluster,
      { type: CLUSTER, name: "other-pg", props: goodCluster },
      { type: FIREWALL, name: "fw", props: { clusterId: "1", rules: [] }, dependsOn: ["other-pg"] },
    ]);
    assert.equal(found.length, 1);
    assert.match(found[0], /database cluster pg has no DatabaseFirewall/);
  });
  it("accepts a cluster whose firewall's clusterId depends on it", async () => {
    assert.deepEqual(
      await stackViolations(databaseClusterHasFirewall, [
        cluster,
        { type: FIREWALL, name: "fw", props: { clusterId: "1", rules: [] }, dependsOn: ["pg"] },
      ]),
      [],
    );
  });
});
