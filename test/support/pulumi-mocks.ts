// Pulumi's mocks for a test file that builds components directly (not through the program):
// the offline provider of tools/check/mocks.ts, recording what each resource was registered
// with. Pulumi's runtime is process-wide, so a file that uses this must run in a process of
// its own (tools/run-tests.mjs: it imports @pulumi/pulumi or says `run-tests: own process`).
import assert from "node:assert/strict";
import { before } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { mocks } from "../../tools/check/mocks";

/** Resource name to the arguments the mock provider received for it. */
export class RecordedResources extends Map<string, pulumi.runtime.MockResourceArgs> {
  /** The inputs the mock provider received for a resource, once it is registered. */
  async inputsOf(resource: pulumi.CustomResource): Promise<Record<string, unknown>> {
    const name = await outputValue(resource.urn).then((urn) => urn.split("::").pop() as string);
    const args = this.get(name);
    assert.ok(args, `${name} was never registered`);
    return args.inputs as Record<string, unknown>;
  }
}

/**
 * Installs the mocks before the file's tests (a `before` hook, run after the hooks the file
 * registered earlier) and returns the record they fill as resources are registered.
 */
export function recordResources(): RecordedResources {
  const created = new RecordedResources();
  before(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          created.set(args.name, args);
          return mocks.newResource(args);
        },
        call: mocks.call,
      },
      "dropstack",
      "test",
      false,
    );
  });
  return created;
}

/** The value an output resolves to. */
export function outputValue<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) =>
    output.apply((v) => {
      resolve(v);
      return v;
    }),
  );
}
