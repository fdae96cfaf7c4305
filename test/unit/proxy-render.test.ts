import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEBIAN_NGINX_VERSION,
  DEFAULT_PROXY_SETTINGS,
  DOCKER_DNS_RESOLVER,
  NGINX_CONF_PATH,
  certificatePathsFor,
  hasHsts,
  isBelowTls12,
  nginxDirectives,
  nginxVersionAtLeast,
  nginxVersionFromImage,
  renderCertbotScript,
  renderNginxConf,
  renderNginxEntrypoint,
  tlsProtocolsIn,
  validateNginxConfInput,
  validateProxySettings,
  type NginxConfInput,
} from "../../components/proxy/render";
import { shellQuote } from "../../components/common/shell";

const base: NginxConfInput = {
  hosts: { api: "api.example.com", app: "app.example.com" },
  upstream: { alias: "app", port: 8000 },
  services: { frontend: { alias: "frontend", port: 8080 } },
  hsts: true,
};

/** Directives named `name` as "arg arg", optionally only those inside a context matching `within`. */
function values(conf: string, name: string, within?: RegExp): string[] {
  return nginxDirectives(conf)
    .filter((d) => d.name === name && (!within || d.context.some((c) => within.test(c))))
    .map((d) => d.args.join(" "));
}

/** Directives named `name` as "arg arg" whose innermost block is exactly `context`, nested blocks left out. */
function valuesDirectlyIn(conf: string, name: string, context: string): string[] {
  return nginxDirectives(conf)
    .filter((d) => d.name === name && d.context.at(-1) === context)
    .map((d) => d.args.join(" "));
}

function serverOf(conf: string, host: string) {
  // Directives of the HTTPS server block whose server_name is exactly `host`.
  const all = nginxDirectives(conf);
  const index = all.findIndex((d) => d.name === "server_name" && d.args.length === 1 && d.args[0] === host);
  const start = all
    .slice(0, index)
    .map((d) => d.name === "server" && d.block)
    .lastIndexOf(true);
  assert.ok(index >= 0, `no server for ${host}`);
  const end = all.findIndex((d, i) => i > index && d.name === "server" && d.block);
  return all.slice(start, end === -1 ? undefined : end);
}

test("validateProxySettings accepts the defaults and names every bad setting", () => {
  assert.deepEqual(validateProxySettings(DEFAULT_PROXY_SETTINGS), []);
  assert.deepEqual(validateProxySettings({ rateLimit: 1, burst: 0, maxBodySize: "1g" }), []);
  assert.deepEqual(validateProxySettings({}), []);
  const problems = validateProxySettings({ rateLimit: 0, burst: -1, maxBodySize: "10 MB" });
  assert.deepEqual(
    problems.map((p) => p.setting),
    ["rateLimit", "burst", "maxBodySize"],
  );
  assert.match(problems[2].message, /"10 MB"/);
  assert.deepEqual(
    validateProxySettings({ rateLimit: 2.5 }).map((p) => p.setting),
    ["rateLimit"],
  );
  assert.deepEqual(
    validateProxySettings({ maxBodySize: "0" }).map((p) => p.setting),
    ["maxBodySize"],
  );
  assert.deepEqual(
    validateProxySettings({ maxBodySize: "10mb" }).map((p) => p.setting),
    ["maxBodySize"],
  );
});

test("the config refuses input that would inject directives or point nowhere", () => {
  const problems = validateNginxConfInput({
    ...base,
    hosts: { api: "api.example.com; return 200", app: "api.example.com" },
    upstream: { alias: "app;", port: 0 },
    resolver: "dns.example.com",
    services: { frontend: { alias: "front end", port: 8080 } },
    routes: [{ host: "app.example.com", path: "/x; return 200", service: "api" }],
    contentSecurityPolicy: `default-src 'self'" always; add_header X "y`,
    nginxVersion: "1.18.0",
    healthPath: "health",
  });
  for (const field of [
    "hosts.api",
    "upstream.alias",
    "upstream.port",
    "resolver",
    "services.frontend.alias",
    "routes[0].path",
    "contentSecurityPolicy",
    "nginxVersion",
    "healthPath",
  ]) {
    assert.ok(
      problems.some((p) => p.startsWith(`${field}:`)),
      `${field} in ${problems.join("\n")}`,
    );
  }
  assert.throws(() => renderNginxConf({ ...base, upstream: { alias: "app", port: 70000 } }), /upstream\.port/);
  assert.deepEqual(
    validateNginxConfInput({
      ...base,
      hosts: { api: "api.example.com" },
      routes: [{ host: "app.example.com", path: "/", service: "frontend" }],
    }),
    ['routes[0].host: expected hosts.api or hosts.app (api.example.com), got "app.example.com"'],
  );
  assert.deepEqual(validateNginxConfInput({ ...base, hosts: { api: "api.example.com", app: "api.example.com" } }), [
    "hosts.app: must differ from hosts.api",
  ]);
});

test("TLS is 1.2/1.3 only with Mozilla intermediate ciphers, tickets off and a shared session cache", () => {
  const conf = renderNginxConf(base);
  assert.deepEqual(tlsProtocolsIn(conf), ["TLSv1.2", "TLSv1.3"]);
  assert.deepEqual(values(conf, "ssl_session_tickets"), ["off"]);
  assert.deepEqual(values(conf, "ssl_prefer_server_ciphers"), ["off"]);
  assert.match(values(conf, "ssl_session_cache")[0], /^shared:/);
  const ciphers = values(conf, "ssl_ciphers")[0].split(":");
  assert.ok(
    ciphers.every((c) => /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/.test(c)),
    ciphers.join(":"),
  );
  assert.deepEqual(values(conf, "ssl_stapling"), []);
  assert.deepEqual(values(renderNginxConf({ ...base, ocspStapling: true }), "ssl_stapling"), ["on", "on"]);
});

test("HSTS follows the hsts flag; the other security headers are always sent", () => {
  const on = renderNginxConf(base);
  const off = renderNginxConf({ ...base, hsts: false });
  assert.equal(hasHsts(on), true);
  assert.equal(hasHsts(off), false);
  for (const conf of [on, off]) {
    const headers = values(conf, "add_header").map((h) => h.split(" ")[0]);
    for (const header of ["X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "X-XSS-Protection"]) {
      assert.ok(headers.includes(header), header);
    }
    // All but a hashed file's year-long Cache-Control, which must not stick to its 404.
    assert.ok(
      values(conf, "add_header")
        .filter((h) => !h.startsWith("Cache-Control public, max-age=31536000, immutable"))
        .every((h) => h.endsWith(" always")),
      "headers also go on error responses",
    );
    assert.ok(!headers.includes("Content-Security-Policy"), "no CSP unless one is configured");
  }
  const withCsp = renderNginxConf({ ...base, contentSecurityPolicy: "default-src 'self'" });
  for (const host of ["api.example.com", "app.example.com"]) {
    const csp = serverOf(withCsp, host).filter((d) => d.name === "add_header" && d.args[0] === "Content-Security-Policy");
    assert.ok(csp.length > 0, host);
    assert.ok(
      csp.every((d) => d.args.join(" ") === "Content-Security-Policy default-src 'self' always"),
      host,
    );
  }
});

test("every location of the proxied frontend repeats the security headers next to its own Cache-Control", () => {
  for (const [csp, version] of [
    [undefined, undefined],
    ["default-src 'self'", DEBIAN_NGINX_VERSION],
  ] as const) {
    const app = serverOf(renderNginxConf({ ...base, contentSecurityPolicy: csp, nginxVersion: version }), "app.example.com");
    const locations = app.filter((d) => d.name === "location").map((d) => d.args.join(" "));
    assert.deepEqual(locations, ["/", "^~ /assets/", "~ \\.[0-9a-f]{8,}\\.[A-Za-z0-9]+$", "@spa_0"]);
    for (const location of locations) {
      const headers = app
        .filter((d) => d.name === "add_header" && d.context[d.context.length - 1] === `location ${location}`)
        .map((d) => d.args[0]);
      assert.deepEqual(
        headers.sort(),
        [
          "Cache-Control",
          ...(csp ? ["Content-Security-Policy"] : []),
          "Referrer-Policy",
          "Strict-Transport-Security",
          "X-Content-Type-Options",
          "X-Frame-Options",
          "X-XSS-Protection",
        ],
        location,
      );
    }
  }
});

test("rate limiting: per client IP at the configured rate, burst on the API, none on the health path", () => {
  const conf = renderNginxConf({ ...base, settings: { rateLimit: 20, burst: 40 }, healthPath: "/healthz" });
  assert.deepEqual(values(conf, "limit_req_zone"), ["$binary_remote_addr zone=dropstack_per_ip:10m rate=20r/s"]);
  assert.deepEqual(values(conf, "limit_req_status"), ["429"]);
  assert.deepEqual(values(conf, "limit_req", /^location \/$/), ["zone=dropstack_per_ip burst=40 nodelay"]);
  assert.deepEqual(values(conf, "limit_req", /^location = \/healthz$/), []);
  assert.deepEqual(values(conf, "proxy_pass", /^location = \/healthz$/), ["http://dropstack_upstream"]);
  const variables = renderNginxConf({ ...base, healthPath: "/healthz", nginxVersion: DEBIAN_NGINX_VERSION });
  assert.deepEqual(values(variables, "limit_req", /^location = \/healthz$/), []);
  assert.deepEqual(values(variables, "proxy_pass", /^location = \/healthz$/), ["http://$dropstack_upstream"]);
  assert.deepEqual(values(conf, "client_max_body_size"), ["10m"]);
  assert.deepEqual(values(renderNginxConf({ ...base, settings: { maxBodySize: "25m" } }), "client_max_body_size"), ["25m"]);
});

test("rate limiting: a burst of 0 applies the rate alone, without burst= (which nginx refuses) or nodelay", () => {
  for (const burst of [0, 1, 2, 40]) {
    const conf = renderNginxConf({ ...base, settings: { rateLimit: 20, burst } });
    const expected = burst === 0 ? "zone=dropstack_per_ip" : `zone=dropstack_per_ip burst=${burst} nodelay`;
    assert.deepEqual(values(conf, "limit_req", /^location \/$/), [expected], `burst ${burst}`);
  }
});

test("the app is reached through its Docker alias, re-resolved, with retries that never replay a sent POST or a slow answer", () => {
  for (const nginxVersion of [undefined, DEBIAN_NGINX_VERSION]) {
    const conf = renderNginxConf({ ...base, nginxVersion });
    assert.deepEqual(values(conf, "resolver"), [`${DOCKER_DNS_RESOLVER} valid=5s ipv6=off`]);
    assert.deepEqual(values(renderNginxConf({ ...base, nginxVersion, resolver: "127.0.0.1:5353", resolverValidSeconds: 2 }), "resolver"), [
      "127.0.0.1:5353 valid=2s ipv6=off",
    ]);
    const retry = values(conf, "proxy_next_upstream")[0].split(" ");
    // `timeout` retries a connect timeout (a removed replica's address); a read timeout is not
    // retried because retries end by the read timeout (proxy_next_upstream_timeout).
    assert.deepEqual(retry, ["error", "timeout", "http_502", "http_503", "http_504"]);
    assert.ok(!retry.includes("non_idempotent"));
    assert.deepEqual(values(conf, "proxy_next_upstream_timeout"), ["10s"]);
    assert.deepEqual(values(renderNginxConf({ ...base, nginxVersion, timeouts: { read: 4 } }), "proxy_next_upstream_timeout"), ["4s"]);
    const headers = values(conf, "proxy_set_header", /^location \/$/);
    for (const header of [
      "Host $host",
      "X-Real-IP $remote_addr",
      "X-Forwarded-For $remote_addr",
      "X-Forwarded-Proto $scheme",
      "X-Forwarded-Host $host",
    ]) {
      assert.ok(headers.includes(header), header);
    }
  }
});

test("on the image's nginx the services are upstream groups that re-resolve their alias and keep idle connections", () => {
  const conf = renderNginxConf(base);
  assert.deepEqual(values(conf, "set"), [], "no per-request variables");
  assert.deepEqual(values(conf, "upstream"), ["dropstack_upstream", "dropstack_frontend"]);
  assert.deepEqual(values(conf, "server", /^upstream dropstack_upstream$/), ["app:8000 resolve max_fails=0"]);
  assert.deepEqual(values(conf, "server", /^upstream dropstack_frontend$/), ["frontend:8080 resolve max_fails=0"]);
  assert.deepEqual(values(conf, "keepalive", /^upstream /), ["16", "16"]);
  assert.deepEqual(values(conf, "keepalive_timeout", /^upstream /), ["2s", "2s"]);
  assert.deepEqual(valuesDirectlyIn(conf, "proxy_pass", "location /"), ["http://dropstack_upstream", "http://dropstack_frontend"]);
  // nginx sends `Connection: close` upstream unless told otherwise, which would end every kept connection.
  assert.ok(valuesDirectlyIn(conf, "proxy_set_header", "location /").includes("Connection "), "an empty Connection header");
});

test("on Debian's nginx 1.22 the services are per-request variables, without keepalive", () => {
  const conf = renderNginxConf({ ...base, nginxVersion: DEBIAN_NGINX_VERSION });
  assert.deepEqual(values(conf, "set"), ["$dropstack_upstream app:8000", "$dropstack_frontend frontend:8080"]);
  assert.deepEqual(values(conf, "upstream"), [], "an upstream block would resolve the alias only once before 1.27.3");
  assert.deepEqual(values(conf, "keepalive"), []);
  assert.deepEqual(valuesDirectlyIn(conf, "proxy_pass", "location /"), ["http://$dropstack_upstream", "http://$dropstack_frontend"]);
  assert.ok(!values(conf, "proxy_set_header").includes("Connection "), "no empty Connection header");
});

test("port 80 redirects to HTTPS (with the port when it is not 443) except for ACME challenges", () => {
  const conf = renderNginxConf({ ...base, acmeWebroot: "/var/www/acme" });
  assert.deepEqual(valuesDirectlyIn(conf, "return", "location /"), ["301 https://$host$request_uri"]);
  assert.deepEqual(values(conf, "root", /acme-challenge/), ["/var/www/acme"]);
  const test = renderNginxConf({ ...base, listen: { address: "127.0.0.1", httpPort: 8080, httpsPort: 8443 } });
  assert.deepEqual(valuesDirectlyIn(test, "return", "location /"), ["301 https://$host:8443$request_uri"]);
  assert.ok(values(test, "listen").every((l) => l.startsWith("127.0.0.1:")));
});

test("certificates come from CERT_DIR/<host>/ unless given per host", () => {
  const conf = renderNginxConf(base);
  assert.deepEqual(values(conf, "ssl_certificate"), [
    certificatePathsFor("api.example.com").certificate,
    certificatePathsFor("app.example.com").certificate,
  ]);
  const custom = renderNginxConf({ ...base, certificates: { "api.example.com": { certificate: "/c/api.pem", key: "/c/api.key" } } });
  assert.deepEqual(values(custom, "ssl_certificate_key")[0], "/c/api.key");
});

test("the app host goes to the frontend when there is one, to the api without one, and is absent when not configured", () => {
  const frontendApp = serverOf(renderNginxConf(base), "app.example.com");
  assert.deepEqual(
    frontendApp.filter((d) => d.name === "proxy_pass").map((d) => d.args[0]),
    ["http://dropstack_frontend", "http://dropstack_frontend", "http://dropstack_frontend", "http://dropstack_frontend"],
  );
  assert.ok(!frontendApp.some((d) => d.name === "limit_req"), "the frontend is not rate limited");
  assert.ok(!frontendApp.some((d) => d.name === "root"), "nginx serves no files itself");
  const proxiedApp = serverOf(renderNginxConf({ ...base, services: undefined }), "app.example.com");
  assert.ok(proxiedApp.some((d) => d.name === "limit_req"));
  assert.ok(proxiedApp.filter((d) => d.name === "proxy_pass").every((d) => d.args[0] === "http://dropstack_upstream"));
  const apiOnly = renderNginxConf({ ...base, hosts: { api: "api.example.com" } });
  assert.ok(!apiOnly.includes("app.example.com"));
  assert.ok(!apiOnly.includes("dropstack_frontend"), "a service no route uses gets no upstream group");
});

test("HTTP/2 uses the listen parameter before nginx 1.25.1 and the http2 directive from then on", () => {
  const old = renderNginxConf({ ...base, nginxVersion: "1.22.1" });
  assert.ok(
    values(old, "listen")
      .filter((l) => l.includes("ssl"))
      .every((l) => / ssl http2\b/.test(l)),
  );
  assert.deepEqual(values(old, "http2"), []);
  const current = renderNginxConf({ ...base, nginxVersion: "1.28.0" });
  assert.ok(values(current, "listen").every((l) => !l.includes("http2")));
  assert.equal(values(current, "http2").length, 3, "the default server and both hosts");
});

test("tlsProtocolsIn and hasHsts read hand-written configs, ignoring comments", () => {
  const conf = `
    # ssl_protocols SSLv3;
    http {
      ssl_protocols TLSv1 TLSv1.2; # legacy clients
      server { ssl_protocols TLSv1.2 TLSv1.3; add_header X-Note "a;b{c}#d" always; }
      server { add_header strict-transport-security 'max-age=0'; }
    }`;
  assert.deepEqual(tlsProtocolsIn(conf), ["TLSv1", "TLSv1.2", "TLSv1.3"]);
  assert.deepEqual(tlsProtocolsIn(conf).filter(isBelowTls12), ["TLSv1"]);
  assert.equal(hasHsts(conf), false, "max-age=0 switches HSTS off");
  assert.equal(hasHsts('add_header Strict-Transport-Security "max-age=63072000" always;'), true);
  assert.equal(hasHsts('# add_header Strict-Transport-Security "max-age=63072000";'), false);
  assert.deepEqual(tlsProtocolsIn("http { }"), []);
  const note = nginxDirectives(conf).find((d) => d.name === "add_header" && d.args[0] === "X-Note");
  assert.deepEqual(note?.args, ["X-Note", "a;b{c}#d", "always"]);
  assert.deepEqual(note?.context, ["http", "server"]);
});

test("nginx versions: comparison and the version in an official image reference", () => {
  assert.equal(nginxVersionAtLeast("1.25.1", "1.25.1"), true);
  assert.equal(nginxVersionAtLeast("1.25.0", "1.25.1"), false);
  assert.equal(nginxVersionAtLeast("1.100.0", "1.25.1"), true);
  assert.equal(nginxVersionAtLeast("1.28", "1.27.3"), true);
  assert.equal(nginxVersionFromImage(`nginx:1.28.0-alpine@sha256:${"a".repeat(64)}`), "1.28.0");
  assert.equal(nginxVersionFromImage("docker.io/library/nginx:1.27-alpine"), "1.27");
  assert.equal(nginxVersionFromImage("nginx:1.26.3"), "1.26.3");
  assert.equal(nginxVersionFromImage("nginx:alpine"), undefined);
  assert.equal(nginxVersionFromImage("registry:5000/nginx"), undefined);
});

test("the certbot script pins its parameters, quoted for sh", () => {
  const script = renderCertbotScript({ domains: ["api.example.com", "app.example.com"], email: "o'brien@example.com", staging: true });
  assert.ok(script.startsWith("#!/bin/sh\n"));
  assert.equal(script.match(/^#!/gm)?.length, 1, "one shebang");
  assert.ok(script.includes("\nDOMAINS='api.example.com app.example.com'\n"));
  assert.ok(script.includes(`\nACME_EMAIL=${shellQuote("o'brien@example.com")}\n`));
  assert.equal(shellQuote("o'brien"), `'o'\\''brien'`);
  assert.ok(script.includes("\nACME_STAGING='1'\n"));
  assert.ok(script.includes("\nWEBROOT='/var/www/acme'\n"));
  assert.ok(script.includes("\nCERT_DIR='/etc/dropstack/certs'\n"));
  assert.ok(renderCertbotScript({ domains: ["api.example.com"], staging: false }).includes("\nACME_STAGING='0'\n"));
  assert.throws(() => renderCertbotScript({ domains: [], staging: false }), /domains/);
  assert.throws(() => renderCertbotScript({ domains: ["api.example.com; rm -rf /"], staging: false }), /domains/);
  assert.throws(() => renderCertbotScript({ domains: ["api.example.com"], email: "not an email", staging: false }), /email/);
  assert.throws(
    () => renderCertbotScript({ domains: ["api.example.com"], staging: false, renewIntervalSeconds: 0 }),
    /renewIntervalSeconds/,
  );
});

test("the nginx entrypoint pins its parameters", () => {
  const script = renderNginxEntrypoint({ domains: ["api.example.com"], checkIntervalSeconds: 30 });
  assert.ok(script.includes("\nDOMAINS='api.example.com'\n"));
  assert.ok(script.includes(`\nNGINX_CONF='${NGINX_CONF_PATH}'\n`));
  assert.ok(script.includes("\nCERT_CHECK_INTERVAL='30'\n"));
  assert.throws(() => renderNginxEntrypoint({ domains: ["api.example.com"], confPath: "relative.conf" }), /confPath/);
});
