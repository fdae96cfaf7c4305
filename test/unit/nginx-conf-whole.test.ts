// The whole nginx.conf renderNginxConf writes, compared byte for byte with a reviewed file
// under test/fixtures/nginx/ for six inputs: the smallest valid one (every default: the api
// reached through an upstream group with keepalive, as on the image's nginx 1.28); an app host
// whose `/` goes to a proxied frontend, with path prefixes routed to the api and to an HTTP
// worker (one of them stripped), one Content-Security-Policy and every runtime path and process
// setting given; one with every setting at a value other than its default (routes to a worker
// and the frontend on the api host, Debian's nginx 1.22 and so the per-request variables,
// every timeout, loopback address and high ports, no worker user); an IPv6 resolver with a
// burst of 0 and no idle connections kept; and Grafana's monitoring host beside a proxied app
// host with every default, and beside the API host alone with its other settings changed. Each
// file was read line by line and passed `nginx -t` before it was committed, so any change to a
// directive, a comment, a location or the layout fails here and needs the same review again.
// After a deliberate change to the rendering, UPDATE_NGINX_FIXTURES=1 rewrites the files;
// review their diff line by line before committing it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderNginxConf, type NginxConfInput } from "../../components/proxy/render";

const fixtures = join(__dirname, "..", "fixtures", "nginx");

const inputs: [file: string, behaviour: string, input: NginxConfInput][] = [
  [
    "minimal.conf",
    "an API host alone, with every default, renders the production file",
    { hosts: { api: "api.example.com" }, upstream: { alias: "app", port: 8000 }, hsts: true },
  ],
  [
    "frontend-routes.conf",
    "an app host whose / is a proxied frontend, with prefixes routed to the api and a worker, CSP and every runtime setting given",
    {
      hosts: { api: "api.example.com", app: "www.example.com" },
      upstream: { alias: "app", port: 8000 },
      services: { frontend: { alias: "frontend", port: 8080 }, "worker:reports": { alias: "reports", port: 9000 } },
      routes: [
        { host: "www.example.com", path: "/api", service: "api", stripPrefix: true },
        { host: "www.example.com", path: "/reports", service: "worker:reports" },
      ],
      hsts: true,
      contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; connect-src https://api.example.com",
      runtime: {
        user: "www-data",
        pidFile: "/run/dropstack/nginx.pid",
        errorLog: "/var/log/dropstack/error.log",
        accessLog: "/var/log/dropstack/access.log",
        tempDir: "/var/cache/dropstack",
        mimeTypes: "/etc/dropstack/mime.types",
        workerProcesses: 4,
      },
    },
  ],
  [
    "non-default.conf",
    "every setting away from its default renders where nginx reads it",
    {
      hosts: { api: "api.internal.example.org", app: "app.internal.example.org" },
      upstream: { alias: "backend-web", port: 3000 },
      hsts: false,
      settings: { rateLimit: 50, burst: 5, maxBodySize: "512k" },
      resolver: "10.0.0.2:5353",
      resolverValidSeconds: 30,
      certificates: {
        "api.internal.example.org": { certificate: "/srv/tls/api/cert.pem", key: "/srv/tls/api/key.pem" },
      },
      certDir: "/srv/certs",
      acmeWebroot: "/srv/acme",
      healthPath: "/healthz",
      services: { frontend: { alias: "web-frontend", port: 4173 }, "worker:exports": { alias: "exports-worker", port: 9100 } },
      routes: [
        { host: "api.internal.example.org", path: "/exports/v2", service: "worker:exports", stripPrefix: true },
        { host: "api.internal.example.org", path: "/docs", service: "frontend", stripPrefix: true },
        { host: "app.internal.example.org", path: "/", service: "api" },
      ],
      contentSecurityPolicy: "default-src 'self'",
      ocspStapling: true,
      nginxVersion: "1.22.1",
      listen: { address: "127.0.0.1", httpPort: 8080, httpsPort: 8443 },
      runtime: {
        user: null,
        pidFile: "/srv/run/nginx.pid",
        errorLog: "/srv/log/error.log",
        accessLog: "/srv/log/access.log",
        tempDir: "/srv/tmp",
        mimeTypes: "/srv/conf/mime.types",
        workerProcesses: 2,
      },
      timeouts: { connect: 3, send: 30, read: 120, webSocketRead: 600, webSocketSend: 900 },
      keepalive: { connections: 4, idleSeconds: 1 },
    },
  ],
  [
    "ipv6-resolver-rate-only.conf",
    "an IPv6 resolver with a port, a burst of 0 (the rate alone), no idle connections kept and some timeouts left at their defaults render as nginx reads them",
    {
      hosts: { api: "api.example.com" },
      upstream: { alias: "dropstack-api", port: 3000 },
      hsts: true,
      resolver: "[fd00::53]:5353",
      resolverValidSeconds: 2,
      settings: { rateLimit: 5, burst: 0, maxBodySize: "25m" },
      timeouts: { connect: 2, read: 120 },
      keepalive: { connections: 0 },
    },
  ],
  [
    "monitoring.conf",
    "Grafana's monitoring host beside the API and a proxied app host, with every default, renders the production file",
    {
      hosts: { api: "api.example.com", app: "app.example.com", monitoring: "grafana.example.com" },
      upstream: { alias: "app", port: 8000 },
      monitoringUpstream: { alias: "grafana", port: 3000 },
      hsts: true,
    },
  ],
  [
    "monitoring-non-default.conf",
    "the monitoring host beside the API host alone, without HSTS, on an older nginx, with its own certificate and a burst of 0",
    {
      hosts: { api: "api.internal.example.org", monitoring: "metrics.ops.example.net" },
      upstream: { alias: "backend-web", port: 3001 },
      monitoringUpstream: { alias: "acme-production-grafana", port: 13000 },
      hsts: false,
      settings: { rateLimit: 3, burst: 0, maxBodySize: "1k" },
      certificates: {
        "metrics.ops.example.net": { certificate: "/srv/tls/grafana/cert.pem", key: "/srv/tls/grafana/key.pem" },
      },
      certDir: "/srv/certs",
      healthPath: "/healthz",
      contentSecurityPolicy: "default-src 'none'",
      ocspStapling: true,
      nginxVersion: "1.22.1",
      listen: { address: "127.0.0.1", httpPort: 8080, httpsPort: 8443 },
    },
  ],
];

for (const [file, behaviour, input] of inputs) {
  test(`${behaviour} (test/fixtures/nginx/${file})`, () => {
    const path = join(fixtures, file);
    const rendered = renderNginxConf(input);
    if (process.env.UPDATE_NGINX_FIXTURES === "1") writeFileSync(path, rendered);
    assert.equal(rendered, readFileSync(path, "utf8"));
  });
}
