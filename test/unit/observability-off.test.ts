// Staging leaves dropstack:observability off (its default outside production): none of the
// monitoring is registered, nginx serves no monitoring host, and the stack output says so.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONTAINER_ROLES, componentType } from "../../components/common/names";
import { runStack } from "../support/program";

const CONTAINER = "docker:index/container:Container";

describe("Observability off (staging, mocks)", () => {
  it("registers nothing of it, and serves no monitoring host", async () => {
    const { graph, outputs } = await runStack({ stack: "staging" });
    assert.equal(graph.ofType(componentType("Observability")).length, 0);
    assert.equal(
      graph.ofType(CONTAINER).filter((c) => (c.inputs.labels as { value: string }[]).some((l) => l.value === CONTAINER_ROLES.monitoring))
        .length,
      0,
    );
    assert.equal(outputs.grafanaUrl, null);
    assert.ok(
      !String(graph.one(CONTAINER, "-nginx").inputs.uploads ? JSON.stringify(graph.one(CONTAINER, "-nginx").inputs.uploads) : "").includes(
        "monitoring.",
      ),
    );
  });
});
