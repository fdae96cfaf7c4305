// The rehearsal (tools/rehearse): the program's droplet side run for real on this machine's
// Docker engine, behind an sshd that serves the host key the program generated. First the
// droplet itself, then the eight scenarios in the order they build on each other; each
// prints its figures. Needs root and docker.io, debootstrap, openssh-server, sudo.
// run-tests: alone (it keeps a Docker engine and a dozen containers busy for minutes; the
// other files' timing-sensitive checks never share the machine with it).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import type { ProgramRun, Registration } from "../../tools/check/harness";
import { dropletAddress } from "../../tools/rehearse/rehearsal";
import { PLAN, ScenarioContext, openRehearsal, printFigures, rehearsalPrerequisites } from "../../tools/rehearse/scenarios";
import { Connection, Route, connectionFrom, runRemote } from "../../tools/rehearse/ssh";

describe("rehearsal of the droplet side (staging)", () => {
  rehearsalPrerequisites();
  let program: ProgramRun;
  let route: Route;
  let ctx: ScenarioContext;
  const command = (name: string): Registration => {
    const found = program.registrations.find((r) => r.type === "command:remote:Command" && r.name.endsWith(name));
    assert.ok(found, `the program declares a remote command named like ${name}`);
    return found;
  };
  const connection = (name: string): Connection => connectionFrom(command(name).inputs.connection);

  before(async () => {
    const opened = await openRehearsal({
      stack: "staging",
      configFile: join(__dirname, "..", "..", "Pulumi.staging.yaml"),
      log: () => undefined,
    });
    ({ program, ...ctx } = opened);
    route = { address: dropletAddress(program), sshPort: ctx.rehearsal.droplet!.sshPort };
  });
  after(async () => ctx?.rehearsal.close());

  it("serves exactly the host key the program pinned, to the deploy user only", async () => {
    const pinned = connection("-ready");
    assert.equal(pinned.hostKey?.trim(), ctx.rehearsal.hostPublicKey);
    const ok = await runRemote(pinned, route, "id -un; id -Gn");
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^deploy\n.*\bdocker\b/);
    const impostor = await runRemote({ ...pinned, hostKey: ctx.rehearsal.operatorPublicKey }, route, "true");
    assert.notEqual(impostor.status, 0);
    assert.match(impostor.stderr, /host key verification failed/i);
    const root = await runRemote({ ...pinned, user: "root" }, route, "true");
    assert.notEqual(root.status, 0, "sshd must refuse root, as the user-data says");
  });

  it("finds every image in the cache on a second build", () => {
    const before = ctx.rehearsal.timings.length;
    const again = ctx.rehearsal.buildImages(["redis"]);
    assert.ok(again.redis);
    const steps = ctx.rehearsal.timings.slice(before);
    assert.deepEqual(
      steps.map((t) => t.step),
      ["debootstrap", "install packages", "import base", "build redis"],
    );
    assert.ok(
      steps.every((t) => t.cached),
      JSON.stringify(steps),
    );
  });

  // Every scenario, in the order they build on each other (the plan's order).
  for (const scenario of PLAN) {
    it(`scenario ${scenario.name}`, async () => {
      const figures = await scenario.run(ctx);
      printFigures(scenario.name, figures, (line) => process.stdout.write(`# ${line}\n`));
    });
  }
});
