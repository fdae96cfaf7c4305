// The proxy policies on nginx behind a load balancer (NginxConfInput.loadBalancer): the load
// balancer terminates TLS, so the config listens with TLS nowhere and names no ssl_protocols;
// nginx-tls-minimum-1.2 has nothing to pin there, but still flags a config that does listen with
// TLS without naming its protocols, and old protocols wherever they are named. HSTS is still sent.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as command from "@pulumi/command";
import { LOAD_BALANCER_HOST_PATHS, NGINX_IMAGE, renderNginxConfCommand } from "../../components/proxy/commands";
import { DRAIN_FLAG_PATH, listensWithTls, renderNginxConf, type NginxConfInput } from "../../components/proxy/render";
import { nginxHstsEnabled, nginxTlsMinimum } from "../../policies/proxy";
import { FakeResource, resourceViolations, typeOf } from "../support/policy";

const COMMAND = typeOf(command.remote.Command);

const INPUTS: [string, NginxConfInput][] = [
  ["api alone", { hosts: { api: "api.example.com" }, upstream: { alias: "api", port: 8000 }, hsts: true }],
  [
    "api, app and monitoring by address",
    {
      hosts: { api: "api.example.net", app: "app.example.net", monitoring: "grafana.example.net" },
      upstream: { alias: "api", port: 8081 },
      monitoringUpstream: { alias: "10.110.0.7", port: 3000 },
      hsts: true,
      nginxVersion: "1.22.1",
    },
  ],
];

const behindLoadBalancer = (input: NginxConfInput) => renderNginxConf({ ...input, loadBalancer: { drainFlag: DRAIN_FLAG_PATH } });

/** The Command the Proxy registers behind a load balancer to install nginx.conf, carrying `text` on stdin. */
function installCommand(text: string): FakeResource {
  return {
    type: COMMAND,
    name: "nginx-conf",
    props: { create: renderNginxConfCommand({ image: NGINX_IMAGE, paths: LOAD_BALANCER_HOST_PATHS }), stdin: text },
  };
}

describe("listensWithTls", () => {
  it("is true for a listen with the ssl parameter, wherever it stands among the others", () => {
    for (const listen of ["listen 443 ssl;", "listen [::]:443 ssl;", "listen 127.0.0.1:8443 ssl default_server;", "listen 443 ssl http2;"])
      assert.equal(listensWithTls(`http { server { ${listen} } }`), true, listen);
  });

  it("is false for plain listens, a commented one, and ssl named by another directive", () => {
    for (const conf of [
      "http { server { listen 80; } }",
      "http { server { listen 443; listen 80 default_server; } }",
      "http { server { listen 80; # listen 443 ssl;\n } }",
      "http { server { listen 80; server_name ssl; } }",
      "http { ssl_protocols TLSv1.2; }",
    ])
      assert.equal(listensWithTls(conf), false, conf);
  });

  it("tells the renderings apart: TLS mode listens with TLS, load-balancer mode nowhere", () => {
    for (const [label, input] of INPUTS) {
      assert.equal(listensWithTls(renderNginxConf(input)), true, label);
      assert.equal(listensWithTls(behindLoadBalancer(input)), false, label);
    }
  });
});

describe("the proxy policies on nginx behind a load balancer", () => {
  for (const [label, input] of INPUTS) {
    describe(label, () => {
      it("pass the rendering, which names no ssl_protocols and sends HSTS", async () => {
        const conf = behindLoadBalancer(input);
        assert.doesNotMatch(conf, /ssl_protocols/);
        assert.deepEqual(await resourceViolations(nginxTlsMinimum, installCommand(conf)), []);
        assert.deepEqual(await resourceViolations(nginxHstsEnabled, installCommand(conf)), []);
      });

      it("still flag protocols older than TLS 1.2 when the config names them", async () => {
        const weak = behindLoadBalancer(input).replace(
          "real_ip_recursive off;",
          "real_ip_recursive off;\n    ssl_protocols TLSv1.1 TLSv1.2;",
        );
        const violations = await resourceViolations(nginxTlsMinimum, installCommand(weak));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /allows TLSv1\.1: ssl_protocols must list only TLSv1\.2 and TLSv1\.3/);
      });

      it("still flag a config that listens with TLS somewhere and leaves the protocols to nginx", async () => {
        const withTls = behindLoadBalancer(input).replace(/listen 80;/, "listen 80;\n        listen 443 ssl;");
        const violations = await resourceViolations(nginxTlsMinimum, installCommand(withTls));
        assert.equal(violations.length, 1);
        assert.match(violations[0], /sets no ssl_protocols/);
      });

      it("flag the rendering without HSTS", async () => {
        const violations = await resourceViolations(nginxHstsEnabled, installCommand(behindLoadBalancer({ ...input, hsts: false })));
        assert.equal(violations.length, 1);
      });
    });
  }
});
