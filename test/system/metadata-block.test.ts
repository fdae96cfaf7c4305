// Containers must not reach the metadata service, which serves user-data (with the SSH host
// private key) to anything on the droplet. The rules and the unit that loads them, as
// cloud-init writes them, checked by the real iptables-restore and systemd-analyze, and
// loaded for real in a private network namespace (never the machine's own tables).
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { parse } from "yaml";
import {
  METADATA_ADDRESS,
  METADATA_BLOCK_RULES_PATH,
  METADATA_BLOCK_UNIT,
  renderCloudInit,
  renderMetadataBlockRules,
  renderMetadataBlockUnit,
} from "../../components/host/cloud-init";
import { requireTools, run, scopedTempDirs } from "../../tools/lib/system";

const tempDir = scopedTempDirs(after);
const tools = requireTools([
  { command: "iptables-restore", debianPackage: "iptables" },
  { command: "iptables", debianPackage: "iptables" },
  { command: "systemd-analyze", debianPackage: "systemd" },
  { command: "unshare", debianPackage: "util-linux" },
]);

const userData = parse(
  renderCloudInit({
    sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFr0m6wZc1Q3x8mV8m7bQJ0xWcN6iE4p5Yl9oUuKqP2S ops@example.com"],
    hostKey: {
      privateOpenssh: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n",
      publicOpenssh: "ssh-ed25519 AAAAhost host",
    },
  }),
) as { write_files: { path: string; content: string }[]; runcmd: string[][]; packages: string[] };
const shipped = (path: string) => {
  const file = userData.write_files.find((f) => f.path === path);
  assert.ok(file, `cloud-init writes ${path}`);
  return file.content;
};

/** Runs a shell script inside a fresh network namespace: its own, empty netfilter tables. */
function inNamespace(script: string) {
  return run([tools.unshare, "--net", "sh", "-ec", script]);
}

describe("metadata service blocked for containers (iptables, systemd)", () => {
  const dir = tempDir("metadata-block");
  const rules = join(dir, "metadata-block.rules");
  writeFileSync(rules, shipped(METADATA_BLOCK_RULES_PATH));

  it("cloud-init ships the rules and the unit, and enables the unit before anything runs in Docker", () => {
    assert.equal(shipped(METADATA_BLOCK_RULES_PATH), renderMetadataBlockRules());
    assert.equal(shipped(`/etc/systemd/system/${METADATA_BLOCK_UNIT}`), renderMetadataBlockUnit());
    const commands = userData.runcmd.map((c) => c.join(" "));
    assert.ok(commands.includes(`systemctl enable --now ${METADATA_BLOCK_UNIT}`));
    assert.ok(userData.packages.includes("iptables"));
  });

  it("passes `iptables-restore --test`", () => {
    const result = run([tools["iptables-restore"], "--test", "--noflush", rules]);
    assert.equal(result.status, 0, result.stderr);
  });

  it("is rejected by `iptables-restore --test` when broken, so the test above can fail", () => {
    const broken = join(dir, "broken.rules");
    writeFileSync(broken, renderMetadataBlockRules().replace(`${METADATA_ADDRESS}/32`, "169.254.169.2544/32"));
    assert.notEqual(run([tools["iptables-restore"], "--test", "--noflush", broken]).status, 0);
  });

  it("loads into DOCKER-USER, once however often it is reloaded, keeping Docker's jump and chains", () => {
    // The state Docker leaves on first boot (it starts before the unit is enabled): its
    // chains, the jump from FORWARD, and older versions' RETURN in DOCKER-USER.
    const result = inNamespace(
      [
        `${tools.iptables} -N DOCKER`,
        `${tools.iptables} -N DOCKER-USER`,
        `${tools.iptables} -A DOCKER-USER -j RETURN`,
        `${tools.iptables} -A FORWARD -j DOCKER-USER`,
        `${tools.iptables} -A FORWARD -o docker0 -j DOCKER`,
        `${tools["iptables-restore"]} --noflush ${rules}`,
        `${tools["iptables-restore"]} --noflush ${rules}`,
        `${tools.iptables} -S`,
      ].join("\n"),
    );
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.deepEqual(
      lines.filter((l) => l.startsWith("-A DOCKER-USER")),
      [`-A DOCKER-USER -d ${METADATA_ADDRESS}/32 -j REJECT --reject-with icmp-admin-prohibited`],
    );
    assert.deepEqual(
      lines.filter((l) => l.startsWith("-A FORWARD")),
      ["-A FORWARD -j DOCKER-USER", "-A FORWARD -o docker0 -j DOCKER"],
    );
    assert.ok(lines.includes("-N DOCKER"));
  });

  it("loads at boot before Docker starts (the unit's own command, on empty tables)", () => {
    const unit = renderMetadataBlockUnit();
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? "";
    assert.match(exec, new RegExp(`--noflush ${METADATA_BLOCK_RULES_PATH}$`));
    const result = inNamespace(`${exec.replace(METADATA_BLOCK_RULES_PATH, rules)}\n${tools.iptables} -S DOCKER-USER`);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`-A DOCKER-USER -d ${METADATA_ADDRESS.replace(/\./g, "\\.")}/32 -j REJECT`));
    assert.match(unit, /^Before=docker\.service$/m);
    assert.match(unit, /^RequiredBy=docker\.service$/m);
  });

  it("the unit passes `systemd-analyze verify` without a warning", () => {
    const unitFile = join(dir, METADATA_BLOCK_UNIT);
    writeFileSync(unitFile, shipped(`/etc/systemd/system/${METADATA_BLOCK_UNIT}`));
    const result = run([tools["systemd-analyze"], "verify", unitFile]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), "");
  });

  it("a broken unit makes `systemd-analyze verify` warn, so the test above can fail", () => {
    const unitFile = join(dir, "broken", METADATA_BLOCK_UNIT);
    mkdirSync(join(dir, "broken"));
    writeFileSync(unitFile, renderMetadataBlockUnit().replace("Type=oneshot", "Type=oneshoot"));
    const result = run([tools["systemd-analyze"], "verify", unitFile]);
    assert.notEqual(result.stderr.trim(), "");
  });
});
