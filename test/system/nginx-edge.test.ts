// The edge of the rendered nginx.conf in real nginx (Debian's, or the one DROPSTACK_NGINX names,
// rendered for its version), with every service behind an alias resolved through the DNS
// stand-in for Docker's: path prefixes routed to the api, a worker and the frontend, stripped
// and not; the frontend (a static-file server with caching headers of its own) as a browser
// sees it: the single-page app's index.html for client-side routes, a year's caching for
// content-hashed files only, a missing hashed file a 404, gzip for text types and never for
// the api; the security headers and the Content-Security-Policy on every route; and
// WebSockets, with a hand-written RFC 6455 client and replicas (test/support/websocket.ts):
// echoed through every kind of route, kept open past the read timeout of plain requests, and
// closed cleanly (1001) when their replica drains during a rollout, the next one reaching the
// other replica; a killed replica's for contrast (1006). Also: a replica whose answer once
// timed out still takes requests when the other one goes away, and upstream keepalive where
// the nginx has it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as http from "node:http";
import { gunzipSync } from "node:zlib";
import { UPSTREAM_RESOLVE_SINCE, nginxVersionAtLeast, type NginxConfInput } from "../../components/proxy/render";
import { GZIP_TYPES, IMMUTABLE_CACHE_CONTROL, REVALIDATE_CACHE_CONTROL, type ProxyRoute } from "../../components/proxy/routes";
import {
  API_HOST,
  APP_ALIAS,
  APP_HOST,
  FRONTEND_ALIAS,
  STATIC_BACKEND_CACHE_CONTROL,
  freeUpstreamPort,
  httpsRequest,
  localNginxVersion,
  prepareNginxSite,
  requireNginxTools,
  sleep,
  startLoopbackDns,
  startNginx,
  startStaticBackend,
  type LoopbackDns,
  type NginxSite,
  type Reply,
  type RunningNginx,
  type StaticBackend,
} from "../../tools/lib/nginx-harness";
import {
  CLOSE_ABNORMAL,
  CLOSE_GOING_AWAY,
  CLOSE_NORMAL,
  openWebSocket,
  startWebSocketBackend,
  type Greeting,
  type WebSocketBackend,
  type WebSocketClient,
} from "../support/websocket";

const tools = requireNginxTools();
const version = localNginxVersion(tools.nginx);

const REPLICA_A = "127.0.0.2";
const REPLICA_B = "127.0.0.3";
const FRONTEND = "127.0.0.5";
const WORKER = "127.0.0.6";
const WORKER_ALIAS = "reports";
const ADDRESSES = [REPLICA_A, REPLICA_B, FRONTEND, WORKER];
const CSP = "default-src 'self'; connect-src 'self' wss://api.dropstack.test; frame-ancestors 'none'";

/** One nginx on a prepared site, its DNS stand-in, the CA of each host, and what to stop afterwards. */
interface Edge {
  site: NginxSite;
  dns: LoopbackDns;
  nginx: RunningNginx;
  /** The port every backend listens on, each on its own loopback address. */
  port: number;
  cleanups: (() => Promise<void>)[];
  request: (host: string, path: string, options?: { method?: string; body?: string; headers?: Record<string, string> }) => Promise<Reply>;
  ca: (host: string) => string;
}

/** Prepares the site with `overrides` (given the upstream port), starts what `backends` starts on that port, then nginx. */
async function startEdge(
  overrides: (port: number) => Partial<NginxConfInput>,
  backends: (site: NginxSite, port: number, cleanups: (() => Promise<void>)[]) => Promise<void>,
  aliases: Record<string, string[]>,
): Promise<Edge> {
  const cleanups: (() => Promise<void>)[] = [];
  const dns = await startLoopbackDns();
  cleanups.push(() => dns.close());
  for (const [alias, addresses] of Object.entries(aliases)) dns.set(alias, addresses);
  const port = await freeUpstreamPort(ADDRESSES);
  const site = await prepareNginxSite(version, {
    resolver: dns.address,
    upstreamPort: port,
    resolverValidSeconds: 1,
    settings: { rateLimit: 1000, burst: 1000, maxBodySize: "1m" },
    ...overrides(port),
  });
  await backends(site, port, cleanups);
  const nginx = await startNginx(tools.nginx, site);
  const ca = (host: string) => readFileSync(join(site.certDir, host, "fullchain.pem"), "utf8");
  return {
    site,
    dns,
    nginx,
    port,
    cleanups,
    ca,
    request: (host, path, options = {}) => httpsRequest({ port: site.httpsPort, host, path, ca: ca(host), ...options }),
  };
}

async function stopEdge(edge: Edge | undefined): Promise<void> {
  await edge?.nginx.stop();
  for (const cleanup of (edge?.cleanups ?? []).reverse()) await cleanup();
}

/** The security headers every HTTPS answer of hosts.api and hosts.app carries, each once. */
function assertSecurityHeaders(reply: Reply, where: string): void {
  assert.equal(reply.headers["strict-transport-security"], "max-age=31536000; includeSubDomains", where);
  assert.equal(reply.headers["x-frame-options"], "DENY", where);
  assert.equal(reply.headers["x-content-type-options"], "nosniff", where);
  assert.equal(reply.headers["x-xss-protection"], "0", where);
  assert.equal(reply.headers["referrer-policy"], "strict-origin-when-cross-origin", where);
  assert.equal(reply.headers["content-security-policy"], CSP, where);
}

// ---------------------------------------------------------------------------------------
// A built single-page app: the harness's index.html and hashed files, and text files of each
// compressible type large enough for nginx to compress (gzip_min_length is 20 bytes).

/** ~2 KB of text that compresses like real code: repeated shapes, varying names and numbers. */
function textOf(kind: string): string {
  const lines = Array.from({ length: 40 }, (_, i) => {
    switch (kind) {
      case "js":
        return `export function handler${i}(event) { return event.value * ${i} + ${i * 7}; }`;
      case "css":
        return `.card-${i} { margin: ${i}px; padding: ${i % 8}px ${i % 5}px; color: #${(i * 4099).toString(16).padStart(6, "0")}; }`;
      case "json":
        return `${i === 0 ? "[" : ","}{"id": ${i}, "name": "setting-${i}", "enabled": ${i % 2 === 0}}`;
      case "svg":
        return `<circle cx="${i * 3}" cy="${(i * 7) % 50}" r="${(i % 6) + 1}" fill="#${(i * 911).toString(16).padStart(6, "0")}"/>`;
      case "xml":
        return `<url><loc>https://app.dropstack.test/page/${i}</loc><priority>0.${i % 10}</priority></url>`;
      default:
        return `Line ${i}: the quick brown fox jumps over ${i} lazy dogs.`;
    }
  });
  const body = lines.join("\n");
  if (kind === "json") return `${body}]\n`;
  if (kind === "svg") return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 50">\n${body}\n</svg>\n`;
  if (kind === "xml") return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset>\n${body}\n</urlset>\n`;
  if (kind === "manifest")
    return `${JSON.stringify({ name: "dropstack", icons: lines.map((l, i) => ({ src: `/i/${i}.png`, note: l })) })}\n`;
  return `${body}\n`;
}

/** Text files of each compressible type the static backend sends (text/xml aside: no extension of its maps to it). */
const TEXT_FILES: { path: string; type: string; kind: string }[] = [
  { path: "/assets/chunk-Dk2mXq7Z.js", type: "application/javascript", kind: "js" },
  { path: "/static/js/vendor.9c0ffee1.js", type: "application/javascript", kind: "js" },
  { path: "/modules/entry.mjs", type: "text/javascript", kind: "js" },
  { path: "/styles/site.css", type: "text/css", kind: "css" },
  { path: "/data/config.json", type: "application/json", kind: "json" },
  { path: "/icons/logo.svg", type: "image/svg+xml", kind: "svg" },
  { path: "/app.webmanifest", type: "application/manifest+json", kind: "manifest" },
  { path: "/notes.txt", type: "text/plain", kind: "text" },
  { path: "/sitemap.xml", type: "application/xml", kind: "xml" },
];
const PNG = "/images/photo.png";
const INDEX_HTML = '<!doctype html><script src="/assets/index-Bx3kP9aQ.js"></script>\n';

function writeFrontend(root: string): void {
  for (const file of TEXT_FILES) {
    mkdirSync(dirname(join(root, file.path)), { recursive: true });
    writeFileSync(join(root, file.path), textOf(file.kind));
  }
  mkdirSync(join(root, "images"), { recursive: true });
  writeFileSync(join(root, PNG), Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 131) % 256)));
  assert.equal(readFileSync(join(root, "index.html"), "utf8"), INDEX_HTML, "the harness's index.html");
}

/** Whether a path is a content-hashed file, as the rendered locations decide it. */
const isHashed = (path: string) => /\/assets\//.test(path) || /\.[0-9a-f]{8,}\.[A-Za-z0-9]+$/.test(path);

// ---------------------------------------------------------------------------------------

describe("routes, the frontend's caching and compression, and the security headers, in real nginx", () => {
  // Path prefixes on both hosts, to every kind of service, stripped and not.
  const ROUTES: ProxyRoute[] = [
    { host: APP_HOST, path: "/api", service: "api", stripPrefix: true },
    { host: APP_HOST, path: "/v1", service: "api" },
    { host: APP_HOST, path: "/hooks/github", service: "api", stripPrefix: true },
    { host: APP_HOST, path: "/reports", service: "worker:reports" },
    { host: APP_HOST, path: "/jobs/v2", service: "worker:reports", stripPrefix: true },
    { host: API_HOST, path: "/docs", service: "frontend", stripPrefix: true },
    { host: API_HOST, path: "/exports", service: "worker:reports" },
  ];
  // Where each host's frontend lives: the app host's `/` (its default), the api host's /docs.
  const FRONTENDS = [
    { host: APP_HOST, base: "" },
    { host: API_HOST, base: "/docs" },
  ];
  let edge: Edge;
  let frontend: StaticBackend;
  let api: WebSocketBackend;
  let worker: WebSocketBackend;

  before(async () => {
    edge = await startEdge(
      (port) => ({
        services: { frontend: { alias: FRONTEND_ALIAS, port }, "worker:reports": { alias: WORKER_ALIAS, port } },
        routes: ROUTES,
        contentSecurityPolicy: CSP,
      }),
      async (site, port, cleanups) => {
        writeFrontend(site.staticRoot);
        frontend = await startStaticBackend(FRONTEND, port, site.staticRoot);
        api = await startWebSocketBackend(REPLICA_A, port, "a");
        worker = await startWebSocketBackend(WORKER, port, "reports");
        cleanups.push(
          () => frontend.close(),
          () => api.close(),
          () => worker.close(),
        );
      },
      { [APP_ALIAS]: [REPLICA_A], [FRONTEND_ALIAS]: [FRONTEND], [WORKER_ALIAS]: [WORKER] },
    );
  });
  after(() => stopEdge(edge));

  const browser = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };
  const echoOf = (reply: Reply) =>
    JSON.parse(reply.body) as {
      instance: string;
      method: string;
      url: string;
      headers: Record<string, string>;
      bodyBytes: number;
      pad: string;
    };
  /** What the frontend was asked for while `act` ran. */
  const frontendSaw = async (act: () => Promise<Reply>) => {
    const before = frontend.seen().length;
    const reply = await act();
    return {
      reply,
      urls: frontend
        .seen()
        .slice(before)
        .map((seen) => seen.url),
    };
  };

  test("a prefix goes to its service with the path as asked, or without the prefix when stripped", async () => {
    for (const route of ROUTES.filter((r) => r.service !== "frontend")) {
      const instance = route.service === "api" ? "a" : "reports";
      for (const rest of ["", "/", "?page=2", "/users/42?sort=name&dir=asc", `${route.path}/again`, "/a.b/c~d_e-f"]) {
        const expected = route.stripPrefix ? (rest.startsWith("/") ? rest : `/${rest}`) : `${route.path}${rest}`;
        const where = `${route.host}${route.path}${rest}`;
        const reply = await edge.request(route.host, `${route.path}${rest}`);
        assert.equal(reply.status, 200, where);
        const seen = echoOf(reply);
        assert.equal(seen.instance, instance, where);
        assert.equal(seen.url, expected, where);
        assert.equal(seen.headers.host, route.host, where);
        assert.equal(seen.headers["x-forwarded-host"], route.host, where);
        assert.equal(seen.headers["x-forwarded-proto"], "https", where);
      }
      const posted = await edge.request(route.host, `${route.path}/items`, { method: "POST", body: "z".repeat(100) });
      assert.deepEqual(
        [echoOf(posted).method, echoOf(posted).url, echoOf(posted).bodyBytes],
        ["POST", route.stripPrefix ? "/items" : `${route.path}/items`, 100],
      );
    }
  });

  test("a stripped prefix is taken off the normalised path: escapes are sent again, but %2F arrives as / and // as /", async () => {
    // nginx strips from $uri, the decoded and normalised path, and escapes the result again;
    // an unstripped prefix passes the path on as the client sent it, dot segments and all.
    for (const [rest, stripped] of [
      ["/caf%C3%A9/a%20b?q=%20x", "/caf%C3%A9/a%20b?q=%20x"],
      ["/a%2Fb", "/a/b"],
      ["//double", "/double"],
      ["/x/../y", "/y"],
    ]) {
      assert.equal(echoOf(await edge.request(APP_HOST, `/api${rest}`)).url, stripped, `/api${rest}`);
      assert.equal(echoOf(await edge.request(APP_HOST, `/v1${rest}`)).url, `/v1${rest}`, `/v1${rest}`);
    }
    // A dot segment that climbs out of the prefix leaves the route: nginx matches the normalised
    // path (/etc/passwd, the frontend's `/`), but passes the path on as sent.
    const { reply, urls } = await frontendSaw(() => edge.request(APP_HOST, "/api/%2e%2e/etc/passwd", { headers: browser }));
    assert.deepEqual([reply.status, reply.body, urls], [200, INDEX_HTML, ["/api/%2e%2e/etc/passwd", "/index.html"]]);
  });

  test("a path that only starts like a prefix (/apiary), or differs in case, is the host's /: the frontend, or the api", async () => {
    for (const route of ROUTES) {
      for (const lookalike of [`${route.path}ary`, `${route.path}-old/x`, `${route.path}.json`, route.path.toUpperCase()]) {
        const where = `${route.host}${lookalike}`;
        if (route.host === APP_HOST) {
          const { reply, urls } = await frontendSaw(() => edge.request(APP_HOST, lookalike, { headers: browser }));
          assert.equal(reply.status, 200, where);
          assert.equal(reply.body, INDEX_HTML, `${where}: a client-side route of the frontend`);
          assert.deepEqual(urls, [lookalike, "/index.html"], where);
        } else {
          const reply = await edge.request(API_HOST, lookalike);
          assert.equal(reply.status, 200, where);
          assert.deepEqual([echoOf(reply).instance, echoOf(reply).url], ["a", lookalike], where);
        }
      }
    }
    assert.equal(echoOf(await edge.request(API_HOST, "/anything/else")).url, "/anything/else", "the api host's / is the api");
    for (const host of [API_HOST, APP_HOST]) {
      assert.deepEqual([echoOf(await edge.request(host, "/health")).url], ["/health"], `${host}: the health path goes to the api`);
    }
  });

  test("a client-side route gets the app's index.html with 200, revalidated: the frontend was asked for the route, then for index.html", async () => {
    for (const { host, base } of FRONTENDS) {
      for (const route of ["/dashboard/settings", "/patients/42/edit", "/login", "/dashboard/settings?tab=2"]) {
        const where = `${host}${base}${route}`;
        const { reply, urls } = await frontendSaw(() => edge.request(host, `${base}${route}`, { headers: browser }));
        assert.equal(reply.status, 200, where);
        assert.equal(reply.body, INDEX_HTML, where);
        assert.match(String(reply.headers["content-type"]), /^text\/html/, where);
        assert.equal(reply.headers["cache-control"], REVALIDATE_CACHE_CONTROL, where);
        assert.equal(reply.headers.expires, undefined, where);
        const query = route.includes("?") ? route.slice(route.indexOf("?")) : "";
        assert.deepEqual(urls, [route, `/index.html${query}`], `${where}: the prefix stripped, index.html asked for`);
      }
      for (const path of [base || "/", `${base}/`, `${base}/index.html`]) {
        const reply = await edge.request(host, path, { headers: browser });
        assert.deepEqual(
          [reply.status, reply.body, reply.headers["cache-control"]],
          [200, INDEX_HTML, REVALIDATE_CACHE_CONTROL],
          `${host}${path}`,
        );
      }
    }
  });

  test("content-hashed files are cached for a year; a missing one is a 404, never index.html; other files are revalidated", async () => {
    for (const { host, base } of FRONTENDS) {
      for (const path of [
        "/assets/index-Bx3kP9aQ.js",
        "/static/js/main.3f2a1b4c.js",
        "/static/js/vendor.9c0ffee1.js",
        "/assets/chunk-Dk2mXq7Z.js",
      ]) {
        const reply = await edge.request(host, `${base}${path}`);
        assert.equal(reply.status, 200, `${host}${base}${path}`);
        assert.equal(reply.body, readFileSync(join(edge.site.staticRoot, path), "utf8"), `${host}${base}${path}`);
        assert.equal(reply.headers["cache-control"], IMMUTABLE_CACHE_CONTROL, `${host}${base}${path}`);
      }
      for (const path of [
        "/assets/index-OldHash1.js",
        "/assets/deep/gone.css",
        "/static/js/main.00000000.js",
        "/img/logo.0123456789abcdef.png",
      ]) {
        const reply = await edge.request(host, `${base}${path}`, { headers: browser });
        assert.equal(reply.status, 404, `${host}${base}${path}`);
        assert.equal(reply.body, "no such file\n", `${host}${base}${path}: the frontend's own 404, not index.html`);
        // No year-long caching of a 404: the file may exist after the next deploy.
        assert.equal(reply.headers["cache-control"], undefined, `${host}${base}${path}`);
      }
      for (const path of ["/robots.txt", "/styles/site.css", "/data/config.json", "/modules/entry.mjs"]) {
        const reply = await edge.request(host, `${base}${path}`);
        assert.equal(reply.status, 200, `${host}${base}${path}`);
        assert.equal(reply.headers["cache-control"], REVALIDATE_CACHE_CONTROL, `${host}${base}${path}`);
      }
    }
    // The hashed locations add their Cache-Control to every answer, a 404 included.
  });

  test("the frontend's own Cache-Control and Expires never reach the client", async () => {
    const paths = [
      "/",
      "/dashboard",
      "/robots.txt",
      "/assets/index-Bx3kP9aQ.js",
      "/static/js/main.3f2a1b4c.js",
      "/assets/gone.js",
      PNG,
      ...TEXT_FILES.map((f) => f.path),
    ];
    const before = frontend.seen().length;
    for (const { host, base } of FRONTENDS) {
      for (const path of paths) {
        const reply = await edge.request(host, `${base}${path}`, { headers: browser });
        const where = `${host}${base}${path}`;
        // A missing hashed file's 404 gets no Cache-Control: a year-long one would outlive the fix.
        if (path.includes("gone")) assert.equal(reply.headers["cache-control"], undefined, where);
        else assert.ok([IMMUTABLE_CACHE_CONTROL, REVALIDATE_CACHE_CONTROL].includes(String(reply.headers["cache-control"])), where);
        assert.doesNotMatch(String(reply.headers["cache-control"]), new RegExp(STATIC_BACKEND_CACHE_CONTROL), where);
        assert.equal(reply.headers.expires, undefined, where);
      }
    }
    assert.ok(frontend.seen().length > before, "answered by the frontend, which sends its own caching headers");
  });

  const ACCEPTS_GZIP: Record<string, string>[] = [
    { "accept-encoding": "gzip" },
    { "accept-encoding": "gzip, deflate, br" },
    // From behind another proxy (a Via header): compressed all the same (gzip_proxied any).
    { "accept-encoding": "gzip", via: "1.1 cdn.example" },
  ];
  const ACCEPTS_NO_GZIP: Record<string, string>[] = [{}, { "accept-encoding": "identity" }, { "accept-encoding": "br" }];

  test("text files are gzipped for a client that accepts gzip, with Vary, and decompress to the file's bytes", async () => {
    const tested = new Set(TEXT_FILES.map((file) => file.type));
    assert.deepEqual(
      GZIP_TYPES.filter((type) => !tested.has(type)),
      ["text/xml"],
      "every compressible type but text/xml is served here",
    );
    for (const { host, base } of FRONTENDS) {
      for (const file of TEXT_FILES) {
        const where = `${host}${base}${file.path}`;
        const original = readFileSync(join(edge.site.staticRoot, file.path));
        assert.ok(original.length > 1500 && original.length < 4000, `${where}: ${original.length} bytes`);
        for (const headers of ACCEPTS_GZIP) {
          const reply = await edge.request(host, `${base}${file.path}`, { headers });
          assert.equal(reply.status, 200, where);
          assert.equal(reply.headers["content-encoding"], "gzip", `${where} ${JSON.stringify(headers)}`);
          assert.match(String(reply.headers.vary), /Accept-Encoding/, where);
          assert.ok(String(reply.headers["content-type"]).startsWith(file.type), `${where}: ${reply.headers["content-type"]}`);
          assert.ok(reply.bytes.length < original.length / 2, `${where}: ${reply.bytes.length} of ${original.length} bytes`);
          assert.deepEqual(gunzipSync(reply.bytes), original, where);
          assert.equal(reply.headers["cache-control"], isHashed(file.path) ? IMMUTABLE_CACHE_CONTROL : REVALIDATE_CACHE_CONTROL, where);
        }
        for (const headers of ACCEPTS_NO_GZIP) {
          const reply = await edge.request(host, `${base}${file.path}`, { headers });
          assert.equal(reply.headers["content-encoding"], undefined, `${where} ${JSON.stringify(headers)}`);
          assert.deepEqual(reply.bytes, original, `${where} ${JSON.stringify(headers)}`);
        }
      }
      const page = await edge.request(host, `${base}/dashboard`, { headers: { ...browser, "accept-encoding": "gzip" } });
      assert.equal(page.headers["content-encoding"], "gzip", `${host}${base}: index.html through the fallback`);
      assert.equal(gunzipSync(page.bytes).toString(), INDEX_HTML);
      const image = await edge.request(host, `${base}${PNG}`, { headers: { "accept-encoding": "gzip" } });
      assert.equal(image.headers["content-encoding"], undefined, "an image is not a text type");
      assert.deepEqual(image.bytes, readFileSync(join(edge.site.staticRoot, PNG)));
      const tiny = await edge.request(host, `${base}/robots.txt`, { headers: { "accept-encoding": "gzip" } });
      assert.equal(tiny.headers["content-encoding"], undefined, "below gzip_min_length (20 bytes), sent as it is");
      assert.equal(tiny.body, "User-agent: *\n");
    }
  });

  test("the api and the workers are never compressed, whatever the client accepts: they reflect input next to secrets (BREACH)", async () => {
    for (const [host, path] of [
      [API_HOST, "/items"],
      [API_HOST, "/exports/e"],
      [APP_HOST, "/api/items"],
      [APP_HOST, "/v1/items"],
      [APP_HOST, "/reports/r"],
      [APP_HOST, "/jobs/v2/j"],
      [APP_HOST, "/health"],
    ]) {
      const reply = await edge.request(host, `${path}?pad=4096`, { headers: { "accept-encoding": "gzip, deflate, br" } });
      assert.equal(reply.status, 200, `${host}${path}`);
      assert.match(String(reply.headers["content-type"]), /^application\/json/, `${host}${path}: a type gzip_types lists`);
      assert.equal(reply.headers["content-encoding"], undefined, `${host}${path}`);
      assert.equal(echoOf(reply).pad.length, 4096, `${host}${path}`);
    }
  });

  test("every route answers with the security headers and the one Content-Security-Policy, nginx's own errors included", async () => {
    const cases: [string, string, Record<string, string>?][] = [
      [APP_HOST, "/"],
      [APP_HOST, "/dashboard/settings", browser],
      [APP_HOST, "/assets/index-Bx3kP9aQ.js"],
      [APP_HOST, "/static/js/main.3f2a1b4c.js"],
      [APP_HOST, "/assets/gone-00000000.js"],
      [APP_HOST, "/robots.txt"],
      [APP_HOST, "/apiary", browser],
      ...ROUTES.map((route): [string, string] => [route.host, `${route.path}/x`]),
      ...ROUTES.map((route): [string, string] => [route.host, route.path]),
      [API_HOST, "/"],
      [API_HOST, "/docs/assets/index-Bx3kP9aQ.js"],
      [API_HOST, "/docs/settings", browser],
      [API_HOST, "/health"],
      [APP_HOST, "/health"],
    ];
    for (const [host, path, headers] of cases) assertSecurityHeaders(await edge.request(host, path, { headers }), `${host}${path}`);
    // nginx's own answers: a body over maxBodySize, on a proxied and on a frontend location.
    for (const [host, path] of [
      [API_HOST, "/upload"],
      [APP_HOST, "/upload"],
      [APP_HOST, "/api/upload"],
    ]) {
      const reply = await edge.request(host, path, { method: "POST", body: "x".repeat(1_100_000) });
      assert.equal(reply.status, 413, `${host}${path}`);
      assertSecurityHeaders(reply, `${host}${path} 413`);
    }
  });
});

// ---------------------------------------------------------------------------------------

/** Plain requests time out after 2 s of silence from the app; upgraded connections after 8 s. */
const TIMEOUTS = { read: 2, webSocketRead: 8 };
const ADDRESS_OF: Record<string, string> = { a: REPLICA_A, b: REPLICA_B };

/**
 * Hooks for an nginx of its own in front of api replicas "a" and "b" and the worker "reports",
 * WebSocket backends all, and what the tests do with them. Each scenario gets its own nginx:
 * an upstream group (nginx ≥ 1.27.3) remembers a failed replica for a while, and one
 * scenario's failures must not decide another's.
 */
function webSocketEdge() {
  const replicas: Record<string, WebSocketBackend> = {};
  let worker: WebSocketBackend | undefined;
  let edge: Edge | undefined;
  before(async () => {
    edge = await startEdge(
      (port) => ({
        services: { "worker:reports": { alias: WORKER_ALIAS, port } },
        routes: [
          { host: APP_HOST, path: "/api", service: "api", stripPrefix: true },
          { host: APP_HOST, path: "/reports", service: "worker:reports" },
        ],
        contentSecurityPolicy: CSP,
        timeouts: TIMEOUTS,
      }),
      async (_site, port, cleanups) => {
        for (const name of ["a", "b"]) replicas[name] = await startWebSocketBackend(ADDRESS_OF[name], port, name);
        worker = await startWebSocketBackend(WORKER, port, "reports");
        cleanups.push(async () => {
          for (const backend of [...Object.values(replicas), worker]) await backend?.close();
        });
      },
      { [APP_ALIAS]: [REPLICA_A, REPLICA_B], [WORKER_ALIAS]: [WORKER] },
    );
  });
  after(() => stopEdge(edge));

  const running = () => {
    assert.ok(edge, "nginx started");
    return edge;
  };
  const connect = (host: string, path: string) => openWebSocket({ port: running().site.httpsPort, host, path, ca: running().ca(host) });
  return {
    replicas,
    worker: () => worker!,
    edge: running,
    connect,
    /** A WebSocket on the api host's `/` and the replica that greeted it. */
    openOnApi: async (path: string) => {
      const client = await connect(API_HOST, path);
      return { client, instance: (await greetingOf(client)).instance };
    },
    /** A replica started again on its address, as after a restart. */
    restart: async (name: string) => {
      replicas[name] = await startWebSocketBackend(ADDRESS_OF[name], running().port, name);
    },
  };
}

const greetingOf = async (client: WebSocketClient) => JSON.parse(await client.next()) as Greeting;
const closeOf = async (client: WebSocketClient) => {
  const { code, reason, wasClean, closeFrameReceived, error } = await client.closed;
  return { code, reason, wasClean, closeFrameReceived, error };
};

describe("WebSockets through real nginx: every kind of route, and a read timeout of their own", () => {
  const ws = webSocketEdge();
  const { replicas, connect, openOnApi } = ws;

  for (const [host, path, instances, seen] of [
    [API_HOST, "/live", ["a", "b"], "/live"],
    [APP_HOST, "/api/live?room=7", ["a", "b"], "/live?room=7"],
    [APP_HOST, "/api", ["a", "b"], "/"],
    [APP_HOST, "/reports/stream", ["reports"], "/reports/stream"],
  ] as const) {
    test(`messages echo both ways, and a close from the browser is clean: ${host}${path}`, async () => {
      const client = await connect(host, path);
      const greeting = await greetingOf(client);
      assert.ok((instances as readonly string[]).includes(greeting.instance), greeting.instance);
      assert.equal(greeting.url, seen, "the path the service saw");
      // Short, multi-byte, 16-bit and 64-bit payload lengths.
      for (const message of ["hello", "ünïcödé ✓ 🚀", "x".repeat(300), "y".repeat(70_000)]) {
        client.send(message);
        assert.equal(await client.next(), message);
      }
      const backend = greeting.instance === "reports" ? ws.worker() : replicas[greeting.instance];
      const handshake = backend.handshakes().at(-1)!;
      assert.equal(handshake.headers.upgrade, "websocket");
      assert.equal(handshake.headers.connection, "upgrade");
      assert.equal(handshake.headers.host, host);
      assert.equal(handshake.headers["x-forwarded-proto"], "https");
      client.close(CLOSE_NORMAL, "done");
      assert.deepEqual(await closeOf(client), {
        code: CLOSE_NORMAL,
        reason: "",
        wasClean: true,
        closeFrameReceived: true,
        error: undefined,
      });
    });
  }

  test("a plain request on a WebSocket route is proxied as plain HTTP", async () => {
    for (const [host, path] of [
      [API_HOST, "/live"],
      [APP_HOST, "/api/live"],
      [APP_HOST, "/reports/stream"],
    ]) {
      const reply = await ws.edge().request(host, path);
      assert.equal(reply.status, 200, `${host}${path}`);
      const seen = JSON.parse(reply.body) as { headers: Record<string, string> };
      assert.equal(seen.headers.upgrade, undefined, `${host}${path}`);
      assert.notEqual(seen.headers.connection, "upgrade", `${host}${path}`);
    }
  });

  test("the long read timeout holds for upgraded connections only: an idle WebSocket outlives a plain request's", async (t) => {
    const slowRequests = () =>
      [...Object.values(replicas)].flatMap((replica) => replica.requests()).filter((seen) => seen.url === "/slow?ms=4000").length;
    const abandoned = await openOnApi("/abandoned");
    const abandonedSince = Date.now();
    const kept = await openOnApi("/kept");
    const keptSince = Date.now();

    // A plain request whose app answers after 4 s: 504 once the 2 s read timeout passes, and
    // never sent to the other replica (proxy_next_upstream has no `timeout`).
    const slowBefore = slowRequests();
    const started = Date.now();
    const slow = await ws.edge().request(API_HOST, "/slow?ms=4000");
    const slowMs = Date.now() - started;
    assert.equal(slow.status, 504);
    assert.ok(slowMs >= TIMEOUTS.read * 1000 - 100 && slowMs < 4000, `504 after ${slowMs} ms`);
    assert.equal(slowRequests() - slowBefore, 1, "a timed-out request is not sent again");
    assert.equal((await ws.edge().request(API_HOST, "/slow?ms=1000")).status, 200, "within the read timeout");

    // The WebSocket, silent for twice the plain read timeout, still carries messages.
    await sleep(keptSince + 2 * TIMEOUTS.read * 1000 - Date.now());
    const keptIdleMs = Date.now() - keptSince;
    kept.client.send("still here");
    assert.equal(await kept.client.next(), "still here");

    // The one left silent is cut when its own read timeout passes: by nginx, without a Close frame.
    const cut = await abandoned.client.closed;
    const abandonedMs = cut.at - abandonedSince;
    assert.ok(
      abandonedMs >= TIMEOUTS.webSocketRead * 1000 - 200 && abandonedMs < TIMEOUTS.webSocketRead * 1000 + 2000,
      `cut after ${abandonedMs} ms`,
    );
    assert.deepEqual([cut.code, cut.wasClean, cut.closeFrameReceived], [CLOSE_ABNORMAL, false, false]);
    t.diagnostic(
      `plain request: 504 after ${slowMs} ms (read ${TIMEOUTS.read} s); WebSocket idle ${keptIdleMs} ms still open; ` +
        `WebSocket idle past webSocketRead ${TIMEOUTS.webSocketRead} s: cut after ${abandonedMs} ms, code ${cut.code}, error ${cut.error ?? "none"}`,
    );
    kept.client.close();
    await kept.client.closed;
  });
});

// An app answer slower than timeouts.read is a 504 and is not sent again (proxy_next_upstream
// has no `timeout`); it must not also take the replica out of rotation. An upstream group
// (nginx ≥ 1.27.3) counts a timeout as a failure of the replica whatever proxy_next_upstream
// says, and with the default max_fails=1 skips that replica for fail_timeout (10 s): if the
// other replica goes away in that time, as in a rollout, nginx has no replica left and
// answers 502 ("no live upstreams").
describe("a read timeout, then the other replica goes away (a rollout): requests still reach the slow replica", () => {
  const ws = webSocketEdge();

  test("a replica that timed out once stays in rotation", async (t) => {
    const slow = await ws.edge().request(API_HOST, "/slow?ms=4000");
    assert.equal(slow.status, 504);
    const timedOut = Object.values(ws.replicas).find((replica) => replica.requests().some((seen) => seen.url === "/slow?ms=4000"))!;
    const other = Object.values(ws.replicas).find((replica) => replica !== timedOut)!;
    // The other replica stops accepting, as an old replica does on SIGTERM.
    await other.drain();
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await ws.edge().request(API_HOST, `/after/${i}`));
    const disabled = ws
      .edge()
      .nginx.errorLog()
      .split("\n")
      .filter((line) => /no live upstreams|temporarily disabled/.test(line));
    t.diagnostic(
      `${timedOut.name} timed out, ${other.name} drained: ${replies.map((r) => r.status).join(", ")}; ${disabled.length} error-log lines on disabled replicas`,
    );
    assert.deepEqual(
      replies.map((reply) => [
        reply.status,
        reply.status === 200 ? (JSON.parse(reply.body) as { instance: string }).instance : disabled.join("\n"),
      ]),
      replies.map(() => [200, timedOut.name]),
      "a single read timeout must not take the only replica left out of rotation",
    );
    await ws.restart(other.name);
  });
});

describe("WebSockets across a rollout: the replica drains", () => {
  const { replicas, openOnApi, restart } = webSocketEdge();

  test("during a rollout, a draining replica closes its WebSockets cleanly (1001); the others stay, new ones reach the other replica", async (t) => {
    const clients = [];
    for (let i = 0; i < 6; i++) clients.push(await openOnApi(`/feed/${i}`));
    const draining = clients[0].instance;
    const other = draining === "a" ? "b" : "a";
    const onDraining = clients.filter((c) => c.instance === draining);
    const onOther = clients.filter((c) => c.instance === other);

    // SIGTERM to the replica (still in the alias until its container stops).
    const started = Date.now();
    const drained = replicas[draining].drain();
    const closes = await Promise.all(
      onDraining.map(async ({ client }) => ({ ...(await closeOf(client)), ms: (await client.closed).at - started })),
    );
    await drained;
    for (const close of closes) {
      assert.deepEqual(
        {
          code: close.code,
          reason: close.reason,
          wasClean: close.wasClean,
          closeFrameReceived: close.closeFrameReceived,
          error: close.error,
        },
        { code: CLOSE_GOING_AWAY, reason: "going away", wasClean: true, closeFrameReceived: true, error: undefined },
      );
    }
    for (const { client } of onOther) {
      client.send("after the drain");
      assert.equal(await client.next(), "after the drain", "the other replica's WebSockets are untouched");
    }
    // Reconnecting at once: the drained replica refuses, nginx goes on to the other one.
    const reconnected = [];
    for (let i = 0; i < 4; i++) {
      const next = await openOnApi("/feed/reconnect");
      reconnected.push(next.instance);
      next.client.close();
      await next.client.closed;
    }
    assert.deepEqual(reconnected, [other, other, other, other]);
    t.diagnostic(
      `drain of ${draining}: ${closes.length} WebSocket(s) closed with ${closes[0].code} "${closes[0].reason}", wasClean ${closes[0].wasClean}, ` +
        `after ${closes.map((c) => c.ms).join(", ")} ms; ${onOther.length} on ${other} kept; 4 reconnects reached ${reconnected.join(", ")}`,
    );
    for (const { client } of onOther) {
      client.close();
      await client.closed;
    }
    await restart(draining);
  });
});

// What an app must do on SIGTERM: send each open WebSocket a Close frame (1001, "going away")
// before it exits. The browser then sees a clean close it can reconnect from at once; a replica
// that exits without one (killed, or a server that just drops its sockets) leaves the browser a
// 1006 "abnormal closure", indistinguishable from a network failure. nginx passes the Close
// frame through, and never makes one up.
describe("WebSockets across a rollout: the replica is killed (for contrast)", () => {
  const { replicas, openOnApi, restart } = webSocketEdge();

  test("a replica killed without a Close frame: its browsers see 1006, not a clean close; new WebSockets reach the other replica", async (t) => {
    const clients = [];
    for (let i = 0; i < 6; i++) clients.push(await openOnApi(`/feed/${i}`));
    const killed = clients[0].instance;
    const other = killed === "a" ? "b" : "a";
    const started = Date.now();
    await replicas[killed].kill();
    const closes = await Promise.all(
      clients
        .filter((c) => c.instance === killed)
        .map(async ({ client }) => ({ ...(await closeOf(client)), ms: (await client.closed).at - started })),
    );
    for (const close of closes) {
      assert.deepEqual(
        { code: close.code, wasClean: close.wasClean, closeFrameReceived: close.closeFrameReceived },
        { code: CLOSE_ABNORMAL, wasClean: false, closeFrameReceived: false },
      );
    }
    for (const { client } of clients.filter((c) => c.instance === other)) {
      client.send("after the kill");
      assert.equal(await client.next(), "after the kill");
      client.close();
      await client.closed;
    }
    const next = await openOnApi("/feed/reconnect");
    assert.equal(next.instance, other);
    next.client.close();
    await next.client.closed;
    t.diagnostic(
      `kill of ${killed}: ${closes.length} WebSocket(s) ended with code ${closes[0].code}, wasClean ${closes[0].wasClean}, ` +
        `socket error ${closes[0].error ?? "none"}, after ${closes.map((c) => c.ms).join(", ")} ms`,
    );
    await restart(killed);
  });
});

// Upstream keepalive: from nginx 1.27.3 (the image's) the services are upstream groups that keep
// idle connections (proxy.keepalive), so sequential requests share one connection to a replica;
// with connections 0, or on older nginx (variables), each request opens its own.
describe("upstream keepalive: requests share a connection to the replica only where nginx can keep one", () => {
  const REQUESTS = 12;
  for (const connections of [16, 0]) {
    test(`keepalive.connections ${connections} on nginx ${version}`, async (t) => {
      let opened = 0;
      const backend = http.createServer((req, res) => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ instance: "a", url: req.url }));
      });
      backend.on("connection", () => opened++);
      let edge: Edge | undefined;
      try {
        edge = await startEdge(
          () => ({ keepalive: { connections, idleSeconds: 30 } }),
          async (_site, port, cleanups) => {
            await new Promise<void>((resolve) => backend.listen(port, REPLICA_A, resolve));
            cleanups.push(() => new Promise<void>((resolve) => backend.close(() => resolve())));
          },
          { [APP_ALIAS]: [REPLICA_A] },
        );
        for (let i = 0; i < REQUESTS; i++) assert.equal((await edge.request(API_HOST, `/item/${i}`)).status, 200);
      } finally {
        backend.closeAllConnections();
        await stopEdge(edge);
      }
      const keeps = connections > 0 && nginxVersionAtLeast(version, UPSTREAM_RESOLVE_SINCE);
      t.diagnostic(`${REQUESTS} requests opened ${opened} connection(s) to the replica`);
      if (keeps) assert.equal(opened, 1, "one worker, sequential requests: one kept connection");
      else assert.equal(opened, REQUESTS, "no upstream keepalive: a connection per request");
    });
  }
});
