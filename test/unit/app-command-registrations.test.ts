// dropstack:app.command in the whole staging program under mocks: every api replica registers
// it as its command (text through sh -c), while the workers keep their own commands and the
// migration its app.migrate, and nothing else carries it. Without app.command no replica
// registers a command at all (test/unit/app-registrations.test.ts, on the committed stack).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { shellQuote } from "../../components/common/shell";
import type { Graph, Registration } from "../../tools/check/harness";
import { committedValue, runStack } from "../support/program";

const API_COMMAND = "uvicorn backend.app:app --host 0.0.0.0 --port 8000 --workers 4";
const app = committedValue<{ replicas: number; migrate: string; workers: { name: string; command: string }[] }>("staging", "dropstack:app");

describe("app.command (staging, mocks)", () => {
  let graph: Graph;
  let api: Registration[];

  before(async () => {
    ({ graph } = await runStack({ stack: "staging", override: { "dropstack:app": { ...app, command: API_COMMAND } } }));
    api = graph.ofType("docker:index/container:Container").filter((c) => /-api-\d+$/.test(c.name));
  });

  it("runs every api replica with it, through sh -c", () => {
    assert.equal(api.length, app.replicas);
    for (const replica of api) assert.deepEqual(replica.inputs.command, ["sh", "-c", API_COMMAND], replica.name);
  });

  it("leaves each worker its own command", () => {
    assert.ok(app.workers.length > 0, "the committed staging stack has workers");
    for (const worker of app.workers) {
      const container = graph.one("docker:index/container:Container", `-worker-${worker.name}`);
      assert.deepEqual(container.inputs.command, ["sh", "-c", worker.command], worker.name);
    }
  });

  it("leaves the migration its app.migrate", () => {
    const migrate = graph.one("command:remote:Command", "-migrate");
    assert.ok(String(migrate.inputs.create).includes(`\nMIGRATION=${shellQuote(app.migrate)}\n`));
    assert.deepEqual((migrate.inputs.triggers as unknown[]).slice(1), [app.migrate], "a changed app.command does not re-run the migration");
  });

  it("appears in no other resource's inputs", () => {
    for (const r of graph.registrations.filter((r) => !api.includes(r)))
      assert.ok(!JSON.stringify(r.inputs).includes(API_COMMAND), `${r.type} ${r.name} carries app.command`);
  });
});
