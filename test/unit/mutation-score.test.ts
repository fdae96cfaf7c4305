// `npm run test:mutation`'s arithmetic and bookkeeping: which tests each module gets, the key
// that ties a committed equivalent to its mutant across edits, and the score per module. A
// wrong score or a loose key would let a module pass with mutants no test kills.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { judgeSurvivors, parseEquivalents } from "../../tools/mutation/equivalents";
import {
  formatScore,
  codeAt,
  matchesModule,
  MODULES,
  mutantKeys,
  relativeImports,
  scoreModule,
  checkerTsconfig,
  testCost,
  testsReaching,
  type MutantOutcome,
  type MutantStatus,
  type MutationModule,
} from "../../tools/mutation/stryker-modules";

const POLICIES: MutationModule = { name: "policies", mutate: ["policies/*.ts"] };

function outcome(status: MutantStatus, overrides: Partial<MutantOutcome> = {}): MutantOutcome {
  return {
    file: "policies/host.ts",
    mutatorName: "ConditionalExpression",
    original: "a > b",
    context: "  if (a > b) return;",
    replacement: "true",
    status,
    line: 1,
    ...overrides,
  };
}

/** n outcomes of one status, each on its own line with its own code. */
function many(status: MutantStatus, n: number, from = 0): MutantOutcome[] {
  return Array.from({ length: n }, (_, i) =>
    outcome(status, { line: from + i + 1, original: `x${from + i}`, context: `f(x${from + i});` }),
  );
}

describe("mutation modules", () => {
  it("a module's globs take the files of its folder, not of subfolders or of other folders", () => {
    for (const file of ["policies/host.ts", "policies/index.ts", "policies/a-b.ts"]) assert.ok(matchesModule(POLICIES, file), file);
    for (const file of ["policies/sub/host.ts", "policies/host.tsx", "xpolicies/host.ts", "test/policies/host.ts", "policies/host.json"])
      assert.ok(!matchesModule(POLICIES, file), file);
  });

  it("every module the issue names is there, and each module's files belong to it alone", () => {
    assert.deepEqual(
      MODULES.map((module) => module.name),
      ["policies", "config", "guard", "hooks", "cloud-init", "app", "nginx"],
    );
    const files = [
      "policies/deploy.ts",
      "components/config/schema.ts",
      "tools/guard/guard.ts",
      "tools/guard/main.ts",
      "components/hooks/commands.ts",
    ];
    files.push("components/host/cloud-init.ts", "components/app/render.ts", "components/proxy/nginx-conf.ts");
    for (const file of files) assert.equal(MODULES.filter((module) => matchesModule(module, file)).length, 1, file);
    for (const file of ["components/host/ssh.ts", "components/proxy/index.ts", "components/hooks/backup.sh", "tools/check/main.ts"])
      assert.equal(MODULES.filter((module) => matchesModule(module, file)).length, 0, file);
  });

  it("reads every form of relative import, resolving folders to their index and skipping packages", () => {
    const present = new Set(["policies/util.ts", "policies/index.ts", "components/config/schema.ts", "test/support/policy.ts"]);
    const source = [
      `import { a } from "../../policies/util";`,
      `import type { B } from '../../components/config/schema.ts';`,
      `const c = require("../../policies");`,
      `const d = await import("../support/policy");`,
      `import "../support/policy";`,
      `import { e } from "node:fs";`,
      `import { f } from "@pulumi/pulumi";`,
      `import { g } from "../../policies/missing";`,
    ].join("\n");
    assert.deepEqual(
      relativeImports("test/unit/x.test.ts", source, (path) => present.has(path)),
      ["policies/util.ts", "components/config/schema.ts", "policies/index.ts", "test/support/policy.ts", "test/support/policy.ts"],
    );
  });

  it("gives a module the tests whose imports reach it, through helpers and import cycles, without the excluded ones", () => {
    const sources: Record<string, string> = {
      "test/unit/direct.test.ts": `import { x } from "../../policies/host";`,
      "test/unit/helper.test.ts": `import { y } from "../support/policy";`,
      "test/unit/cycle.test.ts": `import { z } from "../support/a";`,
      "test/unit/none.test.ts": `import { w } from "../support/b";`,
      "test/unit/spawns.test.ts": `import { runCheck } from "../support/check";\nimport { x } from "../../policies/host";`,
      "test/support/policy.ts": `import { all } from "../../policies/index";`,
      "test/support/a.ts": `import { b } from "./b";\nimport { p } from "../../policies/cost";`,
      "test/support/b.ts": `import { a } from "./a";`,
      "test/support/check.ts": ``,
      "policies/host.ts": ``,
      "policies/cost.ts": ``,
      "policies/index.ts": ``,
    };
    sources["test/support/b.ts"] = `import { c } from "./c";`;
    sources["test/support/c.ts"] = `import { b } from "./b";`;
    const tests = Object.keys(sources).filter((path) => path.endsWith(".test.ts"));
    const reached = testsReaching(
      POLICIES,
      tests,
      (path) => sources[path],
      (_path, source) => source.includes("support/check"),
    );
    assert.deepEqual(reached, ["test/unit/direct.test.ts", "test/unit/helper.test.ts", "test/unit/cycle.test.ts"]);
  });

  it("follows the harness to the program it runs by a computed path: a test evaluating the program reaches every module", () => {
    const sources: Record<string, string> = {
      "test/unit/graph.test.ts": `import { runStack } from "../support/program";`,
      "test/support/program.ts": `const { runProgram } = require("../../tools/check/harness") as typeof import("../../tools/check/harness");`,
      "tools/check/harness.ts": `const program = path.resolve(__dirname, "..", "..", "index.ts");`,
      "index.ts": `import { all } from "./policies/index";`,
      "policies/index.ts": ``,
    };
    assert.deepEqual(
      testsReaching(POLICIES, ["test/unit/graph.test.ts"], (path) => sources[path]),
      ["test/unit/graph.test.ts"],
    );
    delete sources["index.ts"];
    assert.deepEqual(
      testsReaching(POLICIES, ["test/unit/graph.test.ts"], (path) => sources[path]),
      [],
    );
  });

  it("puts the tests nearest the module first, so a mutant meets its focused tests before the whole-program ones", () => {
    const sources: Record<string, string> = {
      "test/unit/a-program.test.ts": `import { run } from "../support/program";`,
      "test/unit/b-helper.test.ts": `import { y } from "../support/policy";`,
      "test/unit/c-direct.test.ts": `import { x } from "../../policies/host";`,
      "test/support/program.ts": `import { index } from "../../index";`,
      "index.ts": `import { all } from "./policies/index";`,
      "test/support/policy.ts": `import { all } from "../../policies/index";`,
      "policies/host.ts": ``,
      "policies/index.ts": ``,
    };
    const tests = Object.keys(sources).filter((path) => path.endsWith(".test.ts"));
    assert.deepEqual(
      testsReaching(POLICIES, tests, (path) => sources[path]),
      ["test/unit/c-direct.test.ts", "test/unit/b-helper.test.ts", "test/unit/a-program.test.ts"],
    );
  });

  it("among files as near the module, runs the pure ones first, then those evaluating the program, then those starting processes", () => {
    const direct = `import { x } from "../../policies/host";`;
    const sources: Record<string, string> = {
      "test/unit/a-shell.test.ts": `import { spawnSync } from "node:child_process";\n${direct}`,
      "test/unit/b-required.test.ts": `const { execFileSync } = require("node:child_process");\n${direct}`,
      "test/unit/c-mocks.test.ts": `${direct}\nbefore(() => pulumi.runtime.setMocks(mocks));`,
      "test/unit/d-stack.test.ts": `${direct}\nconst stack = await runStack(config);`,
      "test/unit/e-direct.test.ts": direct,
      "test/unit/f-mentions.test.ts": `// neither child_process nor setMocks here\n${direct}`,
      "test/unit/g-program.test.ts": `import { run } from "../support/program";`,
      "test/support/program.ts": direct,
      "policies/host.ts": ``,
    };
    const tests = Object.keys(sources).filter((path) => path.endsWith(".test.ts"));
    assert.deepEqual(
      testsReaching(POLICIES, tests, (path) => sources[path]),
      [
        "test/unit/e-direct.test.ts",
        "test/unit/f-mentions.test.ts",
        "test/unit/c-mocks.test.ts",
        "test/unit/d-stack.test.ts",
        "test/unit/a-shell.test.ts",
        "test/unit/b-required.test.ts",
        "test/unit/g-program.test.ts",
      ],
    );
    assert.equal(testCost(`import { runStack } from "../support/program";`), 1);
  });
});

describe("the checker's TypeScript project", () => {
  it("holds the module's files, spawned ones included, on the repository's compiler options, and no tests", () => {
    const guard = MODULES.find((module) => module.name === "guard");
    assert.ok(guard);
    assert.deepEqual(checkerTsconfig(guard), { extends: "./tsconfig.json", include: ["tools/guard/guard.ts", "tools/guard/main.ts"] });
    for (const module of MODULES) {
      const project = checkerTsconfig(module);
      assert.deepEqual(project.include, [...module.mutate, ...(module.spawned?.mutate ?? [])], module.name);
      assert.ok(!project.include.some((glob) => glob.startsWith("test/")), module.name);
    }
  });
});

describe("mutant keys", () => {
  it("take the original code from the 1-based lines and columns Stryker reports, across lines too", () => {
    const source = ["const a = 1;", "  if (x > 2) {", '    return "long";', "  }"].join("\n");
    assert.equal(codeAt(source, { start: { line: 1, column: 11 }, end: { line: 1, column: 12 } }), "1");
    assert.equal(codeAt(source, { start: { line: 2, column: 7 }, end: { line: 2, column: 12 } }), "x > 2");
    assert.equal(codeAt(source, { start: { line: 3, column: 12 }, end: { line: 3, column: 18 } }), '"long"');
    assert.equal(codeAt(source, { start: { line: 2, column: 14 }, end: { line: 4, column: 4 } }), '{\n    return "long";\n  }');
  });

  it("do not depend on the line, so an edit elsewhere in the file keeps a listed equivalent valid", () => {
    const [before] = mutantKeys([outcome("Survived", { line: 10 })]);
    const [after] = mutantKeys([outcome("Survived", { line: 42 })]);
    assert.equal(before, after);
    assert.equal(before, "policies/host.ts|ConditionalExpression|if (a > b) return;|a > b|true");
  });

  it("tell apart the file, the mutator, the line's text, the original and the replacement", () => {
    const variants = [
      outcome("Survived"),
      outcome("Survived", { context: "  while (a > b) step();" }),
      outcome("Survived", { file: "policies/cost.ts" }),
      outcome("Survived", { mutatorName: "EqualityOperator" }),
      outcome("Survived", { original: "a >= b" }),
      outcome("Survived", { replacement: "false" }),
    ];
    assert.equal(new Set(variants.map((variant) => mutantKeys([variant])[0])).size, variants.length);
  });

  it("number identical mutations of identical lines in order, and ignore layout", () => {
    const keys = mutantKeys([
      outcome("Survived", { original: "a  >\n   b", context: "  if (a > b)" }),
      outcome("Survived", { original: "a > b", context: "if (a > b)", line: 5 }),
      outcome("Survived", { original: "a > b", context: "if  (a > b)", line: 9 }),
    ]);
    const base = "policies/host.ts|ConditionalExpression|if (a > b)|a > b|true";
    assert.deepEqual(keys, [base, `${base}|#2`, `${base}|#3`]);
  });

  it("shorten long code without making two different blocks equal", () => {
    const body = (n: number) => `{ ${"const value = compute(input);\n".repeat(10)} return ${n}; }`;
    const [one, two] = mutantKeys([
      outcome("Survived", { mutatorName: "BlockStatement", original: body(1), replacement: "{}" }),
      outcome("Survived", { mutatorName: "BlockStatement", original: body(2), replacement: "{}" }),
    ]);
    assert.notEqual(one, two);
    for (const key of [one, two]) assert.ok(key.length < 250, key);
  });
});

describe("module score", () => {
  it("is killed and timed-out mutants over the valid ones, for any mix of statuses", () => {
    for (const [killed, timeout, survived, noCoverage, invalid] of [
      [9, 0, 1, 0, 0],
      [5, 4, 0, 1, 3],
      [0, 0, 3, 2, 0],
      [17, 1, 2, 0, 6],
      [1, 0, 0, 0, 0],
    ]) {
      const outcomes = [
        ...many("Killed", killed),
        ...many("Timeout", timeout, 100),
        ...many("Survived", survived, 200),
        ...many("NoCoverage", noCoverage, 300),
        ...many("CompileError", invalid, 400),
        ...many("Ignored", 2, 500),
      ];
      const score = scoreModule(POLICIES, outcomes, []);
      const label = `${killed}/${timeout}/${survived}/${noCoverage}/${invalid}`;
      assert.equal(score.score, (100 * (killed + timeout)) / (killed + timeout + survived + noCoverage), label);
      assert.equal(score.mutants, outcomes.length, label);
      assert.equal(score.invalid, invalid, label);
      assert.equal(score.ignored, 2, label);
      // A mutant no test runs is a survivor: it needs a test like any other.
      assert.equal(score.unexplained.length, survived + noCoverage, label);
    }
  });

  it("leaves the listed equivalents out of the count, and needs a test for every other survivor", () => {
    const outcomes = [...many("Killed", 8), ...many("Survived", 2, 100)];
    const [first] = mutantKeys([outcomes[8]]);
    const score = scoreModule(POLICIES, outcomes, [{ key: first, reason: "the two branches return the same value" }]);
    assert.equal(score.equivalent, 1);
    assert.equal(score.score, (100 * 8) / 9);
    assert.deepEqual(
      score.unexplained.map((entry) => entry.outcome.line),
      [102],
    );
    const all = scoreModule(
      POLICIES,
      outcomes,
      mutantKeys(outcomes.slice(8)).map((key) => ({ key, reason: "the two branches return the same value" })),
    );
    assert.equal(all.score, 100);
    assert.equal(all.unexplained.length, 0);
  });

  it("reports a listed entry of the module that no survivor has as stale, and leaves other modules' entries alone", () => {
    const outcomes = [...many("Killed", 3), ...many("Survived", 1, 100)];
    const killedKey = mutantKeys([outcomes[0]])[0];
    const elsewhere = 'tools/guard/guard.ts|StringLiteral|"x"|""';
    const score = scoreModule(POLICIES, outcomes, [
      { key: killedKey, reason: "was equivalent before a test started killing it" },
      { key: elsewhere, reason: "belongs to the guard module, not judged here" },
    ]);
    assert.deepEqual(
      score.stale.map((entry) => entry.key),
      [killedKey],
    );
  });

  it("neither confirms nor calls stale a listed entry whose mutant timed out, and says so; a killed one is still stale", () => {
    const outcomes = [...many("Killed", 3), ...many("Timeout", 1, 100)];
    const [killedKey] = mutantKeys([outcomes[0]]);
    const [timedOutKey] = mutantKeys([outcomes[3]]);
    const reason = "the mutant changes nothing a caller can see";
    const score = scoreModule(POLICIES, outcomes, [
      { key: killedKey, reason },
      { key: timedOutKey, reason },
    ]);
    assert.deepEqual(
      score.stale.map((entry) => entry.key),
      [killedKey],
    );
    assert.deepEqual(
      score.equivalentTimedOut.map((entry) => entry.key),
      [timedOutKey],
    );
    assert.equal(score.equivalent, 0, "not counted as equivalent either");
    const onlyTimedOut = scoreModule(POLICIES, outcomes, [{ key: timedOutKey, reason }]);
    assert.match(formatScore(onlyTimedOut, 90, 1), / ok$/);
  });

  it("prints ok only at or over the target with nothing unexplained or stale", () => {
    const passing = scoreModule(POLICIES, [...many("Killed", 9), ...many("Timeout", 1, 50)], []);
    assert.match(formatScore(passing, 90, 12), /^policies\s+100\.0%\s+10 mutants: 9 killed, 1 timeout, 0 survived.* 12 s {2}ok$/);
    const under = scoreModule(POLICIES, [...many("Killed", 8), ...many("Survived", 2, 50)], []);
    assert.match(formatScore(under, 90, 1), /80\.0%.*FAILS$/);
    const listedButUnder = scoreModule(
      POLICIES,
      [...many("Killed", 8), ...many("NoCoverage", 1, 50)],
      [{ key: "policies/host.ts|X|gone|y", reason: "a mutant that no longer exists" }],
    );
    assert.match(formatScore(listedButUnder, 80, 1), /88\.9%.*FAILS$/);
  });
});

describe("the committed equivalents", () => {
  it("need a key and a reason that explains something, each key once", () => {
    assert.throws(() => parseEquivalents({}, "f"), /expected an array/);
    assert.throws(() => parseEquivalents([{ key: "k" }], "f"), /f\[0\]/);
    assert.throws(() => parseEquivalents([{ key: "k", reason: "same" }], "f"), /at least 20/);
    assert.throws(() => parseEquivalents([{ reason: "a reason long enough to read" }], "f"), /needs a "key"/);
    const entry = { key: "k", reason: "a reason long enough to read" };
    assert.throws(() => parseEquivalents([entry, entry], "f"), /listed twice/);
    assert.deepEqual(parseEquivalents([entry], "f"), [entry]);
  });

  it("split survivors into explained and unexplained, and find stale entries only in scope", () => {
    const reason = "a reason long enough to read";
    const verdict = judgeSurvivors(
      ["a|1", "a|2", "b|1"],
      [
        { key: "a|1", reason },
        { key: "a|3", reason },
        { key: "c|1", reason },
      ],
      (key) => key.startsWith("a|"),
    );
    assert.deepEqual(verdict.explained, ["a|1"]);
    assert.deepEqual(verdict.unexplained, ["a|2", "b|1"]);
    assert.deepEqual(
      verdict.stale.map((entry) => entry.key),
      ["a|3"],
    );
    assert.deepEqual(verdict.timedOut, []);
    const withTimeout = judgeSurvivors([], [{ key: "a|3", reason }], () => true, ["a|3", "b|9"]);
    assert.deepEqual(withTimeout.stale, []);
    assert.deepEqual(
      withTimeout.timedOut.map((entry) => entry.key),
      ["a|3"],
    );
  });
});
