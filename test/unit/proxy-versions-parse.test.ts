// Reading nginx versions ("1.28.0", "1.28") and comparing them, which decides how HTTP/2 is
// spelled and whether a version is old enough to refuse. Versions are generated per class:
// two and three parts with multi-digit major, minor and patch numbers; and the shapes of
// real tags and typos that are not a version (prefix letters, suffixes such as -alpine, a
// fourth part, spaces at either end).
import assert from "node:assert/strict";
import { test } from "node:test";
import { nginxVersionAtLeast, parseNginxVersion } from "../../components/proxy/render";

test("reads major, minor and patch of every width, the patch 0 when absent", () => {
  const cases: [string, [number, number, number]][] = [
    ["1.28.0", [1, 28, 0]],
    ["1.22", [1, 22, 0]],
    ["0.9.7", [0, 9, 7]],
    ["10.1.0", [10, 1, 0]],
    ["12.345.6789", [12, 345, 6789]],
    ["123.4", [123, 4, 0]],
    ["2.0.10", [2, 0, 10]],
  ];
  for (const [version, parsed] of cases) assert.deepEqual(parseNginxVersion(version), parsed, version);
});

test("is no version for tags with a prefix or suffix, a fourth part, spaces or a missing part", () => {
  const notVersions = ["", "1", "1.", ".1", "1..0", "a1.28.0", "1.28.a"];
  for (const version of ["1.28.0", "1.28", "10.1.0"]) {
    for (const prefix of ["v", "nginx-", " ", "x.", "-"]) notVersions.push(`${prefix}${version}`);
    for (const suffix of ["-alpine", " ", "\n", "a", "-1~bookworm"]) notVersions.push(`${version}${suffix}`);
  }
  notVersions.push("1.28.0.1", "10.1.0.0", "1.28.0.");
  for (const version of notVersions) assert.equal(parseNginxVersion(version), undefined, JSON.stringify(version));
});

test("compares versions part by part as numbers, two-part versions as patch 0", () => {
  assert.equal(nginxVersionAtLeast("10.0.0", "9.99.99"), true);
  assert.equal(nginxVersionAtLeast("9.99.99", "10.0.0"), false);
  assert.equal(nginxVersionAtLeast("1.28", "1.28.0"), true);
  assert.equal(nginxVersionAtLeast("1.28.0", "1.28"), true);
  assert.equal(nginxVersionAtLeast("1.28", "1.28.1"), false);
});

test("refuses to compare malformed versions, naming both", () => {
  const cases: [string, string][] = [
    ["1.28.0-alpine", "1.25.1"],
    ["1.28.0", "v1.25.1"],
    ["", ""],
    ["1.28", "latest"],
  ];
  for (const [version, since] of cases) {
    assert.throws(() => nginxVersionAtLeast(version, since), {
      message: `expected nginx versions like 1.28.0, got ${JSON.stringify(version)} and ${JSON.stringify(since)}`,
    });
  }
});
