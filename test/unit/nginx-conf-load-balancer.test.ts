// renderNginxConf behind a load balancer (NginxConfInput.loadBalancer), read back with
// nginxDirectives for classes of inputs: one host or three, routes that send nothing to the api,
// Grafana by alias or by another droplet's address, both ways of reaching the services (upstream
// groups on the image's nginx, variables on Debian's), default and loopback ports. Every host is
// plain HTTP on the HTTP port, the client comes from X-Forwarded-For, the services are told
// https, the security headers are those of the TLS rendering, and the default server answers the
// load balancer's health path alone. The TLS rendering of the same inputs keeps none of it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LOAD_BALANCER_HEALTH_PATH } from "../../components/common/names";
import {
  DRAIN_FLAG_PATH,
  NGINX_PROBE_PORT,
  nginxDirectives,
  renderNginxConf,
  validateNginxConfInput,
  type NginxConfInput,
  type NginxDirective,
} from "../../components/proxy/render";
import { problemsAfterChange } from "../support/nginx-input";

const FRONTEND = { frontend: { alias: "frontend", port: 8080 } };

const VARIANTS: [string, NginxConfInput][] = [
  ["api alone", { hosts: { api: "api.example.com" }, upstream: { alias: "api", port: 8000 }, hsts: true }],
  [
    "api and app, the app's / to the frontend, a CSP and a custom health path",
    {
      hosts: { api: "api.example.com", app: "app.example.com" },
      upstream: { alias: "api", port: 8081 },
      services: FRONTEND,
      hsts: true,
      contentSecurityPolicy: "default-src 'self'",
      healthPath: "/healthz",
    },
  ],
  [
    "routes that send nothing to the api, HSTS off",
    {
      hosts: { api: "api.example.net", app: "app.example.net" },
      upstream: { alias: "api", port: 8000 },
      services: { ...FRONTEND, "worker:site": { alias: "worker-site", port: 9000 } },
      routes: [
        { host: "api.example.net", path: "/", service: "frontend" },
        { host: "app.example.net", path: "/", service: "worker:site" },
      ],
      hsts: false,
    },
  ],
  [
    "Grafana on another droplet, by its private address",
    {
      hosts: { api: "api.example.org", monitoring: "grafana.example.org" },
      upstream: { alias: "api", port: 8000 },
      monitoringUpstream: { alias: "10.110.0.7", port: 3000 },
      hsts: true,
    },
  ],
  [
    "Grafana by its alias, on loopback with high ports and a probe port of its own",
    {
      hosts: { api: "api.example.org", app: "www.example.org", monitoring: "monitoring.example.org" },
      upstream: { alias: "api", port: 8000 },
      monitoringUpstream: { alias: "grafana", port: 3000 },
      hsts: true,
      listen: { address: "127.0.0.1", httpPort: 18080, httpsPort: 18443, probePort: 18081 },
    },
  ],
];
const VERSIONS = [
  ["the image's nginx (upstream groups)", "1.28.0"],
  ["Debian's nginx (variables)", "1.22.1"],
] as const;

const behindLoadBalancer = (input: NginxConfInput, drainFlag = DRAIN_FLAG_PATH) =>
  renderNginxConf({ ...input, loadBalancer: { drainFlag } });
/** Each server block's directives, keyed by its server_name (`_` for the default, `probe` for the probe's, which has none). */
function servers(conf: string): Map<string, NginxDirective[]> {
  const directives = nginxDirectives(conf);
  const byServer = new Map<string, NginxDirective[]>();
  let current: NginxDirective[] = [];
  for (const d of directives) {
    if (d.block && d.name === "server" && d.context.join() === "http") {
      current = [];
      byServer.set(`#${byServer.size}`, current);
    } else if (d.context[1] === "server") current.push(d);
  }
  return new Map(
    [...byServer.values()].map((body) => [
      body.find((d) => d.name === "server_name" && d.context.length === 2)?.args.join(" ") ?? "probe",
      body,
    ]),
  );
}
const args = (body: NginxDirective[], name: string, depth = 2) =>
  body.filter((d) => d.name === name && d.context.length === depth).map((d) => d.args.join(" "));
const httpPortOf = (input: NginxConfInput) =>
  input.listen?.address ? `${input.listen.address}:${input.listen.httpPort ?? 80}` : `${input.listen?.httpPort ?? 80}`;

for (const [versionLabel, nginxVersion] of VERSIONS) {
  for (const [label, variant] of VARIANTS) {
    describe(`behind a load balancer, ${versionLabel}: ${label}`, () => {
      const input = { ...variant, nginxVersion };
      const conf = behindLoadBalancer(input);
      const tls = renderNginxConf(input);
      const directives = nginxDirectives(conf);
      const byName = servers(conf);
      const hosts = [input.hosts.api, input.hosts.app, input.hosts.monitoring].filter((h): h is string => h !== undefined);
      const groups = nginxVersion === "1.28.0";

      it("serves every host on the HTTP port without TLS: no ssl directive, no http2, no redirect, the webroot on hosts.api only", () => {
        assert.deepEqual([...byName.keys()].sort(), ["_", "probe", ...hosts].sort());
        for (const host of hosts) assert.deepEqual(args(byName.get(host)!, "listen"), [httpPortOf(input)], host);
        assert.deepEqual(
          directives.filter((d) => d.name.startsWith("ssl_") || d.name === "http2").map((d) => d.name),
          [],
        );
        assert.ok(!directives.some((d) => d.name === "listen" && d.args.includes("ssl")));
        assert.doesNotMatch(conf, /return 301|ssl_reject_handshake/);
        // The backup freshness file the monitoring probes through nginx (hooks/schedule.ts BACKUP_PROBE).
        const webroot = directives.filter((d) => d.name === "location" && d.args.join(" ") === "^~ /.well-known/acme-challenge/");
        assert.deepEqual(
          webroot.map((d) => d.context.join()),
          ["http,server"],
        );
        assert.deepEqual(
          args(byName.get(input.hosts.api)!, "location").filter((a) => a.includes("acme")),
          ["^~ /.well-known/acme-challenge/"],
        );
      });

      it("takes the client from the last X-Forwarded-For address, for every server, with why it is safe", () => {
        assert.deepEqual(
          directives
            .filter((d) => d.name.startsWith("set_real_ip_from") || d.name.startsWith("real_ip_"))
            .map((d) => [d.context.join(), d.name, ...d.args]),
          [
            ["http", "set_real_ip_from", "0.0.0.0/0"],
            ["http", "set_real_ip_from", "::/0"],
            ["http", "real_ip_header", "X-Forwarded-For"],
            ["http", "real_ip_recursive", "off"],
          ],
        );
        assert.match(conf, /# Trusting every sender is safe: the droplet's firewall admits port 80 from the load balancer\n\s*# only/);
        assert.doesNotMatch(tls, /real_ip/);
      });

      it("tells every service the request came over https, where the TLS rendering passes $scheme", () => {
        const proto = (text: string) =>
          nginxDirectives(text)
            .filter((d) => d.name === "proxy_set_header" && d.args[0] === "X-Forwarded-Proto")
            .map((d) => d.args[1]);
        const passes = directives.filter((d) => d.name === "proxy_pass").length;
        assert.deepEqual(proto(conf), Array<string>(passes).fill("https"));
        assert.ok(proto(tls).length > 0 && proto(tls).every((value) => value === "$scheme"));
        // One more proxy_pass than with TLS: the load balancer's health location.
        assert.equal(passes, nginxDirectives(tls).filter((d) => d.name === "proxy_pass").length + 1);
      });

      it("sends every host the security headers of the TLS rendering, HSTS as configured", () => {
        const tlsServers = servers(tls);
        for (const host of hosts) {
          const headers = (body: NginxDirective[]) => body.filter((d) => d.name === "add_header").map((d) => [d.context.length, ...d.args]);
          assert.deepEqual(headers(byName.get(host)!), headers(tlsServers.get(host)!), host);
          assert.equal(
            args(byName.get(host)!, "add_header").some((a) => a.startsWith("Strict-Transport-Security")),
            input.hsts,
            host,
          );
        }
      });

      it("keeps each host's locations as they are with TLS", () => {
        const tlsServers = servers(tls);
        for (const host of hosts) {
          const withoutHead = (body: NginxDirective[]) =>
            body.filter((d) => !(d.context.length === 2 && ["listen", "http2"].includes(d.name)) && !d.name.startsWith("ssl_"));
          const unproto = (body: NginxDirective[]) =>
            withoutHead(body).map((d) => ({ ...d, args: d.args.map((a) => (a === "https" ? "$scheme" : a)) }));
          // hosts.api's webroot location is the one addition (the TLS rendering serves it on port 80).
          const withoutWebroot = (body: NginxDirective[]) =>
            body.filter(
              (d) =>
                !d.context
                  .concat(d.name === "location" ? [`location ${d.args.join(" ")}`] : [])
                  .includes("location ^~ /.well-known/acme-challenge/"),
            );
          assert.deepEqual(withoutWebroot(unproto(byName.get(host)!)), withoutHead(tlsServers.get(host)!), host);
        }
      });

      it("answers only the load balancer's health path for other names: the api's health, 503 while drained, not limited nor logged", () => {
        const fallback = byName.get("_")!;
        assert.deepEqual(args(fallback, "listen"), [`${httpPortOf(input)} default_server`]);
        const locations = fallback.filter((d) => d.name === "location").map((d) => d.args.join(" "));
        assert.deepEqual(locations, [`= ${LOAD_BALANCER_HEALTH_PATH}`, "/"]);
        assert.deepEqual(args(fallback, "return", 3), ["444"]);
        const health = fallback.filter((d) => d.context.at(-1) === `location = ${LOAD_BALANCER_HEALTH_PATH}`);
        const statement = (d: NginxDirective) => [d.name, ...d.args].join(" ");
        assert.deepEqual(health.slice(0, 4).map(statement), [
          "access_log off",
          `if (-f ${DRAIN_FLAG_PATH})`,
          `rewrite ^ ${input.healthPath ?? "/health"} break`,
          groups ? "proxy_pass http://dropstack_upstream" : "proxy_pass http://$dropstack_upstream",
        ]);
        assert.deepEqual(fallback.filter((d) => d.context.at(-1)?.startsWith("if ")).map(statement), ["return 503"]);
        assert.ok(!fallback.some((d) => d.name.startsWith("limit_req")), "never rate-limited");
        if (!groups) assert.deepEqual(args(fallback, "set"), [`$dropstack_upstream api:${input.upstream.port}`]);
      });

      it("reaches the api from the health location even when no route does", () => {
        const upstreams = directives.filter((d) => d.name === "upstream").map((d) => d.args[0]);
        if (groups) assert.ok(upstreams.includes("dropstack_upstream"), upstreams.join());
        else assert.deepEqual(upstreams, []);
      });

      it("answers the container's healthcheck itself on loopback, unlogged", () => {
        const probe = byName.get("probe")!;
        assert.deepEqual(
          probe.map((d) => [d.name, ...d.args].join(" ")),
          [`listen 127.0.0.1:${input.listen?.probePort ?? NGINX_PROBE_PORT}`, "access_log off", "return 200"],
        );
      });

      it("proxies Grafana to the given alias or address as it is", () => {
        const grafana = input.monitoringUpstream;
        assert.deepEqual(
          directives.filter((d) => d.name === "set" && d.args[0] === "$dropstack_monitoring").map((d) => d.args[1]),
          grafana ? [`${grafana.alias}:${grafana.port}`] : [],
        );
      });
    });
  }
}

describe("the drain flag and the probe port", () => {
  const valid: NginxConfInput = { ...VARIANTS[0][1], loadBalancer: { drainFlag: DRAIN_FLAG_PATH } };

  it("renders the drain flag given", () => {
    for (const flag of ["/srv/proxy/drain/draining", "/tmp/x/drain.flag", "/a"])
      assert.match(behindLoadBalancer(VARIANTS[0][1], flag), new RegExp(`^ *if \\(-f ${flag.replace(/\./g, "\\.")}\\) \\{$`, "m"));
  });

  it("refuses a drain flag that is no absolute path nginx reads verbatim", () => {
    assert.deepEqual(validateNginxConfInput(valid), []);
    for (const flag of ["", "draining", "/srv/drain flag", "/srv/$flag", "/srv/a;b", "/srv/{x}", undefined, 7]) {
      assert.deepEqual(
        problemsAfterChange(valid, (i) => (i.loadBalancer = { drainFlag: flag as string })),
        [`loadBalancer.drainFlag: expected an absolute path of letters, digits and ._@+-/, got ${JSON.stringify(flag)}`],
        String(flag),
      );
    }
    assert.throws(() => behindLoadBalancer(VARIANTS[0][1], "relative"), /^Error: invalid nginx config input: loadBalancer\.drainFlag: /);
  });

  it("refuses a probe port that is no port, or the HTTP port", () => {
    for (const probePort of [0, 65536, 80.5, Number.NaN])
      assert.deepEqual(
        problemsAfterChange(valid, (i) => (i.listen = { probePort })),
        [`listen.probePort: expected a port from 1 to 65535, got ${JSON.stringify(probePort)}`],
      );
    assert.deepEqual(
      problemsAfterChange(valid, (i) => (i.listen = { httpPort: 8080, probePort: 8080 })),
      ["listen.probePort: must differ from listen.httpPort (8081 and 80 when unset), both are 8080"],
    );
    assert.deepEqual(
      problemsAfterChange(valid, (i) => (i.listen = { httpPort: NGINX_PROBE_PORT })),
      [`listen.probePort: must differ from listen.httpPort (8081 and 80 when unset), both are ${NGINX_PROBE_PORT}`],
    );
    for (const listen of [{ probePort: 1 }, { probePort: 65535 }, { httpPort: 8081, probePort: 8082 }])
      assert.deepEqual(
        problemsAfterChange(valid, (i) => (i.listen = listen)),
        [],
      );
    // Without a load balancer the HTTP port may be the probe's default: nothing listens there then.
    assert.deepEqual(validateNginxConfInput({ ...VARIANTS[0][1], listen: { httpPort: NGINX_PROBE_PORT } }), []);
  });
});

describe("Grafana by address, without a load balancer too", () => {
  it("renders an IPv4 address and port as the upstream nginx uses as it is", () => {
    for (const [alias, port] of [
      ["10.110.0.7", 3000],
      ["192.168.1.20", 13000],
      ["172.16.0.2", 1],
    ] as const) {
      const conf = renderNginxConf({ ...VARIANTS[3][1], monitoringUpstream: { alias, port } });
      assert.match(conf, new RegExp(`^ *set \\$dropstack_monitoring ${alias.replace(/\./g, "\\.")}:${port};$`, "m"));
    }
  });
});
