// The deploy verification keys (dropstack:app.smoke, app.verify, app.watch): their safe
// defaults, and every bad value named by its full key, as the check prints it with exit 2.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig } from "../../components/config/schema";
import { runCheck, writeStackVariant } from "../support/check";

const minimal = (app: Record<string, unknown> = {}, more: Record<string, unknown> = {}) => ({
  region: "fra1",
  domain: "example.com",
  hosts: { api: "api.example.com", app: "app.example.com" },
  sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFr0m6wZc1Q3x8mV8m7bQJ0xWcN6iE4p5Yl9oUuKqP2S ops@example.com"],
  app: { image: "ghcr.io/acme/api:1.0.0", migrate: "alembic upgrade head", ...app },
  tls: { email: "ops@example.com" },
  ...more,
});
const auth0 = { apiIdentifier: "https://api.example.com", roles: { admin: ["read:users", "write:users"], guest: [] } };

function problems(raw: Record<string, unknown>): string[] {
  const result = parseStackConfig(raw, "staging");
  return result.ok ? [] : result.problems;
}

describe("dropstack:app.smoke", () => {
  it("defaults to no extra checks, and fills each check's method, status and token", () => {
    const plain = parseStackConfig(minimal(), "staging");
    assert.ok(plain.ok);
    assert.deepEqual(plain.config.app.smoke, []);
    const one = parseStackConfig(minimal({ smoke: [{ path: "/api/items?page=1" }] }), "staging");
    assert.ok(one.ok);
    assert.deepEqual(one.config.app.smoke, [{ method: "GET", path: "/api/items?page=1", status: 200, token: false, scopes: [] }]);
  });

  it("accepts a token check on a stack with auth0, with scopes the roles hold, on either host", () => {
    const result = parseStackConfig(
      minimal(
        {
          smoke: [
            { path: "/api/users", token: true, scopes: ["read:users"], bodyContains: '"users"' },
            { method: "HEAD", path: "/", host: "app.example.com", status: 204 },
          ],
        },
        { auth0 },
      ),
      "staging",
    );
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  });

  it("names each bad key of each check", () => {
    const bad = [
      [{ path: "api/items" }, /^dropstack:app\.smoke\.0\.path: expected a request path like \/api\/users\/me/],
      [{ path: "/a b" }, /^dropstack:app\.smoke\.0\.path: expected a request path/],
      [
        { path: "/x", method: "TRACE" },
        /^dropstack:app\.smoke\.0\.method: expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got "TRACE"/,
      ],
      [{ path: "/x", status: 700 }, /^dropstack:app\.smoke\.0\.status: must be a whole number from 100 to 599, got 700/],
      [{ path: "/x", status: "2xx" }, /^dropstack:app\.smoke\.0\.status: must be a whole number from 100 to 599/],
      [{ path: "/x", host: "other.example.com" }, /^dropstack:app\.smoke\.0\.host: "other\.example\.com" is not hosts\.api or hosts\.app/],
      [{ path: "/x", token: true }, /^dropstack:app\.smoke\.0\.token: needs dropstack:auth0/],
      [{ path: "/x", scopes: ["read:users"] }, /^dropstack:app\.smoke\.0\.scopes: only used with token: true/],
      [{ path: "/x", method: "HEAD", bodyContains: "x" }, /^dropstack:app\.smoke\.0\.bodyContains: a HEAD response has no body/],
      [{ path: "/x", bodyContains: " " }, /^dropstack:app\.smoke\.0\.bodyContains: expected text the response body must contain/],
      [
        { path: "/x", bodyContains: "a\tb" },
        /^dropstack:app\.smoke\.0\.bodyContains: expected text the response body must contain, without tabs/,
      ],
      [{ path: "/x", retries: 3 }, /^dropstack:app\.smoke\.0\.retries: unknown key/],
    ] as const;
    for (const [check, expected] of bad) {
      const found = problems(minimal({ smoke: [check] }));
      assert.equal(found.length, 1, `${JSON.stringify(check)}: ${found.join("\n")}`);
      assert.match(found[0], expected);
    }
    assert.deepEqual(problems(minimal({ smoke: [{ path: "/x", token: true, scopes: ["delete:everything"] }] }, { auth0 })), [
      'dropstack:app.smoke.0.scopes: "delete:everything" is not a permission of any role in auth0.roles',
    ]);
    assert.deepEqual(problems(minimal({ smoke: { path: "/x" } })), [
      'dropstack:app.smoke: expected a list of {path, status, …}, got {"path":"/x"}',
    ]);
  });
});

describe("dropstack:app.verify.sql", () => {
  it("defaults to no assertions", () => {
    const result = parseStackConfig(minimal(), "staging");
    assert.ok(result.ok);
    assert.deepEqual(result.config.app.verify, { sql: [] });
  });

  it("takes named one-line queries, tabs included", () => {
    const sql = [
      { name: "43 tables", query: "SELECT count(*) = 43 FROM information_schema.tables WHERE table_schema = 'app'" },
      { name: "tabbed", query: "SELECT\ttrue" },
    ];
    const result = parseStackConfig(minimal({ verify: { sql } }), "staging");
    assert.ok(result.ok);
    assert.deepEqual(result.config.app.verify.sql, sql);
  });

  it("names each bad key", () => {
    const bad = [
      [{ sql: [{ name: "x" }] }, /^dropstack:app\.verify\.sql\.0\.query: required$/],
      [{ sql: [{ query: "SELECT true" }] }, /^dropstack:app\.verify\.sql\.0\.name: required$/],
      [{ sql: [{ name: "a\tb", query: "SELECT true" }] }, /^dropstack:app\.verify\.sql\.0\.name: expected a short name for the assertion/],
      [{ sql: [{ name: "x".repeat(101), query: "SELECT true" }] }, /^dropstack:app\.verify\.sql\.0\.name: expected a short name/],
      [{ sql: [{ name: "x", query: "   " }] }, /^dropstack:app\.verify\.sql\.0\.query: expected one line of SQL returning true/],
      [{ sql: [{ name: "x", query: "SELECT true", as: "migrator" }] }, /^dropstack:app\.verify\.sql\.0\.as: unknown key/],
      [{ sql: "SELECT true" }, /^dropstack:app\.verify\.sql: expected a list of \{name, query\}, got "SELECT true"/],
      [{ queries: [] }, /^dropstack:app\.verify\.queries: unknown key/],
      [
        {
          sql: [
            { name: "same", query: "SELECT true" },
            { name: "same", query: "SELECT 1 = 1" },
          ],
        },
        /^dropstack:app\.verify\.sql: assertion names repeat: same; a failure names its assertion$/,
      ],
    ] as const;
    for (const [verify, expected] of bad) {
      const found = problems(minimal({ verify }));
      assert.equal(found.length, 1, `${JSON.stringify(verify)}: ${found.join("\n")}`);
      assert.match(found[0], expected);
    }
    assert.match(
      problems(minimal({ verify: { sql: [{ name: "x", query: "SELECT\ntrue" }] } }))[0],
      /^dropstack:app\.verify\.sql\.0\.query: contains a line break/,
    );
  });
});

describe("dropstack:app.watch", () => {
  it("is off by default, with limits ready for when seconds is set", () => {
    const result = parseStackConfig(minimal(), "staging");
    assert.ok(result.ok);
    assert.deepEqual(result.config.app.watch, { seconds: 0, max5xxPercent: 1, p95LatencyMs: 2000, minRequests: 20, rollback: false });
    const on = parseStackConfig(minimal({ watch: { seconds: 600, max5xxPercent: 0.25 } }), "staging");
    assert.ok(on.ok);
    assert.deepEqual(on.config.app.watch, { seconds: 600, max5xxPercent: 0.25, p95LatencyMs: 2000, minRequests: 20, rollback: false });
    const rollback = parseStackConfig(minimal({ watch: { seconds: 60, rollback: true } }), "staging");
    assert.ok(rollback.ok && rollback.config.app.watch.rollback);
  });

  it("names each bad key", () => {
    const bad = [
      [{ seconds: -1 }, /^dropstack:app\.watch\.seconds: must be a whole number from 0 to 3600, got -1$/],
      [{ seconds: 7200 }, /^dropstack:app\.watch\.seconds: must be a whole number from 0 to 3600/],
      [{ seconds: "5m" }, /^dropstack:app\.watch\.seconds: must be a whole number from 0 to 3600, got "5m"/],
      [
        { max5xxPercent: 101 },
        /^dropstack:app\.watch\.max5xxPercent: must be a percentage from 0 to 100 with at most two decimals, got 101$/,
      ],
      [{ max5xxPercent: 0.125 }, /^dropstack:app\.watch\.max5xxPercent: must be a percentage from 0 to 100 with at most two decimals/],
      [{ max5xxPercent: "1%" }, /^dropstack:app\.watch\.max5xxPercent: must be a percentage/],
      [{ p95LatencyMs: 0 }, /^dropstack:app\.watch\.p95LatencyMs: must be a whole number from 1 to 600000/],
      [{ minRequests: 0.5 }, /^dropstack:app\.watch\.minRequests: must be a whole number from 1 to 1000000/],
      [
        { rollback: true },
        /^dropstack:app\.watch\.rollback: rolls back after a breach of the post-deploy watch, which is off: set app\.watch\.seconds too$/,
      ],
      [{ seconds: 60, rollback: "yes" }, /^dropstack:app\.watch\.rollback: expected true or false, got "yes"$/],
      [{ seconds: 60, rolback: true }, /^dropstack:app\.watch\.rolback: unknown key/],
    ] as const;
    for (const [watch, expected] of bad) {
      const found = problems(minimal({ watch }));
      assert.equal(found.length, 1, `${JSON.stringify(watch)}: ${found.join("\n")}`);
      assert.match(found[0], expected);
    }
  });
});

describe("npm run check with bad deploy verification config", () => {
  it("exits 2 and names every bad key, printing nothing else", () => {
    const file = writeStackVariant("staging", (c) => {
      const app = c["dropstack:app"] as Record<string, unknown>;
      app.smoke = [{ path: "/ok" }, { path: "no-slash", status: 99 }];
      app.verify = { sql: [{ name: "no query" }] };
      app.watch = { seconds: 30, max5xxPercent: 150 };
    });
    const report = runCheck("staging", { configFile: file, json: false });
    assert.equal(report.status, 2, report.stdout + report.stderr);
    assert.equal(report.stdout, "");
    assert.match(report.stderr, /dropstack:app\.smoke\.1\.path: expected a request path/);
    assert.match(report.stderr, /dropstack:app\.smoke\.1\.status: must be a whole number from 100 to 599, got 99/);
    assert.match(report.stderr, /dropstack:app\.verify\.sql\.0\.query: required/);
    assert.match(
      report.stderr,
      /dropstack:app\.watch\.max5xxPercent: must be a percentage from 0 to 100 with at most two decimals, got 150/,
    );
    assert.doesNotMatch(report.stderr, /app\.smoke\.0/);
  });
});
