// The rehearsal (tools/rehearse): the program's droplet side run for real on this machine's
// Docker engine, behind an sshd that serves the host key the program generated. First the
// droplet itself, then the seven scenarios in the order they build on each other; each
// prints its figures. Needs root and docker.io, debootstrap, openssh-server, sudo.
// run-tests: alone (it keeps a Docker engine and a dozen containers busy for minutes; the
// other files' timing-sensitive checks never share the machine with it).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ProgramRun, Registration } from "../../tools/check/harness";
import { freePort } from "../../tools/rehearse/net";
import { DEFAULT_APP_CONTEXT, Rehearsal, dropletAddress } from "../../tools/rehearse/rehearsal";
import { APP_VERSIONS, PLAN, ScenarioContext, printFigures } from "../../tools/rehearse/scenarios";
import { Connection, Route, connectionFrom, runRemote } from "../../tools/rehearse/ssh";
import { isRoot, requireTools } from "../../tools/lib/system";
import { join } from "node:path";

export const REHEARSAL_TOOLS = [
  { command: "dockerd", debianPackage: "docker.io" },
  { command: "docker", debianPackage: "docker.io" },
  { command: "debootstrap", debianPackage: "debootstrap" },
  { command: "sshd", debianPackage: "openssh-server" },
  { command: "ssh", debianPackage: "openssh-client" },
  { command: "ssh-agent", debianPackage: "openssh-client" },
  { command: "unshare", debianPackage: "util-linux" },
  { command: "nsenter", debianPackage: "util-linux" },
  { command: "sudo", debianPackage: "sudo" },
  { command: "curl", debianPackage: "curl" },
  { command: "openssl", debianPackage: "openssl" },
];

const HELD: string[] = ["first-deploy", "no-op", "failed-backup"];

describe("rehearsal of the droplet side (staging)", () => {
  requireTools(REHEARSAL_TOOLS);
  if (!isRoot) throw new Error("the rehearsal starts dockerd and sshd in a mount namespace: run the tests as root");
  let rehearsal: Rehearsal;
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
    rehearsal = new Rehearsal({ stack: "staging", log: () => undefined });
    program = rehearsal.evaluate();
    const droplet = await rehearsal.startDroplet(program, await freePort());
    route = { address: dropletAddress(program), sshPort: droplet.sshPort };
    await rehearsal.prepare(program, DEFAULT_APP_CONTEXT, [...APP_VERSIONS]);
    ctx = { rehearsal, configFile: join(__dirname, "..", "..", "Pulumi.staging.yaml"), builtInApp: true };
  });
  after(async () => rehearsal?.close());

  it("serves exactly the host key the program pinned, to the deploy user only", async () => {
    const pinned = connection("-ready");
    assert.equal(pinned.hostKey?.trim(), rehearsal.hostPublicKey);
    const ok = await runRemote(pinned, route, "id -un; id -Gn");
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^deploy\n.*\bdocker\b/);
    const impostor = await runRemote({ ...pinned, hostKey: rehearsal.operatorPublicKey }, route, "true");
    assert.notEqual(impostor.status, 0);
    assert.match(impostor.stderr, /host key verification failed/i);
    const root = await runRemote({ ...pinned, user: "root" }, route, "true");
    assert.notEqual(root.status, 0, "sshd must refuse root, as the user-data says");
  });

  it("finds every image in the cache on a second build", () => {
    const before = rehearsal.timings.length;
    const again = rehearsal.buildImages(["redis"]);
    assert.ok(again.redis);
    const steps = rehearsal.timings.slice(before);
    assert.deepEqual(
      steps.map((t) => t.step),
      ["debootstrap", "install packages", "import base", "build redis"],
    );
    assert.ok(
      steps.every((t) => t.cached),
      JSON.stringify(steps),
    );
  });

  // The scenarios this suite holds the program to, in the order they build on each other;
  // the others run with `npm run rehearse` (tools/rehearse/README.md says which and why).
  for (const scenario of PLAN.filter((p) => HELD.includes(p.name))) {
    it(`scenario ${scenario.name}`, async () => {
      const figures = await scenario.run(ctx);
      printFigures(scenario.name, figures, (line) => process.stdout.write(`# ${line}\n`));
    });
  }
});
