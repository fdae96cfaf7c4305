// The edge of a dropstack droplet (README "What one `pulumi up` does": "Proxy: nginx (TLS, certbot renewals) in front
// of the app"), as pure functions: the nginx.conf, the two container scripts that obtain,
// install and pick up certificates, and the small parsers policies use on the rendered text.
// test/system/nginx*.test.ts feeds all of it to a real nginx, openssl and shellcheck;
// NGINX-VERSIONS.md beside this file says why each directive is valid on every nginx we target.
//
// How the pieces fit on the droplet (the Proxy component wires them):
// - nginx container: runs renderNginxEntrypoint() with renderNginxConf() at NGINX_CONF_PATH.
//   It waits for a certificate per host in CERT_DIR, runs nginx, and reloads nginx whenever
//   those files or the config change.
// - certbot container (certbot/certbot image, which ships openssl): runs renderCertbotScript().
//   It writes a self-signed placeholder for each host that has no certificate yet (so nginx
//   can start and answer the HTTP-01 challenge), then obtains and renews the real one through
//   the shared ACME_WEBROOT and copies it into CERT_DIR.
// - Volumes shared by both: CERT_DIR and ACME_WEBROOT; certbot alone keeps LETSENCRYPT_DIR.
//
// Why nginx reaches the app through a variable in proxy_pass and Docker's DNS instead of an
// `upstream` block: the app replicas are containers that come and go under one network alias
// during a rollout. With a variable, nginx re-resolves the alias every `valid` seconds and
// spreads requests over all the addresses it gets; a replica that refuses the connection
// (draining, or not listening yet) is skipped by proxy_next_upstream. An upstream block
// would resolve once at startup (nginx < 1.27.3 has no `resolve` parameter), so the same
// rendering could not run on Debian's nginx 1.22 and on the official image.
import { isIP } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isHostname } from "../config/schema";
import { EMAIL } from "../common/patterns";
import { shellQuote } from "../common/shell";

/** nginx in Debian 12, which the system tests run. */
export const DEBIAN_NGINX_VERSION = "1.22.1";
/** nginx of the official image the Proxy component runs (`nginx:1.28.0-alpine`, pinned by digest there). */
export const IMAGE_NGINX_VERSION = "1.28.0";
/** The oldest nginx the rendering is checked against (NGINX-VERSIONS.md). */
export const MIN_NGINX_VERSION = "1.22.0";
/** From this version HTTP/2 is the `http2 on;` directive; `listen … http2` is deprecated and warns. */
export const HTTP2_DIRECTIVE_SINCE = "1.25.1";

/** Where Docker's embedded DNS answers inside containers on a user-defined network. */
export const DOCKER_DNS_RESOLVER = "127.0.0.11";
/** How long nginx trusts an answer for the app alias before asking Docker's DNS again. */
export const RESOLVER_VALID_SECONDS = 5;
/**
 * The rollout contract this config relies on: a new app replica must have been in the
 * network alias this long before the old one gets SIGTERM. nginx keeps a resolved answer
 * for `valid` seconds, counted in whole seconds (so up to one more); until every worker has
 * re-resolved, the old replica may be the only address it knows, and a draining one refuses.
 * A Docker healthcheck whose first probe comes later than this (interval, and start_interval
 * if set, at least this long) gives it for free with `wait: true` + create-before-replace.
 */
export const MIN_REPLICA_OVERLAP_SECONDS = RESOLVER_VALID_SECONDS + 2;
/**
 * Where nginx reads its config in the container. Its own directory, so the droplet can
 * bind-mount a directory there: a single-file bind mount keeps showing the old file once
 * the host file is replaced by a rename, and the entrypoint would never see the change.
 */
export const NGINX_CONF_PATH = "/etc/dropstack/nginx/nginx.conf";
/** Certificates nginx serves: CERT_DIR/<host>/fullchain.pem and privkey.pem. Shared volume. */
export const CERT_DIR = "/etc/dropstack/certs";
/** HTTP-01 challenge files: certbot writes, nginx serves. Shared volume. */
export const ACME_WEBROOT = "/var/www/acme";
/** certbot's own state (account, lineages, renewal config). certbot container only. */
export const LETSENCRYPT_DIR = "/etc/letsencrypt";
/** A year, as browsers and the HSTS preload list expect. */
export const HSTS_MAX_AGE_SECONDS = 31536000;

/**
 * TLS 1.2 ciphers of Mozilla's "intermediate" profile, ECDHE only: the profile's DHE suites
 * need an `ssl_dhparam` file, without which nginx never picks them, and every client the
 * profile supports speaks ECDHE. TLS 1.3 suites are OpenSSL's defaults, which are the profile's.
 */
export const INTERMEDIATE_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
] as const;

import { DEFAULT_PROXY_SETTINGS, type ProxySettings, validateProxySettings } from "./settings";

export { DEFAULT_PROXY_SETTINGS, MAX_BODY_BYTES, MAX_RATE, validateProxySettings } from "./settings";
export type { ProxySettings, ProxySettingsProblem } from "./settings";

export interface ProxyHosts {
  /** FQDN of the API, proxied to the app. */
  api: string;
  /** FQDN of the frontend: static files when `staticRoot` is set, else proxied to the app too. */
  app?: string;
}

export interface CertificatePaths {
  /** PEM chain, leaf first (certbot's fullchain.pem). */
  certificate: string;
  key: string;
}

/** Where the certbot script installs (and nginx reads) the certificate of `host`. */
export function certificatePathsFor(host: string, certDir: string = CERT_DIR): CertificatePaths {
  return { certificate: `${certDir}/${host}/fullchain.pem`, key: `${certDir}/${host}/privkey.pem` };
}

export interface NginxConfInput {
  hosts: ProxyHosts;
  /** The app containers: their shared Docker network alias and the port the app listens on. */
  upstream: { alias: string; port: number };
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
  /** Directory of the built frontend (index.html + assets) served for `hosts.app`. */
  staticRoot?: string;
  /** Path exempt from rate limiting and access logs (the container healthcheck path). Default `/health`. */
  healthPath?: string;
  /** Content-Security-Policy per host; none is sent for a host without one. */
  contentSecurityPolicy?: { api?: string; app?: string };
  /**
   * OCSP stapling. Off by default: Let's Encrypt stopped running OCSP in 2025, so its
   * certificates carry no responder URL. nginx skips stapling, with a warning, for a
   * certificate without one (such as the self-signed placeholder) and keeps serving.
   */
  ocspStapling?: boolean;
  /** Version of the nginx that reads the file, e.g. from nginxVersionFromImage(). Default IMAGE_NGINX_VERSION. */
  nginxVersion?: string;
  /** Where to listen. Default all IPv4 addresses, ports 80 and 443. Tests use loopback and high ports. */
  listen?: { address?: string; httpPort?: number; httpsPort?: number };
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
  /** Upstream timeouts in seconds. Defaults: connect 5, send 60, read 60. */
  timeouts?: { connect?: number; send?: number; read?: number };
}

/** [major, minor, patch] of "1.28.0" or "1.28"; undefined when it is not a version. */
export function parseNginxVersion(version: string): [number, number, number] | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(version);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/** True when nginx `version` is `since` or newer. Throws on malformed versions. */
export function nginxVersionAtLeast(version: string, since: string): boolean {
  const a = parseNginxVersion(version);
  const b = parseNginxVersion(since);
  if (!a || !b) throw new Error(`expected nginx versions like 1.28.0, got ${JSON.stringify(version)} and ${JSON.stringify(since)}`);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

/**
 * The nginx version in an official image reference: `nginx:1.28.0-alpine@sha256:…` → "1.28.0",
 * `nginx:1.28-alpine` → "1.28". Undefined for tags without a version (`nginx:alpine`).
 */
export function nginxVersionFromImage(image: string): string | undefined {
  const withoutDigest = image.split("@")[0];
  const colon = withoutDigest.lastIndexOf(":");
  if (colon < 0 || withoutDigest.lastIndexOf("/") > colon) return undefined;
  const match = /^(\d+\.\d+(?:\.\d+)?)(?:-|$)/.exec(withoutDigest.slice(colon + 1));
  return match?.[1];
}

const ALIAS = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,252})$/;
// Absolute paths nginx reads verbatim: no whitespace, quotes, `;`, braces or `$` (variables).
const CONF_PATH = /^\/[A-Za-z0-9._@+/-]*$/;
// Header values go inside double quotes: printable ASCII without `"`, `\` or `$`.
const HEADER_VALUE = /^[ !#%-[\]-~]+$/;
const URL_PATH = /^\/[A-Za-z0-9._~/-]*$/;

function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
}

function isResolverAddress(value: string): boolean {
  if (isIP(value) !== 0) return true;
  const bracketed = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(value);
  if (bracketed) return isIP(bracketed[1]) === 6 && isPort(Number(bracketed[2]));
  const withPort = /^([0-9.]+):(\d+)$/.exec(value);
  return withPort !== null && isIP(withPort[1]) === 4 && isPort(Number(withPort[2]));
}

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
  if (!ALIAS.test(input.upstream?.alias ?? "")) add("upstream.alias", `expected a Docker network alias like app, got ${value(input.upstream?.alias)}`);
  if (!isPort(input.upstream?.port)) add("upstream.port", `expected a port from 1 to 65535, got ${value(input.upstream?.port)}`);
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
    ["staticRoot", input.staticRoot],
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
    if (path !== undefined && !CONF_PATH.test(path)) add(field, `expected an absolute path of letters, digits and ._@+-/, got ${value(path)}`);
  }
  if (input.staticRoot !== undefined && input.hosts?.app === undefined) add("staticRoot", "needs hosts.app, the host that serves it");
  if (input.healthPath !== undefined && !URL_PATH.test(input.healthPath)) add("healthPath", `expected a URL path like /health, got ${value(input.healthPath)}`);
  for (const [host, csp] of Object.entries(input.contentSecurityPolicy ?? {})) {
    if (csp !== undefined && !HEADER_VALUE.test(csp)) add(`contentSecurityPolicy.${host}`, `expected a header value without quotes, backslashes or $, got ${value(csp)}`);
  }
  const version = input.nginxVersion ?? IMAGE_NGINX_VERSION;
  if (!parseNginxVersion(version)) add("nginxVersion", `expected a version like 1.28.0, got ${value(version)}`);
  else if (!nginxVersionAtLeast(version, MIN_NGINX_VERSION)) add("nginxVersion", `nginx ${version} is older than ${MIN_NGINX_VERSION}, the oldest checked`);
  const listen = input.listen ?? {};
  if (listen.address !== undefined && isIP(listen.address) !== 4) add("listen.address", `expected an IPv4 address, got ${value(listen.address)}`);
  for (const key of ["httpPort", "httpsPort"] as const) {
    if (listen[key] !== undefined && !isPort(listen[key])) add(`listen.${key}`, `expected a port from 1 to 65535, got ${value(listen[key])}`);
  }
  if (listen.httpPort !== undefined && listen.httpPort === listen.httpsPort) add("listen.httpsPort", "must differ from listen.httpPort");
  const user = input.runtime?.user;
  if (user !== undefined && user !== null && !/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) add("runtime.user", `expected a user name, got ${value(user)}`);
  const workers = input.runtime?.workerProcesses;
  if (workers !== undefined && workers !== "auto" && !(Number.isInteger(workers) && workers >= 1)) add("runtime.workerProcesses", `expected auto or a positive integer, got ${value(workers)}`);
  for (const [key, seconds] of Object.entries(input.timeouts ?? {})) {
    if (seconds !== undefined && !(Number.isInteger(seconds) && seconds >= 1)) add(`timeouts.${key}`, `expected a whole number of seconds, at least 1, got ${value(seconds)}`);
  }
  return problems;
}

const RATE_ZONE = "dropstack_per_ip";
const UPSTREAM_VARIABLE = "$dropstack_upstream";

/**
 * The complete nginx.conf for the proxy container (and for `npm run check -- --emit`).
 * Throws, listing every problem, when validateNginxConfInput finds any.
 */
export function renderNginxConf(input: NginxConfInput): string {
  const problems = validateNginxConfInput(input);
  if (problems.length > 0) throw new Error(`invalid nginx config input: ${problems.join("; ")}`);

  const settings: ProxySettings = { ...DEFAULT_PROXY_SETTINGS, ...definedOnly(input.settings ?? {}) };
  const version = input.nginxVersion ?? IMAGE_NGINX_VERSION;
  const http2Directive = nginxVersionAtLeast(version, HTTP2_DIRECTIVE_SINCE);
  const certDir = input.certDir ?? CERT_DIR;
  const webroot = input.acmeWebroot ?? ACME_WEBROOT;
  const healthPath = input.healthPath ?? "/health";
  const resolver = input.resolver ?? DOCKER_DNS_RESOLVER;
  const valid = input.resolverValidSeconds ?? RESOLVER_VALID_SECONDS;
  const runtime = input.runtime ?? {};
  const user = runtime.user === undefined ? "nginx" : runtime.user;
  const address = input.listen?.address;
  const httpPort = input.listen?.httpPort ?? 80;
  const httpsPort = input.listen?.httpsPort ?? 443;
  const timeouts = { connect: 5, send: 60, read: 60, ...definedOnly(input.timeouts ?? {}) };
  const hosts = [input.hosts.api, ...(input.hosts.app ? [input.hosts.app] : [])];
  const certificateOf = (host: string) => input.certificates?.[host] ?? certificatePathsFor(host, certDir);

  const listenOn = (port: number) => (address ? `${address}:${port}` : `${port}`);
  const httpsListen = (extra = "") => [
    `listen ${listenOn(httpsPort)} ssl${http2Directive ? "" : " http2"}${extra};`,
    ...(http2Directive ? ["http2 on;"] : []),
  ];
  const redirectTarget = httpsPort === 443 ? "https://$host$request_uri" : `https://$host:${httpsPort}$request_uri`;

  const securityHeaders = (csp: string | undefined) => [
    ...(input.hsts ? [`add_header Strict-Transport-Security "max-age=${HSTS_MAX_AGE_SECONDS}; includeSubDomains" always;`] : []),
    'add_header X-Frame-Options "DENY" always;',
    'add_header X-Content-Type-Options "nosniff" always;',
    // "0", not the once-common "1; mode=block": browsers removed the XSS auditor, and in the ones
    // that kept it, block mode could be abused to leak page content (OWASP's advice is 0).
    'add_header X-XSS-Protection "0" always;',
    'add_header Referrer-Policy "strict-origin-when-cross-origin" always;',
    ...(csp ? [`add_header Content-Security-Policy "${csp}" always;`] : []),
  ];

  const tlsServerHead = (host: string) => {
    const { certificate, key } = certificateOf(host);
    return [
      ...httpsListen(),
      `server_name ${host};`,
      `ssl_certificate ${certificate};`,
      `ssl_certificate_key ${key};`,
      ...(input.ocspStapling ? ["ssl_stapling on;", "ssl_stapling_verify on;", `ssl_trusted_certificate ${certificate};`] : []),
    ];
  };

  const proxyToApp = [
    `proxy_pass http://${UPSTREAM_VARIABLE};`,
    "proxy_http_version 1.1;",
    "proxy_set_header Host $host;",
    "proxy_set_header X-Real-IP $remote_addr;",
    // nginx is the first hop, so a client-sent X-Forwarded-For is dropped, not extended:
    // the app can take the header as the client address without being spoofed.
    "proxy_set_header X-Forwarded-For $remote_addr;",
    "proxy_set_header X-Forwarded-Proto $scheme;",
    "proxy_set_header X-Forwarded-Host $host;",
  ];

  const proxiedServer = (host: string, csp: string | undefined) =>
    block("server", [
      ...tlsServerHead(host),
      "",
      `set ${UPSTREAM_VARIABLE} ${input.upstream.alias}:${input.upstream.port};`,
      // add_header here is inherited by both locations because neither sets its own.
      ...securityHeaders(csp),
      "",
      block(`location = ${healthPath}`, [...proxyToApp, "access_log off;"]),
      "",
      block("location /", [`limit_req zone=${RATE_ZONE} burst=${settings.burst} nodelay;`, ...proxyToApp]),
    ]);

  // A location with its own add_header drops every add_header of the server, so each
  // location here repeats the security headers next to its Cache-Control.
  const staticLocation = (match: string, cacheControl: string, tryFiles: string) =>
    block(`location ${match}`, [`try_files ${tryFiles};`, ...securityHeaders(input.contentSecurityPolicy?.app), `add_header Cache-Control "${cacheControl}" always;`]);
  const immutable = "public, max-age=31536000, immutable";
  const staticServer = (host: string, root: string) =>
    block("server", [
      ...tlsServerHead(host),
      `root ${root};`,
      "index index.html;",
      "gzip on;",
      "gzip_vary on;",
      "gzip_types text/css application/javascript application/json image/svg+xml;",
      "",
      "# index.html names the current asset files, so browsers must revalidate it.",
      staticLocation("= /index.html", "no-cache", "$uri =404"),
      "# Content-hashed files never change: /assets/ (Vite) and name.<hex hash>.ext (webpack).",
      "# A missing one is a 404, never index.html, or the HTML would be cached as the asset.",
      staticLocation("^~ /assets/", immutable, "$uri =404"),
      staticLocation('~ "\\.[0-9a-f]{8,}\\.[A-Za-z0-9]+$"', immutable, "$uri =404"),
      "# Anything else that is not a file is a client-side route of the single-page app.",
      staticLocation("/", "no-cache", "$uri $uri/ /index.html"),
    ]);

  const appServer = input.hosts.app
    ? input.staticRoot
      ? staticServer(input.hosts.app, input.staticRoot)
      : proxiedServer(input.hosts.app, input.contentSecurityPolicy?.app)
    : undefined;

  const http = block("http", [
    `include ${runtime.mimeTypes ?? "/etc/nginx/mime.types"};`,
    "default_type application/octet-stream;",
    `access_log ${runtime.accessLog ?? "/var/log/nginx/access.log"};`,
    "sendfile on;",
    "server_tokens off;",
    "keepalive_timeout 65s;",
    `client_max_body_size ${settings.maxBodySize};`,
    ...(runtime.tempDir
      ? ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `${kind}_temp_path ${runtime.tempDir}/${kind};`)
      : []),
    "",
    "# The app's alias is re-resolved every few seconds, so replicas that join or leave",
    "# during a rollout are picked up without a reload.",
    `resolver ${resolver} valid=${valid}s ipv6=off;`,
    "resolver_timeout 5s;",
    "",
    `limit_req_zone $binary_remote_addr zone=${RATE_ZONE}:10m rate=${settings.rateLimit}r/s;`,
    "limit_req_status 429;",
    "",
    "# A replica that refuses or drops the connection is skipped and the request goes to the",
    "# next address. nginx never resends a POST/PATCH/LOCK once the app may have read it.",
    "proxy_next_upstream error timeout http_502 http_503 http_504;",
    "proxy_next_upstream_tries 3;",
    "proxy_next_upstream_timeout 10s;",
    `proxy_connect_timeout ${timeouts.connect}s;`,
    `proxy_send_timeout ${timeouts.send}s;`,
    `proxy_read_timeout ${timeouts.read}s;`,
    "",
    "# Mozilla intermediate TLS.",
    "ssl_protocols TLSv1.2 TLSv1.3;",
    `ssl_ciphers ${INTERMEDIATE_CIPHERS.join(":")};`,
    "ssl_prefer_server_ciphers off;",
    "ssl_ecdh_curve X25519:prime256v1:secp384r1;",
    "ssl_session_cache shared:dropstack_tls:10m;",
    "ssl_session_timeout 1d;",
    "ssl_session_tickets off;",
    "",
    "# Port 80 only answers ACME HTTP-01 challenges and redirects everything else.",
    block("server", [
      `listen ${listenOn(httpPort)};`,
      `server_name ${hosts.join(" ")};`,
      block("location ^~ /.well-known/acme-challenge/", [`root ${webroot};`, "default_type text/plain;", "try_files $uri =404;"]),
      block("location /", [`return 301 ${redirectTarget};`]),
    ]),
    "# Requests for any other name are closed without an answer.",
    block("server", [`listen ${listenOn(httpPort)} default_server;`, "server_name _;", "return 444;"]),
    block("server", [...httpsListen(" default_server"), "server_name _;", "ssl_reject_handshake on;"]),
    "",
    proxiedServer(input.hosts.api, input.contentSecurityPolicy?.api),
    ...(appServer ? ["", appServer] : []),
  ]);

  return [
    "# nginx.conf rendered by dropstack (components/proxy/render.ts) for nginx " + version + ".",
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

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** `name { … }` with the body indented; blank body lines stay blank. */
function block(name: string, body: string[]): string {
  const inner = body.flatMap((entry) => entry.split("\n")).map((line) => (line === "" ? "" : `    ${line}`));
  return [`${name} {`, ...inner, "}"].join("\n");
}

// ---------------------------------------------------------------------------------------
// Reading a rendered (or hand-written) nginx.conf back, for policies and tests.

export interface NginxDirective {
  name: string;
  args: string[];
  /** Enclosing blocks, outermost first, each as its name and arguments (`location = /health`). */
  context: string[];
  /** True for a block directive (`server`, `location …`), false for a simple one. */
  block: boolean;
}

/**
 * Every directive of an nginx config in file order, with comments dropped and quotes
 * removed from arguments. Follows nginx's own tokenizer closely enough for policies:
 * `#` starts a comment only where a new token could start, and quoted strings may
 * contain `;`, `{`, `}` and `#`. `include` is listed, not followed.
 */
export function nginxDirectives(conf: string): NginxDirective[] {
  const directives: NginxDirective[] = [];
  const context: string[] = [];
  let words: string[] = [];
  let i = 0;
  const flush = (isBlock: boolean) => {
    if (words.length > 0) directives.push({ name: words[0], args: words.slice(1), context: [...context], block: isBlock });
  };
  while (i < conf.length) {
    const ch = conf[i];
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "#") {
      while (i < conf.length && conf[i] !== "\n") i++;
    } else if (ch === ";") {
      flush(false);
      words = [];
      i++;
    } else if (ch === "{") {
      flush(true);
      context.push(words.join(" "));
      words = [];
      i++;
    } else if (ch === "}") {
      context.pop();
      words = [];
      i++;
    } else if (ch === '"' || ch === "'") {
      let word = "";
      i++;
      while (i < conf.length && conf[i] !== ch) {
        if (conf[i] === "\\" && i + 1 < conf.length) {
          word += conf[i + 1] === ch ? ch : conf[i] + conf[i + 1];
          i += 2;
        } else word += conf[i++];
      }
      i++;
      words.push(word);
    } else {
      let word = "";
      while (i < conf.length && !/[\s;{}]/.test(conf[i])) word += conf[i++];
      words.push(word);
    }
  }
  return directives;
}

/**
 * Every protocol named by an `ssl_protocols` directive anywhere in the config, in order,
 * without repeats (e.g. ["TLSv1.2", "TLSv1.3"]). Empty when no directive names any: nginx
 * then uses its compiled-in default, which before 1.23.4 includes TLSv1 and TLSv1.1.
 */
export function tlsProtocolsIn(conf: string): string[] {
  const protocols = nginxDirectives(conf)
    .filter((d) => d.name === "ssl_protocols")
    .flatMap((d) => d.args);
  return [...new Set(protocols)];
}

/** True when the protocol is older than TLS 1.2 (SSLv2, SSLv3, TLSv1, TLSv1.1). */
export function isBelowTls12(protocol: string): boolean {
  return ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1"].includes(protocol);
}

/**
 * True when the config sends Strict-Transport-Security with a max-age above zero
 * (`add_header Strict-Transport-Security "max-age=…"`) somewhere.
 */
export function hasHsts(conf: string): boolean {
  return nginxDirectives(conf).some((d) => {
    if (d.name !== "add_header" || d.args[0]?.toLowerCase() !== "strict-transport-security") return false;
    const maxAge = /max-age=(\d+)/i.exec(d.args[1] ?? "");
    return maxAge !== null && Number(maxAge[1]) > 0;
  });
}

// ---------------------------------------------------------------------------------------
// Container scripts. Each body lives beside this file as a POSIX sh script that reads its
// parameters from the environment (so it can be shellchecked and run on its own); rendering
// pins the parameters by assigning them at the top.


function renderScript(file: string, header: string[], parameters: [string, string | number][]): string {
  const body = readFileSync(join(__dirname, file), "utf8");
  const withoutShebang = body.startsWith("#!") ? body.slice(body.indexOf("\n") + 1) : body;
  return [
    "#!/bin/sh",
    ...header.map((line) => `# ${line}`),
    `# Rendered by dropstack from components/proxy/${file}; parameters pinned below.`,
    ...parameters.map(([name, value]) => `${name}=${shellQuote(String(value))}`),
    withoutShebang,
  ].join("\n");
}


function checkDomains(domains: string[], problems: string[]): void {
  if (!Array.isArray(domains) || domains.length === 0) problems.push("domains: expected at least one hostname");
  else {
    for (const domain of domains) if (!isHostname(domain)) problems.push(`domains: expected fully qualified hostnames, got ${JSON.stringify(domain)}`);
    if (new Set(domains).size !== domains.length) problems.push("domains: listed twice");
  }
}

function checkSeconds(field: string, value: number | undefined, problems: string[]): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) problems.push(`${field}: expected a whole number of seconds, at least 1, got ${JSON.stringify(value)}`);
}

function checkPath(field: string, value: string | undefined, problems: string[]): void {
  if (value !== undefined && !CONF_PATH.test(value)) problems.push(`${field}: expected an absolute path of letters, digits and ._@+-/, got ${JSON.stringify(value)}`);
}

export interface CertbotScriptInput {
  /** One certificate per domain (hosts.api, hosts.app). */
  domains: string[];
  /** ACME account email (`tls.email`); without it the account has no contact. */
  email?: string;
  /** Use Let's Encrypt's staging CA (`tls.staging`): untrusted certificates, generous rate limits. */
  staging: boolean;
  /** Default ACME_WEBROOT. */
  webroot?: string;
  /** Default CERT_DIR. */
  certDir?: string;
  /** certbot's --config-dir. Default LETSENCRYPT_DIR. */
  configDir?: string;
  /** Pause between renewal checks once every certificate is in place. Default 43200 (12 h). */
  renewIntervalSeconds?: number;
  /** First pause after a failed attempt; doubles up to an hour. Default 300. */
  retryIntervalSeconds?: number;
}

/**
 * The certbot container's entrypoint (`/bin/sh <file>` in the certbot/certbot image):
 * placeholder certificates first, then issuance and renewal for ever. `<file> once` makes a
 * single pass and `<file> placeholder` only writes missing placeholders.
 */
export function renderCertbotScript(input: CertbotScriptInput): string {
  const problems: string[] = [];
  checkDomains(input.domains, problems);
  if (input.email !== undefined && input.email !== "" && !EMAIL.test(input.email)) problems.push(`email: expected an email address, got ${JSON.stringify(input.email)}`);
  checkPath("webroot", input.webroot, problems);
  checkPath("certDir", input.certDir, problems);
  checkPath("configDir", input.configDir, problems);
  checkSeconds("renewIntervalSeconds", input.renewIntervalSeconds, problems);
  checkSeconds("retryIntervalSeconds", input.retryIntervalSeconds, problems);
  if (problems.length > 0) throw new Error(`invalid certbot script input: ${problems.join("; ")}`);
  return renderScript(
    "certbot.sh",
    [`Obtains and renews Let's Encrypt${input.staging ? " (staging CA)" : ""} certificates for ${input.domains.join(", ")}.`],
    [
      ["DOMAINS", input.domains.join(" ")],
      ["ACME_EMAIL", input.email ?? ""],
      ["ACME_STAGING", input.staging ? 1 : 0],
      ["WEBROOT", input.webroot ?? ACME_WEBROOT],
      ["CERT_DIR", input.certDir ?? CERT_DIR],
      ["CERTBOT_CONFIG_DIR", input.configDir ?? LETSENCRYPT_DIR],
      ["RENEW_INTERVAL", input.renewIntervalSeconds ?? 43200],
      ["RETRY_INTERVAL", input.retryIntervalSeconds ?? 300],
    ],
  );
}

/** True when a rendered certbot script asks Let's Encrypt's staging CA (tls.staging): untrusted certificates. */
export function certbotUsesStagingCa(script: string): boolean {
  return /^ACME_STAGING='1'$/m.test(script);
}

export interface NginxEntrypointInput {
  /** The hosts whose certificates nginx needs before it can start. */
  domains: string[];
  /** Default NGINX_CONF_PATH. */
  confPath?: string;
  /** Default CERT_DIR. */
  certDir?: string;
  /** How often to look for changed certificates or config. Default 60. */
  checkIntervalSeconds?: number;
  /** How long to wait for the first certificates before giving up (Docker restarts the container). Default 300. */
  certWaitSeconds?: number;
}

/**
 * The nginx container's entrypoint (`/bin/sh <file>` in the nginx image): waits for a
 * certificate per domain, runs nginx in the foreground, and reloads it (after `nginx -t`)
 * whenever a certificate file or the config file changes. SIGTERM or SIGQUIT stop nginx
 * gracefully.
 */
export function renderNginxEntrypoint(input: NginxEntrypointInput): string {
  const problems: string[] = [];
  checkDomains(input.domains, problems);
  checkPath("confPath", input.confPath, problems);
  checkPath("certDir", input.certDir, problems);
  checkSeconds("checkIntervalSeconds", input.checkIntervalSeconds, problems);
  checkSeconds("certWaitSeconds", input.certWaitSeconds, problems);
  if (problems.length > 0) throw new Error(`invalid nginx entrypoint input: ${problems.join("; ")}`);
  return renderScript(
    "nginx-entrypoint.sh",
    [`Runs nginx for ${input.domains.join(", ")} and reloads it when their certificates change.`],
    [
      ["DOMAINS", input.domains.join(" ")],
      ["NGINX_CONF", input.confPath ?? NGINX_CONF_PATH],
      ["CERT_DIR", input.certDir ?? CERT_DIR],
      ["CERT_CHECK_INTERVAL", input.checkIntervalSeconds ?? 60],
      ["CERT_WAIT", input.certWaitSeconds ?? 300],
    ],
  );
}
