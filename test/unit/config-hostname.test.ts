// The hostname rule every host key of the config, the renderers and the policies share: the
// limits DNS sets on a name (RFC 1035: 63 octets a label, 253 in all, written without the
// root's dot) generated at and past each limit.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isHostname } from "../../components/config/hostname";

/** A name of `length` characters: labels of up to `label` characters, joined by dots, ending in "com". */
function nameOf(length: number, label = 63): string {
  const labels: string[] = [];
  let remaining = length - "com".length;
  while (remaining > 0) {
    // Each label before "com" takes its characters and a dot; none may leave a single
    // character behind, which could not hold a label and its dot.
    let size = Math.min(label, remaining - 1);
    if (remaining - size - 1 === 1) size -= 1;
    if (size < 1) throw new Error(`cannot build a name of ${length} characters`);
    labels.push("a".repeat(size));
    remaining -= size + 1;
  }
  return [...labels, "com"].join(".");
}

describe("isHostname", () => {
  it("accepts names up to 253 characters and refuses longer ones, whatever the labels' sizes", () => {
    for (const label of [2, 7, 62, 63]) {
      for (const length of [250, 251, 252, 253]) {
        const name = nameOf(length, label);
        assert.equal(name.length, length);
        assert.ok(isHostname(name), `${length} characters in labels of ${label}`);
      }
      for (const length of [254, 255, 300]) {
        const name = nameOf(length, label);
        assert.equal(name.length, length);
        assert.ok(!isHostname(name), `${length} characters in labels of ${label}`);
      }
    }
  });

  it("accepts labels up to 63 characters and refuses a longer one anywhere in the name", () => {
    assert.ok(isHostname(`${"a".repeat(63)}.example.com`));
    assert.ok(isHostname(`api.${"b".repeat(63)}.com`));
    assert.ok(!isHostname(`${"a".repeat(64)}.example.com`));
    assert.ok(!isHostname(`api.${"b".repeat(64)}.com`));
    assert.ok(!isHostname(`api.example.${"c".repeat(64)}`));
  });

  it("needs a letter in the last label, so an IP address or a numeric top-level label is refused", () => {
    for (const name of ["10.0.0.1", "192.168.1.20", "api.example.123", "a.b.c.4", "1.2"]) assert.ok(!isHostname(name), name);
    for (const name of ["123.example.com", "10.0.0.x1", "a.1b", "api.example.c0m"]) assert.ok(isHostname(name), name);
  });
});
