// Runs the whole dropstack program under mocks with a committed stack file, optionally
// with some keys changed, and returns the registration graph. One run per test file:
// Pulumi's runtime is process-global.
import * as path from "node:path";
import { Graph, runProgram } from "../../tools/check/harness";
import { setStackReferenceOutputs } from "../../tools/check/mocks";
import { PROMOTED_IMAGE_OUTPUT } from "../../components/promotion/evaluate";
import { readStackFile } from "../../tools/check/stack-file";

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
}

export async function runStack(options: ProgramOptions): Promise<{ graph: Graph; outputs: Record<string, unknown> }> {
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
  const run = await runProgram({ stack: options.stack, config, secretKeys: file.secretKeys });
  return { graph: new Graph(run.registrations), outputs: run.stackOutputs };
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
