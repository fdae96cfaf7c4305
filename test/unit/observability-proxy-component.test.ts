// run-tests: own process (Pulumi's mocks, set by test/support/pulumi-mocks.ts, are process-wide)
// The Proxy component on its own under Pulumi mocks, with and without hosts.monitoring (which
// the committed stacks do not set yet): Grafana's alias and port from the Observability
// settings reach nginx.conf, and the monitoring host joins every list of domains, the
// certbot script's, the nginx entrypoint's, the placeholder's and the issuance check's.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { API_ALIAS } from "../../components/common/names";
import { SERVICES } from "../../components/observability/settings";
import { Proxy, type ProxyArgs } from "../../components/proxy";
import { DEFAULT_PROXY_SETTINGS, DOCKER_DNS_RESOLVER, IMAGE_NGINX_VERSION, renderNginxConf } from "../../components/proxy/render";
import { recordResources } from "../support/pulumi-mocks";

const created = recordResources();

function proxy(name: string, hosts: ProxyArgs["hosts"]): Proxy {
  const connection = { host: "203.0.113.10", user: "deploy" };
  const hostReady = new command.remote.Command(`${name}-ready`, { connection, create: "true" });
  return new Proxy(name, {
    hosts,
    appPort: 8000,
    healthPath: "/health",
    settings: { ...DEFAULT_PROXY_SETTINGS },
    hsts: true,
    tls: { email: "ops@example.com", staging: false },
    dockerProvider: new docker.Provider(`${name}-docker`, { host: "ssh://deploy@203.0.113.10" }),
    networkName: "app-net",
    ingressNetworkName: "ingress-net",
    connection,
    hostReady,
  });
}

const uploaded = async (container: docker.Container) =>
  (((await created.inputsOf(container)).uploads as { content: string }[]) ?? [])[0].content;

const variants: [string, ProxyArgs["hosts"], string[]][] = [
  ["api alone", { api: "api.example.com" }, ["api.example.com"]],
  ["api and monitoring", { api: "api.example.com", monitoring: "grafana.example.com" }, ["api.example.com", "grafana.example.com"]],
  [
    "api, app and monitoring",
    { api: "api.example.net", app: "app.example.net", monitoring: "monitoring.ops.example.net" },
    ["api.example.net", "app.example.net", "monitoring.ops.example.net"],
  ],
];

describe("Proxy with and without hosts.monitoring (mocks)", () => {
  for (const [label, hosts, domains] of variants) {
    describe(label, () => {
      const name = `p${variants.findIndex(([l]) => l === label)}`;
      let component: Proxy;
      before(() => {
        component = proxy(name, hosts);
      });

      it("renders nginx.conf with Grafana's alias and port from the Observability settings, only for a monitoring host", () => {
        assert.deepEqual([SERVICES.grafana.alias, SERVICES.grafana.port], ["grafana", 3000]);
        const expected = renderNginxConf({
          hosts,
          upstream: { alias: API_ALIAS, port: 8000 },
          ...(hosts.monitoring ? { monitoringUpstream: { alias: "grafana", port: 3000 } } : {}),
          hsts: true,
          settings: DEFAULT_PROXY_SETTINGS,
          resolver: DOCKER_DNS_RESOLVER,
          healthPath: "/health",
          nginxVersion: IMAGE_NGINX_VERSION,
        });
        assert.equal(component.nginxConf, expected);
        assert.equal(component.nginxConf.includes("set $dropstack_monitoring grafana:3000;"), hosts.monitoring !== undefined);
      });

      it("certifies every host, monitoring included: certbot's domains, nginx's wait, the placeholder and the issuance check", async () => {
        const quoted = `'${domains.join(" ")}'`;
        assert.match(await uploaded(component.certbot), new RegExp(`^DOMAINS=${quoted}$`, "m"));
        assert.match(await uploaded(component.nginx), new RegExp(`^DOMAINS=${quoted}$`, "m"));
        assert.match(
          String((await created.inputsOf(component.placeholder)).create),
          new RegExp(`certificates for ${domains.join(", ")} until`),
        );
        assert.match(
          String((await created.inputsOf(component.issuance)).create),
          new RegExp(`\\nfor host in ${domains.map((d) => `'${d}'`).join(" ")}; do\\n`),
        );
      });
    });
  }
});
