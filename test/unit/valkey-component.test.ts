// The Valkey component on its own under Pulumi mocks (the program registers it only past one
// droplet): the cluster in the VPC, the configuration it is given, the one trusted source,
// and the secret rediss:// URL on the private host.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { Valkey, ValkeyArgs, valkeyClusterName } from "../../components/valkey";
import { VALKEY_EVICTION_POLICIES } from "../../components/valkey/settings";
import { outputValue, recordResources } from "../support/pulumi-mocks";

const created = recordResources();

const ARGS: ValkeyArgs = {
  region: "fra1",
  version: "8",
  size: "db-s-1vcpu-2gb",
  nodes: 2,
  vpcId: "vpc-1234",
  dropletTag: "dropstack-production-app",
  evictionPolicy: "allkeys-lru",
  maintenance: { day: "sunday", hour: 3 },
  tags: ["dropstack-production"],
};

const valkey = (name: string, overrides: Partial<ValkeyArgs> = {}) => new Valkey(name, { ...ARGS, ...overrides });

describe("Valkey resources", () => {
  it("runs a valkey cluster of the configured version, size and nodes in the VPC, named after the stack", async () => {
    for (const [name, overrides] of [
      ["dropstack-production", {}],
      ["acme-staging", { region: "nyc3", size: "db-s-1vcpu-1gb", nodes: 1, version: "9", tags: undefined }],
    ] as const) {
      const cache = valkey(name, overrides);
      const args = { ...ARGS, ...overrides };
      const inputs = await created.inputsOf(cache.cluster);
      assert.equal(inputs.name, valkeyClusterName(name));
      assert.equal(inputs.name, `${name}-valkey`);
      assert.equal(inputs.engine, "valkey");
      assert.equal(inputs.version, args.version);
      assert.equal(inputs.size, args.size);
      assert.equal(inputs.nodeCount, args.nodes);
      assert.equal(inputs.region, args.region);
      assert.equal(inputs.privateNetworkUuid, "vpc-1234");
      assert.deepEqual(inputs.maintenanceWindows, [{ day: "sunday", hour: "03:00:00" }]);
      assert.deepEqual(inputs.tags, args.tags);
    }
  });

  it("requires TLS and sets the eviction policy from dropstack:redis.evictionPolicy, on this cluster", async () => {
    for (const evictionPolicy of VALKEY_EVICTION_POLICIES) {
      const cache = valkey(`policy-${evictionPolicy}`, { evictionPolicy });
      const config = await created.inputsOf(cache.config);
      assert.deepEqual(config, { clusterId: await outputValue(cache.cluster.id), valkeyMaxmemoryPolicy: evictionPolicy, ssl: true });
    }
  });

  it("admits only the droplets' tag", async () => {
    const cache = valkey("firewall", { dropletTag: "acme-staging-app" });
    assert.deepEqual(await created.inputsOf(cache.firewall), {
      clusterId: await outputValue(cache.cluster.id),
      rules: [{ type: "tag", value: "acme-staging-app" }],
    });
  });

  it("gives the app a secret rediss:// URL with the cluster's user and password on its private host and port", async () => {
    const cache = valkey("url");
    assert.equal(await pulumi.isSecret(cache.redisUrl), true);
    const url = new URL(await outputValue(cache.redisUrl));
    assert.equal(url.protocol, "rediss:");
    assert.equal(url.username, await outputValue(cache.cluster.user));
    assert.equal(url.password, await outputValue(cache.cluster.password));
    assert.equal(url.hostname, await outputValue(cache.cluster.privateHost));
    assert.notEqual(url.hostname, await outputValue(cache.cluster.host), "the public host stays out of the app's URL");
    assert.equal(url.port, String(await outputValue(cache.cluster.port)));
    assert.equal(url.pathname, "/0");
  });
});

describe("Valkey outputs for the observability stack", () => {
  it("give redis_exporter the private rediss:// address without credentials, and the password as a secret", async () => {
    const cache = valkey("exporter");
    const host = await outputValue(cache.cluster.privateHost);
    const port = await outputValue(cache.cluster.port);
    assert.equal(await outputValue(cache.exporterAddress), `rediss://${host}:${port}`);
    assert.equal(await pulumi.isSecret(cache.password), true);
    assert.equal(await outputValue(cache.password), await outputValue(cache.cluster.password));
    assert.equal(new URL(await outputValue(cache.redisUrl)).password, await outputValue(cache.password));
  });
});

describe("the maintenance window", () => {
  it("is the one given, as DigitalOcean reports it, and none without one", async () => {
    for (const [day, hour, expected] of [
      ["monday", 0, "00:00:00"],
      ["saturday", 23, "23:00:00"],
    ] as const) {
      const cache = valkey(`window-${day}`, { maintenance: { day, hour } });
      assert.deepEqual((await created.inputsOf(cache.cluster)).maintenanceWindows, [{ day, hour: expected }]);
    }
    const without = valkey("window-none", { maintenance: undefined });
    assert.equal(Object.hasOwn(await created.inputsOf(without.cluster), "maintenanceWindows"), false);
  });
});

describe("Valkey refusals", () => {
  it("refuses an LFU eviction policy before registering a cluster, naming the key", async () => {
    for (const evictionPolicy of ["allkeys-lfu", "volatile-lfu"]) {
      const name = `refused-${evictionPolicy}`;
      assert.throws(() => valkey(name, { evictionPolicy }), /dropstack:redis\.evictionPolicy: .*lfu is not one/);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(created.has(valkeyClusterName(name)), false);
    }
  });

  it("refuses a standby on a 1 GB plan and more than one standby, naming the scale.valkey key", () => {
    assert.throws(
      () => valkey("small-standby", { size: "db-s-1vcpu-1gb", nodes: 2 }),
      /dropstack:scale\.valkey\.size: db-s-1vcpu-1gb cannot have a standby/,
    );
    assert.throws(() => valkey("three", { nodes: 3 }), /dropstack:scale\.valkey\.nodes: must be 1 or 2/);
  });
});
