// SmokeTest.passedImage is what staging exports as promotedImage, the image production may
// take. It must not resolve before the checks that vouch for it have finished: the smoke test
// and, when app.watch is on, the watch. Under mocks, the provider's answer for one command is
// held back, and the image must wait for it.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { HOOK_SUFFIX } from "../../components/hooks";
import { mocks } from "../../tools/check/mocks";
import { outputValue } from "../support/pulumi-mocks";
import { SMOKE_IMAGE, SMOKE_WATCH, smokeTest } from "../support/smoke-test";

/** Resource name suffix to the release of its held-back registration. */
const held = new Map<string, () => void>();

before(async () => {
  await pulumi.runtime.setMocks(
    {
      async newResource(args) {
        const suffix = [...held.keys()].find((s) => args.name.endsWith(s));
        if (suffix) await new Promise<void>((release) => held.set(suffix, release));
        return mocks.newResource(args);
      },
      call: mocks.call,
    },
    "dropstack",
    "test",
    false,
  );
});

/** Whether the output has resolved after the event loop has had time to settle the rest. */
async function resolvesWithoutWaiting(output: pulumi.Output<string>): Promise<boolean> {
  let resolved = false;
  output.apply((v) => {
    resolved = true;
    return v;
  });
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  return resolved;
}

/** Holds back the registration of the resource whose name ends in `suffix` until released. */
function holdBack(suffix: string): () => void {
  held.set(suffix, () => assert.fail(`${suffix} was never registered`));
  return () => {
    const release = held.get(suffix);
    held.delete(suffix);
    release?.();
  };
}

describe("SmokeTest.passedImage (mocks)", () => {
  it("resolves to the deployed image once the smoke test has run, with no watch", async () => {
    const test = smokeTest("plain");
    assert.equal(test.watch, undefined);
    assert.equal(await outputValue(test.passedImage), SMOKE_IMAGE);
  });

  it("waits for the smoke test", async () => {
    const release = holdBack(`held-smoke${HOOK_SUFFIX.smoke}`);
    const test = smokeTest("held-smoke");
    assert.equal(await resolvesWithoutWaiting(test.passedImage), false, "passedImage resolved before the smoke test ran");
    release();
    assert.match(await outputValue(test.passedImage), /@sha256:/);
  });

  it("waits for the watch as well, when app.watch is on", async () => {
    const release = holdBack(`held-watch${HOOK_SUFFIX.watch}`);
    const test = smokeTest("held-watch", { watch: SMOKE_WATCH });
    assert.ok(test.watch, "the watch is registered");
    assert.equal(await resolvesWithoutWaiting(test.passedImage), false, "passedImage resolved before the watch ran");
    release();
    assert.match(await outputValue(test.passedImage), /@sha256:/);
  });

  it("does not wait for a held-back resource that is not one of its checks", async () => {
    // The control for the two tests above: holding back the prune does not hold the image.
    const release = holdBack("held-prune-prune-images");
    const test = smokeTest("held-prune", {
      image: "ghcr.io/acme/api:rc",
      triggers: [],
      pruneImages: { repository: "ghcr.io/acme/api", imageId: "sha256:" + "c".repeat(64) },
    });
    assert.equal(await resolvesWithoutWaiting(test.passedImage), true);
    release();
  });
});
