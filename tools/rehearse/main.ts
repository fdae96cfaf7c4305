// `npm run rehearse -- <stack> [--config-file F] [--app-context DIR] [--scenario NAME]`
// The droplet side of the program, run for real on this machine's Docker engine (see
// tools/rehearse/README.md): not a `pulumi up`, a rehearsal of what it does on the droplet.
// Exit 0: the scenarios passed; 1: a scenario failed; 2: bad arguments; 3: the rehearsal
// itself could not run (a missing program, a build that failed).
import { existsSync } from "node:fs";
import * as path from "node:path";
import { UsageError, commandLine } from "../cli";
import { DEFAULT_APP_CONTEXT, EvaluationError, Rehearsal } from "./rehearsal";
import { PLAN, SCENARIOS, ScenarioContext, ScenarioFailure, ScenarioName, openRehearsal, printFigures } from "./scenarios";

const ROOT = path.resolve(__dirname, "..", "..");

const SPEC = {
  usage: `npm run rehearse -- <stack> [--config-file <path>] [--app-context <dir>] [--scenario ${SCENARIOS.join("|")}]`,
  help: `
The droplet side of the stack, run for real on this machine: the program is evaluated under
mocks (DigitalOcean and Auth0 stay mocked), then every remote command and Docker resource
it declares is replayed against a local Docker engine behind an sshd that serves the
program's own host key. A rehearsal of the droplet side, not a \`pulumi up\`
(tools/rehearse/README.md). Needs root, docker.io, debootstrap, openssh-server and sudo.

  --config-file <path>   the stack file (default Pulumi.<stack>.yaml)
  --app-context <dir>    build the app from this directory (default test/rehearsal-app)
  --scenario <name>      run this scenario and the ones it needs; default: all of them

Exit 0: the scenarios passed; 1: a scenario failed; 2: bad arguments; 3: the rehearsal
itself could not run (a missing program, a build that failed).`,
  options: { "config-file": { type: "string" }, "app-context": { type: "string" }, scenario: { type: "string" } },
  positionals: { min: 1, max: 1, name: "stack name" },
} as const;

function parseCli(argv: string[]) {
  return commandLine(argv, SPEC, (parsed) => {
    const stack = parsed.positionals[0];
    const configFile = path.resolve(parsed.values["config-file"] ?? path.join(ROOT, `Pulumi.${stack}.yaml`));
    if (!existsSync(configFile)) throw new UsageError(`no stack file ${configFile}`);
    const appContext = path.resolve(parsed.values["app-context"] ?? DEFAULT_APP_CONTEXT);
    if (!existsSync(path.join(appContext, "Dockerfile"))) throw new UsageError(`--app-context ${appContext} has no Dockerfile`);
    const scenario = parsed.values.scenario;
    if (scenario !== undefined && !(SCENARIOS as readonly string[]).includes(scenario))
      throw new UsageError(`unknown scenario "${scenario}"`);
    return { stack, configFile, appContext, scenario: scenario as ScenarioName | undefined };
  });
}

/** Runs the scenarios `wanted` needs, in plan order, printing each one's figures. */
async function runScenarios(ctx: ScenarioContext, scenario?: ScenarioName): Promise<void> {
  const wanted = scenario ? [...PLAN.find((p) => p.name === scenario)!.needs, scenario] : PLAN.map((p) => p.name);
  for (const step of PLAN.filter((p) => wanted.includes(p.name))) {
    const figures = await step.run(ctx);
    // With --scenario, the ones it needs run first; their figures are printed too, marked so.
    printFigures(step.name === scenario || !scenario ? step.name : `${step.name} (needed first)`, figures);
  }
}

async function main(): Promise<number> {
  const args = parseCli(process.argv.slice(2));
  let rehearsal: Rehearsal | undefined;
  // Interrupted: stop the engine and sshd this run started before exiting.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void (rehearsal?.close() ?? Promise.resolve()).finally(() => process.exit(130)));
  }
  try {
    const ctx = await openRehearsal({ ...args, started: (r) => (rehearsal = r) });
    await runScenarios(ctx, args.scenario);
    console.log("rehearse: preparation");
    for (const t of ctx.rehearsal.timings) console.log(`  ${t.step.padEnd(44)} ${t.cached ? "cached" : `${t.seconds.toFixed(1)} s`}`);
    return 0;
  } catch (e) {
    if (e instanceof EvaluationError) {
      console.error(e.message);
      return e.exitCode;
    }
    console.error(e instanceof Error ? e.message : String(e));
    return e instanceof ScenarioFailure ? 1 : 3;
  } finally {
    await rehearsal?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(3);
  },
);
