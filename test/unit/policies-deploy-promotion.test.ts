// deploy-promotion-override's messages in full: what ships (its digest, or the reference and
// that it is not pinned), which staging stack was read (its stack name, else its logical
// name) and what staging promoted; the app's RemoteImage found among other images and
// resources named like it; and config that cannot switch the override on. Cases are
// generated over image references of several shapes (tags, registries with ports, no tag)
// and over the ways staging's output can fail to match.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import * as docker from "@pulumi/docker";
import { deployPromotionOverride } from "../../policies/deploy";
import { setStackConfig } from "../../policies/stack-config";
import { FakeResource, stackViolations, typeOf } from "../support/policy";

const REMOTE_IMAGE = typeOf(docker.RemoteImage);
const DIGEST = `sha256:${"a".repeat(64)}`;
const OTHER = `sha256:${"b".repeat(64)}`;
const STACK = "acme/dropstack/staging";

/** References a user may put in dropstack:app.image without a digest. */
const UNPINNED = [
  "ghcr.io/acme/api:latest",
  "ghcr.io/acme/api:2.4.0",
  "ghcr.io/acme/api",
  "registry.example.com:5000/acme/api:2.4.0-rc.1",
  "localhost:5000/api:1",
  "acme/api:1",
];

const appImage = (name: string, resourceName = "dropstack-production-app-image"): FakeResource => ({
  type: REMOTE_IMAGE,
  name: resourceName,
  props: { name },
});
const staging = (props: Record<string, unknown>, name = "staging"): FakeResource => ({
  type: "pulumi:pulumi:StackReference",
  name,
  props,
});
const override = (allowUnpromoted: unknown) =>
  setStackConfig({ "dropstack:promotion": JSON.stringify({ stagingStack: STACK, allowUnpromoted }) }, []);

const noStaging = (shipped: string) =>
  `dropstack:promotion.allowUnpromoted is true and no staging stack is read: ${shipped} ships without staging's smoke test`;
const unpromoted = (shipped: string, what: string) =>
  `dropstack:promotion.allowUnpromoted is true: ${shipped} ships although ${what}; set it back to false after this deploy`;

afterEach(() => setStackConfig({}, []));

describe("deploy-promotion-override: what ships", () => {
  it("names the digest of a pinned app image", async () => {
    override(true);
    for (const reference of [`ghcr.io/acme/api:2@${DIGEST}`, `ghcr.io/acme/api@${DIGEST}`, `localhost:5000/api:1@${DIGEST}`]) {
      assert.deepEqual(await stackViolations(deployPromotionOverride, [appImage(reference)]), [noStaging(DIGEST)], reference);
    }
  });

  it("names an app image that is not pinned by digest as such", async () => {
    override(true);
    for (const reference of UNPINNED) {
      assert.deepEqual(
        await stackViolations(deployPromotionOverride, [appImage(reference)]),
        [noStaging(`${reference} (not pinned by digest)`)],
        reference,
      );
    }
  });

  it("finds the app's RemoteImage among other images and among resources named like it", async () => {
    override(true);
    const others: FakeResource[] = [
      { type: "docker:index/image:Image", name: "build-app-image", props: { imageName: "ghcr.io/acme/api:dev" } },
      { type: REMOTE_IMAGE, name: "dropstack-production-redis-image", props: { name: "redis:7.4.1-alpine" } },
      { type: REMOTE_IMAGE, name: "dropstack-production-nginx-image", props: { name: `nginx:1.27.3@${OTHER}` } },
    ];
    for (const before of [others, [...others].reverse(), [others[0]], [others[1]]]) {
      const found = await stackViolations(deployPromotionOverride, [...before, appImage(`ghcr.io/acme/api:2@${DIGEST}`)]);
      assert.deepEqual(found, [noStaging(DIGEST)], before.map((r) => r.name).join(", "));
    }
  });
});

describe("deploy-promotion-override: what staging promoted", () => {
  it("names the staging stack by its stack name, else by the reference's logical name", async () => {
    override(true);
    const image = appImage(`ghcr.io/acme/api:2@${DIGEST}`);
    const promotedImage = `ghcr.io/acme/api:1@${OTHER}`;
    for (const stackName of [STACK, "staging", "acme/other-project/qa"]) {
      const found = await stackViolations(deployPromotionOverride, [
        image,
        staging({ name: stackName, outputs: { promotedImage } }, "promotion-source"),
      ]);
      assert.deepEqual(found, [unpromoted(DIGEST, `${stackName} promoted ${OTHER}`)], stackName);
    }
    const unnamed = await stackViolations(deployPromotionOverride, [image, staging({ outputs: { promotedImage } }, "promotion-source")]);
    assert.deepEqual(unnamed, [unpromoted(DIGEST, `promotion-source promoted ${OTHER}`)]);
  });

  it("names the digest staging promoted, or its reference when that is not pinned", async () => {
    override(true);
    const image = appImage(`ghcr.io/acme/api:2@${DIGEST}`);
    for (const promotedImage of [`ghcr.io/acme/api:1@${OTHER}`, `ghcr.io/acme/api@${OTHER}`]) {
      const found = await stackViolations(deployPromotionOverride, [image, staging({ name: STACK, outputs: { promotedImage } })]);
      assert.deepEqual(found, [unpromoted(DIGEST, `${STACK} promoted ${OTHER}`)], promotedImage);
    }
    for (const promotedImage of UNPINNED) {
      const found = await stackViolations(deployPromotionOverride, [image, staging({ name: STACK, outputs: { promotedImage } })]);
      assert.deepEqual(found, [unpromoted(DIGEST, `${STACK} promoted ${promotedImage}`)], promotedImage);
    }
  });

  it("says when staging has no promotedImage output", async () => {
    override(true);
    const image = appImage(`ghcr.io/acme/api:2@${DIGEST}`);
    for (const outputs of [{}, { promotedImage: 42 }, { promotedImage: null }, undefined]) {
      const found = await stackViolations(deployPromotionOverride, [image, staging({ name: STACK, outputs })]);
      assert.deepEqual(found, [unpromoted(DIGEST, `${STACK} has no promotedImage output`)], JSON.stringify(outputs));
    }
  });

  it("does not take the same tag on both sides for a promotion: only a digest names the same content", async () => {
    override(true);
    for (const reference of UNPINNED) {
      const found = await stackViolations(deployPromotionOverride, [
        appImage(reference),
        staging({ name: STACK, outputs: { promotedImage: reference } }),
      ]);
      assert.deepEqual(found, [unpromoted(`${reference} (not pinned by digest)`, `${STACK} promoted ${reference}`)], reference);
    }
  });
});

describe("deploy-promotion-override: when the override is on", () => {
  it("stays quiet unless dropstack:promotion is JSON whose allowUnpromoted is true", async () => {
    const image = appImage(`ghcr.io/acme/api:2@${DIGEST}`);
    for (const text of ["not json", "{allowUnpromoted: true}", "", "null", "[]", "true", '"allowUnpromoted"', "{}"]) {
      setStackConfig({ "dropstack:promotion": text }, []);
      assert.deepEqual(await stackViolations(deployPromotionOverride, [image]), [], text);
    }
    for (const allowUnpromoted of [false, "true", 1, null]) {
      override(allowUnpromoted);
      assert.deepEqual(await stackViolations(deployPromotionOverride, [image]), [], JSON.stringify(allowUnpromoted));
    }
    setStackConfig({}, []);
    assert.deepEqual(await stackViolations(deployPromotionOverride, [image]), []);
  });
});
