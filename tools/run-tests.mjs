#!/usr/bin/env node
// Runs the tests under test/ with Node's own runner. Node's --test takes no globs here, so
// the files are listed. A file that evaluates the program or loads Pulumi runs in a process
// of its own, which keeps Pulumi's global mock state from leaking between files; the other
// unit files share one process (sharesProcess).
//
//   node tools/run-tests.mjs [--group NAME]... [--concurrency N] [substring]...
//       every test file (the default), the files of the named groups (a group is a folder
//       under test/: unit, system, ...), and of those the files whose path contains one of
//       the substrings.
//   node tools/run-tests.mjs --repeat N [--group NAME]... [substring]...
//       runs the selection N times and lists every test whose result changed between runs
//       (exit 1 when one did): `npm run test:repeat -- N` does this for the system tests.
//
// Files run N at a time (default: twice the cores). Most system tests spend their time
// waiting on the programs they start (nginx, PostgreSQL, sshd, shells), so more files than
// cores keep both cores busy; every port is asked of the kernel and every folder is a
// fresh temp dir, so files do not collide. A file whose first lines say `run-tests: alone`
// runs after the others, by itself (for a test that measures time or load). Node's runner
// takes the files in path order, so test/cli and test/system (the longest files) start
// before test/unit and no long file is started last as a slow tail.
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";

const root = new URL("..", import.meta.url).pathname;
// One synopsis per npm script that runs this file (tools/cli.ts's contract: the first line
// names the command as users type it).
const USAGE =
  "usage: npm test [-- [--group NAME]... [--concurrency N] [substring]...] | npm run test:quick [-- [substring]...] | npm run test:repeat -- N [substring]...";
const HELP = `${USAGE}

Runs the test files under test/ with Node's test runner (node tools/run-tests.mjs takes the
same arguments).

  (no argument)       every test file under test/ (what \`npm test\` runs)
  --group NAME        the files of one folder under test/ (unit, cli, system, rehearsal); repeatable
  substring           of those, the files whose path contains one of the substrings
  --concurrency N     files run at once (default ${2 * availableParallelism()}: twice the cores)
  --repeat N          run the selection N times, list every test whose result changed
                      (\`npm run test:repeat -- N\`: the system tests, without the rehearsal)

\`npm run test:quick\` is --group unit: the unit and policy tests, in-process (the
tests that run the commands as processes are --group cli).`;

function parseArgs(argv) {
  const options = { groups: [], repeat: 0, concurrency: 2 * availableParallelism(), only: [], help: false };
  // Help wins wherever it stands: `npm run test:repeat -- --help` puts it after --repeat.
  if (argv.some((arg) => arg === "--help" || arg === "-h")) return { ...options, help: true };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    if (flag === "--group" || flag === "--repeat" || flag === "--concurrency") {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`error: ${flag} needs a value\n${USAGE}`);
      if (flag === "--group") options.groups.push(value);
      else if (!/^[1-9]\d*$/.test(value)) throw new Error(`error: ${flag} needs a positive integer, got ${value}\n${USAGE}`);
      else options[flag.slice(2)] = Number(value);
    } else if (argv[i].startsWith("-")) {
      throw new Error(`error: unknown option ${argv[i]}\n${USAGE}`);
    } else {
      options.only.push(argv[i]);
    }
  }
  return options;
}

/** Every file under `path` (or `path` itself when it is a file), node_modules left out. */
function filesUnder(path) {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((entry) => (entry === "node_modules" ? [] : filesUnder(join(path, entry))));
}

const findTests = (dir) => filesUnder(dir).filter((file) => file.endsWith(".test.ts"));

// RUN_TESTS_DIR replaces test/ (the runner's own tests point it at fixtures).
const testDir = process.env.RUN_TESTS_DIR ?? join(root, "test");
/** The folder right under the test dir: unit, system, ... */
const groupOf = (file) => relative(testDir, join(root, file)).split(sep)[0];

function select({ groups, only }) {
  const all = findTests(testDir).map((f) => relative(root, f));
  const known = new Set(all.map(groupOf));
  const unknown = groups.filter((g) => !known.has(g));
  if (unknown.length > 0) throw new Error(`no test group ${unknown.join(", ")}: the groups are ${[...known].sort().join(", ")}`);
  return all
    .filter((f) => groups.length === 0 || groups.includes(groupOf(f)))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
}

// TypeScript through the check's preload (compiled once per content, @pulumi/pulumi without
// its unused serializer): a third less CPU per file than tsx, and the suite is CPU-bound.
const LOADER = ["--require", join(root, "tools", "fast-start.cjs")];

/** A file that must run by itself says so in its first lines. */
function runsAlone(file) {
  return /run-tests: alone/.test(readFileSync(join(root, file), "utf8").split("\n", 20).join("\n"));
}

const requireHere = createRequire(import.meta.url);
/** The check's preload: it compiles ahead (precompile), and once loaded, `.ts` modules load through it. */
const fastStart = () => requireHere("./fast-start.cjs");

/**
 * The TypeScript a run's processes load, compiled before they start (tools/fast-start.cjs,
 * precompile): the selected test files and, in the repository's own suite, every file
 * tsconfig.json includes. Costs a few seconds after a fresh clone and saves a compiler start
 * in each process; with the cache filled it is a hash per file (60 ms in all).
 */
function precompileTypeScript(files) {
  const included = JSON.parse(readFileSync(join(root, "tsconfig.json"), "utf8")).include.map((glob) => glob.split("/")[0]);
  const sources =
    testDir === join(root, "test")
      ? [...new Set(included)].flatMap((entry) => filesUnder(join(root, entry)).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")))
      : files.map((file) => join(root, file));
  fastStart().precompile(sources);
}

/**
 * Debian's psql, pg_dump and pg_restore on PATH are one Perl script (postgresql-common's
 * pg_wrapper) that picks a version and execs it: 70 ms of CPU a call, 10 ms without it, and
 * the hook scripts under test call them some 540 times a run. With no cluster configured the
 * wrapper picks the newest installed version, the one the tests' servers run
 * (tools/lib/postgres.ts), so its bin folder goes first on the tests' PATH: the same
 * programs, without Perl.
 */
function postgresClientsFirst(path) {
  fastStart();
  const server = requireHere("./lib/postgres.ts").findPostgresBinDir();
  return server === undefined ? path : `${server.binDir}:${path}`;
}

/**
 * A temp folder for one run's files: every test file gets it as TMPDIR, so what a test
 * leaves behind (a killed server's folder, a stack variant) goes with the run instead of
 * piling up in /tmp. A failed run keeps it for a look. Other users traverse it: the
 * tests start PostgreSQL and sshd as unprivileged users in folders under it.
 */
function withRunTmpdir(run) {
  const dir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), "dropstack-tests-"));
  chmodSync(dir, 0o755);
  // DROPSTACK_TEST_RUN: what the files may share within this run (test/support/check.ts
  // keeps the committed stacks' check reports there, tools/lib/postgres.ts its template).
  const status = run({ ...process.env, TMPDIR: dir, DROPSTACK_TEST_RUN: dir, PATH: postgresClientsFirst(process.env.PATH ?? "") });
  if (status === 0) rmSync(dir, { recursive: true, force: true });
  else console.log(`=== the run's temp files are kept in ${dir} ===`);
  return status;
}

/**
 * A unit test file that neither evaluates the program nor loads Pulumi leaves nothing behind
 * in its process, so those files share one (see inOneProcess). The others keep a process
 * each: Pulumi's runtime is process-global.
 */
const NEEDS_OWN_PROCESS = /\b(runStack|evaluateStack|runProgram)\(|tools\/check\/harness|from "@pulumi\/pulumi"|run-tests: own process/;

function sharesProcess(file) {
  return groupOf(file) === "unit" && !NEEDS_OWN_PROCESS.test(readFileSync(join(root, file), "utf8"));
}

/**
 * One test file that requires the given files, each inside a suite named after it, so each
 * file's top-level hooks apply to its own tests only, as in a process of its own. A process
 * costs about half a second of CPU to start and load the common modules, a pure unit file
 * often less than that to run, and the suite is CPU-bound.
 */
function inOneProcess(files, dir) {
  const file = join(dir, "unit-files-sharing-a-process.test.cjs");
  const lines = files.map((f) => `describe(${JSON.stringify(f)}, () => require(${JSON.stringify(join(root, f))}));`);
  writeFileSync(file, ["// Written by tools/run-tests.mjs.", 'const { describe } = require("node:test");', ...lines, ""].join("\n"));
  return file;
}

/**
 * Runs the files, `concurrency` at a time, then those that run alone one by one; returns
 * the worst exit status. `reporters(phase)` adds reporter arguments per phase. With
 * `shareProcesses`, the unit files that can share a process run in one.
 */
function runFiles(files, concurrency, reporters = () => [], env = process.env, shareProcesses = false) {
  const alone = files.filter(runsAlone);
  const together = files.filter((f) => !alone.includes(f));
  const shared = shareProcesses && env.DROPSTACK_TEST_RUN ? together.filter(sharesProcess) : [];
  const sharing = shared.length > 1;
  const phases = [
    // The shared process runs its files one after another: first, so that it is not the tail.
    [sharing ? [inOneProcess(shared, env.DROPSTACK_TEST_RUN), ...together.filter((f) => !shared.includes(f))] : together, concurrency],
    [alone, 1],
  ].filter(([phaseFiles]) => phaseFiles.length > 0);
  let status = 0;
  for (const [phase, [phaseFiles, n]] of phases.entries()) {
    if (phase > 0)
      console.log(`\n=== ${phaseFiles.length} file${phaseFiles.length === 1 ? "" : "s"} that run alone: ${phaseFiles.join(" ")} ===`);
    const started = performance.now();
    const result = spawnSync(
      process.execPath,
      [
        ...LOADER,
        "--test",
        `--test-concurrency=${n}`,
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        ...reporters(phase),
        ...phaseFiles,
      ],
      { cwd: root, stdio: "inherit", env },
    );
    if (result.status !== 0) status = result.status ?? 1;
    // The wall time of each phase, so a run's log says how long the suite took without the
    // files that run alone (the rehearsal) and how long those took.
    const count = phase === 0 ? together.length : phaseFiles.length;
    const files = `${count} file${count === 1 ? "" : "s"}`;
    const what =
      phase === 0 ? `${files}${sharing ? ` (${shared.length} unit files in one process)` : ""}, ${n} at a time` : `${files} run alone`;
    console.log(`\n=== ${what}: ${((performance.now() - started) / 1000).toFixed(0)} s wall, exit ${result.status ?? "signal"} ===`);
  }
  return status;
}

/** Runs the files `times` times; prints and counts the tests whose result was not the same every time. */
function repeat(files, times, concurrency) {
  const work = mkdtempSync(join(tmpdir(), "dropstack-test-repeat-"));
  const outcomes = new Map();
  try {
    for (let run = 1; run <= times; run++) {
      console.log(`\n=== run ${run} of ${times} ===`);
      const resultsFile = (phase) => join(work, `run-${run}-${phase}.jsonl`);
      withRunTmpdir((env) =>
        runFiles(
          files,
          concurrency,
          (phase) => ["--test-reporter=./tools/test-results.mjs", `--test-reporter-destination=${resultsFile(phase)}`],
          env,
        ),
      );
      const lines = [0, 1]
        .filter((phase) => existsSync(resultsFile(phase)))
        .flatMap((phase) =>
          readFileSync(resultsFile(phase), "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        );
      for (const { file, name, passed } of lines) {
        const key = `${relative(root, file)}: ${name}`;
        if (!outcomes.has(key)) outcomes.set(key, []);
        outcomes.get(key)[run - 1] = passed ? "pass" : "FAIL";
      }
      console.log(`run ${run}: ${lines.filter((l) => l.passed).length} passed, ${lines.filter((l) => !l.passed).length} failed`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // A test missing from a run (its file crashed before it ran) counts as a change too.
  const rows = [...outcomes].map(([key, results]) => [key, Array.from({ length: times }, (_, i) => results[i] ?? "missing")]);
  const changed = rows.filter(([, results]) => new Set(results).size > 1);
  const failing = rows.filter(([, results]) => results.every((r) => r === "FAIL"));
  console.log(
    `\n${rows.length} tests, ${times} runs: ${changed.length} changed result${changed.length === 1 ? "" : "s"}, ${failing.length} failed every run`,
  );
  for (const [key, results] of changed) console.log(`  changed: ${key}: ${results.join(" ")}`);
  for (const [key] of failing) console.log(`  failed every run: ${key}`);
  return changed.length + failing.length;
}

let options;
try {
  options = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(e.message);
  process.exit(2);
}
if (options.help) {
  console.log(HELP);
  process.exit(0);
}
let files;
try {
  files = select(options);
} catch (e) {
  console.error(e.message);
  process.exit(2);
}
if (files.length === 0) {
  console.error(`no test files matched ${[...options.groups.map((g) => `--group ${g}`), ...options.only].join(" ")}`);
  process.exit(1);
}
precompileTypeScript(files);
if (options.repeat > 0) process.exit(repeat(files, options.repeat, options.concurrency) > 0 ? 1 : 0);
// --repeat keeps a process per file: it compares results per file, across runs.
process.exit(withRunTmpdir((env) => runFiles(files, options.concurrency, () => [], env, true)));
