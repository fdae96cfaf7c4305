// The Proxy as the production program registers it under mocks, with proxy and app settings
// changed from the committed ones so every value is seen to flow from config into nginx.conf.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { API_ALIAS, FRONTEND_ALIAS } from "../../components/common/names";
import { PROMOTED_IMAGE_OUTPUT } from "../../components/promotion";
import {
  CERTBOT_IMAGE,
  HEALTH_PROBE,
  NGINX_IMAGE,
  PROXY_HOST_PATHS,
  nginxConfHostPath,
  nginxHealthcheckTest,
  stdinInstallPath,
} from "../../components/proxy/commands";
import { CERTBOT_SCRIPT_PATH, NGINX_ENTRYPOINT_PATH } from "../../components/proxy";
import {
  ACME_WEBROOT,
  CERT_DIR,
  IMAGE_NGINX_VERSION,
  LETSENCRYPT_DIR,
  NGINX_CONF_PATH,
  hasHsts,
  nginxDirectives,
  nginxVersionFromImage,
  tlsProtocolsIn,
} from "../../components/proxy/render";
import { EMITTED_FILES } from "../../tools/check/emit";
import type { Graph, Registration } from "../../tools/check/harness";
import { setStackReferenceOutputs } from "../../tools/check/mocks";
import { committedValue, runStack } from "../support/program";

const COMMAND = "command:remote:Command";
const CONTAINER = "docker:index/container:Container";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const PROXY = { rateLimit: 7, burst: 13, maxBodySize: "3m" };
const committedApp = committedValue<Record<string, unknown>>("production", "dropstack:app");
const APP = { ...committedApp, port: 8081, healthPath: "/healthz" };
const hosts = committedValue<{ api: string; app: string }>("production", "dropstack:hosts");
const tls = committedValue<{ email: string; staging: boolean }>("production", "dropstack:tls");

type Upload = { file: string; content: string };
type Volume = { hostPath: string; containerPath: string; readOnly?: boolean };

describe("Proxy component (production, mocks)", () => {
  let graph: Graph;
  let outputs: Record<string, unknown>;
  let nginx: Registration;
  let certbot: Registration;
  let placeholder: Registration;
  let install: Registration;
  let issuance: Registration;
  let conf: string;

  before(async () => {
    setStackReferenceOutputs(committedValue<{ stagingStack: string }>("production", "dropstack:promotion").stagingStack, {
      [PROMOTED_IMAGE_OUTPUT]: String(committedApp.image),
    });
    ({ graph, outputs } = await runStack({ stack: "production", override: { "dropstack:proxy": PROXY, "dropstack:app": APP } }));
    nginx = graph.one(CONTAINER, "-nginx");
    certbot = graph.one(CONTAINER, "-certbot");
    placeholder = graph.one(COMMAND, "-certbot-placeholder");
    install = graph.one(COMMAND, "-nginx-conf");
    issuance = graph.one(COMMAND, "-certbot-issue");
    conf = String(install.inputs.stdin);
  });

  it("runs pinned nginx and certbot images, pulled on the droplet by the docker provider", () => {
    assert.equal(NGINX_IMAGE, "nginx:1.28.0-alpine");
    assert.match(CERTBOT_IMAGE, /^certbot\/certbot:v\d+\.\d+\.\d+$/);
    const nginxImage = graph.one(REMOTE_IMAGE, "-nginx-image");
    const certbotImage = graph.one(REMOTE_IMAGE, "-certbot-image");
    assert.equal(nginxImage.inputs.name, NGINX_IMAGE);
    assert.equal(certbotImage.inputs.name, CERTBOT_IMAGE);
    assert.equal(nginx.inputs.image, nginxImage.outputs.imageId);
    assert.ok(nginx.propertyDependencies.image?.includes(nginxImage.urn));
    assert.ok(certbot.propertyDependencies.image?.includes(certbotImage.urn));
    const provider = graph.one("pulumi:providers:docker", "");
    for (const r of [nginxImage, certbotImage, nginx, certbot])
      assert.ok(r.provider?.startsWith(`${provider.urn}::`), `${r.name} runs on the droplet's docker`);
  });

  it("renders nginx.conf for the image's nginx version", () => {
    assert.equal(nginxVersionFromImage(NGINX_IMAGE), IMAGE_NGINX_VERSION);
    assert.match(conf.split("\n")[0], new RegExp(`for nginx ${IMAGE_NGINX_VERSION.replace(/\./g, "\\.")}\\.$`));
    // http2 as its own directive is what 1.25.1+ expects.
    assert.ok(nginxDirectives(conf).some((d) => d.name === "http2" && d.args[0] === "on"));
  });

  it("publishes 80 and 443 on IPv4 and IPv6, in the provider's read-back order, on the app and ingress networks", () => {
    const ports = (nginx.inputs.ports as { internal: number; external: number; ip: string }[]).map(
      (p) => `${p.ip} ${p.external}->${p.internal}`,
    );
    assert.deepEqual(ports, ["0.0.0.0 80->80", ":: 80->80", "0.0.0.0 443->443", ":: 443->443"]);
    const network = graph.one("docker:index/network:Network", "app-network");
    const ingress = graph.one("docker:index/network:Network", "ingress-network");
    assert.deepEqual(nginx.inputs.networksAdvanced, [{ name: network.inputs.name }, { name: ingress.inputs.name }]);
    assert.equal(nginx.inputs.networkMode, undefined);
    assert.equal(certbot.inputs.ports, undefined, "certbot publishes nothing");
  });

  it("mounts the config directory, certificates and webroot read-only in nginx, and read-write in certbot", () => {
    const nginxVolumes = (nginx.inputs.volumes as Volume[])
      .map((v) => `${v.hostPath}:${v.containerPath}:${v.readOnly ? "ro" : "rw"}`)
      .sort();
    assert.deepEqual(nginxVolumes, [
      `${PROXY_HOST_PATHS.acme}:${ACME_WEBROOT}:ro`,
      `${PROXY_HOST_PATHS.certs}:${CERT_DIR}:ro`,
      // The directory, not the file: a renamed-in nginx.conf is only seen through a directory mount.
      `${PROXY_HOST_PATHS.confDir}:${NGINX_CONF_PATH.slice(0, NGINX_CONF_PATH.lastIndexOf("/"))}:ro`,
    ]);
    const certbotVolumes = (certbot.inputs.volumes as Volume[])
      .map((v) => `${v.hostPath}:${v.containerPath}:${v.readOnly ? "ro" : "rw"}`)
      .sort();
    assert.deepEqual(certbotVolumes, [
      `${PROXY_HOST_PATHS.acme}:${ACME_WEBROOT}:rw`,
      `${PROXY_HOST_PATHS.certs}:${CERT_DIR}:rw`,
      `${PROXY_HOST_PATHS.letsencrypt}:${LETSENCRYPT_DIR}:rw`,
    ]);
    for (const path of Object.values(PROXY_HOST_PATHS)) assert.ok(path.startsWith("/srv/"), `${path} is on the data volume`);
  });

  it("installs nginx.conf on the droplet where the container reads it, checked by the image's nginx -t first", () => {
    assert.equal(stdinInstallPath(install.inputs.create), nginxConfHostPath());
    assert.equal(nginxConfHostPath(), `${PROXY_HOST_PATHS.confDir}/nginx.conf`);
    const create = String(install.inputs.create);
    assert.match(create, new RegExp(`--entrypoint nginx '${NGINX_IMAGE}' -t -q -c '${NGINX_CONF_PATH}'`));
    assert.ok(create.indexOf("-t -q") < create.indexOf('mv -f "$tmp" "$target"'), "checked before it is moved into place");
    assert.ok(!(nginx.inputs.uploads as Upload[]).some((u) => u.file.endsWith("nginx.conf")), "not baked into the container");
    assert.equal(EMITTED_FILES["nginx.conf"](graph.registrations), conf, "--emit writes the installed bytes");
  });

  it("renders the hosts, the app alias and port, and the proxy settings from config", () => {
    const directives = nginxDirectives(conf);
    const names = directives.filter((d) => d.name === "server_name").map((d) => d.args.join(" "));
    assert.ok(names.includes(hosts.api) && names.includes(hosts.app));
    // The image's nginx (1.28) re-resolves an upstream group's alias: `server <alias>:<port> resolve max_fails=0;`,
    // one group for the api replicas and one for the committed frontend's.
    assert.deepEqual(
      directives.filter((d) => d.name === "server" && !d.block).map((d) => [d.context.at(-1), ...d.args]),
      [
        ["upstream dropstack_upstream", `${API_ALIAS}:${APP.port}`, "resolve", "max_fails=0"],
        [
          "upstream dropstack_frontend",
          `${FRONTEND_ALIAS}:${committedValue<{ port: number }>("production", "dropstack:frontend").port}`,
          "resolve",
          "max_fails=0",
        ],
      ],
      "proxies to the api replicas' alias and the frontend's",
    );
    assert.ok(
      directives.some((d) => d.name === "resolver" && d.args[0] === "127.0.0.11"),
      "re-resolves through Docker's DNS",
    );
    assert.ok(directives.some((d) => d.name === "limit_req_zone" && d.args.includes(`rate=${PROXY.rateLimit}r/s`)));
    assert.ok(directives.some((d) => d.name === "limit_req" && d.args.includes(`burst=${PROXY.burst}`)));
    assert.ok(directives.some((d) => d.name === "client_max_body_size" && d.args[0] === PROXY.maxBodySize));
    assert.ok(
      directives.some((d) => d.block && d.name === "location" && d.args.join(" ") === `= ${APP.healthPath}`),
      "the health path is exempt from rate limiting",
    );
    assert.ok(
      !directives.some((d) => d.name === "root" && d.context.some((c) => c.includes(hosts.app))),
      "no static root: hosts.app is proxied too",
    );
  });

  it("sends HSTS and allows TLS 1.2 and 1.3 only, in production", () => {
    assert.ok(hasHsts(conf));
    assert.deepEqual(tlsProtocolsIn(conf), ["TLSv1.2", "TLSv1.3"]);
  });

  it("runs the entrypoint and the certbot script as uploaded files, for every host", () => {
    assert.deepEqual(nginx.inputs.entrypoints, ["/bin/sh", NGINX_ENTRYPOINT_PATH]);
    const entrypoint = (nginx.inputs.uploads as Upload[]).find((u) => u.file === NGINX_ENTRYPOINT_PATH)?.content ?? "";
    // Production runs the monitoring, so Grafana's monitoring.<domain> is served and certified too.
    assert.match(entrypoint, new RegExp(`^DOMAINS='${hosts.api} ${hosts.app} monitoring.example.com'$`, "m"));
    assert.deepEqual(certbot.inputs.entrypoints, ["/bin/sh", CERTBOT_SCRIPT_PATH]);
    assert.deepEqual(certbot.inputs.command, ["loop"]);
    const script = (certbot.inputs.uploads as Upload[]).find((u) => u.file === CERTBOT_SCRIPT_PATH)?.content ?? "";
    assert.match(script, new RegExp(`^DOMAINS='${hosts.api} ${hosts.app} monitoring.example.com'$`, "m"));
    assert.match(script, new RegExp(`^ACME_EMAIL='${tls.email}'$`, "m"));
    assert.match(script, /^ACME_STAGING='0'$/m, "production uses Let's Encrypt's production CA");
    assert.equal(placeholder.inputs.stdin, script, "the one-shot steps run the same script");
    assert.equal(issuance.inputs.stdin, script);
    assert.match(String(placeholder.inputs.create), /certbot\.sh placeholder'$/m);
    assert.match(String(issuance.inputs.create), /certbot\.sh once'/);
  });

  it("restarts both containers unless stopped, rotates their logs, and health-gates nginx on the ACME path", () => {
    for (const c of [nginx, certbot]) {
      assert.equal(c.inputs.restart, "unless-stopped");
      assert.equal(c.inputs.logDriver, "json-file");
      assert.ok((c.inputs.logOpts as Record<string, string>)["max-size"]);
      assert.equal(c.deleteBeforeReplace, true, `${c.name}: the old one goes first (fixed name; nginx's ports)`);
    }
    const healthcheck = nginx.inputs.healthcheck as { tests: string[] };
    assert.deepEqual(healthcheck.tests, nginxHealthcheckTest(hosts.api));
    assert.ok(healthcheck.tests.at(-1)?.endsWith(HEALTH_PROBE.path));
    assert.equal(nginx.inputs.wait, true, "the update waits for nginx to turn healthy");
    assert.deepEqual(nginx.inputs.sysctls, { "net.ipv4.tcp_tw_reuse": "1", "net.ipv4.ip_local_port_range": "1024 65535" });
  });

  it("bootstraps in order: directories, placeholder, config, nginx, issuance, renewal loop", () => {
    const ready = graph.one(COMMAND, "-ready");
    const dirs = graph.one(COMMAND, "-proxy-dirs");
    const order = [ready, dirs, placeholder, install, nginx, issuance, certbot];
    for (let i = 1; i < order.length; i++) {
      assert.ok(graph.dependsOn(order[i], order[i - 1]), `${order[i].name} waits for ${order[i - 1].name}`);
      assert.ok(!graph.dependsOn(order[i - 1], order[i]), `${order[i - 1].name} does not wait for ${order[i].name}`);
    }
  });

  it("issues after the firewall and the DNS records exist, and fails the update when no trusted certificate results", () => {
    assert.ok(graph.dependsOn(issuance, graph.one("digitalocean:index/firewall:Firewall", "")));
    for (const record of graph.ofType("digitalocean:index/dnsRecord:DnsRecord"))
      assert.ok(graph.dependsOn(issuance, record), `waits for ${record.name}`);
    const create = String(issuance.inputs.create);
    assert.match(create, /exit "\$status"/, "a failed certbot run fails the Command");
    assert.match(
      create,
      /curl --silent --output \/dev\/null --max-time 10 --resolve "\$host:443:127\.0\.0\.1"/,
      "waits until nginx serves a certificate that verifies",
    );
    assert.doesNotMatch(create, /--insecure/);
  });

  it("runs the smoke test only once the proxy is ready", () => {
    const smoke = graph.one(COMMAND, "-smoke");
    assert.ok(graph.dependsOn(smoke, issuance));
    assert.ok(graph.dependsOn(smoke, nginx));
  });

  it("exports the container names", () => {
    assert.deepEqual(outputs.proxyContainers, { nginx: nginx.inputs.name, certbot: certbot.inputs.name });
  });
});
