// The npm scripts of package.json, and how to run one's program without npm's own start-up
// (half a second of CPU per run): what npm does with `npm run <name> -- <args>` is to
// run the script's command with the arguments appended.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./program";

export const SCRIPTS = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

/**
 * `node tools/<file> [fixed arguments]`, or node with the check's preload
 * (tools/fast-start.cjs) for TypeScript: the only shapes a script may have.
 */
export const SCRIPT = /^(node|node --require \.\/tools\/fast-start\.cjs) (tools\/[\w/.-]+\.(?:ts|mjs))((?: [\w-]+)*)$/;
const RUNNER_ARGS: Record<string, string[]> = {
  node: [],
  "node --require ./tools/fast-start.cjs": ["--require", "./tools/fast-start.cjs"],
};

/** Node's arguments (run from the repository root) for `npm run <name> -- <args>`. */
export function scriptArgv(name: string, args: string[]): string[] {
  const match = SCRIPT.exec(SCRIPTS[name] ?? "");
  if (!match) throw new Error(`npm script ${name} is not of the form ${SCRIPT}: ${SCRIPTS[name]}`);
  const [, runner, file, fixed] = match;
  return [...RUNNER_ARGS[runner], file, ...fixed.split(" ").filter(Boolean), ...args];
}
