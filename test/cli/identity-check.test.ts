// `npm run check` on variants of the committed stacks: the identity policies run through the
// real analyzer and decide the exit code, and a missing tenant domain is invalid config.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCheck, writeStackVariant } from "../support/check";
import { checkUnsafeVariant } from "../support/unsafe-stacks";

describe("npm run check (identity)", () => {
  // The shared unsafe variants give the SPA a localhost callback, among other edits
  // (test/support/unsafe-stacks.ts, whose test shows no edit's finding comes from another).
  it("exits 1 naming the policy when production allows a localhost callback", () => {
    const report = checkUnsafeVariant("production");
    assert.equal(report.status, 1, report.stderr);
    const found = report.json?.violations.filter((v) => v.policy === "auth0-client-no-insecure-urls") ?? [];
    assert.equal(found.length, 1, JSON.stringify(report.json?.violations, null, 2));
    assert.equal(found[0].enforcementLevel, "mandatory");
    assert.match(found[0].message, /http:\/\/localhost:3000\/callback.*dropstack:auth0\.spa\.callbacks/);
    assert.match(found[0].urn, /auth0:index\/client:Client::dropstack-production-spa$/);
  });

  it("only warns about the same callback on staging", () => {
    const report = checkUnsafeVariant("staging");
    assert.equal(report.status, 0, report.stderr);
    assert.ok(report.json?.violations.some((v) => v.policy === "auth0-client-no-insecure-urls" && v.enforcementLevel === "advisory"));
  });

  it("declares the tenant and attack protection on both committed stacks without violations", () => {
    for (const stack of ["staging", "production"]) {
      const report = runCheck(stack);
      assert.equal(report.status, 0, `${stack}: ${report.stderr}`);
      const types = new Set(report.json?.resources.map((r) => r.type));
      for (const type of [
        "auth0:index/resourceServer:ResourceServer",
        "auth0:index/action:Action",
        "auth0:index/triggerActions:TriggerActions",
        "auth0:index/attackProtection:AttackProtection",
      ]) {
        assert.ok(types.has(type), `${stack} has no ${type}`);
      }
      assert.deepEqual(
        report.json?.violations.filter((v) => v.policy.startsWith("auth0-")),
        [],
        stack,
      );
    }
  });

  it("exits 2 naming auth0:domain when the tenant domain is not configured", () => {
    const saved = process.env.AUTH0_DOMAIN;
    delete process.env.AUTH0_DOMAIN;
    try {
      const file = writeStackVariant("staging", (c) => {
        delete c["auth0:domain"];
      });
      const report = runCheck("staging", { configFile: file, json: false });
      assert.equal(report.status, 2, report.stdout + report.stderr);
      assert.match(report.stderr, /auth0:domain: required when dropstack:auth0 is set/);
    } finally {
      if (saved !== undefined) process.env.AUTH0_DOMAIN = saved;
    }
  });

  it("builds no Auth0 resources when dropstack:auth0 is absent", () => {
    const file = writeStackVariant("staging", (c) => {
      delete c["dropstack:auth0"];
    });
    const report = runCheck("staging", { configFile: file });
    assert.equal(report.status, 0, report.stderr);
    assert.ok(report.json?.resources.every((r) => !r.type.startsWith("auth0:")));
  });
});
