// Without dropstack:auth0.appManagementScopes (taken out of the committed staging stack) no app
// Management API client exists and the app's environment has no AUTH0_MANAGEMENT_* variables.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Graph } from "../../tools/check/graph";
import { committedValue, runStack } from "../support/program";

describe("no app Management API client unless asked", () => {
  let graph: Graph;
  before(async () => {
    const { appManagementScopes, ...auth0 } = committedValue<Record<string, unknown>>("staging", "dropstack:auth0");
    assert.ok(appManagementScopes, "the committed stack sets the key this test takes out");
    ({ graph } = await runStack({ stack: "staging", override: { "dropstack:auth0": auth0 } }));
  });
  it("registers no -app-management client or grant, and no container gets the variables", () => {
    assert.equal(graph.registrations.filter((r) => r.name.includes("-app-management")).length, 0);
    for (const container of graph.ofType("docker:index/container:Container"))
      assert.ok(!((container.inputs.envs as string[] | undefined) ?? []).some((e) => e.startsWith("AUTH0_MANAGEMENT_")), container.name);
  });
});
