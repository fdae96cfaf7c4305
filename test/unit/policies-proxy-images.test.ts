// proxy-images-pinned: which resource each violation names, and its whole message. The image
// references are generated: the nginx and certbot repositories behind every registry form
// parseImageReference strips (Docker Hub, a host with a dot, a port, localhost, `library/`),
// each with floating tags (none, latest, a major, a minor line, a variant) and with pinned
// ones (an exact release, a digest, both); beside them, repositories that only look like the
// proxy's. The same references reach the policy three ways: a RemoteImage, a container's own
// image, and a labelled container that runs a RemoteImage's ID. Values unknown during
// preview read as getters that throw the analyzer's UnknownValueError.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as docker from "@pulumi/docker";
import type { StackValidationPolicy } from "@pulumi/policy";
import { proxyImagesPinned } from "../../policies/proxy";
import { FakeResource, stackViolations, typeOf } from "../support/policy";

const CONTAINER = typeOf(docker.Container);
const REMOTE_IMAGE = typeOf(docker.RemoteImage);
const NETWORK = typeOf(docker.Network);
const SERVICE = typeOf(docker.Service);

/** The policy's violations, each as "<name of the resource it names>: <message>". */
function violations(resources: FakeResource[]): Promise<string[]> {
  const naming: StackValidationPolicy = {
    ...proxyImagesPinned,
    validateStack: (args, report) =>
      proxyImagesPinned.validateStack(args, (message, urn) => report(`${urn?.split("::").pop() ?? "(no resource)"}: ${message}`)),
  };
  return stackViolations(naming, resources);
}

const HINT = {
  nginx: "set NGINX_IMAGE in components/proxy/commands.ts to an exact release like nginx:1.28.0-alpine, or add @sha256:<digest>",
  certbot: "set CERTBOT_IMAGE in components/proxy/commands.ts to an exact release like certbot/certbot:v3.0.1, or add @sha256:<digest>",
};
type Kind = keyof typeof HINT;
/** The role label of each kind's container (components/common/names.ts). */
const ROLE: Record<Kind, string> = { nginx: "proxy", certbot: "certbot" };

const floating = (kind: Kind, reference: string) => `the ${kind} image "${reference}" can change under the same name: ${HINT[kind]}`;
const untraced = (kind: Kind, container: string) =>
  `cannot tell which image the ${ROLE[kind]} container ${container} runs: pull it with a docker.RemoteImage (${HINT[kind]})`;

const REGISTRY_PREFIXES = [
  "",
  "docker.io/",
  "registry-1.docker.io/",
  "mirror.example.com/",
  "mirror.example.com:5000/",
  "10.0.0.5:5000/",
  "localhost/",
  "localhost:5000/",
];
const REPOSITORIES: Record<Kind, string[]> = {
  nginx: ["nginx", "library/nginx"],
  certbot: ["certbot/certbot"],
};
const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
const FLOATING_SUFFIXES = ["", ":latest", ":1", ":1.28", ":1.28-alpine", ":stable-alpine", ":mainline", "@sha256:abc"];
const PINNED_SUFFIXES = [":1.28.0-alpine", ":v3.0.1", ":1.28.0", `@${DIGEST}`, `:latest@${DIGEST}`];

const references = (kind: Kind, suffixes: string[]) =>
  REGISTRY_PREFIXES.flatMap((prefix) => REPOSITORIES[kind].flatMap((repository) => suffixes.map((s) => `${prefix}${repository}${s}`)));
const KINDS: Kind[] = ["nginx", "certbot"];

/**
 * Floating references to repositories that are not the proxy's: forks, other certbot images,
 * a bare `certbot`, and `constructor`, a valid repository name that is also a property every
 * plain object inherits.
 */
const OTHER_IMAGES = [
  "nginxinc/nginx-unprivileged:latest",
  "bitnami/nginx:latest",
  "ghcr.io/acme/nginx:latest",
  "mirror.example.com/acme/certbot/certbot:latest",
  "certbot/dns-cloudflare:latest",
  "certbot:latest",
  "nginx-proxy:latest",
  "constructor:latest",
  "constructor",
  "mirror.example.com:5000/constructor:latest",
  "library/constructor:1",
];

class UnknownValueError extends Error {}
/** `props` with `key` unknown, as the analyzer's props read during preview. */
function withUnknown(props: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.defineProperty({ ...props }, key, {
    enumerable: true,
    get() {
      throw new UnknownValueError(`${key} is unknown during preview`);
    },
  });
}

const roleLabels = (kind: Kind) => [{ label: "dropstack.role", value: ROLE[kind] }];

describe("proxy-images-pinned: a RemoteImage of the proxy's", () => {
  it("refuses a floating nginx or certbot reference through any registry, naming the RemoteImage", async () => {
    for (const kind of KINDS)
      for (const reference of references(kind, FLOATING_SUFFIXES))
        assert.deepEqual(
          await violations([{ type: REMOTE_IMAGE, name: "edge-image", props: { name: reference } }]),
          [`edge-image: ${floating(kind, reference)}`],
          reference,
        );
  });

  it("accepts an exact release or a digest through any registry", async () => {
    for (const kind of KINDS)
      for (const reference of references(kind, PINNED_SUFFIXES))
        assert.deepEqual(await violations([{ type: REMOTE_IMAGE, name: "edge-image", props: { name: reference } }]), [], reference);
  });

  it("leaves floating images of other repositories alone, including one named like an object property", async () => {
    for (const reference of OTHER_IMAGES)
      assert.deepEqual(await violations([{ type: REMOTE_IMAGE, name: "other-image", props: { name: reference } }]), [], reference);
  });

  it("skips a RemoteImage whose name is unknown during preview", async () => {
    assert.deepEqual(await violations([{ type: REMOTE_IMAGE, name: "edge-image", props: withUnknown({}, "name") }]), []);
  });
});

describe("proxy-images-pinned: a container's own image", () => {
  it("refuses a floating nginx or certbot reference, naming the container, labelled or not", async () => {
    for (const kind of KINDS)
      for (const reference of references(kind, FLOATING_SUFFIXES))
        for (const labels of [[], roleLabels(kind)])
          assert.deepEqual(
            await violations([{ type: CONTAINER, name: "edge", props: { image: reference, labels } }]),
            [`edge: ${floating(kind, reference)}`],
            `${reference} with ${labels.length} labels`,
          );
  });

  it("judges a labelled container by its own reference, not by an image it merely waits for", async () => {
    const stack: FakeResource[] = [
      { type: REMOTE_IMAGE, name: "pinned-image", props: { name: "nginx:1.28.0-alpine" } },
      { type: CONTAINER, name: "edge", dependsOn: ["pinned-image"], props: { image: "nginx:latest", labels: roleLabels("nginx") } },
    ];
    assert.deepEqual(await violations(stack), [`edge: ${floating("nginx", "nginx:latest")}`]);
  });

  it("accepts a pinned reference, and leaves unlabelled containers of other repositories alone", async () => {
    for (const kind of KINDS)
      for (const reference of references(kind, PINNED_SUFFIXES))
        assert.deepEqual(await violations([{ type: CONTAINER, name: "edge", props: { image: reference } }]), [], reference);
    for (const reference of OTHER_IMAGES)
      assert.deepEqual(await violations([{ type: CONTAINER, name: "other", props: { image: reference } }]), [], reference);
  });
});

describe("proxy-images-pinned: a labelled container that runs an image ID", () => {
  it("finds the role label among other labels, and ignores other labels that say proxy or certbot", async () => {
    for (const kind of KINDS) {
      const labels = [
        { label: "maintainer", value: "ops@example.com" },
        { label: "dropstack.role", value: ROLE[kind] },
        { label: "com.example.tier", value: "edge" },
      ];
      assert.deepEqual(await violations([{ type: CONTAINER, name: "edge", props: { image: "sha256:aa", labels } }]), [
        `edge: ${untraced(kind, "edge")}`,
      ]);
      const lookalikes = [
        { label: "com.example.role", value: ROLE[kind] },
        { label: "dropstack.role", value: "api" },
      ];
      assert.deepEqual(await violations([{ type: CONTAINER, name: "other", props: { image: "sha256:aa", labels: lookalikes } }]), []);
    }
  });

  it("traces the image through a RemoteImage dependency of another repository, naming the container", async () => {
    for (const kind of KINDS) {
      const stack: FakeResource[] = [
        { type: NETWORK, name: "edge-net", props: { name: "dropstack-edge" } },
        { type: REMOTE_IMAGE, name: "custom-image", props: { name: "mirror.example.com/acme/edge:stable" } },
        { type: CONTAINER, name: "edge", dependsOn: ["edge-net", "custom-image"], props: { image: "sha256:aa", labels: roleLabels(kind) } },
      ];
      assert.deepEqual(await violations(stack), [`edge: ${floating(kind, "mirror.example.com/acme/edge:stable")}`]);
    }
  });

  it("names the RemoteImage once when the container runs the proxy's own floating image", async () => {
    for (const kind of KINDS) {
      const reference = `${REPOSITORIES[kind][0]}:latest`;
      const stack: FakeResource[] = [
        { type: REMOTE_IMAGE, name: "edge-image", props: { name: reference } },
        { type: CONTAINER, name: "edge", dependsOn: ["edge-image"], props: { image: "sha256:aa", labels: roleLabels(kind) } },
      ];
      assert.deepEqual(await violations(stack), [`edge-image: ${floating(kind, reference)}`]);
    }
  });

  it("cannot tell the image when the container waits only for resources that are not images", async () => {
    for (const kind of KINDS) {
      const stack: FakeResource[] = [
        { type: NETWORK, name: "edge-net", props: { name: "dropstack-edge" } },
        { type: CONTAINER, name: "edge", dependsOn: ["edge-net"], props: { image: "sha256:aa", labels: roleLabels(kind) } },
      ];
      assert.deepEqual(await violations(stack), [`edge: ${untraced(kind, "edge")}`]);
    }
  });

  it("cannot tell the image while the pulled image's name is unknown during preview", async () => {
    for (const kind of KINDS) {
      const stack: FakeResource[] = [
        { type: REMOTE_IMAGE, name: "edge-image", props: withUnknown({}, "name") },
        { type: CONTAINER, name: "edge", dependsOn: ["edge-image"], props: { image: "sha256:aa", labels: roleLabels(kind) } },
      ];
      assert.deepEqual(await violations(stack), [`edge: ${untraced(kind, "edge")}`]);
    }
  });

  it("traces the pulled image while the container's own image is unknown during preview", async () => {
    for (const kind of KINDS) {
      const reference = `${REPOSITORIES[kind][0]}:latest`;
      const traced: FakeResource[] = [
        { type: REMOTE_IMAGE, name: "edge-image", props: { name: reference } },
        { type: CONTAINER, name: "edge", dependsOn: ["edge-image"], props: withUnknown({ labels: roleLabels(kind) }, "image") },
      ];
      assert.deepEqual(await violations(traced), [`edge-image: ${floating(kind, reference)}`]);
      const alone: FakeResource[] = [{ type: CONTAINER, name: "edge", props: withUnknown({ labels: roleLabels(kind) }, "image") }];
      assert.deepEqual(await violations(alone), [`edge: ${untraced(kind, "edge")}`]);
    }
  });
});

describe("proxy-images-pinned: other resources", () => {
  it("checks containers only: a swarm service labelled as the proxy is not a container the stack runs", async () => {
    for (const kind of KINDS)
      assert.deepEqual(await violations([{ type: SERVICE, name: "edge-service", props: { name: "edge", labels: roleLabels(kind) } }]), []);
  });
});
