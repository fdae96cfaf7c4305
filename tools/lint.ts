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

/**
 * Like `prettier --check … && eslint . && tsc --noEmit -p tsconfig.json`: stop at the first
 * that fails. The TypeScript program is built before ESLint runs, since ESLint's type-aware
 * rules read it (tools/lib/code-quality.ts); its findings are printed after ESLint's.
 */
async function lint(typecheckOnly: boolean): Promise<number> {
  if (!typecheckOnly && prettier("--check") !== 0) return 1;
  // Required here, not imported at the top: TypeScript and ESLint take most of a second to
  // load, which --help, a bad flag and the format commands do not need.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { eslintRepository, repositoryESLint, typeCheck } = require("./lib/code-quality") as typeof import("./lib/code-quality");
  const check = typeCheck(process.stdout.isTTY);
  if (!typecheckOnly) {
    const eslint = await eslintRepository(repositoryESLint(check.program));
    process.stdout.write(eslint.report);
    if (eslint.errors > 0) return 1;
  }
  process.stdout.write(check.report);
  return check.errors > 0 ? 1 : 0;
}

if (values.format || values["format-check"]) process.exit(prettier(values.format ? "--write" : "--check") === 0 ? 0 : 1);
void lint(values["typecheck-only"] === true).then((status) => process.exit(status));
