// The Database component in the whole production program under mocks: cluster options,
// firewall, roles, grants, default privileges, pool, provider and secrets.
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { Graph, Registration } from "../../tools/check/harness";
import { ROOT, runStack } from "../support/program";

const CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";
const FIREWALL = "digitalocean:index/databaseFirewall:DatabaseFirewall";
const POOL = "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool";
const ROLE = "postgresql:index/role:Role";
const USER = "digitalocean:index/databaseUser:DatabaseUser";
const GRANT = "postgresql:index/grant:Grant";
const DEFAULTS = "postgresql:index/defaultPrivileges:DefaultPrivileges";
const SCHEMA = "postgresql:index/schema:Schema";
const PG_PROVIDER = "pulumi:providers:postgresql";

describe("database (production, mocks)", () => {
  let graph: Graph;
  let program: Record<string, unknown>;
  before(async () => {
    // No promotion stack: the guard (it reads staging's outputs) stays out of a test about the database.
    ({ graph } = await runStack({
      inThisProcess: true,
      stack: "production",
      override: { "dropstack:promotion": { allowUnpromoted: true } },
    }));
    // The program module stays in require's cache, so its exports are the live Outputs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    program = require(path.join(ROOT, "index.ts"));
  });

  const grantsFor = (role: string) => graph.ofType(GRANT).filter((g) => g.inputs.role === role);
  const grantOn = (role: string, objectType: string, schema?: string) => {
    const found = grantsFor(role).filter((g) => g.inputs.objectType === objectType && (schema === undefined || g.inputs.schema === schema));
    assert.equal(found.length, 1, `one ${objectType} grant for ${role}${schema ? ` on ${schema}` : ""}`);
    return found[0];
  };

  it("runs a protected pg cluster of the configured size in the VPC with the maintenance window", () => {
    const cluster = graph.one(CLUSTER);
    const vpc = graph.one("digitalocean:index/vpc:Vpc");
    assert.equal(cluster.protect, true);
    assert.equal(cluster.inputs.engine, "pg");
    assert.equal(cluster.inputs.version, "16");
    assert.equal(cluster.inputs.size, "db-s-2vcpu-4gb");
    assert.equal(cluster.inputs.nodeCount, 2);
    assert.equal(cluster.inputs.region, "fra1");
    assert.ok(cluster.inputs.privateNetworkUuid, "privateNetworkUuid set");
    assert.deepEqual(cluster.propertyDependencies.privateNetworkUuid, [vpc.urn]);
    assert.equal(
      cluster.inputs.privateNetworkUuid,
      graph.one("digitalocean:index/droplet:Droplet").inputs.vpcUuid,
      "same VPC as the droplet",
    );
    assert.deepEqual(cluster.inputs.maintenanceWindows, [{ day: "sunday", hour: "03:00:00" }]);
    assert.deepEqual(cluster.inputs.tags, ["dropstack-production"]);
  });

  it("admits only the droplet tag and the IPv4 admin CIDRs", () => {
    const firewall = graph.one(FIREWALL);
    assert.ok(firewall.propertyDependencies.clusterId.includes(graph.one(CLUSTER).urn));
    assert.deepEqual(firewall.inputs.rules, [
      { type: "tag", value: "dropstack-production-app" },
      { type: "ip_addr", value: "198.51.100.0/24" },
    ]);
    assert.ok(graph.dependsOn(firewall, graph.one("digitalocean:index/tag:Tag")));
  });

  it("creates the protected app database and a transaction pool that logs in as the app role", () => {
    const db = graph.one("digitalocean:index/databaseDb:DatabaseDb");
    assert.equal(db.inputs.name, "app");
    assert.equal(db.protect, true);
    const pool = graph.one(POOL);
    assert.equal(pool.inputs.mode, "transaction");
    assert.equal(pool.inputs.user, "app");
    assert.equal(pool.inputs.dbName, "app");
    assert.equal(pool.inputs.size, 72, "db-s-2vcpu-4gb has 97 backend connections; the pool takes 72");
    for (const g of grantsFor("app")) assert.ok(graph.dependsOn(pool, g), `the pool waits for ${g.name}`);
  });

  it("manages roles through an explicit provider on the public admin endpoint as doadmin, not superuser", () => {
    const provider = graph.one(PG_PROVIDER);
    assert.equal(provider.inputs.host, "dropstack-production-pg.db.example.com");
    assert.equal(String(provider.inputs.port), "25060");
    assert.equal(provider.inputs.username, "doadmin");
    assert.equal(provider.inputs.sslmode, "require");
    assert.equal(String(provider.inputs.superuser), "false");
    assert.ok(provider.secretInputs.includes("password"));
    assert.ok(graph.dependsOn(provider, graph.one(FIREWALL)), "the firewall admits the admin CIDRs before the provider connects");
    for (const type of [ROLE, GRANT, DEFAULTS, SCHEMA]) {
      for (const r of graph.ofType(type))
        assert.ok(r.provider?.includes("::dropstack-production-pg-admin::"), `${r.name} uses the admin provider`);
    }
  });

  it("creates the pool's app role through DigitalOcean's user API, with a secret password, on the cluster", () => {
    const user = graph.one(USER);
    assert.equal(user.inputs.name, "app");
    assert.ok(user.propertyDependencies.clusterId.includes(graph.one(CLUSTER).urn));
    assert.ok(user.additionalSecretOutputs.includes("password"));
    assert.equal(graph.ofType(ROLE).filter((r) => r.inputs.name === "app").length, 0, "not also created over SQL");
    const pool = graph.one(POOL);
    assert.equal(pool.inputs.user, user.inputs.name);
    assert.ok(pool.propertyDependencies.user.includes(user.urn), "the pool waits for the user");
    for (const g of grantsFor("app")) assert.ok(g.propertyDependencies.role.includes(user.urn), `${g.name} waits for the user`);
  });

  it("creates the other two login roles over SQL with secret 40-character passwords and no elevated attributes", () => {
    const roles = graph.ofType(ROLE);
    assert.deepEqual(roles.map((r) => r.inputs.name).sort(), ["migrator", "readonly"]);
    for (const role of roles) {
      assert.equal(role.inputs.login, true);
      assert.equal(role.inputs.superuser, false);
      assert.equal(role.inputs.createRole, false);
      assert.equal(role.inputs.createDatabase, false);
      assert.deepEqual(role.inputs.searchPaths, ["app"]);
      assert.ok(role.secretInputs.includes("password"), `${role.name} password is secret`);
      assert.equal(String(role.inputs.password).length, 40);
    }
    for (const password of graph.ofType("random:index/randomPassword:RandomPassword").filter((p) => p.name.includes("-pg-"))) {
      assert.equal(password.inputs.special, false, "no characters that break URIs");
      assert.ok(Number(password.inputs.length) >= 32);
    }
  });

  it("makes the migrator own the protected app schema", () => {
    const schema = graph.one(SCHEMA);
    assert.equal(schema.inputs.name, "app");
    assert.equal(schema.inputs.owner, "migrator");
    assert.equal(schema.inputs.database, "app");
    assert.equal(schema.protect, true);
    assert.ok(graph.dependsOn(schema, graph.one(ROLE, "-pg-migrator")));
  });

  it("gives the app role DML only: no CREATE on schema or database, no TRUNCATE/REFERENCES/TRIGGER", () => {
    assert.deepEqual(grantOn("app", "database").inputs.privileges, ["CONNECT"]);
    assert.deepEqual(grantOn("app", "schema").inputs.privileges, ["USAGE"]);
    assert.deepEqual(grantOn("app", "table").inputs.privileges, ["SELECT", "INSERT", "UPDATE", "DELETE"]);
    assert.deepEqual(grantOn("app", "sequence").inputs.privileges, ["USAGE", "SELECT"]);
    const defaults = graph.ofType(DEFAULTS).filter((d) => d.inputs.role === "app");
    assert.deepEqual(defaults.map((d) => [d.inputs.objectType, d.inputs.privileges]).sort(), [
      ["sequence", ["USAGE", "SELECT"]],
      ["table", ["SELECT", "INSERT", "UPDATE", "DELETE"]],
    ]);
    for (const r of [...grantsFor("app"), ...defaults]) {
      const privileges = r.inputs.privileges as string[];
      for (const forbidden of ["CREATE", "TRUNCATE", "REFERENCES", "TRIGGER", "ALL"])
        assert.ok(!privileges.includes(forbidden), `${r.name} has no ${forbidden}`);
    }
  });

  it("gives readonly SELECT only, now and for future objects", () => {
    assert.deepEqual(grantOn("readonly", "table").inputs.privileges, ["SELECT"]);
    assert.deepEqual(grantOn("readonly", "sequence").inputs.privileges, ["SELECT"]);
    assert.deepEqual(grantOn("readonly", "database").inputs.privileges, ["CONNECT"]);
    const defaults = graph.ofType(DEFAULTS).filter((d) => d.inputs.role === "readonly");
    assert.deepEqual(
      defaults.map((d) => d.inputs.privileges),
      [["SELECT"], ["SELECT"]],
    );
  });

  it("sets default privileges for objects the migrator creates in the app schema", () => {
    const defaults = graph.ofType(DEFAULTS);
    assert.equal(defaults.length, 4);
    for (const d of defaults) {
      assert.equal(d.inputs.owner, "migrator");
      assert.equal(d.inputs.schema, "app");
      assert.equal(d.inputs.database, "app");
      assert.ok(graph.dependsOn(d, graph.one(SCHEMA)));
    }
  });

  it("lets the migrator run DDL and create extensions, and revokes PUBLIC's access", () => {
    assert.deepEqual(grantOn("migrator", "database").inputs.privileges, ["CONNECT", "CREATE", "TEMPORARY"]);
    assert.deepEqual(grantOn("public", "database").inputs.privileges, [], "no CONNECT/TEMPORARY for every role");
    assert.deepEqual(grantOn("public", "schema", "app").inputs.privileges, []);
    assert.deepEqual(grantOn("public", "schema", "public").inputs.privileges, ["USAGE"], "no CREATE on public");
  });

  it("replaces grants delete-first, so a replacement's revoke never wipes the new grant", () => {
    for (const r of [...graph.ofType(GRANT), ...graph.ofType(DEFAULTS)]) assert.equal(r.deleteBeforeReplace, true, r.name);
  });

  it("exports secret URIs for each role on private hosts, the app's through the pool", async () => {
    const uris = program.databaseUris as Record<string, pulumi.Output<string>>;
    const value = (o: pulumi.Output<string>) =>
      new Promise<string>((resolve) =>
        o.apply((v) => {
          resolve(v);
          return v;
        }),
      );
    const password = (name: string) =>
      String(graph.one("random:index/randomPassword:RandomPassword", `-pg-${name}-password`).outputs.result);
    for (const role of ["migrator", "app", "readonly"]) {
      assert.equal(await pulumi.isSecret(uris[role]), true, `${role} URI is secret`);
    }
    assert.equal(
      await value(uris.migrator),
      `postgresql://migrator:${password("migrator")}@private-dropstack-production-pg.db.example.com:25060/app?sslmode=require`,
    );
    assert.equal(
      await value(uris.readonly),
      `postgresql://readonly:${password("readonly")}@private-dropstack-production-pg.db.example.com:25060/app?sslmode=require`,
    );
    // The app's password is the one DigitalOcean generated for its user.
    const appPassword = String(graph.one(USER).outputs.password);
    assert.ok(appPassword.length >= 32, "the mock answered with a password");
    assert.equal(
      await value(uris.app),
      `postgresql://app:${appPassword}@private-pool-dropstack-production-pg-pool.db.example.com:25061/app-pool?sslmode=require`,
    );
    assert.equal(await value(program.databasePrivateHost as pulumi.Output<string>), "private-dropstack-production-pg.db.example.com");
  });

  it("adds the cluster to the DigitalOcean project", () => {
    const project: Registration = graph.one("digitalocean:index/project:Project");
    assert.ok((project.inputs.resources as string[]).some((urn) => urn.startsWith("do:dbaas:")));
  });
});
