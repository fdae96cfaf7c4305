// The check itself, once `tools/check/main.ts` has accepted the command line: the program
// under mocks, the policy pack through its analyzer, the report. Loaded only then, so that
// --help and a usage error answer without loading the program, Pulumi or gRPC.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { InvalidConfigError, parseStackConfig, rawNamespaceConfig } from "../../components/config";
import { UsageError } from "../cli";
import { PROMOTED_IMAGE_OUTPUT } from "../../components/promotion/evaluate";
import { pitrWindowNote } from "../../components/database/restore";
import { PolicyConfigError, analyze, startPolicyPack } from "./analyzer";
import { CompareError, compareCosts, costJson, costOf, estimateOtherConfig, renderCost } from "./cost";
import { previewDigest } from "./digest";
import { emitServerFiles } from "./emit";
import { Graph, runProgram } from "./harness";
import { renderDeployOrder, renderSummary, renderTree, renderViolations, summarise, toJson } from "./report";
import { setStackReferenceOutputs } from "./mocks";
import { StackFileError, readStackFile } from "./stack-file";
import type { Timer } from "./timings";

const ROOT = path.resolve(__dirname, "..", "..");

/** The command line, as main.ts accepted it. */
export interface CheckArgs {
  stack: string;
  configFile: string;
  policyConfigFile: string;
  json: boolean;
  emit?: string;
  compare?: string;
  stagingOutputs?: string;
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

async function run(args: CheckArgs, checkScript: string, timer: Timer): Promise<number> {
  const started = Date.now();
  timer.lap("load");
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
    comparison = { against: args.compare, result: compareCosts(estimateOtherConfig(checkScript, args.stack, args.compare), cost) };
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

/** Runs the check and exits with its status: 0 clean, 1 mandatory violations, 2 invalid input, 3 a failure of the check. */
export function check(args: CheckArgs, checkScript: string, timer: Timer): void {
  run(args, checkScript, timer).then(
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
}
