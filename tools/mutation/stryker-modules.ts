// What `npm run test:mutation` mutates, which tests it gives Stryker for each module, and how
// it turns Stryker's results into a score per module and a verdict on the survivors. Pure
// functions (the run itself is in stryker.ts), so the arithmetic and the matching of the
// committed equivalents are unit-tested without running Stryker.
import { createHash } from "node:crypto";
import { dirname, join, normalize, relative } from "node:path";
import { judgeSurvivors, type Equivalent } from "./equivalents";

export interface MutationModule {
  /** The name `npm run test:mutation -- NAME` takes. */
  name: string;
  /** Globs of the files Stryker mutates, relative to the repository. */
  mutate: readonly string[];
  /**
   * Files the tests run only in child processes (a CLI's entry point), whose coverage Stryker
   * cannot see: every mutant of these runs the named test files. The child inherits the
   * active mutant through the environment (__STRYKER_ACTIVE_MUTANT__, read by the
   * instrumented code itself), so the mutant is live where the tests look.
   */
  spawned?: { mutate: readonly string[]; tests: readonly string[] };
}

/** The modules that keep production safe, in the order a full run takes them. */
export const MODULES: readonly MutationModule[] = [
  { name: "policies", mutate: ["policies/*.ts"] },
  { name: "config", mutate: ["components/config/*.ts"] },
  {
    name: "guard",
    mutate: ["tools/guard/guard.ts"],
    spawned: { mutate: ["tools/guard/main.ts"], tests: ["test/cli/guard-cli.test.ts"] },
  },
  { name: "hooks", mutate: ["components/hooks/*.ts"] },
  { name: "cloud-init", mutate: ["components/host/cloud-init.ts"] },
  { name: "app", mutate: ["components/app/*.ts"] },
  {
    name: "nginx",
    // The renderer (render.ts and what it gathers), not the component that wires it up
    // (index.ts, commands.ts) nor the entrypoint scripts (scripts.ts, shell run by nginx's
    // own tests) nor parse.ts (read back by the policies).
    mutate: [
      "components/proxy/render.ts",
      "components/proxy/nginx-conf.ts",
      "components/proxy/headers.ts",
      "components/proxy/paths.ts",
      "components/proxy/rate-limit.ts",
      "components/proxy/settings.ts",
      "components/proxy/tls.ts",
      "components/proxy/upstream.ts",
      "components/proxy/versions.ts",
    ],
  },
];

/** The file `npm run test:mutation` writes checkerTsconfig's answer to, at the repository's root (ignored by git). */
export const CHECKER_TSCONFIG = "tsconfig.mutation.json";

/**
 * The TypeScript project Stryker's checker compiles each mutant in: the module's own files and
 * what they import, not the whole repository: a cold check of the whole (tests included) took
 * 21 s of CPU, of the config's files and their imports 4 s. With 2 workers Stryker runs one
 * checker beside one test process until the checker is done, and with the whole repository
 * that checker kept 90 % of a core through config's run. A mutant whose only type error would
 * be in a dependent file is then run by the tests instead, like any other.
 */
export function checkerTsconfig(module: MutationModule): { extends: string; include: string[] } {
  return { extends: "./tsconfig.json", include: [...module.mutate, ...(module.spawned?.mutate ?? [])] };
}

/** Does a repository path match one of the module's globs (`*` within one folder, no `**`)? */
export function matchesModule(module: MutationModule, file: string): boolean {
  return [...module.mutate, ...(module.spawned?.mutate ?? [])].some((glob) => {
    const pattern = glob
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join("[^/]*");
    return new RegExp(`^${pattern}$`).test(file);
  });
}

/**
 * Imports no source spells out: the harness requires the program it runs by a computed path,
 * so every test that evaluates the program (through test/support/program.ts) reaches all of it.
 */
const COMPUTED_IMPORTS: Readonly<Record<string, readonly string[]>> = { "tools/check/harness.ts": ["index.ts"] };

const RELATIVE_IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;

/** The relative modules a TypeScript source imports, as repository paths (`.ts` added where the import omits it). */
export function relativeImports(file: string, source: string, exists: (path: string) => boolean): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(RELATIVE_IMPORT)) {
    const base = normalize(join(dirname(file), match[1]));
    const candidate = [base, `${base}.ts`, join(base, "index.ts")].find((path) => path.endsWith(".ts") && exists(path));
    if (candidate !== undefined) found.push(candidate);
  }
  return found;
}

/**
 * How long a test file takes, roughly, from what its source shows: one that only calls the
 * code runs in a fraction of a second; one that evaluates the program under Pulumi's mocks
 * loads the SDK and registers every resource (1 to 2 s); one that starts processes of its
 * own (shells, nginx, the hook scripts) takes seconds to tens of seconds.
 */
export function testCost(source: string): 0 | 1 | 2 {
  if (/\bfrom\s+["']node:child_process["']|\brequire\(\s*["']node:child_process["']\s*\)/.test(source)) return 2;
  if (/\bsetMocks\(|\b(runStack|evaluateStack|runProgram)\(|support\/program["']/.test(source)) return 1;
  return 0;
}

/**
 * The test files whose imports reach one of the module's files, in process: only those can
 * show Stryker's per-test coverage that they run a mutant. `read` returns a file's source.
 * Files for which `excluded` answers true are left out (those whose only reach into the
 * module is a child process Stryker cannot see the coverage of). The files nearest the module
 * in the import graph come first: Stryker runs a mutant's tests in this order and stops at the
 * first failure, and the focused tests that import the module kill most mutants in a second,
 * where a whole-program test found first would take a minute. Among files as near, the
 * cheaper come first (testCost): a mutant of a zod schema built at load runs every file until
 * one fails, and a shell-heavy file first (36 s) cost each such mutant that much.
 */
export function testsReaching(
  module: MutationModule,
  testFiles: readonly string[],
  read: (path: string) => string | undefined,
  excluded: (path: string, source: string) => boolean = () => false,
): string[] {
  const exists = (path: string) => read(path) !== undefined;
  const imports = new Map<string, string[]>();
  const importsOf = (file: string) => {
    let found = imports.get(file);
    if (found === undefined)
      imports.set(file, (found = [...relativeImports(file, read(file) ?? "", exists), ...(COMPUTED_IMPORTS[file] ?? []).filter(exists)]));
    return found;
  };
  // A breadth-first walk of the import graph from the test file (cycles are common among
  // helpers): the number of imports between the test and the module, or undefined.
  const distance = (start: string): number | undefined => {
    const depth = new Map([[start, 0]]);
    const queue = [start];
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      if (matchesModule(module, file)) return depth.get(file);
      for (const next of importsOf(file).filter((path) => !depth.has(path))) {
        depth.set(next, (depth.get(file) ?? 0) + 1);
        queue.push(next);
      }
    }
    return undefined;
  };
  return testFiles
    .filter((file) => !excluded(file, read(file) ?? ""))
    .map((file) => ({ file, hops: distance(file), cost: testCost(read(file) ?? "") }))
    .filter((reached): reached is { file: string; hops: number; cost: 0 | 1 | 2 } => reached.hops !== undefined)
    .sort((a, b) => a.hops - b.hops || a.cost - b.cost)
    .map(({ file }) => file);
}

/** Stryker's statuses, as its report schema names them. */
export type MutantStatus = "Killed" | "Survived" | "NoCoverage" | "Timeout" | "CompileError" | "RuntimeError" | "Ignored" | "Pending";

export interface MutantOutcome {
  /** Repository path. */
  file: string;
  mutatorName: string;
  /** The code the mutant replaces, as written in the file. */
  original: string;
  /** The text of the line the mutant starts on: tells apart the same mutation in different places. */
  context: string;
  replacement: string;
  status: MutantStatus;
  /** 1-based, for people reading the report. */
  line: number;
}

/** A span as runMutationTest() reports it: lines and columns 1-based, as in Stryker's report schema. */
export interface StrykerLocation {
  start: { line: number; column: number };
  end: { line: number; column: number };
}

/** The source text a Stryker location spans. */
export function codeAt(source: string, location: StrykerLocation): string {
  const lines = source.split("\n");
  const offset = (position: { line: number; column: number }) =>
    lines.slice(0, position.line - 1).reduce((sum, line) => sum + line.length + 1, 0) + position.column - 1;
  return source.slice(offset(location.start), offset(location.end));
}

const collapse = (code: string) => code.replace(/\s+/g, " ").trim();

/** Long originals (a whole block emptied) are shortened to their start and a hash of the whole. */
function shorten(code: string): string {
  const flat = collapse(code);
  if (flat.length <= 160) return flat;
  return `${flat.slice(0, 100)}… #${createHash("sha256").update(flat).digest("hex").slice(0, 10)}`;
}

/**
 * A key per mutant that survives edits elsewhere in the file: file, mutator, the line the
 * mutant starts on, original and replacement code (whitespace collapsed), and `#n` for the
 * n-th identical mutation of identical lines of a file. No line number: it would change with
 * every edit above. Keys are given in the order of the outcomes.
 */
export function mutantKeys(outcomes: readonly MutantOutcome[]): string[] {
  const seen = new Map<string, number>();
  return outcomes.map((outcome) => {
    const base = [
      outcome.file,
      outcome.mutatorName,
      shorten(outcome.context),
      shorten(outcome.original),
      shorten(outcome.replacement),
    ].join("|");
    const occurrence = (seen.get(base) ?? 0) + 1;
    seen.set(base, occurrence);
    return occurrence === 1 ? base : `${base}|#${occurrence}`;
  });
}

export interface ModuleScore {
  module: string;
  mutants: number;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  /** Survivors (NoCoverage included) the committed list explains. */
  equivalent: number;
  /** Rejected by the type checker or crashing at load: not valid programs, not counted. */
  invalid: number;
  ignored: number;
  /** Percent of the valid, non-equivalent mutants that a test killed (a timeout counts as killed). */
  score: number;
  unexplained: { key: string; outcome: MutantOutcome }[];
  stale: Equivalent[];
  /** Listed equivalents whose mutant timed out this run: neither confirmed nor stale. */
  equivalentTimedOut: Equivalent[];
}

/**
 * The module's figures. A mutant no test covers is a survivor like any other: no test would
 * notice that change either. Stale entries are judged among those of the module's files.
 */
export function scoreModule(module: MutationModule, outcomes: readonly MutantOutcome[], equivalents: readonly Equivalent[]): ModuleScore {
  const sorted = [...outcomes].sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  const keys = mutantKeys(sorted);
  const count = (...statuses: MutantStatus[]) => sorted.filter((outcome) => statuses.includes(outcome.status)).length;
  const survivorIndexes = sorted.flatMap((outcome, index) =>
    outcome.status === "Survived" || outcome.status === "NoCoverage" ? [index] : [],
  );
  const { explained, unexplained, stale, timedOut } = judgeSurvivors(
    survivorIndexes.map((index) => keys[index]),
    equivalents,
    (key) => matchesModule(module, key.split("|")[0]),
    sorted.flatMap((outcome, index) => (outcome.status === "Timeout" ? [keys[index]] : [])),
  );
  const killed = count("Killed");
  const timeout = count("Timeout");
  const survived = count("Survived");
  const noCoverage = count("NoCoverage");
  const judged = killed + timeout + survived + noCoverage - explained.length;
  return {
    module: module.name,
    mutants: sorted.length,
    killed,
    timeout,
    survived,
    noCoverage,
    equivalent: explained.length,
    invalid: count("CompileError", "RuntimeError"),
    ignored: count("Ignored", "Pending"),
    score: judged === 0 ? 100 : (100 * (killed + timeout)) / judged,
    unexplained: unexplained.map((key) => ({ key, outcome: sorted[keys.indexOf(key)] })),
    stale,
    equivalentTimedOut: timedOut,
  };
}

/** One line per module for the summary table. */
export function formatScore(score: ModuleScore, target: number, seconds: number): string {
  const verdict = score.score >= target && score.unexplained.length === 0 && score.stale.length === 0 ? "ok" : "FAILS";
  return (
    `${score.module.padEnd(11)} ${score.score.toFixed(1).padStart(5)}%  ${String(score.mutants).padStart(5)} mutants: ` +
    `${score.killed} killed, ${score.timeout} timeout, ${score.survived} survived, ${score.noCoverage} no coverage, ` +
    `${score.equivalent} equivalent, ${score.invalid} invalid, ${score.ignored} ignored; ${Math.round(seconds)} s  ${verdict}`
  );
}

/** A path relative to the repository, with forward slashes. */
export function repositoryPath(root: string, file: string): string {
  return relative(root, file).split("\\").join("/");
}
