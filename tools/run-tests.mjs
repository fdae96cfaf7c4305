#!/usr/bin/env node
// Runs every test under test/ with Node's own runner. Node 20's --test takes no globs,
// so the files are listed here; each file runs in its own process, which keeps Pulumi's
// global mock state from leaking between files.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";

const root = new URL("..", import.meta.url).pathname;
const USAGE = "usage: npm test [-- <substring>...]";
// The same contract as the tools' command lines (tools/cli.ts, which plain node cannot
// import): --help exits 0, an unknown flag exits 2 before any test runs.
const { positionals: only, values } = (() => {
  try {
    return parseArgs({ args: process.argv.slice(2), options: { help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`error: ${error.message}\n${USAGE}`);
    process.exit(2);
  }
})();
if (values.help) {
  console.log(`${USAGE}\n\nRuns every test file under test/ (or those whose path contains one of the substrings)\nwith Node's test runner, two files at a time.`);
  process.exit(0);
}

function findTests(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return findTests(path);
    return entry.endsWith(".test.ts") ? [path] : [];
  });
}

const files = findTests(join(root, "test"))
  .map((f) => relative(root, f))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  console.error(`no test files matched ${only.join(" ")}`);
  process.exit(1);
}
// The rehearsal (test/system/rehearse.test.ts) keeps a Docker engine and a dozen
// containers busy for minutes; it runs after the others, alone, so their timing-sensitive
// checks never share the machine with it.
const isRehearsal = (f) => f.endsWith("rehearse.test.ts");
const run = (group) => group.length === 0 ? 0 : spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...group],
  { cwd: root, stdio: "inherit" },
).status ?? 1;
const first = run(files.filter((f) => !isRehearsal(f)));
const second = run(files.filter(isRehearsal));
process.exit(first || second);
