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

  it("keeps the layers pointing one way: tools may not import from test/", () => {
    const lintAs = (file: string, text: string) => {
      const script = join(dirname(require.resolve("eslint/package.json")), "bin/eslint.js");
      const result = spawnSync(process.execPath, [script, "--stdin", "--stdin-filename", file], {
        cwd: ROOT,
        input: text,
        encoding: "utf8",
      });
      return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
    };
    for (const spec of ["../../test/support/policy", "../test/x", "../../test/system/fake-docker"]) {
      const refused = lintAs("tools/bench/layering-probe.ts", `import { x } from "${spec}";\nexport const y = x;\n`);
      assert.equal(refused.status, 1, refused.output);
      assert.match(refused.output, /only tests import from test\//);
    }
    const allowed = lintAs(
      "tools/bench/layering-probe.ts",
      `import { makeTempDir } from "../lib/system";\nexport const y = makeTempDir;\n`,
    );
    assert.equal(allowed.status, 0, allowed.output);
  });

  it("is ESLint clean", () => {
    const result = runBin("eslint", "bin/eslint.js", ["--max-warnings", "0", "."]);
    assert.equal(result.status, 0, result.output);
  });
});
