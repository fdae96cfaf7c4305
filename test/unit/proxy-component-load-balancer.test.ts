// run-tests: own process (Pulumi's mocks, set by test/support/pulumi-mocks.ts, are process-wide)
// The Proxy component behind a load balancer (ProxyArgs.loadBalancer) under Pulumi mocks: no
// certbot image, placeholder, issuance or certbot container; nginx publishes port 80 alone on both
// addresses, mounts the drain flag's directory, runs the load-balancer entrypoint and healthcheck,
// and is what `ready` waits for; nginx.conf is the load-balancer rendering, with Grafana by its
// alias, by a known address (a string) or by an address known once deployed (an Output).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { API_ALIAS } from "../../components/common/names";
import { Proxy, type ProxyArgs, type ProxyLoadBalancer } from "../../components/proxy";
import {
  LOAD_BALANCER_HOST_PATHS,
  NGINX_IMAGE,
  loadBalancerHealthcheckTest,
  nginxMounts,
  renderNginxConfCommand,
  renderPrepareCommand,
} from "../../components/proxy/commands";
import {
  DEFAULT_PROXY_SETTINGS,
  DOCKER_DNS_RESOLVER,
  DRAIN_FLAG_PATH,
  IMAGE_NGINX_VERSION,
  renderLoadBalancerNginxEntrypoint,
  renderNginxConf,
  type NginxConfInput,
} from "../../components/proxy/render";
import { outputValue, recordResources } from "../support/pulumi-mocks";

const created = recordResources();

/** The arguments of a Proxy on a droplet of its own, without loadBalancer. */
function proxyArgs(name: string, hosts: ProxyArgs["hosts"]) {
  const connection = { host: "203.0.113.20", user: "deploy" };
  const hostReady = new command.remote.Command(`${name}-ready`, { connection, create: "true" });
  return {
    hosts,
    appPort: 8000,
    healthPath: "/healthz",
    settings: { ...DEFAULT_PROXY_SETTINGS },
    hsts: true,
    tls: { email: "ops@example.com", staging: false },
    dockerProvider: new docker.Provider(`${name}-docker`, { host: "ssh://deploy@203.0.113.20" }),
    networkName: "app-net",
    ingressNetworkName: "ingress-net",
    connection,
    hostReady,
  };
}

function proxy<LoadBalancer extends ProxyLoadBalancer | undefined>(
  name: string,
  hosts: ProxyArgs["hosts"],
  loadBalancer: LoadBalancer,
): Proxy<LoadBalancer> {
  return new Proxy(name, { ...proxyArgs(name, hosts), loadBalancer });
}

/** The nginx.conf the component must install, Grafana's upstream as given. */
const expectedConf = (hosts: ProxyArgs["hosts"], monitoringUpstream?: NginxConfInput["monitoringUpstream"]) =>
  renderNginxConf({
    hosts,
    upstream: { alias: API_ALIAS, port: 8000 },
    ...(monitoringUpstream ? { monitoringUpstream } : {}),
    hsts: true,
    settings: DEFAULT_PROXY_SETTINGS,
    resolver: DOCKER_DNS_RESOLVER,
    healthPath: "/healthz",
    nginxVersion: IMAGE_NGINX_VERSION,
    loadBalancer: { drainFlag: DRAIN_FLAG_PATH },
  });

const TLS_ONLY = ["-certbot-image", "-certbot-placeholder", "-certbot-issue", "-certbot"];

const variants: {
  label: string;
  hosts: ProxyArgs["hosts"];
  loadBalancer: ProxyLoadBalancer;
  grafana?: { alias: string; port: number };
}[] = [
  { label: "api and app, no monitoring", hosts: { api: "api.example.com", app: "app.example.com" }, loadBalancer: {} },
  {
    label: "monitoring on this droplet, by Grafana's alias",
    hosts: { api: "api.example.com", monitoring: "grafana.example.com" },
    loadBalancer: {},
    grafana: { alias: "grafana", port: 3000 },
  },
  {
    label: "monitoring on another droplet, by a known address",
    hosts: { api: "api.example.net", app: "app.example.net", monitoring: "monitoring.example.net" },
    loadBalancer: { monitoringUpstream: { address: "10.110.0.7", port: 3000 } },
    grafana: { alias: "10.110.0.7", port: 3000 },
  },
  {
    label: "monitoring on another droplet, by an address known once deployed",
    hosts: { api: "api.example.org", monitoring: "grafana.example.org" },
    loadBalancer: { monitoringUpstream: { address: pulumi.output(Promise.resolve("10.110.0.9")), port: 13000 } },
    grafana: { alias: "10.110.0.9", port: 13000 },
  },
];

describe("Proxy behind a load balancer (mocks)", () => {
  variants.forEach((variant, index) => {
    describe(variant.label, () => {
      const name = `lb${index}`;
      let component: Proxy<ProxyLoadBalancer>;
      before(() => {
        component = proxy(name, variant.hosts, variant.loadBalancer);
      });

      it("registers no certbot: no image, placeholder, issuance or container", async () => {
        await outputValue(component.nginx.urn);
        for (const suffix of TLS_ONLY) assert.equal(created.has(`${name}${suffix}`), false, suffix);
        for (const suffix of ["-nginx-image", "-proxy-dirs", "-nginx-conf", "-nginx"]) assert.ok(created.has(`${name}${suffix}`), suffix);
        assert.equal(component.certbot, undefined);
        assert.equal(component.certbotImage, undefined);
        assert.equal(component.placeholder, undefined);
        assert.equal(component.issuance, undefined);
        assert.equal(component.ready, component.nginx, "ready once nginx is healthy");
      });

      it("publishes port 80 alone, on IPv4 and IPv6, with the load-balancer entrypoint, healthcheck and mounts", async () => {
        const nginx = await created.inputsOf(component.nginx);
        assert.deepEqual(nginx.ports, [
          { internal: 80, external: 80, ip: "0.0.0.0", protocol: "tcp" },
          { internal: 80, external: 80, ip: "::", protocol: "tcp" },
        ]);
        assert.deepEqual(
          (nginx.uploads as { content: string }[]).map((u) => u.content),
          [renderLoadBalancerNginxEntrypoint()],
        );
        assert.deepEqual((nginx.healthcheck as { tests: string[] }).tests, loadBalancerHealthcheckTest());
        const volumes = (nginx.volumes as { hostPath: string; containerPath: string; readOnly: boolean }[]).map((v) => [
          v.hostPath,
          v.containerPath,
          v.readOnly,
        ]);
        assert.deepEqual(
          volumes,
          nginxMounts(LOAD_BALANCER_HOST_PATHS).map((m) => [m.hostPath, m.containerPath, m.readOnly]),
        );
      });

      it("prepares the config's and the drain flag's directories and installs the load-balancer rendering", async () => {
        await outputValue(component.config.urn);
        // Not a member: found by the name the component gives it.
        assert.equal(created.get(`${name}-proxy-dirs`)?.inputs.create, renderPrepareCommand(LOAD_BALANCER_HOST_PATHS));
        const install = await created.inputsOf(component.config);
        assert.equal(install.create, renderNginxConfCommand({ image: NGINX_IMAGE, paths: LOAD_BALANCER_HOST_PATHS }));
        const expected = expectedConf(variant.hosts, variant.grafana);
        assert.equal(install.stdin, expected);
        const conf = pulumi.Output.isInstance(component.nginxConf) ? await outputValue(component.nginxConf) : component.nginxConf;
        assert.equal(conf, expected);
        assert.equal(typeof component.nginxConf === "string", typeof (variant.loadBalancer.monitoringUpstream?.address ?? "") === "string");
      });
    });
  });

  it("types the members only TLS mode has, and nginxConf, by what the loadBalancer argument may be", async () => {
    const hosts = { api: "api.example.com", monitoring: "grafana.example.com" };
    // Compile-time checks: each assignment type-checks, or is refused (@ts-expect-error), as the types promise.
    const tls = new Proxy("types-tls", proxyArgs("types-tls", hosts));
    const tlsCertbot: docker.Container = tls.certbot;
    const tlsConf: string = tls.nginxConf;
    const known = proxy("types-known", hosts, { monitoringUpstream: { address: "10.1.0.2", port: 3000 } });
    const knownConf: string = known.nginxConf;
    // @ts-expect-error behind a load balancer there is no certbot
    const knownCertbot: docker.Container = known.certbot;
    const deployed = proxy("types-deployed", hosts, { monitoringUpstream: { address: pulumi.output("10.1.0.3"), port: 3000 } });
    // @ts-expect-error Grafana's address known once deployed makes nginx.conf an Output
    const deployedConf: string = deployed.nginxConf;
    // As a program that scales gives it: only past one droplet.
    const sometimes = (balanced: boolean) =>
      new Proxy(`types-${balanced}`, { ...proxyArgs(`types-${balanced}`, hosts), ...(balanced ? { loadBalancer: {} } : {}) });
    // @ts-expect-error certbot only when the argument is left out
    const sometimesCertbot: docker.Container = sometimes(false).certbot;

    assert.ok(tlsCertbot instanceof docker.Container);
    assert.equal(typeof tlsConf, "string");
    assert.equal(typeof knownConf, "string");
    assert.equal(knownCertbot, undefined);
    assert.ok(pulumi.Output.isInstance(deployedConf));
    assert.match(await outputValue(deployedConf as unknown as pulumi.Output<string>), /set \$dropstack_monitoring 10\.1\.0\.3:3000;/);
    assert.ok(sometimesCertbot instanceof docker.Container);
    assert.equal(sometimes(true).certbot, undefined);
  });

  it("refuses Grafana's address without a monitoring host to serve it on", () => {
    assert.throws(
      () => proxy("no-monitoring-host", { api: "api.example.com" }, { monitoringUpstream: { address: "10.1.0.2", port: 3000 } }),
      { message: "Proxy loadBalancer.monitoringUpstream: needs hosts.monitoring, the host nginx serves Grafana on" },
    );
  });
});
