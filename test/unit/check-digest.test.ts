// The pieces of `npm run check --json` that make it read like `pulumi preview --json`:
// secrets masked at any depth, the provider reference the engine would record, policy events.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { SECRET_MASK, UNKNOWN_ID, maskSecrets, policyEvents, previewDigest, providerReference } from "../../tools/check/digest";
import { Graph, Registration } from "../../tools/check/harness";
import { registration } from "../support/registration";

const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });

const reg = (name: string, type: string, extra: Partial<Registration> = {}): Registration => registration(type, name, extra);

describe("maskSecrets", () => {
  it("replaces a secret anywhere (top level, in objects, in arrays, a secret object) and keeps the rest", () => {
    const wire = {
      password: secret("hunter2"),
      connection: { host: "203.0.113.10", privateKey: secret("-----BEGIN"), nested: [1, secret({ a: "b" })] },
      env: ["A=1", secret("TOKEN=x")],
      pending: unknownValue,
      plain: "hunter3",
    };
    const masked = maskSecrets(wire);
    assert.deepEqual(masked, {
      password: SECRET_MASK,
      connection: { host: "203.0.113.10", privateKey: SECRET_MASK, nested: [1, SECRET_MASK] },
      env: ["A=1", SECRET_MASK],
      pending: unknownValue,
      plain: "hunter3",
    });
    assert.doesNotMatch(JSON.stringify(masked), /hunter2|BEGIN|TOKEN=x|"a":"b"/);
  });
});

describe("providerReference", () => {
  it("keeps an explicit provider and names the default one by package and version, not yet created", () => {
    const explicit = "urn:pulumi:staging::dropstack::pulumi:providers:docker::web::web-id";
    assert.equal(providerReference(reg("c", "docker:index/container:Container", { provider: explicit }), "staging", "dropstack"), explicit);
    for (const [version, name] of [
      ["4.80.1", "default_4_80_1"],
      ["3.0.0-alpha.1+dev", "default_3_0_0_alpha_1_dev"],
      [undefined, "default"],
    ] as const) {
      assert.equal(
        providerReference(reg("v", "digitalocean:index/volume:Volume", { version }), "staging", "dropstack"),
        `urn:pulumi:staging::dropstack::pulumi:providers:digitalocean::${name}::${UNKNOWN_ID}`,
      );
    }
  });

  it("gives components, providers and the engine's own resources none", () => {
    assert.equal(providerReference(reg("h", "dropstack:index:Host", { custom: false }), "s", "p"), undefined);
    assert.equal(providerReference(reg("d", "pulumi:providers:docker"), "s", "p"), undefined);
    assert.equal(providerReference(reg("r", "pulumi:pulumi:StackReference"), "s", "p"), undefined);
  });
});

describe("previewDigest", () => {
  const volume = reg("data", "digitalocean:index/volume:Volume", {
    protect: true,
    version: "4.80.1",
    wireInputs: { size: 20, name: secret("n") },
  });
  const attachment = reg("attach", "digitalocean:index/volumeAttachment:VolumeAttachment", {
    deleteBeforeReplace: true,
    dependencies: [volume.urn],
    propertyDependencies: { volumeId: [volume.urn] },
    parent: "urn:parent",
  });
  const run = {
    packName: "dropstack",
    packVersion: "0.1.0",
    policies: [],
    violations: [
      { policy: "volume-protected", enforcementLevel: "mandatory" as const, urn: volume.urn, message: "m", description: "d" },
      { policy: "stack-wide", enforcementLevel: "advisory" as const, urn: "", message: "s", description: "d" },
    ],
  };
  const digest = previewDigest({ stack: "staging", project: "dropstack", graph: new Graph([volume, attachment]), run, durationMs: 1.5 });

  it("makes a create step per resource with its state, and counts them", () => {
    assert.deepEqual(digest.changeSummary, { create: 2 });
    assert.equal(digest.duration, 1_500_000);
    const [v, a] = digest.steps;
    assert.deepEqual(v.newState.inputs, { size: 20, name: SECRET_MASK });
    assert.equal(v.newState.protect, true);
    assert.equal(a.newState.deleteBeforeReplace, true);
    assert.deepEqual(a.newState.dependencies, [volume.urn]);
    assert.equal(a.newState.parent, "urn:parent");
    assert.deepEqual(a.newState.ignoreChanges, []);
  });

  it("reports violations as apitype.PolicyEvent, stack-wide ones without a resource URN", () => {
    assert.deepEqual(
      policyEvents(run).map((e) => [e.policyName, e.enforcementLevel, e.resourceUrn, e.policyPackName]),
      [
        ["volume-protected", "mandatory", volume.urn, "dropstack"],
        ["stack-wide", "advisory", undefined, "dropstack"],
      ],
    );
    assert.ok(!("resourceUrn" in digest.policyEvents[1]));
  });
});
