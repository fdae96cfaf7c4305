#!/usr/bin/env node
// Runs the tests under test/ with Node's own runner. Node's --test takes no globs here, so
// the files are listed; each file runs in its own process, which keeps Pulumi's global mock
// state from leaking between files.
//
//   node tools/run-tests.mjs [--group NAME]... [substring]...
//       every test file (the default), the files of the named groups (a group is a folder
//       under test/: unit, system, ...), and of those the files whose path contains one of
//       the substrings.
//   node tools/run-tests.mjs --repeat N [--group NAME]... [substring]...
//       runs the selection N times and lists every test whose result changed between runs
//       (exit 1 when one did): `npm run test:repeat -- N` does this for the system tests.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const USAGE = "usage: node tools/run-tests.mjs [--group NAME]... [--repeat N] [substring]...";

function parseArgs(argv) {
  const options = { groups: [], repeat: 0, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    if (flag === "--group" || flag === "--repeat") {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      if (flag === "--group") options.groups.push(value);
      else if (/^[1-9]\d*$/.test(value)) options.repeat = Number(value);
      else throw new Error(`--repeat needs a positive integer, got ${value}\n${USAGE}`);
    } else if (argv[i].startsWith("--")) {
      throw new Error(`unknown option ${argv[i]}\n${USAGE}`);
    } else {
      options.only.push(argv[i]);
    }
  }
  return options;
}

function findTests(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return findTests(path);
    return entry.endsWith(".test.ts") ? [path] : [];
  });
}

const groupOf = (file) => file.split(sep)[1];

function select({ groups, only }) {
  const all = findTests(join(root, "test")).map((f) => relative(root, f));
  const known = new Set(all.map(groupOf));
  const unknown = groups.filter((g) => !known.has(g));
  if (unknown.length > 0) throw new Error(`no test group ${unknown.join(", ")}: the groups are ${[...known].sort().join(", ")}`);
  return all
    .filter((f) => groups.length === 0 || groups.includes(groupOf(f)))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
}

function runNodeTest(files, reporterArgs = []) {
  return spawnSync(
    process.execPath,
    ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", "--test-reporter-destination=stdout", ...reporterArgs, ...files],
    { cwd: root, stdio: "inherit" },
  );
}

/** Runs the files `times` times; prints and counts the tests whose result was not the same every time. */
function repeat(files, times) {
  const work = mkdtempSync(join(tmpdir(), "dropstack-test-repeat-"));
  const outcomes = new Map();
  try {
    for (let run = 1; run <= times; run++) {
      console.log(`\n=== run ${run} of ${times} ===`);
      const resultsFile = join(work, `run-${run}.jsonl`);
      runNodeTest(files, ["--test-reporter=./tools/test-results.mjs", `--test-reporter-destination=${resultsFile}`]);
      const lines = readFileSync(resultsFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
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
  console.log(`\n${rows.length} tests, ${times} runs: ${changed.length} changed result${changed.length === 1 ? "" : "s"}, ${failing.length} failed every run`);
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
if (options.repeat > 0) process.exit(repeat(files, options.repeat) > 0 ? 1 : 0);
process.exit(runNodeTest(files).status ?? 1);
