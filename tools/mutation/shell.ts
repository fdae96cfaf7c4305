// npm run test:mutation:shell [-- --script NAME] [--list]
//
// Removes or weakens one guard of the hook scripts at a time (tools/mutation/shell-mutants.ts)
// and runs the hook system tests against the mutant, in a scratch copy of the repository so
// the working tree is never touched. A mutant that some test fails on is killed; one that
// passes every test survives, which means no test needs that guard. Survivors must be
// killed by a new test or listed, with the reason the mutation changes nothing, in
// tools/mutation/shell-equivalent.json. The run exits 1 on an unlisted survivor or on a
// listed entry that no longer matches a mutant (a stale reason hides nothing).
//
// A test file that hangs on a mutant (still running after three times its unmutated time, and
// at least two minutes) kills it: a guard whose loss makes a hook wait for ever is needed.
//
// A mutant's test run stops at the first failing test: its servers (PostgreSQL, the fake
// docker) live under the mutant's own TMPDIR and are stopped by path afterwards.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, realpathSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { PRELOAD } from "../check/analyzer";
import { commandLine, integerOption, UsageError } from "../cli";
import { judgeSurvivors, readEquivalents } from "./equivalents";
import { shellMutants, TESTS_BY_SCRIPT, type ShellMutant } from "./shell-mutants";

const ROOT = join(__dirname, "..", "..");
const HOOKS = "components/hooks";
const EQUIVALENTS_FILE = join(__dirname, "shell-equivalent.json");
const COMMAND = {
  usage: "npm run test:mutation:shell -- [--script NAME] [--from N] [--list]",
  help: `Removes or weakens one guard of the hook scripts at a time and runs the hook system
tests against each mutant; every guard must be needed by some test. Survivors are listed
with the line to cover, unless tools/mutation/shell-equivalent.json explains them.

  --script NAME   only this script: ${Object.keys(TESTS_BY_SCRIPT).join(", ")}
  --list          print the mutants and exit without running tests
  --from N        start at the Nth mutant (to resume an interrupted run)`,
  options: { script: { type: "string" }, list: { type: "boolean" }, from: { type: "string" } },
} as const;

type Verdict = { killed: true; by: string } | { killed: false };

/** A copy of the tracked files with the installed node_modules linked in. */
function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "dropstack-mutation-"));
  // Some tests run the hooks as an unprivileged user, who must be able to read them.
  chmodSync(dir, 0o755);
  const tracked = spawnSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" });
  if (tracked.status !== 0) throw new Error(`git ls-files failed: ${tracked.stderr}`);
  for (const file of tracked.stdout.split("\0").filter(Boolean)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(ROOT, file), join(dir, file), { verbatimSymlinks: true });
  }
  // The real folder, not a link to a link that may be removed while the run lasts.
  symlinkSync(realpathSync(join(ROOT, "node_modules")), join(dir, "node_modules"));
  return dir;
}

function stopLeftovers(marker: string): void {
  spawnSync("pkill", ["-KILL", "-f", marker]);
}

/**
 * Runs one test file; resolves with the first failing test's name, or undefined when all pass.
 * A file still running after `timeoutMs` hangs on the mutant: that is a failure too (a hook that
 * no longer stops where it must waits for ever), so the group is killed and the hang reported.
 */
function firstFailure(copy: string, testFile: string, runTmp: string, timeoutMs = Infinity): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...PRELOAD, "--test", "--test-reporter=tap", testFile], {
      cwd: copy,
      // No results shared through an `npm test` run's folder: the tests check the mutant.
      env: { ...process.env, TMPDIR: runTmp, DROPSTACK_TEST_RUN: "" },
      detached: true,
      stdio: ["ignore", "pipe", "ignore"],
    });
    let buffered = "";
    let failure: string | undefined;
    let results = 0;
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => {
          failure ??= `hung: still running after ${Math.round(timeoutMs / 1000)}s`;
          try {
            process.kill(-(child.pid ?? 0), "SIGKILL");
          } catch {
            // already gone
          }
        }, timeoutMs)
      : undefined;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (/^\s*(not )?ok \d+ - /.test(line)) results++;
        const failed = /^\s*not ok \d+ - (.*)$/.exec(line);
        if (process.env.MUTATION_DEBUG) console.error(line);
        if (failed && failure === undefined) {
          failure = failed[1];
          try {
            process.kill(-(child.pid ?? 0), "SIGKILL");
          } catch {
            // already gone
          }
        }
      }
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      stopLeftovers(runTmp);
      // A file that reports no test at all did not run (a missing module, a syntax error):
      // that is the harness failing, not a mutant being killed.
      // So is a failure reported for the file itself rather than for one of its tests.
      if ((results === 0 && !failure?.startsWith("hung:")) || failure?.endsWith(testFile))
        reject(new Error(`${testFile} did not run its tests (exit ${code}); the run cannot judge mutants`));
      else resolve(failure ?? (code === 0 ? undefined : `${testFile} exited ${code}`));
    });
  });
}

/**
 * Runs the test files in order and stops at the first failing test. `seconds` records each file's
 * time on the unmutated scripts; with `limits`, a file may take three times its baseline (at least
 * two minutes) before it counts as hung.
 */
async function runTests(
  copy: string,
  testNames: readonly string[],
  timing: { seconds?: Map<string, number>; limits?: Map<string, number> } = {},
): Promise<Verdict> {
  const runTmp = mkdtempSync(join(tmpdir(), "dropstack-mutant-"));
  // Like /tmp itself: the tests run PostgreSQL as an unprivileged user under TMPDIR.
  chmodSync(runTmp, 0o1777);
  try {
    for (const name of testNames) {
      const started = performance.now();
      const baseline = timing.limits?.get(name);
      const limit = baseline === undefined ? Infinity : Math.max(120, 3 * baseline) * 1000;
      const failure = await firstFailure(copy, `test/system/${name}.test.ts`, runTmp, limit);
      timing.seconds?.set(name, (performance.now() - started) / 1000);
      if (failure !== undefined) return { killed: true, by: `${name}: ${failure}` };
    }
    return { killed: false };
  } finally {
    rmSync(runTmp, { recursive: true, force: true });
  }
}

async function judge(copy: string, mutant: ShellMutant, limits: Map<string, number>): Promise<Verdict> {
  const target = join(copy, HOOKS, mutant.script);
  const original = readFileSync(target, "utf8");
  writeFileSync(target, mutant.source);
  try {
    return await runTests(copy, TESTS_BY_SCRIPT[mutant.script] ?? [], { limits });
  } finally {
    writeFileSync(target, original);
  }
}

async function main(): Promise<number> {
  const { values } = commandLine(process.argv.slice(2), COMMAND, (parsed) => {
    if (parsed.values.script !== undefined && !(parsed.values.script in TESTS_BY_SCRIPT)) {
      throw new UsageError(`--script ${parsed.values.script}: not a hook script; one of ${Object.keys(TESTS_BY_SCRIPT).join(", ")}`);
    }
    integerOption(parsed.values.from, "from", 1, 1);
    return parsed;
  });
  const from = integerOption(values.from, "from", 1, 1);
  const scripts = Object.keys(TESTS_BY_SCRIPT).filter((name) => values.script === undefined || name === values.script);
  const allMutants = scripts.flatMap((script) => shellMutants(script, readFileSync(join(ROOT, HOOKS, script), "utf8")));
  const mutants = allMutants.slice(from - 1);
  if (values.list) {
    for (const mutant of mutants)
      console.log(`${mutant.script}:${mutant.line} ${mutant.operator}\n    ${mutant.original.trim()}\n  → ${mutant.mutated.trim()}`);
    console.log(`${mutants.length} mutants`);
    return 0;
  }
  const equivalents = readEquivalents(EQUIVALENTS_FILE);
  const equivalentKeys = new Map(equivalents.map((entry) => [entry.key, entry.reason]));
  const copy = scratchCopy();
  const started = performance.now();
  console.log(
    `${mutants.length} mutants of ${scripts.join(", ")}${from > 1 ? ` from the ${from}th on` : ""}; load average ${loadavg()[0].toFixed(1)}`,
  );
  const survivors: ShellMutant[] = [];
  let killed = 0;
  try {
    // A test that fails without any mutation would "kill" every mutant.
    const testNames = [...new Set(scripts.flatMap((script) => TESTS_BY_SCRIPT[script]))];
    const baselineSeconds = new Map<string, number>();
    const baseline = await runTests(copy, testNames, { seconds: baselineSeconds });
    if (baseline.killed) throw new Error(`the hook tests fail on the unmutated scripts (${baseline.by}); fix that before judging mutants`);
    console.log(`baseline: ${testNames.join(", ")} pass unmutated (${((performance.now() - started) / 1000).toFixed(0)}s)`);
    for (const [index, mutant] of mutants.entries()) {
      const mutantStarted = performance.now();
      const verdict = await judge(copy, mutant, baselineSeconds);
      const seconds = ((performance.now() - mutantStarted) / 1000).toFixed(0);
      const where = `[${from + index}/${allMutants.length}] ${mutant.script}:${mutant.line} ${mutant.operator}`;
      if (verdict.killed) {
        killed++;
        console.log(`${where} killed in ${seconds}s by ${verdict.by}`);
      } else {
        survivors.push(mutant);
        const reason = equivalentKeys.get(mutant.key);
        console.log(
          `${where} SURVIVED in ${seconds}s${reason ? ` (listed as equivalent: ${reason})` : ""}\n    ${mutant.original.trim()}\n  → ${mutant.mutated.trim()}`,
        );
      }
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
  // Listed but not surviving: the mutant is gone, or a test now kills it, so the reason is wrong.
  // (Only a whole run can tell: --from leaves the first mutants unjudged.)
  const judgedKeys = new Set(mutants.map((mutant) => mutant.key));
  const { unexplained: unexplainedKeys, stale } = judgeSurvivors(
    survivors.map((mutant) => mutant.key),
    equivalents,
    (key) => scripts.some((script) => key.startsWith(`${script}|`)) && (from === 1 || judgedKeys.has(key)),
  );
  const unexplained = survivors.filter((mutant) => unexplainedKeys.includes(mutant.key));
  const minutes = ((performance.now() - started) / 60000).toFixed(1);
  const score = ((100 * killed) / Math.max(1, mutants.length - (survivors.length - unexplained.length))).toFixed(1);
  console.log(
    `\n${killed} of ${mutants.length} killed, ${survivors.length - unexplained.length} listed as equivalent, ${unexplained.length} unexplained survivors; score ${score}% in ${minutes} min`,
  );
  for (const mutant of unexplained) console.log(`  needs a test: ${mutant.key}`);
  for (const entry of stale) console.log(`  stale equivalent (no surviving mutant has this key): ${entry.key}`);
  return unexplained.length > 0 || stale.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
