// DATABASE_READ_URLS in the app's environment: the read replicas' URLs, comma-separated, set
// only when there are replicas, and reserved from app.env and appSecrets like DATABASE_URL
// then and only then. The URLs hold passwords, so no refusal repeats one.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DATABASE_READ_URLS, appEnvironment, databaseReadUrlsValue, stackAppEnvironmentNames } from "../../components/app/render";
import { connectionUri } from "../../components/database/settings";
import { problemsAfter } from "../support/config";

const parts = {
  databaseUrl: "postgresql://app:pw@private-pool.db.example.com:25061/app-pool?sslmode=require",
  redisUrl: "redis://default:pw@redis:6379/0",
  env: { LOG_LEVEL: "info" },
  secrets: { API_KEY: "k" },
};

/** The readonly role's URL on replica n, as Database.readUris writes it, with a password full of URL syntax. */
const replicaUrl = (n: number) =>
  connectionUri({
    user: "readonly",
    password: `p@ss,w:rd/${n}?#%`,
    host: `private-dropstack-production-pg-replica-${n}.db.example.com`,
    port: 25060,
    database: "app",
  });

describe("DATABASE_READ_URLS", () => {
  it("is absent, and the environment what it was, without replicas or with an empty list", () => {
    const without = appEnvironment(parts);
    assert.equal(DATABASE_READ_URLS in without, false);
    assert.deepEqual(appEnvironment({ ...parts, databaseReadUrls: [] }), without);
    assert.deepEqual(appEnvironment({ ...parts, databaseReadUrls: undefined }), without);
  });

  for (const count of [1, 2, 5]) {
    it(`lists ${count} replica URL(s) in replica order, comma-separated, each whole once split again`, () => {
      const urls = Array.from({ length: count }, (_, i) => replicaUrl(i + 1));
      const environment = appEnvironment({ ...parts, databaseReadUrls: urls });
      assert.equal(environment[DATABASE_READ_URLS], urls.join(","));
      assert.deepEqual(environment[DATABASE_READ_URLS].split(","), urls);
      for (const url of environment[DATABASE_READ_URLS].split(","))
        assert.equal(decodeURIComponent(new URL(url).password).includes(","), true);
      const rest = Object.fromEntries(Object.entries(environment).filter(([name]) => name !== DATABASE_READ_URLS));
      assert.deepEqual(rest, appEnvironment(parts), "nothing else changes");
    });
  }

  it("refuses an empty URL or one holding a comma, without repeating any URL", () => {
    for (const urls of [[""], [replicaUrl(1), ""], ["postgresql://readonly:a,b@host:25060/app"], [replicaUrl(1), "x,y"]]) {
      for (const call of [() => databaseReadUrlsValue(urls), () => appEnvironment({ ...parts, databaseReadUrls: urls })]) {
        assert.throws(call, (error: Error) => {
          assert.match(error.message, /^read replica URL \d of \d is empty or holds a comma, .*its value is secret and not shown$/);
          for (const url of urls.filter((u) => u !== "")) assert.equal(error.message.includes(url), false);
          return true;
        });
      }
    }
  });

  it("may not be set in app.env or appSecrets when the stack sets it, naming where it comes from", () => {
    for (const key of ["env", "secrets"] as const) {
      assert.throws(
        () => appEnvironment({ ...parts, [key]: { [DATABASE_READ_URLS]: "postgresql://elsewhere" }, databaseReadUrls: [replicaUrl(1)] }),
        {
          message: `dropstack:${key === "env" ? "app.env" : "appSecrets"}.${DATABASE_READ_URLS}: already set by dropstack from the read replicas (Database.readUris); remove it`,
        },
      );
    }
  });

  it("is the app's own name when there are no replicas", () => {
    const environment = appEnvironment({ ...parts, env: { [DATABASE_READ_URLS]: "postgresql://own-replica/app" } });
    assert.equal(environment[DATABASE_READ_URLS], "postgresql://own-replica/app");
  });
});

describe("the names the stack reserves", () => {
  it("include DATABASE_READ_URLS with read replicas only, beside the database's", () => {
    for (const auth0 of [false, true]) {
      const without = stackAppEnvironmentNames(auth0);
      assert.deepEqual(stackAppEnvironmentNames(auth0, false), without);
      assert.equal(without.includes(DATABASE_READ_URLS), false);
      const withReplicas = stackAppEnvironmentNames(auth0, true);
      assert.deepEqual(
        withReplicas.filter((name) => name !== DATABASE_READ_URLS),
        without,
      );
      assert.equal(withReplicas.filter((name) => name === DATABASE_READ_URLS).length, 1);
    }
  });

  it("are what the config schema refuses in app.env and appSecrets: DATABASE_READ_URLS with postgres.readReplicas only", () => {
    for (const readReplicas of [0, 1, 3]) {
      for (const where of ["env", "secrets"] as const) {
        const found = problemsAfter((raw) => {
          raw.postgres = { readReplicas, size: "db-s-1vcpu-2gb" };
          if (where === "env") raw.app.env = { [DATABASE_READ_URLS]: "x" };
          else raw.appSecrets = { [DATABASE_READ_URLS]: "x" };
        });
        const key = where === "env" ? "app.env" : "appSecrets";
        assert.deepEqual(
          found,
          readReplicas > 0 ? [`dropstack:${key}.${DATABASE_READ_URLS}: is set by dropstack in the app's environment; remove it`] : [],
          `${readReplicas} replicas, ${key}`,
        );
      }
    }
  });
});
