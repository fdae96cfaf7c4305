// Where nginx-tls-minimum-1.2 and nginx-hsts-enabled find an nginx.conf: an install Command's
// stdin or a container upload of a file named nginx.conf, as plain text. The cases carry a
// config both policies refuse (TLS 1.0, no HSTS) every other way a resource could: the same
// props on resources of every other type, uploads whose text is not plain (base64, missing,
// not a string), and a mix of uploads in which only the plain nginx.conf counts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { NGINX_IMAGE, renderNginxConfCommand } from "../../components/proxy/commands";
import { renderNginxConf } from "../../components/proxy/render";
import { nginxConfsOf, nginxHstsEnabled, nginxTlsMinimum } from "../../policies/proxy";
import { FakeResource, resourceViolations, typeOf } from "../support/policy";

const CONTAINER = typeOf(docker.Container);

const WEAK = renderNginxConf({
  hosts: { api: "api.example.com", app: "app.example.com" },
  upstream: { alias: "api", port: 8000 },
  hsts: false,
}).replace("ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1 TLSv1.2;");
const CONF_PATH = "/etc/nginx/nginx.conf";

describe("finding the nginx.conf", () => {
  it("reads nothing from resources other than Commands and containers, whatever props they carry", async () => {
    const types = [
      typeOf(docker.Service),
      typeOf(docker.RemoteImage),
      typeOf(docker.Image),
      typeOf(command.local.Command),
      "digitalocean:index/droplet:Droplet",
    ];
    const props = {
      create: renderNginxConfCommand({ image: NGINX_IMAGE }),
      stdin: WEAK,
      uploads: [{ file: CONF_PATH, content: WEAK }],
    };
    for (const type of types) {
      assert.deepEqual(nginxConfsOf(type, props), [], type);
      const r: FakeResource = { type, name: "elsewhere", props };
      assert.deepEqual(await resourceViolations(nginxTlsMinimum, r), [], type);
      assert.deepEqual(await resourceViolations(nginxHstsEnabled, r), [], type);
    }
  });

  it("reads an uploaded nginx.conf only when its text is plain, and every one that is", async () => {
    const uploads = [
      { file: CONF_PATH, contentBase64: Buffer.from(WEAK).toString("base64") },
      { file: "/etc/nginx/conf.d/nginx.conf" },
      { file: "/srv/nginx.conf", content: 443 },
      { file: "/srv/nginx.conf", content: ["ssl_protocols TLSv1;"] },
      { file: "/etc/nginx/nginx.conf.orig", content: WEAK },
      { file: "/srv/other/nginx.conf", content: "events {}\n" },
      { file: CONF_PATH, content: WEAK },
    ];
    assert.deepEqual(nginxConfsOf(CONTAINER, { uploads }), ["events {}\n", WEAK]);
    const container: FakeResource = { type: CONTAINER, name: "edge", props: { uploads: uploads.slice(0, 4) } };
    assert.deepEqual(await resourceViolations(nginxTlsMinimum, container), []);
    assert.deepEqual(await resourceViolations(nginxHstsEnabled, container), []);
  });
});
