// What the App component registers with Pulumi for the committed staging stack (two api
// replicas, a worker with a healthcheck and a Celery beat singleton), as the engine receives
// it under mocks: the component's type (part of every app resource's URN, so of the state),
// the parent and provider of each resource, what waits for the droplet, the container and
// network settings, the droplet commands' options and triggers, and the outputs the App
// records in the state. Every resource the App registers is checked, found by the names the
// program gives them.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { CONTAINER_ROLES, INGRESS_NETWORK, ROLE_LABEL, componentType } from "../../components/common/names";
import { type Graph, type Registration } from "../../tools/check/harness";
import { watchRegistrations } from "../support/registration-watch";
import { committedValue, runStack } from "../support/program";

const CONTAINER = "docker:index/container:Container";
const COMMAND = "command:remote:Command";
const app = committedValue<{ replicas: number; command?: unknown; workers: { name: string; command: string }[] }>(
  "staging",
  "dropstack:app",
);

describe("App registrations (staging, mocks)", () => {
  let graph: Graph;
  let component: Registration;
  let dockerProvider: Registration;
  let ready: Registration;
  let api: Registration[];
  let workers: Registration[];
  let commands: Registration[];
  // How many times each type and name was registered: the engine refuses a URN registered twice.
  let registered: Map<string, number>;
  // What each component registered as its outputs (the harness records inputs only).
  let componentOutputs: Map<string, unknown>;

  before(async () => {
    ({ registered, componentOutputs } = watchRegistrations());
    ({ graph } = await runStack({ stack: "staging", inThisProcess: true }));
    assert.ok(Array.isArray(app.command), "the committed staging stack sets app.command as an argv");
    component = graph.one("dropstack:index:App");
    dockerProvider = graph.one("pulumi:providers:docker");
    ready = graph.one(COMMAND, "-ready");
    const containers = graph.ofType(CONTAINER);
    api = containers.filter((c) => /-api-\d+$/.test(c.name)).sort((a, b) => a.name.localeCompare(b.name));
    workers = containers.filter((c) => c.name.includes("-worker-"));
    commands = graph.ofType(COMMAND).filter((c) => /-api-startup$|-api-\d+-ingress$|-worker-.+-check$/.test(c.name));
  });

  it("is one component of type dropstack:index:App, which every app resource's URN carries", () => {
    assert.equal(componentType("App"), "dropstack:index:App");
    assert.equal(component.custom, false);
    for (const r of graph.registrations.filter((r) => r.parent === component.urn))
      assert.ok(r.urn.includes("::dropstack:index:App$"), `${r.name}'s URN is under the App`);
  });

  it("registers the image, the ingress network, each replica and worker on the droplet's docker provider, under the App", () => {
    const onDroplet = [
      graph.one("docker:index/remoteImage:RemoteImage", "-app-image"),
      graph.one("docker:index/network:Network", "-ingress-network"),
      ...api,
      ...workers,
    ];
    assert.equal(api.length, app.replicas);
    assert.equal(workers.length, app.workers.length);
    for (const r of onDroplet) {
      assert.equal(r.parent, component.urn, `${r.name}'s parent`);
      assert.equal(r.provider, `${dockerProvider.urn}::${dockerProvider.id}`, `${r.name}'s provider`);
    }
  });

  it("registers its droplet commands and the Hooks component under the App", () => {
    assert.equal(commands.length, 1 + app.replicas + app.workers.length);
    for (const r of [...commands, graph.one("dropstack:index:Hooks")]) assert.equal(r.parent, component.urn, `${r.name}'s parent`);
  });

  it("pulls the image and creates the ingress network only once the droplet is ready", () => {
    for (const r of [
      graph.one("docker:index/remoteImage:RemoteImage", "-app-image"),
      graph.one("docker:index/network:Network", "-ingress-network"),
    ])
      assert.deepEqual(r.dependencies, [ready.urn], `${r.name} waits for ${ready.name} itself`);
  });

  it("creates the ingress network as an internal bridge network", () => {
    const network = graph.one("docker:index/network:Network", "-ingress-network");
    assert.deepEqual(network.inputs, { name: INGRESS_NETWORK, driver: "bridge", internal: true });
  });

  it("runs every replica and worker under an init process, logging to rotated json files", () => {
    for (const c of [...api, ...workers]) {
      assert.equal(c.inputs.init, true, `${c.name}: init reaps the app's children and forwards SIGTERM`);
      assert.equal(c.inputs.logDriver, "json-file", c.name);
      assert.deepEqual(c.inputs.logOpts, { "max-size": "20m", "max-file": "5", labels: "dropstack.role" }, c.name);
    }
  });

  it("labels each replica with its role and index, and each worker with its role and name", () => {
    api.forEach((replica, i) => {
      assert.deepEqual(replica.inputs.labels, [
        { label: ROLE_LABEL, value: CONTAINER_ROLES.api },
        { label: "dropstack.replica", value: String(i) },
      ]);
    });
    for (const worker of workers) {
      assert.deepEqual(worker.inputs.labels, [
        { label: ROLE_LABEL, value: CONTAINER_ROLES.worker },
        { label: "dropstack.worker", value: worker.name.replace(/^.*-worker-/, "") },
      ]);
    }
  });

  it("registers app.command's argv for the replicas, exactly, and each worker's own command through sh -c", () => {
    for (const replica of api) assert.deepEqual(replica.inputs.command, app.command, replica.name);
    for (const worker of workers) {
      const spec = app.workers.find((w) => worker.name.endsWith(`-worker-${w.name}`));
      assert.deepEqual(worker.inputs.command, ["sh", "-c", spec?.command], worker.name);
    }
  });

  it("runs its droplet commands logging both streams, without their previous output in the environment", () => {
    for (const c of commands) {
      assert.equal(c.inputs.logging, "stdoutAndStderr", c.name);
      assert.equal(c.inputs.addPreviousOutputInEnv, false, c.name);
    }
  });

  it("checks each worker anew whenever its container is replaced", () => {
    for (const worker of workers) assert.deepEqual(graph.one(COMMAND, `${worker.name}-check`).inputs.triggers, [worker.id], worker.name);
  });

  it("records the deployed image, the replicas' and the workers' IDs as the App's outputs, in rollout order", () => {
    assert.deepEqual(componentOutputs.get(component.urn), {
      imageReference: graph.one("docker:index/remoteImage:RemoteImage", "-app-image").outputs.repoDigest,
      api: api.map((c) => c.id),
      workers: app.workers.map((w) => workers.find((c) => c.name.endsWith(`-worker-${w.name}`))?.id),
    });
  });

  it("registers the start-up check once, for the first replica, and every other resource once", () => {
    assert.equal(registered.get(`${COMMAND}::${graph.one(COMMAND, "-api-startup").name}`), 1);
    for (const [name, count] of registered) assert.equal(count, 1, name);
  });
});
