// What validateNginxConfInput tells a user about the services, routes, upstream timeouts and
// keepalive of the nginx.conf input, and validateUpstreamTuning on its own. The values are
// generated per class: service names around the worker-name pattern (case, first character,
// length 31/32, separators), aliases and ports as for the api, routes on every host that is
// not one routes serve, services not given, the same prefix twice on one host; and each
// timeout and keepalive setting at both ends of its bounds, one past them, fractions, NaN,
// Infinity, strings, null and unknown keys. Each refusal is asserted as the whole message.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_UPSTREAM_KEEPALIVE,
  DEFAULT_UPSTREAM_TIMEOUTS,
  UPSTREAM_KEEPALIVE_BOUNDS,
  UPSTREAM_TIMEOUT_BOUNDS,
  renderNginxConf,
  validateNginxConfInput,
  validateUpstreamTuning,
  type NginxConfInput,
} from "../../components/proxy/render";
import { describeRoutePathProblem } from "../../components/proxy/routes";
import { problemsAfterChange } from "../support/nginx-input";

const API = "api.example.com";
const APP = "app.example.com";
const valid: NginxConfInput = {
  hosts: { api: API, app: APP },
  upstream: { alias: "app", port: 8000 },
  services: { frontend: { alias: "frontend", port: 8080 }, "worker:reports": { alias: "reports", port: 9000 } },
  routes: [
    { host: APP, path: "/api", service: "api", stripPrefix: true },
    { host: API, path: "/reports", service: "worker:reports" },
  ],
  hsts: true,
};

const json = (v: unknown) => JSON.stringify(v);

const problemsWith = (change: (input: NginxConfInput) => void) => problemsAfterChange(valid, change);

test("the base input, with a frontend, a worker and routes on both hosts, has no problems", () => {
  assert.deepEqual(validateNginxConfInput(valid), []);
  assert.deepEqual(
    problemsWith((i) => {
      delete i.services;
      delete i.routes;
    }),
    [],
  );
});

const WORKER_NAME_MAX = 31;
const BAD_SERVICE_NAMES = [
  "",
  "api",
  "Frontend",
  "frontend2",
  " frontend",
  "worker",
  "worker:",
  "workers:reports",
  "Worker:reports",
  "worker:Reports",
  "worker:1reports",
  "worker:-reports",
  "worker:reports_2",
  "worker:reports.v2",
  "worker:reports 2",
  "worker:reports;",
  "worker:reports:2",
  "worker:rép",
  `worker:${"a".repeat(WORKER_NAME_MAX + 1)}`,
];
const GOOD_SERVICE_NAMES = [
  "frontend",
  "worker:a",
  "worker:reports",
  "worker:reports-2",
  "worker:r2d2",
  `worker:${"a".repeat(WORKER_NAME_MAX)}`,
];

test("services are frontend or worker:<name>, a lowercase name of up to 31 letters, digits and dashes", () => {
  for (const name of BAD_SERVICE_NAMES) {
    assert.deepEqual(
      problemsWith((i) => (i.services = { ...i.services, [name]: { alias: "svc", port: 9000 } })),
      [`services.${name}: expected frontend or worker:<name>, the services routes may name besides the api`],
      json(name),
    );
  }
  for (const name of GOOD_SERVICE_NAMES) {
    assert.deepEqual(
      problemsWith((i) => (i.services = { ...i.services, [name]: { alias: "svc", port: 9000 } })),
      [],
      name,
    );
  }
});

test("each service has a Docker network alias and a port from 1 to 65535, each named under its service", () => {
  for (const service of ["frontend", "worker:reports"]) {
    for (const alias of ["", "svc;", "-svc", "svc name", "svc:9000", "svc$x", "a".repeat(254), undefined]) {
      assert.deepEqual(
        problemsWith((i) => (i.services![service] = { alias: alias as string, port: 9000 })),
        [`services.${service}.alias: expected a Docker network alias, got ${json(alias)}`],
        `${service} ${String(alias)}`,
      );
    }
    for (const alias of ["svc", "Web_1", "acme-frontend.internal", "a".repeat(253)]) {
      assert.deepEqual(
        problemsWith((i) => (i.services![service] = { alias, port: 9000 })),
        [],
        `${service} ${alias}`,
      );
    }
    for (const port of [0, -1, 65536, 8080.5, Number.NaN, "8080" as unknown as number, undefined as unknown as number]) {
      assert.deepEqual(
        problemsWith((i) => (i.services![service] = { alias: "svc", port })),
        [`services.${service}.port: expected a port from 1 to 65535, got ${json(port)}`],
        `${service} ${String(port)}`,
      );
    }
    for (const port of [1, 2, 65534, 65535]) {
      assert.deepEqual(
        problemsWith((i) => (i.services![service] = { alias: "svc", port })),
        [],
        `${service} ${port}`,
      );
    }
  }
  // An untyped config: both fields named.
  assert.deepEqual(
    problemsWith((i) => (i.services!.frontend = {} as { alias: string; port: number })),
    [
      "services.frontend.alias: expected a Docker network alias, got undefined",
      "services.frontend.port: expected a port from 1 to 65535, got undefined",
    ],
  );
});

test("a route's host is hosts.api or hosts.app: never the monitoring host, another name, or an app host that is not set", () => {
  for (const host of ["", "grafana.example.com", "www.example.com", "API.example.com", `${API}.`, "example.com"]) {
    assert.deepEqual(
      problemsWith((i) => {
        i.hosts.monitoring = "grafana.example.com";
        i.monitoringUpstream = { alias: "grafana", port: 3000 };
        i.routes = [{ host, path: "/x", service: "api" }];
      }),
      [`routes[0].host: expected hosts.api or hosts.app (${API}, ${APP}), got ${json(host)}`],
      host,
    );
  }
  assert.deepEqual(
    problemsWith((i) => {
      i.hosts = { api: API };
      i.routes = [{ host: APP, path: "/", service: "frontend" }];
    }),
    [`routes[0].host: expected hosts.api or hosts.app (${API}), got ${json(APP)}`],
  );
  for (const host of [API, APP]) {
    assert.deepEqual(
      problemsWith((i) => (i.routes = [{ host, path: "/x", service: "api" }])),
      [],
      host,
    );
  }
});

test("a route's path gets describeRoutePathProblem's message, under its own index", () => {
  for (const path of ["", "api", "/api/", "/a b", "/a;b", "/$uri", "/a/../b", "/."]) {
    const message = describeRoutePathProblem(path);
    assert.ok(message, path);
    assert.deepEqual(
      problemsWith((i) => i.routes!.push({ host: API, path, service: "api" })),
      [`routes[2].path: ${message}`],
      path,
    );
  }
});

test("a route names api or a service given in services; the message lists the ones given", () => {
  for (const service of ["", "Api", "frontend ", "worker:exports", "worker:", "grafana", "static"]) {
    assert.deepEqual(
      problemsWith((i) => (i.routes = [{ host: API, path: "/x", service }])),
      [`routes[0].service: expected api or a service given in services (frontend, worker:reports), got ${json(service)}`],
      service,
    );
  }
  for (const service of ["frontend", "worker:reports"]) {
    assert.deepEqual(
      problemsWith((i) => {
        delete i.services;
        i.routes = [{ host: APP, path: "/", service }];
      }),
      [`routes[0].service: expected api or a service given in services (none), got ${json(service)}`],
      service,
    );
  }
  for (const service of ["api", "frontend", "worker:reports"]) {
    assert.deepEqual(
      problemsWith((i) => (i.routes = [{ host: API, path: "/x", service }])),
      [],
      service,
    );
  }
});

test("one host routes each prefix once; the same prefix on the other host, or a longer one, is another route", () => {
  for (const path of ["/", "/api", "/api/v1"]) {
    for (const host of [API, APP]) {
      assert.deepEqual(
        problemsWith(
          (i) =>
            (i.routes = [
              { host, path, service: "api" },
              { host, path: "/other", service: "api" },
              { host, path, service: "frontend", stripPrefix: true },
            ]),
        ),
        [`routes[2].path: ${host} already routes ${path}`],
        `${host} ${path}`,
      );
    }
    assert.deepEqual(
      problemsWith(
        (i) =>
          (i.routes = [
            { host: API, path, service: "api" },
            { host: APP, path, service: "frontend" },
            { host: API, path: `${path === "/" ? "" : path}/more`, service: "api" },
          ]),
      ),
      [],
      path,
    );
  }
});

test("every problem of every route is reported, in route order", () => {
  assert.deepEqual(
    problemsWith(
      (i) =>
        (i.routes = [
          { host: "elsewhere.example.com", path: "api", service: "nope" },
          { host: API, path: "/ok", service: "api" },
          { host: API, path: "/ok", service: "worker:none" },
        ]),
    ),
    [
      `routes[0].host: expected hosts.api or hosts.app (${API}, ${APP}), got "elsewhere.example.com"`,
      `routes[0].path: ${describeRoutePathProblem("api")}`,
      'routes[0].service: expected api or a service given in services (frontend, worker:reports), got "nope"',
      'routes[2].service: expected api or a service given in services (frontend, worker:reports), got "worker:none"',
      `routes[2].path: ${API} already routes /ok`,
    ],
  );
});

/** Whole numbers at and next to both ends of `[low, high]`, and one past each end. */
function aroundBounds([low, high]: readonly [number, number]): { inside: number[]; outside: number[] } {
  return { inside: [...new Set([low, low + 1, high - 1, high])], outside: [low - 1, high + 1, high * 10] };
}
const NOT_WHOLE = [0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, "5", null, true];

const TUNING: { group: "timeouts" | "keepalive"; key: string; bounds: readonly [number, number]; unit: string }[] = [
  ...Object.entries(UPSTREAM_TIMEOUT_BOUNDS).map(([key, bounds]) => ({ group: "timeouts" as const, key, bounds, unit: " (seconds)" })),
  { group: "keepalive", key: "connections", bounds: UPSTREAM_KEEPALIVE_BOUNDS.connections, unit: "" },
  { group: "keepalive", key: "idleSeconds", bounds: UPSTREAM_KEEPALIVE_BOUNDS.idleSeconds, unit: " (seconds)" },
];

test("the bounds are the documented ones, and every default lies within them", () => {
  assert.deepEqual(
    { ...UPSTREAM_TIMEOUT_BOUNDS },
    { connect: [1, 75], send: [1, 3600], read: [1, 3600], webSocketRead: [1, 86400], webSocketSend: [1, 86400] },
  );
  assert.deepEqual({ ...UPSTREAM_KEEPALIVE_BOUNDS }, { connections: [0, 1024], idleSeconds: [1, 300] });
  assert.deepEqual(
    validateUpstreamTuning({ timeouts: { ...DEFAULT_UPSTREAM_TIMEOUTS }, keepalive: { ...DEFAULT_UPSTREAM_KEEPALIVE } }),
    [],
  );
  assert.deepEqual(validateUpstreamTuning({}), []);
});

test("each timeout and keepalive setting is a whole number within its bounds; an unset one keeps its default", () => {
  for (const { group, key, bounds, unit } of TUNING) {
    const { inside, outside } = aroundBounds(bounds);
    for (const value of [...outside, ...NOT_WHOLE]) {
      const message = `must be a whole number from ${bounds[0]} to ${bounds[1]}${unit}, got ${json(value)}`;
      assert.deepEqual(
        validateUpstreamTuning({ [group]: { [key]: value } }),
        [{ setting: `${group}.${key}`, message }],
        `${key} ${String(value)}`,
      );
      assert.deepEqual(
        problemsWith((i) => Object.assign(i, { [group]: { [key]: value } })),
        [`${group}.${key}: ${message}`],
        `${key} ${String(value)}`,
      );
    }
    for (const value of [...inside, undefined]) {
      assert.deepEqual(validateUpstreamTuning({ [group]: { [key]: value } }), [], `${key} ${String(value)}`);
      assert.deepEqual(
        problemsWith((i) => Object.assign(i, { [group]: { [key]: value } })),
        [],
        `${key} ${String(value)}`,
      );
    }
  }
});

test("an unknown timeout or keepalive setting is named with the ones that exist", () => {
  for (const key of ["Read", "websocketRead", "idle", "keepalive", "connections"]) {
    assert.deepEqual(validateUpstreamTuning({ timeouts: { [key]: 5 } }), [
      { setting: `timeouts.${key}`, message: "unknown setting; expected one of connect, send, read, webSocketRead, webSocketSend" },
    ]);
  }
  for (const key of ["connection", "idle", "timeout", "read"]) {
    assert.deepEqual(validateUpstreamTuning({ keepalive: { [key]: 5 } }), [
      { setting: `keepalive.${key}`, message: "unknown setting; expected one of connections, idleSeconds" },
    ]);
  }
});

test("every tuning problem is reported, timeouts first, and renderNginxConf refuses the input with all of them", () => {
  const input = { ...valid, timeouts: { connect: 76, webSocketRead: 0 }, keepalive: { connections: -1, idleSeconds: 301 } };
  const expected = [
    "timeouts.connect: must be a whole number from 1 to 75 (seconds), got 76",
    "timeouts.webSocketRead: must be a whole number from 1 to 86400 (seconds), got 0",
    "keepalive.connections: must be a whole number from 0 to 1024, got -1",
    "keepalive.idleSeconds: must be a whole number from 1 to 300 (seconds), got 301",
  ];
  assert.deepEqual(validateNginxConfInput(input), expected);
  assert.throws(() => renderNginxConf(input), { message: `invalid nginx config input: ${expected.join("; ")}` });
});

test("a route on the health path is refused, whatever the health path: its exact location goes to the api", () => {
  for (const healthPath of [undefined, "/healthz", "/ops/ready"]) {
    const path = healthPath ?? "/health";
    for (const service of ["api", "frontend", "worker:reports"])
      assert.deepEqual(
        problemsWith((input) => {
          input.healthPath = healthPath;
          input.routes = [{ host: API, path, service }];
        }),
        [`routes[0].path: ${path} is the health path, which always goes straight to the api`],
        `${path} → ${service}`,
      );
    // A longer prefix under it is another path.
    assert.deepEqual(
      problemsWith((input) => {
        input.healthPath = healthPath;
        input.routes = [{ host: API, path: `${path}/deep`, service: "api" }];
      }),
      [],
    );
  }
});
