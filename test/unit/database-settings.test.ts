// Pure database helpers: URIs, maintenance window, trusted sources, pool size, and the
// privilege model the component and the system test share.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  APP_SCHEMA,
  NEVER_GRANTED_TO_APP,
  PUBLIC_ROLE,
  ROLE_NAMES,
  privilegeModel,
  renderGrantSql,
  renderRoleSql,
} from "../../components/database/privileges";
import {
  appPoolSize,
  backendConnections,
  connectionUri,
  ipv4Only,
  maintenanceWindow,
  ramGbOf,
  trustedSources,
} from "../../components/database/settings";

describe("connectionUri", () => {
  it("builds a libpq URI that requires TLS", () => {
    assert.equal(
      connectionUri({ user: "app", password: "s3cret", host: "private-db.example.com", port: 25061, database: "app-pool" }),
      "postgresql://app:s3cret@private-db.example.com:25061/app-pool?sslmode=require",
    );
  });

  it("percent-encodes characters that would end the user, password or path early", () => {
    const uri = connectionUri({ user: "we:ird@user", password: "p@ss/w:rd?#%", host: "db.example.com", port: 5432, database: "my db" });
    assert.equal(uri, "postgresql://we%3Aird%40user:p%40ss%2Fw%3Ard%3F%23%25@db.example.com:5432/my%20db?sslmode=require");
    const parsed = new URL(uri);
    assert.equal(decodeURIComponent(parsed.username), "we:ird@user");
    assert.equal(decodeURIComponent(parsed.password), "p@ss/w:rd?#%");
    assert.equal(parsed.hostname, "db.example.com");
    assert.equal(parsed.searchParams.get("sslmode"), "require");
  });

  it("brackets IPv6 hosts and rejects an empty host or a bad port", () => {
    assert.match(connectionUri({ user: "u", password: "p", host: "2001:db8::5", port: 5432, database: "d" }), /@\[2001:db8::5\]:5432\//);
    assert.throws(() => connectionUri({ user: "u", password: "p", host: "", port: 5432, database: "d" }), /host is empty/);
    assert.throws(() => connectionUri({ user: "u", password: "p", host: "h", port: 0, database: "d" }), /bad port/);
  });
});

describe("maintenanceWindow", () => {
  it("formats the hour as HH:00:00 UTC, the form DigitalOcean reports back", () => {
    assert.deepEqual(maintenanceWindow("sunday", 3), { day: "sunday", hour: "03:00:00" });
    assert.deepEqual(maintenanceWindow("monday", 23), { day: "monday", hour: "23:00:00" });
  });
  it("rejects hours outside 0-23", () => {
    assert.throws(() => maintenanceWindow("sunday", 24));
    assert.throws(() => maintenanceWindow("sunday", 1.5));
  });
});

describe("trustedSources", () => {
  it("admits the droplet tag first, then each IPv4 admin CIDR once", () => {
    assert.deepEqual(trustedSources("dropstack-production-app", ["198.51.100.0/24", "203.0.113.7/32", "198.51.100.0/24"]), [
      { type: "tag", value: "dropstack-production-app" },
      { type: "ip_addr", value: "198.51.100.0/24" },
      { type: "ip_addr", value: "203.0.113.7/32" },
    ]);
  });
  it("leaves IPv6 ranges out: DigitalOcean trusted sources cannot hold them", () => {
    assert.deepEqual(ipv4Only(["2001:db8:100::/48", "198.51.100.0/24", "::/0"]), ["198.51.100.0/24"]);
    assert.deepEqual(trustedSources("tag", ["2001:db8:100::/48"]), [{ type: "tag", value: "tag" }]);
  });
});

describe("pool sizing", () => {
  it("reads RAM from size slugs", () => {
    assert.equal(ramGbOf("db-s-2vcpu-4gb"), 4);
    assert.equal(ramGbOf("gd-8vcpu-32gb"), 32);
    assert.equal(ramGbOf("weird"), undefined);
  });
  it("follows DigitalOcean's 25 connections per GB minus 3 reserved", () => {
    assert.equal(backendConnections("db-s-1vcpu-1gb"), 22);
    assert.equal(backendConnections("db-s-2vcpu-4gb"), 97);
  });
  it("leaves a quarter (at least 5) of the connections for direct clients", () => {
    assert.equal(appPoolSize("db-s-1vcpu-1gb"), 16);
    assert.equal(appPoolSize("db-s-1vcpu-2gb"), 35);
    assert.equal(appPoolSize("db-s-2vcpu-4gb"), 72);
    assert.equal(appPoolSize("unknown-slug"), 16, "unknown sizes are treated as the smallest node");
    for (const slug of ["db-s-1vcpu-1gb", "db-s-4vcpu-8gb", "db-s-16vcpu-64gb"]) {
      assert.ok(backendConnections(slug) - appPoolSize(slug) >= 5, slug);
    }
  });
});

describe("privilege model", () => {
  const model = privilegeModel();

  it("makes the migrator the owner of the app schema and points every role's search_path at it", () => {
    assert.equal(model.schema, APP_SCHEMA);
    assert.equal(model.schemaOwner, ROLE_NAMES.migrator);
    // The app role is a DigitalOcean user (the pool's): its default search_path, "$user", is the schema's name.
    assert.deepEqual(
      model.roles.map((r) => [r.name, r.createdBy, r.searchPath]),
      [
        ["migrator", "sql", ["app"]],
        ["app", "digitalocean", []],
        ["readonly", "sql", ["app"]],
      ],
    );
    assert.equal(model.roles.find((r) => r.createdBy === "digitalocean")?.name, model.schema);
  });

  it("gives the app role DML only and the readonly role SELECT only", () => {
    const privileges = (role: string, type: string) => [
      ...model.grants.filter((g) => g.role === role && g.objectType === type).flatMap((g) => g.privileges),
    ];
    assert.deepEqual(privileges("app", "table"), ["SELECT", "INSERT", "UPDATE", "DELETE"]);
    assert.deepEqual(privileges("app", "sequence"), ["USAGE", "SELECT"]);
    assert.deepEqual(privileges("app", "schema"), ["USAGE"]);
    assert.deepEqual(privileges("app", "database"), ["CONNECT"]);
    assert.deepEqual(privileges("readonly", "table"), ["SELECT"]);
    assert.deepEqual(privileges("readonly", "sequence"), ["SELECT"]);
    for (const role of ["app", "readonly"]) {
      const all = [...model.grants, ...model.defaultPrivileges].filter((g) => g.role === role).flatMap((g) => g.privileges);
      for (const forbidden of NEVER_GRANTED_TO_APP) assert.ok(!all.includes(forbidden), `${role} never gets ${forbidden}`);
    }
  });

  it("applies the same privileges to future objects created by the migrator", () => {
    for (const rule of model.defaultPrivileges) {
      assert.equal(rule.owner, "migrator");
      const existing = model.grants.find((g) => g.role === rule.role && g.objectType === rule.objectType);
      assert.deepEqual(rule.privileges, existing?.privileges, `${rule.key} matches the grant on existing objects`);
    }
    assert.deepEqual(model.defaultPrivileges.map((d) => d.key).sort(), [
      "app-sequences",
      "app-tables",
      "readonly-sequences",
      "readonly-tables",
    ]);
  });

  it("leaves PUBLIC nothing on the app database or schema and no CREATE on public", () => {
    const publicGrants = model.grants.filter((g) => g.role === PUBLIC_ROLE);
    assert.deepEqual(
      publicGrants.map((g) => [g.objectType, g.schema, g.privileges]),
      [
        ["database", undefined, []],
        ["schema", "app", []],
        ["schema", "public", ["USAGE"]],
      ],
    );
  });

  it("renders the provider's statements: revoke everything, then grant exactly the list", () => {
    const sql = renderGrantSql(model, "app");
    assert.match(sql, /^REVOKE ALL PRIVILEGES ON DATABASE "app" FROM "public";$/m);
    assert.match(
      sql,
      /^REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA "app" FROM "app";\nGRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "app" TO "app";$/m,
    );
    assert.match(sql, /^ALTER DEFAULT PRIVILEGES FOR ROLE "migrator" IN SCHEMA "app" GRANT USAGE, SELECT ON SEQUENCES TO "app";$/m);
    assert.doesNotMatch(sql, /GRANT\s+ON/, "an empty privilege list grants nothing");
    const roles = renderRoleSql(model, { migrator: "m'x", app: "a", readonly: "r" });
    assert.match(roles, /^CREATE ROLE "migrator" LOGIN PASSWORD 'm''x';$/m);
    assert.match(roles, /^CREATE SCHEMA "app" AUTHORIZATION "migrator";$/m);
  });
});
