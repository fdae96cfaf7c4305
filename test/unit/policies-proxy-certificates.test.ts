// proxy-trusted-certificates: which resources it reads a certbot script from, and which it
// leaves alone. The scripts are components/proxy's own renderings (staging CA and real CA);
// each travels every way the policy knows (an issuing Command's stdin, a container upload,
// alone or among other uploads in any position) and every way it does not (the same props
// on resources of other types). Resources with no certbot script at all are generated too:
// empty, missing or non-text stdin and uploads, and the nginx container's own files.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { renderNginxConf } from "../../components/proxy/render";
import { renderCertbotScript } from "../../components/proxy/scripts";
import { proxyTrustedCertificates } from "../../policies/proxy";
import { FakeResource, resourceViolations, typeOf } from "../support/policy";

const COMMAND = typeOf(command.remote.Command);
const CONTAINER = typeOf(docker.Container);

const script = (staging: boolean) =>
  renderCertbotScript({ domains: ["api.example.com", "app.example.com"], email: "ops@example.com", staging });
const STAGING = script(true);
const REAL = script(false);
const NGINX_CONF = renderNginxConf({
  hosts: { api: "api.example.com", app: "app.example.com" },
  upstream: { alias: "api", port: 8000 },
  hsts: true,
});
const OTHER_UPLOADS = [
  { file: "/etc/nginx/nginx.conf", content: NGINX_CONF },
  { file: "/usr/local/bin/entrypoint.sh", content: "#!/bin/sh\nexec nginx -g 'daemon off;'\n" },
  { file: "/etc/certbot/env", contentBase64: Buffer.from("ACME_STAGING='1'\n").toString("base64") },
];

const MESSAGE = (name: string) =>
  `${name} issues certificates from Let's Encrypt's staging CA, which browsers do not trust: set dropstack:tls.staging to false`;

/** The script as a container upload placed at every position among the container's other files. */
function containersCarrying(content: string): FakeResource[] {
  const upload = { file: "/usr/local/bin/certbot.sh", content };
  return OTHER_UPLOADS.map((_, i) => ({
    type: CONTAINER,
    name: `certbot-${i}`,
    props: { uploads: [...OTHER_UPLOADS.slice(0, i), upload, ...OTHER_UPLOADS.slice(i)] },
  })).concat([{ type: CONTAINER, name: "certbot-alone", props: { uploads: [upload] } }]);
}

describe("proxy-trusted-certificates", () => {
  it("flags the staging CA script in a Command's stdin and in a container upload among other files, naming the resource", async () => {
    const carriers = [
      { type: COMMAND, name: "certbot-issue", props: { create: "sh -s issue", stdin: STAGING } },
      ...containersCarrying(STAGING),
    ];
    for (const r of carriers) assert.deepEqual(await resourceViolations(proxyTrustedCertificates, r), [MESSAGE(r.name ?? "")], r.name);
  });

  it("accepts the real CA's script wherever it travels", async () => {
    const carriers = [{ type: COMMAND, name: "certbot-issue", props: { create: "sh -s issue", stdin: REAL } }, ...containersCarrying(REAL)];
    for (const r of carriers) assert.deepEqual(await resourceViolations(proxyTrustedCertificates, r), [], r.name);
  });

  it("passes Commands and containers that carry no certbot script", async () => {
    const resources: FakeResource[] = [
      { type: CONTAINER, name: "nginx", props: { uploads: OTHER_UPLOADS } },
      { type: CONTAINER, name: "no-uploads", props: { uploads: [] } },
      { type: CONTAINER, name: "no-upload-list", props: {} },
      { type: CONTAINER, name: "odd-uploads", props: { uploads: [null, "ACME_STAGING='1'", { file: "/x", content: 1 }] } },
      { type: COMMAND, name: "nginx-conf", props: { create: "sh -s", stdin: NGINX_CONF } },
      { type: COMMAND, name: "no-stdin", props: { create: "systemctl reload docker" } },
      { type: COMMAND, name: "empty-stdin", props: { create: "sh -s", stdin: "" } },
    ];
    for (const r of resources) assert.deepEqual(await resourceViolations(proxyTrustedCertificates, r), [], r.name);
  });

  it("reads only Commands and containers: other resources with the same props are not scripts run on the droplet", async () => {
    const types = [typeOf(docker.Service), typeOf(docker.RemoteImage), typeOf(command.local.Command), "digitalocean:index/droplet:Droplet"];
    for (const type of types) {
      const r: FakeResource = {
        type,
        name: "elsewhere",
        props: { create: "sh -s issue", stdin: STAGING, uploads: [{ file: "/usr/local/bin/certbot.sh", content: STAGING }] },
      };
      assert.deepEqual(await resourceViolations(proxyTrustedCertificates, r), [], type);
    }
  });
});
