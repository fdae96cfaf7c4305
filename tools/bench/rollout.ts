// npm run bench:rollout — how many requests a rollout loses behind dropstack's nginx.
//
// Steady HTTPS load (keep-alive Node client, loopback only, bounded in time and count)
// goes through a real nginx running the config renderNginxConf() produces, while the one
// app replica behind it is replaced. Two ways of replacing it run in the same process:
//
//   dropstack rollout   the new replica starts, turns healthy, and only then does the old
//                       one get SIGTERM; it drains (closes its listener, finishes in-flight
//                       requests, closes idle keep-alive connections) and exits.
//   rollout, no overlap the same, but the old replica is stopped as soon as the new one is
//                       healthy, before nginx has re-resolved the alias (the contract
//                       below broken).
//   naive restart       the old replica gets SIGTERM and exits, then the new one starts
//                       (`docker stop` + `docker run`, or `docker restart`).
//
// How this maps to production:
// - Replicas are separate Node processes (real SIGTERM, real drain), each on its own
//   loopback address and the same port, as containers on a Docker network each have their
//   own IP and the app port.
// - nginx reaches them through the network alias `app`, resolved by a small DNS server that
//   answers the way Docker's embedded DNS does: a container is in the alias from the moment
//   it starts (before it listens or is healthy) until it has exited. nginx re-resolves
//   every `valid` seconds (5, the production value), exactly as with 127.0.0.11.
// - "Healthy" is the app's health path answering 200, polled directly as Docker's
//   healthcheck does. The rollout contract the app component keeps (MIN_REPLICA_OVERLAP_SECONDS
//   in components/proxy/render.ts): the old replica is stopped only once the new one has
//   been in the alias for longer than nginx's `valid`, so every cached answer already
//   includes the new replica; a Docker healthcheck whose first probe comes later gives this
//   on its own.
// - Differences: loopback instead of a bridge (a vanished container's IP on a bridge may
//   time out rather than refuse, which proxy_next_upstream also retries after
//   proxy_connect_timeout), and one nginx worker.
//
// The figures are printed, never enforced. Target: 0 failed of at least 5,000 requests for
// the dropstack rollout.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { join } from "node:path";
import { commandLine } from "../cli";
import { MIN_REPLICA_OVERLAP_SECONDS, RESOLVER_VALID_SECONDS } from "../../components/proxy/render";
import {
  API_HOST,
  APP_ALIAS,
  freeUpstreamPort,
  localNginxVersion,
  prepareNginxSite,
  requireNginxTools,
  sleep,
  startLoopbackDns,
  startNginx,
  type LoopbackDns,
} from "../lib/nginx-harness";

const REQUESTS_PER_SECOND = 700;
const CONCURRENCY = 16;
const MAX_REQUESTS_PER_SCENARIO = 20000;
const STEADY_BEFORE_MS = 2500;
const STEADY_AFTER_MS = 3000;
const BOOT_MS = 400;
const POST_SHARE = 0.2;

// One app replica. Handles SIGTERM the way a well-behaved app server does.
const REPLICA_SOURCE = `
const http = require("node:http");
const [address, port, name, bootMs] = process.argv.slice(1);
let draining = false;
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (req.url === "/health") return res.end(draining ? "draining" : "ok");
    setTimeout(() => {
      if (draining) res.setHeader("connection", "close");
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ instance: name }));
    }, 2 + Math.random() * 8);
  });
});
server.keepAliveTimeout = 5000;
process.on("SIGTERM", () => {
  draining = true;
  // Stops accepting, then closes each connection once its response is done; idle
  // keep-alive connections are closed now.
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(1), 10000).unref();
});
setTimeout(() => server.listen(Number(port), address), Number(bootMs));
`;

interface Replica {
  address: string;
  process: ChildProcess;
  exited: Promise<void>;
}

function startReplica(dns: LoopbackDns, address: string, port: number, name: string): Replica {
  const child = spawn(process.execPath, ["-e", REPLICA_SOURCE, address, String(port), name, String(BOOT_MS)], { stdio: "inherit" });
  // Docker puts a container in the alias when it starts and takes it out when it has exited.
  dns.set(APP_ALIAS, [...dns.addresses(APP_ALIAS), address]);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      dns.set(
        APP_ALIAS,
        dns.addresses(APP_ALIAS).filter((a) => a !== address),
      );
      resolve();
    }),
  );
  return { address, process: child, exited };
}

async function waitHealthy(address: string, port: number): Promise<void> {
  const deadline = Date.now() + 10000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: address, port, path: "/health", agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`replica ${address} never turned healthy`);
    await sleep(100);
  }
}

async function stopReplica(replica: Replica): Promise<void> {
  replica.process.kill("SIGTERM");
  await replica.exited;
}

interface Figures {
  total: number;
  failed: number;
  failures: Map<string, number>;
  byInstance: Map<string, number>;
  latenciesMs: number[];
}

/** Keeps REQUESTS_PER_SECOND going through nginx until stop() (or the request cap). */
function startLoad(port: number, ca: string) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca, servername: API_HOST });
  const figures: Figures = { total: 0, failed: 0, failures: new Map(), byInstance: new Map(), latenciesMs: [] };
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  let stopped = false;
  let scheduled = 0;
  const startedAt = Date.now();

  const one = (method: string) =>
    new Promise<void>((resolve) => {
      const begin = process.hrtime.bigint();
      const done = (failure?: string, instance?: string) => {
        figures.total++;
        figures.latenciesMs.push(Number(process.hrtime.bigint() - begin) / 1e6);
        if (failure) {
          figures.failed++;
          count(figures.failures, `${method} ${failure}`);
        } else if (instance) count(figures.byInstance, instance);
        resolve();
      };
      const req = https.request(
        { host: "127.0.0.1", port, path: "/v1/orders", method, agent, headers: { host: API_HOST, "content-type": "application/json" } },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (body += chunk));
          res.on("end", () => {
            if (res.statusCode !== 200) return done(`HTTP ${res.statusCode}`);
            try {
              done(undefined, JSON.parse(body).instance);
            } catch {
              done("unreadable body");
            }
          });
          res.on("error", (error) => done(error.message));
        },
      );
      req.setTimeout(15000, () => req.destroy(new Error("timeout")));
      req.on("error", (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
      req.end(method === "POST" ? '{"item":42}' : undefined);
    });

  const worker = async () => {
    while (!stopped && scheduled < MAX_REQUESTS_PER_SCENARIO) {
      const slot = startedAt + (scheduled++ * 1000) / REQUESTS_PER_SECOND;
      const wait = slot - Date.now();
      if (wait > 0) await sleep(wait);
      await one(Math.random() < POST_SHARE ? "POST" : "GET");
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, worker);
  return {
    figures,
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
      agent.destroy();
    },
  };
}

interface Scenario {
  name: string;
  replace: (dns: LoopbackDns, old: Replica, port: number, newAddress: string) => Promise<Replica>;
}

const SCENARIOS: Scenario[] = [
  {
    name: "dropstack rollout",
    replace: async (dns, old, port, newAddress) => {
      const joinedAt = Date.now();
      const next = startReplica(dns, newAddress, port, "new");
      await waitHealthy(newAddress, port);
      const overlap = joinedAt + MIN_REPLICA_OVERLAP_SECONDS * 1000 - Date.now();
      if (overlap > 0) await sleep(overlap);
      await stopReplica(old);
      return next;
    },
  },
  {
    // What breaking the overlap contract costs: health-gated, but the replica boots faster
    // than nginx re-resolves, so the old one is stopped while nginx knows only its address.
    name: "rollout, no overlap",
    replace: async (dns, old, port, newAddress) => {
      const next = startReplica(dns, newAddress, port, "new");
      await waitHealthy(newAddress, port);
      await stopReplica(old);
      return next;
    },
  },
  {
    name: "naive restart",
    replace: async (dns, old, port, newAddress) => {
      await stopReplica(old);
      const next = startReplica(dns, newAddress, port, "new");
      await waitHealthy(newAddress, port);
      return next;
    },
  },
];

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const COMMAND = {
  usage: "npm run bench:rollout",
  help: `
Replaces the one app replica behind a real nginx (the rendered config, on loopback) under
steady HTTPS load, three ways (the dropstack rollout, a rollout without overlap, a naive
restart), and prints requests, failures and latencies for each. Takes about a minute.
Figures are printed, never enforced; target: 0 failed of at least 5,000 requests for the
dropstack rollout. No options.`,
  options: {},
} as const;

async function main(): Promise<void> {
  commandLine(process.argv.slice(2), COMMAND);
  const tools = requireNginxTools();
  const version = localNginxVersion(tools.nginx);
  const dns = await startLoopbackDns();
  const addresses = SCENARIOS.flatMap((_, i) => [`127.0.0.${2 + 2 * i}`, `127.0.0.${3 + 2 * i}`]);
  const port = await freeUpstreamPort(addresses);
  const site = await prepareNginxSite(version, {
    resolver: dns.address,
    upstreamPort: port,
    resolverValidSeconds: RESOLVER_VALID_SECONDS,
    // All load comes from one client address; the limiter is not what is measured.
    settings: { rateLimit: 100000, burst: 100000 },
    hosts: { api: API_HOST },
    staticRoot: undefined,
  });
  const ca = readFileSync(join(site.certDir, API_HOST, "fullchain.pem"), "utf8");
  const nginx = await startNginx(tools.nginx, site);
  const results: { name: string; figures: Figures }[] = [];
  try {
    console.log(
      `nginx ${version}, resolver valid=${RESOLVER_VALID_SECONDS}s, ${REQUESTS_PER_SECOND} req/s from ${CONCURRENCY} keep-alive connections, ${POST_SHARE * 100}% POST`,
    );
    for (const [i, scenario] of SCENARIOS.entries()) {
      const [oldAddress, newAddress] = addresses.slice(i * 2, i * 2 + 2);
      const old = startReplica(dns, oldAddress, port, "old");
      await waitHealthy(oldAddress, port);
      // Until nginx has forgotten the previous scenario's replicas.
      await sleep(MIN_REPLICA_OVERLAP_SECONDS * 1000);
      const load = startLoad(site.httpsPort, ca);
      await sleep(STEADY_BEFORE_MS);
      const next = await scenario.replace(dns, old, port, newAddress);
      await sleep(STEADY_AFTER_MS);
      await load.stop();
      await stopReplica(next);
      results.push({ name: scenario.name, figures: load.figures });
      console.log(`  ${scenario.name}: done`);
    }
  } finally {
    await nginx.stop();
    await dns.close();
  }

  console.log("");
  console.log("scenario             requests   failed   p50 ms   p99 ms   max ms   served by old/new   failures");
  for (const { name, figures } of results) {
    const failures = [...figures.failures].map(([what, n]) => `${n}× ${what}`).join(", ") || "-";
    const served = `${figures.byInstance.get("old") ?? 0}/${figures.byInstance.get("new") ?? 0}`;
    console.log(
      `${name.padEnd(20)} ${String(figures.total).padStart(8)} ${String(figures.failed).padStart(8)} ${percentile(figures.latenciesMs, 50).toFixed(1).padStart(8)} ${percentile(figures.latenciesMs, 99).toFixed(1).padStart(8)} ${Math.max(
        ...figures.latenciesMs,
      )
        .toFixed(1)
        .padStart(8)}   ${served.padStart(17)}   ${failures}`,
    );
  }
  const dropstack = results[0].figures;
  const met = dropstack.failed === 0 && dropstack.total >= 5000;
  console.log(
    `\ntarget (dropstack rollout: 0 failed of >= 5000): ${met ? "met" : "missed"} — ${dropstack.failed} failed of ${dropstack.total}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
