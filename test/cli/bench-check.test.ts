// `npm run bench:check`: its command line (--help, refusals before any work) and the
// figures it prints. Only the shape of the report is asserted, never a duration: the
// speed target is read from the bench's output, not enforced by a timed test.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROOT } from "../support/program";

const bench = (...args: string[]) =>
  spawnSync(process.execPath, ["--require", join(ROOT, "tools", "fast-start.cjs"), join(ROOT, "tools", "bench", "check.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });

describe("npm run bench:check", () => {
  it("answers --help with exit 0 and refuses unknown flags, bad round counts and unknown stacks with exit 2", () => {
    const help = bench("--help");
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: npm run bench:check/);
    for (const args of [["--bogus"], ["--rounds", "0"], ["--rounds", "x"], ["no-such-stack"], ["../staging"]]) {
      const result = bench(...args);
      assert.equal(result.status, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, /usage: npm run bench:check/);
      assert.doesNotMatch(result.stdout, /wall/, "nothing was measured");
    }
  });

  it("prints the median wall time against the target and where it goes, for the stack named", () => {
    const result = bench("--rounds", "1", "staging");
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^bench:check on \d+ cores; load average before: [\d.]+ [\d.]+ [\d.]+$/m);
    assert.match(result.stdout, /^npm run check -- staging$/m);
    assert.doesNotMatch(result.stdout, /check -- production/);
    assert.match(result.stdout, /wall \d+\.\d\d s \(median of 1; .*CPU \d+\.\d\d s in all processes; target < 3 s: (met|NOT met)/);
    for (const phase of [
      "start-up",
      "program evaluation",
      "waiting for the policy pack",
      "policy analysis",
      "report",
      "TypeScript compilation",
    ]) {
      assert.match(result.stdout, new RegExp(`^ +(of which )?${phase}.* \\d+\\.\\d\\d s`, "m"), phase);
    }
    assert.match(result.stdout, /policy pack start-up alone .* \d+\.\d\d s wall/);
  });
});
