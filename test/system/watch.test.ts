// The post-deploy watch (components/hooks/watch.sh, rendered by renderWatchCommand): its log
// analysis on generated access logs (classes: empty window, all 2xx, a 5xx share exactly at
// the limit and just above it, a latency breach and latency exactly at the limit, nginx's
// own messages mixed in, lines from before the host joined the format, hosts holding quotes,
// backslashes, spaces and numbers, too few requests), checked against a reference computed
// here; the whole hook run by bash with a docker stand-in; and the analysis of the access log
// that real nginx writes with the rendered config, odd Host headers included.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { after, before, describe, it } from "node:test";
import { WATCH_ROLLBACK_MARKER, renderWatchCommand } from "../../components/hooks/commands";
import { makeTempDir, requireTools, run, runAsync } from "../../tools/lib/system";
import {
  API_HOST,
  APP_ALIAS,
  APP_HOST,
  freeUpstreamPort,
  httpsRequest,
  localNginxVersion,
  prepareNginxSite,
  requireNginxTools,
  startLoopbackDns,
  startNginx,
} from "../../tools/lib/nginx-harness";

const WATCH = join(__dirname, "..", "..", "components", "hooks", "watch.sh");
const CURRENT = `sha256:${"c".repeat(64)}`;
const PREVIOUS = `sha256:${"b".repeat(64)}`;
const OLDER = `sha256:${"a".repeat(64)}`;
const PREVIOUS_REFERENCE = `ghcr.io/acme/api@sha256:${"d".repeat(64)}`;

interface Request {
  status: number;
  seconds: number;
}

/**
 * $host as nginx logs it (a `"` escaped as \x22, a backslash as \x5C, bytes above 126 as
 * \xNN; `_` for a request without a usable Host), and hosts built to mislead a parser that
 * splits on quotes or spaces: nginx refuses a Host with a space (400), but the analysis must
 * not depend on that.
 */
const LOGGED_HOSTS = [
  "api.example.com",
  "grafana.example.com",
  "_",
  "evil\\x22host",
  "x\\x5Cy",
  "\\xC3\\xA9.test",
  "a\\x22 500 9.999 \\x22b",
  "a b 503",
  "",
];

/** A line as nginx writes it with the `dropstack` log_format (quotes in values escaped as \x22). */
function logLine({ status, seconds }: Request, i: number): string {
  return `203.0.113.${i % 250} - - [28/Nov/2026:23:00:${String(i % 60).padStart(2, "0")} +0000] "GET /api/items?page=${i} HTTP/1.1" ${status} ${100 + i} "-" "Mozilla/5.0 (\\x22x\\x22)" "${LOGGED_HOSTS[i % LOGGED_HOSTS.length]}" ${seconds.toFixed(3)}`;
}

/** A line in the format before the host joined it: what nginx wrote until the reload that brought the new one. */
function logLineWithoutHost({ status, seconds }: Request, i: number): string {
  return `203.0.113.${i % 250} - - [28/Nov/2026:23:00:00 +0000] "POST /api/items HTTP/1.1" ${status} 0 "-" "curl/8.5.0" ${seconds.toFixed(3)}`;
}

/** What the analysis must print: requests, 5xx, nearest-rank p95 in ms. */
function reference(requests: Request[]): [number, number, number] {
  if (requests.length === 0) return [0, 0, 0];
  const times = requests.map((r) => Math.round(r.seconds * 1000)).sort((a, b) => a - b);
  return [requests.length, requests.filter((r) => r.status >= 500).length, times[Math.ceil(0.95 * times.length) - 1]];
}

function analyze(text: string, ignoredHosts: string[] = []): number[] {
  const result = run(["bash", WATCH, "analyze", ...ignoredHosts], { input: text });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim().split(" ").map(Number);
}

/** A small deterministic generator, so every run sees the same variants. */
function generator(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe("watch.sh analyze on generated access logs", () => {
  it("counts requests and 5xx and takes the nearest-rank p95, over generated mixes of statuses and times", () => {
    const random = generator(20261128);
    for (let variant = 0; variant < 40; variant++) {
      const count = Math.floor(random() * 300);
      const requests = Array.from({ length: count }, () => ({
        status: [200, 201, 204, 301, 304, 400, 404, 429, 500, 502, 503, 504][Math.floor(random() * 12)],
        seconds: Math.round(random() * 3000) / 1000,
      }));
      assert.deepEqual(analyze(requests.map(logLine).join("\n")), reference(requests), `variant ${variant}`);
    }
  });

  it("skips nginx's own messages and lines in another format", () => {
    const requests = [
      { status: 200, seconds: 0.01 },
      { status: 503, seconds: 0.2 },
    ];
    const text = [
      "2026/11/28 23:00:00 [warn] 1#1: an upstream response is buffered to a temporary file",
      logLine(requests[0], 1),
      '203.0.113.9 - - [28/Nov/2026:23:00:00 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8.5.0"',
      logLine(requests[1], 2),
      "",
    ].join("\n");
    assert.deepEqual(analyze(text), reference(requests));
  });

  it("reads every host nginx may log, quotes, backslashes, spaces and numbers in it included", () => {
    for (const [h, host] of LOGGED_HOSTS.entries()) {
      const requests = [
        { status: 200, seconds: 0.004 },
        { status: 502, seconds: 1.25 },
        { status: 404, seconds: 0 },
      ];
      // Every line of this variant carries `host`.
      const lines = requests.map((request, i) => logLine(request, h + i * LOGGED_HOSTS.length));
      assert.ok(
        lines.every((line) => line.includes(`"${host}" `)),
        lines.join("\n"),
      );
      assert.deepEqual(analyze(lines.join("\n")), reference(requests), host);
    }
  });

  it("reads lines from before and after the host joined the format alike (nginx reloads mid-window)", () => {
    const random = generator(16);
    for (let variant = 0; variant < 10; variant++) {
      const requests = Array.from({ length: 50 }, () => ({
        status: [200, 404, 500, 503][Math.floor(random() * 4)],
        seconds: Math.round(random() * 2000) / 1000,
      }));
      const switchAt = Math.floor(random() * requests.length);
      const text = requests.map((r, i) => (i < switchAt ? logLineWithoutHost(r, i) : logLine(r, i))).join("\n");
      assert.deepEqual(analyze(text), reference(requests), `variant ${variant}, switch at ${switchAt}`);
    }
  });

  it("leaves out the requests to the ignored hosts (Grafana's), and only those", () => {
    const random = generator(7);
    for (let variant = 0; variant < 20; variant++) {
      const requests = Array.from({ length: 90 }, () => ({
        status: [200, 404, 500, 503][Math.floor(random() * 4)],
        seconds: Math.round(random() * 2000) / 1000,
      }));
      const lines = requests.map(logLine);
      const hostOf = (i: number) => LOGGED_HOSTS[i % LOGGED_HOSTS.length];
      for (const ignored of [["grafana.example.com"], ["grafana.example.com", "api.example.com"], ["monitoring.example.com"]]) {
        const kept = requests.filter((_, i) => !ignored.includes(hostOf(i)));
        assert.deepEqual(analyze(lines.join("\n"), ignored), reference(kept), `variant ${variant}, ignoring ${ignored.join(" ")}`);
      }
      // A line from before the host joined the format has no host to leave out.
      const old = requests.map(logLineWithoutHost);
      assert.deepEqual(analyze(old.join("\n"), ["grafana.example.com"]), reference(requests));
    }
  });

  it("reports an empty window as no requests", () => {
    assert.deepEqual(analyze(""), [0, 0, 0]);
  });
});

describe("the watch hook, run as the remote Command runs it", () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  let history: string;

  before(() => {
    requireTools([{ command: "awk", debianPackage: "mawk" }]);
    root = makeTempDir("watch");
    const bin = join(root, "bin");
    mkdirSync(bin);
    // docker as the watch uses it: nginx's logs since a time, and an image's repo digests.
    writeFileSync(
      join(bin, "docker"),
      [
        "#!/usr/bin/env bash",
        'printf "%s\\n" "$*" >>"$FAKE_DIR/calls"',
        'if [[ $1 == logs && $2 == --since && $4 == nginx-1 ]]; then cat "$FAKE_DIR/access.log"; echo "nginx error line" >&2; exit 0; fi',
        `if [[ $1 == image && $2 == inspect && $5 == '${PREVIOUS}' ]]; then echo '${PREVIOUS_REFERENCE} ghcr.io/acme/api@sha256:${"e".repeat(64)}'; exit 0; fi`,
        'echo "Error: No such object: ${*: -1}" >&2; exit 1',
      ].join("\n"),
    );
    chmodSync(join(bin, "docker"), 0o755);
    env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_DIR: root };
    history = join(root, "deployed-images");
  });

  const watch = (
    requests: Request[],
    limits: { percent?: number; p95?: number; min?: number } = {},
    deployed = [OLDER, PREVIOUS],
    rollback = false,
    ignoredHosts: string[] = [],
  ) => {
    writeFileSync(join(root, "access.log"), requests.map(logLine).join("\n") + (requests.length ? "\n" : ""));
    writeFileSync(history, deployed.map((id) => `${id}\n`).join(""));
    const script = renderWatchCommand({
      nginxContainer: "nginx-1",
      windowSeconds: 1,
      max5xxPercent: limits.percent ?? 5,
      p95LatencyMs: limits.p95 ?? 1000,
      minRequests: limits.min ?? 20,
      currentImage: CURRENT,
      stack: "production",
      ignoredHosts,
      rollback,
      historyFile: history,
    });
    return runAsync(["bash", "-c", script], { env });
  };
  const ok = (seconds: number) => ({ status: 200, seconds });
  const failed = (seconds: number) => ({ status: 502, seconds });
  const times = <T>(n: number, make: (i: number) => T) => Array.from({ length: n }, (_, i) => make(i));

  it("passes an empty window, and a window with fewer requests than minRequests however bad", async () => {
    const empty = await watch([]);
    assert.equal(empty.status, 0, empty.stderr);
    assert.match(empty.stdout, /no requests through nginx in the 1s window: nothing to judge/);
    const few = await watch(times(19, () => failed(9)));
    assert.equal(few.status, 0, few.stderr);
    assert.match(few.stdout, /19 requests in 1s: 19 5xx \(100\.00%, limit 5\.00%\), p95 9000 ms \(limit 1000 ms\)/);
    assert.match(few.stdout, /fewer than 20 requests: too few to judge/);
  });

  it("judges without the ignored host's requests: Grafana's slow or failing requests do not fail the deploy", async () => {
    // logLine gives request i the host LOGGED_HOSTS[i % 9]; index 1 is grafana.example.com.
    const grafana = (i: number) => LOGGED_HOSTS[i % LOGGED_HOSTS.length] === "grafana.example.com";
    const requests = times(180, (i) => (grafana(i) ? failed(30) : ok(0.01)));
    const judged = await watch(requests, {}, [OLDER, PREVIOUS], false, ["grafana.example.com"]);
    assert.equal(judged.status, 0, judged.stdout + judged.stderr);
    assert.match(judged.stdout, /160 requests in 1s: 0 5xx/);
    const all = await watch(requests);
    assert.equal(all.status, 1, "the same log breaches when nothing is ignored");
  });

  it("passes all 2xx within the latency limit, and a 5xx share and a p95 exactly at their limits", async () => {
    const good = await watch(times(200, (i) => ok(i / 1000)));
    assert.equal(good.status, 0, good.stderr);
    // Nearest rank: the 190th of 200 times (0 … 199 ms) is 189 ms.
    assert.match(good.stdout, /200 requests in 1s: 0 5xx \(0\.00%, limit 5\.00%\), p95 189 ms/);
    assert.match(good.stdout, /the release held up for 1s/);
    // 5 of 100 is 5.00%: at the limit, not above it. p95 (the 95th of 100) is exactly 1000 ms.
    const edge = await watch([...times(95, (i) => ok(i === 94 ? 1 : 0.05)), ...times(5, () => failed(2))]);
    assert.equal(edge.status, 0, edge.stdout + edge.stderr);
    assert.match(edge.stdout, /100 requests in 1s: 5 5xx \(5\.00%, limit 5\.00%\), p95 1000 ms \(limit 1000 ms\)/);
  });

  it("fails just above the 5xx limit, printing the rollback to the previous image's digest", async () => {
    const result = await watch([...times(94, () => ok(0.05)), ...times(6, () => failed(0.05))]);
    assert.equal(result.status, 1, result.stdout);
    assert.match(result.stderr, /5xx responses: 6 of 100 \(6\.00%\) is above the limit of 5\.00%/);
    assert.doesNotMatch(result.stderr, /request time/);
    assert.ok(
      result.stderr.includes(
        [
          `dropstack: roll back to the previous image (${PREVIOUS}), as docs/rollback.md "Code rollback" says:`,
          `  pulumi config set --path 'dropstack:app.image' '${PREVIOUS_REFERENCE}' --stack production`,
          "  pulumi up --stack production --policy-pack policies --policy-pack-config policies/production.json",
        ].join("\n"),
      ),
      result.stderr,
    );
    assert.match(readFileSync(join(root, "calls"), "utf8"), /^logs --since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ nginx-1$/m);
    // The one line npm run rollback reads; without app.watch.rollback nobody acts on it.
    assert.deepEqual(
      result.stderr.split("\n").filter((line) => line.startsWith(WATCH_ROLLBACK_MARKER)),
      [`${WATCH_ROLLBACK_MARKER} ${PREVIOUS_REFERENCE}`],
    );
    assert.doesNotMatch(result.stderr, /app\.watch\.rollback is on/);
    const automatic = await watch([...times(94, () => ok(0.05)), ...times(6, () => failed(0.05))], {}, [OLDER, PREVIOUS], true);
    assert.equal(automatic.status, 1);
    assert.match(automatic.stderr, /dropstack:app\.watch\.rollback is on: the deploy job runs these \(npm run rollback\) now/);
  });

  it("fails on a latency breach alone, and on both, listing each", async () => {
    const slow = await watch(times(100, (i) => ok(i < 90 ? 0.1 : 1.001)));
    assert.equal(slow.status, 1);
    assert.match(slow.stderr, /95th-percentile request time: 1001 ms is above the limit of 1000 ms/);
    assert.doesNotMatch(slow.stderr, /5xx responses/);
    const both = await watch(
      times(40, () => failed(3)),
      { percent: 0 },
    );
    assert.equal(both.status, 1);
    assert.match(both.stderr, /5xx responses: 40 of 40 \(100\.00%\) is above the limit of 0\.00%/);
    assert.match(both.stderr, /95th-percentile request time: 3000 ms/);
  });

  it("says where to find the previous image when the droplet records none (a first deploy, or only this image)", async () => {
    for (const deployed of [[], [CURRENT], [CURRENT, CURRENT]]) {
      const result = await watch(
        times(30, () => failed(0.1)),
        {},
        deployed,
      );
      assert.equal(result.status, 1);
      assert.match(
        result.stderr,
        /records no earlier deployed image with a digest; find the previous one with\n {2}pulumi stack history --stack production/,
      );
      assert.ok(!result.stderr.includes(WATCH_ROLLBACK_MARKER), "no image to roll back to: nothing for npm run rollback");
    }
  });

  it("refuses limits that make no sense", () => {
    const base = {
      nginxContainer: "n",
      windowSeconds: 60,
      max5xxPercent: 1,
      p95LatencyMs: 1000,
      minRequests: 1,
      currentImage: CURRENT,
      stack: "s",
      rollback: false,
      ignoredHosts: [],
    };
    for (const change of [
      { windowSeconds: 0 },
      { max5xxPercent: 101 },
      { max5xxPercent: 0.001 },
      { p95LatencyMs: 1.5 },
      { minRequests: 0 },
      { currentImage: "latest" },
    ])
      assert.throws(() => renderWatchCommand({ ...base, ...change }), JSON.stringify(change));
    assert.match(renderWatchCommand({ ...base, max5xxPercent: 0.25 }), /\nMAX_5XX_BASIS_POINTS='25'\n/);
  });
});

describe("the watch reads the access log real nginx writes with the rendered config", () => {
  const tools = requireNginxTools();
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("counts what nginx served, 5xx from the app included, with nginx's own request times", async () => {
    const dns = await startLoopbackDns();
    cleanups.push(() => dns.close());
    const address = "127.0.0.2";
    const port = await freeUpstreamPort([address]);
    const app = http.createServer((req, res) => {
      res.statusCode = req.url === "/boom" ? 500 : 200;
      setTimeout(() => res.end("x"), req.url === "/slow" ? 300 : 0);
    });
    await new Promise<void>((resolve) => app.listen(port, address, resolve));
    cleanups.push(() => new Promise<void>((resolve) => app.close(() => resolve())));
    dns.set(APP_ALIAS, [address]);
    const site = await prepareNginxSite(localNginxVersion(tools.nginx), {
      resolver: dns.address,
      upstreamPort: port,
      settings: { rateLimit: 1000, burst: 1000, maxBodySize: "1m" },
    });
    const nginx = await startNginx(tools.nginx, site);
    cleanups.push(() => nginx.stop());
    const ca = readFileSync(join(site.certDir, API_HOST, "fullchain.pem"), "utf8");
    for (const path of ["/a", "/b", "/boom", "/slow", "/boom", "/c"]) {
      const reply = await httpsRequest({ port: site.httpsPort, host: API_HOST, path, ca });
      assert.equal(reply.status, path === "/boom" ? 500 : 200);
    }
    await httpsRequest({ port: site.httpsPort, host: API_HOST, path: "/health", ca });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [requests, errors, p95] = analyze(readFileSync(join(site.dir, "access.log"), "utf8"));
    assert.equal(requests, 6, "the health path is not logged");
    assert.equal(errors, 2);
    assert.ok(p95 >= 300 && p95 < 3000, `p95 ${p95} ms is the slow request's time`);
  });

  /** One request with a Host header as given (which an HTTP client would refuse to send); the status line, or "" when nginx closed without one. */
  function rawRequest(port: number, host: string, path: string, sni?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = sni
        ? tlsConnect({ port, host: "127.0.0.1", servername: sni, rejectUnauthorized: false })
        : connect({ port, host: "127.0.0.1" });
      let answer = "";
      socket.once(sni ? "secureConnect" : "connect", () =>
        socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
      );
      socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
      socket.on("close", () => resolve(answer.split("\r\n")[0]));
      socket.on("error", reject);
      socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer for Host ${JSON.stringify(host)}`)));
    });
  }

  it("reads the lines of requests with quotes, backslashes, spaces and other bytes in their Host header", async () => {
    const dns = await startLoopbackDns();
    cleanups.push(() => dns.close());
    const address = "127.0.0.2";
    const port = await freeUpstreamPort([address]);
    const app = http.createServer((req, res) => {
      res.statusCode = req.url === "/down" ? 503 : 200;
      res.end("x");
    });
    await new Promise<void>((resolve) => app.listen(port, address, resolve));
    cleanups.push(() => new Promise<void>((resolve) => app.close(() => resolve())));
    dns.set(APP_ALIAS, [address]);
    const site = await prepareNginxSite(localNginxVersion(tools.nginx), { resolver: dns.address, upstreamPort: port });
    const nginx = await startNginx(tools.nginx, site);
    cleanups.push(() => nginx.stop());
    // [Host sent, TLS server name (none: port 80), path, status line ("": closed unanswered, 444), $host as logged]
    const cases: [string, string | undefined, string, string, string][] = [
      ['Evil"Host', undefined, "/", "", "evil\\x22host"],
      ["x\\y", undefined, "/", "", "x\\x5Cy"],
      ["é.test", undefined, "/", "", "\\xC3\\xA9.test"],
      // nginx refuses a space in Host; the request is logged under the server's name.
      ["a b", undefined, "/", "HTTP/1.1 400 Bad Request", "_"],
      [`${API_HOST}"x`, API_HOST, "/nothing-here", "HTTP/1.1 404 Not Found", `${API_HOST}\\x22x`],
      [API_HOST.toUpperCase(), API_HOST, "/down", "HTTP/1.1 503 Service Unavailable", API_HOST],
      [APP_HOST, APP_HOST, "/", "HTTP/1.1 200 OK", APP_HOST],
    ];
    for (const [host, sni, path, status] of cases) {
      assert.equal(await rawRequest(sni ? site.httpsPort : site.httpPort, host, path, sni), status, host);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const log = readFileSync(join(site.dir, "access.log"), "utf8");
    const lines = log.split("\n").filter((line) => line !== "");
    assert.deepEqual(
      lines.map((line) => / "([^"]*)" \d+\.\d{3}$/.exec(line)?.[1]),
      cases.map(([, , , , logged]) => logged),
      log,
    );
    const [requests, errors] = analyze(log);
    assert.equal(requests, cases.length, log);
    assert.equal(errors, 1, log);
  });
});
