// nginx behind a load balancer (NginxConfInput.loadBalancer), in real nginx (Debian's, or the one
// DROPSTACK_NGINX names: nginx-image-version.test.ts runs this file with the image's 1.28, where
// the api is an upstream group): every host served over plain HTTP on the HTTP port, requests
// taken as coming from the address the load balancer appended to X-Forwarded-For (logged and
// rate-limited as that client, IPv4 and IPv6), the services told https, and the default server
// answering the load balancer's health path alone: the api's health, 503 while the drain flag
// exists, 502/503 while the api is down. The drain and undrain commands and the load-balancer
// entrypoint run for real against it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { LOAD_BALANCER_HEALTH_PATH } from "../../components/common/names";
import { loadBalancerHealthcheckTest, renderDrainCommand, renderUndrainCommand } from "../../components/proxy/commands";
import { renderLoadBalancerNginxEntrypoint, renderNginxConf, type NginxConfInput } from "../../components/proxy/render";
import {
  API_HOST,
  APP_ALIAS,
  APP_HOST,
  SCRIPT_PATH,
  burst,
  freeUpstreamPort,
  httpRequest,
  httpsRequest,
  listenOn,
  localNginxVersion,
  prepareNginxSite,
  requireNginxTools,
  sleep,
  startEchoBackend,
  startEntrypoint,
  startLoopbackDns,
  startNginx,
  testNginxConf,
  waitForPort,
  type LoopbackDns,
  type NginxSite,
  type Reply,
  type RunningNginx,
} from "../../tools/lib/nginx-harness";
import { makeTempDir, requireTools, run, runAsync } from "../../tools/lib/system";

const required = requireTools([
  { command: "shellcheck", debianPackage: "shellcheck" },
  { command: "busybox", debianPackage: "busybox" },
  { command: "curl", debianPackage: "curl" },
]);
const tools = { ...requireNginxTools(), shellcheck: required.shellcheck, busybox: required.busybox };
const version = localNginxVersion(tools.nginx);

const MONITORING_HOST = "monitoring.dropstack.test";
const REPLICA = "127.0.0.2";
const UNHEALTHY_REPLICA = "127.0.0.3";
const GRAFANA = "127.0.0.6";
/** Hosts the load balancer's health check may name: the droplet's address, never a host nginx serves. */
const ADDRESS_HOSTS = ["127.0.0.1", "10.110.0.5", "10.110.0.5:80", "[2001:db8::1]"];
const IPV4_CLIENTS = ["203.0.113.9", "198.51.100.23", "192.0.2.200", "100.64.12.7"];
const IPV6_CLIENTS = ["2001:db8::5", "2001:db8:85a3::8a2e:370:7334", "2606:4700:4700::1111", "fd00:10:110::7"];

/** A replica that answers every request, its health included, with 503. */
async function startUnhealthyBackend(address: string, port: number): Promise<{ close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.statusCode = 503;
    res.end("unhealthy\n");
  });
  return { close: await listenOn(server, address, port) };
}

/** The rendered command as a file, run by sh without blocking the event loop (the backends answer in this process). */
async function runScript(dir: string, name: string, script: string) {
  const file = join(dir, name);
  writeFileSync(file, `${script}\n`);
  return runAsync(["sh", file], { env: { ...process.env, PATH: SCRIPT_PATH } });
}

describe("nginx -t accepts the load-balancer rendering", () => {
  let site: NginxSite;
  before(async () => {
    site = await prepareNginxSite(version, { resolver: "127.0.0.1:53", upstreamPort: 8000, loadBalancer: { drainFlag: "/tmp/draining" } });
  });

  const variants: [string, Partial<NginxConfInput>][] = [
    ["api alone", { hosts: { api: API_HOST } }],
    ["api and app, HSTS off", { hsts: false }],
    [
      "the app's / to the frontend, a worker route",
      {
        services: { frontend: { alias: "frontend", port: 8080 }, "worker:reports": { alias: "reports", port: 9000 } },
        routes: [{ host: API_HOST, path: "/reports", service: "worker:reports", stripPrefix: true }],
        contentSecurityPolicy: "default-src 'self'",
      },
    ],
    [
      "routes that send nothing to the api",
      {
        services: { frontend: { alias: "frontend", port: 8080 } },
        routes: [
          { host: API_HOST, path: "/", service: "frontend" },
          { host: APP_HOST, path: "/", service: "frontend" },
        ],
      },
    ],
    [
      "Grafana by another droplet's address",
      {
        hosts: { api: API_HOST, app: APP_HOST, monitoring: MONITORING_HOST },
        monitoringUpstream: { alias: "10.110.0.7", port: 3000 },
      },
    ],
    [
      "Grafana by its alias, burst 0",
      {
        hosts: { api: API_HOST, monitoring: MONITORING_HOST },
        monitoringUpstream: { alias: "grafana", port: 3000 },
        settings: { rateLimit: 1, burst: 0, maxBodySize: "1k" },
      },
    ],
  ];
  for (const [name, change] of variants) {
    test(name, () => {
      const path = join(site.dir, `lb-${name.replace(/\W+/g, "-")}.conf`);
      writeFileSync(path, renderNginxConf({ ...site.input, ...change }));
      const result = testNginxConf(tools.nginx, path);
      assert.equal(result.status, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /\[(warn|emerg|alert|crit)\]/, result.stderr);
    });
  }
});

describe("nginx behind a load balancer", () => {
  let site: NginxSite;
  let dns: LoopbackDns;
  let nginx: RunningNginx | undefined;
  let flag: string;
  let scripts: string;
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    dns = await startLoopbackDns();
    cleanups.push(() => dns.close());
    const port = await freeUpstreamPort([REPLICA, UNHEALTHY_REPLICA, GRAFANA]);
    for (const backend of [await startEchoBackend(REPLICA, port, "api"), await startEchoBackend(GRAFANA, port, "grafana")])
      cleanups.push(() => backend.close());
    const unhealthy = await startUnhealthyBackend(UNHEALTHY_REPLICA, port);
    cleanups.push(() => unhealthy.close());
    dns.set(APP_ALIAS, [REPLICA]);
    const flagDir = makeTempDir("drain");
    cleanups.push(() => rmSync(flagDir, { recursive: true, force: true }));
    flag = join(flagDir, "draining");
    scripts = makeTempDir("drain-scripts");
    cleanups.push(() => rmSync(scripts, { recursive: true, force: true }));
    site = await prepareNginxSite(version, {
      resolver: dns.address,
      upstreamPort: port,
      resolverValidSeconds: 1,
      hosts: { api: API_HOST, app: APP_HOST, monitoring: MONITORING_HOST },
      // Grafana by address alone: the DNS stand-in does not know it.
      monitoringUpstream: { alias: GRAFANA, port },
      settings: { rateLimit: 5, burst: 10, maxBodySize: "1k" },
      loadBalancer: { drainFlag: flag },
    });
    nginx = await startNginx(tools.nginx, site);
  });

  after(async () => {
    await nginx?.stop();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /** A request as the load balancer passes it on: plain HTTP, the client it got it from appended to X-Forwarded-For. */
  const viaLoadBalancer = (host: string, path: string, client?: string, more: { headers?: Record<string, string> } = {}) =>
    httpRequest({ port: site.httpPort, host, path, headers: { ...(client ? { "x-forwarded-for": client } : {}), ...more.headers } });
  const lbHealth = (host = "127.0.0.1") => httpRequest({ port: site.httpPort, host, path: LOAD_BALANCER_HEALTH_PATH });
  const accessLog = () => readFileSync(site.input.runtime!.accessLog!, "utf8");
  const seen = (reply: Reply) => JSON.parse(reply.body) as { instance: string; url: string; headers: Record<string, string> };
  /** Until the LB health path answers `status` (the resolver's answer lasts a second), or a minute passed. */
  const healthBecomes = async (accept: (status: number) => boolean) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const status = (await lbHealth()).status;
      if (accept(status) || Date.now() > deadline) return status;
      await sleep(100);
    }
  };

  test("serves the backup freshness file on hosts.api only, from the webroot the freshness check writes", async () => {
    const probe = "/.well-known/acme-challenge/dropstack-backups";
    for (const content of ["fresh 1700000000\n", `fresh ${Date.now()}\n`]) {
      writeFileSync(join(site.webroot, probe), content);
      const reply = await viaLoadBalancer(API_HOST, probe);
      assert.equal(reply.status, 200);
      assert.equal(reply.body, content);
      for (const host of [APP_HOST, MONITORING_HOST]) {
        const other = await viaLoadBalancer(host, probe);
        assert.notEqual(other.body, content, `${host} does not serve the webroot`);
      }
    }
    rmSync(join(site.webroot, probe));
    assert.equal((await viaLoadBalancer(API_HOST, probe)).status, 404, "a missing file (stale backups) is a 404, as the probe expects");
  });

  test("serves every host over plain HTTP on the HTTP port, with HSTS and the security headers; nothing listens with TLS", async () => {
    for (const [host, instance] of [
      [API_HOST, "api"],
      [APP_HOST, "api"],
      [MONITORING_HOST, "grafana"],
    ]) {
      const reply = await viaLoadBalancer(host, "/v1/items", "203.0.113.50");
      assert.equal(reply.status, 200, `${host}: ${reply.body}`);
      assert.equal(seen(reply).instance, instance, host);
      assert.equal(reply.headers["strict-transport-security"], "max-age=31536000; includeSubDomains", host);
      assert.equal(reply.headers["x-frame-options"], "DENY", host);
      assert.equal(reply.headers["x-content-type-options"], "nosniff", host);
      assert.equal(reply.headers["referrer-policy"], "strict-origin-when-cross-origin", host);
      assert.equal(reply.headers.location, undefined, `${host} is not redirected`);
    }
    await assert.rejects(
      httpsRequest({ port: site.httpPort, host: API_HOST, path: "/", ca: "" }),
      /wrong version number|packet length too long|EPROTO|ssl/i,
    );
    await assert.rejects(waitForPort(site.httpsPort, "127.0.0.1", 200), "no TLS port");
  });

  test("the app and Grafana get the client the load balancer appended, and X-Forwarded-Proto https", async () => {
    for (const client of [...IPV4_CLIENTS, ...IPV6_CLIENTS]) {
      // The first address is the client's own claim; the last one is what the load balancer appended.
      for (const forwarded of [client, `10.9.9.9, ${client}`, `${IPV6_CLIENTS[0]}, 198.51.100.1, ${client}`]) {
        for (const host of [API_HOST, MONITORING_HOST]) {
          const reply = await viaLoadBalancer(host, "/v1/whoami", forwarded);
          assert.equal(reply.status, 200, reply.body);
          const headers = seen(reply).headers;
          assert.equal(headers["x-real-ip"], client, `${host} ${forwarded}`);
          assert.equal(headers["x-forwarded-for"], client, `${host} ${forwarded}: only the client reaches the app`);
          assert.equal(headers["x-forwarded-proto"], "https", `${host} ${forwarded}`);
          assert.equal(headers.host, host);
        }
      }
    }
  });

  test("logs each request as coming from the client the load balancer appended", async () => {
    for (const client of [...IPV4_CLIENTS, ...IPV6_CLIENTS]) {
      const path = `/v1/logged/${encodeURIComponent(client)}`;
      assert.equal((await viaLoadBalancer(API_HOST, path, `192.0.2.1, ${client}`)).status, 200);
      const line = accessLog()
        .split("\n")
        .find((l) => l.includes(`"GET ${path} HTTP/1.1"`));
      assert.ok(line, `no access log line for ${path}`);
      assert.equal(line.split(" ")[0], client, line);
    }
  });

  test("rate-limits each client the load balancer names on its own, though all come over one address", async () => {
    for (const [limited, other] of [
      ["203.0.113.77", "203.0.113.78"],
      ["2001:db8:77::1", "2001:db8:77::2"],
      ["198.51.100.90", "2001:db8:90::90"],
    ]) {
      // What passes is 1 + burst 10, plus what refills at 5 r/s while they are answered.
      const { statuses, passed, refilled } = await burst(30, 5, () => viaLoadBalancer(API_HOST, "/v1/items", limited));
      assert.ok(passed >= 11 && passed <= 11 + refilled, `${limited}: passed ${passed} (${refilled} refilled): ${statuses.join(",")}`);
      assert.ok(statuses.includes(429), `${limited}: past the burst, requests get 429`);
      const others = await Promise.all(
        Array.from({ length: 11 }, async () => (await viaLoadBalancer(API_HOST, "/v1/items", other)).status),
      );
      assert.deepEqual(others, Array<number>(11).fill(200), `${other} has a bucket of its own`);
    }
  });

  test("the load balancer's health path: the api's health, asked by any address, never logged nor rate-limited", async () => {
    for (const host of ADDRESS_HOSTS) {
      const reply = await lbHealth(host);
      assert.equal(reply.status, 200, `${host}: ${reply.body}`);
      assert.equal(seen(reply).url, "/health", "the api is asked its health path");
      assert.equal(seen(reply).headers["x-forwarded-proto"], "https");
    }
    const statuses = await Promise.all(Array.from({ length: 40 }, async () => (await lbHealth()).status));
    assert.deepEqual(statuses, Array<number>(40).fill(200), "not rate-limited");
    assert.doesNotMatch(accessLog(), new RegExp(LOAD_BALANCER_HEALTH_PATH), "not logged");
  });

  test("refuses every other path of a host it does not serve, by closing the connection", async () => {
    for (const host of [...ADDRESS_HOSTS, "elsewhere.example", "api.dropstack.test.evil.example"]) {
      for (const path of ["/", "/health", "/v1/items", `${LOAD_BALANCER_HEALTH_PATH}/x`, "/dropstack", `${LOAD_BALANCER_HEALTH_PATH}x`]) {
        await assert.rejects(httpRequest({ port: site.httpPort, host, path }), /socket hang up|ECONNRESET/, `${host} ${path}`);
      }
    }
  });

  test("the health path answers 503 while the drain flag exists, the hosts serving on; 200 once it is gone", async () => {
    assert.equal((await lbHealth()).status, 200);
    writeFileSync(flag, "");
    for (const host of ADDRESS_HOSTS) assert.equal((await lbHealth(host)).status, 503, host);
    assert.equal((await viaLoadBalancer(API_HOST, "/v1/items", "203.0.113.60")).status, 200, "requests in flight still served");
    rmSync(flag);
    assert.equal((await lbHealth()).status, 200);
  });

  test("the health path answers 502/503 while the api is down or unhealthy, 200 once it is back", async () => {
    dns.set(APP_ALIAS, []);
    assert.ok([502, 503].includes(await healthBecomes((s) => s !== 200)), "no replica");
    dns.set(APP_ALIAS, [UNHEALTHY_REPLICA]);
    assert.equal(await healthBecomes((s) => s === 503), 503, "a replica whose health answers 503");
    dns.set(APP_ALIAS, [REPLICA]);
    assert.equal(await healthBecomes((s) => s === 200), 200);
  });

  test("the container healthcheck (busybox wget on the probe port) passes whatever the api and the drain flag", async () => {
    const [, wget, ...args] = loadBalancerHealthcheckTest(site.input.listen!.probePort);
    const check = () => runAsync([tools.busybox, wget, ...args]);
    assert.equal((await check()).status, 0, "api healthy");
    dns.set(APP_ALIAS, []);
    try {
      assert.notEqual(await healthBecomes((s) => s !== 200), 200);
      const down = await check();
      assert.equal(down.status, 0, `no replica: ${down.stderr}`);
      writeFileSync(flag, "");
      assert.equal((await lbHealth()).status, 503);
      const drained = await check();
      assert.equal(drained.status, 0, `drained, no replica: ${drained.stderr}`);
    } finally {
      rmSync(flag, { force: true });
      dns.set(APP_ALIAS, [REPLICA]);
    }
    assert.equal(await healthBecomes((s) => s === 200), 200);
    // Not the load balancer's port: asked there, the probe's path is refused like any other.
    await assert.rejects(httpRequest({ port: site.httpPort, host: "127.0.0.1", path: "/" }), /socket hang up|ECONNRESET/);
  });

  describe("the drain and undrain commands", () => {
    const drain = (waitSeconds: number) => renderDrainCommand({ waitSeconds, flag });
    const undrain = (waitSeconds: number, timeoutSeconds: number, port = site.httpPort) =>
      renderUndrainCommand({ waitSeconds, timeoutSeconds, flag, port });

    test("pass shellcheck as rendered", () => {
      writeFileSync(join(scripts, "drain.sh"), renderDrainCommand({ waitSeconds: 30 }));
      writeFileSync(join(scripts, "undrain.sh"), renderUndrainCommand({ waitSeconds: 20, timeoutSeconds: 300 }));
      const result = run([tools.shellcheck, "-s", "sh", join(scripts, "drain.sh"), join(scripts, "undrain.sh")]);
      assert.equal(result.status, 0, result.stdout);
    });

    test("drain sets the flag, so the health path answers 503, and waits as long as asked, saying so", async () => {
      const start = Date.now();
      const result = await runScript(scripts, "drain-now.sh", drain(2));
      assert.equal(result.status, 0, result.stderr);
      assert.ok(Date.now() - start >= 2000, "waited the 2 s asked");
      assert.ok(existsSync(flag));
      assert.equal((await lbHealth()).status, 503);
      assert.match(result.stdout, /waiting 2s for the load balancer to mark this droplet down/);
      assert.match(result.stdout, /^dropstack: draining: 2s of 2s$/m);
      assert.match(result.stdout, /dropstack: drained/);
      const again = await runScript(scripts, "drain-again.sh", drain(0));
      assert.equal(again.status, 0, `drain is idempotent: ${again.stderr}`);
    });

    test("undrain removes the flag, waits until the health path answers 200, then as long as asked", async () => {
      writeFileSync(flag, "");
      const start = Date.now();
      const result = await runScript(scripts, "undrain-now.sh", undrain(1, 30));
      assert.equal(result.status, 0, result.stderr);
      assert.ok(Date.now() - start >= 1000);
      assert.ok(!existsSync(flag));
      assert.equal((await lbHealth()).status, 200);
      assert.match(result.stdout, /nginx reports the api healthy; waiting 1s for the load balancer to mark this droplet up/);
      assert.match(result.stdout, /dropstack: undrained/);
    });

    test("undrain waits for the api to come back within its timeout", async () => {
      writeFileSync(flag, "");
      dns.set(APP_ALIAS, [UNHEALTHY_REPLICA]);
      await sleep(1500);
      const running = runScript(scripts, "undrain-recovering.sh", undrain(0, 60));
      await sleep(3000);
      dns.set(APP_ALIAS, [REPLICA]);
      const result = await running;
      assert.equal(result.status, 0, result.stderr);
      assert.equal((await lbHealth()).status, 200);
    });

    test("undrain gives up after its timeout, naming the last answer, when the health path never answers 200", async () => {
      const cases: [string, () => void, number | undefined, RegExp][] = [
        ["the api's health answers 503", () => dns.set(APP_ALIAS, [UNHEALTHY_REPLICA]), undefined, /still gives HTTP 503 3s after/],
        ["no api replica", () => dns.set(APP_ALIAS, []), undefined, /still gives HTTP 50[23] 3s after/],
        ["nothing listens", () => dns.set(APP_ALIAS, [REPLICA]), site.httpsPort, /still gives no answer 3s after/],
      ];
      try {
        for (const [label, setUp, port, message] of cases) {
          setUp();
          // Until nginx has re-resolved the alias (its cache lasts a second): the undrain then sees what it sees.
          if (port === undefined) assert.notEqual(await healthBecomes((status) => status !== 200), 200, label);
          writeFileSync(flag, "");
          const start = Date.now();
          const result = await runScript(scripts, "undrain-timeout.sh", undrain(30, 3, port));
          assert.equal(result.status, 1, `${label}: ${result.stdout}`);
          assert.match(result.stderr, message, label);
          assert.match(result.stderr, /so the load balancer keeps this droplet out: check the api replicas/, label);
          assert.ok(Date.now() - start < 25_000, `${label}: gave up without the 30 s wait for the load balancer`);
          assert.ok(!existsSync(flag), `${label}: the flag is removed all the same`);
        }
      } finally {
        dns.set(APP_ALIAS, [REPLICA]);
      }
    });
  });
});

describe("nginx-lb-entrypoint.sh with a real nginx", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test("starts nginx at once, without certificates, reloads on a new config, keeps a broken one out, and stops on SIGTERM", async () => {
    const dns = await startLoopbackDns();
    cleanups.push(() => dns.close());
    const site = await prepareNginxSite(version, {
      resolver: dns.address,
      upstreamPort: await freeUpstreamPort([REPLICA]),
      hosts: { api: API_HOST },
      loadBalancer: { drainFlag: "/nonexistent/draining" },
    });
    rmSync(site.certDir, { recursive: true, force: true });
    const conf = readFileSync(site.confPath, "utf8");
    // The entrypoint runs `nginx` from PATH: the binary under test, whichever it is.
    const bin = makeTempDir("nginx-bin");
    symlinkSync(tools.nginx, join(bin, "nginx"));
    const entrypoint = join(site.dir, "entrypoint.sh");
    writeFileSync(entrypoint, renderLoadBalancerNginxEntrypoint({ confPath: site.confPath, checkIntervalSeconds: 1 }));
    const running = startEntrypoint(site.dir, entrypoint, { ...process.env, PATH: `${bin}:${SCRIPT_PATH}` });
    cleanups.push(running.kill);

    await waitForPort(site.httpPort, "127.0.0.1", 10_000);
    await waitForPort(site.input.listen!.probePort!, "127.0.0.1", 10_000);
    const frameOptions = async () =>
      (await httpRequest({ port: site.httpPort, host: API_HOST, path: "/health", headers: { "x-forwarded-for": "203.0.113.5" } })).headers[
        "x-frame-options"
      ];
    assert.equal(await frameOptions(), "DENY");

    writeFileSync(site.confPath, conf.replace('X-Frame-Options "DENY"', 'X-Frame-Options "SAMEORIGIN"'));
    // After a reload the old workers finish what they hold (a kept-alive connection may still
    // reach one), so the new config is in force once five answers in a row carry it.
    const deadline = Date.now() + 60_000;
    let inARow = 0;
    while (inARow < 5 && Date.now() < deadline) {
      inARow = (await frameOptions()) === "SAMEORIGIN" ? inARow + 1 : 0;
      if (inARow < 5) await sleep(200);
    }
    assert.equal(inARow, 5, running.stderr());
    assert.match(running.stderr(), /config changed: nginx reloaded/);

    writeFileSync(site.confPath, `${conf}\nunknown_directive on;\n`);
    const rejectedDeadline = Date.now() + 60_000;
    while (!/nginx -t rejects it/.test(running.stderr()) && Date.now() < rejectedDeadline) await sleep(200);
    assert.match(running.stderr(), /nginx -t rejects it; still serving the previous one/);
    assert.equal(await frameOptions(), "SAMEORIGIN", "the running config stays when the new one is broken");

    running.terminate();
    assert.equal(await running.exit, 0, running.stderr());
    await assert.rejects(waitForPort(site.httpPort, "127.0.0.1", 200), "nginx is gone after the entrypoint exits");
    assert.match(running.stderr(), /nginx exited with status 0/);
  });
});
