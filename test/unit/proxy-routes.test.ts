// components/proxy/routes.ts on its own: which path prefixes a route may claim (paths generated
// from every character class, at every position, and dot segments), the order nginx.conf lists
// a host's routes in (every permutation of a route set) with its default `/`, and the location
// blocks of each kind of service in both upstream modes: the api and workers rate limited with
// a named WebSocket location and its own timeouts; the frontend with gzip, its two caching rules
// and the index.html fallback; stripPrefix's rewrite, applied to the URIs its locations match.
// Then in whole renderings: the services each server names, the health path, keepalive, and the
// version that switches from per-request variables to upstream groups.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEBIAN_NGINX_VERSION,
  IMAGE_NGINX_VERSION,
  UPSTREAM_RESOLVE_SINCE,
  nginxDirectives,
  renderNginxConf,
  securityHeaders,
  type NginxDirective,
} from "../../components/proxy/render";
import {
  GZIP_TYPES,
  IMMUTABLE_CACHE_CONTROL,
  REVALIDATE_CACHE_CONTROL,
  describeRoutePathProblem,
  routeLocations,
  routesOfHost,
  workerOfService,
  workerService,
  type LocationContext,
  type ProxyRoute,
} from "../../components/proxy/routes";
import { DEFAULT_UPSTREAM_TIMEOUTS, type UpstreamMode } from "../../components/proxy/upstream";

const FORMAT_PROBLEM = (path: unknown) =>
  `expected / or a path prefix like /api (segments of letters, digits and ._~-, no trailing slash), got ${JSON.stringify(path)}`;
const DOT_PROBLEM = (path: string) => `${JSON.stringify(path)} has a . or .. segment; nginx would match a different path`;

const SEGMENTS = ["api", "v1", "a", "A", "0", "_", "~user", "v1.2", "a-b", "x_y.z~0", "...", ".well-known", "a".repeat(100)];

test("a route path is / or segments of letters, digits and ._~- joined by single slashes", () => {
  const good = ["/", ...SEGMENTS.map((s) => `/${s}`)];
  for (const a of SEGMENTS) for (const b of SEGMENTS.slice(0, 5)) good.push(`/${a}/${b}`, `/${b}/${a}/${b}`);
  for (const path of good) assert.equal(describeRoutePathProblem(path), undefined, path);
});

test("a route path with any other character, at the start, middle or end of a segment, is refused with the format message", () => {
  const characters = [" ", "\t", "\n", ";", "{", "}", "$", '"', "'", "\\", "?", "#", "*", "(", ")", "[", "]", "|", "^", "+", "%", ":", "@"];
  characters.push("=", "&", ",", "!", "<", ">", "`", "é");
  // A slash is the separator: never doubled, never last (but in `/` itself).
  const bad: unknown[] = ["", "api", "api/", "/api/", "//", "///", "//api", "/api//v1", "/api/v1/", " /api", "/api "];
  for (const c of characters) bad.push(`/${c}`, `/${c}api`, `/ap${c}i`, `/api${c}`, `/api/${c}v1`, `/api/v1${c}`);
  bad.push(undefined, null, 42, ["/api"], { path: "/api" });
  for (const path of bad) assert.equal(describeRoutePathProblem(path), FORMAT_PROBLEM(path), JSON.stringify(path));
});

test("a route path with a . or .. segment anywhere is refused: nginx normalises it into another path", () => {
  for (const dots of [".", ".."]) {
    for (const path of [`/${dots}`, `/${dots}/api`, `/api/${dots}`, `/api/${dots}/v1`]) {
      assert.equal(describeRoutePathProblem(path), DOT_PROBLEM(path), path);
    }
  }
});

test("worker services are worker:<name>, and only those have a worker name", () => {
  for (const name of ["reports", "a", "exports-2"]) {
    assert.equal(workerService(name), `worker:${name}`);
    assert.equal(workerOfService(workerService(name)), name);
  }
  for (const service of ["api", "frontend", "workers:x", "Worker:x", ""]) assert.equal(workerOfService(service), undefined, service);
});

const HOST = "api.example.com";
const OTHER = "app.example.com";

/** Every order of `items`. */
function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

test("a host's routes come longest prefix first, ties by name, in whatever order they were given, with / last", () => {
  const routes: ProxyRoute[] = [
    { host: HOST, path: "/api", service: "api" },
    { host: HOST, path: "/api/v2", service: "worker:v2" },
    { host: HOST, path: "/app", service: "frontend" },
    { host: HOST, path: "/a", service: "api" },
    { host: OTHER, path: "/api/v2/long/other", service: "api" },
  ];
  const expected = ["/api/v2", "/api", "/app", "/a", "/"];
  for (const order of permutations(routes)) {
    const ordered = routesOfHost(order, HOST, "api");
    assert.deepEqual(
      ordered.map((r) => r.path),
      expected,
      order.map((r) => r.path).join(" "),
    );
    assert.ok(
      ordered.every((r) => r.host === HOST),
      "another host's routes are left out",
    );
  }
});

test("a host's / goes to its default service unless one of its routes claims /", () => {
  for (const fallback of ["api", "frontend"]) {
    assert.deepEqual(routesOfHost([], HOST, fallback), [{ host: HOST, path: "/", service: fallback }]);
    assert.deepEqual(routesOfHost([{ host: OTHER, path: "/", service: "worker:x" }], HOST, fallback), [
      { host: HOST, path: "/", service: fallback },
    ]);
    const claimed: ProxyRoute = { host: HOST, path: "/", service: "worker:x", stripPrefix: true };
    assert.deepEqual(routesOfHost([{ host: HOST, path: "/api", service: "api" }, claimed], HOST, fallback), [
      { host: HOST, path: "/api", service: "api" },
      claimed,
    ]);
  }
});

// ---------------------------------------------------------------------------------------
// The location blocks of one route.

const HEADERS = securityHeaders(true, "default-src 'self'");
const context = (mode: UpstreamMode, overrides: Partial<LocationContext> = {}): LocationContext => ({
  mode,
  burst: 20,
  securityHeaders: HEADERS,
  timeouts: { ...DEFAULT_UPSTREAM_TIMEOUTS },
  ...overrides,
});

/** The directives of a route's location blocks. */
const parsed = (blocks: string[]) => nginxDirectives(blocks.join("\n"));
/** The location blocks' names (`= /api`, `@websocket_0`, …), nested ones included. */
const locationsOf = (directives: NginxDirective[]) => directives.filter((d) => d.name === "location").map((d) => d.args.join(" "));
/** `name`'s values ("arg arg") directly inside `location <match>`. */
const valuesIn = (directives: NginxDirective[], match: string, name: string) =>
  directives.filter((d) => d.name === name && d.context.at(-1) === `location ${match}`).map((d) => d.args.join(" "));

const MODES: { mode: UpstreamMode; target: (service: string) => string; keepConnection: string[] }[] = [
  { mode: "group", target: (name) => `http://${name}`, keepConnection: ["Connection "] },
  { mode: "variable", target: (name) => `http://$${name}`, keepConnection: [] },
];
const PROXY_HEADERS = [
  "Host $host",
  "X-Real-IP $remote_addr",
  "X-Forwarded-For $remote_addr",
  "X-Forwarded-Proto $scheme",
  "X-Forwarded-Host $host",
];
const SERVICES: [service: string, upstream: string][] = [
  ["api", "dropstack_upstream"],
  ["worker:reports", "dropstack_worker_reports"],
  ["worker:a-1", "dropstack_worker_a_1"],
];
const PREFIXES = ["/", "/api", "/api/v1", "/v1.2", "/~user"];

test("an api or worker route: rate limited, with upgrade requests sent to a named WebSocket location with its own timeouts", () => {
  for (const { mode, target, keepConnection } of MODES) {
    for (const [service, upstream] of SERVICES) {
      for (const path of PREFIXES) {
        for (const index of [0, 3]) {
          const timeouts = { ...DEFAULT_UPSTREAM_TIMEOUTS, webSocketRead: 100 + index, webSocketSend: 200 + index };
          const directives = parsed(routeLocations({ host: HOST, path, service }, index, context(mode, { burst: 7, timeouts })));
          const where = `${mode} ${service} ${path} #${index}`;
          const matches = path === "/" ? ["/"] : [`= ${path}`, `^~ ${path}/`];
          const webSocket = `@websocket_${index}`;
          assert.deepEqual(locationsOf(directives), [...matches, webSocket], where);
          for (const match of matches) {
            assert.deepEqual(
              directives.filter((d) => d.context.at(-1) === `location ${match}`).map((d) => d.name),
              [
                "if",
                "error_page",
                "limit_req",
                "proxy_pass",
                "proxy_http_version",
                ...PROXY_HEADERS.map(() => "proxy_set_header"),
                ...keepConnection.map(() => "proxy_set_header"),
              ],
              where,
            );
            const upgrade = directives.find((d) => d.name === "if" && d.context.at(-1) === `location ${match}`)!;
            assert.deepEqual(upgrade.args, ["($http_upgrade", "~*", "^websocket$", ")"], where);
            assert.deepEqual(valuesIn(directives, `${match}`, "error_page"), [`418 = ${webSocket}`], where);
            assert.deepEqual(
              directives.filter((d) => d.context.at(-1)?.startsWith("if ")).map((d) => `${d.name} ${d.args.join(" ")}`),
              matches.map(() => "return 418"),
              where,
            );
            assert.deepEqual(valuesIn(directives, match, "limit_req"), ["zone=dropstack_per_ip burst=7 nodelay"], where);
            assert.deepEqual(valuesIn(directives, match, "proxy_pass"), [target(upstream)], where);
            assert.deepEqual(valuesIn(directives, match, "proxy_set_header"), [...PROXY_HEADERS, ...keepConnection], where);
            assert.deepEqual(valuesIn(directives, match, "proxy_read_timeout"), [], `${where}: the http block's read timeout`);
          }
          assert.deepEqual(valuesIn(directives, webSocket, "limit_req"), ["zone=dropstack_per_ip burst=7 nodelay"], where);
          assert.deepEqual(valuesIn(directives, webSocket, "proxy_pass"), [target(upstream)], where);
          assert.deepEqual(
            valuesIn(directives, webSocket, "proxy_set_header"),
            [...PROXY_HEADERS, "Upgrade $http_upgrade", "Connection upgrade"],
            where,
          );
          assert.deepEqual(valuesIn(directives, webSocket, "proxy_read_timeout"), [`${100 + index}s`], where);
          assert.deepEqual(valuesIn(directives, webSocket, "proxy_send_timeout"), [`${200 + index}s`], where);
          assert.deepEqual(valuesIn(directives, webSocket, "rewrite"), [], where);
        }
      }
    }
  }
});

test("a burst of 0 rate limits both the route and its WebSocket location without burst=", () => {
  const directives = parsed(routeLocations({ host: HOST, path: "/api", service: "api" }, 0, context("group", { burst: 0 })));
  assert.deepEqual(
    directives.filter((d) => d.name === "limit_req").map((d) => d.args.join(" ")),
    ["zone=dropstack_per_ip", "zone=dropstack_per_ip", "zone=dropstack_per_ip"],
  );
});

/** The nginx `rewrite` regex and replacement of a location, applied to `uri` as PCRE would (these use no PCRE-only syntax). */
function rewritten(rewrite: string, uri: string): string | undefined {
  const [pattern, replacement, flag] = rewrite.split(" ");
  assert.equal(flag, "break");
  const match = new RegExp(pattern).exec(uri);
  return match ? replacement.replace(/\$(\d)/g, (_, n: string) => match[Number(n)] ?? "") : undefined;
}

/** URIs the route's own locations match (`= prefix` and `^~ prefix/`), and what the service must see with the prefix stripped. */
function strippedExamples(prefix: string): [uri: string, seen: string][] {
  return [
    [prefix, "/"],
    [`${prefix}/`, "/"],
    [`${prefix}/users`, "/users"],
    [`${prefix}/users/42/edit`, "/users/42/edit"],
    [`${prefix}/a.b/c`, "/a.b/c"],
    [`${prefix}/${prefix.slice(1)}/x`, `${prefix}/x`],
  ];
}

test("stripPrefix rewrites the prefix away in every location of the route, WebSocket and hashed files included; / is never stripped", () => {
  for (const { mode } of MODES) {
    for (const service of ["api", "worker:reports", "frontend"]) {
      for (const path of ["/api", "/api/v1", "/v1.2", "/~user"]) {
        for (const stripPrefix of [true, false, undefined]) {
          const directives = parsed(routeLocations({ host: HOST, path, service, stripPrefix }, 1, context(mode)));
          const where = `${mode} ${service} ${path} ${String(stripPrefix)}`;
          const rewrites = directives.filter((d) => d.name === "rewrite").map((d) => d.args.join(" "));
          const fallbackRewrites = valuesIn(directives, "@spa_1", "rewrite");
          const stripRewrites = rewrites.filter((r) => !fallbackRewrites.includes(r));
          if (stripPrefix !== true) {
            assert.deepEqual(stripRewrites, [], where);
            continue;
          }
          // The = and ^~ locations and the WebSocket one, or the frontend's = and ^~ and two hashed ones.
          assert.equal(stripRewrites.length, service === "frontend" ? 4 : 3, where);
          assert.equal(new Set(stripRewrites).size, 1, where);
          for (const [uri, seen] of strippedExamples(path)) assert.equal(rewritten(stripRewrites[0], uri), seen, `${where}: ${uri}`);
        }
      }
      for (const stripPrefix of [true, false]) {
        const rewrites = parsed(routeLocations({ host: HOST, path: "/", service, stripPrefix }, 0, context(mode)))
          .filter((d) => d.name === "rewrite" && !d.context.at(-1)?.startsWith("location @spa_"))
          .map((d) => d.args.join(" "));
        assert.deepEqual(rewrites, [], `${mode} ${service} / ${stripPrefix}`);
      }
    }
  }
});

const HASHED_REGEX = "\\.[0-9a-f]{8,}\\.[A-Za-z0-9]+$";

test("a frontend route: not rate limited, gzip, upstream caching hidden, no-cache with an index.html fallback, immutable hashed files", () => {
  for (const { mode, target, keepConnection } of MODES) {
    for (const path of PREFIXES) {
      for (const stripPrefix of [false, true]) {
        for (const index of [0, 2]) {
          const directives = parsed(routeLocations({ host: OTHER, path, service: "frontend", stripPrefix }, index, context(mode)));
          const where = `${mode} ${path} ${stripPrefix} #${index}`;
          const base = path === "/" ? "" : path;
          const fallback = `@spa_${index}`;
          const outer = path === "/" ? ["/"] : [`= ${path}`, `^~ ${path}/`];
          const hashed = [`^~ ${base}/assets/`, `~ ${HASHED_REGEX}`];
          // The prefix match holds the hashed files' locations; the exact match of the prefix has none.
          assert.deepEqual(locationsOf(directives), [...outer.slice(0, -1), outer.at(-1)!, ...hashed, fallback], where);
          for (const location of hashed) {
            const nested = directives.find((d) => d.name === "location" && d.args.join(" ") === location)!;
            assert.deepEqual(nested.context.at(-1), `location ${outer.at(-1)}`, `${where}: ${location} is nested`);
          }
          assert.deepEqual(
            directives.filter((d) => d.name === "limit_req"),
            [],
            `${where}: no rate limit`,
          );
          for (const location of [...outer, ...hashed, fallback]) {
            const cacheControl = hashed.includes(location) ? IMMUTABLE_CACHE_CONTROL : REVALIDATE_CACHE_CONTROL;
            assert.deepEqual(valuesIn(directives, location, "proxy_pass"), [target("dropstack_frontend")], `${where} ${location}`);
            assert.deepEqual(
              valuesIn(directives, location, "proxy_set_header"),
              [...PROXY_HEADERS, ...keepConnection],
              `${where} ${location}`,
            );
            assert.deepEqual(valuesIn(directives, location, "proxy_hide_header"), ["Cache-Control", "Expires"], `${where} ${location}`);
            assert.deepEqual(
              valuesIn(directives, location, "add_header"),
              [
                ...nginxDirectives(HEADERS.join("\n")).map((d) => d.args.join(" ")),
                // Not `always` for the immutable one: a missing hashed file's 404 must not be cached for a year.
                cacheControl === IMMUTABLE_CACHE_CONTROL ? `Cache-Control ${cacheControl}` : `Cache-Control ${cacheControl} always`,
              ],
              `${where} ${location}: the server's security headers, then its own Cache-Control`,
            );
          }
          for (const location of [...outer, fallback]) {
            assert.deepEqual(valuesIn(directives, location, "gzip"), ["on"], `${where} ${location}`);
            assert.deepEqual(valuesIn(directives, location, "gzip_vary"), ["on"], `${where} ${location}`);
            assert.deepEqual(valuesIn(directives, location, "gzip_proxied"), ["any"], `${where} ${location}`);
            assert.deepEqual(valuesIn(directives, location, "gzip_types"), [GZIP_TYPES.join(" ")], `${where} ${location}`);
          }
          for (const location of outer) {
            assert.deepEqual(valuesIn(directives, location, "proxy_intercept_errors"), ["on"], `${where} ${location}`);
            assert.deepEqual(valuesIn(directives, location, "error_page"), [`404 = ${fallback}`], `${where} ${location}`);
          }
          for (const location of hashed) {
            assert.deepEqual(
              valuesIn(directives, location, "proxy_intercept_errors"),
              ["off"],
              `${where} ${location}: a missing one stays 404`,
            );
          }
          assert.deepEqual(
            valuesIn(directives, fallback, "rewrite"),
            [`^ ${stripPrefix ? "" : base}/index.html break`],
            `${where}: the frontend's own index.html`,
          );
        }
      }
    }
  }
});

test("the hashed-file pattern takes webpack's name.<8 or more hex>.ext and leaves other names to the fallback", () => {
  const pattern = new RegExp(HASHED_REGEX);
  for (const name of ["main.3f2a1b4c.js", "vendor.0123456789abcdef.css", "logo.deadbeef.svg", "chunk.a.12345678.js", "x.00000000.woff2"]) {
    assert.ok(pattern.test(`/static/${name}`), name);
  }
  for (const name of [
    "main.3f2a1b4.js",
    "main.3F2A1B4C.js",
    "main.3f2a1b4g.js",
    "main.3f2a1b4c",
    "main.3f2a1b4c.",
    "robots.txt",
    "3f2a1b4c.js",
  ]) {
    assert.ok(!pattern.test(`/static/${name}`), name);
  }
  assert.ok(!pattern.test("/dashboard/settings"));
});

test("the route's index names its named locations, so two routes on one server never share one", () => {
  for (const { mode } of MODES) {
    const names = [
      { host: HOST, path: "/api", service: "api" },
      { host: HOST, path: "/reports", service: "worker:reports" },
      { host: HOST, path: "/docs", service: "frontend" },
      { host: HOST, path: "/", service: "frontend" },
    ].flatMap((route, index) =>
      locationsOf(parsed(routeLocations(route, index, context(mode)))).filter((location) => location.startsWith("@")),
    );
    assert.deepEqual(names, ["@websocket_0", "@websocket_1", "@spa_2", "@spa_3"], mode);
  }
});

// ---------------------------------------------------------------------------------------
// The routes in a whole rendering.

const ROUTED = {
  hosts: { api: HOST, app: OTHER },
  upstream: { alias: "app", port: 8000 },
  services: {
    frontend: { alias: "frontend", port: 8080 },
    "worker:reports": { alias: "reports", port: 9000 },
    "worker:unused": { alias: "unused", port: 9100 },
  },
  hsts: false,
};

/** The directives of the HTTPS server for `host`. */
function serverDirectives(conf: string, host: string): NginxDirective[] {
  const all = nginxDirectives(conf);
  const name = all.findIndex((d) => d.name === "server_name" && d.args.join(" ") === host);
  const start = all
    .slice(0, name)
    .map((d) => d.name === "server" && d.block)
    .lastIndexOf(true);
  const end = all.findIndex((d, i) => i > name && d.name === "server" && d.block);
  return all.slice(start + 1, end === -1 ? undefined : end);
}

test("each server names the services its routes use, in either mode; only a server that routes to the api has the health path", () => {
  const cases: { routes: ProxyRoute[]; api: string[]; app: string[] }[] = [
    { routes: [], api: ["api"], app: ["frontend"] },
    { routes: [{ host: OTHER, path: "/api", service: "api" }], api: ["api"], app: ["api", "frontend"] },
    { routes: [{ host: HOST, path: "/", service: "worker:reports" }], api: ["worker:reports"], app: ["frontend"] },
    {
      routes: [
        { host: HOST, path: "/", service: "frontend" },
        { host: HOST, path: "/reports", service: "worker:reports", stripPrefix: true },
        { host: OTHER, path: "/", service: "worker:reports" },
      ],
      api: ["worker:reports", "frontend"],
      app: ["worker:reports"],
    },
  ];
  const upstreamOf: Record<string, [name: string, target: string]> = {
    api: ["dropstack_upstream", "app:8000"],
    frontend: ["dropstack_frontend", "frontend:8080"],
    "worker:reports": ["dropstack_worker_reports", "reports:9000"],
  };
  for (const { routes, api, app } of cases) {
    const where = JSON.stringify(routes);
    const variables = renderNginxConf({ ...ROUTED, routes, nginxVersion: DEBIAN_NGINX_VERSION });
    const groups = renderNginxConf({ ...ROUTED, routes });
    for (const [host, used] of [
      [HOST, api],
      [OTHER, app],
    ] as const) {
      // Variables: one `set` per service the server's routes use, in the order the routes come.
      assert.deepEqual(
        serverDirectives(variables, host)
          .filter((d) => d.name === "set")
          .map((d) => d.args.join(" ")),
        used.map((service) => `$${upstreamOf[service][0]} ${upstreamOf[service][1]}`),
        `${where} ${host}`,
      );
      for (const conf of [variables, groups]) {
        assert.equal(
          serverDirectives(conf, host).some((d) => d.name === "location" && d.args.join(" ") === "= /health"),
          used.includes("api"),
          `${where} ${host}: the health path`,
        );
      }
      assert.deepEqual(
        serverDirectives(groups, host).filter((d) => d.name === "set"),
        [],
      );
    }
    // Groups: one per service any route uses, sorted, never one for a service no route names.
    assert.deepEqual(
      nginxDirectives(groups)
        .filter((d) => d.name === "upstream")
        .map((d) => d.args[0]),
      [...new Set([...api, ...app])].sort().map((service) => upstreamOf[service][0]),
      where,
    );
    assert.ok(!groups.includes("unused") && !variables.includes("unused"), where);
  }
});

test("keepalive: the connections and idle time of every group; 0 connections keeps none", () => {
  for (const [keepalive, lines] of [
    [undefined, ["keepalive 16", "keepalive_timeout 2s"]],
    [{ connections: 1, idleSeconds: 300 }, ["keepalive 1", "keepalive_timeout 300s"]],
    [{ connections: 1024 }, ["keepalive 1024", "keepalive_timeout 2s"]],
    [{ idleSeconds: 1 }, ["keepalive 16", "keepalive_timeout 1s"]],
    [{ connections: 0, idleSeconds: 5 }, []],
  ] as const) {
    const conf = renderNginxConf({ ...ROUTED, routes: [{ host: HOST, path: "/r", service: "worker:reports" }], keepalive });
    for (const group of ["dropstack_upstream", "dropstack_worker_reports", "dropstack_frontend"]) {
      assert.deepEqual(
        nginxDirectives(conf)
          .filter((d) => d.context.at(-1) === `upstream ${group}` && d.name.startsWith("keepalive"))
          .map((d) => `${d.name} ${d.args.join(" ")}`),
        lines,
        `${JSON.stringify(keepalive)} ${group}`,
      );
    }
    const variables = nginxDirectives(renderNginxConf({ ...ROUTED, keepalive, nginxVersion: DEBIAN_NGINX_VERSION }));
    assert.deepEqual(
      variables.filter((d) => d.name === "upstream" || d.name === "keepalive"),
      [],
      `${JSON.stringify(keepalive)}: no group, so no keepalive, before 1.27.3`,
    );
  }
});

test("the mode follows the version: variables before nginx 1.27.3, groups from then on", () => {
  for (const [nginxVersion, group] of [
    ["1.22.0", false],
    [DEBIAN_NGINX_VERSION, false],
    ["1.26.3", false],
    ["1.27.2", false],
    [UPSTREAM_RESOLVE_SINCE, true],
    ["1.27.5", true],
    ["1.28", true],
    [IMAGE_NGINX_VERSION, true],
    ["1.29.0", true],
  ] as const) {
    const conf = renderNginxConf({ ...ROUTED, nginxVersion });
    assert.equal(conf.includes("upstream dropstack_upstream {"), group, nginxVersion);
    assert.equal(conf.includes("set $dropstack_upstream app:8000;"), !group, nginxVersion);
  }
});
