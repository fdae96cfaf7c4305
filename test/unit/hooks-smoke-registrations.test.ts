// What SmokeTest registers, built directly under mocks: its three droplet commands (the smoke
// test, the post-deploy watch, the image prune) each log both streams and run without the
// previous run's output in their environment, and the component records the image that passed
// as its output in the state. Cases: the smoke test alone, and with the watch and the prune on.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { HOOK_SUFFIX, SmokeTest, type SmokeTestArgs } from "../../components/hooks";
import { healthSmokeCheck } from "../../components/hooks/commands";
import { mocks } from "../../tools/check/mocks";
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

const IMAGE = `ghcr.io/acme/api@sha256:${"b".repeat(64)}`;

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

function smokeTest(name: string, extra: Partial<SmokeTestArgs> = {}): SmokeTest {
  return new SmokeTest(name, {
    connection: { host: "203.0.113.10", user: "deploy" },
    checks: [healthSmokeCheck("api.example.com", "/healthz")],
    insecure: false,
    image: IMAGE,
    triggers: ["deploy-1"],
    dependsOn: [],
    ...extra,
  });
}

const resolved = <T>(output: pulumi.Output<T>): Promise<T> => new Promise((resolve) => output.apply((v) => (resolve(v), v)));

/** The outputs the component registered, once the engine has received them. */
async function registeredOutputs(component: pulumi.ComponentResource): Promise<unknown> {
  const urn = await resolved(component.urn);
  for (let i = 0; i < 200 && !watch.componentOutputs.has(urn); i++) await new Promise((r) => setImmediate(r));
  assert.ok(watch.componentOutputs.has(urn), `${urn} registered no outputs`);
  return watch.componentOutputs.get(urn);
}

const variants = [
  { name: "smoke-only", extra: {}, commands: [HOOK_SUFFIX.smoke] },
  {
    name: "smoke-all",
    extra: { watch: WATCH, pruneImages: { repository: "ghcr.io/acme/api", imageId: "sha256:" + "c".repeat(64) } },
    commands: [HOOK_SUFFIX.smoke, HOOK_SUFFIX.watch, "-prune-images"],
  },
];

describe("SmokeTest registrations (mocks)", () => {
  for (const { name, extra, commands } of variants) {
    it(`${name}: runs each droplet command logging both streams, without the previous run's output in its environment`, async () => {
      const test = smokeTest(name, extra);
      await resolved(test.passedImage);
      if (test.prune) await resolved(test.prune.urn);
      const registered = [...inputs.keys()].filter((n) => n.startsWith(`${name}-`)).sort();
      assert.deepEqual(registered, commands.map((suffix) => `${name}${suffix}`).sort());
      for (const command of registered) {
        assert.equal(inputs.get(command)?.logging, "stdoutAndStderr", command);
        assert.equal(inputs.get(command)?.addPreviousOutputInEnv, false, command);
      }
    });

    it(`${name}: records the image that passed as the component's output`, async () => {
      const test = smokeTest(`outputs-${name}`, extra);
      assert.deepEqual(await registeredOutputs(test), { passedImage: IMAGE });
    });
  }
});
