// The command that keeps the deploy user's authorized_keys in step with
// dropstack:sshPublicKeys, run by a real shell against a temp $HOME.
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { authorizedKeysFile, renderAuthorizedKeysCommand } from "../../components/host/cloud-init";
import { makeTempDir, requireTools, run } from "../../tools/lib/system";

const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFr0m6wZc1Q3x8mV8m7bQJ0xWcN6iE4p5Yl9oUuKqP2S a@example.com";
const KEY_B = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY b@example.com";

describe("authorized_keys command", () => {
  const tools = requireTools([
    { command: "sh", debianPackage: "dash" },
    { command: "shellcheck", debianPackage: "shellcheck" },
  ]);
  const script = renderAuthorizedKeysCommand();

  function apply(home: string, keys: string) {
    return run([tools.sh, "-c", script], { input: keys, env: { ...process.env, HOME: home } });
  }

  it("is shellcheck-clean", () => {
    const file = join(makeTempDir("ak"), "ak.sh");
    writeFileSync(file, script);
    const result = run([tools.shellcheck, "-s", "sh", file]);
    assert.equal(result.status, 0, result.stdout);
  });

  it("replaces the file with exactly the configured keys, private to the user", () => {
    const home = makeTempDir("ak-home");
    assert.equal(apply(home, authorizedKeysFile([KEY_A, KEY_B])).status, 0);
    assert.equal(apply(home, authorizedKeysFile([KEY_B])).status, 0);
    const file = join(home, ".ssh", "authorized_keys");
    assert.equal(readFileSync(file, "utf8"), `${KEY_B}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(home, ".ssh")), ["authorized_keys"]);
  });

  it("refuses a list without keys and keeps the old file", () => {
    const home = makeTempDir("ak-home");
    apply(home, authorizedKeysFile([KEY_A]));
    const result = apply(home, "\n");
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /refusing an authorized_keys without keys/);
    assert.equal(readFileSync(join(home, ".ssh", "authorized_keys"), "utf8"), `${KEY_A}\n`);
    assert.deepEqual(readdirSync(join(home, ".ssh")), ["authorized_keys"]);
  });
});
