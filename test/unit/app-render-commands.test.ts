// The app's rendered droplet commands and healthcheck, whole, as docker and bash run them
// (the system tests run these texts; here each is asserted line by line so a changed word is
// seen without a shell): the api healthcheck for a port and path, the ingress join, and the
// worker stability check, for container names as the provider generates them. Also the
// healthcheck's port and path bounds at their edges, and the environment's shadowing
// messages with one and several offending keys.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  appEnvironment,
  healthcheckTest,
  renderIngressJoinCommand,
  renderWorkerStableCommand,
  stackAppEnvironmentNames,
} from "../../components/app/render";

describe("api healthcheck", () => {
  it("probes the health URL with the first of curl, wget, python3 or node the image has", () => {
    for (const [port, path] of [
      [8000, "/health"],
      [1, "/"],
      [65535, "/api/v1/health-check_2.json"],
    ] as const) {
      const url = `http://127.0.0.1:${port}${path}`;
      assert.deepEqual(healthcheckTest(port, path), [
        "CMD-SHELL",
        [
          `url=${url}`,
          'if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null --max-time 4 "$url"',
          'elif command -v wget >/dev/null 2>&1; then wget -q -O /dev/null "$url"',
          `elif command -v python3 >/dev/null 2>&1; then python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=4)' "$url"`,
          `elif command -v node >/dev/null 2>&1; then node -e 'require("http").get(process.argv[1], { timeout: 4000 }, (r) => process.exit(r.statusCode >= 200 && r.statusCode < 400 ? 0 : 1)).on("timeout", () => process.exit(1)).on("error", () => process.exit(1))' "$url"`,
          'else echo "healthcheck: the image has none of curl, wget, python3 or node" >&2; exit 1',
          "fi",
        ].join("; "),
      ]);
    }
  });

  it("refuses a port outside 1 to 65535 or not whole", () => {
    for (const port of [0, -1, 65536, 70000, 80.5, Number.NaN]) {
      assert.throws(() => healthcheckTest(port, "/health"), { message: `dropstack:app.port: not a port: ${port}` }, String(port));
    }
  });

  it("refuses a path with anything after or before the path characters", () => {
    for (const path of ["/health; rm -rf /", "/health ", "/health\n", "/health?x=1", "/health'", "health", " /health", "/health$(id)"]) {
      assert.throws(
        () => healthcheckTest(8000, path),
        { message: `dropstack:app.healthPath: expected a path like /health, got "${path}"` },
        JSON.stringify(path),
      );
    }
  });
});

describe("ingress join", () => {
  it("re-checks the health, then connects the replica under the alias unless it is already on the network", () => {
    for (const container of ["dropstack-staging-api-0-5f2a9c1", "dropstack-production-api-12-aa00bb1"]) {
      assert.equal(
        renderIngressJoinCommand({ container, network: "dropstack-ingress", alias: "api" }),
        [
          `# dropstack ingress join (components/app): ${container} answers to api on dropstack-ingress only once healthy`,
          "set -euo pipefail",
          `status=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' ${container})`,
          `if [[ $status != healthy ]]; then echo "dropstack: ${container} is $status, not healthy: it gets no traffic" >&2; exit 1; fi`,
          `networks=" $(docker inspect --format '{{range $name, $endpoint := .NetworkSettings.Networks}}{{$name}} {{end}}' ${container}) "`,
          `if [[ $networks == *" dropstack-ingress "* ]]; then`,
          `  echo "dropstack: ${container} is already on dropstack-ingress"`,
          "else",
          `  docker network connect --alias api dropstack-ingress ${container}`,
          `  echo "dropstack: ${container} is healthy and now answers to api on dropstack-ingress"`,
          "fi",
        ].join("\n"),
      );
    }
  });
});

describe("worker stability check", () => {
  it("compares the run state before and after the window, printing the last log lines of a worker that restarted", () => {
    for (const [container, seconds] of [
      ["dropstack-staging-worker-beat-0a1b2c3", 20],
      ["dropstack-production-worker-worker-9f8e7d6", 1],
    ] as const) {
      assert.equal(
        renderWorkerStableCommand({ container, seconds }),
        [
          `# dropstack worker check (components/app): ${container} keeps running for ${seconds}s without a restart`,
          "set -euo pipefail",
          `before=$(docker inspect --format '{{.State.Status}} {{.RestartCount}} {{.State.StartedAt}}' ${container})`,
          `sleep ${seconds}`,
          `after=$(docker inspect --format '{{.State.Status}} {{.RestartCount}} {{.State.StartedAt}}' ${container})`,
          `if [[ $before != running\\ * || $after != "$before" ]]; then`,
          `  echo "dropstack: worker ${container} is crash-looping or stopped (state, restarts, start time: $before -> $after); its last log lines:" >&2`,
          `  docker logs --tail 50 ${container} >&2 || true`,
          "  exit 1",
          "fi",
          `echo "dropstack: worker ${container} has run for ${seconds}s without a restart"`,
        ].join("\n"),
      );
    }
  });
});

describe("app environment shadowing", () => {
  const parts = { databaseUrl: "postgresql://app@pool/app", redisUrl: "redis://redis:6379/0", env: {}, secrets: {} };

  it("names where each variable the stack sets comes from, one line per offending key", () => {
    assert.throws(() => appEnvironment({ ...parts, env: { REDIS_URL: "redis://elsewhere" } }), {
      message: "dropstack:app.env.REDIS_URL: already set by dropstack from Redis (Cache.redisUrl); remove it",
    });
    assert.throws(
      () =>
        appEnvironment({
          ...parts,
          identity: { AUTH0_DOMAIN: "acme.eu.auth0.com" },
          env: { DATABASE_URL: "postgresql://x", REDIS_URL: "redis://y" },
          secrets: { AUTH0_DOMAIN: "evil.example.com" },
        }),
      {
        message: [
          "dropstack:app.env.DATABASE_URL: already set by dropstack from the database (Database.appUri); remove it",
          "dropstack:app.env.REDIS_URL: already set by dropstack from Redis (Cache.redisUrl); remove it",
          "dropstack:appSecrets.AUTH0_DOMAIN: already set by dropstack from Auth0 (Identity); remove it",
        ].join("\n"),
      },
    );
  });

  it("refuses each split database variable in app.env or appSecrets, naming where the stack takes it from", () => {
    for (const name of ["POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"]) {
      for (const key of ["env", "secrets"] as const)
        assert.throws(() => appEnvironment({ ...parts, [key]: { [name]: "elsewhere" } }), {
          message: `dropstack:${key === "env" ? "app.env" : "appSecrets"}.${name}: already set by dropstack from the database (Database.appUri); remove it`,
        });
    }
  });

  it("lists the names the stack sets, the Auth0 ones only with dropstack:auth0", () => {
    const database = ["DATABASE_URL", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"];
    assert.deepEqual(stackAppEnvironmentNames(false), [...database, "REDIS_URL"]);
    assert.deepEqual(stackAppEnvironmentNames(true), [
      ...database,
      "REDIS_URL",
      "AUTH0_DOMAIN",
      "AUTH0_AUDIENCE",
      "AUTH0_CLIENT_ID",
      "AUTH0_ROLES_CLAIM",
      "AUTH0_MANAGEMENT_CLIENT_ID",
      "AUTH0_MANAGEMENT_CLIENT_SECRET",
    ]);
  });
});
