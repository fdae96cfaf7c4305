// The shared readers in policies/util.ts that every policy area leans on: asProps answers an
// empty object for anything that is not a plain object; dependsOnTransitively follows
// dependencies and property dependencies any number of hops deep, reads each resource's
// edges a bounded number of times (so cycles end), and stops at the target; known() hides
// only the analyzer's UnknownValueError and rethrows anything else exactly as thrown.
// Graphs are generated as chains of every length up to 6, with each hop a dependency or
// a property dependency, and as cycles of every length up to 5.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PolicyResource } from "@pulumi/policy";
import { asProps, dependsOnTransitively, known } from "../../policies/util";

interface Node {
  urn: string;
  deps: Node[];
  propertyDeps: Node[];
  reads: number;
}

const node = (name: string): Node => ({ urn: `urn:pulumi:test::dropstack::t::${name}`, deps: [], propertyDeps: [], reads: 0 });

/**
 * The resources as the analyzer hands them to a stack policy. Reading a resource's edges more
 * than a few times means the walk goes round a cycle: it throws instead of hanging.
 */
function resources(nodes: Node[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  for (const n of nodes) {
    const resource = {
      urn: n.urn,
      get dependencies() {
        if (++n.reads > 3) throw new Error(`${n.urn}'s dependencies read ${n.reads} times`);
        return n.deps.map((d) => byUrn.get(d.urn));
      },
      get propertyDependencies() {
        return { image: n.propertyDeps.map((d) => byUrn.get(d.urn)) };
      },
    } as unknown as PolicyResource;
    byUrn.set(n.urn, resource);
  }
  return nodes.map((n) => byUrn.get(n.urn) as PolicyResource);
}

describe("policies/util", () => {
  it("asProps answers {} for null, lists and scalars, and the object itself otherwise", () => {
    for (const value of [null, undefined, [], [{ a: 1 }], "text", 0, 1, true, false])
      assert.deepEqual(asProps(value), {}, JSON.stringify(value));
    const props = { a: 1 };
    assert.equal(asProps(props), props);
  });

  it("dependsOnTransitively follows every hop of a chain, through dependencies and property dependencies", () => {
    for (let length = 1; length <= 6; length++) {
      for (let viaProperty = 0; viaProperty < 2 ** length; viaProperty++) {
        const nodes = Array.from({ length: length + 1 }, (_, i) => node(`n${i}`));
        for (let i = 0; i < length; i++) (viaProperty & (2 ** i) ? nodes[i].propertyDeps : nodes[i].deps).push(nodes[i + 1]);
        const all = resources(nodes);
        const what = `chain of ${length}, property hops ${viaProperty.toString(2)}`;
        assert.equal(dependsOnTransitively(all[0], all[length], all), true, what);
        assert.equal(dependsOnTransitively(all[length], all[0], all), false, what);
      }
    }
  });

  it("dependsOnTransitively ends on a cycle that does not reach the target, reading each resource's edges at most twice", () => {
    for (let length = 1; length <= 5; length++) {
      const nodes = Array.from({ length }, (_, i) => node(`c${i}`));
      for (let i = 0; i < length; i++) nodes[i].deps.push(nodes[(i + 1) % length]);
      const outside = node("outside");
      const all = resources([...nodes, outside]);
      assert.equal(dependsOnTransitively(all[0], all[length], all), false, `cycle of ${length}`);
      for (const n of nodes) assert.ok(n.reads <= 2, `${n.urn} read ${n.reads} times`);
    }
  });

  it("known() answers undefined for the analyzer's unknown values only", () => {
    class UnknownValueError extends Error {}
    assert.equal(
      known(() => {
        throw new UnknownValueError("unknown during preview");
      }),
      undefined,
    );
    assert.equal(
      known(() => 5),
      5,
    );
  });

  it("known() rethrows any other error, and odd thrown values, exactly as thrown", () => {
    const thrown: [string, unknown][] = [
      ["TypeError", new TypeError("bad")],
      ["an Error whose message names UnknownValueError", new Error("UnknownValueError")],
      ["null", null],
      ["undefined", undefined],
      ["an object without a prototype", Object.create(null)],
      ["a string", "text"],
      ["0", 0],
    ];
    for (const [what, value] of thrown) {
      assert.throws(
        () =>
          known(() => {
            throw value;
          }),
        (e: unknown) => e === value,
        what,
      );
    }
  });
});
