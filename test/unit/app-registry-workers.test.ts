// Private registries and worker settings: config validation (pure), and what the program
// registers with them under mocks. The registry password must reach the Docker provider's
// registryAuth as a secret and nowhere else in plain text.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { imageRegistry, imageRepository } from "../../components/app/render";
import { parseStackConfig } from "../../components/config/schema";
import type { Graph } from "../../tools/check/harness";
import { committedValue, runStack } from "../support/program";
import { minimalConfig } from "../support/config";

const base = minimalConfig;
const problems = (raw: Record<string, unknown>) => {
  const result = parseStackConfig(raw, "staging");
  return result.ok ? [] : result.problems;
};
const DIGEST = `@sha256:${"ab".repeat(32)}`;

describe("image references", () => {
  it("finds the registry the Docker provider pulls from, and so looks credentials up by", () => {
    const cases: [string, string][] = [
      ["ghcr.io/acme/api:1.0.0", "ghcr.io"],
      [`ghcr.io/acme/api${DIGEST}`, "ghcr.io"],
      [`registry.example.com:5000/team/api:2${DIGEST}`, "registry.example.com:5000"],
      ["localhost/api:dev", "localhost"],
      ["acme/api:1.0.0", "registry-1.docker.io"],
      ["redis:7.4.1-alpine", "registry-1.docker.io"],
      ["docker.io/acme/api:1", "docker.io"],
    ];
    for (const [reference, registry] of cases) assert.equal(imageRegistry(reference), registry, reference);
  });

  it("finds the repository `docker image ls` lists the app's images under", () => {
    const cases: [string, string][] = [
      ["ghcr.io/acme/api:1.0.0", "ghcr.io/acme/api"],
      [`ghcr.io/acme/api:1.0.0${DIGEST}`, "ghcr.io/acme/api"],
      [`ghcr.io/acme/api${DIGEST}`, "ghcr.io/acme/api"],
      [`registry.example.com:5000/team/api:2${DIGEST}`, "registry.example.com:5000/team/api"],
      ["registry.example.com:5000/api", "registry.example.com:5000/api"],
      ["docker.io/library/python:3.12", "python"],
      ["acme/api:1", "acme/api"],
    ];
    for (const [reference, repository] of cases) assert.equal(imageRepository(reference), repository, reference);
  });
});

describe("dropstack:registry and dropstack:app.workers config", () => {
  it("accepts credentials for the registry of app.image", () => {
    assert.deepEqual(problems({ ...base(), registry: { server: "ghcr.io", username: "ci", password: "s3cret" } }), []);
  });

  it("rejects credentials for another registry, which the provider would never use", () => {
    assert.deepEqual(problems({ ...base(), registry: { server: "registry.gitlab.com", username: "ci", password: "s3cret" } }), [
      'dropstack:registry.server: "registry.gitlab.com" is not the registry of app.image, which docker pulls from ghcr.io',
    ]);
  });

  it("names every missing or malformed registry key", () => {
    assert.deepEqual(problems({ ...base(), registry: { server: "https://ghcr.io/" } }).sort(), [
      "dropstack:registry.password: required",
      'dropstack:registry.server: expected a registry host like ghcr.io or registry.example.com:5000, got "https://ghcr.io/"',
      "dropstack:registry.username: required",
    ]);
    assert.deepEqual(problems({ ...base(), registry: { server: "ghcr.io", username: "ci", password: "x", token: "y" } }), [
      "dropstack:registry.token: unknown key; did you mean dropstack:registry.server?",
    ]);
  });

  it("takes singleton (default false) and a healthcheck command per worker", () => {
    const raw = {
      ...base(),
      app: {
        ...base().app,
        workers: [
          { name: "beat", command: "celery beat", singleton: true },
          { name: "worker", command: "celery worker", healthcheck: "celery inspect ping" },
        ],
      },
    };
    const result = parseStackConfig(raw, "staging");
    assert.ok(result.ok);
    assert.deepEqual(result.config.app.workers, [
      { name: "beat", command: "celery beat", singleton: true },
      { name: "worker", command: "celery worker", singleton: false, healthcheck: "celery inspect ping" },
    ]);
    assert.deepEqual(
      problems({ ...base(), app: { ...base().app, workers: [{ name: "beat", command: "x", singleton: "yes", healthcheck: "" }] } }).sort(),
      [
        'dropstack:app.workers.0.healthcheck: expected a command run in the worker\'s container, got ""',
        'dropstack:app.workers.0.singleton: expected true or false, got "yes"',
      ],
    );
  });
});

describe("a private registry under mocks (staging)", () => {
  const PASSWORD = "registry-password-do-not-print";
  const app = committedValue<{ image: string }>("staging", "dropstack:app");
  let graph: Graph;

  before(async () => {
    ({ graph } = await runStack({
      stack: "staging",
      override: { "dropstack:registry": { server: imageRegistry(app.image), username: "deploy-bot", password: PASSWORD } },
    }));
  });

  it("hands the Docker provider registryAuth for the image's registry, with the password secret", () => {
    const provider = graph.one("pulumi:providers:docker", "");
    const auth =
      typeof provider.inputs.registryAuth === "string"
        ? (JSON.parse(provider.inputs.registryAuth) as unknown[])
        : provider.inputs.registryAuth;
    assert.deepEqual(auth, [{ address: imageRegistry(app.image), username: "deploy-bot", password: PASSWORD }]);
    assert.ok(provider.secretInputs.includes("registryAuth"), "registryAuth is a secret input");
  });

  it("puts the password in no other resource's inputs, secret or not", () => {
    for (const r of graph.registrations.filter((r) => r.type !== "pulumi:providers:docker")) {
      assert.ok(!JSON.stringify(r.inputs).includes(PASSWORD), `${r.name} carries the registry password`);
    }
  });
});
