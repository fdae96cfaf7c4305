// `npm run check -- <stack> [--config-file <path>] [--compare <stack file>] [--json] [--emit <dir>]`
// The offline preview and policy check (README "The two commands"). Exit 0: no mandatory violations;
// 1: mandatory violations; 2: invalid config or arguments.
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { UsageError, commandLine } from "../cli";
import { STACK_NAME } from "../new-stack/derive";
import { EMITTED_FILES } from "./emit";
import type { CheckArgs } from "./run";
import { Timer } from "./timings";

const ROOT = path.resolve(__dirname, "..", "..");
const COMMAND = {
  usage: "npm run check -- <stack> [--config-file <path>] [--compare <stack file>] [--json] [--emit <dir>] [--staging-outputs <file>]",
  help: `
The offline preview and policy check: runs the program under Pulumi mocks with
Pulumi.<stack>.yaml, then the policy pack with policies/<stack>.json, and prints the
resources, the monthly cost, the deploy order, each violation and a summary.

  --config-file <path>       the stack file to read instead of Pulumi.<stack>.yaml
  --compare <stack file>     also price that stack file (e.g. the base branch's) and print
                             the monthly cost change from it to this one
  --json                     the report as JSON on stdout (progress goes to stderr)
  --emit <dir>               write the rendered server files (${Object.keys(EMITTED_FILES).join(", ")})
                             to <dir>, with a README on validating each
  --staging-outputs <file>   \`pulumi stack output --stack <staging> --json\`, for the
                             promotion guard

Exit: 0 no mandatory violations, 1 mandatory violations, 2 invalid config or arguments,
3 the check itself failed.`,
  options: {
    "config-file": { type: "string" },
    compare: { type: "string" },
    "staging-outputs": { type: "string" },
    json: { type: "boolean" },
    emit: { type: "string" },
  },
  positionals: { min: 1, max: 1, name: "stack name" },
} as const;

function parseCli(argv: string[]): CheckArgs {
  const parsed = commandLine(argv, COMMAND);
  const stack = parsed.positionals[0];
  if (!STACK_NAME.test(stack)) throw new UsageError(`"${stack}" is not a stack name`);
  const configFile = parsed.values["config-file"] ?? path.join(ROOT, `Pulumi.${stack}.yaml`);
  const policyConfigFile = path.join(ROOT, "policies", `${stack}.json`);
  if (!existsSync(policyConfigFile) || (parsed.values["config-file"] === undefined && !existsSync(configFile)))
    throw new UsageError(unknownStackMessage(stack));
  if (parsed.values.emit !== undefined) checkEmitDir(parsed.values.emit);
  return {
    stack,
    configFile,
    policyConfigFile,
    json: parsed.values.json ?? false,
    emit: parsed.values.emit,
    compare: parsed.values.compare,
    stagingOutputs: parsed.values["staging-outputs"],
  };
}

/** The stacks this repository defines: a Pulumi.<stack>.yaml with its policies/<stack>.json. */
function knownStacks(): string[] {
  return readdirSync(ROOT)
    .map((f) => /^Pulumi\.([\w.-]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined && existsSync(path.join(ROOT, "policies", `${s}.json`)))
    .sort();
}

/**
 * A stack needs its config and its policy config; the second is the one a newcomer adding
 * `dev` does not know about (--config-file gives only the first), so its absence is explained.
 */
function unknownStackMessage(stack: string): string {
  const files = (name: string) => [`Pulumi.${name}.yaml`, `policies/${name}.json`];
  const policyConfig = files(stack)[1];
  const missing = files(stack).filter((f) => !existsSync(path.join(ROOT, f)));
  const copies = files("staging").flatMap((from, i) => (missing.includes(files(stack)[i]) ? [`cp ${from} ${files(stack)[i]}`] : []));
  return [
    `unknown stack "${stack}" (no ${missing.join(" or ")}); the stacks here are: ${knownStacks().join(", ")}`,
    ...(missing.includes(policyConfig)
      ? [
          `  no policy config for stack "${stack}": each stack runs the policy pack with its own enforcement levels, from ${policyConfig} (the file \`pulumi preview --policy-pack-config\` reads).`,
        ]
      : []),
    `  To add it from staging's files: npm run new-stack -- ${stack} (creates whichever is missing, never overwrites),`,
    `  or copy them and edit: ${copies.join(" && ")}`,
  ].join("\n");
}

/** --emit must name a directory we can write, checked before the program runs. */
function checkEmitDir(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--emit ${dir}: exists and is not a directory`);
  try {
    // One level at a time: Node's recursive mkdir spins for ever under /proc.
    const missing: string[] = [];
    for (let d = path.resolve(dir); !existsSync(d); d = path.dirname(d)) missing.unshift(d);
    for (const d of missing) mkdirSync(d);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new UsageError(`--emit ${dir}: cannot write there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

const timer = new Timer();
timer.writeOnExit();
let args: CheckArgs;
try {
  args = parseCli(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  console.error(`error: ${e.message}`);
  process.exit(2);
}
// Only an accepted command line pays for loading the program, Pulumi, gRPC and the report.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { check } = require("./run") as typeof import("./run");
check(args, __filename, timer);
