// npm run bench:check [-- [--rounds N] [stack]...] — how long `npm run check -- <stack>`
// takes, and where the time goes.
//
// Runs the command exactly as users do (through npm), staging and production alternately,
// N rounds (default 7) after one warm-up run per stack whose figures are printed apart:
// the warm-up is what a fresh clone's first check costs, when the TypeScript cache is
// empty. For each stack it prints the median wall time against the 3 s target, the median
// CPU time of all its processes, and the medians of the phases the check itself records
// (DROPSTACK_CHECK_TIMINGS): start-up (Node, modules), TypeScript compilation, program
// evaluation, waiting for the policy pack, analysis (gRPC) and the report. The pack starts
// in parallel with start-up and evaluation, so its own start-up time is measured apart:
// spawn until it serves, N times. Every run's output must equal the first's: a faster
// check that prints something else is a failure, not a speed-up.
//
// The machine is shared, so wall time is noisy: the load average is printed before and
// after, and CPU time (which load changes far less) beside every wall figure.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError, commandLine, integerOption } from "../cli";
import { startPolicyPack } from "../check/analyzer";
import type { CheckTimings, Phase } from "../check/timings";

const ROOT = join(__dirname, "..", "..");
const TARGET_S = 3;
const COMMAND = {
  usage: "npm run bench:check [-- [--rounds N] [stack]...]",
  help: `
Runs \`npm run check -- <stack>\` as users do, one warm-up and N rounds (default 7) per
stack (default: staging and production), and prints per stack the median wall time against
the ${TARGET_S} s target, the CPU time of all its processes, and where the time goes (start-up,
TypeScript compilation, program evaluation, waiting for the policy pack, analysis, report).
Every run's output must equal the warm-up's. The load average is printed before and after:
on a busy machine wall time measures the queue as much as the check.

  --rounds N   measured runs per stack after the warm-up (default 7)`,
  options: { rounds: { type: "string" } },
  positionals: { min: 0, max: Infinity, name: "stacks" },
} as const;

function parseCli(argv: string[]): { rounds: number; stacks: string[] } {
  return commandLine(argv, COMMAND, (parsed) => {
    const rounds = integerOption(parsed.values.rounds, "rounds", 1, 7);
    for (const stack of parsed.positionals) {
      if (!/^[\w.-]+$/.test(stack)) throw new UsageError(`"${stack}" is not a stack name`);
      if (!existsSync(join(ROOT, `Pulumi.${stack}.yaml`)) || !existsSync(join(ROOT, "policies", `${stack}.json`))) {
        throw new UsageError(`unknown stack "${stack}" (it needs Pulumi.${stack}.yaml and policies/${stack}.json)`);
      }
    }
    return { rounds, stacks: parsed.positionals.length > 0 ? parsed.positionals : ["staging", "production"] };
  });
}

interface Run {
  wall: number;
  /** CPU seconds of every process of the run: npm, the check, the policy pack. */
  cpu: number;
  status: number;
  output: string;
  timings: CheckTimings;
}

// Made once the arguments are valid (--help and usage errors leave nothing behind).
let work = "";

function runCheck(stack: string): Run {
  const timingsFile = join(work, "timings.json");
  rmSync(timingsFile, { force: true });
  // bash's `times` reports the CPU time of the shell's finished children (and theirs).
  const script = `npm run -s check -- "$1" > "$2" 2>&1; status=$?; times; exit $status`;
  const outputFile = join(work, "output.txt");
  const start = performance.now();
  const result = spawnSync("bash", ["-c", script, "bench", stack, outputFile], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, DROPSTACK_CHECK_TIMINGS: timingsFile },
  });
  const wall = (performance.now() - start) / 1000;
  const children = result.stdout.trim().split("\n").at(-1) ?? "";
  const cpu = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
  const output = readFileSync(outputFile, "utf8");
  if (result.status !== 0) throw new Error(`npm run check -- ${stack} exited ${result.status}:\n${output}`);
  return { wall, cpu, status: result.status, output, timings: JSON.parse(readFileSync(timingsFile, "utf8")) as CheckTimings };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

const PHASES: [Phase, string][] = [
  ["load", "start-up (Node, modules, @pulumi/pulumi)"],
  ["evaluation", "program evaluation (mocks)"],
  ["policyWait", "waiting for the policy pack"],
  ["analysis", "policy analysis (gRPC)"],
  ["report", "report"],
];

function describe(runs: Run[]): string[] {
  const m = (pick: (r: Run) => number) => median(runs.map(pick));
  const wall = m((r) => r.wall);
  const processWall = m((r) => r.timings.total.wall);
  const lines = [
    `  wall ${wall.toFixed(2)} s (median of ${runs.length}; min ${Math.min(...runs.map((r) => r.wall)).toFixed(2)}, max ${Math.max(...runs.map((r) => r.wall)).toFixed(2)})` +
      `, CPU ${m((r) => r.cpu).toFixed(2)} s in all processes; target < ${TARGET_S} s: ${wall < TARGET_S ? "met" : "NOT met"}`,
    `  ${"npm and process start".padEnd(44)} ${s(wall * 1000 - processWall).padStart(8)} wall`,
  ];
  for (const [phase, label] of PHASES) {
    lines.push(
      `  ${label.padEnd(44)} ${s(m((r) => r.timings.phases[phase].wall)).padStart(8)} wall ${s(m((r) => r.timings.phases[phase].cpu)).padStart(8)} CPU`,
    );
  }
  lines.push(
    `  ${"  of which TypeScript compilation".padEnd(44)} ${s(m((r) => r.timings.compile.ms)).padStart(8)} (${m((r) => r.timings.compile.files)} files)`,
  );
  return lines;
}

/** Spawn until the pack prints its port, as the check starts it. */
async function packStartup(): Promise<number> {
  const start = performance.now();
  const pack = startPolicyPack(join(ROOT, "policies"));
  try {
    await pack.ready;
    return performance.now() - start;
  } finally {
    await pack.stop();
  }
}

async function main() {
  const { rounds, stacks } = parseCli(process.argv.slice(2));
  work = mkdtempSync(join(tmpdir(), "dropstack-bench-check-"));
  console.log(`bench:check on ${cpus().length} cores; load average before: ${load()}`);
  const warmups = new Map(stacks.map((stack) => [stack, runCheck(stack)]));
  const runs = new Map<string, Run[]>(stacks.map((stack) => [stack, []]));
  for (let round = 0; round < rounds; round++) {
    for (const stack of stacks) {
      const run = runCheck(stack);
      if (run.output !== (warmups.get(stack) as Run).output) {
        throw new Error(`npm run check -- ${stack} printed something else in round ${round + 1}:\n${run.output}`);
      }
      (runs.get(stack) as Run[]).push(run);
    }
  }
  for (const stack of stacks) {
    const warmup = warmups.get(stack) as Run;
    console.log(`\nnpm run check -- ${stack}`);
    console.log(describe(runs.get(stack) as Run[]).join("\n"));
    console.log(
      `  first run (warm-up): ${warmup.wall.toFixed(2)} s wall, ${warmup.cpu.toFixed(2)} s CPU, ${s(warmup.timings.compile.ms)} compiling ${warmup.timings.compile.files} TypeScript files`,
    );
  }
  const startups: number[] = [];
  for (let round = 0; round < rounds; round++) startups.push(await packStartup());
  console.log(
    `\npolicy pack start-up alone (runs in parallel with start-up and evaluation): ${s(median(startups))} wall (median of ${rounds})`,
  );
  console.log(
    `\nload average after: ${load()} on ${cpus().length} cores: with a load above the core count, wall time measures the machine's queue as much as the check`,
  );
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });
