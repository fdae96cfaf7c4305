// What validateNginxConfInput tells a user about each field of the nginx.conf input, and that
// renderNginxConf refuses the same input with all those messages. Every field gets a list of
// values it must refuse (injection attempts such as `;` and spaces, values missing their
// first or last character class, out-of-range numbers, fractions, NaN) and a list it must
// accept (including the edges of each range); each refusal is asserted as the whole message,
// field name included, since that message is all the user sees. Routes, services, timeouts and
// keepalive are in nginx-conf-routes-validation.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderNginxConf, validateNginxConfInput, type NginxConfInput } from "../../components/proxy/render";
import { problemsAfterChange } from "../support/nginx-input";

const valid: NginxConfInput = {
  hosts: { api: "api.example.com", app: "app.example.com" },
  upstream: { alias: "app", port: 8000 },
  hsts: true,
};

const json = (v: unknown) => JSON.stringify(v);

const problemsWith = (change: (input: NginxConfInput) => void) => problemsAfterChange(valid, change);

test("the valid base input has no problems", () => {
  assert.deepEqual(validateNginxConfInput(valid), []);
});

test("an input without hosts or upstream (untyped config) is reported field by field instead of crashing", () => {
  const bare = { hsts: true } as unknown as NginxConfInput;
  const missing = [
    "hosts.api: expected a fully qualified hostname, got undefined",
    "upstream.alias: expected a Docker network alias like app, got undefined",
    "upstream.port: expected a port from 1 to 65535, got undefined",
  ];
  assert.deepEqual(validateNginxConfInput(bare), missing);
  assert.deepEqual(validateNginxConfInput({ ...bare, healthPath: "health" }), [
    ...missing,
    'healthPath: expected a URL path like /health, got "health"',
  ]);
  assert.throws(() => renderNginxConf(bare), { message: `invalid nginx config input: ${missing.join("; ")}` });
});

const BAD_HOSTNAMES = [
  "",
  "api",
  "API.example.com",
  "api.example.com;",
  "api.example.com; return 200",
  "api example.com",
  "-api.example.com",
  "api-.example.com",
  "192.0.2.1",
  "api.example.com.",
];
const GOOD_HOSTNAMES = ["api.example.com", "a.io", "my-app.eu.example.org", "x1.example.com"];

test("both hosts must be fully qualified lowercase hostnames, and the app host differs from the API host", () => {
  for (const host of BAD_HOSTNAMES) {
    assert.deepEqual(
      problemsWith((i) => (i.hosts.api = host)),
      [`hosts.api: expected a fully qualified hostname, got ${json(host)}`],
      host,
    );
    assert.deepEqual(
      problemsWith((i) => (i.hosts.app = host)),
      [`hosts.app: expected a fully qualified hostname, got ${json(host)}`],
      host,
    );
  }
  for (const host of GOOD_HOSTNAMES) {
    assert.deepEqual(
      problemsWith((i) => (i.hosts = { api: host })),
      [],
      host,
    );
    assert.deepEqual(
      problemsWith((i) => (i.hosts = { api: "other.example.net", app: host })),
      [],
      host,
    );
  }
  assert.deepEqual(
    problemsWith((i) => (i.hosts.app = i.hosts.api)),
    ["hosts.app: must differ from hosts.api"],
  );
});

test("the monitoring host is a fully qualified lowercase hostname other than the API and app hosts", () => {
  const grafana = { alias: "grafana", port: 3000 };
  const monitoring = (hosts: NginxConfInput["hosts"]) =>
    problemsWith((i) => {
      i.hosts = hosts;
      i.monitoringUpstream = grafana;
    });
  for (const host of BAD_HOSTNAMES) {
    for (const hosts of [
      { api: "api.example.com", monitoring: host },
      { api: "api.example.com", app: "app.example.com", monitoring: host },
    ])
      assert.deepEqual(monitoring(hosts), [`hosts.monitoring: expected a fully qualified hostname, got ${json(host)}`], host);
  }
  for (const host of GOOD_HOSTNAMES) {
    assert.deepEqual(monitoring({ api: "other.example.net", monitoring: host }), [], host);
    assert.deepEqual(monitoring({ api: "other.example.net", app: "www.example.net", monitoring: host }), [], host);
  }
  assert.deepEqual(monitoring({ api: "api.example.com", monitoring: "api.example.com" }), ["hosts.monitoring: must differ from hosts.api"]);
  assert.deepEqual(monitoring({ api: "api.example.com", app: "app.example.com", monitoring: "api.example.com" }), [
    "hosts.monitoring: must differ from hosts.api",
  ]);
  assert.deepEqual(monitoring({ api: "api.example.com", app: "app.example.com", monitoring: "app.example.com" }), [
    "hosts.monitoring: must differ from hosts.app",
  ]);
  // One name for all three: each later host is told about the API host, once.
  assert.deepEqual(monitoring({ api: "api.example.com", app: "api.example.com", monitoring: "api.example.com" }), [
    "hosts.app: must differ from hosts.api",
    "hosts.monitoring: must differ from hosts.api",
  ]);
  assert.throws(
    () => renderNginxConf({ ...valid, hosts: { ...valid.hosts, monitoring: "app.example.com" }, monitoringUpstream: grafana }),
    {
      message: "invalid nginx config input: hosts.monitoring: must differ from hosts.app",
    },
  );
});

test("the monitoring host comes with Grafana's alias and port, and Grafana's upstream with the monitoring host", () => {
  const withMonitoring = (monitoringUpstream: NginxConfInput["monitoringUpstream"]) =>
    problemsWith((i) => {
      i.hosts.monitoring = "grafana.example.com";
      i.monitoringUpstream = monitoringUpstream;
    });
  assert.deepEqual(withMonitoring(undefined), ["monitoringUpstream: needed with hosts.monitoring: Grafana's network alias and port"]);
  assert.deepEqual(
    problemsWith((i) => (i.monitoringUpstream = { alias: "grafana", port: 3000 })),
    ["monitoringUpstream: needs hosts.monitoring, the host that serves it"],
  );
  for (const alias of ["", "grafana;", "-grafana", "grafana name", "grafana:3000", "grafana$x", "a".repeat(254), undefined, 3000]) {
    assert.deepEqual(
      withMonitoring({ alias: alias as string, port: 3000 }),
      [`monitoringUpstream.alias: expected a Docker network alias like grafana, got ${json(alias)}`],
      String(alias),
    );
  }
  for (const alias of ["grafana", "Grafana_1", "acme-production-grafana.internal", "a".repeat(253)]) {
    assert.deepEqual(withMonitoring({ alias, port: 3000 }), [], alias);
  }
  for (const port of [0, -1, 65536, 3000.5, Number.NaN, "3000" as unknown as number, undefined as unknown as number]) {
    assert.deepEqual(
      withMonitoring({ alias: "grafana", port }),
      [`monitoringUpstream.port: expected a port from 1 to 65535, got ${json(port)}`],
      String(port),
    );
  }
  for (const port of [1, 3000, 65535]) assert.deepEqual(withMonitoring({ alias: "grafana", port }), [], String(port));
  // An untyped config: every field named, the host's problem first.
  assert.deepEqual(
    problemsWith((i) => {
      i.hosts.monitoring = "grafana";
      i.monitoringUpstream = {} as NginxConfInput["monitoringUpstream"];
    }),
    [
      'hosts.monitoring: expected a fully qualified hostname, got "grafana"',
      "monitoringUpstream.alias: expected a Docker network alias like grafana, got undefined",
      "monitoringUpstream.port: expected a port from 1 to 65535, got undefined",
    ],
  );
  assert.throws(() => renderNginxConf({ ...valid, monitoringUpstream: { alias: "grafana;", port: 3000 } }), {
    message:
      "invalid nginx config input: monitoringUpstream: needs hosts.monitoring, the host that serves it; " +
      'monitoringUpstream.alias: expected a Docker network alias like grafana, got "grafana;"',
  });
});

test("the upstream is a Docker network alias and a port from 1 to 65535", () => {
  for (const alias of ["", "app;", "-app", "app name", "app:8000", "app$x", "a".repeat(254)]) {
    assert.deepEqual(
      problemsWith((i) => (i.upstream.alias = alias)),
      [`upstream.alias: expected a Docker network alias like app, got ${json(alias)}`],
      alias,
    );
  }
  for (const alias of ["app", "App_1", "dropstack-app.internal", "a".repeat(253)]) {
    assert.deepEqual(
      problemsWith((i) => (i.upstream.alias = alias)),
      [],
      alias,
    );
  }
  for (const port of [0, -1, 65536, 80.5, Number.NaN, "8000" as unknown as number]) {
    assert.deepEqual(
      problemsWith((i) => (i.upstream.port = port)),
      [`upstream.port: expected a port from 1 to 65535, got ${json(port)}`],
      String(port),
    );
  }
  for (const port of [1, 80, 65535]) {
    assert.deepEqual(
      problemsWith((i) => (i.upstream.port = port)),
      [],
      String(port),
    );
  }
});

test("proxy settings problems are reported under settings.<name>", () => {
  assert.deepEqual(
    problemsWith((i) => (i.settings = { rateLimit: 0, burst: -1, maxBodySize: "10 MB" })),
    [
      "settings.rateLimit: must be a whole number of requests per second from 1 to 100000, got 0",
      "settings.burst: must be a whole number of requests from 0 to 100000, got -1",
      'settings.maxBodySize: expected an nginx size like 10m, 512k or 1g (not 0), got "10 MB"',
    ],
  );
});

test("the resolver is an IP address with an optional port, trusted for a whole number of seconds, at least 1", () => {
  for (const resolver of ["dns.example.com", "127.0.0.11;", "127.0.0.1:0", "127.0.0.1 :53", ""]) {
    assert.deepEqual(
      problemsWith((i) => (i.resolver = resolver)),
      [`resolver: expected an IP address with an optional port, like 127.0.0.11 or 127.0.0.1:5353, got ${json(resolver)}`],
      resolver,
    );
  }
  for (const seconds of [0, -1, -5, 0.5, 1.5, 30.25, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.deepEqual(
      problemsWith((i) => (i.resolverValidSeconds = seconds)),
      [`resolverValidSeconds: expected a whole number of seconds, at least 1, got ${json(seconds)}`],
      String(seconds),
    );
  }
  for (const seconds of [1, 2, 5, 3600]) {
    assert.deepEqual(
      problemsWith((i) => (i.resolverValidSeconds = seconds)),
      [],
      String(seconds),
    );
  }
});

// Each path field and how to set it on an input.
const PATH_FIELDS: [string, (input: NginxConfInput, path: string) => void][] = [
  ["certDir", (i, p) => (i.certDir = p)],
  ["acmeWebroot", (i, p) => (i.acmeWebroot = p)],
  ["runtime.pidFile", (i, p) => (i.runtime = { pidFile: p })],
  ["runtime.errorLog", (i, p) => (i.runtime = { errorLog: p })],
  ["runtime.accessLog", (i, p) => (i.runtime = { accessLog: p })],
  ["runtime.tempDir", (i, p) => (i.runtime = { tempDir: p })],
  ["runtime.mimeTypes", (i, p) => (i.runtime = { mimeTypes: p })],
  ["certificates.api.example.com.certificate", (i, p) => (i.certificates = { "api.example.com": { certificate: p, key: "/c/api.key" } })],
  ["certificates.app.example.com.key", (i, p) => (i.certificates = { "app.example.com": { certificate: "/c/app.pem", key: p } })],
];
const BAD_PATHS = ["relative/path", "", "~/certs", "/srv/front end", "/etc/x;", '/a"b', "/var/$host", "/a{b}", "/a\nb", "/é"];
const GOOD_PATHS = ["/", "/srv/frontend", "/etc/dropstack/certs", "/a_b@c+d-e.f/1"];

test("every path is absolute and made only of letters, digits and ._@+-/, and each names its own field", () => {
  for (const [field, set] of PATH_FIELDS) {
    for (const path of BAD_PATHS) {
      assert.deepEqual(
        problemsWith((i) => set(i, path)),
        [`${field}: expected an absolute path of letters, digits and ._@+-/, got ${json(path)}`],
        `${field} ${path}`,
      );
    }
    for (const path of GOOD_PATHS) {
      assert.deepEqual(
        problemsWith((i) => set(i, path)),
        [],
        `${field} ${path}`,
      );
    }
  }
});

test("the health path is a URL path from its first to its last character", () => {
  for (const path of [
    "",
    "health",
    "health/check",
    "x/health",
    " /health",
    "/health ",
    "/health; return 200",
    "/health\n",
    "/health?x=1",
    "/héalth",
    "/$uri",
  ]) {
    assert.deepEqual(
      problemsWith((i) => (i.healthPath = path)),
      [`healthPath: expected a URL path like /health, got ${json(path)}`],
      path,
    );
  }
  for (const path of ["/", "/health", "/healthz", "/api/v1/health-check", "/a.b_c~d"]) {
    assert.deepEqual(
      problemsWith((i) => (i.healthPath = path)),
      [],
      path,
    );
  }
});

test("the Content-Security-Policy must fit inside nginx's double quotes", () => {
  for (const csp of [`default-src 'self'" always; add_header X "y`, "default-src \\x", "default-src $host", "", "a\tb", "a\nb"]) {
    assert.deepEqual(
      problemsWith((i) => (i.contentSecurityPolicy = csp)),
      [`contentSecurityPolicy: expected a header value without quotes, backslashes or $, got ${json(csp)}`],
      csp,
    );
  }
  for (const csp of ["default-src 'self'; img-src * data:", "default-src 'none'; frame-ancestors 'none'", "a", undefined]) {
    assert.deepEqual(
      problemsWith((i) => (i.contentSecurityPolicy = csp)),
      [],
      String(csp),
    );
  }
});

test("the nginx version must parse and be no older than the oldest version checked", () => {
  for (const version of ["", "latest", "v1.28.0", "1", "1.28.x", "1.28.0-alpine", " 1.28.0"]) {
    assert.deepEqual(
      problemsWith((i) => (i.nginxVersion = version)),
      [`nginxVersion: expected a version like 1.28.0, got ${json(version)}`],
      version,
    );
  }
  for (const version of ["1.21.6", "1.18.0", "0.9", "1.21"]) {
    assert.deepEqual(
      problemsWith((i) => (i.nginxVersion = version)),
      [`nginxVersion: nginx ${version} is older than 1.22.0, the oldest checked`],
      version,
    );
  }
  for (const version of ["1.22.0", "1.22.1", "1.28", "1.28.0", "1.100.0", "2.0"]) {
    assert.deepEqual(
      problemsWith((i) => (i.nginxVersion = version)),
      [],
      version,
    );
  }
});

test("listen takes an IPv4 address and two ports from 1 to 65535 that differ once the defaults 80 and 443 fill in", () => {
  for (const address of ["localhost", "::1", "127.0.0.1:80", "127.0.0.1 ", "256.0.0.1", ""]) {
    assert.deepEqual(
      problemsWith((i) => (i.listen = { address })),
      [`listen.address: expected an IPv4 address, got ${json(address)}`],
      address,
    );
  }
  for (const address of ["127.0.0.1", "0.0.0.0", "192.0.2.10"]) {
    assert.deepEqual(
      problemsWith((i) => (i.listen = { address })),
      [],
      address,
    );
  }
  for (const key of ["httpPort", "httpsPort"] as const) {
    for (const port of [0, -1, 65536, 8080.5, Number.NaN]) {
      assert.deepEqual(
        problemsWith((i) => (i.listen = { [key]: port })),
        [`listen.${key}: expected a port from 1 to 65535, got ${json(port)}`],
        `${key} ${port}`,
      );
    }
    for (const port of [1, 8080, 65535]) {
      assert.deepEqual(
        problemsWith((i) => (i.listen = { [key]: port })),
        [],
        `${key} ${port}`,
      );
    }
  }
  // Unset ports are 80 and 443 in the rendered file, so a port set to the other's default
  // collides too (nginx -t: "a duplicate default server").
  for (const [listen, port] of [
    [{ httpPort: 8443, httpsPort: 8443 }, 8443],
    [{ httpPort: 443 }, 443],
    [{ httpsPort: 80 }, 80],
    [{ httpPort: 443, httpsPort: 443 }, 443],
    [{ address: "127.0.0.1", httpPort: 80, httpsPort: 80 }, 80],
  ] as const) {
    assert.deepEqual(
      problemsWith((i) => (i.listen = listen)),
      [`listen.httpsPort: must differ from listen.httpPort (80 and 443 when unset), both are ${port}`],
      json(listen),
    );
  }
  for (const listen of [{}, { httpPort: 8080 }, { httpsPort: 8443 }, { httpPort: 443, httpsPort: 80 }, { httpPort: 80, httpsPort: 443 }]) {
    assert.deepEqual(
      problemsWith((i) => (i.listen = listen)),
      [],
      json(listen),
    );
  }
  assert.deepEqual(
    problemsWith((i) => (i.listen = { address: "127.0.0.1", httpPort: 8080, httpsPort: 8443 })),
    [],
  );
});

test("the worker user is a lowercase system user name of 1 to 32 characters, or null for none", () => {
  for (const user of ["", "Nginx", "1nginx", "-nginx", "nginx;", "nginx; daemon off", "www data", "nginx\n", "x".repeat(33)]) {
    assert.deepEqual(
      problemsWith((i) => (i.runtime = { user })),
      [`runtime.user: expected a user name, got ${json(user)}`],
      user,
    );
  }
  for (const user of ["nginx", "www-data", "_apt", "a", "u1", "x".repeat(32), null]) {
    assert.deepEqual(
      problemsWith((i) => (i.runtime = { user })),
      [],
      String(user),
    );
  }
});

test("worker processes are auto or a positive whole number", () => {
  for (const workers of [0, -1, 1.5, Number.NaN, "4" as unknown as number, "Auto" as unknown as "auto"]) {
    assert.deepEqual(
      problemsWith((i) => (i.runtime = { workerProcesses: workers })),
      [`runtime.workerProcesses: expected auto or a positive integer, got ${json(workers)}`],
      String(workers),
    );
  }
  for (const workers of ["auto", 1, 2, 64] as const) {
    assert.deepEqual(
      problemsWith((i) => (i.runtime = { workerProcesses: workers })),
      [],
      String(workers),
    );
  }
});

test("renderNginxConf refuses an invalid input with every problem, separated by semicolons", () => {
  assert.throws(() => renderNginxConf({ ...valid, upstream: { alias: "app;", port: 0 }, runtime: { workerProcesses: 0 } }), {
    message:
      'invalid nginx config input: upstream.alias: expected a Docker network alias like app, got "app;"; ' +
      "upstream.port: expected a port from 1 to 65535, got 0; " +
      "runtime.workerProcesses: expected auto or a positive integer, got 0",
  });
});
