// When the hooks run: the program is evaluated several times, each in its own process
// (Pulumi's runtime is process-global), and the hooks' inputs compared between runs the way
// the engine diffs a new program against the last deployment.
//   same config         → identical inputs: nothing runs
//   new image digest    → new triggers: backup and migrate are replaced, so they run
//   back to the old one → new triggers again: a code rollback takes a fresh backup first
//   new migrate command → new triggers
//   other config change → same triggers: no backup, no migration
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { committedValue, ROOT, TS_NODE } from "../support/program";

type App = { image: string; migrate: string; env: Record<string, string> } & Record<string, unknown>;
const committed = committedValue<App>("production", "dropstack:app");
const stagingStack = committedValue<{ stagingStack: string }>("production", "dropstack:promotion").stagingStack;
const NEXT_IMAGE = committed.image.replace(/@sha256:.*$/, `@sha256:${"9e".repeat(32)}`);

interface HookInputs {
  triggers: unknown;
  create: unknown;
  stdin: unknown;
  update: unknown;
}
interface Snapshot {
  backup: HookInputs;
  migrate: HookInputs;
  smoke: { triggers: unknown };
  api0: { image: unknown; envs: unknown };
}

// Evaluates the production program with `dropstack:app` replaced, staging having promoted
// that image, and prints what the engine would diff.
const RUNNER = `
import { setStackReferenceOutputs } from ${JSON.stringify(path.join(ROOT, "tools/check/mocks"))};
import { Graph } from ${JSON.stringify(path.join(ROOT, "tools/check/graph"))};
import { evaluateStack } from ${JSON.stringify(path.join(ROOT, "test/support/program"))};
const app = JSON.parse(process.argv[2]);
setStackReferenceOutputs(${JSON.stringify(stagingStack)}, { promotedImage: app.image });
evaluateStack({ stack: "production", override: { "dropstack:app": app } }).then((run) => {
  const graph = new Graph(run.registrations);
  const pick = (r, keys) => Object.fromEntries(keys.map((k) => [k, r.inputs[k]]));
  const hook = (suffix) => pick(graph.one("command:remote:Command", suffix), ["triggers", "create", "stdin", "update"]);
  process.stdout.write(JSON.stringify({
    backup: hook("-backup"), migrate: hook("-migrate"),
    smoke: pick(graph.one("command:remote:Command", "-smoke"), ["triggers"]),
    api0: pick(graph.one("docker:index/container:Container", "-api-0"), ["image", "envs"]),
  }));
});
`;

function evaluate(runner: string, app: App): Promise<Snapshot> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE, runner, JSON.stringify(app)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
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

describe("hook triggers across deploys (production, mocks)", () => {
  const runs: Record<string, Snapshot> = {};

  before(async () => {
    const runner = path.join(mkdtempSync(path.join(tmpdir(), "dropstack-triggers-")), "runner.ts");
    writeFileSync(runner, RUNNER);
    const variants: Record<string, App> = {
      first: committed,
      again: committed,
      nextImage: { ...committed, image: NEXT_IMAGE },
      newMigrate: { ...committed, migrate: "alembic upgrade heads" },
      newEnv: { ...committed, env: { ...committed.env, LOG_LEVEL: "debug" } },
    };
    const results = await Promise.all(Object.values(variants).map((app) => evaluate(runner, app)));
    Object.keys(variants).forEach((key, i) => (runs[key] = results[i]));
  });

  it("re-evaluating the same config gives identical hook inputs, so nothing runs again", () => {
    assert.deepEqual(runs.again.api0, runs.first.api0);
    assert.deepEqual(runs.again.backup, runs.first.backup);
    assert.deepEqual(runs.again.migrate, runs.first.migrate);
    assert.deepEqual(runs.again.smoke, runs.first.smoke);
  });

  it("a new image digest changes the backup and migrate triggers, so both run before the rollout", () => {
    assert.deepEqual(runs.first.backup.triggers, [committed.image, committed.migrate]);
    assert.deepEqual(runs.nextImage.backup.triggers, [NEXT_IMAGE, committed.migrate]);
    assert.deepEqual(runs.nextImage.migrate.triggers, runs.nextImage.backup.triggers);
    assert.notDeepEqual(runs.nextImage.smoke.triggers, runs.first.smoke.triggers);
    assert.notEqual(runs.nextImage.api0.image, runs.first.api0.image, "the replicas run the newly pulled image");
    assert.ok(
      String(runs.nextImage.backup.create).includes(`BACKUP_LABEL=${NEXT_IMAGE}`),
      "the backup is labelled with the image it precedes",
    );
  });

  it("a code rollback (the previous digest again) differs from the deployed state, so it takes a fresh backup first", () => {
    // Deployed state: nextImage. Rolling back evaluates the committed image again.
    assert.notDeepEqual(runs.first.backup.triggers, runs.nextImage.backup.triggers);
    assert.notDeepEqual(runs.first.migrate.triggers, runs.nextImage.migrate.triggers);
  });

  it("a new migrate command re-runs backup and migration", () => {
    assert.deepEqual(runs.newMigrate.backup.triggers, [committed.image, "alembic upgrade heads"]);
    assert.notDeepEqual(runs.newMigrate.migrate.create, runs.first.migrate.create);
  });

  it("other config changes roll the containers but leave the hooks' triggers alone", () => {
    assert.deepEqual(runs.newEnv.backup.triggers, runs.first.backup.triggers);
    assert.deepEqual(runs.newEnv.migrate.triggers, runs.first.migrate.triggers);
    assert.deepEqual(runs.newEnv.backup.create, runs.first.backup.create);
    assert.notDeepEqual(runs.newEnv.api0.envs, runs.first.api0.envs, "the containers get the new environment");
    // The migration's environment is the app's, so its stdin changes; that is a no-op update.
    assert.notDeepEqual(runs.newEnv.migrate.stdin, runs.first.migrate.stdin);
    assert.match(String(runs.newEnv.migrate.update), /^echo /);
  });
});
