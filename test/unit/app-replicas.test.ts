// How many api replicas the App runs: the staging stack with dropstack:app.replicas set to 1
// (the smallest the config takes) under mocks, and the App constructed directly with counts
// the config would refuse (zero, negative, fractional, not a number), which it refuses itself,
// naming the key and the value.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { App, type AppArgs } from "../../components/app";
import type { Graph, Registration } from "../../tools/check/harness";
import { committedValue, runStack } from "../support/program";

const CONTAINER = "docker:index/container:Container";
const COMMAND = "command:remote:Command";

describe("a single api replica (staging, replicas 1, mocks)", () => {
  let graph: Graph;
  let api: Registration[];

  before(async () => {
    const app = committedValue("staging", "dropstack:app");
    // In this process: the App is constructed below under the mocks this run sets.
    ({ graph } = await runStack({ stack: "staging", inThisProcess: true, override: { "dropstack:app": { ...app, replicas: 1 } } }));
    api = graph.ofType(CONTAINER).filter((c) => /-api-\d+$/.test(c.name));
  });

  it("runs one replica, joined to the ingress network once healthy", () => {
    assert.deepEqual(
      api.map((c) => c.name.replace(/^.*-api-/, "api-")),
      ["api-0"],
    );
    assert.ok(graph.dependsOn(graph.one(COMMAND, "-api-0-ingress"), api[0]));
  });

  it("reads that replica's start-up logs beside its health wait", () => {
    const check = graph.one(COMMAND, "-api-startup");
    assert.ok(graph.dependsOn(check, graph.one(COMMAND, "-migrate")));
    assert.ok(!graph.dependsOn(check, api[0]));
    assert.ok(graph.dependsOn(graph.one(COMMAND, "-smoke"), check));
  });

  it("refuses a replica count that is not a whole number of at least 1", () => {
    for (const replicas of [0, -1, -3, 0.5, 1.5, 2.5, Number.NaN]) {
      assert.throws(
        () => new App(`refused-${String(replicas)}`, { replicas } as AppArgs),
        { message: `dropstack:app.replicas must be at least 1, got ${replicas}` },
        String(replicas),
      );
    }
  });
});
