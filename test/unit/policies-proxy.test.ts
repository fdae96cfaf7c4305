import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { CERTBOT_IMAGE, NGINX_IMAGE, nginxConfHostPath, renderNginxConfCommand } from "../../components/proxy/commands";
import { renderNginxConf } from "../../components/proxy/render";
import { nginxConfsOf, nginxHstsEnabled, nginxTlsMinimum, proxyImagesPinned } from "../../policies/proxy";
import { FakeResource, resourceViolations, stackViolations, typeOf } from "../support/policy";

const COMMAND = typeOf(command.remote.Command);
const CONTAINER = typeOf(docker.Container);
const REMOTE_IMAGE = typeOf(docker.RemoteImage);

const conf = (hsts: boolean) =>
  renderNginxConf({ hosts: { api: "api.example.com", app: "app.example.com" }, upstream: { alias: "api", port: 8000 }, hsts });

/** The Command components/proxy registers to install nginx.conf, carrying `text` on stdin. */
function installCommand(text: string): FakeResource {
  return { type: COMMAND, name: "nginx-conf", props: { create: renderNginxConfCommand({ image: NGINX_IMAGE }), stdin: text } };
}

describe("finding the nginx.conf", () => {
  it("reads it from the installing Command's stdin and from container uploads, nowhere else", () => {
    assert.deepEqual(nginxConfsOf(COMMAND, installCommand("events {}\n").props), ["events {}\n"]);
    assert.deepEqual(nginxConfsOf(COMMAND, { create: "echo hi", stdin: "events {}\n" }), [], "another Command's stdin is not a config");
    assert.deepEqual(
      nginxConfsOf(CONTAINER, {
        uploads: [
          { file: "/etc/nginx/nginx.conf", content: "events {}\n" },
          { file: "/x.sh", content: "echo" },
        ],
      }),
      ["events {}\n"],
    );
    assert.equal(nginxConfHostPath().endsWith("/nginx.conf"), true);
  });
});

describe("nginx-tls-minimum-1.2", () => {
  it("passes the config components/proxy renders", async () => {
    assert.deepEqual(await resourceViolations(nginxTlsMinimum, installCommand(conf(true))), []);
  });

  it("flags TLS 1.0 and 1.1", async () => {
    const weak = conf(true).replace("ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;");
    const violations = await resourceViolations(nginxTlsMinimum, installCommand(weak));
    assert.equal(violations.length, 1);
    assert.match(
      violations[0],
      /allows TLSv1, TLSv1\.1: ssl_protocols must list only TLSv1\.2 and TLSv1\.3 \(components\/proxy\/render\.ts\)/,
    );
  });

  it("flags a config that leaves the protocols to nginx's default", async () => {
    const violations = await resourceViolations(nginxTlsMinimum, installCommand(conf(true).replace("ssl_protocols TLSv1.2 TLSv1.3;", "")));
    assert.equal(violations.length, 1);
    assert.match(violations[0], /sets no ssl_protocols/);
  });

  it("flags an uploaded nginx.conf too", async () => {
    const container: FakeResource = {
      type: CONTAINER,
      name: "edge",
      props: { uploads: [{ file: "/etc/nginx/nginx.conf", content: conf(true).replace("TLSv1.2 TLSv1.3", "SSLv3 TLSv1.2") }] },
    };
    assert.equal((await resourceViolations(nginxTlsMinimum, container)).length, 1);
  });
});

describe("nginx-hsts-enabled", () => {
  it("passes the production rendering", async () => {
    assert.deepEqual(await resourceViolations(nginxHstsEnabled, installCommand(conf(true))), []);
  });

  it("flags a rendering without HSTS, and one with max-age=0", async () => {
    const off = await resourceViolations(nginxHstsEnabled, installCommand(conf(false)));
    assert.equal(off.length, 1);
    assert.match(off[0], /sends no Strict-Transport-Security header: production renders it with hsts on/);
    const zero = conf(true).replace(/max-age=\d+/g, "max-age=0");
    assert.equal((await resourceViolations(nginxHstsEnabled, installCommand(zero))).length, 1);
  });
});

describe("proxy-images-pinned", () => {
  const stack = (nginxImage = NGINX_IMAGE, certbotImage = CERTBOT_IMAGE): FakeResource[] => [
    { type: REMOTE_IMAGE, name: "nginx-image", props: { name: nginxImage } },
    { type: REMOTE_IMAGE, name: "certbot-image", props: { name: certbotImage } },
    {
      type: CONTAINER,
      name: "nginx",
      dependsOn: ["nginx-image"],
      props: { image: "sha256:aa", labels: [{ label: "dropstack.role", value: "proxy" }] },
    },
    {
      type: CONTAINER,
      name: "certbot",
      dependsOn: ["certbot-image"],
      props: { image: "sha256:bb", labels: [{ label: "dropstack.role", value: "certbot" }] },
    },
  ];

  it("passes the images components/proxy pins, and digests", async () => {
    assert.deepEqual(await stackViolations(proxyImagesPinned, stack()), []);
    const digest = `@sha256:${"ab".repeat(32)}`;
    assert.deepEqual(await stackViolations(proxyImagesPinned, stack(`nginx${digest}`, `certbot/certbot${digest}`)), []);
  });

  it("flags latest, a bare major and a minor line, naming the constant to change", async () => {
    for (const [nginx, certbot] of [
      ["nginx:latest", CERTBOT_IMAGE],
      ["nginx:1", CERTBOT_IMAGE],
      ["nginx:1.28-alpine", CERTBOT_IMAGE],
      [NGINX_IMAGE, "certbot/certbot:latest"],
      [NGINX_IMAGE, "certbot/certbot"],
    ]) {
      const violations = await stackViolations(proxyImagesPinned, stack(nginx, certbot));
      assert.equal(violations.length, 1, `${nginx} ${certbot}: ${violations.join("; ")}`);
      assert.match(
        violations[0],
        nginx === NGINX_IMAGE
          ? /certbot image .* set CERTBOT_IMAGE in components\/proxy\/commands\.ts/
          : /nginx image .* set NGINX_IMAGE in components\/proxy\/commands\.ts/,
      );
    }
  });

  it("flags a labelled container that runs an unpinned image of another name, or one it cannot trace", async () => {
    const custom: FakeResource[] = [
      { type: REMOTE_IMAGE, name: "custom-image", props: { name: "registry.example.com/edge:stable" } },
      {
        type: CONTAINER,
        name: "nginx",
        dependsOn: ["custom-image"],
        props: { image: "sha256:aa", labels: [{ label: "dropstack.role", value: "proxy" }] },
      },
    ];
    assert.match((await stackViolations(proxyImagesPinned, custom))[0] ?? "", /"registry\.example\.com\/edge:stable" can change/);
    const untraced: FakeResource[] = [
      { type: CONTAINER, name: "certbot", props: { image: "sha256:bb", labels: [{ label: "dropstack.role", value: "certbot" }] } },
    ];
    assert.match(
      (await stackViolations(proxyImagesPinned, untraced))[0] ?? "",
      /cannot tell which image the certbot container certbot runs/,
    );
  });

  it("leaves other images alone", async () => {
    assert.deepEqual(
      await stackViolations(proxyImagesPinned, [{ type: REMOTE_IMAGE, name: "app", props: { name: "ghcr.io/acme/api:latest" } }]),
      [],
    );
  });
});
