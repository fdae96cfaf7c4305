// ESLint and the strict TypeScript check are part of the suite, so a red lint is a red CI.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { ROOT } from "../support/program";

function runBin(pkg: string, bin: string, args: string[]) {
  const script = join(dirname(require.resolve(`${pkg}/package.json`)), bin);
  const result = spawnSync(process.execPath, [script, ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 32 * 1024 * 1024 });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

describe("code quality", () => {
  it("type-checks under strict TypeScript", () => {
    const result = runBin("typescript", "bin/tsc", ["--noEmit", "-p", "tsconfig.json"]);
    assert.equal(result.status, 0, result.output);
  });

  it("is ESLint clean", () => {
    const result = runBin("eslint", "bin/eslint.js", ["--max-warnings", "0", "."]);
    assert.equal(result.status, 0, result.output);
  });
});
