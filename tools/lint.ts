// `npm run lint` and `npm run typecheck`: ESLint, then the strict TypeScript check. A
// script of its own (not `eslint . && tsc …` in package.json) so that, like every npm run
// command, it answers --help and refuses an unknown flag (npm would hand either to tsc,
// after ESLint had already run).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { commandLine } from "./cli";

const ROOT = join(__dirname, "..");

const COMMAND = {
  usage: "npm run lint | npm run typecheck",
  help: `
lint: ESLint on the repository (eslint.config.mjs), then the strict TypeScript check
(tsc --noEmit -p tsconfig.json). typecheck: the TypeScript check only (lint's
--typecheck-only).
Exit: 0 clean, 1 findings, 2 bad arguments.`,
  options: { "typecheck-only": { type: "boolean" } },
} as const;

const { values } = commandLine(process.argv.slice(2), COMMAND);

/** Runs a package's bin with this Node, from the repository root; its output goes straight through. */
function runBin(pkg: string, bin: string, args: string[]): number {
  const script = join(dirname(require.resolve(`${pkg}/package.json`)), bin);
  return spawnSync(process.execPath, [script, ...args], { cwd: ROOT, stdio: "inherit" }).status ?? 1;
}

const eslint = () => runBin("eslint", "bin/eslint.js", ["."]);
const tsc = () => runBin("typescript", "bin/tsc", ["--noEmit", "-p", "tsconfig.json"]);
// Like `eslint . && tsc …`: stop at the first that fails.
const failed = (!values["typecheck-only"] && eslint() !== 0) || tsc() !== 0;
process.exit(failed ? 1 : 0);
