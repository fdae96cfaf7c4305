// sshPublicKeys are parsed the way OpenSSH parses them: keys ssh-keygen generates are
// accepted (or refused for their type and size), and every corruption of a real key that
// ssh-keygen itself rejects is a config error naming the entry.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseStackConfig } from "../../components/config/schema";
import { MIN_RSA_BITS, describeSshPublicKeyProblem } from "../../components/host/ssh-keys";
import { makeTempDir, requireTools, run } from "../../tools/lib/system";

describe("sshPublicKeys against OpenSSH", () => {
  const tools = requireTools([{ command: "ssh-keygen", debianPackage: "openssh-client" }]);
  const dir = makeTempDir("ssh-keys");

  const generated = new Map<string, string | undefined>();
  /** One key per type and size, generated once (RSA generation is slow). */
  function generate(type: string, bits?: number): string | undefined {
    const file = join(dir, `${type}-${bits ?? "default"}`);
    if (generated.has(file)) return generated.get(file);
    const result = run([
      tools["ssh-keygen"],
      "-q",
      "-t",
      type,
      ...(bits ? ["-b", String(bits)] : []),
      "-N",
      "",
      "-C",
      `${type} test key`,
      "-f",
      file,
    ]);
    // Newer OpenSSH builds cannot generate DSA keys at all.
    generated.set(file, result.status === 0 ? readFileSync(`${file}.pub`, "utf8").trim() : undefined);
    return generated.get(file);
  }

  /** ssh-keygen's own verdict on a public key line. */
  function opensshReads(line: string): boolean {
    const file = join(dir, "probe.pub");
    writeFileSync(file, `${line}\n`);
    return run([tools["ssh-keygen"], "-l", "-f", file]).status === 0;
  }

  const accepted: [string, number?][] = [["ed25519"], ["ecdsa", 256], ["ecdsa", 384], ["ecdsa", 521], ["rsa", 3072], ["rsa", 4096]];
  const tooWeak: [string, number][] = [
    ["rsa", 1024],
    ["rsa", 2048],
    ["rsa", 3008],
    ["dsa", 1024],
  ];

  it("accepts every key type and size OpenSSH generates that is strong enough", () => {
    for (const [type, bits] of accepted) {
      const line = generate(type, bits);
      assert.ok(line && opensshReads(line));
      assert.equal(describeSshPublicKeyProblem(line), undefined, line);
      assert.ok(parseStackConfig({ ...base(), sshPublicKeys: [line] }, "staging").ok, line);
      // Without a comment, and with several spaces before the comment.
      assert.equal(describeSshPublicKeyProblem(line.split(" ").slice(0, 2).join(" ")), undefined);
    }
  });

  it("refuses DSA and RSA below 3072 bits, naming the entry", () => {
    for (const [type, bits] of tooWeak) {
      const line = generate(type, bits);
      if (line === undefined) continue;
      const result = parseStackConfig({ ...base(), sshPublicKeys: [generate("ed25519") as string, line] }, "staging");
      assert.ok(!result.ok);
      assert.equal(result.problems.length, 1);
      assert.match(result.problems[0], /^dropstack:sshPublicKeys\.1: "ssh-(rsa|dss) AAAA[^"]*\.\.\.": /);
      assert.match(result.problems[0], type === "dsa" ? /DSA keys/ : new RegExp(`RSA key has ${bits} bits; use at least ${MIN_RSA_BITS}`));
    }
  });

  it("refuses every corruption of a real key that OpenSSH refuses too", () => {
    let tried = 0;
    for (const [type, bits] of accepted) {
      const line = generate(type, bits) as string;
      const [keyType, data] = line.split(" ");
      const blob = Buffer.from(data, "base64");
      const variants = [
        `${keyType} ${data.slice(0, -8)}`, // truncated base64
        `${keyType} ${Buffer.concat([blob, Buffer.from([0])]).toString("base64")}`, // trailing byte
        `${keyType} ${blob.subarray(0, blob.length - 1).toString("base64")}`, // one byte short
        `${keyType} ${data.replace(/[A-Za-z]/, "!")}`, // not base64
        `${keyType === "ssh-ed25519" ? "ssh-rsa" : "ssh-ed25519"} ${data}`, // type and data disagree
        `${keyType}`, // no data
        `${keyType.toUpperCase()} ${data}`, // unknown type spelling
        `${keyType} ${Buffer.concat([blob.subarray(0, 4), Buffer.from("x"), blob.subarray(5)]).toString("base64")}`, // corrupt type field
      ];
      for (const variant of variants) {
        assert.equal(opensshReads(variant), false, `ssh-keygen reads ${variant}`);
        assert.ok(describeSshPublicKeyProblem(variant), `accepted ${variant}`);
        tried++;
      }
    }
    for (const junk of [
      "ssh-ed25519 notakey",
      "notakey",
      "",
      "ssh-ed25519 AAAA",
      "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY",
    ]) {
      assert.ok(describeSshPublicKeyProblem(junk), junk);
      assert.equal(opensshReads(junk), false, junk);
    }
    assert.ok(tried >= 48);
  });

  it("refuses a line break that would smuggle in a second key", () => {
    const a = generate("ed25519") as string;
    const b = generate("ecdsa", 256) as string;
    for (const joiner of ["\n", "\r\n", "\r", "\u0000"])
      assert.match(describeSshPublicKeyProblem(`${a}${joiner}${b}`) ?? "", /line break or control character/);
  });
});

function base(): Record<string, unknown> {
  return {
    region: "fra1",
    domain: "example.com",
    hosts: { api: "api.example.com" },
    app: { image: "ghcr.io/acme/api:1.0.0", migrate: "alembic upgrade head" },
    tls: { email: "ops@example.com" },
  };
}
