// SmokeTest.passedImage is what staging exports as promotedImage, the image production may
// take. It must not resolve before the checks that vouch for it have finished: the smoke test
// and, when app.watch is on, the watch. Under mocks, the provider's answer for one command is
// held back, and the image must wait for it.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { HOOK_SUFFIX, SmokeTest, SmokeTestArgs } from "../../components/hooks";
import { healthSmokeCheck } from "../../components/hooks/commands";
import { mocks } from "../../tools/check/mocks";

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

const WATCH: NonNullable<SmokeTestArgs["watch"]> = {
  nginxContainer: "acme-nginx",
  imageId: "sha256:" + "a".repeat(64),
  windowSeconds: 120,
  max5xxPercent: 1,
  p95LatencyMs: 800,
  minRequests: 20,
  stack: "staging",
  rollback: true,
  ignoredHosts: [],
};

function smokeTest(name: string, watch?: SmokeTestArgs["watch"]): SmokeTest {
  return new SmokeTest(name, {
    connection: { host: "203.0.113.10", user: "deploy" },
    checks: [healthSmokeCheck("api.example.com", "/healthz")],
    insecure: false,
    image: `ghcr.io/acme/api@sha256:${"b".repeat(64)}`,
    triggers: ["deploy-1"],
    dependsOn: [],
    ...(watch ? { watch } : {}),
  });
}

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

async function resolved(output: pulumi.Output<string>): Promise<string> {
  return new Promise((resolve) => output.apply((v) => (resolve(v), v)));
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
    assert.equal(await resolved(test.passedImage), `ghcr.io/acme/api@sha256:${"b".repeat(64)}`);
  });

  it("waits for the smoke test", async () => {
    const release = holdBack(`held-smoke${HOOK_SUFFIX.smoke}`);
    const test = smokeTest("held-smoke");
    assert.equal(await resolvesWithoutWaiting(test.passedImage), false, "passedImage resolved before the smoke test ran");
    release();
    assert.match(await resolved(test.passedImage), /@sha256:/);
  });

  it("waits for the watch as well, when app.watch is on", async () => {
    const release = holdBack(`held-watch${HOOK_SUFFIX.watch}`);
    const test = smokeTest("held-watch", WATCH);
    assert.ok(test.watch, "the watch is registered");
    assert.equal(await resolvesWithoutWaiting(test.passedImage), false, "passedImage resolved before the watch ran");
    release();
    assert.match(await resolved(test.passedImage), /@sha256:/);
  });

  it("does not wait for a held-back resource that is not one of its checks", async () => {
    // The control for the two tests above: holding back the prune does not hold the image.
    const release = holdBack("held-prune-prune-images");
    const test = new SmokeTest("held-prune", {
      connection: { host: "203.0.113.10", user: "deploy" },
      checks: [healthSmokeCheck("api.example.com", "/healthz")],
      insecure: false,
      image: "ghcr.io/acme/api:rc",
      triggers: [],
      dependsOn: [],
      pruneImages: { repository: "ghcr.io/acme/api", imageId: "sha256:" + "c".repeat(64) },
    });
    assert.equal(await resolvesWithoutWaiting(test.passedImage), true);
    release();
  });
});
