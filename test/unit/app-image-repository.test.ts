// The repository `docker image ls` lists an image reference's images under (imageRepository),
// which the deploy's image prune matches the app's old images by. Cases are generated over
// registries (none, the Docker Hub aliases, hosts with and without ports, localhost, an IP),
// repository paths (one to three components, `library/`, a pull-through cache's
// `docker.io/library/` or `docker/library/` path under another registry), tags of several
// shapes or none, and with and without a digest pin. Docker lists Hub images by their short
// name, so only a Hub registry and a leading `library/` are dropped; the same words anywhere
// else are part of the repository.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { imageRepository } from "../../components/app/render";

const DIGEST = `@sha256:${"0f".repeat(32)}`;
const TAGS = ["", ":1", ":1.0.0", ":3.12-slim", ":latest", ":v2_rc.1", ":7.4.1-alpine"];
const PINS = ["", DIGEST];

function references(repository: string): string[] {
  return TAGS.flatMap((tag) => PINS.map((pin) => `${repository}${tag}${pin}`));
}

describe("image repository", () => {
  it("keeps another registry's host, port and whole path, `library/` and `docker.io/` included", () => {
    const hosts = [
      "ghcr.io",
      "registry.example.com",
      "registry.example.com:5000",
      "localhost",
      "localhost:5000",
      "10.0.0.5:5000",
      "public.ecr.aws",
    ];
    const paths = [
      "api",
      "acme/api",
      "acme/team/api",
      "library/python",
      "docker/library/python",
      "docker.io/library/python",
      "mirror/docker.io/acme/api",
    ];
    for (const host of hosts)
      for (const path of paths)
        for (const reference of references(`${host}/${path}`)) assert.equal(imageRepository(reference), `${host}/${path}`, reference);
  });

  it("names Docker Hub images by their short name, whichever alias of the Hub the reference uses", () => {
    const cases: [string, string][] = [
      ["python", "python"],
      ["library/python", "python"],
      ["acme/api", "acme/api"],
      ["acme/library/api", "acme/library/api"],
      ["acme/docker.io/api", "acme/docker.io/api"],
      ["library/docker.io", "docker.io"],
    ];
    for (const host of ["", "docker.io/", "index.docker.io/", "registry-1.docker.io/"])
      for (const [path, repository] of cases)
        for (const reference of references(`${host}${path}`)) assert.equal(imageRepository(reference), repository, reference);
  });

  it("keeps a host that only ends like a Docker Hub alias", () => {
    for (const host of ["mirror.docker.io", "eu.index.docker.io", "my-registry-1.docker.io"])
      for (const reference of references(`${host}/library/python`))
        assert.equal(imageRepository(reference), `${host}/library/python`, reference);
  });
});
