// Reading nginx versions ("1.28.0", "1.28") and comparing them, which decides how HTTP/2 is
// spelled and whether a version is old enough to refuse, and finding the version in the
// nginx image reference. Versions are generated per class: two and three parts with
// multi-digit major, minor and patch numbers; and the shapes of real tags and typos that are
// not a version (prefix letters, suffixes such as -alpine, a fourth part, spaces at either
// end). Image references are every combination of registry (none, Docker Hub's full name,
// hosts with a port, a host that starts like a version), repository, tag and digest.
import assert from "node:assert/strict";
import { test } from "node:test";
import { nginxVersionAtLeast, nginxVersionFromImage, parseNginxVersion } from "../../components/proxy/render";

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
  const ordered = [
    "0.9.9",
    "1.2",
    "1.2.1",
    "1.9.99",
    "1.22.0",
    "1.22.1",
    "1.25.0",
    "1.25.1",
    "1.25.10",
    "1.28",
    "1.28.1",
    "1.100.0",
    "2.0",
    "10.0.0",
  ];
  for (const [i, version] of ordered.entries()) {
    for (const [j, since] of ordered.entries()) assert.equal(nginxVersionAtLeast(version, since), i >= j, `${version} >= ${since}`);
  }
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

test("finds the nginx version in the image tag, whatever the registry, port and digest, and none in a tag without one", () => {
  const tags: [string, string | undefined][] = [
    ["1.28.0-alpine", "1.28.0"],
    ["1.28-alpine", "1.28"],
    ["1.28.0", "1.28.0"],
    ["1.28", "1.28"],
    ["1.28.0-alpine-slim", "1.28.0"],
    ["1.28.0-alpine3.21", "1.28.0"],
    ["10.1.0", "10.1.0"],
    ["1.123.45-perl", "1.123.45"],
    ["1-alpine", undefined],
    ["alpine", undefined],
    ["mainline-alpine", undefined],
    ["1.28.0alpine", undefined],
    ["v1.28.0", undefined],
    ["1.28.0.1", undefined],
    ["1.28_1", undefined],
    ["1.28x5-alpine", undefined],
  ];
  const registries = [
    "",
    "docker.io/library/",
    "registry.example.com:5000/",
    "localhost:5000/",
    "1.2-mirror.example.com/",
    "1.2-mirror.example.com:5000/",
  ];
  for (const registry of registries) {
    for (const digest of ["", `@sha256:${"a".repeat(64)}`, `@sha256:${"12".repeat(32)}`]) {
      assert.equal(nginxVersionFromImage(`${registry}nginx${digest}`), undefined, `${registry}nginx${digest}`);
      for (const [tag, version] of tags) {
        const image = `${registry}nginx:${tag}${digest}`;
        assert.equal(nginxVersionFromImage(image), version, image);
      }
    }
  }
});

test("finds no version in an untagged image whose registry host or repository starts like one", () => {
  for (const image of ["1.2-mirror.example.com/nginx", "1.28", "1.28-alpine", "1.2-mirror.example.com:5000/nginx", "10.0.0.1:5000/nginx"]) {
    assert.equal(nginxVersionFromImage(image), undefined, image);
  }
});
