// The checks that look at several keys at once (the schema's last step), each with the
// message the user reads, on a config that breaks that one rule and on its nearest
// compliant variants.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type MinimalConfig, problemsAfter } from "../support/config";

type Raw = MinimalConfig;

const AUTH0 = { apiIdentifier: "https://api.example.com", roles: { reader: ["read:all"], admin: ["write:all"] } };
/** What production needs besides staging's minimal config. */
const PRODUCTION = { adminCidrs: ["203.0.113.0/24"], backups: { offsite: false } };

function problems(change: (raw: Raw) => void, stack = "staging"): string[] {
  return problemsAfter((raw) => {
    if (stack === "production") Object.assign(raw, PRODUCTION);
    change(raw);
  }, stack);
}

describe("tls.email", () => {
  it("is needed by staging too: it has no default", () => {
    assert.deepEqual(
      problems((raw) => delete raw.tls),
      ["dropstack:tls.email: required: the ACME account email for Let's Encrypt"],
    );
    assert.deepEqual(
      problems((raw) => void (raw.tls = { staging: true })),
      ["dropstack:tls.email: required: the ACME account email for Let's Encrypt"],
    );
  });
});

describe("hosts with manageDns", () => {
  it("must be the zone or inside it", () => {
    const withHosts =
      (hosts: Record<string, string>, manageDns = true) =>
      (raw: Raw) =>
        Object.assign(raw, { manageDns, hosts });
    for (const api of ["example.com", "api.example.com", "a.b.example.com"]) assert.deepEqual(problems(withHosts({ api })), [], api);
    for (const api of ["api.example.org", "api.notexample.com", "example.com.evil.net", "apiexample.com"])
      assert.deepEqual(problems(withHosts({ api })), [`dropstack:hosts.api: "${api}" is not inside the managed zone "example.com"`], api);
    assert.deepEqual(problems(withHosts({ api: "api.example.com", app: "app.example.org" })), [
      'dropstack:hosts.app: "app.example.org" is not inside the managed zone "example.com"',
    ]);
    assert.deepEqual(problems(withHosts({ api: "api.example.org" }, false)), [], "without manageDns any host");
  });

  it("api and app must differ", () => {
    assert.deepEqual(
      problems((raw) => void (raw.hosts = { api: "api.example.com", app: "api.example.com" })),
      ["dropstack:hosts.app: must differ from hosts.api"],
    );
    assert.deepEqual(
      problems((raw) => void (raw.hosts = { api: "api.example.com", app: "app.example.com" })),
      [],
    );
  });
});

describe("app.watch.rollback", () => {
  it("needs the watch on", () => {
    const message =
      "dropstack:app.watch.rollback: rolls back after a breach of the post-deploy watch, which is off: set app.watch.seconds too";
    assert.deepEqual(
      problems((raw) => void (raw.app.watch = { rollback: true })),
      [message],
    );
    assert.deepEqual(
      problems((raw) => void (raw.app.watch = { rollback: true, seconds: 0 })),
      [message],
    );
    for (const seconds of [1, 300, 3600])
      assert.deepEqual(
        problems((raw) => void (raw.app.watch = { rollback: true, seconds })),
        [],
        `${seconds}`,
      );
    assert.deepEqual(
      problems((raw) => void (raw.app.watch = { rollback: false, seconds: 0 })),
      [],
    );
  });
});

describe("promotion in production", () => {
  const required =
    "dropstack:promotion.stagingStack: required in production: the staging stack (org/project/stack) whose smoke-tested image may ship; or set promotion.allowUnpromoted";

  it("needs the staging stack or an explicit override", () => {
    assert.deepEqual(
      problems(() => undefined, "production"),
      [required],
    );
    assert.deepEqual(
      problems((raw) => void (raw.promotion = { allowUnpromoted: false }), "production"),
      [required],
    );
    assert.deepEqual(
      problems((raw) => void (raw.promotion = { stagingStack: "acme/dropstack/staging" }), "production"),
      [],
    );
    assert.deepEqual(
      problems((raw) => void (raw.promotion = { allowUnpromoted: true }), "production"),
      [],
    );
  });

  it("is not needed in staging", () => {
    assert.deepEqual(
      problems(() => undefined),
      [],
    );
  });
});

describe("registry credentials", () => {
  it("are for app.image's own registry", () => {
    const registry = (server: string, image: string) => (raw: Raw) => {
      raw.registry = { server, username: "bot", password: "s3cr3t" };
      raw.app.image = image;
    };
    assert.deepEqual(problems(registry("ghcr.io", "ghcr.io/acme/api:1")), []);
    assert.deepEqual(problems(registry("registry.example.com:5000", "registry.example.com:5000/api:1")), []);
    assert.deepEqual(problems(registry("ghcr.io", "registry.example.com/acme/api:1")), [
      'dropstack:registry.server: "ghcr.io" is not the registry of app.image, which docker pulls from registry.example.com',
    ]);
    assert.deepEqual(problems(registry("registry.example.com", "registry.example.com:5000/api:1")), [
      'dropstack:registry.server: "registry.example.com" is not the registry of app.image, which docker pulls from registry.example.com:5000',
    ]);
  });
});

describe("smoke checks", () => {
  const smoke =
    (check: Record<string, unknown>, auth0: unknown = AUTH0) =>
    (raw: Raw) => {
      raw.app.smoke = [{ path: "/health", ...check }];
      if (auth0) raw.auth0 = auth0;
    };

  it("go to a host nginx serves", () => {
    assert.deepEqual(problems(smoke({ host: "api.example.com" })), []);
    assert.deepEqual(problems(smoke({ host: "other.example.com" })), [
      'dropstack:app.smoke.0.host: "other.example.com" is not hosts.api or hosts.app, so nginx does not serve it',
    ]);
    const withApp = (raw: Raw) => {
      smoke({ host: "app.example.com" })(raw);
      raw.hosts = { api: "api.example.com", app: "app.example.com" };
    };
    assert.deepEqual(problems(withApp), []);
  });

  it("with a token need Auth0, and scopes need a token and must be permissions of a role", () => {
    assert.deepEqual(problems(smoke({ token: true }, null)), [
      "dropstack:app.smoke.0.token: needs dropstack:auth0: the token comes from the stack's Auth0 M2M client",
    ]);
    assert.deepEqual(problems(smoke({ token: true })), []);
    assert.deepEqual(problems(smoke({ token: true, scopes: ["read:all", "write:all"] })), []);
    assert.deepEqual(problems(smoke({ scopes: ["read:all"] })), ["dropstack:app.smoke.0.scopes: only used with token: true"]);
    assert.deepEqual(problems(smoke({ token: true, scopes: ["read:all", "delete:all", "read:none"] })), [
      'dropstack:app.smoke.0.scopes: "delete:all" is not a permission of any role in auth0.roles',
      'dropstack:app.smoke.0.scopes: "read:none" is not a permission of any role in auth0.roles',
    ]);
  });

  it("of a HEAD request cannot look at a body", () => {
    assert.deepEqual(problems(smoke({ method: "HEAD", bodyContains: "ok" })), [
      "dropstack:app.smoke.0.bodyContains: a HEAD response has no body",
    ]);
    assert.deepEqual(problems(smoke({ method: "HEAD" })), []);
    assert.deepEqual(problems(smoke({ method: "GET", bodyContains: "ok" })), []);
  });

  it("are numbered in messages", () => {
    const raw = (r: Raw) => {
      r.app.smoke = [{ path: "/health" }, { path: "/x", host: "nowhere.example.com" }];
    };
    assert.deepEqual(problems(raw), [
      'dropstack:app.smoke.1.host: "nowhere.example.com" is not hosts.api or hosts.app, so nginx does not serve it',
    ]);
  });
});

describe("names that must not repeat", () => {
  it("schema assertions, each repeated name once", () => {
    const sql =
      (...names: string[]) =>
      (raw: Raw) =>
        void (raw.app.verify = { sql: names.map((name) => ({ name, query: "SELECT true" })) });
    assert.deepEqual(problems(sql("a", "b")), []);
    assert.deepEqual(problems(sql("a", "b", "a", "b", "a")), [
      "dropstack:app.verify.sql: assertion names repeat: a, b; a failure names its assertion",
    ]);
  });

  it("workers, each repeated name once", () => {
    const workers =
      (...names: string[]) =>
      (raw: Raw) =>
        void (raw.app.workers = names.map((name) => ({ name, command: "run" })));
    assert.deepEqual(problems(workers("a", "b")), []);
    assert.deepEqual(problems(workers("w", "beat", "w", "w", "beat")), ["dropstack:app.workers: worker names repeat: w, beat"]);
  });
});

describe("the app's environment", () => {
  it("keeps each variable in app.env or appSecrets, not both", () => {
    const both = (raw: Raw) => {
      raw.app.env = { LOG_LEVEL: "info", POOL: "5" };
      raw.appSecrets = { POOL: "6", API_KEY: "k" };
    };
    assert.deepEqual(problems(both), ["dropstack:appSecrets.POOL: is also set in app.env; keep each variable in one place"]);
  });

  it("may not set what dropstack sets, in either place", () => {
    for (const name of [
      "DATABASE_URL",
      "POSTGRES_HOST",
      "POSTGRES_PORT",
      "POSTGRES_USER",
      "POSTGRES_PASSWORD",
      "POSTGRES_DB",
      "REDIS_URL",
    ]) {
      assert.deepEqual(
        problems((raw) => void (raw.app.env = { [name]: "x" })),
        [`dropstack:app.env.${name}: is set by dropstack in the app's environment; remove it`],
        name,
      );
      assert.deepEqual(
        problems((raw) => void (raw.appSecrets = { [name]: "x" })),
        [`dropstack:appSecrets.${name}: is set by dropstack in the app's environment; remove it`],
        name,
      );
    }
  });

  it("may set the Auth0 variables when the stack has no Auth0 tenant, and not when it has one", () => {
    for (const name of ["AUTH0_DOMAIN", "AUTH0_AUDIENCE", "AUTH0_CLIENT_ID", "AUTH0_ROLES_CLAIM"]) {
      assert.deepEqual(
        problems((raw) => void (raw.app.env = { [name]: "x" })),
        [],
        name,
      );
      assert.deepEqual(
        problems((raw) => {
          raw.app.env = { [name]: "x" };
          raw.auth0 = AUTH0;
        }),
        [`dropstack:app.env.${name}: is set by dropstack in the app's environment; remove it`],
        name,
      );
    }
  });
});
