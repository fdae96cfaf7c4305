// Plumbing shared by the nginx system tests and `npm run bench:rollout`: a real nginx on
// loopback with the config dropstack renders, certificates from the real placeholder
// script, and a tiny DNS server standing in for Docker's embedded DNS, so the production
// shape (a network alias re-resolved through `resolver`) is what runs here too. App
// "containers" are servers on their own loopback addresses (127.0.0.2, 127.0.0.3, …), all
// on the same port, as replicas behind one alias are.
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { connect } from "node:net";
import { extname, join, resolve as resolvePath } from "node:path";
import { HEALTH_PROBE } from "../../components/proxy/commands";
import {
  ACME_WEBROOT,
  CERT_DIR,
  DRAIN_DIR,
  DRAIN_FLAG_PATH,
  HTTP2_DIRECTIVE_SINCE,
  NGINX_PROBE_PORT,
  UPSTREAM_RESOLVE_SINCE,
  nginxDirectives,
  nginxVersionAtLeast,
  renderCertbotScript,
  renderNginxConf,
  type NginxConfInput,
} from "../../components/proxy/render";
import { adaptUpstreamsTo } from "./nginx-adapt";
import { asUnprivileged, freePort, makeTempDir, requireTools, run } from "./system";

export const API_HOST = "api.dropstack.test";
export const APP_HOST = "app.dropstack.test";
export const APP_ALIAS = "app";
/** The frontend's alias, as the stack names it (NginxConfInput.services.frontend). */
export { FRONTEND_ALIAS } from "../../components/common/names";

/**
 * The nginx the system tests run: Debian's from PATH, or the binary DROPSTACK_NGINX names (an
 * absolute path), to run the same tests by hand against another build, such as the image's
 * version. Render for it with localNginxVersion(nginx).
 */
export function requireNginxTools(): { nginx: string; openssl: string } {
  const override = process.env.DROPSTACK_NGINX;
  if (override !== undefined && !override.startsWith("/"))
    throw new Error(`DROPSTACK_NGINX must be an absolute path to an nginx binary, got ${JSON.stringify(override)}`);
  const tools = requireTools([
    override ? { command: override, debianPackage: "nginx" } : { command: "nginx", debianPackage: "nginx" },
    { command: "openssl", debianPackage: "openssl" },
  ]);
  return { nginx: tools[override ?? "nginx"], openssl: tools.openssl };
}

/** "1.22.1" from `nginx -v`. */
export function localNginxVersion(nginx: string): string {
  const result = run([nginx, "-v"]);
  const match = /nginx\/(\d+\.\d+\.\d+)/.exec(result.stderr + result.stdout);
  if (!match) throw new Error(`could not read the nginx version: ${result.stderr}`);
  return match[1];
}

/** PATH for scripts run as the unprivileged user: Debian keeps nginx in /usr/sbin. */
export const SCRIPT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Runs the rendered certbot script's `placeholder` mode: what gives nginx its first certificates. */
export function writePlaceholderCertificates(certDir: string, domains: string[]): void {
  const scriptDir = makeTempDir("certbot-script");
  const script = join(scriptDir, "certbot.sh");
  writeFileSync(
    script,
    renderCertbotScript({ domains, staging: true, certDir, webroot: join(scriptDir, "www"), configDir: join(scriptDir, "le") }),
  );
  const result = run(asUnprivileged(["sh", script, "placeholder"]), { env: { ...process.env, PATH: SCRIPT_PATH } });
  if (result.status !== 0) throw new Error(`placeholder certificates failed: ${result.stderr}`);
}

export interface NginxSite {
  dir: string;
  certDir: string;
  webroot: string;
  staticRoot: string;
  httpPort: number;
  httpsPort: number;
  confPath: string;
  input: NginxConfInput;
}

/**
 * A temp dir holding placeholder certificates for both hosts, an ACME webroot, a built
 * frontend's files (for startStaticBackend) and the rendered nginx.conf with loopback ports and paths inside the dir.
 * Behind a load balancer (`loadBalancer`) nginx's probe port is a free loopback port too.
 */
export async function prepareNginxSite(
  nginxVersion: string,
  overrides: Partial<NginxConfInput> & { resolver: string; upstreamPort: number },
): Promise<NginxSite> {
  const dir = makeTempDir("nginx");
  const certDir = join(dir, "certs");
  const webroot = join(dir, "acme");
  const staticRoot = join(dir, "static");
  writePlaceholderCertificates(certDir, [API_HOST, APP_HOST]);
  mkdirSync(join(webroot, ".well-known", "acme-challenge"), { recursive: true });
  mkdirSync(join(staticRoot, "assets"), { recursive: true });
  mkdirSync(join(staticRoot, "static", "js"), { recursive: true });
  writeFileSync(join(staticRoot, "index.html"), '<!doctype html><script src="/assets/index-Bx3kP9aQ.js"></script>\n');
  writeFileSync(join(staticRoot, "assets", "index-Bx3kP9aQ.js"), "console.log('vite');\n");
  writeFileSync(join(staticRoot, "static", "js", "main.3f2a1b4c.js"), "console.log('webpack');\n");
  writeFileSync(join(staticRoot, "robots.txt"), "User-agent: *\n");
  const httpPort = await freePort();
  const httpsPort = await freePort();
  const probePort = overrides.loadBalancer ? await freePort() : undefined;
  const { resolver, upstreamPort, ...rest } = overrides;
  const input: NginxConfInput = {
    hosts: { api: API_HOST, app: APP_HOST },
    upstream: { alias: APP_ALIAS, port: upstreamPort },
    hsts: true,
    resolver,
    certDir,
    acmeWebroot: webroot,
    nginxVersion,
    listen: { address: "127.0.0.1", httpPort, httpsPort, ...(probePort ? { probePort } : {}) },
    runtime: {
      user: null,
      pidFile: join(dir, "nginx.pid"),
      errorLog: join(dir, "error.log"),
      accessLog: join(dir, "access.log"),
      tempDir: dir,
      workerProcesses: 1,
    },
    ...rest,
  };
  const confPath = join(dir, "nginx.conf");
  writeFileSync(confPath, renderNginxConf(input));
  return { dir, certDir, webroot, staticRoot, httpPort, httpsPort, confPath, input };
}

// Until it has read the config, nginx logs to its compiled-in error log: stderr in Debian's
// build, a file under the install prefix in a default build, which the unprivileged user may
// not open (an [alert] before every run). `-e stderr` makes every build start like Debian's.
const START_ERROR_LOG = ["-e", "stderr"];

/** `nginx -t` on a config, as the unprivileged user. */
export function testNginxConf(nginx: string, confPath: string) {
  return run(asUnprivileged([nginx, ...START_ERROR_LOG, "-t", "-c", confPath]));
}

/** Swaps `from` for `to` and throws unless it occurred exactly `times` times (or at least once). */
function replaceCounted(text: string, from: string | RegExp, to: string, times?: number): string {
  const pattern = typeof from === "string" ? new RegExp(from.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"), "g") : from;
  const count = text.match(pattern)?.length ?? 0;
  if (times === undefined ? count === 0 : count !== times)
    throw new Error(`expected ${times ?? "some"} of ${pattern} in the emitted nginx.conf, found ${count}`);
  return text.replace(pattern, to);
}

export interface LocalNginxCopy {
  dir: string;
  confPath: string;
  certDir: string;
  webroot: string;
  httpPort: number;
  httpsPort: number;
  /** Behind a load balancer: nginx's own loopback probe port, and the drain flag's directory. */
  loadBalancer?: { probePort: number; drainDir: string };
  /** The names its servers answer, each with a placeholder certificate. */
  hosts: string[];
  text: string;
}

/**
 * The nginx.conf `npm run check -- --emit` writes (the bytes the droplet gets), made
 * runnable here with exactly these changes, each asserted to have happened: the
 * container's paths (certificates, ACME webroot, pid, logs) move into a temp dir with
 * placeholder certificates for every server_name, the ports to free loopback ones, nginx
 * gets temp dirs and no `user` (it runs unprivileged); for a local nginx older than 1.25.1,
 * HTTP/2 goes back to `listen … http2`; and for one older than UPSTREAM_RESOLVE_SINCE, the
 * upstream groups go back to per-request variables (adaptUpstreamsTo). Those are the two
 * differences between the renderings for the image's nginx and for older ones.
 */
export async function localNginxCopy(emitted: string, localVersion: string): Promise<LocalNginxCopy> {
  const dir = makeTempDir("nginx-emitted");
  const certDir = join(dir, "certs");
  const webroot = join(dir, "acme");
  const hosts = [
    ...new Set(
      nginxDirectives(emitted)
        .filter((d) => d.name === "server_name")
        .flatMap((d) => d.args),
    ),
  ].filter((h) => h !== "_" && h !== "");
  writePlaceholderCertificates(certDir, hosts);
  mkdirSync(join(webroot, ".well-known", "acme-challenge"), { recursive: true });
  writeFileSync(join(webroot, HEALTH_PROBE.path), HEALTH_PROBE.content);
  const httpPort = await freePort();
  const httpsPort = await freePort();
  const httpsServers = (emitted.match(/listen 443 ssl/g) ?? []).length;
  // Rendered for a load balancer, nginx listens with TLS nowhere: every server is on port 80,
  // beside its loopback probe port, and the drain flag's directory is the container's.
  const loadBalanced = httpsServers === 0;
  const loadBalancer = loadBalanced ? { probePort: await freePort(), drainDir: join(dir, "drain") } : undefined;
  if (loadBalancer) mkdirSync(loadBalancer.drainDir);

  let text = emitted;
  text = replaceCounted(text, /^user nginx;\n/m, "", 1);
  text = replaceCounted(text, "pid /var/run/nginx.pid;", `pid ${dir}/nginx.pid;`, 1);
  text = replaceCounted(text, "error_log /var/log/nginx/error.log", `error_log ${dir}/error.log`, 1);
  text = replaceCounted(text, "access_log /var/log/nginx/access.log ", `access_log ${dir}/access.log `, 1);
  text = replaceCounted(
    text,
    /^http \{\n/m,
    `http {\n${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((k) => `    ${k}_temp_path ${dir}/${k};\n`).join("")}`,
    1,
  );
  if (loadBalancer) {
    text = replaceCounted(text, `listen 127.0.0.1:${NGINX_PROBE_PORT};`, `listen 127.0.0.1:${loadBalancer.probePort};`, 1);
    text = replaceCounted(text, `${DRAIN_DIR}/`, `${loadBalancer.drainDir}/`, 1);
  } else text = replaceCounted(text, `${CERT_DIR}/`, `${certDir}/`);
  text = replaceCounted(text, `root ${ACME_WEBROOT};`, `root ${webroot};`, 1);
  // With TLS, the redirect and the refusal; behind a load balancer, the refusal and every host.
  const httpServers = loadBalanced ? (emitted.match(/listen 80( |;)/g) ?? []).length : 2;
  text = replaceCounted(text, /listen 80( |;)/g, `listen 127.0.0.1:${httpPort}$1`, httpServers);
  text = nginxVersionAtLeast(localVersion, HTTP2_DIRECTIVE_SINCE)
    ? replaceCounted(text, /listen 443 ssl( default_server)?;/g, `listen 127.0.0.1:${httpsPort} ssl$1;`, httpsServers)
    : replaceCounted(
        text,
        /listen 443 ssl( default_server)?;\n(\s*)http2 on;\n/g,
        `listen 127.0.0.1:${httpsPort} ssl http2$1;\n`,
        httpsServers,
      );
  if (!nginxVersionAtLeast(localVersion, UPSTREAM_RESOLVE_SINCE)) {
    const groups = (text.match(/^ *upstream \S+ \{$/gm) ?? []).length;
    text = adaptUpstreamsTo(text, localVersion);
    const left = (text.match(/^ *upstream \S+ \{$/gm) ?? []).length;
    if (left > 0) throw new Error(`expected all ${groups} upstream groups of the emitted nginx.conf turned into variables, ${left} left`);
  }
  const confPath = join(dir, "nginx.conf");
  writeFileSync(confPath, text);
  return { dir, confPath, certDir, webroot, httpPort, httpsPort, ...(loadBalancer ? { loadBalancer } : {}), hosts, text };
}

/**
 * The copy as startNginx takes a site. nginx serves the copy's own config: the input only says
 * which ports to wait for (behind a load balancer, the HTTP and the probe port) and where the
 * pid file and the error log are.
 */
export function localNginxSite(local: LocalNginxCopy): NginxSite {
  return {
    dir: local.dir,
    certDir: local.certDir,
    webroot: local.webroot,
    staticRoot: join(local.dir, "static"),
    httpPort: local.httpPort,
    httpsPort: local.httpsPort,
    confPath: local.confPath,
    input: {
      hosts: { api: "unused.example" },
      upstream: { alias: "api", port: 8000 },
      hsts: false,
      ...(local.loadBalancer
        ? {
            loadBalancer: { drainFlag: DRAIN_FLAG_PATH },
            listen: { address: "127.0.0.1", httpPort: local.httpPort, httpsPort: local.httpsPort, probePort: local.loadBalancer.probePort },
          }
        : {}),
      runtime: { pidFile: join(local.dir, "nginx.pid"), errorLog: join(local.dir, "error.log") },
    },
  };
}

export interface RunningNginx {
  pid: () => number;
  errorLog: () => string;
  stop: () => Promise<void>;
}

export async function waitForPort(port: number, host = "127.0.0.1", timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** The worker processes of the nginx master `masterPid` (its children, read from /proc). */
export function nginxWorkers(masterPid: number): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ")".
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === masterPid ? [Number(entry)] : [];
      } catch {
        return []; // exited while we looked
      }
    });
}

/**
 * After a reload, old workers finish their connections while new ones start, and a new
 * connection may still reach an old worker with the old config or certificate. This waits
 * for the real condition: every worker in `old` has exited.
 */
export async function waitForWorkersGone(old: number[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const alive = () => old.filter((pid) => existsSync(`/proc/${pid}`));
  while (alive().length > 0) {
    if (Date.now() > deadline) throw new Error(`nginx workers ${alive().join(", ")} still run ${timeoutMs} ms after the reload`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Runs nginx in the foreground as the unprivileged user until stop(). */
export async function startNginx(nginx: string, site: NginxSite): Promise<RunningNginx> {
  const argv = asUnprivileged([nginx, ...START_ERROR_LOG, "-c", site.confPath, "-g", "daemon off;"]);
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const errorLogPath = site.input.runtime?.errorLog ?? "";
  const errorLog = () => stderr + (existsSync(errorLogPath) ? readFileSync(errorLogPath, "utf8") : "");
  const pidFile = site.input.runtime?.pidFile ?? "";
  const pid = () => Number(readFileSync(pidFile, "utf8").trim());
  // Behind a load balancer nginx listens on the HTTP port and its loopback probe port, never with TLS.
  const ports = site.input.loadBalancer
    ? [site.httpPort, site.input.listen?.probePort ?? NGINX_PROBE_PORT]
    : [site.httpPort, site.httpsPort];
  try {
    await Promise.race([
      Promise.all(ports.map((port) => waitForPort(port))),
      exited(child).then(() => {
        throw new Error(`nginx exited at startup: ${errorLog()}`);
      }),
    ]);
    const deadline = Date.now() + 60_000;
    while (!existsSync(pidFile) && Date.now() < deadline) await sleep(10);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    pid,
    errorLog,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // Signal the master itself: runuser would turn a forwarded signal into a kill.
      try {
        process.kill(pid(), "SIGTERM");
      } catch {
        child.kill("SIGKILL");
      }
      await exited(child);
    },
  };
}

export interface RunningEntrypoint {
  child: ChildProcess;
  /** What the entrypoint has written to stderr so far. */
  stderr: () => string;
  /** Its exit status, once it exits. */
  exit: Promise<number | null>;
  /** SIGTERM to the script itself, as `docker stop` sends it. */
  terminate: () => void;
  /** Kills the script, if it still runs, and the nginx it started (for a test's cleanup). */
  kill: () => void;
}

/**
 * Runs a rendered nginx entrypoint, written to `entrypoint` in `dir`, with sh as the
 * unprivileged user; the nginx it starts writes its pid to `dir`/nginx.pid.
 */
export function startEntrypoint(dir: string, entrypoint: string, env: NodeJS.ProcessEnv): RunningEntrypoint {
  const pidFile = join(dir, "entrypoint.pid");
  // The shell records its pid and execs the script, so a signal to that pid reaches the
  // script itself rather than runuser.
  const argv = asUnprivileged(["sh", "-c", `echo $$ > ${pidFile}; exec sh ${entrypoint}`]);
  const child = spawn(argv[0], argv.slice(1), { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    stderr: () => stderr,
    exit,
    terminate: () => process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGTERM"),
    kill: () => {
      if (child.exitCode === null) child.kill("SIGKILL");
      const nginxPid = join(dir, "nginx.pid");
      if (existsSync(nginxPid)) run(["kill", "-KILL", readFileSync(nginxPid, "utf8").trim()]);
    },
  };
}

// ---------------------------------------------------------------------------------------
// A DNS server for one job: answer A queries for the names it holds, the way Docker's
// embedded DNS answers for a network alias with one address per running container.

export interface LoopbackDns {
  /** "127.0.0.1:<port>", the value for NginxConfInput.resolver. */
  address: string;
  /** Replace the addresses of a name; an empty list makes the name unknown (NXDOMAIN). */
  set: (name: string, addresses: string[]) => void;
  addresses: (name: string) => string[];
  /** A queries answered so far. */
  queries: () => number;
  close: () => Promise<void>;
}

export async function startLoopbackDns(): Promise<LoopbackDns> {
  const records = new Map<string, string[]>();
  let answered = 0;
  const socket = createSocket("udp4");
  socket.on("message", (query, peer) => {
    const response = answerDnsQuery(query, records);
    if (!response) return;
    answered++;
    socket.send(response, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => resolve());
  });
  const { port } = socket.address();
  return {
    address: `127.0.0.1:${port}`,
    set: (name, addresses) => {
      if (addresses.length === 0) records.delete(name.toLowerCase());
      else records.set(name.toLowerCase(), [...addresses]);
    },
    addresses: (name) => [...(records.get(name.toLowerCase()) ?? [])],
    queries: () => answered,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** The response to a standard one-question query (RFC 1035 §4), or undefined for garbage. */
export function answerDnsQuery(query: Buffer, records: Map<string, string[]>): Buffer | undefined {
  if (query.length < 12 || query.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  while (offset < query.length && query[offset] !== 0) {
    const length = query[offset];
    if (length > 63 || offset + 1 + length > query.length) return undefined;
    labels.push(query.toString("ascii", offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  const questionEnd = offset + 5;
  if (questionEnd > query.length) return undefined;
  const type = query.readUInt16BE(offset + 1);
  const addresses = records.get(labels.join(".").toLowerCase());
  const answers = addresses && type === 1 ? addresses : [];
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  const recursionDesired = query.readUInt16BE(2) & 0x0100;
  const rcode = addresses ? 0 : 3;
  header.writeUInt16BE(0x8000 | 0x0400 | recursionDesired | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const records_ = answers.map((address) => {
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0);
    record.writeUInt16BE(1, 2);
    record.writeUInt16BE(1, 4);
    record.writeUInt32BE(600, 6);
    record.writeUInt16BE(4, 10);
    address.split(".").forEach((part, i) => record.writeUInt8(Number(part), 12 + i));
    return record;
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...records_]);
}

// ---------------------------------------------------------------------------------------
// Clients.

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body as received: compressed when nginx compressed it. */
  bytes: Buffer;
}

export interface RequestOptions {
  port: number;
  host: string;
  path: string;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  /** Source address, so rate limiting sees a client of its own. */
  localAddress?: string;
  agent?: http.Agent;
}

export function httpRequest(options: RequestOptions): Promise<Reply> {
  return send(http.request, { ...options }, {});
}

/** HTTPS to 127.0.0.1 with SNI and Host set to `host`, trusting `ca` (the placeholder is its own CA). */
export function httpsRequest(options: RequestOptions & { ca: string }): Promise<Reply> {
  return send(https.request as typeof http.request, options, { ca: options.ca, servername: options.host });
}

function send(request: typeof http.request, options: RequestOptions, tls: Record<string, unknown>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: options.port,
        path: options.path,
        method: options.method ?? "GET",
        headers: { host: options.host, ...options.headers },
        localAddress: options.localAddress,
        agent: options.agent ?? false,
        ...tls,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const bytes = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes.toString(), bytes });
        });
        res.on("error", reject);
      },
    );
    req.setTimeout(10000, () => req.destroy(new Error(`no answer to ${options.method ?? "GET"} ${options.path} within 10 s`)));
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Starts `server` on `address:port`; the answer closes it, cutting the connections it holds open. */
export async function listenOn(server: http.Server, address: string, port: number): Promise<() => Promise<void>> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
  return () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/**
 * Sends `count` requests at once, so they meet nginx's rate-limit bucket together however slow
 * the machine is: their statuses, how many got 200, and how many requests the bucket refilled
 * at `ratePerSecond` while they were answered.
 */
export async function burst(
  count: number,
  ratePerSecond: number,
  makeRequest: () => Promise<{ status: number }>,
): Promise<{ statuses: number[]; passed: number; refilled: number }> {
  const start = Date.now();
  const statuses = await Promise.all(Array.from({ length: count }, async () => (await makeRequest()).status));
  const refilled = Math.ceil(((Date.now() - start) / 1000) * ratePerSecond);
  return { statuses, passed: statuses.filter((s) => s === 200).length, refilled };
}

// ---------------------------------------------------------------------------------------
// An app replica for the tests: echoes what reached it, so tests see nginx's headers.

export interface EchoBackend {
  address: string;
  requests: () => number;
  close: () => Promise<void>;
}

export async function startEchoBackend(address: string, port: number, name: string): Promise<EchoBackend> {
  let count = 0;
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on("data", (chunk: Buffer) => (bytes += chunk.length));
    req.on("end", () => {
      count++;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ instance: name, method: req.method, url: req.url, headers: req.headers, bodyBytes: bytes }));
    });
  });
  const close = await listenOn(server, address, port);
  return {
    address,
    requests: () => count,
    close,
  };
}

// ---------------------------------------------------------------------------------------
// A frontend container for the tests: a built single-page app's files, served as a static
// file server in a container would, with caching headers of its own that nginx must replace.

/** What the static backend sends as its own caching, for tests to check that none of it reaches the client. */
export const STATIC_BACKEND_CACHE_CONTROL = "max-age=600";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "application/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".xml": "application/xml",
  ".txt": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".woff2": "font/woff2",
};

export interface StaticBackend {
  address: string;
  /** The method and path of every request it answered, in order. */
  seen: () => { method: string; url: string; headers: http.IncomingHttpHeaders }[];
  close: () => Promise<void>;
}

/**
 * Serves the files under `root` on `address:port`: the content type by extension, index.html
 * for a directory, 404 for anything else; always uncompressed (it ignores Accept-Encoding,
 * so a compressed answer is nginx's work), with `Cache-Control: max-age=600` and an Expires
 * of its own on every answer.
 */
export async function startStaticBackend(address: string, port: number, root: string): Promise<StaticBackend> {
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    res.setHeader("cache-control", STATIC_BACKEND_CACHE_CONTROL);
    res.setHeader("expires", new Date(Date.now() + 600_000).toUTCString());
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://static").pathname);
    const file = fileUnder(root, path.endsWith("/") ? `${path}index.html` : path);
    const found = file !== undefined && existsSync(file) && statSync(file).isFile() ? file : undefined;
    if ((req.method !== "GET" && req.method !== "HEAD") || found === undefined) {
      res.statusCode = found === undefined ? 404 : 405;
      res.setHeader("content-type", "text/plain; charset=utf-8");
      res.end(found === undefined ? "no such file\n" : "method not allowed\n");
      return;
    }
    const body = readFileSync(found);
    res.setHeader("content-type", CONTENT_TYPES[extname(found)] ?? "application/octet-stream");
    res.setHeader("content-length", body.length);
    res.end(req.method === "HEAD" ? undefined : body);
  });
  const close = await listenOn(server, address, port);
  return {
    address,
    seen: () => [...seen],
    close,
  };
}

/** `path` inside `root`, or undefined for one that would leave it (`..`). */
function fileUnder(root: string, path: string): string | undefined {
  const file = resolvePath(root, `.${path}`);
  return file === root || file.startsWith(`${root}/`) ? file : undefined;
}

/** A port free on every loopback address the replicas use (they all listen on it). */
export async function freeUpstreamPort(addresses: string[]): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort();
    const free = await Promise.all(addresses.map((address) => isFree(address, port)));
    if (free.every(Boolean)) return port;
  }
  throw new Error(`no port free on all of ${addresses.join(", ")}`);
}

function isFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = http.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, address, () => server.close(() => resolve(true)));
  });
}
