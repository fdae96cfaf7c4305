// The sshd drop-in that cloud-init writes, read by the real sshd: `sshd -t` accepts it,
// `sshd -T` shows the limits in force, and a real sshd on loopback lets in an ssh-agent that
// offers many other keys before the deploy key, without logging anything fail2ban's sshd
// filter counts as a failure.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { SSHD_CONFIG_PATH, SSH_MAX_AUTH_TRIES, SSH_MAX_STARTUPS, renderCloudInit } from "../../components/host/cloud-init";
import { freePort, isRoot, requireTools, run, scopedTempDirs } from "../../tools/lib/system";

const tempDir = scopedTempDirs(after);
const tools = requireTools([
  { command: "sshd", debianPackage: "openssh-server" },
  { command: "ssh", debianPackage: "openssh-client" },
  { command: "ssh-keygen", debianPackage: "openssh-client" },
  { command: "ssh-agent", debianPackage: "openssh-client" },
  { command: "ssh-add", debianPackage: "openssh-client" },
]);
// sshd refuses to start, even for -t, without its privilege separation directory; the
// openssh-server unit creates it at boot, so create it the same way here.
if (!existsSync("/run/sshd")) {
  if (!isRoot) throw new Error("sshd needs /run/sshd: run the tests as root, or create it (mode 0755)");
  mkdirSync("/run/sshd", { mode: 0o755 });
}

function keygen(file: string, comment: string): void {
  const result = run([tools["ssh-keygen"], "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  assert.equal(result.status, 0, result.stderr);
}

/** The Ubuntu layout: the main file includes the drop-ins; ours is the rendered one. */
function layout(dropIn: string): { dir: string; main: string } {
  const dir = tempDir("sshd");
  mkdirSync(join(dir, "sshd_config.d"));
  writeFileSync(join(dir, "sshd_config.d", "10-dropstack.conf"), dropIn);
  const main = join(dir, "sshd_config");
  writeFileSync(main, `Include ${join(dir, "sshd_config.d")}/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\n`);
  keygen(join(dir, "host_key"), "host");
  return { dir, main };
}

const renderedDropIn = (() => {
  const dir = tempDir("sshd-render");
  keygen(join(dir, "host"), "host");
  const userData = parse(
    renderCloudInit({
      sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFr0m6wZc1Q3x8mV8m7bQJ0xWcN6iE4p5Yl9oUuKqP2S ops@example.com"],
      hostKey: { privateOpenssh: readFileSync(join(dir, "host"), "utf8"), publicOpenssh: readFileSync(join(dir, "host.pub"), "utf8") },
    }),
  ) as { write_files: { path: string; content: string }[] };
  const file = userData.write_files.find((f) => f.path === SSHD_CONFIG_PATH);
  assert.ok(file, "cloud-init writes the sshd drop-in");
  return file.content;
})();

describe("sshd drop-in against the real sshd", () => {
  it("passes `sshd -t`", () => {
    const { dir, main } = layout(renderedDropIn);
    const result = run([tools.sshd, "-t", "-f", main, "-o", `HostKey=${join(dir, "host_key")}`]);
    assert.equal(result.status, 0, result.stderr);
  });

  it("is rejected by `sshd -t` when broken, so the test above can fail", () => {
    const { dir, main } = layout(renderedDropIn.replace(`MaxAuthTries ${SSH_MAX_AUTH_TRIES}`, "MaxAuthTries sixteen"));
    const result = run([tools.sshd, "-t", "-f", main, "-o", `HostKey=${join(dir, "host_key")}`]);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /MaxAuthTries/);
  });

  it("puts the limits and the hardening in force (`sshd -T`)", () => {
    const { dir, main } = layout(renderedDropIn);
    const result = run([tools.sshd, "-T", "-f", main, "-o", `HostKey=${join(dir, "host_key")}`]);
    assert.equal(result.status, 0, result.stderr);
    const effective = new Map(result.stdout.split("\n").map((l) => [l.split(" ")[0], l.slice(l.indexOf(" ") + 1)]));
    assert.equal(effective.get("maxauthtries"), String(SSH_MAX_AUTH_TRIES));
    assert.equal(effective.get("maxstartups"), SSH_MAX_STARTUPS);
    assert.equal(effective.get("passwordauthentication"), "no");
    assert.equal(effective.get("permitrootlogin"), "no");
    assert.equal(effective.get("allowusers"), "deploy");
    assert.ok(SSH_MAX_AUTH_TRIES >= 10, "room for an agent holding many keys");
  });
});

describe("an ssh-agent with many keys against the real sshd (loopback)", () => {
  const dir = tempDir("sshd-agent");
  let sshd: ChildProcess;
  let port = 0;
  const log = join(dir, "sshd.log");
  const authorized = join(dir, "authorized_keys");
  const children: ChildProcess[] = [];

  before(async () => {
    const { dir: confDir, main } = layout(renderedDropIn);
    keygen(join(dir, "deploy"), "deploy");
    writeFileSync(authorized, readFileSync(join(dir, "deploy.pub")), { mode: 0o644 });
    for (let i = 0; i < SSH_MAX_AUTH_TRIES; i++) keygen(join(dir, `other${i}`), `other${i}`);
    port = await freePort();
    // Test plumbing only: the login user (the machine has no `deploy`; `nobody` is added to
    // AllowUsers, whose entries accumulate), a temp authorized_keys, and a temp host key.
    sshd = spawn(
      tools.sshd,
      [
        "-D",
        "-E",
        log,
        "-f",
        main,
        "-p",
        String(port),
        "-o",
        "ListenAddress=127.0.0.1",
        "-o",
        `HostKey=${join(confDir, "host_key")}`,
        "-o",
        "PidFile=none",
        "-o",
        "AllowUsers=nobody",
        "-o",
        `AuthorizedKeysFile=${authorized}`,
        "-o",
        "StrictModes=no",
      ],
      { stdio: "ignore" },
    );
    children.push(sshd);
    await waitForPort(port);
  });

  after(() => {
    for (const child of children) child.kill();
  });

  async function login(otherKeys: number): Promise<{ status: number; stderr: string; log: string }> {
    const socket = join(dir, `agent-${otherKeys}.sock`);
    const agent = spawn(tools["ssh-agent"], ["-D", "-a", socket], { stdio: "ignore" });
    children.push(agent);
    try {
      for (let i = 0; i < 50 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
      const env = { ...process.env, SSH_AUTH_SOCK: socket };
      // The deploy key last: the worst order an agent can offer them in.
      const files = [...Array.from({ length: otherKeys }, (_, i) => join(dir, `other${i}`)), join(dir, "deploy")];
      const added = run([tools["ssh-add"], "-q", ...files], { env });
      assert.equal(added.status, 0, added.stderr);
      const before = existsSync(log) ? readFileSync(log, "utf8").length : 0;
      const result = run(
        [
          tools.ssh,
          "-F",
          "none",
          "-p",
          String(port),
          "-o",
          "BatchMode=yes",
          "-o",
          "StrictHostKeyChecking=no",
          "-o",
          "UserKnownHostsFile=/dev/null",
          "-o",
          "LogLevel=ERROR",
          "-o",
          "PreferredAuthentications=publickey",
          "nobody@127.0.0.1",
          "true",
        ],
        { env },
      );
      await new Promise((r) => setTimeout(r, 200));
      return { status: result.status, stderr: result.stderr, log: readFileSync(log, "utf8").slice(before) };
    } finally {
      agent.kill();
    }
  }

  for (const otherKeys of [0, Math.floor(SSH_MAX_AUTH_TRIES / 2), SSH_MAX_AUTH_TRIES - 1]) {
    it(`logs in with ${otherKeys} other key(s) offered first, and nothing fail2ban counts is logged`, async () => {
      const result = await login(otherKeys);
      // `nobody`'s shell refuses the session (exit 1); 255 would be ssh's own failure.
      assert.notEqual(result.status, 255, result.stderr);
      assert.match(result.log, /Accepted publickey for nobody/);
      // fail2ban's sshd filter (normal mode) counts "Failed <method> for" and "maximum
      // authentication attempts exceeded" lines.
      assert.doesNotMatch(result.log, /Failed \S+ for|maximum authentication attempts exceeded/);
    });
  }

  it(`refuses an agent with ${SSH_MAX_AUTH_TRIES} other keys first: the limit the tests above stay under is real`, async () => {
    const result = await login(SSH_MAX_AUTH_TRIES);
    assert.equal(result.status, 255);
    assert.match(result.log, /maximum authentication attempts exceeded/);
  });
});

function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd did not listen on ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}
