// The main job's output is read by people deciding whether to ship: a line starting with
// "warning:" must mean something. Stack outputs a stack has no part for (Identity without
// dropstack:auth0, off-site backups off, no promotion guard outside production) are null,
// never an undefined export that the runtime warns about on every preview.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runCheck, writeStackVariant } from "../support/check";

function warningLines(text: string): string[] {
  return text.split("\n").filter((line) => /^warning:|\[runtime\]/.test(line));
}

const cases: { name: string; stack: string; configFile?: () => string }[] = [
  { name: "staging (no off-site backups, no promotion guard)", stack: "staging" },
  { name: "production (every optional part)", stack: "production" },
  {
    name: "staging without dropstack:auth0 (no Identity either)",
    stack: "staging",
    configFile: () =>
      writeStackVariant("staging", (config) => {
        delete config["dropstack:auth0"];
        delete config["auth0:domain"];
      }),
  },
];

describe("npm run check prints no runtime warnings", () => {
  for (const c of cases) {
    it(c.name, () => {
      const report = runCheck(c.stack, { json: false, configFile: c.configFile?.() });
      assert.equal(report.status, 0, report.stderr);
      assert.match(report.stdout, /Check passed for stack/);
      assert.deepEqual(warningLines(report.stdout + report.stderr), []);
    });
  }

  it("the assertion sees the runtime's warnings (an undefined export)", () => {
    assert.deepEqual(
      warningLines("Previewing…\nwarning: [runtime] Undefined value (backupsBucket) will not show as a stack output.\nCheck passed"),
      ["warning: [runtime] Undefined value (backupsBucket) will not show as a stack output."],
    );
  });
});
