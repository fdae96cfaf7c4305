// npm run bench:rollout [-- [stack] [--requests N]] — how many requests a dropstack rollout
// loses, measured on the rehearsal (tools/rehearse/README.md), not on a model of it.
//
// The stack's droplet side runs for real on this machine's Docker engine: the first deploy
// (v1 of the rehearsal's app, nginx with a certificate from the local ACME server), then
// v2 is rolled out by a second apply while a keep-alive HTTPS client loads the health path
// through nginx's published 443 (the path nginx proxies to the app without the per-client
// rate limit). After the rollout every replica is restarted at once under the same load,
// as a naive `docker restart` deploy would, for contrast.
//
// The figures are printed, never enforced. Target: 0 failed of at least 5,000 requests for
// the dropstack rollout. The load average is printed before and after: on a busy machine the
// latencies measure the queue as much as the rollout. Needs what the rehearsal needs (root,
// docker.io, debootstrap, openssh-server, sudo); a first run builds the images (about 12
// minutes), later runs find them in the cache.
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { UsageError, commandLine, integerOption } from "../cli";
import { type LoadReport, percentile } from "../rehearse/load";
import { firstDeploy, measureRollout, openRehearsal } from "../rehearse/scenarios";
import type { Rehearsal } from "../rehearse/rehearsal";

const ROOT = resolve(__dirname, "..", "..");
const TARGET_REQUESTS = 5000;

const COMMAND = {
  usage: "npm run bench:rollout [-- [stack] [--requests N]]",
  help: `
Runs the stack's droplet side on this machine's Docker engine (the rehearsal), deploys v1
of the rehearsal's app, then rolls out v2 under steady HTTPS load through nginx until at
least N requests (default ${TARGET_REQUESTS}) were answered, then restarts every replica at once
under the same load for contrast. Prints requests, failures, latencies (p50, p99, slowest)
and which version answered, for both. Figures are printed, never enforced; target: 0 failed
of at least ${TARGET_REQUESTS} for the rollout. Needs root and the rehearsal's Debian packages.

  stack          the stack whose config is rehearsed (default staging)
  --requests N   answered requests to wait for before the rollout's load stops (default ${TARGET_REQUESTS})`,
  options: { requests: { type: "string" } },
  positionals: { min: 0, max: 1, name: "stack" },
} as const;

function parseCli(argv: string[]): { stack: string; requests: number } {
  return commandLine(argv, COMMAND, (parsed) => {
    const stack = parsed.positionals[0] ?? "staging";
    if (!/^[\w.-]+$/.test(stack) || !existsSync(join(ROOT, `Pulumi.${stack}.yaml`))) {
      throw new UsageError(`unknown stack "${stack}" (it needs Pulumi.${stack}.yaml)`);
    }
    return { stack, requests: integerOption(parsed.values.requests, "requests", 200, TARGET_REQUESTS) };
  });
}

function load(): string {
  return `${loadavg()
    .map((n) => n.toFixed(1))
    .join(" ")} on ${cpus().length} cores`;
}

function row(name: string, report: LoadReport): string {
  const versions =
    Object.entries(report.versions)
      .map(([v, n]) => `${v}=${n}`)
      .join(" ") || "-";
  return [
    name.padEnd(16),
    String(report.requests).padStart(8),
    String(report.failed).padStart(7),
    String(percentile(report.latenciesMs, 50)).padStart(7),
    String(percentile(report.latenciesMs, 99)).padStart(7),
    String(report.slowestMs).padStart(8),
    String(report.slowerThan1s).padStart(6),
    `   ${versions}`,
  ].join(" ");
}

async function main(): Promise<number> {
  const args = parseCli(process.argv.slice(2));
  let rehearsal: Rehearsal | undefined;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void (rehearsal?.close() ?? Promise.resolve()).finally(() => process.exit(130)));
  }
  console.log(`bench:rollout on the rehearsal of ${args.stack}; load average before: ${load()}`);
  try {
    const ctx = await openRehearsal({
      stack: args.stack,
      configFile: join(ROOT, `Pulumi.${args.stack}.yaml`),
      log: () => undefined,
      started: (r) => (rehearsal = r),
    });
    const first = await firstDeploy(ctx);
    console.log(`first deploy (v1): ${String(first.created)} resources created in ${String(first.seconds)} s`);
    const measured = await measureRollout(ctx, args.requests);
    const steps = measured.result.steps;
    console.log(
      `rollout to v2: ${steps.filter((s) => s.op === "replace").length} resources replaced, ${
        steps.filter((s) => s.op === "same").length
      } unchanged, in ${measured.result.seconds.toFixed(0)} s\n`,
    );
    console.log("                 requests  failed p50 ms p99 ms  max ms  >1 s   answered by");
    console.log(row("dropstack", measured.rollout));
    console.log(row("naive restart", measured.naiveRestart));
    for (const [name, report] of [
      ["dropstack", measured.rollout],
      ["naive restart", measured.naiveRestart],
    ] as const) {
      if (report.failures.length > 0) console.log(`  ${name}, first failures: ${report.failures.slice(0, 3).join("; ")}`);
    }
    const met = measured.rollout.failed === 0 && measured.rollout.requests >= TARGET_REQUESTS;
    console.log(
      `\ntarget (dropstack rollout: 0 failed of >= ${TARGET_REQUESTS}): ${met ? "met" : "missed"}: ${measured.rollout.failed} failed of ${measured.rollout.requests}`,
    );
    console.log(`load average after: ${load()}`);
    return 0;
  } finally {
    await rehearsal?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
