// dropstack:postgres.restore in the whole staging program under mocks: a second cluster
// restored to the timestamp from the named cluster's backups, with its own firewall and
// pool, and the app, the migration and the stack's database outputs moved onto it while
// the first cluster and its roles and grants stay exactly as they were.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Graph, Registration } from "../../tools/check/harness";
import { committedValue, runStack } from "../support/program";

const CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";
const FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall";
const POOL = "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool";
const CONTAINER = "docker:index/container:Container";
const FIRST = "dropstack-staging-pg";
// With an offset, so the test also shows what DigitalOcean receives: the same instant in UTC.
const TIMESTAMP = "2026-11-27T09:30:00+01:00";
const RESTORED = "dropstack-staging-pg-pitr-20261127t083000z";
const FROM = "dropstack-staging-pg-pitr-20261120t000000z";

function envOf(container: Registration): Record<string, string> {
  return Object.fromEntries(
    (container.inputs.envs as string[]).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

describe("point-in-time restore (staging with postgres.restore, mocks)", () => {
  let graph: Graph;
  let outputs: Record<string, unknown>;
  let first: Registration;
  let restored: Registration;

  before(async () => {
    const postgres = committedValue("staging", "dropstack:postgres");
    ({ graph, outputs } = await runStack({
      stack: "staging",
      override: { "dropstack:postgres": { ...postgres, restore: { timestamp: TIMESTAMP, fromCluster: FROM } } },
    }));
    const clusters = graph.ofType(CLUSTER);
    assert.deepEqual(clusters.map((c) => c.inputs.name).sort(), [FIRST, RESTORED]);
    first = clusters.find((c) => c.inputs.name === FIRST) as Registration;
    restored = clusters.find((c) => c.inputs.name === RESTORED) as Registration;
  });

  it("creates a new protected cluster with backupRestore naming the source cluster and the UTC timestamp", () => {
    assert.equal(restored.name, RESTORED);
    assert.deepEqual(restored.inputs.backupRestore, { databaseName: FROM, backupCreatedAt: "2026-11-27T08:30:00Z" });
    assert.equal(restored.protect, true);
  });

  it("gives the restored cluster the first one's engine, size, region, VPC, maintenance window and tags", () => {
    for (const key of ["engine", "version", "size", "nodeCount", "region", "privateNetworkUuid", "maintenanceWindows", "tags"])
      assert.deepEqual(restored.inputs[key], first.inputs[key], key);
  });

  it("leaves the first cluster as it was: no backupRestore, still protected, the roles and grants still on it", () => {
    assert.equal(first.inputs.backupRestore, undefined);
    assert.equal(first.protect, true);
    const provider = graph.one("pulumi:providers:postgresql");
    assert.equal(provider.inputs.host, first.outputs.host, "roles and grants are managed on the first cluster");
    assert.equal(graph.ofType("postgresql:index/role:Role").length, 2, "no second set of roles");
    assert.equal(graph.ofType("digitalocean:index/databaseUser:DatabaseUser").length, 1, "the fork brings the app user");
    assert.equal(graph.ofType("digitalocean:index/databaseDb:DatabaseDb").length, 1, "the fork brings the app database");
  });

  it("puts the restored cluster behind its own firewall with the same trusted sources", () => {
    const firewalls = graph.ofType(FIREWALL);
    assert.equal(firewalls.length, 2);
    const own = firewalls.filter((f) => f.propertyDependencies.clusterId?.includes(restored.urn));
    assert.equal(own.length, 1, "one firewall on the restored cluster");
    const other = firewalls.find((f) => f !== own[0]) as Registration;
    assert.ok(other.propertyDependencies.clusterId.includes(first.urn));
    assert.deepEqual(own[0].inputs.rules, other.inputs.rules);
  });

  it("gives the restored cluster the app's transaction pool, logging in as the app user", () => {
    const pools = graph.ofType(POOL);
    assert.equal(pools.length, 2);
    const pool = pools.find((p) => p.propertyDependencies.clusterId?.includes(restored.urn)) as Registration;
    const firstPool = pools.find((p) => p !== pool) as Registration;
    for (const key of ["name", "dbName", "user", "mode", "size"]) assert.deepEqual(pool.inputs[key], firstPool.inputs[key], key);
    assert.equal(pool.inputs.user, "app");
  });

  it("connects the app through the restored cluster's pool and the migration to the restored cluster", () => {
    const pool = graph.ofType(POOL).find((p) => p.propertyDependencies.clusterId?.includes(restored.urn)) as Registration;
    const containers = graph.ofType(CONTAINER).filter((c) => /-(api-\d+|worker-.+)$/.test(c.name));
    assert.ok(containers.length > 0);
    for (const container of containers) {
      const url = new URL(envOf(container).DATABASE_URL);
      assert.equal(url.hostname, pool.outputs.privateHost, container.name);
      assert.equal(url.pathname, `/${String(pool.outputs.name)}`);
    }
    const migratorUrl = new URL(String(graph.one("command:remote:Command", "-migrate").inputs.stdin).split("\n")[0]);
    assert.equal(migratorUrl.hostname, restored.outputs.privateHost);
    assert.equal(migratorUrl.username, "migrator");
    const password = String(graph.one("random:index/randomPassword:RandomPassword", "-pg-migrator-password").outputs.result);
    assert.equal(decodeURIComponent(migratorUrl.password), password, "the same credentials: the fork has the roles' passwords");
  });

  it("reports both clusters: the stack's own for CI access, the restored one the app runs on", () => {
    assert.equal(outputs.databaseClusterId, first.id);
    assert.equal(outputs.restoredDatabaseClusterId, restored.id);
    assert.equal(outputs.databasePrivateHost, restored.outputs.privateHost);
    assert.equal((outputs.ciAccess as { databaseClusterId: string }).databaseClusterId, first.id);
    const project = graph.one("digitalocean:index/project:Project");
    assert.ok((project.inputs.resources as string[]).includes(String(restored.outputs.clusterUrn)), "in the DigitalOcean project");
  });
});
