// What the Hooks component registers with Pulumi for the committed staging stack (off-site
// copies off), as the engine receives it under mocks: the preparing command, the script
// copies, the scheduled backup's files and timers, their inputs (triggers, stdin, whether the
// previous output is fed back), their parent and what each waits for, and the outputs the
// component records in the state. Every Hooks resource is found by the name the program gives it.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { before, describe, it } from "node:test";
import { HOOK_SCRIPTS, backupStdin, DROPLET_PATHS } from "../../components/hooks/commands";
import { SCHEDULE_FILES, UNIT_DIR, renderInstallFileCommand } from "../../components/hooks/schedule";
import { componentType } from "../../components/common/names";
import { type Graph, type Registration, unwrapSecrets } from "../../tools/check/harness";
import { watchRegistrations } from "../support/registration-watch";
import { runStack } from "../support/program";

const COMMAND = "command:remote:Command";
const COPY = "command:remote:CopyToRemote";

describe("Hooks registrations (staging, mocks)", () => {
  let graph: Graph;
  let hooks: Registration;
  let ready: Registration;
  let prepare: Registration;
  let scripts: Registration[];
  let scheduleFiles: Registration[];
  let units: Registration[];
  let timers: Registration;
  let registered: Map<string, number>;
  let componentOutputs: Map<string, unknown>;

  // What a resource waits for inside the component; the connection brings the Host's resources.
  const inHooks = (r: Registration) => r.dependencies.filter((u) => u.includes("dropstack:index:Hooks$")).sort();

  before(async () => {
    ({ registered, componentOutputs } = watchRegistrations());
    ({ graph } = await runStack({ stack: "staging", inThisProcess: true }));
    hooks = graph.one(componentType("Hooks"));
    ready = graph.one(COMMAND, "-ready");
    prepare = graph.one(COMMAND, "-hooks-dirs");
    scripts = graph.ofType(COPY).filter((r) => r.parent === hooks.urn);
    scheduleFiles = graph.ofType(COMMAND).filter((r) => /-schedule-(?!timers$)/.test(r.name));
    units = scheduleFiles.filter((r) => !/-schedule-(dump-script|drill-script|stdin)$/.test(r.name));
    timers = graph.one(COMMAND, "-schedule-timers");
  });

  it("prepares the hook directories once the droplet is ready, again whenever the droplet is replaced", () => {
    assert.equal(prepare.parent, hooks.urn);
    assert.ok(prepare.dependencies.includes(ready.urn));
    assert.deepEqual(prepare.inputs.triggers, [ready.id]);
    assert.equal(prepare.inputs.addPreviousOutputInEnv, false);
  });

  it("copies each hook script under a name without its .sh, after the directories exist", () => {
    assert.deepEqual(scripts.map((s) => s.name.replace(/^.*-hook-/, "")).sort(), HOOK_SCRIPTS.map((f) => f.slice(0, -".sh".length)).sort());
    for (const file of HOOK_SCRIPTS) {
      const copy = scripts.find((s) => s.name.endsWith(`-hook-${file.slice(0, -".sh".length)}`));
      assert.ok(copy, file);
      assert.equal(copy.inputs.remotePath, `${DROPLET_PATHS.hooksDir}/${file}`);
      assert.equal(copy.parent, hooks.urn);
      assert.deepEqual(inHooks(copy), [prepare.urn], `${copy.name} waits for the directories`);
    }
  });

  it("installs the scheduled backup's scripts, stdin and units after the directories, re-installed with a new droplet", () => {
    assert.deepEqual(
      scheduleFiles
        .map((r) => r.name.replace(/^.*-schedule-/, ""))
        .filter((n) => !units.some((u) => u.name.endsWith(`-schedule-${n}`)))
        .sort(),
      ["drill-script", "dump-script", "stdin"],
    );
    assert.ok(units.length >= 4, "the backup, freshness (and drill) units");
    for (const f of scheduleFiles) {
      assert.equal(f.parent, hooks.urn, f.name);
      assert.deepEqual(inHooks(f), [prepare.urn], `${f.name} waits for the directories`);
      assert.deepEqual(f.inputs.triggers, [ready.id], f.name);
      assert.equal(f.inputs.addPreviousOutputInEnv, false, f.name);
    }
    const stdin = graph.one(COMMAND, "-schedule-stdin");
    assert.equal(stdin.inputs.create, renderInstallFileCommand(SCHEDULE_FILES.stdin, "0600"));
  });

  it("installs each unit file under the systemd unit directory, read-only for others", () => {
    for (const u of units) {
      const create = String(u.inputs.create);
      const file = /dropstack-[a-z-]+\.(service|timer)/.exec(create)?.[0];
      assert.ok(file, `${u.name} installs a dropstack unit`);
      assert.equal(u.inputs.create, renderInstallFileCommand(`${UNIT_DIR}/${file}`, "0644"), u.name);
    }
  });

  it("renders the units for a stack without off-site copies", () => {
    const text = units.map((u) => String(unwrapSecrets(u.inputs.stdin))).join("\n");
    assert.match(text, /OFFSITE=false/);
    assert.doesNotMatch(text, /OFFSITE=true/);
    assert.doesNotMatch(text, /copied off-site/);
  });

  it("gives the scheduled backup only the migrator's URL on stdin, without any Spaces key", () => {
    const stdin = graph.one(COMMAND, "-schedule-stdin");
    const backup = graph.one(COMMAND, "-backup");
    const text = unwrapSecrets(stdin.inputs.stdin) as string;
    assert.equal(text, unwrapSecrets(backup.inputs.stdin));
    assert.equal(text.split("\n").length, 2, "one line");
    const url = text.slice(0, -1);
    assert.ok(url.length > 0);
    assert.equal(text, backupStdin({ databaseUrl: url }));
  });

  it("enables the timers after every script and unit is in place, again when a unit changes or the droplet is replaced", () => {
    assert.equal(timers.parent, hooks.urn);
    assert.deepEqual(inHooks(timers), [...scheduleFiles, ...scripts].map((r) => r.urn).sort());
    const triggers = timers.inputs.triggers as string[];
    assert.equal(triggers[0], ready.id);
    assert.deepEqual(
      triggers.slice(1).sort(),
      units
        .map((u) =>
          createHash("sha256")
            .update(String(unwrapSecrets(u.inputs.stdin)))
            .digest("hex"),
        )
        .sort(),
    );
    assert.equal(timers.inputs.addPreviousOutputInEnv, false);
  });

  it("feeds no previous output back to the verify hook", () => {
    const verify = graph.ofType(COMMAND).filter((r) => r.name.endsWith("-verify") && r.parent === hooks.urn);
    for (const v of verify) assert.equal(v.inputs.addPreviousOutputInEnv, false);
  });

  it("records the backup, the migration, the triggers and the timers as the component's outputs", () => {
    const backup = graph.one(COMMAND, "-backup");
    const migrate = graph.one(COMMAND, "-migrate");
    const outputs = componentOutputs.get(hooks.urn) as Record<string, unknown>;
    assert.deepEqual(Object.keys(outputs).sort(), ["backup", "migrate", "timers", "triggers"]);
    assert.equal(outputs.backup, backup.id);
    assert.equal(outputs.migrate, migrate.id);
    assert.equal(outputs.timers, timers.id);
    assert.deepEqual(outputs.triggers, backup.inputs.triggers);
  });

  it("registers each Hooks resource once", () => {
    for (const [key, n] of registered) if (key.includes("-schedule-") || key.includes("-hook")) assert.equal(n, 1, key);
  });
});
