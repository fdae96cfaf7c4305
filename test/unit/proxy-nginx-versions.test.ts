// The claims of components/proxy/NGINX-VERSIONS.md as a test: every directive and listen
// parameter the renderer emits, and every parameter of an upstream group's server, for Debian's
// nginx and for the official image, is one that exists in that version and is not deprecated
// there. The table is nginx's own documentation ("This directive appeared in version …") and
// CHANGES; a directive the renderer starts to use has to be added here with its version, or
// this test fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEBIAN_NGINX_VERSION,
  IMAGE_NGINX_VERSION,
  MIN_NGINX_VERSION,
  nginxDirectives,
  nginxVersionAtLeast,
  renderNginxConf,
  type NginxConfInput,
} from "../../components/proxy/render";

interface Availability {
  /** First version that has it (nginx docs; "0.0.0" for directives older than any supported release). */
  since: string;
  /** First version that warns about it. */
  deprecatedSince?: string;
}

const ANCIENT: Availability = { since: "0.0.0" };

const DIRECTIVES: Record<string, Availability> = {
  user: ANCIENT,
  worker_processes: ANCIENT,
  pid: ANCIENT,
  error_log: ANCIENT,
  events: ANCIENT,
  worker_connections: ANCIENT,
  http: ANCIENT,
  include: ANCIENT,
  default_type: ANCIENT,
  access_log: ANCIENT,
  log_format: { since: "1.3.2" }, // the dropstack format logs $status, a variable since 1.3.2
  sendfile: ANCIENT,
  server_tokens: ANCIENT,
  keepalive_timeout: ANCIENT,
  client_max_body_size: ANCIENT,
  client_body_temp_path: ANCIENT,
  proxy_temp_path: ANCIENT,
  fastcgi_temp_path: ANCIENT,
  uwsgi_temp_path: ANCIENT,
  scgi_temp_path: ANCIENT,
  resolver: { since: "1.5.8" }, // ipv6=off parameter; valid= since 1.1.9, a port since 1.3.1
  resolver_timeout: ANCIENT,
  limit_req_zone: ANCIENT,
  limit_req: ANCIENT,
  limit_req_status: { since: "1.3.15" },
  proxy_next_upstream: ANCIENT,
  proxy_next_upstream_tries: { since: "1.7.5" },
  proxy_next_upstream_timeout: { since: "1.7.5" },
  proxy_connect_timeout: ANCIENT,
  proxy_send_timeout: ANCIENT,
  proxy_read_timeout: ANCIENT,
  proxy_pass: ANCIENT,
  proxy_http_version: { since: "1.1.4" },
  proxy_set_header: ANCIENT,
  proxy_hide_header: ANCIENT,
  proxy_intercept_errors: ANCIENT,
  error_page: ANCIENT, // `=` with a named location as the target: 0.6.x
  if: ANCIENT,
  rewrite: ANCIENT,
  upstream: ANCIENT,
  map: ANCIENT, // in the http block; its entries are not directives (see problemsFor)
  ssl_protocols: { since: "1.13.0" }, // the TLSv1.3 parameter
  ssl_ciphers: ANCIENT,
  ssl_prefer_server_ciphers: ANCIENT,
  ssl_ecdh_curve: { since: "1.11.0" }, // a list of curves
  ssl_session_cache: ANCIENT,
  ssl_session_timeout: ANCIENT,
  ssl_session_tickets: { since: "1.5.9" },
  ssl_certificate: ANCIENT,
  ssl_certificate_key: ANCIENT,
  ssl_stapling: { since: "1.3.7" },
  ssl_stapling_verify: { since: "1.3.7" },
  ssl_trusted_certificate: { since: "1.3.7" },
  ssl_reject_handshake: { since: "1.19.4" },
  server: ANCIENT,
  server_name: ANCIENT,
  listen: ANCIENT,
  location: ANCIENT,
  root: ANCIENT,
  index: ANCIENT,
  try_files: ANCIENT,
  return: ANCIENT,
  set: ANCIENT,
  add_header: { since: "1.7.5" }, // the `always` parameter
  gzip: ANCIENT,
  gzip_vary: ANCIENT,
  gzip_types: ANCIENT,
  gzip_proxied: ANCIENT,
  http2: { since: "1.25.1" },
  // Behind a load balancer (NginxConfInput.loadBalancer): the realip module, IPv6 ranges since 0.8.22.
  set_real_ip_from: ANCIENT,
  real_ip_header: ANCIENT,
  real_ip_recursive: { since: "1.3.0" },
};

// Inside an upstream block the names mean other directives (keepalive_timeout there is the
// upstream module's, 1.15.3, not the http one's) or exist only there.
const UPSTREAM_DIRECTIVES: Record<string, Availability> = {
  zone: { since: "1.9.0" },
  server: ANCIENT,
  keepalive: { since: "1.1.4" },
  keepalive_timeout: { since: "1.15.3" },
};

const UPSTREAM_SERVER_PARAMETERS: Record<string, Availability> = {
  // Open-source nginx re-resolves a server's name from 1.27.3 (NGINX Plus had it before).
  resolve: { since: "1.27.3" },
  "max_fails=0": ANCIENT,
};

const LISTEN_PARAMETERS: Record<string, Availability> = {
  ssl: ANCIENT,
  default_server: ANCIENT,
  http2: { since: "1.9.5", deprecatedSince: "1.25.1" },
};

const input: NginxConfInput = {
  hosts: { api: "api.example.com", app: "app.example.com" },
  upstream: { alias: "app", port: 8000 },
  services: { frontend: { alias: "frontend", port: 8080 }, "worker:reports": { alias: "reports", port: 9000 } },
  routes: [
    { host: "app.example.com", path: "/api", service: "api", stripPrefix: true },
    { host: "api.example.com", path: "/reports", service: "worker:reports" },
  ],
  hsts: true,
  contentSecurityPolicy: "default-src 'self'",
  ocspStapling: true,
  runtime: { tempDir: "/var/cache/nginx" },
};

function problemsFor(version: string, conf: string): string[] {
  const problems: string[] = [];
  const check = (what: string, availability: Availability | undefined) => {
    if (!availability) problems.push(`${what}: not in the table, add it with the version it appeared in`);
    else if (!nginxVersionAtLeast(version, availability.since)) problems.push(`${what}: needs nginx ${availability.since}`);
    else if (availability.deprecatedSince && nginxVersionAtLeast(version, availability.deprecatedSince)) {
      problems.push(`${what}: deprecated since nginx ${availability.deprecatedSince}`);
    }
  };
  for (const directive of nginxDirectives(conf)) {
    // A map block holds value pairs (`default upgrade;`, `'' close;`), not directives.
    if (directive.context.some((context) => context.startsWith("map "))) continue;
    if (directive.context.at(-1)?.startsWith("upstream ")) {
      check(`upstream ${directive.name}`, UPSTREAM_DIRECTIVES[directive.name]);
      if (directive.name === "server") {
        for (const parameter of directive.args.slice(1)) check(`upstream server ${parameter}`, UPSTREAM_SERVER_PARAMETERS[parameter]);
      }
      continue;
    }
    check(directive.name, DIRECTIVES[directive.name]);
    if (directive.name === "listen") {
      for (const parameter of directive.args.slice(1)) check(`listen ${parameter}`, LISTEN_PARAMETERS[parameter]);
    }
  }
  return [...new Set(problems)];
}

for (const version of [
  MIN_NGINX_VERSION,
  DEBIAN_NGINX_VERSION,
  "1.25.0",
  "1.25.1",
  "1.26.3",
  "1.27.2",
  "1.27.3",
  "1.27.5",
  IMAGE_NGINX_VERSION,
]) {
  test(`every directive rendered for nginx ${version} exists there and is not deprecated`, () => {
    for (const variant of [
      input,
      { ...input, hsts: false, hosts: { api: "api.example.com" }, services: undefined, routes: undefined, ocspStapling: false },
      { ...input, hosts: { ...input.hosts, monitoring: "grafana.example.com" }, monitoringUpstream: { alias: "grafana", port: 3000 } },
      {
        ...input,
        hosts: { ...input.hosts, monitoring: "grafana.example.com" },
        monitoringUpstream: { alias: "10.110.0.7", port: 3000 },
        loadBalancer: { drainFlag: "/etc/dropstack/drain/draining" },
      },
    ]) {
      assert.deepEqual(problemsFor(version, renderNginxConf({ ...variant, nginxVersion: version })), []);
    }
  });
}

test("the check catches a directive used before its version", () => {
  const conf = renderNginxConf({ ...input, nginxVersion: IMAGE_NGINX_VERSION });
  assert.deepEqual(problemsFor("1.22.1", conf), ["upstream server resolve: needs nginx 1.27.3", "http2: needs nginx 1.25.1"]);
  assert.deepEqual(problemsFor("1.27.2", conf), ["upstream server resolve: needs nginx 1.27.3"]);
  const old = renderNginxConf({ ...input, nginxVersion: "1.22.1" });
  assert.deepEqual(problemsFor(IMAGE_NGINX_VERSION, old), ["listen http2: deprecated since nginx 1.25.1"]);
});
