// The committed staging stack sets neither dropstack:frontend nor a worker port: under mocks it
// registers no frontend and joins no worker to the ingress network.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Graph } from "../../tools/check/graph";
import { runStack } from "../support/program";

describe("without dropstack:frontend", () => {
  let graph: Graph;
  before(async () => {
    ({ graph } = await runStack({ stack: "staging" }));
  });
  it("registers no frontend, and no worker joins the ingress network", () => {
    assert.equal(graph.ofType("dropstack:index:Frontend").length, 0);
    assert.equal(graph.registrations.filter((r) => /-frontend-|-worker-.*-ingress$/.test(r.name)).length, 0);
  });
});
