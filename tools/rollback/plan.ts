// The code rollback of docs/rollback.md as data: which image a breached post-deploy watch named,
// and the pulumi commands that deploy it again. Pure, so the tests need no pulumi.
import { WATCH_ROLLBACK_MARKER } from "../../components/hooks/commands";
import { rawNamespaceConfig, parseStackConfig, type StackConfig } from "../../components/config/schema";
import { isDigestPinned } from "../../components/common/patterns";
import type { StackFile } from "../check/stack-file";

export class RollbackError extends Error {
  override name = "RollbackError";
}

/**
 * The image reference the watch named for the rollback, from `pulumi up`'s output; undefined
 * when the update did not fail at the watch. Pulumi indents and prefixes a command's output
 * lines, so the marker is found anywhere in a line; the last one counts.
 */
export function rollbackImage(log: string): string | undefined {
  const escaped = WATCH_ROLLBACK_MARKER.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const found = [...log.matchAll(new RegExp(`${escaped} (\\S+)`, "g"))].map((m) => m[1]);
  return found.at(-1);
}

export interface RollbackStep {
  /** What the step does, for the progress lines. */
  what: string;
  /** pulumi's arguments. */
  args: string[];
}

export interface RollbackPlan {
  image: string;
  /** Run in order; the first that fails stops the rest. */
  steps: RollbackStep[];
  /** Run afterwards whatever happened. */
  always: RollbackStep[];
}

/** The stack's config, validated as the program validates it, with app.image replaced by `image`. */
function configWith(file: StackFile, stack: string, image?: string): StackConfig {
  const raw = rawNamespaceConfig(file.config);
  if (image !== undefined) raw.app = { ...(raw.app as Record<string, unknown>), image };
  const result = parseStackConfig(raw, stack);
  if (!result.ok) {
    const what = image === undefined ? `the config of stack ${stack}` : `rolling back to ${image}`;
    throw new RollbackError(`${what} is invalid:\n  ${result.problems.join("\n  ")}`);
  }
  return result.config;
}

/**
 * The runbook's code rollback for `stack` to the image the watch named: set app.image, then
 * `pulumi up` with the policy pack (so the backup, the migrate step, the gated rollout and the
 * smoke test all run again). Production only ships what staging promoted, and staging has
 * promoted the breached image by now: the runbook's emergency override is set for this one
 * update and always set back. Undefined when the stack has not opted in with
 * dropstack:app.watch.rollback. The image is checked by the same rules as dropstack:app.image.
 */
export function rollbackPlan(input: { stack: string; file: StackFile; image: string }): RollbackPlan | undefined {
  const { stack, image } = input;
  const config = configWith(input.file, stack);
  if (!config.app.watch.rollback) return undefined;
  if (image === config.app.image) throw new RollbackError(`${image} is the image the stack already deploys: nothing to roll back to`);
  if (!isDigestPinned(image)) throw new RollbackError(`rolling back to ${image}: not pinned by @sha256 digest, so not the image that ran`);
  configWith(input.file, stack, image);
  const set = (key: string, value: string): string[] => ["config", "set", "--path", `dropstack:${key}`, value, "--stack", stack];
  const overridePromotion = config.promotion.stagingStack !== undefined && !config.promotion.allowUnpromoted;
  return {
    image,
    steps: [
      { what: `set dropstack:app.image to ${image}`, args: set("app.image", image) },
      ...(overridePromotion
        ? [{ what: "allow an image staging did not promote last, for this update only", args: set("promotion.allowUnpromoted", "true") }]
        : []),
      {
        what: "deploy it: backup, migrate, rollout, smoke test",
        args: [
          "up",
          "--stack",
          stack,
          "--yes",
          "--non-interactive",
          "--policy-pack",
          "policies",
          "--policy-pack-config",
          `policies/${stack}.json`,
        ],
      },
    ],
    always: overridePromotion
      ? [{ what: "set dropstack:promotion.allowUnpromoted back to false", args: set("promotion.allowUnpromoted", "false") }]
      : [],
  };
}
