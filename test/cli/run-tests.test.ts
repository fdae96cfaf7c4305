// tools/run-tests.mjs and its results reporter: what `npm test`, `npm run test:quick` and
// `npm run test:repeat` select, schedule and report.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, beforeEach, describe, it } from "node:test";
import { ROOT } from "../support/program";
import { findPostgresBinDir } from "../../tools/lib/postgres";

const work = mkdtempSync(join(tmpdir(), "dropstack-run-tests-"));
after(() => rmSync(work, { recursive: true, force: true }));
const FIXTURE = join(ROOT, "test", "fixtures", "run-tests", "results.fixture.ts");
const counter = join(work, "flip-counter");
beforeEach(() => rmSync(counter, { force: true }));
// Without this, a `node --test` started from inside a test reports to this runner, not to its own reporters.
const ENV: NodeJS.ProcessEnv = { ...process.env, FLIP_COUNTER: counter };
delete ENV.NODE_TEST_CONTEXT;

function runFixture(): { file: string; name: string; passed: boolean }[] {
  const out = join(work, "results.jsonl");
  spawnSync(
    process.execPath,
    [
      "--require",
      "./tools/fast-start.cjs",
      "--test",
      "--test-reporter=./tools/test-results.mjs",
      `--test-reporter-destination=${out}`,
      FIXTURE,
    ],
    { cwd: ROOT, env: ENV },
  );
  return readFileSync(out, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

const runTests = (args: string[], env: NodeJS.ProcessEnv = ENV) =>
  spawnSync(process.execPath, [join(ROOT, "tools", "run-tests.mjs"), ...args], { cwd: ROOT, encoding: "utf8", env });

/** A test folder of its own: `files` maps group/name.test.ts to a source (the fixture when absent). */
function testFolder(name: string, files: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const dir = join(work, name);
  for (const [file, source] of Object.entries(files)) {
    mkdirSync(join(dir, file, ".."), { recursive: true });
    if (source === undefined) copyFileSync(FIXTURE, join(dir, file));
    else writeFileSync(join(dir, file), source);
  }
  return { ...ENV, RUN_TESTS_DIR: dir };
}

describe("the results reporter", () => {
  it("reports each test once with its suites in the name, passed or not", () => {
    const results = runFixture().map(({ name, passed }) => ({ name, passed }));
    assert.deepEqual(
      results.sort((a, b) => a.name.localeCompare(b.name)),
      [
        { name: "flips", passed: true },
        { name: "outer > fails", passed: false },
        { name: "outer > passes", passed: true },
      ],
    );
    assert.equal(runFixture().find((r) => r.name === "flips")?.passed, false, "the second run flips");
  });
});

describe("run-tests.mjs --repeat", () => {
  it("lists the test that flipped and the one that failed every run, not the stable one, and exits 1", () => {
    const result = runTests(["--repeat", "2", "--group", "system"], testFolder("mixed", { "system/results.test.ts": undefined }));
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /3 tests, 2 runs: 1 changed result, 1 failed every run/);
    assert.match(result.stdout, /changed: .*system\/results\.test\.ts: flips: pass FAIL/);
    assert.match(result.stdout, /failed every run: .*system\/results\.test\.ts: outer > fails/);
    assert.doesNotMatch(result.stdout, /(changed|failed every run): .*outer > passes/);
  });

  it("reports no change and exits 0 when every test keeps its result", () => {
    const stable = 'import { it } from "node:test";\nit("holds", () => undefined);\n';
    const result = runTests(["--repeat", "3"], testFolder("stable", { "system/a.test.ts": stable, "unit/b.test.ts": stable }));
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /2 tests, 3 runs: 0 changed results, 0 failed every run/);
  });
});

describe("run-tests.mjs selection and scheduling", () => {
  // Each file records its start and end. A pooled file waits (up to 30 s) until another file
  // has started, so two files overlap when, and only when, the runner runs them together.
  const orderFile = join(work, "order");
  const recorder = (name: string, alone = false) =>
    `${alone ? "// run-tests: alone\n" : ""}import { appendFileSync, readFileSync } from "node:fs";\nimport { it } from "node:test";\n` +
    `const order = ${JSON.stringify(orderFile)};\n` +
    `const othersStarted = () => readFileSync(order, "utf8").split("\\n").some((l) => l.startsWith("start ") && l !== "start ${name}");\n` +
    `it("${name}", async () => {\n  appendFileSync(order, "start ${name}\\n");\n` +
    (alone
      ? ""
      : `  for (const deadline = Date.now() + 30_000; !othersStarted() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));\n`) +
    `  appendFileSync(order, "end ${name}\\n");\n});\n`;

  it("runs the files two at a time, and a file marked alone after all others, by itself", () => {
    rmSync(orderFile, { force: true });
    const env = testFolder("schedule", {
      "acceptance/a1.test.ts": recorder("a1"),
      "acceptance/a2.test.ts": recorder("a2"),
      "system/s1.test.ts": recorder("s1"),
      "system/s2.test.ts": recorder("s2", true),
    });
    const result = runTests(["--concurrency", "2"], env);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const order = readFileSync(orderFile, "utf8").trim().split("\n");
    assert.deepEqual(order.slice(-2), ["start s2", "end s2"], "the alone file runs last, with nothing beside it");
    assert.ok(order.indexOf("start a2") < order.indexOf("end a1"), `two files at a time: ${order.join(", ")}`);
    assert.match(result.stdout, /1 file that run alone: .*s2\.test\.ts/);
    // Each phase says how long it took, so a log tells the suite's time without the alone files.
    assert.match(result.stdout, /=== 3 files, 2 at a time: \d+ s wall, exit 0 ===[\s\S]*=== 1 file run alone: \d+ s wall, exit 0 ===/);
  });

  it("gives the files one temp folder, removed after a passing run and kept, named, after a failing one", () => {
    // Each file leaves a folder in its temp dir (as a killed server would) and says where.
    const leaver = (name: string, passes: boolean) =>
      `import { appendFileSync, mkdtempSync } from "node:fs";\nimport { tmpdir } from "node:os";\nimport { join } from "node:path";\nimport { it } from "node:test";\n` +
      `it("${name}", () => {\n  appendFileSync(${JSON.stringify(join(work, "left"))}, mkdtempSync(join(tmpdir(), "left-")) + "\\n");\n  if (!${passes}) throw new Error("fails");\n});\n`;
    const leftBehind = () => readFileSync(join(work, "left"), "utf8").trim().split("\n");
    for (const passes of [true, false]) {
      rmSync(join(work, "left"), { force: true });
      const env = testFolder(`tmpdir-${passes}`, { "unit/a.test.ts": leaver("a", true), "unit/b.test.ts": leaver("b", passes) });
      const result = runTests([], env);
      assert.equal(result.status, passes ? 0 : 1, result.stdout + result.stderr);
      const [a, b] = leftBehind();
      assert.equal(dirname(a), dirname(b), "one folder for the run's files");
      assert.notEqual(dirname(a), tmpdir());
      assert.equal(existsSync(a) && existsSync(b), !passes, `${a} ${b}`);
      if (!passes) {
        assert.ok(result.stdout.includes(`=== the run's temp files are kept in ${dirname(a)} ===`), result.stdout);
        rmSync(dirname(a), { recursive: true, force: true });
      }
    }
  });

  it("runs the unit files that load no Pulumi in one process, each file's hooks applying to its own tests only", () => {
    const pids = join(work, "pids");
    rmSync(pids, { force: true });
    // Each test records its file and process; a file-level afterEach marks only its own file's tests.
    const recorder = (name: string, header = "") =>
      `${header}import { appendFileSync } from "node:fs";\nimport { afterEach, it } from "node:test";\n` +
      `afterEach(() => appendFileSync(${JSON.stringify(pids)}, "after ${name}\\n"));\n` +
      `it("${name}", () => appendFileSync(${JSON.stringify(pids)}, \`${name} \${process.pid}\\n\`));\n`;
    const env = testFolder("sharing", {
      "unit/a.test.ts": recorder("a"),
      "unit/b.test.ts": recorder("b"),
      "unit/c.test.ts": recorder("c", "// run-tests: own process\n"),
      "unit/d.test.ts": recorder("d", '// evaluates with runStack({ stack: "staging" })\n'),
      "cli/e.test.ts": recorder("e"),
    });
    const result = runTests([], env);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /=== 5 files \(2 unit files in one process\), \d+ at a time: /);
    const lines = readFileSync(pids, "utf8").trim().split("\n");
    const pid = Object.fromEntries(lines.filter((l) => !l.startsWith("after")).map((l) => l.split(" ")));
    assert.equal(pid.a, pid.b, "a and b share a process");
    assert.equal(new Set([pid.a, pid.c, pid.d, pid.e]).size, 4, `c, d and e have a process each: ${lines.join(", ")}`);
    assert.deepEqual(lines.filter((l) => l.startsWith("after")).sort(), ["after a", "after b", "after c", "after d", "after e"]);
  });

  it("compiles every file's TypeScript before the files start, so no test process starts a compiler", () => {
    const compiled = join(work, "compiled");
    rmSync(compiled, { force: true });
    // Each file records how many TypeScript files its own process compiled (tools/fast-start.cjs).
    const recorder = (name: string) =>
      `import { appendFileSync } from "node:fs";\nimport { it } from "node:test";\n` +
      `const { startup } = require(${JSON.stringify(join(ROOT, "tools", "fast-start.cjs"))});\n` +
      `it("${name}", () => appendFileSync(${JSON.stringify(compiled)}, \`${name} \${startup.compiled}\\n\`));\n`;
    const cache = mkdtempSync(join(work, "ts-cache-"));
    const env = testFolder("precompile", {
      "cli/a.test.ts": recorder("a"),
      "cli/b.test.ts": recorder("b"),
      "system/c.test.ts": recorder("c"),
    });
    const result = runTests([], { ...env, DROPSTACK_TS_CACHE: cache });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.deepEqual(readFileSync(compiled, "utf8").trim().split("\n").sort(), ["a 0", "b 0", "c 0"]);
  });

  it("puts the newest PostgreSQL's own client programs first on the files' PATH, not Debian's Perl wrapper", (t) => {
    const server = findPostgresBinDir();
    if (server === undefined) return t.skip("PostgreSQL is not installed (.ci/run installs it)");
    const found = join(work, "psql-found");
    const env = testFolder("postgres-path", {
      "system/a.test.ts":
        `import { spawnSync } from "node:child_process";\nimport { writeFileSync } from "node:fs";\nimport { it } from "node:test";\n` +
        `it("a", () => writeFileSync(${JSON.stringify(found)}, spawnSync("sh", ["-c", "for c in psql pg_dump pg_restore; do command -v $c; done"], { encoding: "utf8" }).stdout));\n`,
    });
    const result = runTests([], env);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const bin = server.binDir;
    assert.match(bin, /^\/usr\/lib\/postgresql\/\d+\/bin$/);
    assert.deepEqual(readFileSync(found, "utf8").trim().split("\n"), [join(bin, "psql"), join(bin, "pg_dump"), join(bin, "pg_restore")]);
  });

  it("selects groups and substrings, and names the groups when asked for one that does not exist", () => {
    const result = runTests(["--group", "nope"]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /no test group nope: the groups are .*system.*unit/);
  });

  it("answers --help with exit 0 wherever it stands, and refuses unknown flags and bad counts with exit 2", () => {
    for (const args of [["--help"], ["-h"], ["--group", "system", "--repeat", "--help"]]) {
      const help = runTests(args);
      assert.equal(help.status, 0, args.join(" "));
      assert.match(help.stdout, /^usage: npm test .* \| npm run test:quick .* \| npm run test:repeat -- N/);
    }
    for (const args of [
      ["--bogus"],
      ["-x"],
      ["--repeat", "0"],
      ["--repeat", "-1"],
      ["--repeat", "two"],
      ["--concurrency", "0"],
      ["--repeat"],
    ]) {
      const result = runTests(args);
      assert.equal(result.status, 2, args.join(" "));
      assert.match(result.stderr, /^error: .*\nusage: npm test /);
    }
  });
});
