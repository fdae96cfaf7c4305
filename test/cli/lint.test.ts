// ESLint and the strict TypeScript check are part of the suite, so a red lint is a red CI.
// Both run in this process the way `npm run lint` runs them (tools/lib/code-quality.ts): one
// TypeScript program for the check and ESLint's type-aware rules, one ESLint for every lint.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { ESLint } from "eslint";
import { type TypeCheck, eslintRepository, repositoryESLint, typeCheck } from "../../tools/lib/code-quality";

describe("code quality", () => {
  let check: TypeCheck;
  let eslint: ESLint;
  before(() => {
    check = typeCheck();
    eslint = repositoryESLint(check.program);
  });

  it("type-checks under strict TypeScript", () => {
    assert.equal(check.errors, 0, check.report);
    assert.ok(
      check.program.getRootFileNames().some((f) => f.endsWith("/index.ts")),
      "the check covers the program",
    );
  });

  it("keeps the layers pointing one way: tools may not import from test/", async () => {
    const lintAs = (file: string, code: string) => eslintRepository(eslint, { file, code });
    for (const spec of ["../../test/support/policy", "../test/x", "../../test/system/fake-docker"]) {
      const refused = await lintAs("tools/bench/layering-probe.ts", `import { x } from "${spec}";\nexport const y = x;\n`);
      assert.equal(refused.errors, 1, refused.report);
      assert.match(refused.report, /only tests import from test\//);
    }
    const allowed = await lintAs(
      "tools/bench/layering-probe.ts",
      `import { makeTempDir } from "../lib/system";\nexport const y = makeTempDir;\n`,
    );
    assert.equal(allowed.errors + allowed.warnings, 0, allowed.report);
  });

  it("is ESLint clean", async () => {
    const result = await eslintRepository(eslint);
    assert.equal(result.errors + result.warnings, 0, result.report);
  });
});
