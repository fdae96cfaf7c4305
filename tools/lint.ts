// `npm run lint` and `npm run typecheck`: Prettier's check, ESLint, then the strict TypeScript
// check; `npm run format` and `format:check`: Prettier alone. A
// script of its own (not `eslint . && tsc …` in package.json) so that, like every npm run
// command, it answers --help and refuses an unknown flag (npm would hand either to tsc,
// after ESLint had already run).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { commandLine } from "./cli";

const ROOT = join(__dirname, "..");

const COMMAND = {
  usage: "npm run lint | npm run typecheck | npm run format | npm run format:check",
  help: `
lint: Prettier's check of the code's formatting (.prettierrc.json), ESLint on the
repository (eslint.config.mjs), then the strict TypeScript check (tsc --noEmit -p
tsconfig.json). typecheck: the TypeScript check only (lint's --typecheck-only).
format: rewrites *.ts, *.mjs, *.cjs and *.js in Prettier's format (lint's --format);
format:check: lists the files it would change (lint's --format-check). Markdown, YAML
and shell are not formatted.
Exit: 0 clean, 1 findings, 2 bad arguments.`,
  options: { "typecheck-only": { type: "boolean" }, format: { type: "boolean" }, "format-check": { type: "boolean" } },
} as const;

const { values } = commandLine(process.argv.slice(2), COMMAND);

/** Runs a package's bin with this Node, from the repository root; its output goes straight through. */
function runBin(pkg: string, bin: string, args: string[]): number {
  const script = join(dirname(require.resolve(`${pkg}/package.json`)), bin);
  return spawnSync(process.execPath, [script, ...args], { cwd: ROOT, stdio: "inherit" }).status ?? 1;
}

// Prettier expands the glob itself and skips node_modules and .prettierignore.
const prettier = (mode: "--write" | "--check") =>
  runBin("prettier", "bin/prettier.cjs", [mode, "--log-level", "warn", "**/*.{ts,mjs,cjs,js}"]);
const eslint = () => runBin("eslint", "bin/eslint.js", ["."]);
const tsc = () => runBin("typescript", "bin/tsc", ["--noEmit", "-p", "tsconfig.json"]);
if (values.format || values["format-check"]) process.exit(prettier(values.format ? "--write" : "--check") === 0 ? 0 : 1);
// Like `prettier --check … && eslint . && tsc …`: stop at the first that fails.
const failed = (!values["typecheck-only"] && (prettier("--check") !== 0 || eslint() !== 0)) || tsc() !== 0;
process.exit(failed ? 1 : 0);
