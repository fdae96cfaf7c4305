// dropstack:frontend and HTTP workers under mocks (staging): the frontend replicas roll one at
// a time behind their healthchecks after the api, join the ingress network under the
// frontend alias only once healthy, and nginx routes to them; a worker with a port joins
// under its own alias after its stability check. Without these keys nothing of it exists.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Graph } from "../../tools/check/graph";
import { FRONTEND_MEMORY_MB } from "../../components/frontend";
import { committedValue, runStack } from "../support/program";

const CONTAINER = "docker:index/container:Container";
const COMMAND = "command:remote:Command";
const FRONTEND_IMAGE = `ghcr.io/acme/web:3.1.0@sha256:${"cd".repeat(32)}`;

// One program run per process (Pulumi's runtime is global): two replicas show both the first
// replica's wait and the next one's.
const replicas = 2;
describe(`a frontend with ${replicas} replicas and an HTTP worker`, () => {
  let graph: Graph;
  const hosts = committedValue<{ api: string; app?: string }>("staging", "dropstack:hosts");
  const app = committedValue<{ workers?: unknown[] } & Record<string, unknown>>("staging", "dropstack:app");
  const frontendReplicas = () =>
    graph.ofType(CONTAINER).filter((r) => (r.inputs.labels as { label: string; value: string }[]).some((l) => l.value === "frontend"));
  const replica = (i: number) => graph.one(CONTAINER, `-frontend-${i}`);

  before(async () => {
    ({ graph } = await runStack({
      stack: "staging",
      override: {
        "dropstack:hosts": { ...hosts, app: `www.${hosts.api.split(".").slice(1).join(".")}` },
        "dropstack:frontend": { image: FRONTEND_IMAGE, port: 8080, replicas, healthPath: "/index.html" },
        "dropstack:app": {
          ...app,
          workers: [...(app.workers ?? []), { name: "hooks", command: "serve-hooks", port: 9000, healthcheck: "true" }],
        },
        "dropstack:proxy": { routes: [{ path: "/hooks", service: "worker:hooks", stripPrefix: true }] },
      },
    }));
  });

  it("pulls the frontend image and runs each replica by its image ID, health-gated, limited, never deleted first", () => {
    const image = graph.one("docker:index/remoteImage:RemoteImage", "-frontend-image");
    assert.equal(image.inputs.name, FRONTEND_IMAGE);
    assert.equal(image.inputs.keepLocally, true);
    assert.equal(frontendReplicas().length, replicas);
    for (let i = 0; i < replicas; i++) {
      const r = replica(i);
      assert.equal(r.inputs.image, image.outputs.imageId, r.name);
      assert.equal(r.inputs.wait, true);
      assert.equal(r.inputs.memory, FRONTEND_MEMORY_MB);
      assert.deepEqual(r.inputs.securityOpts, ["no-new-privileges:true"]);
      assert.equal(r.deleteBeforeReplace, false);
      assert.ok(r.deleteBeforeReplaceDefined, `${r.name} sets deleteBeforeReplace: false over the provider's delete-first default`);
      const tests = (r.inputs.healthcheck as { tests: string[] }).tests;
      assert.match(tests[1], /url=http:\/\/127\.0\.0\.1:8080\/index\.html;/);
      assert.ok(!("envs" in r.inputs) || r.inputs.envs === undefined, "the frontend gets none of the app's secrets");
    }
  });

  it("rolls one replica at a time: each waits for the previous one's ingress join, the first for the api rollout", () => {
    const apiReplicas = graph.ofType(CONTAINER).filter((r) => /-api-\d+$/.test(r.name));
    assert.ok(apiReplicas.length > 0);
    for (const api of apiReplicas) assert.ok(graph.dependsOn(replica(0), api), `the first frontend replica waits for ${api.name}`);
    for (let i = 1; i < replicas; i++) {
      assert.ok(graph.directDependencies(replica(i)).includes(graph.one(COMMAND, `-frontend-${i - 1}-ingress`).urn), `replica ${i}`);
    }
  });

  it("joins each healthy replica to the ingress network as frontend, and the HTTP worker as worker-hooks after its check", () => {
    for (let i = 0; i < replicas; i++) {
      const join = graph.one(COMMAND, `-frontend-${i}-ingress`);
      assert.match(String(join.inputs.create), /docker network connect --alias frontend dropstack-ingress /);
      assert.deepEqual(join.inputs.triggers, [replica(i).outputs.id ?? replica(i).id]);
    }
    const workerJoin = graph.one(COMMAND, "-worker-hooks-ingress");
    assert.match(String(workerJoin.inputs.create), /docker network connect --alias worker-hooks dropstack-ingress /);
    assert.ok(graph.directDependencies(workerJoin).includes(graph.one(COMMAND, "-worker-hooks-check").urn));
  });

  it("renders nginx's routes to the frontend and the worker, and the smoke test waits for every frontend replica", () => {
    const conf = String(graph.one(COMMAND, "-nginx-conf").inputs.stdin);
    assert.match(conf, /upstream dropstack_frontend \{\n\s+zone dropstack_frontend 64k;\n\s+server frontend:8080 resolve max_fails=0;/);
    assert.match(
      conf,
      /upstream dropstack_worker_hooks \{\n\s+zone dropstack_worker_hooks 64k;\n\s+server worker-hooks:9000 resolve max_fails=0;/,
    );
    const hooks = conf.slice(conf.indexOf("location ^~ /hooks/ {"));
    assert.ok(hooks.length < conf.length, "a location for /hooks/");
    assert.match(
      hooks.slice(0, hooks.indexOf("\n        }\n")),
      /rewrite \^\/hooks\/\?\(\.\*\)\$ \/\$1 break;\n\s+proxy_pass http:\/\/dropstack_worker_hooks;/,
    );
    const smoke = graph.one(COMMAND, "-smoke");
    for (let i = 0; i < replicas; i++) assert.ok(graph.dependsOn(smoke, replica(i)), `the smoke test waits for frontend ${i}`);
  });
});
