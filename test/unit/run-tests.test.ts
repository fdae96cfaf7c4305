// tools/run-tests.mjs and its results reporter: what `npm run test:quick` and
// `npm run test:repeat` select and report.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ROOT } from "../support/program";

const work = mkdtempSync(join(tmpdir(), "dropstack-run-tests-"));
after(() => rmSync(work, { recursive: true, force: true }));
const FIXTURE = join(ROOT, "test", "fixtures", "run-tests", "results.fixture.ts");
// Without this, a `node --test` started from inside a test reports to this runner, not to its own reporters.
const ENV = { ...process.env };
delete ENV.NODE_TEST_CONTEXT;

function runFixture(flip: boolean): { file: string; name: string; passed: boolean }[] {
  const out = join(work, `results-${flip}.jsonl`);
  const flipFile = join(work, "flip");
  if (flip) writeFileSync(flipFile, "");
  else rmSync(flipFile, { force: true });
  spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=./tools/test-results.mjs", `--test-reporter-destination=${out}`, FIXTURE], {
    cwd: ROOT,
    env: { ...ENV, FLIP_FILE: flipFile },
  });
  return readFileSync(out, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

describe("the results reporter", () => {
  it("reports each test once with its suites in the name, passed or not", () => {
    const results = runFixture(false).map(({ name, passed }) => ({ name, passed }));
    assert.deepEqual(results.sort((a, b) => a.name.localeCompare(b.name)), [
      { name: "flips", passed: true },
      { name: "outer > fails", passed: false },
      { name: "outer > passes", passed: true },
    ]);
    assert.equal(runFixture(true).find((r) => r.name === "flips")?.passed, false);
  });
});

describe("run-tests.mjs", () => {
  const runTests = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, "tools", "run-tests.mjs"), ...args], { cwd: ROOT, encoding: "utf8", env: ENV });

  it("names the groups when asked for one that does not exist", () => {
    const result = runTests("--group", "nope");
    assert.equal(result.status, 2);
    assert.match(result.stderr, /no test group nope: the groups are .*system.*unit/);
  });

  it("refuses a repeat count that is not a positive integer", () => {
    for (const bad of ["0", "-1", "two"]) assert.equal(runTests("--repeat", bad).status, 2, bad);
  });

  it("repeats a selection and reports no change for a stable file", () => {
    const result = runTests("--group", "unit", "--repeat", "2", "post-login");
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /\d+ tests, 2 runs: 0 changed results, 0 failed every run/);
  });
});
