// The lines renderNginxConf writes for the inputs a caller may leave out or override: the
// worker user (default, custom, none), the access-log format the post-deploy watch parses,
// the certificate directory, the ACME webroot, the health path and the listen ports. Each
// is rendered with the default and with one or more overrides, and the whole rendered line
// is compared.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderNginxConf, type NginxConfInput } from "../../components/proxy/render";

const base: NginxConfInput = {
  hosts: { api: "api.example.com", app: "app.example.com" },
  upstream: { alias: "app", port: 8000 },
  hsts: true,
};

/** The rendered lines without their block indentation. */
const linesOf = (conf: string) => conf.split("\n").map((line) => line.trim());

test("the file opens with the worker user (nginx by default, the given one, or none for null) and the process settings", () => {
  const head = (runtime: NginxConfInput["runtime"]) =>
    renderNginxConf({ ...base, runtime })
      .split("\n")
      .slice(0, 7);
  const banner = [
    "# nginx.conf rendered by dropstack (components/proxy/nginx-conf.ts) for nginx 1.28.0.",
    "# Edits in the container are overwritten by the next `pulumi up`.",
  ];
  const process = ["worker_processes auto;", "pid /var/run/nginx.pid;", "error_log /var/log/nginx/error.log warn;", ""];
  assert.deepEqual(head(undefined), [...banner, "user nginx;", ...process]);
  assert.deepEqual(head({}), [...banner, "user nginx;", ...process]);
  for (const user of ["www-data", "_apt", "a"]) assert.deepEqual(head({ user }), [...banner, `user ${user};`, ...process]);
  assert.deepEqual(head({ user: null }), [...banner, ...process, "events {"]);
  assert.ok(!linesOf(renderNginxConf({ ...base, runtime: { user: null } })).some((line) => line.startsWith("user")));
});

test("the access log is written in the dropstack format: combined plus the host and the request time, the last field the watch reads", () => {
  for (const accessLog of [undefined, "/tmp/access.log"]) {
    const lines = linesOf(renderNginxConf({ ...base, runtime: { accessLog } }));
    assert.deepEqual(
      lines.filter((line) => line.startsWith("log_format ")),
      [
        'log_format dropstack \'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent ' +
          '"$http_referer" "$http_user_agent" "$host" $request_time\';',
      ],
    );
    assert.deepEqual(
      lines.filter((line) => line.startsWith("access_log ") && line !== "access_log off;"),
      [`access_log ${accessLog ?? "/var/log/nginx/access.log"} dropstack;`],
    );
  }
});

test("certificates are read from the given certificate directory, or /etc/dropstack/certs", () => {
  for (const [certDir, expected] of [
    [undefined, "/etc/dropstack/certs"],
    ["/srv/certs", "/srv/certs"],
    ["/tmp/x/certs", "/tmp/x/certs"],
  ] as const) {
    const lines = linesOf(renderNginxConf({ ...base, certDir }));
    assert.deepEqual(
      lines.filter((line) => line.startsWith("ssl_certificate")),
      [
        `ssl_certificate ${expected}/api.example.com/fullchain.pem;`,
        `ssl_certificate_key ${expected}/api.example.com/privkey.pem;`,
        `ssl_certificate ${expected}/app.example.com/fullchain.pem;`,
        `ssl_certificate_key ${expected}/app.example.com/privkey.pem;`,
      ],
      certDir,
    );
  }
});

test("ACME challenges are served from the given webroot, or /var/www/acme", () => {
  for (const [acmeWebroot, expected] of [
    [undefined, "/var/www/acme"],
    ["/srv/acme", "/srv/acme"],
    ["/tmp/x/webroot", "/tmp/x/webroot"],
  ] as const) {
    const lines = linesOf(renderNginxConf({ ...base, acmeWebroot }));
    const at = lines.indexOf("location ^~ /.well-known/acme-challenge/ {");
    assert.deepEqual(lines.slice(at, at + 5), [
      "location ^~ /.well-known/acme-challenge/ {",
      `root ${expected};`,
      "default_type text/plain;",
      "try_files $uri =404;",
      "}",
    ]);
  }
});

test("each proxied host exempts /health from rate limiting and logs unless another health path is given", () => {
  for (const [healthPath, expected] of [
    [undefined, "/health"],
    ["/healthz", "/healthz"],
    ["/", "/"],
  ] as const) {
    const lines = linesOf(renderNginxConf({ ...base, healthPath }));
    const health = lines.flatMap((line, i) => (line === `location = ${expected} {` ? [i] : []));
    assert.equal(health.length, 2, "the API and the proxied app host");
    for (const at of health) assert.ok(lines.slice(at, lines.indexOf("}", at)).includes("access_log off;"));
  }
});

test("servers listen on ports 80 and 443 of every address unless an address or other ports are given", () => {
  for (const [listen, http, https] of [
    [undefined, "80", "443"],
    [{ httpPort: 8080 }, "8080", "443"],
    [{ httpsPort: 8443 }, "80", "8443"],
    [{ address: "127.0.0.1" }, "127.0.0.1:80", "127.0.0.1:443"],
    [{ address: "127.0.0.1", httpPort: 8080, httpsPort: 8443 }, "127.0.0.1:8080", "127.0.0.1:8443"],
  ] as const) {
    assert.deepEqual(
      linesOf(renderNginxConf({ ...base, listen })).filter((line) => line.startsWith("listen ")),
      [
        `listen ${http};`,
        `listen ${http} default_server;`,
        `listen ${https} ssl default_server;`,
        `listen ${https} ssl;`,
        `listen ${https} ssl;`,
      ],
      JSON.stringify(listen),
    );
  }
});
