// `npm run check` as users run it: the deploy order it prints, and the deploy policies
// blocking production (and only warning on staging).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertPrintedInOrder, runCheck, writeStackVariant } from "../support/check";
import { checkUnsafeVariant } from "../support/unsafe-stacks";

const position = (order: string[][], nameEnd: string) => order.findIndex((level) => level.some((n) => n.endsWith(nameEnd)));

describe("npm run check: deploy", () => {
  it("production passes and prints backup → migrate → api replicas → smoke", () => {
    const report = runCheck("production");
    assert.equal(report.status, 0, report.stderr + JSON.stringify(report.json?.violations, null, 2));
    const order = report.json?.deployOrder ?? [];
    const steps = ["-backup", "-migrate", "-api-0", "-api-1", "-api-2", "-smoke"].map((s) => position(order, s));
    assert.ok(
      steps.every((i) => i >= 0),
      `all steps listed: ${JSON.stringify(order)}`,
    );
    assert.deepEqual(
      [...steps].sort((a, b) => a - b),
      steps,
    );
    assert.equal(new Set(steps).size, steps.length);
    assert.ok(position(order, "-worker-beat") > position(order, "-migrate"));

    const text = runCheck("production", { json: false });
    assert.equal(text.status, 0);
    assertPrintedInOrder(text.stdout, ["-backup", "-migrate", "-api-0", "-api-1", "-api-2", "-smoke"]);
  });

  it("with every verification step configured, passes the policy pack and prints migrate → verify → replicas → smoke → watch → prune", () => {
    const file = writeStackVariant("production", (c) => {
      const app = c["dropstack:app"] as Record<string, unknown>;
      app.verify = {
        sql: [{ name: "43 tables", query: "SELECT count(*) = 43 FROM information_schema.tables WHERE table_schema = 'app'" }],
      };
      app.smoke = [{ path: "/api/users", token: true, scopes: ["read:users"] }];
      app.watch = { seconds: 300 };
    });
    const text = runCheck("production", { configFile: file, json: false });
    assert.equal(text.status, 0, text.stdout + text.stderr);
    assert.match(text.stdout, /0 mandatory/);
    const steps = [
      "-backup [backup]",
      "-migrate [migrate]",
      "-verify [verify]",
      "-api-0",
      "-api-2",
      "-smoke [smoke]",
      "-watch [watch]",
      "-prune-images",
    ];
    const { section, lines } = assertPrintedInOrder(
      text.stdout,
      steps.map((step) => step.replace(/[[\]]/g, "\\$&")),
    );
    assert.equal(new Set(lines).size, lines.length, section);
  });

  // Production's shared unsafe variant deploys ghcr.io/acme/api:2.4.0 with the promotion check
  // overridden, among other edits (test/support/unsafe-stacks.ts); the policy's unit tests
  // take the other shapes of a tag.
  it("exits 1 naming app-image-pinned when production deploys an image by tag, even with the promotion check overridden", () => {
    const report = checkUnsafeVariant("production");
    assert.equal(report.status, 1, report.stderr);
    const violation = report.json?.violations.find((v) => v.policy === "app-image-pinned");
    assert.ok(violation, JSON.stringify(report.json?.violations));
    assert.equal(violation.enforcementLevel, "mandatory");
    assert.ok(violation.message.includes("ghcr.io/acme/api:2.4.0") && violation.message.includes("dropstack:app.image"));
  });

  it("staging, which deploys by tag, only gets an advisory", () => {
    const report = runCheck("staging");
    assert.equal(report.status, 0, report.stderr);
    const pinned = report.json?.violations.filter((v) => v.policy === "app-image-pinned") ?? [];
    assert.equal(pinned.length, 1);
    assert.equal(pinned[0].enforcementLevel, "advisory");
    assert.equal(
      report.json?.violations.filter(
        (v) => v.policy === "deploy-hooks-ordered" || v.policy === "container-isolated" || v.policy === "app-healthchecked",
      ).length,
      0,
    );
  });
});
