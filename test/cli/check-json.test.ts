// `npm run -s check -- <stack> --json` as CI pipes it: the whole document arrives through a
// pipe whose reader is slower than the writer, parses, has the shape of `pulumi preview
// --json`, keeps secrets masked, and the diff guard reads it.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { evaluatePreview, exitCodeFor, parsePreview } from "../../tools/guard/guard";
import { ROOT, TS_NODE } from "../support/program";

interface Step {
  op: string;
  urn: string;
  type: string;
  provider?: string;
  newState: {
    urn: string;
    type: string;
    custom: boolean;
    inputs?: Record<string, unknown>;
    protect: boolean;
    parent?: string;
    provider?: string;
    dependencies?: string[];
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
  };
}

interface Document {
  steps: Step[];
  policyEvents: { resourceUrn?: string; policyName: string; policyPackName: string; enforcementLevel: string; message: string }[];
  changeSummary: Record<string, number>;
  duration: number;
  resources: { urn: string; secretInputs: string[] }[];
  violations: { policy: string; enforcementLevel: string }[];
  summary: { resources: number; mandatory: number; advisory: number };
}

/**
 * Runs the command with a reader that stops reading at the first chunk for a while, so the
 * pipe fills up behind it, as it does behind a slow consumer; then reads to the end.
 */
function runThroughSlowPipe(command: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    let paused = false;
    child.stdout.on("data", (chunk: Buffer) => {
      out.push(chunk);
      if (!paused) {
        paused = true;
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), 1500);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (err += String(chunk)));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout: Buffer.concat(out).toString("utf8"), stderr: err }));
  });
}

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

describe("npm run -s check -- staging --json through a pipe", () => {
  let run: { status: number | null; stdout: string; stderr: string };
  let doc: Document;

  before(async () => {
    run = await runThroughSlowPipe(npm, ["run", "-s", "check", "--", "staging", "--json"]);
  });

  it("exits 0 and prints the whole document, more than a pipe buffer, and nothing else", () => {
    assert.equal(run.status, 0, run.stderr);
    assert.ok(run.stdout.length > 64 * 1024, `only ${run.stdout.length} bytes: too small to show a cut at the pipe buffer`);
    assert.ok(run.stdout.startsWith("{"), `npm's banner or a log line precedes the document: ${run.stdout.slice(0, 80)}`);
    doc = JSON.parse(run.stdout) as Document;
    assert.ok(run.stdout.trimEnd().endsWith("}"));
  });

  it("lists every resource as a create step with its state, like a new stack's first preview", () => {
    assert.equal(doc.steps.length, doc.summary.resources);
    assert.deepEqual(doc.changeSummary, { create: doc.steps.length });
    assert.ok(Number.isInteger(doc.duration) && doc.duration > 0);
    for (const step of doc.steps) {
      assert.equal(step.op, "create");
      assert.equal(step.newState.urn, step.urn);
      assert.equal(step.newState.type, step.type);
      assert.equal(typeof step.newState.protect, "boolean");
      assert.ok(Array.isArray(step.newState.ignoreChanges));
      assert.equal(typeof step.newState.deleteBeforeReplace, "boolean");
      if (step.newState.custom && !step.type.startsWith("pulumi:")) {
        assert.match(
          step.newState.provider ?? "",
          /^urn:pulumi:staging::dropstack::(?:[\w:]+\$)?pulumi:providers:[\w-]+::[\w-]+::.+$/,
          step.urn,
        );
        assert.equal(step.provider, step.newState.provider);
      }
    }
    const stack = doc.steps.find((s) => s.type === "pulumi:pulumi:Stack");
    assert.equal(stack?.newState.parent, undefined);
  });

  it("carries protect, parent, provider, dependencies, deleteBeforeReplace and ignoreChanges from the program", () => {
    const byType = (type: string) => doc.steps.filter((s) => s.type === type);
    const [volume] = byType("digitalocean:index/volume:Volume");
    assert.equal(volume.newState.protect, true);
    assert.match(volume.newState.parent ?? "", /dropstack:index:Host::/);
    const [droplet] = byType("digitalocean:index/droplet:Droplet");
    assert.ok(droplet.newState.ignoreChanges.includes("userData"));
    const [attachment] = byType("digitalocean:index/volumeAttachment:VolumeAttachment");
    assert.equal(attachment.newState.deleteBeforeReplace, true);
    assert.ok(attachment.newState.dependencies?.includes(volume.urn));
    assert.ok(attachment.newState.dependencies?.includes(droplet.urn));
    // The containers run on the Docker provider the program creates over SSH, not a default one.
    const dockerProvider = byType("pulumi:providers:docker")[0];
    for (const container of byType("docker:index/container:Container")) {
      assert.ok(container.newState.provider?.startsWith(`${dockerProvider.urn}::`), container.urn);
    }
    const migrate = doc.steps.find((s) => s.type === "command:remote:Command" && s.urn.endsWith("-migrate"));
    const backup = doc.steps.find((s) => s.type === "command:remote:Command" && s.urn.endsWith("-backup"));
    assert.ok(migrate && backup && migrate.newState.dependencies?.includes(backup.urn), "migrate waits for the backup");
  });

  it('masks every secret input as "[secret]" and prints no secret value', () => {
    const withSecrets = doc.resources.filter((r) => r.secretInputs.length > 0);
    assert.ok(withSecrets.length >= 3);
    for (const resource of withSecrets) {
      const step = doc.steps.find((s) => s.urn === resource.urn);
      for (const key of resource.secretInputs) {
        assert.ok(JSON.stringify(step?.newState.inputs?.[key]).includes('"[secret]"'), `${resource.urn} ${key}`);
      }
    }
    // The mocks' generated passwords and host key are what the secrets hold offline.
    assert.doesNotMatch(run.stdout, /mock-[\w-]*-password|mock-host-key-for-offline-checks-only|mock-admin-password/);
  });

  it("reports the policy violations as the engine's policy events, beside the legacy list", () => {
    assert.equal(doc.policyEvents.length, doc.violations.length);
    assert.equal(doc.policyEvents.length, doc.summary.advisory + doc.summary.mandatory);
    for (const [index, event] of doc.policyEvents.entries()) {
      assert.equal(event.policyName, doc.violations[index].policy);
      assert.equal(event.enforcementLevel, doc.violations[index].enforcementLevel);
      assert.equal(event.policyPackName, "dropstack");
      assert.ok(event.message.length > 0);
    }
  });

  it("is read by the diff guard, in process and on its stdin", () => {
    const report = evaluatePreview(parsePreview(run.stdout, "check.json"));
    assert.deepEqual(report.blocked, []);
    assert.equal(exitCodeFor(report), 0);
    const guard = spawnSync(process.execPath, [...TS_NODE, join("tools", "guard", "main.ts"), "-"], {
      cwd: ROOT,
      input: run.stdout,
      encoding: "utf8",
    });
    assert.equal(guard.status, 0, guard.stderr);
    assert.match(guard.stdout, new RegExp(`<stdin>: steps by op: ${doc.steps.length} create`));
  });
});
