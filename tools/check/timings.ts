// Where one check's time goes, for `npm run bench:check`. When DROPSTACK_CHECK_TIMINGS
// names a file, the check writes its phases there as JSON on exit; otherwise nothing.
import { writeFileSync } from "node:fs";

// Plain JavaScript preloaded before any TypeScript (see the file), so required, not imported.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startup } = require("../fast-start.cjs") as { startup: { compileMs: number; compiled: number } };

export type Phase = "load" | "evaluation" | "policyWait" | "analysis" | "report";

/** Milliseconds of wall-clock time and of this process's CPU time. */
export interface Span {
  wall: number;
  cpu: number;
}

export interface CheckTimings {
  /**
   * load: process start until main() runs (Node, the tool's modules, @pulumi/pulumi);
   * evaluation: the program under mocks; policyWait: waiting for the policy pack after
   * that (0 when it was already serving); analysis: the gRPC calls to the pack;
   * report: --emit files and the report.
   */
  phases: Record<Phase, Span>;
  /** Process start until exit. */
  total: Span;
  /** TypeScript compiled in this process (cache misses; part of load and evaluation). */
  compile: { ms: number; files: number };
}

function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export class Timer {
  private readonly phases: Partial<Record<Phase, Span>> = {};
  // Both clocks start with the process: performance.now() counts from its start.
  private last: Span = { wall: 0, cpu: 0 };

  /** Ends `phase` now; it began where the previous one ended (the first at process start). */
  lap(phase: Phase): void {
    const now = { wall: performance.now(), cpu: cpuNow() };
    this.phases[phase] = { wall: now.wall - this.last.wall, cpu: now.cpu - this.last.cpu };
    this.last = now;
  }

  result(): CheckTimings {
    const none = { wall: 0, cpu: 0 };
    const { load = none, evaluation = none, policyWait = none, analysis = none, report = none } = this.phases;
    return {
      phases: { load, evaluation, policyWait, analysis, report },
      total: { wall: performance.now(), cpu: cpuNow() },
      compile: { ms: startup.compileMs, files: startup.compiled },
    };
  }

  /** Writes the timings when the process exits, if DROPSTACK_CHECK_TIMINGS asks for them. */
  writeOnExit(file = process.env.DROPSTACK_CHECK_TIMINGS): void {
    if (file) process.once("exit", () => writeFileSync(file, JSON.stringify(this.result())));
  }
}
