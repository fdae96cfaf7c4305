// The Proxy's host side behind a load balancer: the paths and mounts (the drain flag's directory
// instead of the certificates and the webroot), the prepare and nginx.conf install Commands run
// by bash in a temp dir with sudo and docker stubbed, the container healthcheck, the entrypoint,
// and what the drain and undrain renderers refuse. test/system/nginx-load-balancer.test.ts runs
// the drain commands and the entrypoint against a real nginx.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { LOAD_BALANCER_HEALTH_PATH } from "../../components/common/names";
import {
  DRAIN_FLAG_HOST_PATH,
  HEALTH_PROBE,
  LOAD_BALANCER_HOST_PATHS,
  NGINX_IMAGE,
  PROXY_HOST_PATHS,
  type ProxyHostPaths,
  loadBalancerHealthcheckTest,
  nginxConfHostPath,
  nginxMounts,
  renderDrainCommand,
  renderNginxConfCommand,
  renderPrepareCommand,
  renderUndrainCommand,
} from "../../components/proxy/commands";
import {
  DRAIN_DIR,
  DRAIN_FLAG_PATH,
  NGINX_CONF_PATH,
  NGINX_PROBE_PORT,
  renderLoadBalancerNginxEntrypoint,
  renderNginxEntrypoint,
} from "../../components/proxy/render";
import { ACME_WEBROOT } from "../../components/proxy/paths";

const root = mkdtempSync(path.join(tmpdir(), "dropstack-proxy-lb-commands-"));
after(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
function hostPaths(): ProxyHostPaths {
  const base = path.join(root, `host-${++dirs}`);
  return {
    confDir: `${base}/conf`,
    certs: `${base}/certs`,
    acme: `${base}/acme`,
    letsencrypt: `${base}/letsencrypt`,
    drain: `${base}/drain`,
  };
}

function runRendered(script: string, stubs: string, input = "", env: Record<string, string> = {}) {
  return spawnSync("bash", ["-c", `${stubs}\n${script}`], { input, encoding: "utf8", env: { ...process.env, ...env } });
}

describe("paths and mounts behind a load balancer", () => {
  it("keep the drain flag on the /srv volume, beside nginx.conf, where nginx sees it read-only", () => {
    assert.equal(LOAD_BALANCER_HOST_PATHS.drain, "/srv/proxy/drain");
    assert.equal(DRAIN_FLAG_HOST_PATH, "/srv/proxy/drain/draining");
    assert.equal(path.posix.basename(DRAIN_FLAG_HOST_PATH), path.posix.basename(DRAIN_FLAG_PATH));
    assert.equal(path.posix.dirname(DRAIN_FLAG_PATH), DRAIN_DIR);
    assert.equal(nginxConfHostPath(LOAD_BALANCER_HOST_PATHS), nginxConfHostPath());
    assert.deepEqual(
      nginxMounts(LOAD_BALANCER_HOST_PATHS).map((m) => [m.hostPath, m.containerPath, m.readOnly]),
      [
        [PROXY_HOST_PATHS.confDir, path.posix.dirname(NGINX_CONF_PATH), true],
        ["/srv/proxy/drain", DRAIN_DIR, true],
        // The backup freshness file nginx serves on hosts.api.
        [PROXY_HOST_PATHS.acme, ACME_WEBROOT, true],
      ],
    );
    assert.equal(PROXY_HOST_PATHS.drain, undefined, "TLS mode mounts no drain flag");
  });

  it("the container healthcheck is nginx's own answer on its loopback probe port, with no host name", () => {
    assert.deepEqual(loadBalancerHealthcheckTest(), ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${NGINX_PROBE_PORT}/`]);
    for (const port of [1, 18081, 65535]) assert.equal(loadBalancerHealthcheckTest(port).at(-1), `http://127.0.0.1:${port}/`);
  });

  it("the entrypoint waits for no certificate and knows no domain", () => {
    const script = renderLoadBalancerNginxEntrypoint();
    assert.match(script, /^#!\/bin\/sh\n/);
    assert.match(script, new RegExp(`^NGINX_CONF='${NGINX_CONF_PATH}'$`, "m"));
    assert.match(script, /^CONF_CHECK_INTERVAL='60'$/m);
    assert.doesNotMatch(script, /DOMAINS|CERT_DIR|fullchain/);
    assert.match(renderNginxEntrypoint({ domains: ["api.example.com"] }), /certificates_present/, "the TLS one does wait");
    assert.match(
      renderLoadBalancerNginxEntrypoint({ confPath: "/tmp/n.conf", checkIntervalSeconds: 1 }),
      /^NGINX_CONF='\/tmp\/n\.conf'\nCONF_CHECK_INTERVAL='1'$/m,
    );
    assert.throws(() => renderLoadBalancerNginxEntrypoint({ confPath: "n.conf" }), /confPath: expected an absolute path/);
    for (const checkIntervalSeconds of [0, 1.5, -1])
      assert.throws(() => renderLoadBalancerNginxEntrypoint({ checkIntervalSeconds }), /checkIntervalSeconds: expected a whole number/);
  });
});

describe("prepare behind a load balancer", () => {
  // sudo without the ownership flags: the deploy user does not exist here.
  const sudo = `sudo() { if [ "$1" = install ]; then shift; local args=(); while [ $# -gt 0 ]; do case "$1" in -o|-g) shift 2 ;; *) args+=("$1"); shift ;; esac; done; install "\${args[@]}"; else "$@"; fi; }`;

  it("creates the config's and the drain flag's directories, both the deploy user's, the webroot, and nothing for certificates", () => {
    const paths = hostPaths();
    for (let run = 0; run < 2; run++) {
      const result = runRendered(renderPrepareCommand(paths), sudo);
      assert.equal(result.status, 0, `run ${run + 1} (it must be idempotent): ${result.stderr}`);
    }
    for (const dir of [paths.confDir, paths.drain!]) assert.equal((statSync(dir).mode & 0o777).toString(8), "755", dir);
    for (const dir of [paths.certs, paths.letsencrypt]) assert.throws(() => statSync(dir), /ENOENT/, dir);
    // Where the backup freshness check writes the file nginx serves (hooks/schedule.ts BACKUP_PROBE).
    const challengeDir = path.join(paths.acme, path.posix.dirname(HEALTH_PROBE.path));
    assert.equal((statSync(challengeDir).mode & 0o777).toString(8), "755");
    assert.throws(() => statSync(path.join(paths.acme, HEALTH_PROBE.path)), /ENOENT/, "the TLS healthcheck's probe file is not needed");
    assert.match(
      renderPrepareCommand(LOAD_BALANCER_HOST_PATHS),
      /^sudo install -d -m 0755 -o deploy -g deploy '\/srv\/proxy\/conf' '\/srv\/proxy\/drain'$/m,
    );
    assert.equal(renderPrepareCommand(PROXY_HOST_PATHS), renderPrepareCommand(), "TLS mode's is the default");
  });

  it("checks nginx.conf with the drain flag's directory mounted, and no certificate", () => {
    const paths = hostPaths();
    mkdirSync(paths.confDir, { recursive: true });
    const calls = path.join(paths.confDir, "..", "calls");
    const stub = `docker() { printf '%s\\n' "$*" >>"$CALLS"; cat >/dev/null; }`;
    const result = runRendered(renderNginxConfCommand({ image: NGINX_IMAGE, paths }), stub, "events {}\n", { CALLS: calls });
    assert.equal(result.status, 0, result.stderr);
    const call = readFileSync(calls, "utf8");
    assert.match(call, new RegExp(`-v ${paths.drain}:${DRAIN_DIR}:ro `));
    assert.match(call, new RegExp(`-v ${paths.acme}:${ACME_WEBROOT}:ro `));
    assert.doesNotMatch(call, /certs/);
    assert.equal(readFileSync(nginxConfHostPath(paths), "utf8"), "events {}\n");
  });
});

describe("drain and undrain", () => {
  it("set and remove the droplet's drain flag, and ask nginx's health path as the load balancer does", () => {
    const drain = renderDrainCommand({ waitSeconds: 30 });
    const undrain = renderUndrainCommand({ waitSeconds: 20, timeoutSeconds: 300 });
    assert.match(drain, new RegExp(`^flag='${DRAIN_FLAG_HOST_PATH}'$`, "m"));
    assert.match(drain, /^if ! touch "\$flag"; then$/m);
    assert.match(undrain, new RegExp(`^flag='${DRAIN_FLAG_HOST_PATH}'$`, "m"));
    assert.match(undrain, /^rm -f "\$flag"$/m);
    assert.match(undrain, new RegExp(`^url='http://127\\.0\\.0\\.1${LOAD_BALANCER_HEALTH_PATH}'$`, "m"));
    assert.match(undrain, /--header 'Host: 127\.0\.0\.1'/);
    assert.match(
      renderUndrainCommand({ waitSeconds: 0, timeoutSeconds: 1, port: 18080 }),
      /^url='http:\/\/127\.0\.0\.1:18080\/dropstack\/lb-health'$/m,
    );
    for (const text of [drain, undrain]) assert.match(text, /^set -eu$/m);
  });

  it("refuse waits and timeouts that are no whole number of seconds, and ports out of range", () => {
    for (const waitSeconds of [-1, 1.5, Number.NaN]) {
      assert.throws(() => renderDrainCommand({ waitSeconds }), /^Error: waitSeconds must be a whole number of seconds, at least 0/);
      assert.throws(() => renderUndrainCommand({ waitSeconds, timeoutSeconds: 60 }), /^Error: waitSeconds must be/);
    }
    for (const timeoutSeconds of [0, -5, 2.5])
      assert.throws(
        () => renderUndrainCommand({ waitSeconds: 10, timeoutSeconds }),
        /^Error: timeoutSeconds must be a whole number of seconds, at least 1/,
      );
    for (const port of [0, 65536, 80.5])
      assert.throws(() => renderUndrainCommand({ waitSeconds: 10, timeoutSeconds: 60, port }), /^Error: port must be from 1 to 65535/);
    for (const waitSeconds of [0, 1, 600]) {
      assert.doesNotThrow(() => renderDrainCommand({ waitSeconds }));
      assert.doesNotThrow(() => renderUndrainCommand({ waitSeconds, timeoutSeconds: 1 }));
    }
  });

  it("wait the whole time asked, in steps of at most ten seconds, saying how long so far", () => {
    // sleep records its argument instead of sleeping.
    for (const waitSeconds of [0, 1, 10, 11, 25, 60]) {
      const dir = mkdtempSync(path.join(root, "drain-"));
      const flag = path.join(dir, "draining");
      const result = runRendered(renderDrainCommand({ waitSeconds, flag }), `sleep() { printf '%s\\n' "$1" >>"${dir}/slept"; }`);
      assert.equal(result.status, 0, result.stderr);
      const steps = waitSeconds === 0 ? [] : readFileSync(`${dir}/slept`, "utf8").trim().split("\n").map(Number);
      assert.equal(
        steps.reduce((a, b) => a + b, 0),
        waitSeconds,
      );
      assert.ok(
        steps.every((s) => s >= 1 && s <= 10),
        steps.join(),
      );
      assert.equal((result.stdout.match(/^dropstack: draining: \d+s of \d+s$/gm) ?? []).length, steps.length);
      assert.match(result.stdout, new RegExp(`waiting ${waitSeconds}s for the load balancer to mark this droplet down`));
      assert.equal(statSync(flag).isFile(), true);
    }
  });

  it("drain fails, saying why, when the flag cannot be set", () => {
    const result = runRendered(
      renderDrainCommand({ waitSeconds: 5, flag: path.join(root, "missing", "dir", "draining") }),
      "sleep() { :; }",
    );
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /dropstack: cannot set the drain flag .*missing\/dir\/draining, so the load balancer would keep sending requests/,
    );
  });
});
