// What the Hooks and SmokeTest components register with Pulumi for the committed production
// stack (off-site copies on) with schema assertions and the post-deploy watch configured, as
// the engine receives it under mocks: the scheduled units and stdin carry the off-site copy and
// its Spaces key, every hook command runs without its previous output in the environment, and
// the smoke test and watch sit under their own component type.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { componentType } from "../../components/common/names";
import { type Graph, type Registration, unwrapSecrets } from "../../tools/check/harness";
import { committedValue, runStack } from "../support/program";

const COMMAND = "command:remote:Command";
const app = committedValue<Record<string, unknown>>("production", "dropstack:app");
const VERIFY = { sql: [{ name: "43 tables", query: "SELECT count(*) = 43 FROM information_schema.tables WHERE table_schema = 'app'" }] };
const WATCH = { seconds: 300, max5xxPercent: 0.5, p95LatencyMs: 1500, minRequests: 50 };

describe("Hooks and SmokeTest registrations (production, off-site copies, mocks)", () => {
  let graph: Graph;
  let hooks: Registration;
  let units: Registration[];

  before(async () => {
    ({ graph } = await runStack({
      stack: "production",
      inThisProcess: true,
      override: { "dropstack:app": { ...app, verify: VERIFY, watch: WATCH } },
    }));
    hooks = graph.one(componentType("Hooks"));
    units = graph.ofType(COMMAND).filter((r) => /-schedule-(dump|drill|freshness)-(service|timer)$/.test(r.name));
  });

  it("renders the units for a stack with off-site copies", () => {
    assert.ok(units.length >= 4);
    const text = units.map((u) => String(unwrapSecrets(u.inputs.stdin))).join("\n");
    assert.match(text, /OFFSITE=true/);
    assert.doesNotMatch(text, /OFFSITE=false/);
    assert.match(text, /copied off-site/);
  });

  it("gives the scheduled backup the migrator's URL and the Spaces key on stdin, as the deploy's backup gets them", () => {
    const stdin = unwrapSecrets(graph.one(COMMAND, "-schedule-stdin").inputs.stdin) as string;
    const backup = unwrapSecrets(graph.one(COMMAND, "-backup").inputs.stdin) as string;
    assert.equal(stdin, backup);
    const lines = stdin.split("\n");
    assert.equal(lines.length, 4, "the URL, the key ID, the secret key");
    for (const l of lines.slice(0, 3)) assert.ok(l.length > 0);
  });

  it("runs the schema assertions under the Hooks without their previous output in the environment", () => {
    const verify = graph.one(COMMAND, "-verify");
    assert.equal(verify.parent, hooks.urn);
    assert.equal(verify.inputs.addPreviousOutputInEnv, false);
  });

  it("registers the smoke test and the watch under one component of type dropstack:index:SmokeTest, without previous output in the environment", () => {
    assert.equal(componentType("SmokeTest"), "dropstack:index:SmokeTest");
    const smokeTest = graph.one("dropstack:index:SmokeTest");
    assert.equal(smokeTest.custom, false);
    for (const r of [graph.one(COMMAND, "-smoke"), graph.one(COMMAND, "-watch")]) {
      assert.equal(r.parent, smokeTest.urn, r.name);
      assert.ok(r.urn.includes("::dropstack:index:SmokeTest$"), r.urn);
      assert.equal(r.inputs.addPreviousOutputInEnv, false, r.name);
    }
  });
});
