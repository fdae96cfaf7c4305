// Grafana's monitoring host in the nginx.conf renderNginxConf writes: its HTTPS server block
// compared whole with one written out here, for variants of every input it reads (the other
// hosts, HSTS, nginx version, listen address and ports, burst, certificates, OCSP stapling,
// Grafana's alias and port, the app's body size); everything else in the file, which stays
// as it was without the host but for the port-80 names and the WebSocket map; and the
// domains the Proxy component certifies.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { proxyDomains } from "../../components/proxy";
import { hideUpstreamSecurityHeaders, renderNginxConf, securityHeaders, type NginxConfInput } from "../../components/proxy/render";

const MONITORING = "grafana.example.com";

interface Variant {
  name: string;
  input: NginxConfInput;
  /** What the monitoring server must read, written out independently of the renderer. */
  expect: {
    listen: string;
    http2Directive: boolean;
    certificate: string;
    key: string;
    ocsp: boolean;
    hsts: boolean;
    limitReq: string;
    target: string;
  };
}

const defaults = { listen: "443", http2Directive: true, ocsp: false, hsts: true, limitReq: "zone=dropstack_per_ip burst=20 nodelay" };
const certificateOf = (dir: string, host: string) => ({ certificate: `${dir}/${host}/fullchain.pem`, key: `${dir}/${host}/privkey.pem` });

const VARIANTS: Variant[] = [
  {
    name: "beside the API host alone, every default",
    input: {
      hosts: { api: "api.example.com", monitoring: MONITORING },
      upstream: { alias: "app", port: 8000 },
      monitoringUpstream: { alias: "grafana", port: 3000 },
      hsts: true,
    },
    expect: { ...defaults, ...certificateOf("/etc/dropstack/certs", MONITORING), target: "grafana:3000" },
  },
  {
    name: "beside a proxied app host, HSTS off, a burst of 0 and a small app body limit",
    input: {
      hosts: { api: "api.example.com", app: "app.example.com", monitoring: "monitoring.example.com" },
      upstream: { alias: "app", port: 8000 },
      monitoringUpstream: { alias: "acme-staging-grafana", port: 13000 },
      hsts: false,
      settings: { rateLimit: 2, burst: 0, maxBodySize: "1k" },
    },
    expect: {
      ...defaults,
      ...certificateOf("/etc/dropstack/certs", "monitoring.example.com"),
      hsts: false,
      limitReq: "zone=dropstack_per_ip",
      target: "acme-staging-grafana:13000",
    },
  },
  {
    name: "beside an app host with a proxied frontend, on nginx 1.22 with loopback ports, another certificate directory and OCSP stapling",
    input: {
      hosts: { api: "api.example.org", app: "www.example.org", monitoring: "dash.ops.example.org" },
      upstream: { alias: "app", port: 8000 },
      services: { frontend: { alias: "frontend", port: 8080 } },
      monitoringUpstream: { alias: "grafana", port: 3000 },
      hsts: true,
      certDir: "/srv/certs",
      ocspStapling: true,
      nginxVersion: "1.22.1",
      listen: { address: "127.0.0.1", httpPort: 8080, httpsPort: 8443 },
      settings: { burst: 7 },
    },
    expect: {
      ...defaults,
      ...certificateOf("/srv/certs", "dash.ops.example.org"),
      listen: "127.0.0.1:8443",
      http2Directive: false,
      ocsp: true,
      limitReq: "zone=dropstack_per_ip burst=7 nodelay",
      target: "grafana:3000",
    },
  },
  {
    name: "with a certificate of its own, on the newest nginx checked",
    input: {
      hosts: { api: "api.example.com", monitoring: MONITORING },
      upstream: { alias: "app", port: 8000 },
      monitoringUpstream: { alias: "grafana", port: 3000 },
      hsts: true,
      certificates: { [MONITORING]: { certificate: "/srv/tls/grafana.pem", key: "/srv/tls/grafana.key" } },
      nginxVersion: "1.29.0",
      listen: { httpsPort: 4443 },
    },
    expect: {
      ...defaults,
      certificate: "/srv/tls/grafana.pem",
      key: "/srv/tls/grafana.key",
      listen: "4443",
      target: "grafana:3000",
    },
  },
];

/** The monitoring server block, indented as inside `http { … }`. */
function expectedServer(host: string, e: Variant["expect"]): string {
  const proxied = [
    "proxy_pass http://$dropstack_monitoring;",
    "proxy_http_version 1.1;",
    "proxy_set_header Host $host;",
    "proxy_set_header X-Real-IP $remote_addr;",
    "proxy_set_header X-Forwarded-For $remote_addr;",
    "proxy_set_header X-Forwarded-Proto $scheme;",
    "proxy_set_header X-Forwarded-Host $host;",
  ];
  const inServer = [
    e.http2Directive ? `listen ${e.listen} ssl;` : `listen ${e.listen} ssl http2;`,
    ...(e.http2Directive ? ["http2 on;"] : []),
    `server_name ${host};`,
    `ssl_certificate ${e.certificate};`,
    `ssl_certificate_key ${e.key};`,
    ...(e.ocsp ? ["ssl_stapling on;", "ssl_stapling_verify on;", `ssl_trusted_certificate ${e.certificate};`] : []),
    "client_max_body_size 10m;",
    "",
    `set $dropstack_monitoring ${e.target};`,
    "proxy_hide_header Strict-Transport-Security;",
    "proxy_hide_header X-Frame-Options;",
    "proxy_hide_header X-Content-Type-Options;",
    "proxy_hide_header X-XSS-Protection;",
    "proxy_hide_header Referrer-Policy;",
    ...(e.hsts ? ['add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;'] : []),
    'add_header X-Frame-Options "DENY" always;',
    'add_header X-Content-Type-Options "nosniff" always;',
    'add_header X-XSS-Protection "0" always;',
    'add_header Referrer-Policy "strict-origin-when-cross-origin" always;',
    "",
    "# Grafana Live: the browser's WebSocket to Grafana.",
    "location /api/live/ {",
    ...[
      `limit_req ${e.limitReq};`,
      ...proxied,
      "proxy_set_header Upgrade $http_upgrade;",
      "proxy_set_header Connection $dropstack_connection_upgrade;",
    ].map((line) => `    ${line}`),
    "}",
    "",
    "# Grafana's own metrics are for Prometheus on the private network, not for the internet.",
    "location = /metrics {",
    "    return 404;",
    "}",
    "location ^~ /metrics/ {",
    "    return 404;",
    "}",
    "",
    "location / {",
    ...[`limit_req ${e.limitReq};`, ...proxied].map((line) => `    ${line}`),
    "}",
  ];
  return ["    server {", ...inServer.map((line) => (line === "" ? "" : `        ${line}`)), "    }"].join("\n");
}

const MAP = [
  "    # Grafana Live's WebSocket on the monitoring host.",
  "    map $http_upgrade $dropstack_connection_upgrade {",
  "        default upgrade;",
  "        '' close;",
  "    }",
  "",
];

/** The text renderNginxConf must write with the monitoring host, from the one it writes without. */
function expectedConf(variant: Variant): string {
  const { monitoring, ...otherHosts } = variant.input.hosts;
  const without = renderNginxConf({ ...variant.input, hosts: otherHosts, monitoringUpstream: undefined });
  const lines = without.split("\n");
  const names = lines.findIndex((line) => /^ {8}server_name .*;$/.test(line) && line !== "        server_name _;");
  lines[names] = lines[names].replace(/;$/, ` ${monitoring};`);
  lines.splice(lines.indexOf("    # Mozilla intermediate TLS."), 0, ...MAP);
  // The http block's closing brace, then the file's final newline.
  assert.deepEqual(lines.slice(-2), ["}", ""]);
  lines.splice(lines.length - 2, 0, "", expectedServer(monitoring!, variant.expect));
  return lines.join("\n");
}

describe("the monitoring host in nginx.conf", () => {
  for (const variant of VARIANTS) {
    it(`is served by Grafana's own HTTPS server, the rest of the file as without it: ${variant.name}`, () => {
      assert.equal(renderNginxConf(variant.input), expectedConf(variant));
    });
  }

  it("is redirected from port 80 like the other hosts, and its ACME challenges answered there", () => {
    for (const variant of VARIANTS) {
      const hosts = [variant.input.hosts.api, variant.input.hosts.app, variant.input.hosts.monitoring].filter(Boolean).join(" ");
      const conf = renderNginxConf(variant.input);
      const port80 = conf.slice(conf.indexOf(`server_name ${hosts};`));
      assert.match(port80, /^server_name [^\n]+;\n {8}location \^~ \/\.well-known\/acme-challenge\/ \{/, variant.name);
      assert.match(port80, /\n {8}location \/ \{\n {12}return 301 https:\/\/\$host(:\d+)?\$request_uri;\n/, variant.name);
    }
  });

  it("is never given the app's health path, whatever it is", () => {
    for (const healthPath of [undefined, "/health", "/healthz", "/api/live/health"]) {
      const conf = renderNginxConf({ ...VARIANTS[0].input, healthPath });
      const monitoringServer = conf.slice(conf.indexOf(`server_name ${MONITORING};`));
      assert.doesNotMatch(monitoringServer, /location = \/health|access_log off/, String(healthPath));
    }
  });

  it("leaves the file as it was when unset or undefined", () => {
    const base: NginxConfInput = {
      hosts: { api: "api.example.com", app: "app.example.com" },
      upstream: { alias: "app", port: 8000 },
      hsts: true,
    };
    const expected = renderNginxConf(base);
    assert.equal(renderNginxConf({ ...base, hosts: { ...base.hosts, monitoring: undefined } }), expected);
    assert.equal(renderNginxConf({ ...base, monitoringUpstream: undefined }), expected);
    assert.ok(!expected.includes("dropstack_monitoring") && !expected.includes("map $http_upgrade"));
  });

  it("hides from Grafana's answers exactly the security headers nginx sets itself (all of them with HSTS, no CSP)", () => {
    const names = (lines: string[]) => lines.map((line) => line.split(" ")[1].replace(/;$/, ""));
    assert.deepEqual(names(hideUpstreamSecurityHeaders()), names(securityHeaders(true, undefined)));
  });
});

describe("the domains the Proxy certifies and nginx waits for", () => {
  it("are hosts.api, then hosts.app and hosts.monitoring when set", () => {
    assert.deepEqual(proxyDomains({ api: "api.example.com" }), ["api.example.com"]);
    assert.deepEqual(proxyDomains({ api: "api.example.com", app: "app.example.com" }), ["api.example.com", "app.example.com"]);
    assert.deepEqual(proxyDomains({ api: "api.example.com", monitoring: MONITORING }), ["api.example.com", MONITORING]);
    assert.deepEqual(proxyDomains({ api: "api.example.com", app: "app.example.com", monitoring: MONITORING }), [
      "api.example.com",
      "app.example.com",
      MONITORING,
    ]);
    assert.deepEqual(proxyDomains({ api: "api.example.com", app: undefined, monitoring: undefined }), ["api.example.com"]);
  });
});
