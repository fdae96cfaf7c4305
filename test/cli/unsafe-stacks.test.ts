// The shared unsafe variants (test/support/unsafe-stacks.ts) through `npm run check`: what
// the test files that read them rely on. Production refuses every edit, and finds nothing
// besides what the edits break; staging only warns about its edits.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PRODUCTION_EDITS, STAGING_EDITS, checkUnsafeVariant, unsafeEdits } from "../support/unsafe-stacks";

describe("npm run check on the shared unsafe variants", () => {
  it("production: exit 1, every edit's policies mandatory on the resource each names, and no other mandatory finding", () => {
    const report = checkUnsafeVariant("production");
    assert.equal(report.status, 1, report.stderr);
    const violations = report.json?.violations ?? [];
    const expected = PRODUCTION_EDITS.flatMap((name) => unsafeEdits("production")[name].breaks.map((b) => ({ name, ...b })));
    for (const { name, policy, urn } of expected) {
      const found = violations.filter((v) => v.policy === policy && urn.test(v.urn));
      assert.equal(found.length, 1, `${name}: ${policy} on ${urn}: ${JSON.stringify(violations, null, 2)}`);
      assert.equal(found[0].enforcementLevel, "mandatory", `${name}: ${policy}`);
    }
    const unexpected = violations.filter(
      (v) => v.enforcementLevel === "mandatory" && !expected.some((e) => e.policy === v.policy && e.urn.test(v.urn)),
    );
    assert.deepEqual(unexpected, [], "a mandatory finding no edit accounts for");
  });

  it("staging: exit 0, every edit's policies advisory, nothing mandatory", () => {
    const report = checkUnsafeVariant("staging");
    assert.equal(report.status, 0, report.stderr);
    const violations = report.json?.violations ?? [];
    for (const name of STAGING_EDITS) {
      for (const { policy, urn } of unsafeEdits("staging")[name].breaks) {
        const found = violations.filter((v) => v.policy === policy && urn.test(v.urn));
        assert.deepEqual(
          found.map((v) => v.enforcementLevel),
          ["advisory"],
          `${name}: ${policy} on ${urn}: ${JSON.stringify(violations, null, 2)}`,
        );
      }
    }
    assert.deepEqual(
      violations.filter((v) => v.enforcementLevel === "mandatory"),
      [],
    );
  });
});
