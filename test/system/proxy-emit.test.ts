// `npm run check -- <stack> --emit` writes the nginx.conf the Proxy installs on the droplet;
// here Debian's real nginx checks and serves those bytes, with the changes localNginxCopy()
// makes (and asserts) to run them on this machine, the same ones `npm run validate-emitted`
// makes: the container's paths and ports move into a temp dir and loopback, and HTTP/2
// goes back to `listen … http2` for Debian 12's nginx 1.22, which does not know `http2 on;`
// (the only difference between the two renderings, NGINX-VERSIONS.md).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { monitoringHost } from "../../components/observability/config";
import { nginxHealthcheckTest } from "../../components/proxy/commands";
import { hasHsts, nginxDirectives, tlsProtocolsIn } from "../../components/proxy/render";
import { type CheckReport, emittedCommittedStack } from "../support/check";
import { committedValue } from "../support/program";
import { requireTools } from "../../tools/lib/system";
import {
  httpRequest,
  httpsRequest,
  localNginxCopy,
  localNginxSite,
  localNginxVersion,
  requireNginxTools,
  startNginx,
  testNginxConf,
  type LocalNginxCopy,
  type RunningNginx,
} from "../../tools/lib/nginx-harness";

const tools = { ...requireNginxTools(), busybox: requireTools([{ command: "busybox", debianPackage: "busybox" }]).busybox };

/** The container healthcheck's argv, with busybox's wget (the Alpine image's) and the local port. */
function runHealthcheck(host: string, port: number) {
  const [, wget, ...args] = nginxHealthcheckTest(host, port);
  return spawnSync(tools.busybox, [wget, ...args], { encoding: "utf8", timeout: 10000 });
}

for (const stack of ["production", "staging"] as const) {
  describe(`npm run check -- ${stack} --emit: nginx.conf`, () => {
    const hosts = committedValue<{ api: string; app?: string; monitoring?: string }>(stack, "dropstack:hosts");
    // Production runs the monitoring (dropstack:observability's default there), so nginx serves Grafana's host too.
    const grafana = stack === "production" ? [monitoringHost(committedValue<string>(stack, "dropstack:domain"), hosts)] : [];
    const served = [hosts.api, ...(hosts.app ? [hosts.app] : []), ...grafana];
    let emitDir: string;
    let emitted: string;
    let local: LocalNginxCopy;
    let nginx: RunningNginx | undefined;
    let report: CheckReport;

    before(async () => {
      ({ report, dir: emitDir } = emittedCommittedStack(stack));
      emitted = readFileSync(join(emitDir, "nginx.conf"), "utf8");
      local = await localNginxCopy(emitted, localNginxVersion(tools.nginx));
      assert.deepEqual([...local.hosts].sort(), [...served].sort(), "placeholder certificates for every host it serves");
    });
    after(async () => {
      await nginx?.stop();
      if (local) rmSync(local.dir, { recursive: true, force: true });
    });

    test("the check passes and writes nginx.conf for the stack's hosts", () => {
      assert.equal(report.status, 0, report.stderr);
      assert.ok(
        !report.json?.violations.some((v) => v.policy.startsWith("nginx-") || v.policy === "proxy-images-pinned"),
        JSON.stringify(report.json?.violations),
      );
      const names = nginxDirectives(emitted)
        .filter((d) => d.name === "server_name")
        .map((d) => d.args.join(" "));
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
      nginx = await startNginx(tools.nginx, localNginxSite(local));
      const healthy = runHealthcheck(hosts.api, local.httpPort);
      assert.equal(healthy.status, 0, `healthcheck failed: ${healthy.stderr}`);
      assert.notEqual(runHealthcheck("unknown.example.org", local.httpPort).status, 0, "a name nginx does not serve is not healthy");

      const redirect = await httpRequest({ port: local.httpPort, host: hosts.api, path: "/x?y=1" });
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.location, `https://${hosts.api}/x?y=1`);
      for (const host of served) {
        // No app behind the alias here (nor Docker's DNS): nginx answers 502 itself, with its headers.
        const reply = await httpsRequest({
          port: local.httpsPort,
          host,
          path: "/",
          ca: readFileSync(join(local.certDir, host, "fullchain.pem"), "utf8"),
        });
        assert.equal(reply.status, 502);
        assert.equal(reply.headers["strict-transport-security"] !== undefined, stack === "production", `${host}: HSTS in production only`);
        assert.equal(reply.headers["x-frame-options"], "DENY");
      }
    });
  });
}
