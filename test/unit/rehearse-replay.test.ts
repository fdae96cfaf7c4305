// The rehearsal's pure parts: how a change is classified (the providers' ForceNew lists and
// replaceOnChanges), how real values replace the mocks', the replay order, the SQL the
// database stand-in gets from the program's registrations, and the scenarios' plan.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { clusterPlan, pgbouncerIni } from "../../tools/rehearse/database";
import { planChange, substitute, topologicalOrder } from "../../tools/rehearse/replay";
import { DEFAULT_APP_CONTEXT, repositoryOf } from "../../tools/rehearse/rehearsal";
import { APP_VERSIONS, PLAN, SCENARIOS } from "../../tools/rehearse/scenarios";
import { registration } from "../support/registration";

const reg = registration;

describe("rehearsal: what a change does", () => {
  const container = reg("docker:index/container:Container", "api");
  const base = {
    image: "sha256:a",
    envs: ["A=1"],
    restart: "unless-stopped",
    wait: true,
    waitTimeout: 180,
    healthcheck: { tests: ["CMD", "true"] },
  };

  it("leaves unchanged inputs alone, whatever their key order", () => {
    assert.equal(planChange(container, base, Object.fromEntries(Object.entries(structuredClone(base)).reverse())), "same");
  });

  for (const [key, value] of [
    ["image", "sha256:b"],
    ["envs", ["A=2"]],
    ["labels", [{ label: "x", value: "y" }]],
    ["networksAdvanced", [{ name: "n", aliases: ["api"] }]],
    ["ports", [{ internal: 80 }]],
  ] as const) {
    it(`replaces a container when ${key} changes (ForceNew)`, () => {
      assert.equal(planChange(container, base, { ...base, [key]: value }), "replace");
    });
  }

  for (const [key, value] of [
    ["restart", "always"],
    ["waitTimeout", 60],
    ["healthcheck", { tests: ["CMD", "false"] }],
    ["destroyGraceSeconds", 45],
  ] as const) {
    it(`updates a container in place when only ${key} changes`, () => {
      assert.equal(planChange(container, base, { ...base, [key]: value }), "update");
    });
  }

  it("replaces a remote command when its triggers or connection change, updates it otherwise", () => {
    const command = reg("command:remote:Command", "hook");
    const inputs = { create: "a", triggers: ["x"], connection: { host: "h" } };
    assert.equal(planChange(command, inputs, { ...inputs, triggers: ["y"] }), "replace");
    assert.equal(planChange(command, inputs, { ...inputs, connection: { host: "i" } }), "replace");
    assert.equal(planChange(command, inputs, { ...inputs, create: "b" }), "update");
    assert.equal(planChange(command, inputs, { ...inputs, stdin: "s" }), "update");
  });

  it("honours the replaceOnChanges option", () => {
    const command = reg("command:remote:Command", "hook", { replaceOnChanges: ["stdin"] });
    assert.equal(planChange(command, { stdin: "a" }, { stdin: "b" }), "replace");
  });
});

describe("rehearsal: real values for mock ones", () => {
  it("replaces every occurrence at any depth, longer values first", () => {
    const pairs: [string, string][] = [
      ["app-api-0-id-long", "REAL2"],
      ["app-api-0-id", "REAL1"],
    ];
    assert.deepEqual(substitute({ a: ["x app-api-0-id-long y", { b: "app-api-0-id" }], n: 3 }, pairs), {
      a: ["x REAL2 y", { b: "REAL1" }],
      n: 3,
    });
  });
});

describe("rehearsal: order", () => {
  it("puts every resource after what it depends on, through components and providers", () => {
    const provider = reg("pulumi:providers:docker", "docker");
    const component = reg("dropstack:index:Hooks", "hooks", { custom: false });
    const child = reg("command:remote:Command", "backup", { parent: component.urn });
    const container = reg("docker:index/container:Container", "api", {
      dependencies: [component.urn],
      provider: `${provider.urn}::docker-id`,
    });
    const order = topologicalOrder([container, component, child, provider]).map((r) => r.name);
    assert.ok(order.indexOf("backup") < order.indexOf("api"));
    assert.ok(order.indexOf("docker") < order.indexOf("api"));
  });
});

describe("rehearsal: the database stand-in", () => {
  const cluster = reg("digitalocean:index/databaseCluster:DatabaseCluster", "pg", {
    outputs: { privateHost: "private-pg.example.com", port: 25060 },
  });
  const registrations = [
    cluster,
    reg("digitalocean:index/databaseDb:DatabaseDb", "db", { inputs: { name: "app" } }),
    reg("postgresql:index/role:Role", "app", { inputs: { name: "app", login: true, password: "p'w", searchPaths: ["app"] } }),
    reg("digitalocean:index/databaseUser:DatabaseUser", "pool-user", {
      inputs: { name: "pooled", clusterId: "c" },
      outputs: { password: "do'secret", role: "normal" },
    }),
    reg("postgresql:index/schema:Schema", "schema", { inputs: { name: "app", database: "app", owner: "migrator" } }),
    reg("postgresql:index/grant:Grant", "g1", { inputs: { database: "app", role: "public", objectType: "database", privileges: [] } }),
    reg("postgresql:index/grant:Grant", "g2", {
      inputs: { database: "app", role: "app", objectType: "table", schema: "app", privileges: ["SELECT", "INSERT"] },
    }),
    reg("postgresql:index/defaultPrivileges:DefaultPrivileges", "d1", {
      inputs: { database: "app", owner: "migrator", role: "app", schema: "app", objectType: "sequence", privileges: ["USAGE"] },
    }),
    reg("digitalocean:index/databaseConnectionPool:DatabaseConnectionPool", "pool", {
      inputs: { name: "app-pool", dbName: "app", user: "app", mode: "transaction", size: 5 },
      outputs: { privateHost: "private-pool.example.com", port: 25061 },
    }),
  ];
  const plan = clusterPlan(registrations);

  it("creates the database and roles as the providers would, quoting names and passwords", () => {
    assert.match(plan.clusterSql, /CREATE DATABASE "app";/);
    assert.match(plan.clusterSql, /CREATE ROLE "app" LOGIN NOSUPERUSER .* PASSWORD 'p''w';/);
    assert.match(plan.clusterSql, /ALTER ROLE "app" SET search_path TO "app";/);
    // DigitalOcean's user API: a login role with the password the provider returns.
    assert.match(plan.clusterSql, /CREATE ROLE "pooled" LOGIN PASSWORD 'do''secret';/);
  });

  it("revokes before it grants, as postgresql.Grant does, and revokes PUBLIC's database rights", () => {
    const sql = plan.databaseSql.app;
    assert.match(sql, /REVOKE ALL ON DATABASE "app" FROM PUBLIC;/);
    assert.doesNotMatch(sql, /GRANT {2}ON DATABASE/);
    assert.ok(
      sql.indexOf('REVOKE ALL ON ALL TABLES IN SCHEMA "app" FROM "app"') <
        sql.indexOf('GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA "app" TO "app"'),
    );
    assert.match(sql, /ALTER DEFAULT PRIVILEGES FOR ROLE "migrator" IN SCHEMA "app" GRANT USAGE ON SEQUENCES TO "app";/);
  });

  it("answers on the cluster's and the pool's private names, the pool through PgBouncer with TLS", () => {
    assert.equal(plan.host, "private-pg.example.com");
    assert.deepEqual(
      plan.pools.map((p) => [p.host, p.port, p.user]),
      [["private-pool.example.com", 25061, "app"]],
    );
    const ini = pgbouncerIni(plan);
    assert.match(ini, /^app-pool = host=127\.0\.0\.1 port=25060 dbname=app pool_size=5$/m);
    assert.match(ini, /^pool_mode = transaction$/m);
    assert.match(ini, /^client_tls_sslmode = require$/m);
  });

  it("refuses a program with no cluster or two", () => {
    assert.throws(() => clusterPlan(registrations.slice(1)), /one database cluster/);
    assert.throws(() => clusterPlan([cluster, ...registrations]), /declares 2/);
  });
});

describe("rehearsal: image references", () => {
  for (const [reference, repository] of [
    ["nginx:1.28.0-alpine", "nginx"],
    ["certbot/certbot:v3.0.1", "certbot/certbot"],
    ["ghcr.io/acme/api:2.4.0", "ghcr.io/acme/api"],
    ["localhost:5000/app@sha256:" + "a".repeat(64), "localhost:5000/app"],
    ["registry:5000/app", "registry:5000/app"],
  ]) {
    it(`${reference} is from ${repository}`, () => assert.equal(repositoryOf(reference), repository));
  }
});

describe("rehearsal: the scenario plan", () => {
  it("names every scenario once, in the order `--scenario` and the system test run them", () => {
    assert.deepEqual([...PLAN.map((p) => p.name)].sort(), [...SCENARIOS].sort());
    assert.equal(new Set(PLAN.map((p) => p.name)).size, PLAN.length);
  });

  for (const [i, step] of PLAN.entries()) {
    it(`runs what ${step.name} needs before it, and what those need`, () => {
      for (const need of step.needs) {
        const at = PLAN.findIndex((p) => p.name === need);
        assert.ok(at >= 0 && at < i, `${need} comes before ${step.name}`);
        // What a need itself needs must be needed too, or --scenario would skip it.
        for (const indirect of PLAN[at].needs) assert.ok(step.needs.includes(indirect), `${step.name} needs ${indirect} (through ${need})`);
      }
    });
  }

  it("builds every version of the built-in app from its own alembic.ini", () => {
    const variants = readdirSync(join(DEFAULT_APP_CONTEXT, "variants")).sort();
    assert.deepEqual([...APP_VERSIONS].sort(), variants);
  });
});
