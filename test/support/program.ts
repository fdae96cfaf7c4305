// Runs the whole dropstack program under mocks with a committed stack file, optionally
// with some keys changed, and returns the registration graph. One run per test file:
// Pulumi's runtime is process-global.
import * as path from "node:path";
import { Graph, type ProgramRun } from "../../tools/check/graph";
import { PROMOTED_IMAGE_OUTPUT } from "../../components/promotion/evaluate";
import { readStackFile } from "../../tools/check/stack-file";
import { sharedInRunAsync } from "./shared-in-run";

export const ROOT = path.resolve(__dirname, "..", "..");

/**
 * Node's arguments for running a TypeScript file in a child process: the check's preload
 * (tools/fast-start.cjs), as the npm scripts run the tools; half the start-up CPU of tsx.
 */
export const TS_NODE = ["--require", path.join(ROOT, "tools", "fast-start.cjs")];

export interface ProgramOptions {
  stack: "staging" | "production";
  /** Top-level keys to replace, e.g. `{ "dropstack:app": {...} }`; `undefined` removes a key. */
  override?: Record<string, unknown>;
  /** What the staging stack promoted; defaults to the image under test (promotion holds). */
  stagingPromotedImage?: string;
  /**
   * Evaluate in this process even when another file already ran the same stack: for a test
   * that reads the program's exports (its Outputs) after the run.
   */
  inThisProcess?: boolean;
}

/**
 * The program's registrations and outputs for the stack and overrides. Several test files
 * ask for the same run (the committed stacks, mostly), so it is made once per `npm test`
 * run (test/support/shared-in-run.ts); a file that reads a run made elsewhere loads
 * neither Pulumi nor the program.
 */
export async function runStack(options: ProgramOptions): Promise<{ graph: Graph; outputs: Record<string, unknown> }> {
  const run = options.inThisProcess
    ? await evaluateStack(options)
    : await sharedInRunAsync("program", [options.stack, options.override ?? {}, options.stagingPromotedImage ?? null], () =>
        evaluateStack(options),
      );
  return { graph: new Graph(run.registrations), outputs: run.stackOutputs };
}

/** runStack, evaluated in this process whatever other files did: for tests that compare runs of the program. */
export async function evaluateStack(options: ProgramOptions): Promise<ProgramRun> {
  // Loaded only here: Pulumi's runtime and the program cost about a second of CPU to load.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { runProgram } = require("../../tools/check/harness") as typeof import("../../tools/check/harness");
  const { setStackReferenceOutputs } = require("../../tools/check/mocks") as typeof import("../../tools/check/mocks");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const file = readStackFile(path.join(ROOT, `Pulumi.${options.stack}.yaml`));
  const config = { ...file.config };
  for (const [key, value] of Object.entries(options.override ?? {})) {
    if (value === undefined) delete config[key];
    else config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const app = JSON.parse(config["dropstack:app"] ?? "{}") as { image?: string };
  const promotion = JSON.parse(config["dropstack:promotion"] ?? "{}") as { stagingStack?: string };
  if (promotion.stagingStack) {
    setStackReferenceOutputs(promotion.stagingStack, { [PROMOTED_IMAGE_OUTPUT]: options.stagingPromotedImage ?? app.image });
  }
  return runProgram({ stack: options.stack, config, secretKeys: file.secretKeys });
}

/** The committed value of a key, parsed, for building overrides. */
export function committedValue<T = Record<string, unknown>>(stack: "staging" | "production", key: string): T {
  const file = readStackFile(path.join(ROOT, `Pulumi.${stack}.yaml`));
  const text = file.config[key];
  if (text === undefined) throw new Error(`Pulumi.${stack}.yaml has no ${key}`);
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T;
  }
}
