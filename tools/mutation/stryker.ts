// npm run test:mutation [-- [--fresh] [--concurrency N] [module]...]
//
// Mutation testing of the TypeScript that keeps production safe (the modules of
// ./stryker-modules.ts) with StrykerJS: each mutant changes one expression of the code, and
// the unit tests that run that code (Stryker's per-test coverage) must fail on it. Prints
// the score of each module; exits 1 when a module is under the target, when a survivor is
// neither killed nor explained in tools/mutation/stryker-equivalent.json, or when an entry
// there no longer matches a survivor.
//
// Stryker's tap runner runs each test file as `node <nodeArgs> file`, whose node:test output
// is TAP because stdout is a pipe; the TypeScript loads through the check's preload, as in
// `npm test`. Mutants are checked by the TypeScript compiler first, so a mutant the types
// refuse costs no test run. Each module keeps an incremental file under reports/mutation/,
// so a re-run only re-tests the mutants whose code or tests changed (--fresh ignores it).
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { commandLine, integerOption, UsageError } from "../cli";
import { readEquivalents } from "./equivalents";
import {
  CHECKER_TSCONFIG,
  checkerTsconfig,
  formatScore,
  MODULES,
  repositoryPath,
  scoreModule,
  testsReaching,
  codeAt,
  type StrykerLocation,
  type MutantOutcome,
  type MutantStatus,
  type MutationModule,
} from "./stryker-modules";

const ROOT = join(__dirname, "..", "..");
const EQUIVALENTS_FILE = join(__dirname, "stryker-equivalent.json");
const REPORTS = join("reports", "mutation");
/** Percent of the valid, non-equivalent mutants each module's tests must kill. */
const TARGET = 90;
const COMMAND = {
  usage: "npm run test:mutation -- [--fresh] [--concurrency N] [module]...",
  help: `Runs StrykerJS on the safety-critical TypeScript modules and prints the mutation score of
each (killed and timed-out mutants over the valid ones, less those listed as equivalent in
tools/mutation/stryker-equivalent.json; a mutant no test covers counts as a survivor).
Exits 1 when a module scores under ${TARGET} %, when a survivor is not listed, or when a listed
entry matches no survivor. Needs Node 22 or later (StrykerJS 10). Hours for every module.

  module            one of ${MODULES.map((module) => module.name).join(", ")} (default: all, in that order)
  --concurrency N   test processes at once (default 2, at most 2: the machine is shared)
  --fresh           ignore the incremental results under ${REPORTS}/ and re-test every mutant`,
  options: { concurrency: { type: "string" }, fresh: { type: "boolean" } },
  positionals: { min: 0, max: MODULES.length, name: "modules" },
} as const;

/** The unit test files, repository-relative. */
function unitTests(): string[] {
  return readdirSync(join(ROOT, "test", "unit"))
    .filter((name) => name.endsWith(".test.ts"))
    .map((name) => `test/unit/${name}`)
    .sort();
}

function readSource(path: string): string | undefined {
  try {
    return readFileSync(join(ROOT, path), "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Test files that start `npm run check` (directly or through test/support/check.ts) reach the
 * modules mostly in that child process, whose coverage Stryker does not see, and take tens of
 * seconds each: run for every mutant their own imports cover, they multiplied a module's time
 * for kills the focused unit tests make in a second.
 */
const spawnsTheCheck = (_path: string, source: string) =>
  /from "\.\.\/support\/check"|"run",\s*("-s",\s*)?"check"|"tools", "check", "main\.ts"|tools\/check\/main\.ts"/.test(source);

const STRYKER_CORE = "@stryker-mutator/core";

/** What runMutationTest() answers per mutant, of @stryker-mutator/api's MutantResult. */
interface StrykerResult {
  fileName: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  location: StrykerLocation;
}

interface StrykerCore {
  Stryker: new (options: Record<string, unknown>) => { runMutationTest(): Promise<StrykerResult[]> };
}

/** One Stryker run; `perTest` runs each mutant against the test files that cover it, otherwise against all of them. */
async function runStryker(
  name: string,
  mutate: readonly string[],
  testFiles: readonly string[],
  perTest: boolean,
  concurrency: number,
  fresh: boolean,
): Promise<MutantOutcome[]> {
  // StrykerJS is an ES module that needs Node 22; loaded only now so --help works anywhere.
  // (Its types are reachable only through package exports, which this tsconfig's "node"
  // resolution does not read: the little used here is declared above.)
  const { Stryker } = (await import(STRYKER_CORE)) as StrykerCore;
  writeFileSync(join(ROOT, CHECKER_TSCONFIG), `${JSON.stringify(checkerTsconfig({ name, mutate }), null, 2)}\n`);
  const stryker = new Stryker({
    mutate: [...mutate],
    // Without per-test coverage, Stryker's command runner runs the test files as `npm test`
    // does, for every mutant (the tap runner reports an empty coverage for code that only ran
    // in a child process, which Stryker takes for "no test covers it").
    ...(perTest
      ? {
          testRunner: "tap",
          tap: {
            testFiles: [...testFiles],
            nodeArgs: ["--require", "./tools/fast-start.cjs", "-r", "{{hookFile}}", "{{testFile}}"],
            forceBail: true,
          },
          coverageAnalysis: "perTest",
        }
      : {
          testRunner: "command",
          commandRunner: { command: `node --require ./tools/fast-start.cjs --test ${testFiles.join(" ")}` },
          coverageAnalysis: "off",
        }),
    checkers: ["typescript"],
    tsconfigFile: CHECKER_TSCONFIG,
    typescriptChecker: { prioritizePerformanceOverAccuracy: true },
    concurrency,
    incremental: true,
    incrementalFile: join(REPORTS, `${name}.incremental.json`),
    force: fresh,
    // The event recorder writes each mutant's result as it is judged, so the survivors of a
    // run of hours can be read (and killed) before it ends, or after it is interrupted.
    reporters: ["progress", "html", "event-recorder"],
    htmlReporter: { fileName: join(REPORTS, `${name}.html`) },
    eventReporter: { baseDir: join(REPORTS, `${name}.events`) },
    tempDirName: ".stryker-tmp",
    ignorePatterns: ["reports", ".emit", "out"],
    timeoutMS: 20_000,
    // The first run of every test file, for coverage, takes 2 to 3 minutes on an idle machine:
    // Stryker's 5-minute default failed it with a test suite running beside.
    dryRunTimeoutMinutes: 20,
    logLevel: "warn",
    fileLogLevel: "off",
    cleanTempDir: true,
  });
  // The sources as Stryker read them: the keys come from the mutated code, not from edits made
  // to the files while the run went on (which shifted every line after them).
  const sources = new Map(
    [...new Set(mutate.map((glob) => dirname(glob)))].flatMap((folder) =>
      readdirSync(join(ROOT, folder))
        .filter((name) => name.endsWith(".ts"))
        .map((name): [string, string] => [`${folder}/${name}`, readSource(`${folder}/${name}`) ?? ""]),
    ),
  );
  const results = await stryker.runMutationTest();
  return results.map((result) => {
    const file = repositoryPath(ROOT, resolve(ROOT, result.fileName));
    const location = result.location;
    const source = sources.get(file) ?? readSource(file) ?? "";
    return {
      file,
      context: source.split("\n")[location.start.line - 1] ?? "",
      mutatorName: result.mutatorName,
      original: codeAt(source, location),
      replacement: result.replacement ?? "",
      status: result.status as MutantStatus,
      line: location.start.line,
    };
  });
}

async function runModule(module: MutationModule, concurrency: number, fresh: boolean): Promise<MutantOutcome[]> {
  const testFiles = testsReaching(module, unitTests(), readSource, spawnsTheCheck);
  if (testFiles.length === 0) throw new Error(`${module.name}: no unit test imports ${module.mutate.join(", ")}`);
  console.log(`\n=== ${module.name}: ${module.mutate.join(" ")}, against the ${testFiles.length} test files that import it ===`);
  const outcomes = await runStryker(module.name, module.mutate, testFiles, true, concurrency, fresh);
  if (module.spawned !== undefined) {
    const { mutate, tests } = module.spawned;
    console.log(`\n=== ${module.name}: ${mutate.join(" ")}, run in child processes by ${tests.join(" ")} ===`);
    outcomes.push(...(await runStryker(`${module.name}-spawned`, mutate, tests, false, concurrency, fresh)));
  }
  return outcomes;
}

async function main(): Promise<number> {
  const { values, positionals } = commandLine(process.argv.slice(2), COMMAND, (parsed) => {
    const unknown = parsed.positionals.filter((name) => !MODULES.some((module) => module.name === name));
    if (unknown.length > 0)
      throw new UsageError(`not a module: ${unknown.join(", ")}; one of ${MODULES.map((module) => module.name).join(", ")}`);
    if (integerOption(parsed.values.concurrency, "concurrency", 1, 2) > 2)
      throw new UsageError("--concurrency is at most 2 (the machine is shared)");
    return parsed;
  });
  const [major] = process.versions.node.split(".").map(Number);
  if (major < 22)
    throw new Error(`StrykerJS 10 needs Node 22 or later; this is Node ${process.versions.node} (the project's engines say >=22)`);
  // A mutant's tests must make what they check from the mutated code: no results shared
  // through an `npm test` run's folder (test/support/shared-in-run.ts) reach them.
  delete process.env.DROPSTACK_TEST_RUN;
  // The tap runner starts `node` from PATH: the same Node as this one.
  process.env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ""}`;
  process.chdir(ROOT);
  const concurrency = integerOption(values.concurrency, "concurrency", 1, 2);
  const modules = MODULES.filter((module) => positionals.length === 0 || positionals.includes(module.name));
  const equivalents = readEquivalents(EQUIVALENTS_FILE);
  const lines: string[] = [];
  let failed = false;
  for (const module of modules) {
    const started = performance.now();
    const outcomes = await runModule(module, concurrency, values.fresh ?? false);
    const score = scoreModule(module, outcomes, equivalents);
    const seconds = (performance.now() - started) / 1000;
    lines.push(formatScore(score, TARGET, seconds));
    for (const { key, outcome } of score.unexplained)
      console.log(`  needs a test (${outcome.status}, ${outcome.file}:${outcome.line}): ${key}`);
    for (const entry of score.stale) console.log(`  stale equivalent (no surviving mutant has this key): ${entry.key}`);
    for (const entry of score.equivalentTimedOut)
      console.log(`  listed equivalent timed out this run (not judged; a loaded machine): ${entry.key}`);
    console.log(lines[lines.length - 1]);
    failed ||= score.score < TARGET || score.unexplained.length > 0 || score.stale.length > 0;
  }
  console.log(`\nmutation score per module (target ${TARGET} %):\n${lines.join("\n")}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
