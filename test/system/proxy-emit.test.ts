// `npm run check -- <stack> --emit` writes the nginx.conf the Proxy installs on the droplet;
// here Debian's real nginx checks and serves those bytes. Two kinds of change are needed to
// run them on this machine, and the test makes exactly these (asserting each one happened):
// - the container's paths (certificates, webroot, pid, logs) move into a temp dir, the
//   ports to free loopback ones, and nginx gets temp dirs and no `user` (it runs
//   unprivileged, as every server in these tests does);
// - HTTP/2 goes back to `listen … http2`: the file is rendered for the image's nginx 1.28,
//   where `http2 on;` replaced it, and Debian 12 ships 1.22, which does not know `http2 on;`
//   (the only difference between the two renderings, NGINX-VERSIONS.md).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { HEALTH_PROBE, nginxHealthcheckTest } from "../../components/proxy/commands";
import { ACME_WEBROOT, CERT_DIR, hasHsts, nginxDirectives, tlsProtocolsIn } from "../../components/proxy/render";
import { runCheck } from "../support/check";
import { committedValue } from "../support/program";
import { freePort, makeTempDir, requireTools } from "../support/system";
import {
  httpRequest, httpsRequest, requireNginxTools, startNginx, testNginxConf, writePlaceholderCertificates, type NginxSite, type RunningNginx,
} from "./nginx-harness";

const tools = { ...requireNginxTools(), busybox: requireTools([{ command: "busybox", debianPackage: "busybox" }]).busybox };

interface LocalConf {
  dir: string;
  confPath: string;
  certDir: string;
  httpPort: number;
  httpsPort: number;
  text: string;
}

/** Swaps `from` for `to` and fails unless it occurred exactly `times` times (or at least once). */
function replaceCounted(text: string, from: string | RegExp, to: string, times?: number): string {
  const pattern = typeof from === "string" ? new RegExp(from.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"), "g") : from;
  const count = text.match(pattern)?.length ?? 0;
  assert.ok(times === undefined ? count > 0 : count === times, `expected ${times ?? "some"} of ${pattern} in the emitted nginx.conf, found ${count}`);
  return text.replace(pattern, to);
}

async function localCopy(emitted: string, hosts: string[]): Promise<LocalConf> {
  const dir = makeTempDir("proxy-emit");
  const certDir = join(dir, "certs");
  const webroot = join(dir, "acme");
  writePlaceholderCertificates(certDir, hosts);
  mkdirSync(join(webroot, ".well-known", "acme-challenge"), { recursive: true });
  writeFileSync(join(webroot, HEALTH_PROBE.path), HEALTH_PROBE.content);
  const httpPort = await freePort();
  const httpsPort = await freePort();
  const httpsServers = (emitted.match(/listen 443 ssl/g) ?? []).length;

  let text = emitted;
  text = replaceCounted(text, /^user nginx;\n/m, "", 1);
  text = replaceCounted(text, "pid /var/run/nginx.pid;", `pid ${dir}/nginx.pid;`, 1);
  text = replaceCounted(text, "error_log /var/log/nginx/error.log", `error_log ${dir}/error.log`, 1);
  text = replaceCounted(text, "access_log /var/log/nginx/access.log;", `access_log ${dir}/access.log;`, 1);
  text = replaceCounted(text, /^http \{\n/m, `http {\n${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((k) => `    ${k}_temp_path ${dir}/${k};\n`).join("")}`, 1);
  text = replaceCounted(text, `${CERT_DIR}/`, `${certDir}/`);
  text = replaceCounted(text, `root ${ACME_WEBROOT};`, `root ${webroot};`, 1);
  text = replaceCounted(text, /listen 80( |;)/g, `listen 127.0.0.1:${httpPort}$1`, 2);
  text = replaceCounted(text, /listen 443 ssl( default_server)?;\n(\s*)http2 on;\n/g, `listen 127.0.0.1:${httpsPort} ssl http2$1;\n`, httpsServers);
  const confPath = join(dir, "nginx.conf");
  writeFileSync(confPath, text);
  return { dir, confPath, certDir, httpPort, httpsPort, text };
}

function asSite(local: LocalConf): NginxSite {
  return {
    dir: local.dir, certDir: local.certDir, webroot: join(local.dir, "acme"), staticRoot: join(local.dir, "static"),
    httpPort: local.httpPort, httpsPort: local.httpsPort, confPath: local.confPath,
    input: { hosts: { api: "unused.example" }, upstream: { alias: "api", port: 8000 }, hsts: false, runtime: { pidFile: join(local.dir, "nginx.pid"), errorLog: join(local.dir, "error.log") } },
  };
}

/** The container healthcheck's argv, with busybox's wget (the Alpine image's) and the local port. */
function runHealthcheck(host: string, port: number) {
  const [, wget, ...args] = nginxHealthcheckTest(host, port);
  return spawnSync(tools.busybox, [wget, ...args], { encoding: "utf8", timeout: 10000 });
}

for (const stack of ["production", "staging"] as const) {
  describe(`npm run check -- ${stack} --emit: nginx.conf`, () => {
    const hosts = committedValue<{ api: string; app?: string }>(stack, "dropstack:hosts");
    const served = [hosts.api, ...(hosts.app ? [hosts.app] : [])];
    const emitDir = makeTempDir(`emit-${stack}`);
    let emitted: string;
    let local: LocalConf;
    let nginx: RunningNginx | undefined;
    let report: ReturnType<typeof runCheck>;

    before(async () => {
      report = runCheck(stack, { extraArgs: ["--emit", emitDir] });
      emitted = readFileSync(join(emitDir, "nginx.conf"), "utf8");
      local = await localCopy(emitted, served);
    });
    after(async () => {
      await nginx?.stop();
      rmSync(emitDir, { recursive: true, force: true });
      if (local) rmSync(local.dir, { recursive: true, force: true });
    });

    test("the check passes and writes nginx.conf for the stack's hosts", () => {
      assert.equal(report.status, 0, report.stderr);
      assert.ok(!report.json?.violations.some((v) => v.policy.startsWith("nginx-") || v.policy === "proxy-images-pinned"), JSON.stringify(report.json?.violations));
      const names = nginxDirectives(emitted).filter((d) => d.name === "server_name").map((d) => d.args.join(" "));
      for (const host of served) assert.ok(names.includes(host), `${host} is served`);
      assert.deepEqual(tlsProtocolsIn(emitted), ["TLSv1.2", "TLSv1.3"]);
      assert.equal(hasHsts(emitted), stack === "production", "HSTS in production only");
    });

    test("real nginx -t accepts it, without a warning", () => {
      const result = testNginxConf(tools.nginx, local.confPath);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stderr, /test is successful/);
      assert.doesNotMatch(result.stderr, /\[(warn|emerg|alert|crit)\]/, result.stderr);
    });

    test("served, it passes the container's healthcheck and answers HTTPS for every host", async () => {
      nginx = await startNginx(tools.nginx, asSite(local));
      const healthy = runHealthcheck(hosts.api, local.httpPort);
      assert.equal(healthy.status, 0, `healthcheck failed: ${healthy.stderr}`);
      assert.notEqual(runHealthcheck("unknown.example.org", local.httpPort).status, 0, "a name nginx does not serve is not healthy");

      const redirect = await httpRequest({ port: local.httpPort, host: hosts.api, path: "/x?y=1" });
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.location, `https://${hosts.api}/x?y=1`);
      for (const host of served) {
        // No app behind the alias here (nor Docker's DNS): nginx answers 502 itself, with its headers.
        const reply = await httpsRequest({ port: local.httpsPort, host, path: "/", ca: readFileSync(join(local.certDir, host, "fullchain.pem"), "utf8") });
        assert.equal(reply.status, 502);
        assert.equal(reply.headers["strict-transport-security"] !== undefined, stack === "production", `${host}: HSTS in production only`);
        assert.equal(reply.headers["x-frame-options"], "DENY");
      }
    });
  });
}
