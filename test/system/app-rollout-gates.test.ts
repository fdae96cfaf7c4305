// The droplet-side shell of the rollout gates and the image prune, run by bash against the
// docker stand-in (test/system/fake-docker.ts), whose containers and images are files:
// - a replica joins the ingress network (and so gets nginx's traffic) only when healthy;
// - a worker that restarts or stops during its window fails the deploy;
// - after a deploy, old app images go; the running one, the previous one and any image a
//   container uses stay, and other repositories are never touched.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { INGRESS_NETWORK } from "../../components/common/names";
import { renderIngressJoinCommand, renderWorkerStableCommand } from "../../components/app/render";
import { renderPruneImagesCommand } from "../../components/hooks/commands";
import { makeTempDir, requireTools, run } from "../../tools/lib/system";
import { installFakeDocker, type FakeDocker } from "./fake-docker";

const id = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;

function addContainer(docker: FakeDocker, name: string, files: Record<string, string>): string {
  const dir = join(docker.stateDir, "containers", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "id"), `${name}-id\n`);
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  return dir;
}

function addImage(docker: FakeDocker, imageId: string, repositories: string[], locked = false): void {
  writeFileSync(join(docker.stateDir, "images", imageId.replace(":", "_")), repositories.map((r) => `${r}\n`).join(""));
  if (locked) writeFileSync(join(docker.stateDir, "images", `${imageId.replace(":", "_")}.locked`), "");
}

const images = (docker: FakeDocker) =>
  readdirSync(join(docker.stateDir, "images"))
    .filter((f) => !f.endsWith(".locked"))
    .map((f) => f.replace("_", ":"))
    .sort();
const bash = (docker: FakeDocker, script: string) => run(["bash", "-c", script], { env: docker.env });

describe("a replica joins the ingress network only when healthy", () => {
  let docker: FakeDocker;
  before(() => {
    requireTools([{ command: "bash", debianPackage: "bash" }]);
    docker = installFakeDocker(makeTempDir("ingress-join"));
  });

  test("a healthy replica gets the alias on the ingress network", () => {
    const dir = addContainer(docker, "app-api-0-1a2b", { health: "healthy\n", networks: "dropstack\n" });
    const result = bash(docker, renderIngressJoinCommand({ container: "app-api-0-1a2b", network: INGRESS_NETWORK, alias: "api" }));
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(join(dir, "aliases"), "utf8"), `${INGRESS_NETWORK} api\n`);
    const again = bash(docker, renderIngressJoinCommand({ container: "app-api-0-1a2b", network: INGRESS_NETWORK, alias: "api" }));
    assert.equal(again.status, 0, `re-running is harmless: ${again.stderr}`);
    assert.equal(readFileSync(join(dir, "aliases"), "utf8"), `${INGRESS_NETWORK} api\n`, "connected once");
  });

  for (const health of ["unhealthy", "starting", "none"]) {
    test(`a replica whose health is "${health}" never gets the alias, and the command fails`, () => {
      const name = `app-api-1-${health}`;
      const dir = addContainer(docker, name, { ...(health === "none" ? {} : { health: `${health}\n` }), networks: "dropstack\n" });
      const result = bash(docker, renderIngressJoinCommand({ container: name, network: INGRESS_NETWORK, alias: "api" }));
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, new RegExp(`is ${health}, not healthy: it gets no traffic`));
      assert.ok(!existsSync(join(dir, "aliases")));
      assert.ok(!docker.invocations().some((args) => args[0] === "network" && args.includes(name)), "docker network connect never ran");
    });
  }

  test("a container that does not exist fails the command", () => {
    const result = bash(docker, renderIngressJoinCommand({ container: "gone", network: INGRESS_NETWORK, alias: "api" }));
    assert.notEqual(result.status, 0);
  });
});

describe("a worker must keep running through its window", () => {
  let docker: FakeDocker;
  before(() => {
    docker = installFakeDocker(makeTempDir("worker-check"));
  });
  const cases: { name: string; states: string[]; ok: boolean }[] = [
    { name: "steady", states: ["running 0 2026-01-01T00:00:00Z"], ok: true },
    { name: "restarted", states: ["running 0 2026-01-01T00:00:00Z", "running 1 2026-01-01T00:00:03Z"], ok: false },
    { name: "restarting", states: ["restarting 3 2026-01-01T00:00:00Z"], ok: false },
    { name: "exited", states: ["running 0 2026-01-01T00:00:00Z", "exited 0 2026-01-01T00:00:00Z"], ok: false },
    { name: "started-again", states: ["running 0 2026-01-01T00:00:00Z", "running 0 2026-01-01T00:00:05Z"], ok: false },
  ];
  for (const { name, states, ok } of cases) {
    test(`${name}: ${ok ? "passes" : "fails the deploy, with its last logs"}`, () => {
      addContainer(docker, `app-worker-${name}`, {
        states: states.map((s) => `${s}\n`).join(""),
        logs: "ImportError: no module named app.worker\n",
      });
      const result = bash(docker, renderWorkerStableCommand({ container: `app-worker-${name}`, seconds: 1 }));
      assert.equal(result.status === 0, ok, result.stdout + result.stderr);
      if (!ok) assert.match(result.stderr, /crash-looping or stopped[\s\S]*ImportError/);
    });
  }
});

describe("pruning app images after a deploy", () => {
  const REPO = "ghcr.io/acme/api";
  let docker: FakeDocker;
  let history: string;
  before(() => {
    docker = installFakeDocker(makeTempDir("prune"));
    history = join(docker.stateDir, "deployed-images");
  });
  const prune = (current: string) => bash(docker, renderPruneImagesCommand({ repository: REPO, imageId: current, historyFile: history }));

  test("keeps the running and the previous deploy, and what containers use; removes older app images only", () => {
    for (let n = 1; n <= 6; n++) addImage(docker, id(n), [REPO]);
    addImage(docker, id(100), ["redis"]);
    addImage(docker, id(101), ["nginx"]);
    // A stopped container still runs image 2 (e.g. a worker stopped by hand).
    addContainer(docker, "stopped-worker", { image: id(2) });
    writeFileSync(history, [id(1), id(3), id(4)].map((i) => `${i}\n`).join(""));
    const result = prune(id(5));
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(images(docker), [id(2), id(4), id(5), id(100), id(101)].sort(), "removed 1, 3 and 6");
    assert.deepEqual(readFileSync(history, "utf8").trim().split("\n"), [id(1), id(3), id(4), id(5)]);
    assert.match(result.stdout, /kept 3 app image\(s\).*removed 3/);
  });

  test("a second run for the same deploy removes nothing more and records it once", () => {
    const result = prune(id(5));
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(images(docker), [id(2), id(4), id(5), id(100), id(101)].sort());
    assert.equal(
      readFileSync(history, "utf8")
        .trim()
        .split("\n")
        .filter((l) => l === id(5)).length,
      1,
    );
  });

  test("a rollback to the previous image keeps the one it replaced as the new previous", () => {
    const result = prune(id(4));
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(images(docker), [id(2), id(4), id(5), id(100), id(101)].sort());
  });

  test("an image docker refuses to remove is reported and skipped; the deploy still passes", () => {
    addImage(docker, id(7), [REPO], true);
    addImage(docker, id(8), [REPO]);
    const result = prune(id(5));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`could not remove ${id(7)}`));
    assert.ok(images(docker).includes(id(7)));
    assert.ok(!images(docker).includes(id(8)));
  });

  test("the history stays short", () => {
    writeFileSync(history, Array.from({ length: 40 }, (_, n) => `${id(200 + n)}\n`).join(""));
    assert.equal(prune(id(5)).status, 0);
    const lines = readFileSync(history, "utf8").trim().split("\n");
    assert.equal(lines.length, 20);
    assert.equal(lines[lines.length - 1], id(5));
  });
});

test("the rendered gate and prune commands pass shellcheck", () => {
  const { shellcheck } = requireTools([{ command: "shellcheck", debianPackage: "shellcheck" }]);
  const dir = makeTempDir("gates-shellcheck");
  const files = Object.entries({
    join: renderIngressJoinCommand({ container: "app-api-0-1a2b", network: INGRESS_NETWORK, alias: "api" }),
    worker: renderWorkerStableCommand({ container: "app-worker-beat-1a2b" }),
    prune: renderPruneImagesCommand({ repository: "ghcr.io/acme/api", imageId: id(5) }),
  }).map(([name, script]) => {
    const file = join(dir, `${name}.sh`);
    writeFileSync(file, `#!/usr/bin/env bash\n${script}\n`);
    return file;
  });
  const result = run([shellcheck, "--severity=style", ...files]);
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
