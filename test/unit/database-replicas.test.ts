// The Database component's read replicas under Pulumi mocks (dropstack:postgres.readReplicas;
// the committed stacks have none): one DatabaseReplica and one firewall per replica, on the
// cluster that serves, and readUris, the readonly role on each replica's private host.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { buildAppEnvironment } from "../../components/app";
import { DATABASE_READ_URLS } from "../../components/app/render";
import { Database, DatabaseArgs } from "../../components/database";
import { restoredClusterName } from "../../components/database/restore";
import { outputValue, recordResources } from "../support/pulumi-mocks";

const created = recordResources();

const REPLICA = "digitalocean:index/databaseReplica:DatabaseReplica";
const FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall";

const ARGS: DatabaseArgs = {
  region: "fra1",
  version: "16",
  size: "db-s-2vcpu-4gb",
  nodes: 2,
  database: "app",
  maintenance: { day: "sunday", hour: 3 },
  vpcId: "vpc-1234",
  dropletTag: "dropstack-production-app",
  adminCidrs: ["198.51.100.0/24"],
  tags: ["dropstack-production"],
};

const database = (name: string, overrides: Partial<DatabaseArgs> = {}) => new Database(name, { ...ARGS, ...overrides });

/** Every resource the mocks recorded whose name starts with the component's, by type. */
function registered(prefix: string, type: string) {
  return [...created.values()].filter((r) => r.type === type && r.name.startsWith(`${prefix}-`));
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe("read replicas", () => {
  it("registers none, and no firewall beyond the cluster's, without replicas or with a count of 0", async () => {
    const none = database("none");
    const zero = database("zero", { readReplicas: { count: 0, size: "db-s-4vcpu-8gb" } });
    await settle();
    for (const [name, component] of [
      ["none", none],
      ["zero", zero],
    ] as const) {
      assert.equal(component.replicas.length, 0);
      assert.equal(component.replicaFirewalls.length, 0);
      assert.deepEqual(registered(name, REPLICA), []);
      assert.deepEqual(
        registered(name, FIREWALL).map((r) => r.name),
        [`${name}-pg-firewall`],
      );
      assert.deepEqual(await outputValue(component.readUris), []);
      assert.equal(await pulumi.isSecret(component.readUris), true);
    }
    const types = (prefix: string) =>
      [...created.values()]
        .filter((r) => r.name.startsWith(`${prefix}-`))
        .map((r) => `${r.type} ${r.name.slice(prefix.length)}`)
        .sort();
    assert.deepEqual(types("zero"), types("none"), "a count of 0 registers what no replicas does");
  });

  for (const [count, size] of [
    [1, "db-s-2vcpu-4gb"],
    [2, "db-s-4vcpu-8gb"],
    [5, "db-s-6vcpu-16gb"],
  ] as const) {
    it(`registers ${count} replica(s) of ${size} on the cluster, in the VPC, each with a firewall admitting the droplet tag only`, async () => {
      const name = `count${count}`;
      const component = database(name, { readReplicas: { count, size } });
      const clusterId = await outputValue(component.cluster.id);
      assert.equal(component.replicas.length, count);
      for (let n = 1; n <= count; n++) {
        const replica = component.replicas[n - 1];
        assert.deepEqual(await created.inputsOf(replica), {
          clusterId,
          name: `${name}-pg-replica-${n}`,
          region: "fra1",
          size,
          privateNetworkUuid: "vpc-1234",
          tags: ["dropstack-production"],
        });
        assert.deepEqual(await created.inputsOf(component.replicaFirewalls[n - 1]), {
          clusterId: await outputValue(replica.uuid),
          rules: [{ type: "tag", value: "dropstack-production-app" }],
        });
      }
      assert.equal(registered(name, REPLICA).length, count);
    });
  }

  it("gives the readonly role's user and password on each replica's private host and port, and the app database, as a secret", async () => {
    const component = database("uris", { readReplicas: { count: 3, size: "db-s-2vcpu-4gb" } });
    assert.equal(await pulumi.isSecret(component.readUris), true);
    const uris = await outputValue(component.readUris);
    const readonly = new URL(await outputValue(component.readonlyUri));
    assert.equal(uris.length, 3);
    for (const [i, uri] of uris.entries()) {
      const url = new URL(uri);
      assert.equal(url.protocol, "postgresql:");
      assert.equal(url.username, "readonly");
      assert.equal(url.username, readonly.username);
      assert.equal(url.password, readonly.password, "the replicas copy the roles, passwords included");
      assert.equal(url.hostname, await outputValue(component.replicas[i].privateHost));
      assert.notEqual(url.hostname, readonly.hostname);
      assert.equal(url.port, String(await outputValue(component.replicas[i].port)));
      assert.equal(url.pathname, "/app");
      assert.equal(url.searchParams.get("sslmode"), "require");
    }
    assert.equal(new Set(uris).size, 3, "one URI per replica");
  });

  it("reach the app as DATABASE_READ_URLS, secret, only when there are replicas", async () => {
    for (const count of [0, 1, 2]) {
      const component = database(`env${count}`, { readReplicas: { count, size: "db-s-2vcpu-4gb" } });
      const environment = buildAppEnvironment({
        databaseUrl: component.appUri,
        redisUrl: "redis://default:pw@redis:6379/0",
        databaseReadUrls: component.readUris,
        env: {},
        secrets: {},
      });
      assert.equal(await pulumi.isSecret(environment), true);
      const values = await outputValue(environment);
      if (count === 0) assert.equal(DATABASE_READ_URLS in values, false);
      else assert.equal(values[DATABASE_READ_URLS], (await outputValue(component.readUris)).join(","));
      assert.equal(values.DATABASE_URL, await outputValue(component.appUri));
    }
  });

  it("follows the restored cluster when dropstack:postgres.restore is set: replicas of the cluster the app writes to", async () => {
    const timestamp = "2026-11-28T09:30:00Z";
    const component = database("restored", { restore: { timestamp }, readReplicas: { count: 2, size: "db-s-2vcpu-4gb" } });
    assert.ok(component.restored);
    const restoredId = await outputValue(component.restored.cluster.id);
    assert.notEqual(restoredId, await outputValue(component.cluster.id));
    for (const [i, replica] of component.replicas.entries()) {
      const inputs = await created.inputsOf(replica);
      assert.equal(inputs.clusterId, restoredId);
      assert.equal(inputs.name, `${restoredClusterName("restored-pg", timestamp)}-replica-${i + 1}`);
    }
  });

  it("refuses replicas smaller than the cluster's nodes before registering anything, naming the key", async () => {
    for (const size of ["db-s-1vcpu-1gb", "db-s-1vcpu-2gb"]) {
      const name = `small-${size}`;
      assert.throws(
        () => database(name, { readReplicas: { count: 1, size } }),
        new RegExp(`dropstack:postgres\\.readReplicaSize: ${size} \\(\\d GB\\) is smaller than postgres\\.size db-s-2vcpu-4gb \\(4 GB\\)`),
      );
      await settle();
      assert.deepEqual(
        [...created.values()].filter((r) => r.name.startsWith(`${name}-`)),
        [],
        "bad config stops the component before it registers anything",
      );
    }
  });
});
