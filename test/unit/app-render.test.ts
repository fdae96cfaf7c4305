// The app containers' pure pieces: one source per environment variable, stable env lists,
// digest pinning and healthcheck input validation.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { HEALTHCHECK_TIMING, appEnvironment, environmentList, healthcheckTest } from "../../components/app/render";
import { isDigestPinned } from "../../components/common/patterns";
import { decodeConfigValue, parseStackConfig } from "../../components/config";
import { readStackFile } from "../../tools/check/stack-file";
import { ROOT } from "../support/program";

const parts = {
  databaseUrl: "postgresql://app:pw@pool:25061/app-pool?sslmode=require",
  redisUrl: "redis://:pw@redis:6379/0",
  identity: { AUTH0_DOMAIN: "acme.eu.auth0.com", AUTH0_AUDIENCE: "https://api.example.com" },
  env: { LOG_LEVEL: "info" },
  secrets: { SENTRY_DSN: "https://key@sentry.example.com/1" },
};

describe("app environment", () => {
  it("merges the stack's URLs, the database's parts, Auth0 settings, app.env and appSecrets", () => {
    assert.deepEqual(appEnvironment(parts), {
      LOG_LEVEL: "info",
      SENTRY_DSN: "https://key@sentry.example.com/1",
      DATABASE_URL: "postgresql://app:pw@pool:25061/app-pool?sslmode=require",
      POSTGRES_HOST: "pool",
      POSTGRES_PORT: "25061",
      POSTGRES_USER: "app",
      POSTGRES_PASSWORD: "pw",
      POSTGRES_DB: "app-pool",
      REDIS_URL: "redis://:pw@redis:6379/0",
      AUTH0_DOMAIN: "acme.eu.auth0.com",
      AUTH0_AUDIENCE: "https://api.example.com",
    });
  });

  it("leaves out what the stack does not run", () => {
    const env = appEnvironment({ databaseUrl: "postgresql://app@pool/app-pool", env: {}, secrets: {} });
    assert.deepEqual(Object.keys(env), [
      "DATABASE_URL",
      "POSTGRES_HOST",
      "POSTGRES_PORT",
      "POSTGRES_USER",
      "POSTGRES_PASSWORD",
      "POSTGRES_DB",
    ]);
  });

  it("refuses config that shadows a variable the stack sets, naming each key", () => {
    assert.throws(
      () => appEnvironment({ ...parts, env: { DATABASE_URL: "postgresql://elsewhere" }, secrets: { AUTH0_DOMAIN: "evil.auth0.com" } }),
      (e: Error) =>
        /dropstack:app\.env\.DATABASE_URL: already set by dropstack from the database/.test(e.message) &&
        /dropstack:appSecrets\.AUTH0_DOMAIN: already set by dropstack from Auth0/.test(e.message),
    );
  });

  it("is checked with the rest of the config: app.env and appSecrets may not set what dropstack sets", () => {
    const file = readStackFile(path.join(ROOT, "Pulumi.staging.yaml"));
    const raw = Object.fromEntries(
      Object.entries(file.config)
        .filter(([k]) => k.startsWith("dropstack:"))
        .map(([k, v]) => [k.slice("dropstack:".length), decodeConfigValue(v)]),
    );
    const app = raw.app as { env: Record<string, string> };
    const result = parseStackConfig(
      {
        ...raw,
        app: { ...app, env: { ...app.env, REDIS_URL: "redis://elsewhere" } },
        appSecrets: { AUTH0_CLIENT_ID: "x", API_KEY: "fine" },
      },
      "staging",
    );
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.problems, [
      "dropstack:app.env.REDIS_URL: is set by dropstack in the app's environment; remove it",
      "dropstack:appSecrets.AUTH0_CLIENT_ID: is set by dropstack in the app's environment; remove it",
    ]);
    assert.equal(parseStackConfig({ ...raw, appSecrets: { API_KEY: "fine" } }, "staging").ok, true);
  });

  it("lists variables sorted, so reordering config changes nothing", () => {
    assert.deepEqual(environmentList({ B: "2", A: "1=one" }), ["A=1=one", "B=2"]);
    assert.deepEqual(environmentList({ A: "1=one", B: "2" }), environmentList({ B: "2", A: "1=one" }));
  });
});

describe("image pinning", () => {
  it("accepts only a full sha256 digest at the end", () => {
    assert.equal(isDigestPinned(`ghcr.io/acme/api:2.4.0@sha256:${"a".repeat(64)}`), true);
    assert.equal(isDigestPinned(`ghcr.io/acme/api@sha256:${"a".repeat(64)}`), true);
    for (const ref of [
      "ghcr.io/acme/api:2.4.0",
      "ghcr.io/acme/api:latest",
      `ghcr.io/acme/api@sha256:${"a".repeat(63)}`,
      `api@sha256:${"A".repeat(64)}`,
    ]) {
      assert.equal(isDigestPinned(ref), false, ref);
    }
  });
});

describe("healthcheck", () => {
  it("is a CMD-SHELL probe of the health path on the app port over loopback", () => {
    const [kind, script] = healthcheckTest(8000, "/health");
    assert.equal(kind, "CMD-SHELL");
    assert.match(script, /^url=http:\/\/127\.0\.0\.1:8000\/health; /);
  });

  it("writes durations the way the docker provider reads them back (Go's format), so previews stay clean", () => {
    const goDuration = (seconds: number) => {
      const h = Math.floor(seconds / 3600),
        m = Math.floor((seconds % 3600) / 60),
        s = seconds % 60;
      return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
    };
    for (const key of ["interval", "timeout", "startPeriod"] as const) {
      const value = HEALTHCHECK_TIMING[key];
      const parts = /^(?:(\d+)m)?(\d+)s$/.exec(value);
      assert.ok(parts, `${key}: ${value} is not in minutes and seconds`);
      const seconds = Number(parts[1] ?? 0) * 60 + Number(parts[2]);
      assert.equal(goDuration(seconds), value, key);
    }
  });

  it("rejects a port or path that would not make a URL", () => {
    assert.throws(() => healthcheckTest(0, "/health"), /dropstack:app\.port/);
    assert.throws(() => healthcheckTest(8000, "health; rm -rf /"), /dropstack:app\.healthPath/);
  });
});
