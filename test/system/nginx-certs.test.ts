// The certificate lifecycle run for real: shellcheck on the container scripts, the
// placeholder bootstrap with openssl, issuance and renewal installs (with a stand-in for
// the certbot CLI, since Let's Encrypt is not reachable from a build machine), and the
// nginx entrypoint reloading a real nginx when the certificate changes.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { renderCertbotScript, renderNginxEntrypoint } from "../../components/proxy/render";
import { asUnprivileged, makeTempDir, requireTools, run } from "../../tools/lib/system";
import {
  API_HOST,
  APP_HOST,
  SCRIPT_PATH,
  freeUpstreamPort,
  httpsRequest,
  localNginxVersion,
  nginxWorkers,
  prepareNginxSite,
  requireNginxTools,
  sleep,
  startEntrypoint,
  startLoopbackDns,
  waitForPort,
  waitForWorkersGone,
} from "../../tools/lib/nginx-harness";

const tools = { ...requireNginxTools(), shellcheck: requireTools([{ command: "shellcheck", debianPackage: "shellcheck" }]).shellcheck };
const proxyDir = join(__dirname, "..", "..", "components", "proxy");
const env = { ...process.env, PATH: SCRIPT_PATH };

function openssl(...args: string[]): string {
  const result = run([tools.openssl, ...args]);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

/** subject, SAN and public key of a PEM certificate, and whether `keyFile` belongs to it. */
function inspect(certFile: string, keyFile: string) {
  const text = openssl("x509", "-in", certFile, "-noout", "-subject", "-ext", "subjectAltName", "-issuer");
  const certKey = openssl("x509", "-in", certFile, "-noout", "-pubkey");
  const privateKey = openssl("pkey", "-in", keyFile, "-pubout");
  return { text, matchesKey: certKey === privateKey };
}

function runScript(script: string, args: string[], extraEnv: Record<string, string> = {}) {
  return run(asUnprivileged(["sh", script, ...args]), { env: { ...env, ...extraEnv } });
}

describe("the container scripts pass shellcheck", () => {
  for (const file of ["certbot.sh", "nginx-entrypoint.sh"]) {
    test(file, () => {
      const result = run([tools.shellcheck, "-s", "sh", join(proxyDir, file)]);
      assert.equal(result.status, 0, result.stdout);
    });
  }
  test("as rendered", () => {
    const dir = makeTempDir("shellcheck");
    const certbot = join(dir, "certbot.sh");
    const entrypoint = join(dir, "entrypoint.sh");
    writeFileSync(certbot, renderCertbotScript({ domains: [API_HOST, APP_HOST], email: "o'brien@example.com", staging: false }));
    writeFileSync(entrypoint, renderNginxEntrypoint({ domains: [API_HOST] }));
    const result = run([tools.shellcheck, certbot, entrypoint]);
    assert.equal(result.status, 0, result.stdout);
  });
});

describe("certbot.sh", () => {
  let dir: string;
  let certDir: string;
  let configDir: string;
  let webroot: string;
  let log: string;
  let binDir: string;

  before(() => {
    dir = makeTempDir("certbot");
    certDir = join(dir, "certs");
    configDir = join(dir, "letsencrypt");
    webroot = join(dir, "acme");
    log = join(dir, "certbot-calls.log");
    binDir = join(dir, "bin");
    mkdirSync(binDir);
    // Stands in for the certbot CLI: records its arguments and, like a successful
    // issuance, leaves a lineage in <config-dir>/live/<cert-name>/ (kept if present,
    // as --keep-until-expiring does). FAKE_CERTBOT_FAIL=1 fails like a refused challenge.
    writeFileSync(
      join(binDir, "certbot"),
      [
        "#!/bin/sh",
        `printf '%s\\n' "$*" >> ${log}`,
        'if [ "${FAKE_CERTBOT_FAIL:-0}" = 1 ]; then echo "Challenge failed for domain" >&2; exit 1; fi',
        "while [ $# -gt 0 ]; do case $1 in --config-dir) config=$2; shift;; --cert-name) name=$2; shift;; esac; shift; done",
        'live="$config/live/$name"',
        '[ -s "$live/fullchain.pem" ] && exit 0',
        'mkdir -p "$live"',
        'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 90 -subj "/CN=$name" \\',
        '  -addext "subjectAltName=DNS:${name%.staging}" -keyout "$live/privkey.pem" -out "$live/fullchain.pem" 2>/dev/null',
        "",
      ].join("\n"),
    );
    chmodSync(binDir, 0o755);
    chmodSync(join(binDir, "certbot"), 0o755);
  });

  const render = (staging: boolean, email?: string) => {
    const path = join(dir, `certbot-${staging ? "staging" : "production"}.sh`);
    writeFileSync(path, renderCertbotScript({ domains: [API_HOST, APP_HOST], email, staging, certDir, webroot, configDir }));
    return path;
  };
  const withFakeCertbot = (extra: Record<string, string> = {}) => ({ PATH: `${binDir}:${SCRIPT_PATH}`, ...extra });
  const certFile = (host: string) => join(certDir, host, "fullchain.pem");
  const keyFile = (host: string) => join(certDir, host, "privkey.pem");

  test("placeholder: writes a self-signed certificate for each host that has none", () => {
    const result = runScript(render(true), ["placeholder"]);
    assert.equal(result.status, 0, result.stderr);
    for (const host of [API_HOST, APP_HOST]) {
      const { text, matchesKey } = inspect(certFile(host), keyFile(host));
      assert.match(text, new RegExp(`subject=CN = ${host}`));
      assert.match(text, new RegExp(`DNS:${host}`));
      assert.ok(matchesKey, `${host}: key and certificate belong together`);
      assert.ok(existsSync(join(certDir, host, "placeholder")));
    }
  });

  test("placeholder: leaves existing certificates alone", () => {
    const before = readFileSync(certFile(API_HOST), "utf8");
    const result = runScript(render(true), ["placeholder"]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(certFile(API_HOST), "utf8"), before);
  });

  test("once: a failed issuance keeps the placeholder and exits non-zero", () => {
    const before = readFileSync(certFile(API_HOST), "utf8");
    const result = runScript(render(false, "ops@example.com"), ["once"], withFakeCertbot({ FAKE_CERTBOT_FAIL: "1" }));
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /no certificate this time/);
    assert.equal(readFileSync(certFile(API_HOST), "utf8"), before);
  });

  test("once: the staging CA's certificate is obtained over the webroot and installed", () => {
    writeFileSync(log, "");
    const result = runScript(render(true, "ops@example.com"), ["once"], withFakeCertbot());
    assert.equal(result.status, 0, result.stderr);
    const calls = readFileSync(log, "utf8").trim().split("\n");
    assert.equal(calls.length, 2);
    for (const [i, host] of [API_HOST, APP_HOST].entries()) {
      const call = calls[i];
      assert.match(call, /^certonly --non-interactive --agree-tos --keep-until-expiring --webroot /);
      assert.ok(call.includes(`--webroot-path ${webroot} `), call);
      assert.ok(call.includes(`--cert-name ${host}.staging -d ${host} `), call);
      assert.ok(call.includes("--email ops@example.com --no-eff-email"), call);
      assert.ok(call.endsWith(" --staging"), call);
      const { text, matchesKey } = inspect(certFile(host), keyFile(host));
      assert.match(text, new RegExp(`subject=CN = ${host}\\.staging`), "the lineage's certificate replaced the placeholder");
      assert.ok(matchesKey);
      assert.ok(!existsSync(join(certDir, host, "placeholder")));
    }
  });

  test("once: switching to the production CA installs the production lineage, a real certificate is never replaced by a placeholder", () => {
    writeFileSync(log, "");
    const script = render(false);
    const result = runScript(script, ["once"], withFakeCertbot());
    assert.equal(result.status, 0, result.stderr);
    const calls = readFileSync(log, "utf8").trim().split("\n");
    assert.ok(
      calls.every((call) => !call.includes("--staging") && call.includes("--register-unsafely-without-email")),
      calls.join("\n"),
    );
    assert.match(inspect(certFile(API_HOST), keyFile(API_HOST)).text, new RegExp(`subject=CN = ${API_HOST.replace(/\./g, "\\.")}\\n`));
    const installed = readFileSync(certFile(API_HOST), "utf8");
    assert.equal(runScript(script, ["placeholder"]).status, 0);
    assert.equal(readFileSync(certFile(API_HOST), "utf8"), installed);
  });

  test("an unknown mode is refused", () => {
    const result = runScript(render(false), ["renew-now"]);
    assert.equal(result.status, 64);
    assert.match(result.stderr, /usage/);
  });
});

describe("nginx-entrypoint.sh with a real nginx", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /** SHA-256 fingerprint of the certificate nginx presents for `host`. */
  const servedFingerprint = (port: number, host: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: "127.0.0.1", port, servername: host, rejectUnauthorized: false }, () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.end();
      });
      socket.once("error", reject);
    });
  const fileFingerprint = (path: string) => openssl("x509", "-in", path, "-noout", "-fingerprint", "-sha256").trim().replace(/^.*=/, "");

  test("waits for the placeholder, serves it, reloads on a new certificate or config and stops gracefully on SIGTERM", async () => {
    const version = localNginxVersion(tools.nginx);
    // Knows no names, so proxied requests fail fast with 502 (headers are all this test reads).
    const dns = await startLoopbackDns();
    cleanups.push(() => dns.close());
    const site = await prepareNginxSite(version, {
      resolver: dns.address,
      upstreamPort: await freeUpstreamPort(["127.0.0.2"]),
      hosts: { api: API_HOST },
    });
    // Start from an empty certificate dir, as on a fresh droplet.
    const certDir = join(site.dir, "fresh-certs");
    const conf = readFileSync(site.confPath, "utf8").split(site.certDir).join(certDir);
    writeFileSync(site.confPath, conf);
    const entrypoint = join(site.dir, "entrypoint.sh");
    writeFileSync(
      entrypoint,
      renderNginxEntrypoint({ domains: [API_HOST], confPath: site.confPath, certDir, checkIntervalSeconds: 1, certWaitSeconds: 30 }),
    );
    const running = startEntrypoint(site.dir, entrypoint, env);
    cleanups.push(running.kill);

    await sleep(1500);
    assert.equal(running.child.exitCode, null, running.stderr());
    await assert.rejects(waitForPort(site.httpsPort, "127.0.0.1", 100), "nginx must not start without a certificate");

    const certbot = join(site.dir, "certbot.sh");
    writeFileSync(
      certbot,
      renderCertbotScript({ domains: [API_HOST], staging: true, certDir, webroot: site.webroot, configDir: join(site.dir, "le") }),
    );
    assert.equal(runScript(certbot, ["placeholder"]).status, 0);
    await waitForPort(site.httpsPort, "127.0.0.1", 10000);
    const placeholder = fileFingerprint(join(certDir, API_HOST, "fullchain.pem"));
    assert.equal(await servedFingerprint(site.httpsPort, API_HOST), placeholder);

    const masterPid = () => Number(readFileSync(join(site.dir, "nginx.pid"), "utf8").trim());
    const workersBefore = nginxWorkers(masterPid());
    assert.ok(workersBefore.length > 0, "nginx runs workers");

    // What certbot.sh's install step does: the new pair lands beside and is renamed in.
    const staged = join(site.dir, "issued");
    mkdirSync(staged, { mode: 0o755 });
    openssl(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "90",
      "-subj",
      `/CN=${API_HOST}`,
      "-keyout",
      join(staged, "privkey.pem"),
      "-out",
      join(staged, "fullchain.pem"),
    );
    chmodSync(join(staged, "privkey.pem"), 0o644);
    assert.equal(
      run(
        asUnprivileged([
          "sh",
          "-c",
          `cp ${staged}/privkey.pem ${certDir}/${API_HOST}/.k && cp ${staged}/fullchain.pem ${certDir}/${API_HOST}/.c && mv ${certDir}/${API_HOST}/.k ${certDir}/${API_HOST}/privkey.pem && mv ${certDir}/${API_HOST}/.c ${certDir}/${API_HOST}/fullchain.pem`,
        ]),
      ).status,
      0,
    );
    const issued = fileFingerprint(join(staged, "fullchain.pem"));
    assert.notEqual(issued, placeholder);
    // The entrypoint notices within its check interval; the new certificate is in use once
    // it is served and every worker that had the old one has exited.
    const deadline = Date.now() + 60_000;
    let served = placeholder;
    while (served !== issued && Date.now() < deadline) {
      await sleep(200);
      served = await servedFingerprint(site.httpsPort, API_HOST);
    }
    assert.equal(served, issued, `nginx still serves the placeholder: ${running.stderr()}`);
    assert.match(running.stderr(), /certificates or config changed: nginx reloaded/);
    await waitForWorkersGone(workersBefore);

    // A new config on the (bind-mounted) path is applied the same way; a broken one is not.
    const frameOptions = async () => {
      const reply = await httpsRequest({
        port: site.httpsPort,
        host: API_HOST,
        path: "/health",
        ca: readFileSync(join(staged, "fullchain.pem"), "utf8"),
      });
      return reply.headers["x-frame-options"];
    };
    assert.equal(await frameOptions(), "DENY");
    const workersWithOldConfig = nginxWorkers(masterPid());
    writeFileSync(site.confPath, `${conf.replace('X-Frame-Options "DENY"', 'X-Frame-Options "SAMEORIGIN"')}`);
    // Applied once the new header is served and no worker with the old config is left to
    // answer (one that still finishes its connections may take a new one: that was a flake).
    const configDeadline = Date.now() + 60_000;
    while ((await frameOptions()) !== "SAMEORIGIN" && Date.now() < configDeadline) await sleep(200);
    await waitForWorkersGone(workersWithOldConfig);
    for (let request = 0; request < 5; request++) assert.equal(await frameOptions(), "SAMEORIGIN");
    writeFileSync(site.confPath, `${conf}\nunknown_directive on;\n`);
    const rejectedDeadline = Date.now() + 60_000;
    while (!/nginx -t rejects them/.test(running.stderr()) && Date.now() < rejectedDeadline) await sleep(200);
    assert.match(running.stderr(), /nginx -t rejects them/);
    assert.equal(await frameOptions(), "SAMEORIGIN", "the running config stays when the new one is broken");

    running.terminate();
    assert.equal(await running.exit, 0, running.stderr());
    await assert.rejects(waitForPort(site.httpsPort, "127.0.0.1", 200), "nginx is gone after the entrypoint exits");
    assert.match(running.stderr(), /nginx exited with status 0/);
  });
});
