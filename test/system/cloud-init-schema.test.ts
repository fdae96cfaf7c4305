import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { renderCloudInit } from "../../components/host/cloud-init";
import { makeTempDir, requireTools, run } from "../../tools/lib/system";

describe("cloud-init user-data against the real cloud-init", () => {
  const tools = requireTools([
    { command: "cloud-init", debianPackage: "cloud-init" },
    { command: "ssh-keygen", debianPackage: "openssh-client" },
  ]);
  const dir = makeTempDir("cloud-init");
  const keyFile = join(dir, "host_ed25519");
  const keygen = run([tools["ssh-keygen"], "-q", "-t", "ed25519", "-N", "", "-C", "host", "-f", keyFile]);
  assert.equal(keygen.status, 0, keygen.stderr);
  const userData = renderCloudInit({
    sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFr0m6wZc1Q3x8mV8m7bQJ0xWcN6iE4p5Yl9oUuKqP2S ops@example.com"],
    hostKey: { privateOpenssh: readFileSync(keyFile, "utf8"), publicOpenssh: readFileSync(`${keyFile}.pub`, "utf8") },
  });

  it("passes `cloud-init schema` with a real generated host key", () => {
    const file = join(dir, "user-data.yaml");
    writeFileSync(file, userData);
    const result = run([tools["cloud-init"], "schema", "--config-file", file]);
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /Valid cloud-config/);
  });

  it("is rejected by `cloud-init schema` when broken, so the test above can fail", () => {
    const file = join(dir, "broken.yaml");
    writeFileSync(file, userData.replace("ssh_pwauth: false", "ssh_pwauth: [not, a, bool]"));
    assert.notEqual(run([tools["cloud-init"], "schema", "--config-file", file]).status, 0);
  });

  it("ships a mount script that shellcheck accepts", () => {
    const shellcheck = requireTools([{ command: "shellcheck", debianPackage: "shellcheck" }]).shellcheck;
    const doc = parse(userData) as { write_files: { path: string; content: string }[] };
    const content = doc.write_files.find((f) => f.path === "/usr/local/sbin/dropstack-mount-data")?.content;
    assert.ok(content, "mount script present");
    const file = join(dir, "mount.sh");
    writeFileSync(file, content);
    const result = run([shellcheck, "-s", "sh", file]);
    assert.equal(result.status, 0, result.stdout);
  });
});
