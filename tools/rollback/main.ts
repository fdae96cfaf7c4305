// npm run rollback -- <stack> <up output> [--config-file F] [--dry-run]
// Exit: 0 rolled back, 3 nothing rolled back (no breached watch in the output, or the stack has
// not opted in), 1 the rollback failed, 2 bad arguments or config.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { commandLine } from "../cli";
import { StackFileError, readStackFile } from "../check/stack-file";
import { RollbackError, rollbackImage, rollbackPlan, type RollbackStep } from "./plan";

const COMMAND = {
  usage: "npm run rollback -- <stack> <pulumi up output file, or - for stdin> [--config-file F] [--dry-run]",
  help: `
The code rollback of docs/rollback.md, run by the deploy job when \`pulumi up\` failed: when the
post-deploy watch (dropstack:app.watch) breached its limits and named the previous image, and
the stack has dropstack:app.watch.rollback on, sets dropstack:app.image to that image and runs
\`pulumi up\` with the policy pack, so a fresh backup, the migrate step, the gated rollout and the
smoke test run as in any deploy. A stack with dropstack:promotion gets
dropstack:promotion.allowUnpromoted for that update only; it is set back to false afterwards.

  --config-file F  the stack file (default Pulumi.<stack>.yaml)
  --dry-run        print the commands, run none

Exit: 0 rolled back, 3 nothing rolled back (the update did not fail at the watch, or the stack
has not opted in), 1 the rollback failed, 2 bad arguments or config.`,
  options: {
    "config-file": { type: "string" },
    "dry-run": { type: "boolean" },
  },
  positionals: { min: 2, max: 2, name: "arguments (the stack and the output of pulumi up)" },
} as const;

const EXIT_NOTHING = 3;
const { stack, logFile, configFile, dryRun } = commandLine(process.argv.slice(2), COMMAND, ({ positionals: [stack, logFile], values }) => ({
  stack,
  logFile,
  configFile: values["config-file"] ?? `Pulumi.${stack}.yaml`,
  dryRun: values["dry-run"] === true,
}));

function main(): number {
  const log = readFileSync(logFile === "-" ? 0 : logFile, "utf8");
  const image = rollbackImage(log);
  if (image === undefined) {
    console.log("rollback: none. The update did not fail at the post-deploy watch (no rollback image in its output).");
    return EXIT_NOTHING;
  }
  const plan = rollbackPlan({ stack, file: readStackFile(configFile), image });
  if (!plan) {
    console.log(
      `rollback: none. The post-deploy watch breached and named ${image}, but dropstack:app.watch.rollback is off for ${stack}: docs/rollback.md "Code rollback" has the commands.`,
    );
    return EXIT_NOTHING;
  }
  const describe = (step: RollbackStep) => `pulumi ${step.args.join(" ")}`;
  console.log(`rollback: ${stack} back to ${image} (dropstack:app.watch.rollback)`);
  const all = [...plan.steps, ...plan.always];
  const run = (step: RollbackStep, index: number): boolean => {
    console.log(`[${index + 1}/${all.length}] ${step.what}\n  ${describe(step)}`);
    if (dryRun) return true;
    const result = spawnSync("pulumi", step.args, { stdio: "inherit" });
    if (result.error) console.error(`rollback: cannot run pulumi: ${result.error.message}`);
    return result.status === 0;
  };
  let failed: RollbackStep | undefined;
  plan.steps.forEach((step, i) => {
    if (!failed && !run(step, i)) failed = step;
  });
  // The override must not outlive this update, whether it worked or not.
  const cleanupFailed = plan.always.filter((step, i) => !run(step, plan.steps.length + i));
  for (const step of cleanupFailed) console.error(`rollback: could not ${step.what}: run \`${describe(step)}\` by hand`);
  if (dryRun) return 0;
  if (failed) {
    console.error(`rollback: failed at "${failed.what}" (pulumi's output is above); ${stack} still runs what the failed update left.`);
    return 1;
  }
  console.log(
    `rollback: ${stack} runs ${image} again. Pulumi.${stack}.yaml in this checkout now names it: commit that change, or fix forward, before the next deploy ships the breached image again.`,
  );
  return cleanupFailed.length > 0 ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (error) {
  if (!(error instanceof RollbackError || error instanceof StackFileError || (error as NodeJS.ErrnoException).code === "ENOENT"))
    throw error;
  console.error(`rollback: ${(error as Error).message}`);
  process.exitCode = 2;
}
