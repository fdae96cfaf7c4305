// nginx.conf for the proxy container, composed from one module per concern: TLS (tls.ts),
// security headers (headers.ts), reaching the replicas and Grafana (upstream.ts), rate limiting
// (rate-limit.ts), the nginx versions it targets (versions.ts) and the container paths
// (paths.ts). This module validates the input and lays the blocks out.
import { isIP } from "node:net";
import { LOAD_BALANCER_HEALTH_PATH } from "../common/names";
import { isHostname } from "../config/hostname";
import { hideUpstreamSecurityHeaders, isHeaderValue, securityHeaders as headersFor } from "./headers";
import { ACME_WEBROOT, CERT_DIR, type CertificatePaths, certificatePathsFor, isConfPath } from "./paths";
import { rateLimitZone, rateLimited } from "./rate-limit";
import { DEFAULT_PROXY_SETTINGS, type ProxySettings, validateProxySettings } from "./settings";
import { httpsListen, tlsServerHead, tlsSettings } from "./tls";
import {
  API_SERVICE,
  FRONTEND_SERVICE,
  type ProxyRoute,
  describeRoutePathProblem,
  routeLocations,
  routesOfHost,
  isRouteService,
} from "./routes";
import {
  DEFAULT_UPSTREAM_KEEPALIVE,
  DEFAULT_UPSTREAM_TIMEOUTS,
  DOCKER_DNS_RESOLVER,
  type ForwardedProto,
  RESOLVER_VALID_SECONDS,
  UPSTREAM_RESOLVE_SINCE,
  type UpstreamKeepalive,
  type UpstreamService,
  type UpstreamTimeouts,
  connectionUpgradeMap,
  isAlias,
  isPort,
  isResolverAddress,
  monitoringTarget,
  proxyToMonitoring,
  proxyToService,
  resolverSettings,
  retrySettings,
  upstreamGroup,
  upstreamMode,
  upstreamTarget,
  validateUpstreamTuning,
  webSocketUpgrade,
} from "./upstream";
import { block } from "./block";
import { IMAGE_NGINX_VERSION, MIN_NGINX_VERSION, nginxVersionAtLeast, parseNginxVersion } from "./versions";

/**
 * The access log's format: `combined`, then the host the request was for (quoted: nginx escapes
 * a `"` in it as \x22) and the request's total time in seconds (ms resolution). The post-deploy
 * watch (components/hooks/watch.sh) takes the status as the first word after the request's
 * closing quote and the time as the last field, so $request_time stays last.
 */
export const ACCESS_LOG_FORMAT_NAME = "dropstack";
export const ACCESS_LOG_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$host" $request_time';

export interface ProxyHosts {
  /** FQDN of the API, proxied to the app. */
  api: string;
  /** FQDN of the frontend: its `/` goes to the `frontend` service when there is one, else to the api. */
  app?: string;
  /** FQDN of Grafana (dropstack:hosts.monitoring), proxied to `monitoringUpstream`. */
  monitoring?: string;
}

/**
 * The largest request body to Grafana: dashboards and alert rules saved as JSON fit many
 * times over. Its own limit, since dropstack:proxy.maxBodySize is sized for the app.
 */
export const MONITORING_MAX_BODY_SIZE = "10m";

export interface NginxConfInput {
  hosts: ProxyHosts;
  /** The api replicas (the `api` service): their shared Docker network alias and the port the app listens on. */
  upstream: UpstreamService;
  /** The other services routes may name: `frontend`, and `worker:<name>` for workers that serve HTTP. */
  services?: Record<string, UpstreamService>;
  /** Path prefixes to services on hosts.api and hosts.app; `/` of a host without one goes to its default. */
  routes?: ProxyRoute[];
  /**
   * Grafana's Docker network alias and port (observability SERVICES.grafana); needed with
   * hosts.monitoring. `alias` may be an IPv4 address instead: a droplet without Grafana reaches
   * it where another droplet publishes it on its private address (load-balancer mode).
   */
  monitoringUpstream?: { alias: string; port: number };
  /** HSTS on every HTTPS response; on in production. */
  hsts: boolean;
  /** Overrides of DEFAULT_PROXY_SETTINGS. */
  settings?: Partial<ProxySettings>;
  /** DNS server that resolves the alias, `ip` or `ip:port`. Default DOCKER_DNS_RESOLVER. */
  resolver?: string;
  /** How long nginx trusts an answer before asking again. Default RESOLVER_VALID_SECONDS. */
  resolverValidSeconds?: number;
  /** Per-host certificate paths. Default certificatePathsFor(host, certDir). */
  certificates?: Partial<Record<string, CertificatePaths>>;
  /** Default CERT_DIR. */
  certDir?: string;
  /** Default ACME_WEBROOT. */
  acmeWebroot?: string;
  /** Path exempt from rate limiting and access logs (the container healthcheck path). Default `/health`. */
  healthPath?: string;
  /** Content-Security-Policy of every answer on hosts.api and hosts.app (Grafana sets its own); none when unset. */
  contentSecurityPolicy?: string;
  /**
   * OCSP stapling. Off by default: Let's Encrypt stopped running OCSP in 2025, so its
   * certificates carry no responder URL. nginx skips stapling, with a warning, for a
   * certificate without one (such as the self-signed placeholder) and keeps serving.
   */
  ocspStapling?: boolean;
  /** Version of the nginx that reads the file, e.g. from nginxVersionFromImage(). Default IMAGE_NGINX_VERSION. */
  nginxVersion?: string;
  /** Where to listen. Default all IPv4 addresses, ports 80 and 443. Tests use loopback and high ports. */
  listen?: {
    address?: string;
    httpPort?: number;
    httpsPort?: number;
    /** Load-balancer mode: the loopback port where nginx answers the container's healthcheck itself. Default NGINX_PROBE_PORT. */
    probePort?: number;
  };
  /**
   * Load-balancer mode (more than one droplet): a DigitalOcean Load Balancer terminates TLS and
   * forwards plain HTTP to the HTTP port. Every host is served there without TLS (certificates,
   * certDir, acmeWebroot, ocspStapling and listen.httpsPort go unused), the client is the address
   * the load balancer appends to X-Forwarded-For, the services get `X-Forwarded-Proto: https`,
   * and the default server answers LOAD_BALANCER_HEALTH_PATH with the api's health.
   */
  loadBalancer?: {
    /** The drain flag as nginx sees it (DRAIN_FLAG_PATH): LOAD_BALANCER_HEALTH_PATH answers 503 while it exists. */
    drainFlag: string;
  };
  /** Process-level paths. Defaults suit the official image. */
  runtime?: {
    /** `user` for the workers; only meaningful when the master runs as root. Default `nginx`; null omits it. */
    user?: string | null;
    /** Default /var/run/nginx.pid. */
    pidFile?: string;
    /** Default /var/log/nginx/error.log (the image links it to stderr). */
    errorLog?: string;
    /** Default /var/log/nginx/access.log (the image links it to stdout). */
    accessLog?: string;
    /** Directory for nginx's temp files, when the compiled-in one is not writable. */
    tempDir?: string;
    /** Default /etc/nginx/mime.types (same path in Debian and in the image). */
    mimeTypes?: string;
    /** Default `auto`. */
    workerProcesses?: number | "auto";
  };
  /** Upstream timeouts in seconds, within UPSTREAM_TIMEOUT_BOUNDS. Defaults: DEFAULT_UPSTREAM_TIMEOUTS. */
  timeouts?: Partial<UpstreamTimeouts>;
  /** Idle connections kept to each service (nginx ≥ UPSTREAM_RESOLVE_SINCE). Default DEFAULT_UPSTREAM_KEEPALIVE. */
  keepalive?: Partial<UpstreamKeepalive>;
}

const URL_PATH = /^\/[A-Za-z0-9._~/-]*$/;
const DEFAULT_HTTP_PORT = 80;
const DEFAULT_HTTPS_PORT = 443;
/**
 * Load-balancer mode: where nginx answers the container's healthcheck itself, on loopback inside
 * the container (never published), so the check holds whether or not the api is up or the droplet
 * drained, and needs no name nginx serves.
 */
export const NGINX_PROBE_PORT = 8081;

/** Every problem with an nginx.conf input, as `field: message`. Empty means renderNginxConf accepts it. */
export function validateNginxConfInput(input: NginxConfInput): string[] {
  const problems: string[] = [];
  const add = (field: string, message: string) => problems.push(`${field}: ${message}`);
  const value = (v: unknown) => JSON.stringify(v);

  if (!isHostname(input.hosts?.api ?? "")) add("hosts.api", `expected a fully qualified hostname, got ${value(input.hosts?.api)}`);
  if (input.hosts?.app !== undefined) {
    if (!isHostname(input.hosts.app)) add("hosts.app", `expected a fully qualified hostname, got ${value(input.hosts.app)}`);
    else if (input.hosts.app === input.hosts.api) add("hosts.app", "must differ from hosts.api");
  }
  const monitoringHost = input.hosts?.monitoring;
  if (monitoringHost !== undefined) {
    if (!isHostname(monitoringHost)) add("hosts.monitoring", `expected a fully qualified hostname, got ${value(monitoringHost)}`);
    else if (monitoringHost === input.hosts.api) add("hosts.monitoring", "must differ from hosts.api");
    else if (monitoringHost === input.hosts.app) add("hosts.monitoring", "must differ from hosts.app");
  }
  if (!isAlias(input.upstream?.alias ?? ""))
    add("upstream.alias", `expected a Docker network alias like app, got ${value(input.upstream?.alias)}`);
  if (!isPort(input.upstream?.port)) add("upstream.port", `expected a port from 1 to 65535, got ${value(input.upstream?.port)}`);
  const grafana = input.monitoringUpstream;
  if (grafana === undefined) {
    if (monitoringHost !== undefined) add("monitoringUpstream", "needed with hosts.monitoring: Grafana's network alias and port");
  } else {
    if (monitoringHost === undefined) add("monitoringUpstream", "needs hosts.monitoring, the host that serves it");
    if (typeof grafana.alias !== "string" || !isAlias(grafana.alias))
      add("monitoringUpstream.alias", `expected a Docker network alias like grafana, got ${value(grafana.alias)}`);
    if (!isPort(grafana.port)) add("monitoringUpstream.port", `expected a port from 1 to 65535, got ${value(grafana.port)}`);
  }
  for (const problem of validateProxySettings(input.settings ?? {})) add(`settings.${problem.setting}`, problem.message);
  if (input.resolver !== undefined && !isResolverAddress(input.resolver)) {
    add("resolver", `expected an IP address with an optional port, like 127.0.0.11 or 127.0.0.1:5353, got ${value(input.resolver)}`);
  }
  if (input.resolverValidSeconds !== undefined && !(Number.isInteger(input.resolverValidSeconds) && input.resolverValidSeconds >= 1)) {
    add("resolverValidSeconds", `expected a whole number of seconds, at least 1, got ${value(input.resolverValidSeconds)}`);
  }
  const paths: [string, string | undefined][] = [
    ["certDir", input.certDir],
    ["acmeWebroot", input.acmeWebroot],
    ["runtime.pidFile", input.runtime?.pidFile],
    ["runtime.errorLog", input.runtime?.errorLog],
    ["runtime.accessLog", input.runtime?.accessLog],
    ["runtime.tempDir", input.runtime?.tempDir],
    ["runtime.mimeTypes", input.runtime?.mimeTypes],
  ];
  for (const [host, certificate] of Object.entries(input.certificates ?? {})) {
    paths.push([`certificates.${host}.certificate`, certificate?.certificate], [`certificates.${host}.key`, certificate?.key]);
  }
  for (const [field, path] of paths) {
    if (path !== undefined && !isConfPath(path)) add(field, `expected an absolute path of letters, digits and ._@+-/, got ${value(path)}`);
  }
  for (const [service, target] of Object.entries(input.services ?? {})) {
    if (service === API_SERVICE || !isRouteService(service))
      add(`services.${service}`, "expected frontend or worker:<name>, the services routes may name besides the api");
    if (!isAlias(target?.alias ?? "")) add(`services.${service}.alias`, `expected a Docker network alias, got ${value(target?.alias)}`);
    if (!isPort(target?.port)) add(`services.${service}.port`, `expected a port from 1 to 65535, got ${value(target?.port)}`);
  }
  const routed = [input.hosts?.api, input.hosts?.app].filter((h): h is string => h !== undefined);
  const seen = new Set<string>();
  (input.routes ?? []).forEach((route, i) => {
    const field = `routes[${i}]`;
    if (!routed.includes(route.host))
      add(
        `${field}.host`,
        `expected hosts.api or hosts.app${routed.length > 0 ? ` (${routed.join(", ")})` : ""}, got ${value(route.host)}`,
      );
    const pathProblem = describeRoutePathProblem(route.path);
    if (pathProblem) add(`${field}.path`, pathProblem);
    else if (route.path === (input.healthPath ?? "/health"))
      add(`${field}.path`, `${route.path} is the health path, which always goes straight to the api`);
    if (route.service !== API_SERVICE && input.services?.[route.service] === undefined)
      add(
        `${field}.service`,
        `expected api or a service given in services (${Object.keys(input.services ?? {}).join(", ") || "none"}), got ${value(route.service)}`,
      );
    const key = `${route.host} ${route.path}`;
    if (seen.has(key)) add(`${field}.path`, `${route.host} already routes ${route.path}`);
    seen.add(key);
  });
  if (input.healthPath !== undefined && !URL_PATH.test(input.healthPath))
    add("healthPath", `expected a URL path like /health, got ${value(input.healthPath)}`);
  const csp = input.contentSecurityPolicy;
  if (csp !== undefined && !isHeaderValue(csp))
    add("contentSecurityPolicy", `expected a header value without quotes, backslashes or $, got ${value(csp)}`);
  const version = input.nginxVersion ?? IMAGE_NGINX_VERSION;
  if (!parseNginxVersion(version)) add("nginxVersion", `expected a version like 1.28.0, got ${value(version)}`);
  else if (!nginxVersionAtLeast(version, MIN_NGINX_VERSION))
    add("nginxVersion", `nginx ${version} is older than ${MIN_NGINX_VERSION}, the oldest checked`);
  const listen = input.listen ?? {};
  if (listen.address !== undefined && isIP(listen.address) !== 4)
    add("listen.address", `expected an IPv4 address, got ${value(listen.address)}`);
  for (const key of ["httpPort", "httpsPort", "probePort"] as const) {
    if (listen[key] !== undefined && !isPort(listen[key]))
      add(`listen.${key}`, `expected a port from 1 to 65535, got ${value(listen[key])}`);
  }
  // Against the ports rendered, defaults included: a port set to the other's default collides as
  // surely as two equal ones (nginx -t: "a duplicate default server").
  const httpPort = listen.httpPort ?? DEFAULT_HTTP_PORT;
  if (httpPort === (listen.httpsPort ?? DEFAULT_HTTPS_PORT))
    add(
      "listen.httpsPort",
      `must differ from listen.httpPort (${DEFAULT_HTTP_PORT} and ${DEFAULT_HTTPS_PORT} when unset), both are ${httpPort}`,
    );
  if (input.loadBalancer !== undefined) {
    const flag: unknown = input.loadBalancer?.drainFlag;
    if (typeof flag !== "string" || !isConfPath(flag))
      add("loadBalancer.drainFlag", `expected an absolute path of letters, digits and ._@+-/, got ${value(flag)}`);
    if ((listen.probePort ?? NGINX_PROBE_PORT) === httpPort)
      add(
        "listen.probePort",
        `must differ from listen.httpPort (${NGINX_PROBE_PORT} and ${DEFAULT_HTTP_PORT} when unset), both are ${httpPort}`,
      );
  }
  const user = input.runtime?.user;
  if (user !== undefined && user !== null && !/^[a-z_][a-z0-9_-]{0,31}$/.test(user))
    add("runtime.user", `expected a user name, got ${value(user)}`);
  const workers = input.runtime?.workerProcesses;
  if (workers !== undefined && workers !== "auto" && !(Number.isInteger(workers) && workers >= 1))
    add("runtime.workerProcesses", `expected auto or a positive integer, got ${value(workers)}`);
  for (const problem of validateUpstreamTuning({ timeouts: input.timeouts, keepalive: input.keepalive }))
    add(problem.setting, problem.message);
  return problems;
}

/**
 * The complete nginx.conf for the proxy container (and for `npm run check -- --emit`).
 * Throws, listing every problem, when validateNginxConfInput finds any.
 */
export function renderNginxConf(input: NginxConfInput): string {
  const problems = validateNginxConfInput(input);
  if (problems.length > 0) throw new Error(`invalid nginx config input: ${problems.join("; ")}`);

  const settings: ProxySettings = { ...DEFAULT_PROXY_SETTINGS, ...definedOnly(input.settings ?? {}) };
  const version = input.nginxVersion ?? IMAGE_NGINX_VERSION;
  const mode = upstreamMode(nginxVersionAtLeast(version, UPSTREAM_RESOLVE_SINCE));
  const certDir = input.certDir ?? CERT_DIR;
  const webroot = input.acmeWebroot ?? ACME_WEBROOT;
  const healthPath = input.healthPath ?? "/health";
  const runtime = input.runtime ?? {};
  const user = runtime.user === undefined ? "nginx" : runtime.user;
  const address = input.listen?.address;
  const httpPort = input.listen?.httpPort ?? DEFAULT_HTTP_PORT;
  const httpsPort = input.listen?.httpsPort ?? DEFAULT_HTTPS_PORT;
  const timeouts: UpstreamTimeouts = { ...DEFAULT_UPSTREAM_TIMEOUTS, ...definedOnly(input.timeouts ?? {}) };
  const keepalive: UpstreamKeepalive = { ...DEFAULT_UPSTREAM_KEEPALIVE, ...definedOnly(input.keepalive ?? {}) };
  const monitoringHost = input.hosts.monitoring;
  const hosts = [input.hosts.api, ...(input.hosts.app ? [input.hosts.app] : []), ...(monitoringHost ? [monitoringHost] : [])];
  const services: Record<string, UpstreamService> = { ...input.services, [API_SERVICE]: input.upstream };
  const loadBalancer = input.loadBalancer;
  const forwardedProto: ForwardedProto = loadBalancer ? "https" : "$scheme";

  const listenOn = (port: number) => (address ? `${address}:${port}` : `${port}`);
  const redirectTarget = httpsPort === 443 ? "https://$host$request_uri" : `https://$host:${httpsPort}$request_uri`;
  const tlsHead = (host: string) =>
    tlsServerHead(
      host,
      httpsListen(listenOn(httpsPort), version),
      input.certificates?.[host] ?? certificatePathsFor(host, certDir),
      input.ocspStapling === true,
    );
  // Behind the load balancer every host is plain HTTP on the HTTP port: it holds the certificates.
  const serverHead = (host: string) => (loadBalancer ? [`listen ${listenOn(httpPort)};`, `server_name ${host};`] : tlsHead(host));
  const securityHeaders = (csp: string | undefined) => headersFor(input.hsts, csp);

  // hosts.api and hosts.app: each route's locations, and the health path straight to the api
  // replicas on a host that routes to them.
  const webrootLocation = () =>
    block("location ^~ /.well-known/acme-challenge/", [`root ${webroot};`, "default_type text/plain;", "try_files $uri =404;"]);
  const routedServer = (host: string, fallback: string) => {
    const routes = routesOfHost(input.routes ?? [], host, fallback);
    const used = [...new Set(routes.map((route) => route.service))];
    const serverHeaders = securityHeaders(input.contentSecurityPolicy);
    return block("server", [
      ...serverHead(host),
      "",
      ...(mode === "variable" ? used.map((service) => upstreamTarget(service, services[service])) : []),
      // add_header here is inherited by every location that sets none of its own.
      ...serverHeaders,
      "",
      ...(used.includes(API_SERVICE)
        ? [block(`location = ${healthPath}`, [...proxyToService(API_SERVICE, mode, false, forwardedProto), "access_log off;"]), ""]
        : []),
      // Behind a load balancer no port-80 server serves the webroot: the backup freshness file
      // the monitoring probes (hooks/schedule.ts BACKUP_PROBE) is served here instead.
      ...(loadBalancer && host === input.hosts.api ? [webrootLocation(), ""] : []),
      ...routes.flatMap((route, index) =>
        routeLocations(route, index, { mode, burst: settings.burst, securityHeaders: serverHeaders, timeouts, forwardedProto }),
      ),
    ]);
  };

  // Grafana, for hosts.monitoring: no health path (nothing probes Grafana through nginx), and
  // every location that reaches Grafana rate-limited, its login included.
  const monitoringServer = (host: string, grafana: { alias: string; port: number }) =>
    block("server", [
      ...serverHead(host),
      `client_max_body_size ${MONITORING_MAX_BODY_SIZE};`,
      "",
      monitoringTarget(grafana.alias, grafana.port),
      ...hideUpstreamSecurityHeaders(),
      ...securityHeaders(undefined),
      "",
      "# Grafana Live: the browser's WebSocket to Grafana.",
      block("location /api/live/", [rateLimited(settings.burst), ...proxyToMonitoring(forwardedProto), ...webSocketUpgrade()]),
      "",
      "# Grafana's own metrics are for Prometheus on the private network, not for the internet.",
      block("location = /metrics", ["return 404;"]),
      block("location ^~ /metrics/", ["return 404;"]),
      "",
      block("location /", [rateLimited(settings.burst), ...proxyToMonitoring(forwardedProto)]),
    ]);

  const appHostDefault = services[FRONTEND_SERVICE] ? FRONTEND_SERVICE : API_SERVICE;
  const routedServices = [
    ...new Set(
      [
        ...routesOfHost(input.routes ?? [], input.hosts.api, API_SERVICE),
        ...(input.hosts.app ? routesOfHost(input.routes ?? [], input.hosts.app, appHostDefault) : []),
      ]
        .map((route) => route.service)
        // The load balancer's health check reaches the api whatever the routes say.
        .concat(loadBalancer ? [API_SERVICE] : []),
    ),
  ].sort();

  // What listens in front of the hosts' servers: port 80 for ACME and redirects, and refusals of
  // unknown names on both ports; behind a load balancer, its health check and the container's.
  const edgeServers = loadBalancer
    ? [
        ...realClientAddress(),
        "",
        "# Requests for any other name are refused, but the load balancer's health check (it asks by the droplet's address).",
        block("server", [
          `listen ${listenOn(httpPort)} default_server;`,
          "server_name _;",
          ...(mode === "variable" ? [upstreamTarget(API_SERVICE, services[API_SERVICE])] : []),
          "",
          "# The api's health through nginx, 503 while the droplet is drained; never rate-limited nor logged.",
          block(`location = ${LOAD_BALANCER_HEALTH_PATH}`, [
            "access_log off;",
            `if (-f ${loadBalancer.drainFlag}) {`,
            "    return 503;",
            "}",
            `rewrite ^ ${healthPath} break;`,
            ...proxyToService(API_SERVICE, mode, false, forwardedProto),
          ]),
          block("location /", ["return 444;"]),
        ]),
        "# The container's healthcheck, answered by nginx itself on loopback inside the container.",
        block("server", [`listen 127.0.0.1:${input.listen?.probePort ?? NGINX_PROBE_PORT};`, "access_log off;", "return 200;"]),
      ]
    : [
        ...tlsSettings(),
        "",
        "# Port 80 only answers ACME HTTP-01 challenges and redirects everything else.",
        block("server", [
          `listen ${listenOn(httpPort)};`,
          `server_name ${hosts.join(" ")};`,
          webrootLocation(),
          block("location /", [`return 301 ${redirectTarget};`]),
        ]),
        "# Requests for any other name are closed without an answer.",
        block("server", [`listen ${listenOn(httpPort)} default_server;`, "server_name _;", "return 444;"]),
        block("server", [...httpsListen(listenOn(httpsPort), version, " default_server"), "server_name _;", "ssl_reject_handshake on;"]),
      ];

  const http = block("http", [
    `include ${runtime.mimeTypes ?? "/etc/nginx/mime.types"};`,
    "default_type application/octet-stream;",
    // nginx's combined format plus the host and $request_time (ACCESS_LOG_FORMAT says who reads which field).
    `log_format ${ACCESS_LOG_FORMAT_NAME} '${ACCESS_LOG_FORMAT}';`,
    `access_log ${runtime.accessLog ?? "/var/log/nginx/access.log"} ${ACCESS_LOG_FORMAT_NAME};`,
    "sendfile on;",
    "server_tokens off;",
    "keepalive_timeout 65s;",
    `client_max_body_size ${settings.maxBodySize};`,
    ...(runtime.tempDir
      ? ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `${kind}_temp_path ${runtime.tempDir}/${kind};`)
      : []),
    "",
    ...resolverSettings(input.resolver ?? DOCKER_DNS_RESOLVER, input.resolverValidSeconds ?? RESOLVER_VALID_SECONDS),
    ...(mode === "group"
      ? [
          `# Each service's alias, re-resolved like the replicas' addresses${keepalive.connections > 0 ? ", with idle connections kept" : ""}.`,
          ...routedServices.flatMap((service) => upstreamGroup(service, services[service], keepalive)),
        ]
      : []),
    "",
    ...rateLimitZone(settings.rateLimit),
    "",
    ...retrySettings(timeouts),
    "",
    ...(monitoringHost ? ["# Grafana Live's WebSocket on the monitoring host.", ...connectionUpgradeMap(), ""] : []),
    ...edgeServers,
    "",
    routedServer(input.hosts.api, API_SERVICE),
    ...(input.hosts.app ? ["", routedServer(input.hosts.app, appHostDefault)] : []),
    ...(monitoringHost && input.monitoringUpstream ? ["", monitoringServer(monitoringHost, input.monitoringUpstream)] : []),
  ]);

  return [
    "# nginx.conf rendered by dropstack (components/proxy/nginx-conf.ts) for nginx " + version + ".",
    "# Edits in the container are overwritten by the next `pulumi up`.",
    ...(user ? [`user ${user};`] : []),
    `worker_processes ${runtime.workerProcesses ?? "auto"};`,
    `pid ${runtime.pidFile ?? "/var/run/nginx.pid"};`,
    `error_log ${runtime.errorLog ?? "/var/log/nginx/error.log"} warn;`,
    "",
    block("events", ["worker_connections 1024;"]),
    "",
    http,
    "",
  ].join("\n");
}

/**
 * Load-balancer mode's http-block lines that take the client's address from X-Forwarded-For,
 * so rate limiting, the access log and the services see the client, not the load balancer.
 */
function realClientAddress(): string[] {
  return [
    "# The load balancer appends the address it got the request from to X-Forwarded-For; with",
    "# real_ip_recursive off nginx takes that last address, never one the client wrote before it.",
    "# Trusting every sender is safe: the droplet's firewall admits port 80 from the load balancer",
    "# only, so nothing outside the droplet reaches nginx without passing through it.",
    "set_real_ip_from 0.0.0.0/0;",
    "set_real_ip_from ::/0;",
    "real_ip_header X-Forwarded-For;",
    "real_ip_recursive off;",
  ];
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
