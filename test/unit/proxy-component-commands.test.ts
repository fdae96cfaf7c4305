// The Proxy's host-side Commands, run for real by bash in a temp dir, with docker, sudo,
// curl and sleep replaced by shell functions that record what they were asked to do.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import {
  CERTBOT_IMAGE,
  HEALTH_PROBE,
  NGINX_IMAGE,
  PROXY_HOST_PATHS,
  ProxyHostPaths,
  certbotMounts,
  nginxConfHostPath,
  nginxHealthcheckTest,
  nginxMounts,
  renderCertbotCommand,
  renderNginxConfCommand,
  renderPrepareCommand,
  stdinInstallPath,
} from "../../components/proxy/commands";
import { ACME_WEBROOT, CERT_DIR, LETSENCRYPT_DIR, NGINX_CONF_PATH } from "../../components/proxy/render";

const root = mkdtempSync(path.join(tmpdir(), "dropstack-proxy-commands-"));
after(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
function hostPaths(): ProxyHostPaths {
  const base = path.join(root, `host-${++dirs}`);
  return { confDir: `${base}/conf`, certs: `${base}/certs`, acme: `${base}/acme`, letsencrypt: `${base}/letsencrypt` };
}

/** Runs a rendered command after `stubs` (shell functions standing in for docker & co.). */
function runRendered(script: string, stubs: string, input = "", env: Record<string, string> = {}) {
  return spawnSync("bash", ["-c", `${stubs}\n${script}`], { input, encoding: "utf8", env: { ...process.env, ...env } });
}

// Records every docker call as one line in $CALLS; `docker run` also saves its stdin to $STDIN
// and exits with $RUN_STATUS; `docker ps` lists $RUNNING.
const DOCKER_STUB = [
  `docker() {`,
  `  printf '%s\\n' "$*" >>"$CALLS"`,
  `  case "$1" in`,
  `    run) cat >"$STDIN"; return "\${RUN_STATUS:-0}" ;;`,
  `    ps) if [ -n "\${RUNNING:-}" ]; then printf '%s\\n' "$RUNNING"; fi ;;`,
  `  esac`,
  `}`,
].join("\n");

describe("paths and mounts", () => {
  it("keep everything on the /srv volume and line up with the containers' paths", () => {
    assert.equal(nginxConfHostPath(), "/srv/proxy/conf/nginx.conf");
    assert.deepEqual(
      nginxMounts().map((m) => [m.hostPath, m.containerPath, m.readOnly]),
      [
        [PROXY_HOST_PATHS.confDir, path.posix.dirname(NGINX_CONF_PATH), true],
        [PROXY_HOST_PATHS.certs, CERT_DIR, true],
        [PROXY_HOST_PATHS.acme, ACME_WEBROOT, true],
      ],
    );
    assert.deepEqual(
      certbotMounts().map((m) => [m.hostPath, m.containerPath, m.readOnly]),
      [
        [PROXY_HOST_PATHS.certs, CERT_DIR, false],
        [PROXY_HOST_PATHS.acme, ACME_WEBROOT, false],
        [PROXY_HOST_PATHS.letsencrypt, LETSENCRYPT_DIR, false],
      ],
    );
  });

  it("the nginx healthcheck asks for the probe with a served host name", () => {
    assert.deepEqual(nginxHealthcheckTest("api.example.com"), [
      "CMD",
      "wget",
      "-q",
      "-O",
      "/dev/null",
      "--header",
      "Host: api.example.com",
      `http://127.0.0.1${HEALTH_PROBE.path}`,
    ]);
    assert.equal(nginxHealthcheckTest("api.example.com", 8080).at(-1), `http://127.0.0.1:8080${HEALTH_PROBE.path}`);
  });
});

describe("prepare", () => {
  it("creates the directories with the modes the containers need and the healthcheck's probe", () => {
    const paths = hostPaths();
    // sudo without the ownership flags: the deploy user does not exist here.
    const sudo = `sudo() { if [ "$1" = install ]; then shift; local args=(); while [ $# -gt 0 ]; do case "$1" in -o|-g) shift 2 ;; *) args+=("$1"); shift ;; esac; done; install "\${args[@]}"; else "$@"; fi; }`;
    for (let run = 0; run < 2; run++) {
      const result = runRendered(renderPrepareCommand(paths), sudo);
      assert.equal(result.status, 0, `run ${run + 1} (it must be idempotent): ${result.stderr}`);
    }
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    assert.equal(mode(paths.confDir), "755");
    assert.equal(mode(paths.certs), "700", "private keys stay root's");
    assert.equal(mode(paths.letsencrypt), "700");
    assert.equal(mode(paths.acme), "755", "nginx's workers read the challenges");
    assert.equal(readFileSync(`${paths.acme}${HEALTH_PROBE.path}`, "utf8"), HEALTH_PROBE.content);
    assert.equal(mode(`${paths.acme}${HEALTH_PROBE.path}`), "644");
  });

  it("gives the config directory to the deploy user, who writes nginx.conf without sudo", () => {
    assert.match(renderPrepareCommand(), /^sudo install -d -m 0755 -o deploy -g deploy '\/srv\/proxy\/conf'$/m);
    assert.doesNotMatch(renderNginxConfCommand({ image: NGINX_IMAGE }), /sudo/);
  });
});

describe("nginx.conf install", () => {
  const setup = () => {
    const paths = hostPaths();
    mkdirSync(paths.confDir, { recursive: true });
    const target = nginxConfHostPath(paths);
    writeFileSync(target, "# the config nginx runs now\n");
    const calls = path.join(paths.confDir, "..", "calls");
    const stdin = path.join(paths.confDir, "..", "stdin");
    // docker run checks the temp file it is handed: it must hold the new config already.
    const stub = DOCKER_STUB.replace(
      `run) cat >"$STDIN"; return "\${RUN_STATUS:-0}" ;;`,
      `run) for a in "$@"; do case "$a" in *:${NGINX_CONF_PATH}:ro) cp "\${a%%:*}" "$STDIN" ;; esac; done; return "\${RUN_STATUS:-0}" ;;`,
    );
    return { paths, target, calls, stdin, stub, env: { CALLS: calls, STDIN: stdin } };
  };
  const newConf = "events {}\nhttp {}\n";

  it("is found by its marker line, which names the file it writes", () => {
    const paths = hostPaths();
    assert.equal(stdinInstallPath(renderNginxConfCommand({ image: NGINX_IMAGE, paths })), nginxConfHostPath(paths));
    assert.equal(
      stdinInstallPath(renderCertbotCommand({ step: "placeholder", image: CERTBOT_IMAGE, domains: ["api.example.com"] })),
      undefined,
    );
    assert.equal(stdinInstallPath(undefined), undefined);
  });

  it("checks the new file with the image's nginx -t, then renames it into place", () => {
    const { paths, target, calls, stdin, stub, env } = setup();
    const result = runRendered(renderNginxConfCommand({ image: NGINX_IMAGE, paths }), stub, newConf, env);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(target, "utf8"), newConf);
    assert.equal(readFileSync(stdin, "utf8"), newConf, "nginx -t saw the new file");
    assert.equal((statSync(target).mode & 0o777).toString(8), "644");
    const call = readFileSync(calls, "utf8");
    assert.match(
      call,
      /^run --rm --network none --security-opt no-new-privileges -v .*\.nginx\.conf\.\w+:\/etc\/dropstack\/nginx\/nginx\.conf:ro /,
    );
    assert.match(call, new RegExp(`-v ${paths.certs}:${CERT_DIR}:ro`));
    assert.match(call, new RegExp(`--entrypoint nginx ${NGINX_IMAGE} -t -q -c ${NGINX_CONF_PATH}`));
    assert.deepEqual(readdirSync(paths.confDir), ["nginx.conf"], "no temp file left");
  });

  it("leaves the running config alone when nginx -t rejects the new one", () => {
    const { paths, target, stub, env } = setup();
    const result = runRendered(renderNginxConfCommand({ image: NGINX_IMAGE, paths }), stub, newConf, { ...env, RUN_STATUS: "1" });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /rejects the rendered nginx\.conf/);
    assert.equal(readFileSync(target, "utf8"), "# the config nginx runs now\n");
    assert.deepEqual(readdirSync(paths.confDir), ["nginx.conf"], "no temp file left");
  });
});

describe("certbot steps", () => {
  const domains = ["api.example.com", "app.example.com"];
  const script = "#!/bin/sh\necho rendered certbot.sh\n";
  const setup = () => {
    const dir = mkdtempSync(path.join(root, "certbot-"));
    const env = { CALLS: path.join(dir, "calls"), STDIN: path.join(dir, "stdin"), CURLS: path.join(dir, "curls") };
    return { dir, env, calls: () => (existsSync(env.CALLS) ? readFileSync(env.CALLS, "utf8").trim().split("\n") : []) };
  };
  // curl succeeds from its $CURL_OK_AFTER-th call on (never when unset); sleep does not wait.
  const stubs = [
    DOCKER_STUB,
    `curl() { printf '%s\\n' "$*" >>"$CURLS"; local n; n=$(wc -l <"$CURLS"); [ -n "\${CURL_OK_AFTER:-}" ] && [ "$n" -ge "$CURL_OK_AFTER" ]; }`,
    `sleep() { :; }`,
  ].join("\n");

  it("placeholder: hands the script to the certbot image on stdin and runs its placeholder mode", () => {
    const { env, calls } = setup();
    const result = runRendered(renderCertbotCommand({ step: "placeholder", image: CERTBOT_IMAGE, domains }), stubs, script, env);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(env.STDIN, "utf8"), script);
    assert.equal(calls().length, 1);
    assert.match(
      calls()[0],
      new RegExp(
        `--entrypoint /bin/sh ${CERTBOT_IMAGE.replace(/\./g, "\\.")} -c cat >/tmp/certbot\\.sh && exec /bin/sh /tmp/certbot\\.sh placeholder$`,
      ),
    );
    assert.match(calls()[0], /-v \/srv\/proxy\/letsencrypt:\/etc\/letsencrypt /);
  });

  it("issue: pauses the renewal loop, runs certbot once, waits until every host verifies, restarts the loop", () => {
    const { env, calls } = setup();
    const command = renderCertbotCommand({ step: "issue", image: CERTBOT_IMAGE, domains, requireTrustedCertificate: true });
    const result = runRendered(command, stubs, script, { ...env, RUNNING: "c0ffee", CURL_OK_AFTER: "2" });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(
      calls().map((c) => c.split(" ")[0]),
      ["ps", "stop", "run", "start"],
    );
    assert.match(calls()[1], /^stop --time \d+ c0ffee$/);
    assert.match(calls()[2], /certbot\.sh once$/);
    assert.equal(calls()[3], "start c0ffee");
    const curls = readFileSync(env.CURLS, "utf8").trim().split("\n");
    assert.deepEqual(
      curls.map((c) => /--resolve (\S+)/.exec(c)?.[1]),
      ["api.example.com:443:127.0.0.1", "api.example.com:443:127.0.0.1", "app.example.com:443:127.0.0.1"],
    );
    assert.ok(curls.every((c) => !c.includes("--insecure")));
    assert.match(result.stdout, /serves trusted certificates for api\.example\.com, app\.example\.com/);
  });

  it("issue: fails with certbot's status and what to fix when Let's Encrypt issues nothing", () => {
    const { env, calls } = setup();
    const command = renderCertbotCommand({ step: "issue", image: CERTBOT_IMAGE, domains, requireTrustedCertificate: true });
    const result = runRendered(command, stubs, script, { ...env, RUNNING: "c0ffee", RUN_STATUS: "3" });
    assert.equal(result.status, 3);
    assert.match(result.stderr, /issued no certificate \(certbot exit 3/);
    assert.match(result.stderr, /A\/AAAA records of api\.example\.com, app\.example\.com point at this droplet and that port 80 is open/);
    assert.equal(calls().at(-1), "start c0ffee", "the renewal loop runs again");
    assert.ok(!existsSync(env.CURLS), "no point waiting for a certificate that was not issued");
  });

  it("issue: fails when nginx does not serve a trusted certificate in time", () => {
    const { env } = setup();
    const command = renderCertbotCommand({
      step: "issue",
      image: CERTBOT_IMAGE,
      domains,
      requireTrustedCertificate: true,
      servedWithinSeconds: 1,
    });
    const result = runRendered(command, stubs, script, env);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /nginx still serves no trusted certificate for api\.example\.com 1s after issuance/);
  });

  it("issue without a trusted certificate required: warns and lets the update go on", () => {
    const { env, calls } = setup();
    const command = renderCertbotCommand({ step: "issue", image: CERTBOT_IMAGE, domains });
    const failed = runRendered(command, stubs, script, { ...env, RUN_STATUS: "1" });
    assert.equal(failed.status, 0, failed.stderr);
    assert.match(failed.stderr, /WARNING: no certificate from Let's Encrypt yet/);
    assert.deepEqual(
      calls().map((c) => c.split(" ")[0]),
      ["ps", "run"],
      "nothing to pause when no loop runs yet",
    );
    assert.ok(!existsSync(env.CURLS));
  });

  it("refuses an empty host list and a nonsensical wait", () => {
    assert.throws(() => renderCertbotCommand({ step: "placeholder", image: CERTBOT_IMAGE, domains: [] }), /at least one domain/);
    assert.throws(
      () => renderCertbotCommand({ step: "issue", image: CERTBOT_IMAGE, domains, requireTrustedCertificate: true, servedWithinSeconds: 0 }),
      /servedWithinSeconds/,
    );
  });
});
