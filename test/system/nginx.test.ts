// The rendered nginx.conf, read and served by Debian's real nginx on loopback (or the nginx
// DROPSTACK_NGINX names, rendered for its version), with certificates from the real placeholder
// script and the app's and the frontend's aliases resolved through a DNS server standing in for
// Docker's, as in production. Routes, WebSockets and the frontend's caching and compression
// in detail: nginx-edge.test.ts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UPSTREAM_RESOLVE_SINCE, nginxVersionAtLeast, renderNginxConf, type NginxConfInput } from "../../components/proxy/render";
import { MAX_RATE } from "../../components/proxy/settings";
import { run } from "../../tools/lib/system";
import {
  API_HOST,
  APP_ALIAS,
  APP_HOST,
  FRONTEND_ALIAS,
  burst,
  freeUpstreamPort,
  httpRequest,
  httpsRequest,
  localNginxCopy,
  localNginxVersion,
  prepareNginxSite,
  requireNginxTools,
  sleep,
  startEchoBackend,
  startLoopbackDns,
  startNginx,
  startStaticBackend,
  testNginxConf,
  type EchoBackend,
  type LoopbackDns,
  type NginxSite,
  type RunningNginx,
} from "../../tools/lib/nginx-harness";

const tools = requireNginxTools();
const version = localNginxVersion(tools.nginx);

describe("nginx -t accepts every shape of the rendered config", () => {
  let site: NginxSite;
  before(async () => {
    site = await prepareNginxSite(version, { resolver: "127.0.0.1:53", upstreamPort: 8000 });
  });

  const frontend = { frontend: { alias: FRONTEND_ALIAS, port: 8080 } };
  const variants: [string, Partial<NginxConfInput>][] = [
    ["HSTS on, the app host's / to the frontend", { hsts: true, services: frontend }],
    ["HSTS off, the app host's / to the frontend", { hsts: false, services: frontend }],
    ["HSTS on, api host only", { hsts: true, hosts: { api: API_HOST } }],
    ["HSTS off, api host only", { hsts: false, hosts: { api: API_HOST } }],
    ["app host proxied to the app, with CSP", { contentSecurityPolicy: "default-src 'self'" }],
    [
      "routes to the api, a worker and the frontend, stripped and not, with CSP",
      {
        services: { ...frontend, "worker:reports": { alias: "reports", port: 9000 } },
        routes: [
          { host: APP_HOST, path: "/api", service: "api", stripPrefix: true },
          { host: APP_HOST, path: "/v1", service: "api" },
          { host: APP_HOST, path: "/reports/v2", service: "worker:reports" },
          { host: API_HOST, path: "/docs", service: "frontend", stripPrefix: true },
          { host: API_HOST, path: "/jobs", service: "worker:reports", stripPrefix: true },
        ],
        contentSecurityPolicy: "default-src 'self'; connect-src 'self' wss:",
      },
    ],
    [
      "a worker at / of the app host, the frontend at / of the api host",
      {
        services: { ...frontend, "worker:site": { alias: "site", port: 9000 } },
        routes: [
          { host: APP_HOST, path: "/", service: "worker:site" },
          { host: API_HOST, path: "/", service: "frontend" },
          { host: API_HOST, path: "/api", service: "api" },
        ],
      },
    ],
    [
      "timeouts and keepalive at their lowest",
      { timeouts: { connect: 1, send: 1, read: 1, webSocketRead: 1, webSocketSend: 1 }, keepalive: { connections: 0, idleSeconds: 1 } },
    ],
    [
      "timeouts and keepalive at their highest",
      {
        timeouts: { connect: 75, send: 3600, read: 3600, webSocketRead: 86400, webSocketSend: 86400 },
        keepalive: { connections: 1024, idleSeconds: 300 },
      },
    ],
    ["Docker's embedded DNS as resolver", { resolver: undefined }],
    // Every numeric setting at both ends of what validateProxySettings accepts.
    ...[
      { rateLimit: 1, burst: 0 },
      { rateLimit: 1, burst: 1 },
      { rateLimit: MAX_RATE, burst: MAX_RATE },
    ].map((settings): [string, Partial<NginxConfInput>] => [
      `rate ${settings.rateLimit} r/s, burst ${settings.burst}`,
      { settings: { ...settings, maxBodySize: "1k" } },
    ]),
  ];
  for (const [name, change] of variants) {
    test(name, () => {
      const path = join(site.dir, `variant-${name.replace(/\W+/g, "-")}.conf`);
      writeFileSync(path, renderNginxConf({ ...site.input, ...change }));
      const result = testNginxConf(tools.nginx, path);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stderr, /test is successful/);
      // Catches directives this nginx deprecates (they only warn) as well as errors.
      assert.doesNotMatch(result.stderr, /\[(warn|emerg|alert|crit)\]/, result.stderr);
    });
  }

  // The reviewed whole files of test/unit/nginx-conf-whole.test.ts that keep the container's
  // paths, moved onto loopback as the emitted file is (localNginxCopy). Both are rendered for
  // the image's nginx, with upstream groups: a local nginx older than 1.27.3 reads them as
  // per-request variables.
  for (const fixture of ["minimal.conf", "ipv6-resolver-rate-only.conf"]) {
    test(`the reviewed rendering test/fixtures/nginx/${fixture}`, async () => {
      const copy = await localNginxCopy(readFileSync(join(__dirname, "..", "fixtures", "nginx", fixture), "utf8"), version);
      const groups = nginxVersionAtLeast(version, UPSTREAM_RESOLVE_SINCE);
      assert.equal(/^ *upstream dropstack_upstream \{$/m.test(copy.text), groups, "upstream groups on nginx ≥ 1.27.3 only");
      assert.equal(/^ *set \$dropstack_upstream \S+;$/m.test(copy.text), !groups, "variables before 1.27.3");
      const result = testNginxConf(tools.nginx, copy.confPath);
      assert.equal(result.status, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /\[(warn|emerg|alert|crit)\]/, result.stderr);
    });
  }

  test("OCSP stapling with the self-signed placeholder only warns", () => {
    const path = join(site.dir, "ocsp.conf");
    writeFileSync(path, renderNginxConf({ ...site.input, ocspStapling: true }));
    const result = testNginxConf(tools.nginx, path);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /\[warn\].*ssl_stapling/);
  });
});

describe("nginx serving the rendered config", () => {
  const REPLICA_A = "127.0.0.2";
  const REPLICA_B = "127.0.0.3";
  const REPLICA_C = "127.0.0.4";
  const FRONTEND = "127.0.0.5";
  let site: NginxSite;
  let dns: LoopbackDns;
  let nginx: RunningNginx | undefined;
  let upstreamPort: number;
  let replicaA: EchoBackend;
  const cleanups: (() => Promise<void>)[] = [];
  let ca: { api: string; app: string };

  before(async () => {
    dns = await startLoopbackDns();
    cleanups.push(() => dns.close());
    upstreamPort = await freeUpstreamPort([REPLICA_A, REPLICA_B, REPLICA_C, FRONTEND]);
    replicaA = await startEchoBackend(REPLICA_A, upstreamPort, "a");
    cleanups.push(() => replicaA.close());
    dns.set(APP_ALIAS, [REPLICA_A]);
    dns.set(FRONTEND_ALIAS, [FRONTEND]);
    site = await prepareNginxSite(version, {
      resolver: dns.address,
      upstreamPort,
      services: { frontend: { alias: FRONTEND_ALIAS, port: upstreamPort } },
      resolverValidSeconds: 1,
      settings: { rateLimit: 5, burst: 10, maxBodySize: "1k" },
    });
    const frontend = await startStaticBackend(FRONTEND, upstreamPort, site.staticRoot);
    cleanups.push(() => frontend.close());
    ca = {
      api: readFileSync(join(site.certDir, API_HOST, "fullchain.pem"), "utf8"),
      app: readFileSync(join(site.certDir, APP_HOST, "fullchain.pem"), "utf8"),
    };
    nginx = await startNginx(tools.nginx, site);
  });

  after(async () => {
    await nginx?.stop();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const api = (path: string, more: Partial<Parameters<typeof httpsRequest>[0]> = {}) =>
    httpsRequest({ port: site.httpsPort, host: API_HOST, path, ca: ca.api, ...more });
  const app = (path: string) => httpsRequest({ port: site.httpsPort, host: APP_HOST, path, ca: ca.app });

  test("port 80 redirects to HTTPS, keeping path and query", async () => {
    const reply = await httpRequest({ port: site.httpPort, host: API_HOST, path: "/v1/items?page=2" });
    assert.equal(reply.status, 301);
    assert.equal(reply.headers.location, `https://${API_HOST}:${site.httpsPort}/v1/items?page=2`);
  });

  test("port 80 serves ACME challenges from the webroot instead of redirecting", async () => {
    writeFileSync(join(site.webroot, ".well-known", "acme-challenge", "token-123"), "token-123.thumbprint");
    const reply = await httpRequest({ port: site.httpPort, host: APP_HOST, path: "/.well-known/acme-challenge/token-123" });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, "token-123.thumbprint");
    const missing = await httpRequest({ port: site.httpPort, host: APP_HOST, path: "/.well-known/acme-challenge/other" });
    assert.equal(missing.status, 404);
  });

  test("port 80 closes the connection for names it does not serve", async () => {
    await assert.rejects(httpRequest({ port: site.httpPort, host: "elsewhere.example", path: "/" }), /socket hang up|ECONNRESET/);
  });

  test("HTTPS responses carry HSTS and the security headers, errors included", async () => {
    for (const reply of [await api("/v1/items"), await app("/assets/index-Bx3kP9aQ.js"), await app("/assets/gone-00000000.js")]) {
      assert.equal(reply.headers["strict-transport-security"], "max-age=31536000; includeSubDomains");
      assert.equal(reply.headers["x-frame-options"], "DENY");
      assert.equal(reply.headers["x-content-type-options"], "nosniff");
      assert.equal(reply.headers["referrer-policy"], "strict-origin-when-cross-origin");
      assert.equal(reply.headers["x-xss-protection"], "0");
    }
  });

  test("requests reach the app with the forwarding headers set by nginx", async () => {
    const reply = await api("/v1/items?x=1", { headers: { "x-forwarded-for": "203.0.113.9" } });
    assert.equal(reply.status, 200);
    const seen = JSON.parse(reply.body);
    assert.equal(seen.instance, "a");
    assert.equal(seen.url, "/v1/items?x=1");
    assert.equal(seen.headers.host, API_HOST);
    assert.equal(seen.headers["x-real-ip"], "127.0.0.1");
    assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1", "a client-sent X-Forwarded-For must not reach the app");
    assert.equal(seen.headers["x-forwarded-proto"], "https");
    assert.equal(seen.headers["x-forwarded-host"], API_HOST);
  });

  test("TLS 1.2 and 1.3 handshakes succeed; the server refuses TLS 1.1", () => {
    const handshake = (...flags: string[]) =>
      run([tools.openssl, "s_client", "-connect", `127.0.0.1:${site.httpsPort}`, "-servername", API_HOST, ...flags], { input: "" });
    const tls12 = handshake("-tls1_2");
    assert.equal(tls12.status, 0, tls12.stderr);
    assert.match(tls12.stdout, /New, TLSv1\.2, Cipher is ECDHE-/);
    const tls13 = handshake("-tls1_3");
    assert.equal(tls13.status, 0, tls13.stderr);
    assert.match(tls13.stdout, /New, TLSv1\.3, Cipher is TLS_/);
    // SECLEVEL=0 lets this client offer TLS 1.1, so the refusal below is the server's.
    const tls11 = handshake("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0");
    assert.notEqual(tls11.status, 0);
    assert.match(tls11.stderr, /alert protocol version/);
  });

  test("a name nginx does not serve is refused during the TLS handshake", async () => {
    await assert.rejects(
      httpsRequest({ port: site.httpsPort, host: "elsewhere.example", path: "/", ca: ca.api }),
      /alert|ECONNRESET|socket/i,
    );
  });

  test("/health is never rate-limited; other paths get 429 past the burst", async () => {
    const client = { localAddress: "127.0.0.77" };
    // What may pass is 1 + burst 10, plus what refills at 5 r/s while they are answered.
    const { statuses, passed, refilled } = await burst(30, 5, () => api("/v1/items", client));
    assert.ok(passed >= 11 && passed <= 11 + refilled, `passed ${passed} (${refilled} refilled): ${statuses.join(",")}`);
    assert.deepEqual(
      statuses.filter((s) => s !== 200 && s !== 429),
      [],
    );
    assert.ok(statuses.includes(429), "past the burst, requests get 429");
    for (let i = 0; i < 30; i++) assert.equal((await api("/health", client)).status, 200, `/health #${i}`);
  });

  test("a body above maxBodySize is refused with 413", async () => {
    const small = await api("/v1/upload", { method: "POST", body: "x".repeat(512), localAddress: "127.0.0.78" });
    assert.equal(small.status, 200);
    const big = await api("/v1/upload", { method: "POST", body: "x".repeat(4096), localAddress: "127.0.0.78" });
    assert.equal(big.status, 413);
  });

  test("the proxied frontend: hashed assets cached for a year, index.html revalidated, SPA fallback", async () => {
    const vite = await app("/assets/index-Bx3kP9aQ.js");
    assert.equal(vite.status, 200);
    assert.equal(vite.headers["cache-control"], "public, max-age=31536000, immutable");
    const webpack = await app("/static/js/main.3f2a1b4c.js");
    assert.equal(webpack.status, 200);
    assert.equal(webpack.headers["cache-control"], "public, max-age=31536000, immutable");
    for (const path of ["/", "/index.html", "/patients/42/edit"]) {
      const page = await app(path);
      assert.equal(page.status, 200, path);
      assert.match(page.body, /^<!doctype html>/, path);
      assert.equal(page.headers["cache-control"], "no-cache", path);
    }
    const robots = await app("/robots.txt");
    assert.equal(robots.body, "User-agent: *\n");
    assert.equal(robots.headers["cache-control"], "no-cache");
    const gone = await app("/assets/index-OldHash1.js");
    assert.equal(gone.status, 404, "a missing asset must not be answered with index.html");
    assert.doesNotMatch(gone.body, /<!doctype html>/);
    const goneWebpack = await app("/static/js/main.00000000.js");
    assert.equal(goneWebpack.status, 404, "nor a missing webpack-hashed file");
  });

  // Each request comes from an address of its own so the rate limit stays out of the way.
  let nextClient = 10;
  const asNewClient = () => ({ localAddress: `127.0.1.${nextClient++}` });

  test("a replica that refuses connections is skipped, for GET and for POST", async () => {
    // Replica B is in the alias but does not listen: a container still starting, or one
    // that has closed its listener to drain. nginx keeps its previous answer for up to
    // `valid` seconds, so requests go on until one has been tried on B.
    dns.set(APP_ALIAS, [REPLICA_A, REPLICA_B]);
    const refusedByB = new RegExp(`\\(111: Connection refused\\).*upstream: "http://${REPLICA_B.replace(/\./g, "\\.")}:`);
    const before = replicaA.requests();
    const deadline = Date.now() + 60_000;
    let sent = 0;
    while (sent < 20 || (!refusedByB.test(nginx!.errorLog()) && Date.now() < deadline)) {
      const method = sent % 2 === 0 ? "GET" : "POST";
      const reply = await api(`/v1/items/${sent}`, { method, body: method === "POST" ? "{}" : undefined, ...asNewClient() });
      assert.equal(reply.status, 200, `${method} #${sent}: ${reply.body}`);
      sent++;
      await sleep(20);
    }
    assert.match(nginx!.errorLog(), refusedByB, "no request was ever tried on the refusing replica");
    assert.equal(replicaA.requests() - before, sent, "every request was answered by replica A");
  });

  test("requests follow the alias when the replicas behind it change", async () => {
    const replicaC = await startEchoBackend(REPLICA_C, upstreamPort, "c");
    cleanups.push(() => replicaC.close());
    dns.set(APP_ALIAS, [REPLICA_C]);
    const instanceAfterResolve = async (expected: string) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const reply = await api("/v1/items", asNewClient());
        const instance = reply.status === 200 ? JSON.parse(reply.body).instance : String(reply.status);
        if (instance === expected || Date.now() > deadline) return instance;
        await sleep(100);
      }
    };
    assert.equal(await instanceAfterResolve("c"), "c");
    dns.set(APP_ALIAS, []);
    assert.equal(await instanceAfterResolve("502"), "502", "with no replica left nginx answers 502");
  });
});
