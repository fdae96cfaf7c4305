// `npm run check -- <stack> [--config-file <path>] [--compare <stack file>] [--json] [--emit <dir>]`
// The offline preview and policy check (README "The two commands"). Exit 0: no mandatory violations;
// 1: mandatory violations; 2: invalid config or arguments.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { InvalidConfigError, parseStackConfig, rawNamespaceConfig } from "../../components/config";
import { UsageError, commandLine } from "../cli";
import { STACK_NAME } from "../new-stack/derive";
import { PROMOTED_IMAGE_OUTPUT } from "../../components/promotion/evaluate";
import { pitrWindowNote } from "../../components/database/restore";
import { PolicyConfigError, analyze, startPolicyPack } from "./analyzer";
import { CompareError, compareCosts, costJson, costOf, estimateOtherConfig, renderCost } from "./cost";
import { previewDigest } from "./digest";
import { EMITTED_FILES, emitServerFiles } from "./emit";
import { Graph, runProgram } from "./harness";
import { renderDeployOrder, renderSummary, renderTree, renderViolations, summarise, toJson } from "./report";
import { setStackReferenceOutputs } from "./mocks";
import { StackFileError, readStackFile } from "./stack-file";
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

function parseCli(argv: string[]) {
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

/**
 * Offline there is no backend to read staging's outputs from. With --staging-outputs
 * (the JSON of `pulumi stack output --stack <staging> --json`) the promotion guard checks
 * the real promoted digest; without it the check assumes staging promoted this image.
 */
function promotionInputs(config: Record<string, string>, outputsFile: string | undefined) {
  const parse = (key: string): Record<string, unknown> => {
    try {
      const value = JSON.parse(config[key] ?? "{}");
      return typeof value === "object" && value !== null ? value : {};
    } catch {
      return {};
    }
  };
  const stagingStack = parse("dropstack:promotion").stagingStack;
  if (typeof stagingStack !== "string") return undefined;
  if (outputsFile) {
    try {
      return {
        stagingStack,
        outputs: JSON.parse(readFileSync(outputsFile, "utf8")) as Record<string, unknown>,
        note: `Promotion guard reads ${stagingStack}'s outputs from ${outputsFile}`,
      };
    } catch (e) {
      throw new UsageError(`cannot read --staging-outputs ${outputsFile}: ${(e as Error).message}`);
    }
  }
  const image = parse("dropstack:app").image;
  return {
    stagingStack,
    outputs: { [PROMOTED_IMAGE_OUTPUT]: image },
    note: `Promotion guard: ${stagingStack}'s outputs are not available offline; assuming it promoted ${String(image)} (pass --staging-outputs to check the real ones)`,
  };
}

async function main(): Promise<number> {
  const started = Date.now();
  const timer = new Timer();
  timer.lap("load");
  timer.writeOnExit();
  const args = parseCli(process.argv.slice(2));
  const stackFile = readStackFile(args.configFile);
  // Validate before printing anything: an invalid config prints its errors and nothing else.
  const parsed = parseStackConfig(rawNamespaceConfig(stackFile.config), args.stack);
  if (!parsed.ok) throw new InvalidConfigError(parsed.problems, args.stack);
  // Started before the program runs, so the pack loads while the program evaluates, and
  // after the config is known to be valid: a refused config costs no policy pack start.
  const pack = startPolicyPack(path.join(ROOT, "policies"));
  const log = (line: string) => (args.json ? process.stderr.write(line + "\n") : console.log(line));

  log(
    `Previewing stack ${args.stack} offline (program under Pulumi mocks, config from ${path.relative(process.cwd(), args.configFile) || args.configFile})`,
  );
  if (stackFile.secretKeys.length > 0) log(`Secret keys treated as unknown secrets: ${stackFile.secretKeys.join(", ")}`);
  const restore = parsed.config.postgres.restore;
  // The only clock the check reads: whether DigitalOcean would still create this restore now.
  const restoreNote = restore && pitrWindowNote(restore.timestamp, new Date());
  if (restoreNote) log(`Note: ${restoreNote}`);
  const promotion = promotionInputs(stackFile.config, args.stagingOutputs);
  if (promotion) {
    setStackReferenceOutputs(promotion.stagingStack, promotion.outputs);
    log(promotion.note);
  }
  const program = await runProgram({ stack: args.stack, config: stackFile.config, secretKeys: stackFile.secretKeys });
  const graph = new Graph(program.registrations);
  timer.lap("evaluation");

  log(`Running policy pack policies/ with ${path.relative(ROOT, args.policyConfigFile)} through its gRPC analyzer`);
  await pack.ready.catch(() => undefined);
  timer.lap("policyWait");
  const policyRun = await analyze({
    pack,
    packDir: path.join(ROOT, "policies"),
    policyConfigFile: args.policyConfigFile,
    stack: args.stack,
    project: "dropstack",
    registrations: program.registrations,
    config: stackFile.config,
    secretKeys: stackFile.secretKeys,
  });
  timer.lap("analysis");

  if (args.emit) {
    const { written, missing } = emitServerFiles(args.emit, program.registrations);
    log(
      `Wrote ${[...written, "README.md"].join(", ")} to ${args.emit}${missing.length > 0 ? ` (this stack renders no ${missing.join(", ")})` : ""}`,
    );
  }

  const summary = summarise(graph, policyRun);
  const cost = costOf(program.registrations);
  let comparison;
  if (args.compare) {
    log(`Pricing ${args.compare} for --compare`);
    comparison = { against: args.compare, result: compareCosts(estimateOtherConfig(__filename, args.stack, args.compare), cost) };
  }
  if (args.json) {
    const digest = previewDigest({ stack: args.stack, project: "dropstack", graph, run: policyRun, durationMs: Date.now() - started });
    console.log(JSON.stringify({ ...digest, ...toJson(args.stack, graph, policyRun), cost: costJson(cost, comparison) }, null, 2));
  } else {
    console.log("");
    console.log(renderTree(graph));
    console.log("");
    console.log(renderCost(cost, comparison));
    console.log("");
    console.log(renderDeployOrder(graph));
    console.log("");
    console.log(renderViolations(policyRun, graph));
    console.log("");
    console.log(renderSummary(args.stack, summary));
  }
  timer.lap("report");
  return summary.mandatory > 0 ? 1 : 0;
}

/** The program refused to deploy (e.g. the promotion guard): a blocking finding, like a mandatory policy. */
function isBlockingFinding(e: unknown): boolean {
  return (e as Error)?.name === "UnpromotedImageError";
}

function isInvalidInput(e: unknown): boolean {
  return (
    e instanceof UsageError ||
    e instanceof CompareError ||
    e instanceof StackFileError ||
    e instanceof PolicyConfigError ||
    (e as Error)?.name === "InvalidConfigError"
  );
}

/**
 * process.exit drops whatever stdout has not yet handed to a pipe (a --json document larger
 * than the pipe's 64 KiB buffer came out cut), and the policy pack's gRPC channel would keep
 * the process alive without it: exit only once stdout and stderr have flushed.
 */
function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}

main().then(
  (code) => exitAfterFlush(code),
  (e: unknown) => {
    if (isBlockingFinding(e)) {
      const message = (e as Error).message;
      console.error(`error: ${message.slice(Math.max(0, message.indexOf("promotion guard:")))}`);
      process.exit(1);
    }
    if (isInvalidInput(e)) {
      console.error(`error: ${(e as Error).message}`);
      process.exit(2);
    }
    console.error(e);
    process.exit(3);
  },
);
