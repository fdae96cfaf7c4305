import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { ROOT } from "../support/program";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

describe("pull-request.yml: the cost of the change", () => {
  const steps = (
    parse(readFileSync(join(ROOT, ".github", "workflows", "pull-request.yml"), "utf8")) as { jobs: Record<string, { steps: Step[] }> }
  ).jobs.verify.steps;

  it("checks out only the base branch's stack files, beside the branch and without credentials", () => {
    const base = steps.find((s) => s.uses?.startsWith("actions/checkout@") && s.with?.path === "base");
    assert.ok(base, "a checkout of the base branch into base/");
    assert.equal(base.with?.ref, "${{ github.event.pull_request.base.sha }}");
    assert.equal(base.with?.["persist-credentials"], false);
    assert.deepEqual(String(base.with?.["sparse-checkout"]).trim().split("\n").sort(), ["Pulumi.production.yaml", "Pulumi.staging.yaml"]);
  });

  it("prices both stacks against the base's stack files on the run summary, after the checks", () => {
    const index = steps.findIndex((s) => /--compare "base\/Pulumi\.\$stack\.yaml"/.test(s.run ?? ""));
    assert.ok(index >= 0, "a step runs the check with --compare base/Pulumi.<stack>.yaml");
    const run = steps[index].run ?? "";
    assert.match(run, /for stack in staging production/);
    assert.match(run, /GITHUB_STEP_SUMMARY/);
    const lastCheck = steps.findIndex((s) => s.run === "npm run check -- production");
    const baseCheckout = steps.findIndex((s) => s.with?.path === "base");
    assert.ok(
      lastCheck < baseCheckout && baseCheckout < index,
      "the base checkout comes after lint, tests and checks, so they never see base/",
    );
  });
});
