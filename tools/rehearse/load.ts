// Steady HTTPS load through the program's nginx, as clients on the internet see it: TLS
// with SNI for the API host to the port nginx publishes for 443. Every response counts;
// a failure is a connection error, a timeout or any status outside 2xx. The timeout is
// nginx's own read timeout (60 s): past it nginx answers 504 itself, so a slower answer
// the client still gets is slow, not lost; the slowest answers are reported beside the
// failures. The X-App-Version header tells which build answered.
import * as https from "node:https";

export interface LoadReport {
  requests: number;
  failed: number;
  /** Requests answered per app version (X-App-Version). */
  versions: Record<string, number>;
  /** The first few failures, for the report. */
  failures: string[];
  seconds: number;
  /** The slowest answer, and how many took longer than a second (ms). */
  slowestMs: number;
  slowerThan1s: number;
  /** Every answered request's time (ms), in the order they finished. */
  latenciesMs: number[];
}

/** The p-th percentile (0–100) of `values`, nearest rank; 0 for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export interface Load {
  stop(): Promise<LoadReport>;
  /** Resolves once at least `n` requests finished (or the load was stopped). */
  reach(n: number): Promise<void>;
  readonly report: LoadReport;
}

export function startLoad(options: { host: string; port: number; paths: string[]; concurrency?: number; timeoutMs?: number }): Load {
  const agent = new https.Agent({ keepAlive: true, maxSockets: options.concurrency ?? 4 });
  const report: LoadReport = {
    requests: 0,
    failed: 0,
    versions: {},
    failures: [],
    seconds: 0,
    slowestMs: 0,
    slowerThan1s: 0,
    latenciesMs: [],
  };
  const started = Date.now();
  let running = true;
  let waiters: { n: number; resolve: () => void }[] = [];
  const done = (failure?: string, version?: string) => {
    report.requests++;
    if (failure) {
      report.failed++;
      if (report.failures.length < 10) report.failures.push(failure);
    }
    if (version) report.versions[version] = (report.versions[version] ?? 0) + 1;
    waiters = waiters.filter((w) => (report.requests >= w.n ? (w.resolve(), false) : true));
  };
  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const path = options.paths[i % options.paths.length];
      const sent = Date.now();
      const req = https.request(
        {
          host: "127.0.0.1",
          port: options.port,
          path,
          servername: options.host,
          headers: { Host: options.host },
          agent,
          rejectUnauthorized: false,
          timeout: options.timeoutMs ?? 60_000,
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            const ms = Date.now() - sent;
            report.slowestMs = Math.max(report.slowestMs, ms);
            report.latenciesMs.push(ms);
            if (ms > 1000) report.slowerThan1s++;
            const status = res.statusCode ?? 0;
            const version = String(res.headers["x-app-version"] ?? "none");
            done(status >= 200 && status < 300 ? undefined : `${path}: HTTP ${status} from ${version}`, version);
            resolve();
          });
          res.on("error", (e) => {
            done(`${path}: ${e.message}`);
            resolve();
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", (e) => {
        done(`${path}: ${e.message}`);
        resolve();
      });
      req.end();
    });
  const workers = Array.from({ length: options.concurrency ?? 4 }, async (_, w) => {
    for (let i = w; running; i += options.concurrency ?? 4) await one(i);
  });
  return {
    report,
    reach: (n) => (report.requests >= n || !running ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
    stop: async () => {
      running = false;
      await Promise.all(workers);
      agent.destroy();
      for (const w of waiters) w.resolve();
      report.seconds = (Date.now() - started) / 1000;
      return report;
    },
  };
}
