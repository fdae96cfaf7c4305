// The program's inputs must not depend on the machine that runs `pulumi up`. A value read
// from the runner's environment (an agent socket path, a home or temp dir, a job id) changes
// in every CI job; the engine diffs it, and a remote Command without `update` re-runs its
// `create` on any diff (certbot issuance, nginx.conf install, the smoke test…).
// Rule: runs that differ only in the runner's environment register identical inputs and
// options for every resource. Each run is its own process: Pulumi's runtime is global.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { scopedTempDirs } from "../../tools/lib/system";
import { ROOT, TS_NODE } from "../support/program";

const tempDir = scopedTempDirs(after);

// Prints every registration's inputs (secrets unwrapped) and options, keyed by URN.
const RUNNER = `
import { evaluateStack } from ${JSON.stringify(path.join(ROOT, "test/support/program"))};
evaluateStack({ stack: process.argv[2] as "staging" | "production" }).then(({ registrations }) => {
  const out = Object.fromEntries(registrations.map((r) => [r.urn, {
    inputs: r.inputs, secretInputs: r.secretInputs, dependencies: [...r.dependencies].sort(),
    protect: r.protect, deleteBeforeReplace: r.deleteBeforeReplace, ignoreChanges: r.ignoreChanges,
    provider: r.provider, parent: r.parent,
  }]));
  process.stdout.write(JSON.stringify(out));
});
`;

type Snapshot = Record<string, Record<string, unknown>>;

function evaluate(runner: string, stack: string, env: NodeJS.ProcessEnv): Promise<Snapshot> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE, runner, stack], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => {
      if (status !== 0) reject(new Error(`program run failed (${status}): ${stderr}`));
      else resolve(JSON.parse(stdout) as Snapshot);
    });
  });
}

/** What varies between a laptop, one CI job and the next: everything but the program and its config. */
function runnerEnvironment(label: string, base: string): NodeJS.ProcessEnv {
  const home = path.join(base, "home");
  const tmp = path.join(base, "tmp");
  mkdirSync(home, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    TMPDIR: tmp,
    USER: `user-${label}`,
    LOGNAME: `user-${label}`,
    SSH_AUTH_SOCK: path.join(tmp, `ssh-${label}`, "agent.4242"),
    LANG: label === "ci" ? "C.UTF-8" : "en_US.UTF-8",
  };
  if (label === "ci") {
    Object.assign(env, {
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_RUN_ID: "8675309",
      RUNNER_TEMP: tmp,
      GITHUB_WORKSPACE: path.join(base, "ws"),
    });
  }
  if (label === "bare") delete env.SSH_AUTH_SOCK;
  return env;
}

// Production: the larger graph (promotion, Auth0, off-site backups); the code that builds
// connections and providers is the same for both stacks.
const stack = "production";

describe(`inputs do not depend on the runner's environment (${stack}, mocks)`, () => {
  const runs: Record<string, Snapshot> = {};
  const labels = ["laptop", "ci", "bare"];

  before(async () => {
    const dir = tempDir("runner-env");
    const runner = path.join(dir, "runner.ts");
    writeFileSync(runner, RUNNER);
    const results = await Promise.all(labels.map((label) => evaluate(runner, stack, runnerEnvironment(label, path.join(dir, label)))));
    labels.forEach((label, i) => (runs[label] = results[i]));
  });

  it("registers the same resources with identical inputs and options in every environment", () => {
    const reference = runs.laptop;
    assert.ok(Object.keys(reference).length > 20, "the whole program ran");
    for (const label of labels.slice(1)) {
      assert.deepEqual(Object.keys(runs[label]).sort(), Object.keys(reference).sort(), `${label}: same resources`);
      for (const urn of Object.keys(reference)) {
        assert.deepEqual(runs[label][urn], reference[urn], `${label}: ${urn} differs from the laptop run`);
      }
    }
  });

  it("leaves the agent socket to the command provider's own SSH_AUTH_SOCK default", () => {
    for (const [urn, r] of Object.entries(runs.ci)) {
      if (!urn.includes("command:remote:Command")) continue;
      const connection = (r.inputs as Record<string, Record<string, unknown>>).connection;
      assert.equal(connection.agentSocketPath, undefined, `${urn} pins no agent socket`);
    }
  });
});
