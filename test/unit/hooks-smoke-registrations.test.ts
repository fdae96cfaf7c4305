// What SmokeTest registers, built directly under mocks: its three droplet commands (the smoke
// test, the post-deploy watch, the image prune) each log both streams and run without the
// previous run's output in their environment, and the component records the image that passed
// as its output in the state. Cases: the smoke test alone, and with the watch and the prune on.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { HOOK_SUFFIX } from "../../components/hooks";
import { mocks } from "../../tools/check/mocks";
import { outputValue } from "../support/pulumi-mocks";
import { SMOKE_IMAGE, SMOKE_WATCH, smokeTest } from "../support/smoke-test";
import { type RegistrationWatch, watchRegistrations } from "../support/registration-watch";

/** Resource name to the inputs the engine received. */
const inputs = new Map<string, Record<string, unknown>>();
let watch: RegistrationWatch;

before(async () => {
  watch = watchRegistrations();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        inputs.set(args.name, args.inputs as Record<string, unknown>);
        return mocks.newResource(args);
      },
      call: mocks.call,
    },
    "dropstack",
    "test",
    false,
  );
});

/** The outputs the component registered, once the engine has received them. */
async function registeredOutputs(component: pulumi.ComponentResource): Promise<unknown> {
  const urn = await outputValue(component.urn);
  for (let i = 0; i < 200 && !watch.componentOutputs.has(urn); i++) await new Promise((r) => setImmediate(r));
  assert.ok(watch.componentOutputs.has(urn), `${urn} registered no outputs`);
  return watch.componentOutputs.get(urn);
}

const variants = [
  { name: "smoke-only", extra: {}, commands: [HOOK_SUFFIX.smoke] },
  {
    name: "smoke-all",
    extra: { watch: SMOKE_WATCH, pruneImages: { repository: "ghcr.io/acme/api", imageId: "sha256:" + "c".repeat(64) } },
    commands: [HOOK_SUFFIX.smoke, HOOK_SUFFIX.watch, "-prune-images"],
  },
];

describe("SmokeTest registrations (mocks)", () => {
  for (const { name, extra, commands } of variants) {
    it(`${name}: runs each droplet command logging both streams, without the previous run's output in its environment`, async () => {
      const test = smokeTest(name, extra);
      await outputValue(test.passedImage);
      if (test.prune) await outputValue(test.prune.urn);
      const registered = [...inputs.keys()].filter((n) => n.startsWith(`${name}-`)).sort();
      assert.deepEqual(registered, commands.map((suffix) => `${name}${suffix}`).sort());
      for (const command of registered) {
        assert.equal(inputs.get(command)?.logging, "stdoutAndStderr", command);
        assert.equal(inputs.get(command)?.addPreviousOutputInEnv, false, command);
      }
    });

    it(`${name}: records the image that passed as the component's output`, async () => {
      const test = smokeTest(`outputs-${name}`, extra);
      assert.deepEqual(await registeredOutputs(test), { passedImage: SMOKE_IMAGE });
    });
  }
});
