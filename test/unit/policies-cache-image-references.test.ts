// How the cache (and proxy) policies read an image reference: which part is a registry host,
// which the repository, and which tags count as one exact release. Cases are generated from
// registries (with and without ports, localhost, an IP), repository paths (official,
// `library/`, namespaced, nested) and tag or digest suffixes, following Docker's rule that a
// first path component is a host only when it has a dot or a port or is `localhost`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isPinnedImage, parseImageReference } from "../../policies/cache";

const DIGEST = `sha256:${"c0ffee".repeat(10)}abcd`;

const HOSTS = ["docker.io", "ghcr.io", "registry.example.com:5000", "localhost", "localhost:5000", "10.0.0.5:5000"];
const PATHS: { path: string; repository: string }[] = [
  { path: "redis", repository: "redis" },
  { path: "library/redis", repository: "redis" },
  { path: "bitnami/redis", repository: "bitnami/redis" },
  { path: "acme/cache/redis", repository: "acme/cache/redis" },
];
const SUFFIXES: { suffix: string; tag?: string; digest?: string }[] = [
  { suffix: "" },
  { suffix: ":7.4.1-alpine", tag: "7.4.1-alpine" },
  { suffix: `@${DIGEST}`, digest: DIGEST },
  { suffix: `:7.4.1@${DIGEST}`, tag: "7.4.1", digest: DIGEST },
];

describe("image references", () => {
  it("drops a registry host (a dot, a port or localhost) and library/ from the repository", () => {
    for (const host of HOSTS)
      for (const { path, repository } of PATHS)
        for (const { suffix, tag, digest } of SUFFIXES) {
          const reference = `${host}/${path}${suffix}`;
          assert.deepEqual(
            parseImageReference(reference),
            { repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) },
            reference,
          );
        }
  });

  it("keeps a first component without a dot or a port as part of the repository", () => {
    for (const path of ["bitnami/redis", "acme/redis", "localhostx/redis", "redis/redis-stack", "acme/cache/redis"])
      for (const { suffix, tag, digest } of SUFFIXES) {
        const reference = `${path}${suffix}`;
        assert.deepEqual(
          parseImageReference(reference),
          { repository: path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) },
          reference,
        );
      }
  });

  it("reads a name without a slash as a repository, even one with a dot or named localhost or library", () => {
    for (const name of ["my.cache", "redis.v7", "localhost", "library", "redis"])
      for (const { suffix, tag, digest } of SUFFIXES) {
        const reference = `${name}${suffix}`;
        assert.deepEqual(
          parseImageReference(reference),
          { repository: name, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) },
          reference,
        );
      }
  });
});

describe("pinned images", () => {
  it("counts an exact release with components of any length as pinned", () => {
    for (const version of ["10.0.0", "7.0.15", "6.2.14", "10.20.30", "123.456.789"])
      for (const tag of [version, `v${version}`, `${version}-alpine`, `${version}-alpine3.20`, `${version}_bookworm`, `${version}.1`])
        for (const reference of [`redis:${tag}`, `registry.example.com:5000/team/redis:${tag}`])
          assert.equal(isPinnedImage(reference), true, reference);
  });

  it("refuses a moving tag that only carries an exact version further along (a base image's release)", () => {
    for (const tag of ["7-alpine3.20.3", "alpine3.20.3", "bookworm-7.4.1", "latest-7.4.1", "x7.4.1", "7.4-7.4.1"])
      for (const reference of [`redis:${tag}`, `localhost:5000/redis:${tag}`]) assert.equal(isPinnedImage(reference), false, reference);
  });

  it("refuses a version that runs straight into other characters instead of a -, . or _ suffix", () => {
    for (const tag of ["7.4.1alpine", "7.4.1rc1", "7.4.1a", "v7.4.1beta"])
      for (const reference of [`redis:${tag}`, `ghcr.io/acme/redis:${tag}`]) assert.equal(isPinnedImage(reference), false, reference);
  });

  it("does not take an image ID, or nothing, for a pinned reference", () => {
    for (const reference of [DIGEST, "sha256:1f2e3d", ""]) assert.equal(isPinnedImage(reference), false, reference);
  });
});
