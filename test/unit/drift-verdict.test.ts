// The drift check's verdict: no changes, changes found, or the program failed.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { EXIT_CHANGES_FOUND, EXIT_NO_CHANGES, EXIT_PROGRAM_FAILED, driftVerdict } from "../../tools/drift/verdict";

const fixtures = join(__dirname, "..", "fixtures", "preview");
const read = (name: string) => readFileSync(join(fixtures, name), "utf8");
const STACK = "urn:pulumi:production::dropstack::pulumi:pulumi:Stack::dropstack-production";
const preview = (ops: string[]) =>
  JSON.stringify({
    steps: [
      { op: "same", urn: STACK },
      ...ops.map((op, i) => ({ op, urn: `urn:pulumi:production::dropstack::digitalocean:index/firewall:Firewall::fw${i}` })),
    ],
    changeSummary: {},
  });

describe("drift verdict", () => {
  it("no changes when every step is same (or a read)", () => {
    const v = driftVerdict(preview(["same", "read"]), 0, "drift.json");
    assert.deepEqual(v, { exitCode: EXIT_NO_CHANGES, verdict: "no changes", changes: [] });
  });

  it("changes found for any other op, each listed", () => {
    for (const op of ["update", "replace", "create", "delete", "create-replacement", "delete-replaced", "import", "discard"]) {
      const v = driftVerdict(preview([op]), 0, "drift.json");
      assert.equal(v.exitCode, EXIT_CHANGES_FOUND, op);
      assert.match(v.verdict, /^changes found: 1 resource/);
      assert.deepEqual(v.changes, [`${op} urn:pulumi:production::dropstack::digitalocean:index/firewall:Firewall::fw0`]);
    }
    assert.equal(driftVerdict(read("clean.json"), 0, "clean.json").changes.length, 4);
  });

  it("the program failed when pulumi exited non-zero, whatever it printed", () => {
    for (const text of ["", read("clean.json"), preview([])]) {
      const v = driftVerdict(text, 255, "drift.json");
      assert.equal(v.exitCode, EXIT_PROGRAM_FAILED);
      assert.match(v.verdict, /^the program failed: pulumi preview exited 255/);
    }
  });

  it("the program failed when the preview is unusable: errors recorded, malformed, wrong shape, empty", () => {
    for (const name of ["failed-preview.json", "malformed.json", "wrong-shape.json"]) {
      assert.equal(driftVerdict(read(name), 0, name).exitCode, EXIT_PROGRAM_FAILED, name);
    }
    assert.equal(driftVerdict("", 0, "drift.json").exitCode, EXIT_PROGRAM_FAILED);
  });
});
