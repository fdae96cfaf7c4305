import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PolicyConfigError, effectiveConfig } from "../../tools/check/analyzer";
import { Graph, Registration } from "../../tools/check/harness";
import { deployLevels, renderTree } from "../../tools/check/report";
import { SECRET_PLACEHOLDER, StackFileError, parseStackFile } from "../../tools/check/stack-file";
import { registration } from "../support/registration";

function reg(name: string, type: string, deps: string[] = [], parent?: string, custom = true): Registration {
  return registration(type, name, {
    urn: `urn:${name}`,
    custom,
    parent: parent ? `urn:${parent}` : undefined,
    dependencies: deps.map((d) => `urn:${d}`),
  });
}

describe("stack file reading", () => {
  it("passes objects as JSON and plain values as strings", () => {
    const file = parseStackFile("config:\n  dropstack:region: fra1\n  dropstack:app:\n    port: 8000\n");
    assert.deepEqual(file.config, { "dropstack:region": "fra1", "dropstack:app": '{"port":8000}' });
    assert.deepEqual(file.secretKeys, []);
  });
  it("treats encrypted values as unknown secrets, whole or inside an object", () => {
    const file = parseStackFile(
      "config:\n  dropstack:appSecrets:\n    secure: v1:abc\n  auth0:clientSecret:\n    secure: v1:def\n  dropstack:app:\n    token:\n      secure: v1:ghi\n",
    );
    assert.deepEqual(file.secretKeys.sort(), ["auth0:clientSecret", "dropstack:app", "dropstack:appSecrets"]);
    assert.equal(file.config["dropstack:appSecrets"], "{}");
    assert.equal(file.config["auth0:clientSecret"], SECRET_PLACEHOLDER);
    assert.deepEqual(JSON.parse(file.config["dropstack:app"]), { token: SECRET_PLACEHOLDER });
  });
  it("rejects keys without a namespace and invalid YAML", () => {
    assert.throws(() => parseStackFile("config:\n  region: fra1\n"), StackFileError);
    assert.throws(() => parseStackFile("config: [\n"), StackFileError);
  });
});

describe("policy config", () => {
  it("applies `all`, then the policy's own level", () => {
    const effective = effectiveConfig(["a", "b"], { all: "mandatory", b: "advisory" });
    assert.deepEqual(effective, { a: { enforcementLevel: "mandatory" }, b: { enforcementLevel: "advisory" } });
  });
  it("rejects policies the pack does not have, so a typo cannot silently disable nothing", () => {
    assert.throws(() => effectiveConfig(["a"], { all: "mandatory", typo: "advisory" }), PolicyConfigError);
  });
});

describe("deploy order", () => {
  it("levels hooks and containers by their dependencies, through components", () => {
    const graph = new Graph([
      reg("stack", "pulumi:pulumi:Stack", [], undefined, false),
      reg("hooks", "dropstack:index:Hooks", [], "stack", false),
      reg("backup", "command:remote:Command", [], "hooks"),
      reg("migrate", "command:remote:Command", ["backup"], "hooks"),
      reg("api-0", "docker:index/container:Container", ["migrate"]),
      reg("api-1", "docker:index/container:Container", ["api-0"]),
      reg("worker", "docker:index/container:Container", ["hooks"]),
      reg("smoke", "command:remote:Command", ["api-1"]),
    ]);
    assert.deepEqual(
      deployLevels(graph).map((l) => l.map((r) => r.name)),
      [["backup"], ["migrate"], ["api-0", "worker"], ["api-1"], ["smoke"]],
    );
  });
  it("draws the resource tree under the stack", () => {
    const graph = new Graph([
      reg("stack", "pulumi:pulumi:Stack", [], undefined, false),
      reg("net", "dropstack:index:Network", [], "stack", false),
      reg("vpc", "digitalocean:index/vpc:Vpc", [], "net"),
    ]);
    const lines = renderTree(graph).split("\n");
    assert.equal(lines.length, 3);
    assert.match(lines[2], /└─ digitalocean:index\/vpc:Vpc\s+vpc/);
  });
});
