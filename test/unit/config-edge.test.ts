// dropstack:proxy's edge keys (csp, routes, timeouts, keepalive), dropstack:frontend and HTTP
// workers: every bad value names its key and the value, every good one parses, and proxyEdge
// turns the parsed config into what the renderer takes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseStackConfig, type StackConfig } from "../../components/config/schema";
import { proxyEdge } from "../../components/proxy";
import { DEFAULT_CONTENT_SECURITY_POLICY } from "../../components/proxy/headers";
import {
  DEFAULT_UPSTREAM_KEEPALIVE,
  DEFAULT_UPSTREAM_TIMEOUTS,
  UPSTREAM_KEEPALIVE_BOUNDS,
  UPSTREAM_TIMEOUT_BOUNDS,
} from "../../components/proxy/upstream";
import { minimalConfig, problemsAfter, type MinimalConfig } from "../support/config";

const FRONTEND_IMAGE = "ghcr.io/acme/web:1.0.0";

function parsed(change: (raw: MinimalConfig) => void): StackConfig {
  const raw = minimalConfig();
  change(raw);
  const result = parseStackConfig(raw, "staging");
  assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
  return result.config;
}

test("defaults: the safe CSP, no routes, the renderer's timeouts and keepalive, no frontend", () => {
  const config = parsed(() => {});
  assert.equal(config.proxy.csp, DEFAULT_CONTENT_SECURITY_POLICY);
  assert.equal(config.proxy.allowUnsafeInlineScripts, false);
  assert.deepEqual(config.proxy.routes, []);
  assert.deepEqual(config.proxy.timeouts, { ...DEFAULT_UPSTREAM_TIMEOUTS });
  assert.deepEqual(config.proxy.keepalive, { ...DEFAULT_UPSTREAM_KEEPALIVE });
  assert.equal(config.frontend, undefined);
});

test("every timeout and keepalive setting takes both ends of its bounds and refuses one past each, naming the key", () => {
  const groups = [
    ["timeouts", UPSTREAM_TIMEOUT_BOUNDS],
    ["keepalive", UPSTREAM_KEEPALIVE_BOUNDS],
  ] as const;
  for (const [group, bounds] of groups) {
    for (const [key, [min, max]] of Object.entries(bounds)) {
      for (const good of [min, max, Math.floor((min + max) / 2)]) {
        const config = parsed((raw) => (raw.proxy = { [group]: { [key]: good } }));
        assert.equal((config.proxy[group] as Record<string, number>)[key], good, `${group}.${key} = ${good}`);
      }
      for (const bad of [min - 1, max + 1, min + 0.5, "30", null]) {
        assert.deepEqual(
          problemsAfter((raw) => (raw.proxy = { [group]: { [key]: bad } })),
          [`dropstack:proxy.${group}.${key}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(bad)}`],
          `${group}.${key} = ${JSON.stringify(bad)}`,
        );
      }
    }
    assert.match(problemsAfter((raw) => (raw.proxy = { [group]: { idle: 3 } }))[0], new RegExp(`^dropstack:proxy\\.${group}\\.idle: `));
  }
});

test("proxy.csp: any header value; quotes, backslashes, $ and control characters are refused", () => {
  for (const csp of ["default-src 'self'", "script-src 'self' 'nonce-abc'; img-src * data:", "upgrade-insecure-requests"])
    assert.equal(parsed((raw) => (raw.proxy = { csp })).proxy.csp, csp);
  for (const csp of ['default-src "self"', "default-src 'self' $host", "a\\b", "", "default-src 'self'\nX: y"]) {
    const problems = problemsAfter((raw) => (raw.proxy = { csp }));
    assert.ok(problems.length > 0, JSON.stringify(csp));
    for (const problem of problems) assert.match(problem, /^dropstack:proxy\.csp: /);
  }
});

test("proxy.routes: paths, services and hosts are checked one by one, naming the route", () => {
  const withRoutes = (routes: unknown[], extra: (raw: MinimalConfig) => void = () => {}) =>
    problemsAfter((raw) => {
      raw.hosts = { api: "api.example.com", app: "www.example.com" };
      raw.proxy = { routes };
      extra(raw);
    });
  for (const path of ["/", "/api", "/api/v2", "/a.b~c-d_e"]) assert.deepEqual(withRoutes([{ path, service: "api" }]), [], path);
  for (const path of ["api", "/api/", "//api", "/api//v2", "/a b", "/a?b", "/../x", "/x/.", ""])
    assert.match(withRoutes([{ path, service: "api" }])[0] ?? "", /^dropstack:proxy\.routes\.0\.path: /, path);
  for (const service of ["web", "worker:", "Worker:x", "worker:X", "api "])
    assert.deepEqual(withRoutes([{ path: "/x", service }]), [
      `dropstack:proxy.routes.0.service: expected api, frontend or worker:<name>, got ${JSON.stringify(service)}`,
    ]);
  assert.deepEqual(withRoutes([{ path: "/x", service: "frontend" }]), [
    "dropstack:proxy.routes.0.service: needs dropstack:frontend: the frontend container to route to",
  ]);
  assert.deepEqual(withRoutes([{ path: "/x", service: "worker:hooks" }]), [
    'dropstack:proxy.routes.0.service: "hooks" is not a worker in app.workers',
  ]);
  assert.deepEqual(
    withRoutes([{ path: "/x", service: "worker:hooks" }], (raw) => (raw.app.workers = [{ name: "hooks", command: "run" }])),
    ["dropstack:proxy.routes.0.service: app.workers hooks has no port: set the port it serves HTTP on"],
  );
  assert.deepEqual(withRoutes([{ host: "other.example.com", path: "/x", service: "api" }]), [
    'dropstack:proxy.routes.0.host: "other.example.com" is not hosts.api or hosts.app, so nginx does not serve it',
  ]);
  // The same path twice on one host: on the default host, and on hosts.app spelt out.
  assert.deepEqual(
    withRoutes([
      { path: "/x", service: "api" },
      { host: "api.example.com", path: "/x", service: "api" },
    ]),
    ["dropstack:proxy.routes.1.path: api.example.com already routes /x"],
  );
  assert.deepEqual(
    withRoutes([
      { host: "www.example.com", path: "/x", service: "api" },
      { path: "/x", service: "api" },
    ]),
    [],
  );
  assert.match(withRoutes([{ path: "/x", service: "api", weight: 2 }])[0], /^dropstack:proxy\.routes\.0\.weight: /);
  // The health path's exact location always goes to the api: a route there would render it twice.
  for (const healthPath of ["/health", "/healthz", "/ops/ready"])
    assert.deepEqual(
      withRoutes([{ path: healthPath, service: "api" }], (raw) => (raw.app.healthPath = healthPath)),
      [`dropstack:proxy.routes.0.path: ${healthPath} is app.healthPath, which always goes straight to the api`],
    );
});

test("dropstack:frontend: defaults, bounds, and a host that serves it", () => {
  const config = parsed((raw) => {
    raw.hosts = { api: "api.example.com", app: "www.example.com" };
    raw.frontend = { image: FRONTEND_IMAGE };
  });
  assert.deepEqual(config.frontend, { image: FRONTEND_IMAGE, port: 80, replicas: 2, healthPath: "/" });
  assert.deepEqual(
    problemsAfter((raw) => (raw.frontend = { image: FRONTEND_IMAGE })),
    ["dropstack:frontend: no host serves it: set hosts.app (its / goes to the frontend), or a proxy.routes entry with service: frontend"],
  );
  // Seed-style single host: / to the frontend, /api to the api, on hosts.api alone.
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.frontend = { image: FRONTEND_IMAGE };
      raw.proxy = {
        routes: [
          { path: "/", service: "frontend" },
          { path: "/api", service: "api" },
        ],
      };
    }),
    [],
  );
  for (const [key, bad] of [
    ["replicas", 0],
    ["replicas", 11],
    ["port", 0],
    ["port", 65536],
  ] as const)
    assert.match(
      problemsAfter((raw) => {
        raw.hosts = { api: "api.example.com", app: "www.example.com" };
        raw.frontend = { image: FRONTEND_IMAGE, [key]: bad };
      })[0] ?? "",
      new RegExp(`^dropstack:frontend\\.${key}: must be a whole number`),
    );
  assert.match(
    problemsAfter((raw) => {
      raw.hosts = { api: "api.example.com", app: "www.example.com" };
      raw.frontend = { image: "web:latest@sha256:xyz" };
    })[0] ?? "",
    /^dropstack:frontend\.image: /,
  );
  assert.match(problemsAfter((raw) => (raw.frontend = { port: 80 }))[0] ?? "", /^dropstack:frontend\.image: /);
  // Every path the schema takes, the replicas' healthcheck takes too; the others are refused here, by key.
  for (const healthPath of ["/", "/index.html", "/healthz", "/a/b-c_d.e"])
    assert.deepEqual(
      problemsAfter((raw) => {
        raw.hosts = { api: "api.example.com", app: "www.example.com" };
        raw.frontend = { image: FRONTEND_IMAGE, healthPath };
      }),
      [],
      healthPath,
    );
  for (const healthPath of ["/~user", "index.html", "/a b", "/a?b"])
    assert.match(
      problemsAfter((raw) => {
        raw.hosts = { api: "api.example.com", app: "www.example.com" };
        raw.frontend = { image: FRONTEND_IMAGE, healthPath };
      })[0] ?? "",
      /^dropstack:frontend\.healthPath: expected a path the frontend answers with 200/,
      healthPath,
    );
});

test("a worker with a port needs a healthcheck: nginx reaches only healthy workers", () => {
  assert.deepEqual(
    problemsAfter((raw) => (raw.app.workers = [{ name: "hooks", command: "run", port: 9000 }])),
    ["dropstack:app.workers.0.port: needs healthcheck: nginx reaches a worker only once it has proven healthy"],
  );
  assert.deepEqual(
    problemsAfter((raw) => (raw.app.workers = [{ name: "hooks", command: "run", port: 9000, healthcheck: "true" }])),
    [],
  );
});

test("proxyEdge: routes default to hosts.api, the frontend and HTTP workers become services under their ingress aliases", () => {
  const config = parsed((raw) => {
    raw.hosts = { api: "api.example.com", app: "www.example.com" };
    raw.frontend = { image: FRONTEND_IMAGE, port: 8080 };
    raw.app.workers = [
      { name: "hooks", command: "run", port: 9000, healthcheck: "true" },
      { name: "beat", command: "beat" },
    ];
    raw.proxy = {
      csp: "default-src 'self'",
      routes: [
        { path: "/hooks", service: "worker:hooks", stripPrefix: true },
        { host: "www.example.com", path: "/api", service: "api" },
      ],
      timeouts: { read: 30 },
    };
  });
  assert.deepEqual(proxyEdge(config), {
    contentSecurityPolicy: "default-src 'self'",
    routes: [
      { host: "api.example.com", path: "/hooks", service: "worker:hooks", stripPrefix: true },
      { host: "www.example.com", path: "/api", service: "api", stripPrefix: false },
    ],
    services: { frontend: { alias: "frontend", port: 8080 }, "worker:hooks": { alias: "worker-hooks", port: 9000 } },
    timeouts: { ...DEFAULT_UPSTREAM_TIMEOUTS, read: 30 },
    keepalive: { ...DEFAULT_UPSTREAM_KEEPALIVE },
  });
  assert.deepEqual(proxyEdge(parsed(() => {})).services, {});
});
