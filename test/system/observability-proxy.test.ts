// Grafana's monitoring host in the rendered nginx.conf, read and served by Debian's real
// nginx on loopback: `nginx -t` on variants of the hosts and settings and on the reviewed
// fixture; then a running nginx in front of a stand-in Grafana (its own security headers, a
// WebSocket at /api/live/ws) reached through the DNS stand-in for Docker's, as in production.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { renderNginxConf, type NginxConfInput } from "../../components/proxy/render";
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
  listenOn,
  localNginxCopy,
  localNginxVersion,
  prepareNginxSite,
  requireNginxTools,
  sleep,
  startEchoBackend,
  startLoopbackDns,
  startNginx,
  testNginxConf,
  writePlaceholderCertificates,
  type EchoBackend,
  type LoopbackDns,
  type NginxSite,
  type RunningNginx,
} from "../../tools/lib/nginx-harness";

const tools = requireNginxTools();
const version = localNginxVersion(tools.nginx);
const MONITORING_HOST = "grafana.dropstack.test";
const GRAFANA_ALIAS = "grafana";
const WATCH = join(__dirname, "..", "..", "components", "hooks", "watch.sh");

/** The site of prepareNginxSite, with a placeholder certificate and the config for the monitoring host too. */
async function prepareMonitoringSite(overrides: Parameters<typeof prepareNginxSite>[1], grafanaPort: number): Promise<NginxSite> {
  const site = await prepareNginxSite(version, overrides);
  writePlaceholderCertificates(site.certDir, [MONITORING_HOST]);
  const input: NginxConfInput = {
    ...site.input,
    hosts: { ...site.input.hosts, monitoring: MONITORING_HOST },
    monitoringUpstream: { alias: GRAFANA_ALIAS, port: grafanaPort },
  };
  writeFileSync(site.confPath, renderNginxConf(input));
  return { ...site, input };
}

describe("nginx -t accepts the rendered config with a monitoring host", () => {
  let site: NginxSite;
  before(async () => {
    site = await prepareMonitoringSite({ resolver: "127.0.0.1:53", upstreamPort: 8000 }, 3000);
  });

  const FRONTEND = { frontend: { alias: FRONTEND_ALIAS, port: 8080 } };
  const variants: [string, (input: NginxConfInput) => Partial<NginxConfInput>][] = [
    ["beside an app host with a proxied frontend, HSTS on", () => ({ hsts: true, services: FRONTEND })],
    ["beside an app host with a proxied frontend, HSTS off", () => ({ hsts: false, services: FRONTEND })],
    ["beside the api host alone", (i) => ({ hosts: { api: i.hosts.api, monitoring: MONITORING_HOST } })],
    ["beside an app host proxied to the app, with CSP", () => ({ contentSecurityPolicy: "default-src 'self'" })],
    ["Grafana on another alias and port", () => ({ monitoringUpstream: { alias: "acme-production-grafana", port: 65535 } })],
    ["Docker's embedded DNS as resolver", () => ({ resolver: undefined })],
    ...[
      { rateLimit: 1, burst: 0 },
      { rateLimit: MAX_RATE, burst: MAX_RATE },
    ].map((settings): [string, () => Partial<NginxConfInput>] => [
      `rate ${settings.rateLimit} r/s, burst ${settings.burst}`,
      () => ({ settings: { ...settings, maxBodySize: "1k" } }),
    ]),
  ];
  for (const [name, change] of variants) {
    test(name, () => {
      const path = join(site.dir, `variant-${name.replace(/\W+/g, "-")}.conf`);
      const conf = renderNginxConf({ ...site.input, ...change(site.input) });
      assert.match(conf, new RegExp(`server_name ${MONITORING_HOST.replace(/\./g, "\\.")};`));
      writeFileSync(path, conf);
      const result = testNginxConf(tools.nginx, path);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stderr, /test is successful/);
      assert.doesNotMatch(result.stderr, /\[(warn|emerg|alert|crit)\]/, result.stderr);
    });
  }

  test("the reviewed rendering test/fixtures/nginx/monitoring.conf", async () => {
    const copy = await localNginxCopy(readFileSync(join(__dirname, "..", "fixtures", "nginx", "monitoring.conf"), "utf8"), version);
    assert.deepEqual(copy.hosts, ["api.example.com", "app.example.com", "grafana.example.com"]);
    const result = testNginxConf(tools.nginx, copy.confPath);
    assert.equal(result.status, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /\[(warn|emerg|alert|crit)\]/, result.stderr);
  });
});

// ---------------------------------------------------------------------------------------
// A stand-in Grafana: answers with what reached it and with Grafana's default security
// headers, and accepts a WebSocket at /api/live/ws, where it sends one text message.

interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
}

interface FakeGrafana {
  seen: SeenRequest[];
  close: () => Promise<void>;
}

const LIVE_MESSAGE = '{"id":1,"result":{"client":"live"}}';

async function startFakeGrafana(address: string, port: number): Promise<FakeGrafana> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on("data", (chunk: Buffer) => (bytes += chunk.length));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, bodyBytes: bytes });
      res.setHeader("x-frame-options", "deny");
      res.setHeader("x-content-type-options", "nosniff");
      res.setHeader("x-xss-protection", "1; mode=block");
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ grafana: true, url: req.url }));
    });
  });
  server.on("upgrade", (req, socket) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, bodyBytes: 0 });
    const accept = createHash("sha1")
      .update(`${String(req.headers["sec-websocket-key"])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest("base64");
    socket.write(
      ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", `Sec-WebSocket-Accept: ${accept}`, "", ""].join(
        "\r\n",
      ),
    );
    // One unmasked text frame (a server's frames are never masked).
    socket.write(Buffer.concat([Buffer.from([0x81, LIVE_MESSAGE.length]), Buffer.from(LIVE_MESSAGE)]));
    socket.end();
  });
  return { seen, close: await listenOn(server, address, port) };
}

/**
 * A WebSocket handshake over TLS to nginx: the status line, the response head, and what
 * followed it until the stand-in closed the upgraded connection (nothing for another status,
 * whose connection nginx would keep open).
 */
function webSocketHandshake(port: number, host: string, path: string): Promise<{ status: string; headers: string; after: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: "127.0.0.1", servername: host, rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] });
    let received = Buffer.alloc(0);
    socket.once("secureConnect", () =>
      socket.write(
        [
          `GET ${path} HTTP/1.1`,
          `Host: ${host}`,
          "Upgrade: websocket",
          "Connection: Upgrade",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Version: 13",
          `Origin: https://${host}`,
          "",
          "",
        ].join("\r\n"),
      ),
    );
    const answer = () => {
      const end = received.indexOf("\r\n\r\n");
      const head = received.subarray(0, end === -1 ? received.length : end).toString("latin1");
      return { status: head.split("\r\n")[0], headers: head, after: end === -1 ? Buffer.alloc(0) : received.subarray(end + 4) };
    };
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const { status } = answer();
      if (received.includes("\r\n\r\n") && !status.includes(" 101 ")) {
        resolve(answer());
        socket.destroy();
      }
    });
    socket.on("close", () => resolve(answer()));
    socket.on("error", reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to the WebSocket handshake on ${path}`)));
  });
}

describe("nginx serving Grafana at the monitoring host", () => {
  const APP_REPLICA = "127.0.0.2";
  const GRAFANA = "127.0.0.5";
  let site: NginxSite;
  let dns: LoopbackDns;
  let nginx: RunningNginx | undefined;
  let app: EchoBackend;
  let grafana: FakeGrafana;
  let ca: { api: string; monitoring: string };
  const cleanups: (() => Promise<void>)[] = [];
  // Each request comes from an address of its own, so the rate limit stays out of the way.
  let nextClient = 10;
  const asNewClient = () => ({ localAddress: `127.0.2.${nextClient++}` });

  before(async () => {
    dns = await startLoopbackDns();
    cleanups.push(() => dns.close());
    const upstreamPort = await freeUpstreamPort([APP_REPLICA]);
    app = await startEchoBackend(APP_REPLICA, upstreamPort, "app");
    cleanups.push(() => app.close());
    dns.set(APP_ALIAS, [APP_REPLICA]);
    const grafanaPort = await freeUpstreamPort([GRAFANA]);
    grafana = await startFakeGrafana(GRAFANA, grafanaPort);
    cleanups.push(() => grafana.close());
    // Grafana is not in the DNS yet: nginx must start without it.
    site = await prepareMonitoringSite(
      { resolver: dns.address, upstreamPort, resolverValidSeconds: 1, settings: { rateLimit: 5, burst: 10, maxBodySize: "1k" } },
      grafanaPort,
    );
    ca = {
      api: readFileSync(join(site.certDir, API_HOST, "fullchain.pem"), "utf8"),
      monitoring: readFileSync(join(site.certDir, MONITORING_HOST, "fullchain.pem"), "utf8"),
    };
    nginx = await startNginx(tools.nginx, site);
  });

  after(async () => {
    await nginx?.stop();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const monitoring = (path: string, more: Partial<Parameters<typeof httpsRequest>[0]> = {}) =>
    httpsRequest({ port: site.httpsPort, host: MONITORING_HOST, path, ca: ca.monitoring, ...asNewClient(), ...more });

  test("starts while Grafana is not up: the API answers, the monitoring host 502 until Grafana's alias resolves", async () => {
    const api = await httpsRequest({ port: site.httpsPort, host: API_HOST, path: "/v1/items", ca: ca.api, ...asNewClient() });
    assert.equal(api.status, 200);
    const down = await monitoring("/login");
    assert.equal(down.status, 502);
    assert.equal(down.headers["x-frame-options"], "DENY", "the security headers go on errors too");
    dns.set(GRAFANA_ALIAS, [GRAFANA]);
    const deadline = Date.now() + 60_000;
    let reply = await monitoring("/login");
    while (reply.status !== 200 && Date.now() < deadline) {
      await sleep(100);
      reply = await monitoring("/login");
    }
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), { grafana: true, url: "/login" });
  });

  test("serves the monitoring host's own certificate, which the API's does not verify", async () => {
    await assert.rejects(
      httpsRequest({ port: site.httpsPort, host: MONITORING_HOST, path: "/", ca: ca.api }),
      /self[- ]signed|unable to verify|certificate/i,
    );
    const subject = run([tools.openssl, "s_client", "-connect", `127.0.0.1:${site.httpsPort}`, "-servername", MONITORING_HOST], {
      input: "",
    });
    assert.match(subject.stdout, new RegExp(`subject=\\s*CN\\s*=\\s*${MONITORING_HOST.replace(/\./g, "\\.")}`));
  });

  test("port 80 redirects Grafana's login to HTTPS and answers the monitoring host's ACME challenges", async () => {
    for (const path of ["/login", "/d/abc/overview?orgId=1", "/api/live/ws"]) {
      const reply = await httpRequest({ port: site.httpPort, host: MONITORING_HOST, path, method: "POST", body: "user=admin&password=x" });
      assert.equal(reply.status, 301, path);
      assert.equal(reply.headers.location, `https://${MONITORING_HOST}:${site.httpsPort}${path}`);
    }
    writeFileSync(join(site.webroot, ".well-known", "acme-challenge", "grafana-token"), "grafana-token.thumbprint");
    const challenge = await httpRequest({ port: site.httpPort, host: MONITORING_HOST, path: "/.well-known/acme-challenge/grafana-token" });
    assert.equal(challenge.status, 200);
    assert.equal(challenge.body, "grafana-token.thumbprint");
  });

  test("Grafana's answers carry nginx's security headers alone, HSTS included, never Grafana's own copies", async () => {
    const reply = await monitoring("/api/health");
    assert.equal(reply.status, 200);
    assert.equal(reply.headers["strict-transport-security"], "max-age=31536000; includeSubDomains");
    // Node joins repeated headers with ", ": one value each means Grafana's copy was hidden.
    assert.equal(reply.headers["x-frame-options"], "DENY");
    assert.equal(reply.headers["x-content-type-options"], "nosniff");
    assert.equal(reply.headers["x-xss-protection"], "0");
    assert.equal(reply.headers["referrer-policy"], "strict-origin-when-cross-origin");
    assert.equal(reply.headers["content-security-policy"], undefined);
  });

  test("requests reach Grafana with the host and the forwarding headers nginx sets, never the app", async () => {
    const appRequests = app.requests();
    const before = grafana.seen.length;
    const reply = await monitoring("/api/dashboards/uid/abc?x=1", {
      headers: { "x-forwarded-for": "203.0.113.9" },
      localAddress: "127.0.3.1",
    });
    assert.equal(reply.status, 200);
    const seen = grafana.seen.slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].url, "/api/dashboards/uid/abc?x=1");
    assert.equal(seen[0].headers.host, MONITORING_HOST);
    assert.equal(seen[0].headers["x-real-ip"], "127.0.3.1");
    assert.equal(seen[0].headers["x-forwarded-for"], "127.0.3.1", "a client-sent X-Forwarded-For must not reach Grafana");
    assert.equal(seen[0].headers["x-forwarded-proto"], "https");
    assert.equal(seen[0].headers["x-forwarded-host"], MONITORING_HOST);
    assert.equal(seen[0].headers.connection, "close");
    assert.equal(app.requests(), appRequests);
  });

  test("Grafana Live's WebSocket at /api/live/ws is upgraded end to end; a plain request there is not", async () => {
    const before = grafana.seen.length;
    const live = await webSocketHandshake(site.httpsPort, MONITORING_HOST, "/api/live/ws");
    assert.equal(live.status, "HTTP/1.1 101 Switching Protocols", live.headers);
    assert.match(live.headers, /\r\nupgrade: websocket\r\n/i);
    assert.match(live.headers, /\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
    assert.deepEqual([...live.after.subarray(0, 2)], [0x81, LIVE_MESSAGE.length]);
    assert.equal(live.after.subarray(2).toString(), LIVE_MESSAGE);
    const handshake = grafana.seen[before];
    assert.equal(handshake.url, "/api/live/ws");
    assert.equal(handshake.headers.upgrade, "websocket");
    assert.equal(handshake.headers.connection, "upgrade");
    assert.equal(handshake.headers.host, MONITORING_HOST);
    const plain = await monitoring("/api/live/list");
    assert.equal(plain.status, 200);
    assert.equal(grafana.seen.at(-1)?.headers.connection, "close");
    assert.equal(grafana.seen.at(-1)?.headers.upgrade, undefined);
    // Elsewhere on the host, nginx does not pass the handshake on.
    const elsewhere = await webSocketHandshake(site.httpsPort, MONITORING_HOST, "/api/dashboards");
    assert.equal(elsewhere.status, "HTTP/1.1 200 OK");
    assert.equal(grafana.seen.at(-1)?.headers.upgrade, undefined);
  });

  test("Grafana's own metrics are not served to the internet", async () => {
    const before = grafana.seen.length;
    for (const path of ["/metrics", "/metrics/plugins/grafana-lokiexplore-app"]) {
      const reply = await monitoring(path);
      assert.equal(reply.status, 404, path);
      assert.equal(reply.headers["x-frame-options"], "DENY", path);
    }
    assert.equal(grafana.seen.length, before, "nothing reached Grafana");
    assert.equal((await monitoring("/api/metrics-like")).status, 200, "only /metrics itself and under it");
  });

  test("Grafana has its own body limit of 10m: above the app's 1k, still refused past it", async () => {
    const dashboard = await monitoring("/api/dashboards/db", { method: "POST", body: "x".repeat(64 * 1024) });
    assert.equal(dashboard.status, 200);
    assert.equal(grafana.seen.at(-1)?.bodyBytes, 64 * 1024);
    const huge = await monitoring("/api/dashboards/db", { method: "POST", body: "x".repeat(10 * 1024 * 1024 + 1) });
    assert.equal(huge.status, 413);
    const app = await httpsRequest({
      port: site.httpsPort,
      host: API_HOST,
      path: "/v1/upload",
      ca: ca.api,
      method: "POST",
      body: "x".repeat(2048),
      ...asNewClient(),
    });
    assert.equal(app.status, 413, "the app keeps proxy.maxBodySize");
  });

  test("the login, the WebSocket and the app's health path on the monitoring host are all rate-limited", async () => {
    for (const [path, localAddress] of [
      ["/login", "127.0.4.1"],
      ["/api/live/ws", "127.0.4.2"],
      ["/health", "127.0.4.3"],
    ]) {
      const { statuses, passed, refilled } = await burst(30, 5, () => monitoring(path, { localAddress }));
      assert.ok(passed >= 11 && passed <= 11 + refilled, `${path}: passed ${passed} (${refilled} refilled): ${statuses.join(",")}`);
      assert.deepEqual(
        statuses.filter((s) => s !== 200 && s !== 429),
        [],
        path,
      );
    }
    assert.ok(
      grafana.seen.some((r) => r.url === "/health"),
      "the health path goes to Grafana like any other",
    );
  });

  test("the access log names the monitoring host, and the watch's analysis reads those lines", async () => {
    await sleep(200);
    const log = readFileSync(join(site.dir, "access.log"), "utf8");
    const monitoringLines = log.split("\n").filter((line) => line.includes(`"${MONITORING_HOST}" `));
    assert.ok(monitoringLines.length > 50, log);
    assert.ok(
      monitoringLines.every((line) => / "grafana\.dropstack\.test" \d+\.\d{3}$/.test(line)),
      monitoringLines.join("\n"),
    );
    const analysed = run(["bash", WATCH, "analyze"], { input: monitoringLines.join("\n") });
    assert.equal(analysed.status, 0, analysed.stderr);
    assert.equal(Number(analysed.stdout.split(" ")[0]), monitoringLines.length);
    assert.ok(log.includes(`"${APP_HOST}" `) || log.includes(`"${API_HOST}" `));
  });
});
