// The deploy in the whole production program under mocks: backup → migrate → api replicas
// (one at a time) → smoke test, the options that make containers roll safely, and secrets
// that reach the hooks only on stdin.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { HOOK_SCRIPTS } from "../../components/hooks/commands";
import { scriptDigest } from "../../components/hooks";
import { API_ALIAS, INGRESS_NETWORK } from "../../components/common/names";
import { healthcheckTest, imageRepository } from "../../components/app/render";
import { PROMOTED_IMAGE_OUTPUT } from "../../components/promotion";
import type { Graph, Registration } from "../../tools/check/harness";
import { setStackReferenceOutputs } from "../../tools/check/mocks";
import { deployLevels } from "../../tools/check/report";
import { committedValue, runStack } from "../support/program";

const COMMAND = "command:remote:Command";
const COPY = "command:remote:CopyToRemote";
const CONTAINER = "docker:index/container:Container";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const app = committedValue<{
  image: string;
  migrate: string;
  replicas: number;
  workers: { name: string; command: string; singleton?: boolean; healthcheck?: string }[];
}>("production", "dropstack:app");
const promotion = committedValue<{ stagingStack: string }>("production", "dropstack:promotion");

describe("deploy order and hooks (production, mocks)", () => {
  let graph: Graph;
  let outputs: Record<string, unknown>;
  let backup: Registration;
  let migrate: Registration;
  let smoke: Registration;
  let api: Registration[];
  let frontendReplicas: Registration[];
  let workers: Registration[];

  before(async () => {
    // Staging promoted exactly the committed image, so the promotion guard lets it through.
    setStackReferenceOutputs(promotion.stagingStack, { [PROMOTED_IMAGE_OUTPUT]: app.image });
    ({ graph, outputs } = await runStack({ stack: "production" }));
    backup = graph.one(COMMAND, "-backup");
    migrate = graph.one(COMMAND, "-migrate");
    smoke = graph.one(COMMAND, "-smoke");
    const containers = graph.ofType(CONTAINER);
    api = containers.filter((c) => /-api-\d+$/.test(c.name)).sort((a, b) => a.name.localeCompare(b.name));
    frontendReplicas = containers.filter((c) => /-frontend-\d+$/.test(c.name)).sort((a, b) => a.name.localeCompare(b.name));
    assert.ok(frontendReplicas.length > 0, "the production stack runs a frontend");
    workers = containers.filter((c) => c.name.includes("-worker-"));
  });

  it("runs the configured number of api replicas and one container per worker", () => {
    assert.equal(api.length, app.replicas);
    assert.deepEqual(workers.map((w) => w.name.replace(/^.*-worker-/, "")).sort(), app.workers.map((w) => w.name).sort());
  });

  it("orders backup → migrate → api-0 → api-1 → … → smoke, workers after the migration", () => {
    assert.ok(graph.dependsOn(migrate, backup), "migrate waits for the backup");
    assert.ok(!graph.dependsOn(backup, migrate));
    for (const container of [...api, ...workers])
      assert.ok(graph.dependsOn(container, migrate), `${container.name} waits for the migration`);
    api.forEach((replica, i) => {
      if (i > 0) assert.ok(graph.dependsOn(replica, api[i - 1]), `${replica.name} waits for ${api[i - 1].name}`);
      for (const later of api.slice(i + 1)) assert.ok(!graph.dependsOn(replica, later), `${replica.name} must not wait for ${later.name}`);
    });
    for (const container of [...api, ...workers]) assert.ok(graph.dependsOn(smoke, container), `smoke waits for ${container.name}`);
    for (const worker of workers) assert.ok(!graph.dependsOn(worker, api[0]), "workers do not wait for the api rollout");

    const level = new Map(deployLevels(graph).flatMap((lvl, i) => lvl.map((r) => [r.name, i] as const)));
    const sequence = [backup, migrate, ...api, smoke].map((r) => level.get(r.name) as number);
    assert.deepEqual(
      [...sequence].sort((a, b) => a - b),
      sequence,
      "the check's deploy order lists them in this order",
    );
    assert.equal(new Set(sequence).size, sequence.length, "each is its own step");
  });

  it("takes the backup only after the image is pulled, the scripts are copied and the database is in place", () => {
    assert.ok(graph.dependsOn(backup, graph.one(REMOTE_IMAGE, "-app-image")));
    assert.ok(
      graph.dependsOn(backup, graph.one("digitalocean:index/databaseFirewall:DatabaseFirewall")),
      "the database firewall admits the droplet first",
    );
    assert.ok(graph.dependsOn(backup, graph.one(COMMAND, "-ready")));
    for (const copy of graph.ofType(COPY)) assert.ok(graph.dependsOn(backup, copy), `backup waits for ${copy.name}`);
  });

  it("triggers backup and migrate on the image digest and the migrate command only, and replaces them on a trigger change", () => {
    for (const hook of [backup, migrate]) {
      assert.deepEqual(hook.inputs.triggers, [app.image, app.migrate]);
      assert.ok(hook.replaceOnChanges.includes("triggers"), "a trigger change replaces the hook, so its create runs");
      assert.match(String(hook.inputs.update), /^echo "dropstack: (backup|migrate) hook settings changed/);
      assert.equal(hook.inputs.logging, "stdoutAndStderr");
      assert.equal(hook.inputs.addPreviousOutputInEnv, false);
    }
    assert.deepEqual((smoke.inputs.triggers as unknown[]).slice(0, 2), [app.image, app.migrate]);
    assert.deepEqual(
      (smoke.inputs.triggers as unknown[]).slice(2),
      [...api, ...frontendReplicas].map((c) => `${c.name}-id`),
      "a new api or frontend replica means a new smoke test",
    );
  });

  it("reads the first new replica's logs during its health wait, for migrations at start-up, before the smoke test", () => {
    const check = graph.one(COMMAND, "-api-startup");
    const imageId = graph.one(REMOTE_IMAGE, "-app-image").outputs.imageId;
    assert.ok(graph.dependsOn(check, migrate), "starts once the schema is migrated, as replica 0 does");
    assert.ok(!graph.dependsOn(check, api[0]), "runs beside replica 0's health wait, not after it");
    assert.ok(graph.dependsOn(smoke, check));
    assert.deepEqual(check.inputs.triggers, [imageId, [app.image, app.migrate]], "runs for each new image");
    assert.ok(String(check.inputs.create).includes(`--filter ancestor=${String(imageId)} `));
  });

  it("with app.verify.sql unset, runs no schema assertions: the containers wait for the migration itself", () => {
    assert.equal(graph.ofType(COMMAND).filter((c) => c.name.endsWith("-verify")).length, 0);
    for (const container of [...api, ...workers]) assert.ok(graph.directDependencies(container).includes(migrate.urn), container.name);
  });

  it("with app.watch unset, watches nothing: the prune follows the smoke test", () => {
    assert.equal(graph.ofType(COMMAND).filter((c) => c.name.endsWith("-watch")).length, 0);
    assert.ok(graph.directDependencies(graph.one(COMMAND, "-prune-images")).includes(smoke.urn));
  });

  it("with app.smoke unset, smoke-tests the health path only, with no token, no stdin and no extra grant", () => {
    assert.ok(String(smoke.inputs.create).includes("\nCHECKS='GET\tapi.example.com\t/health\t2xx\t0\t'\n"));
    assert.ok(!String(smoke.inputs.create).includes("TOKEN_URL="));
    assert.equal(smoke.inputs.stdin, undefined);
    assert.equal(graph.ofType("auth0:index/clientGrant:ClientGrant").filter((g) => g.name.endsWith("-smoke-grant")).length, 0);
  });

  it("connects with the pinned host key", () => {
    for (const hook of [backup, migrate, smoke]) {
      const connection = hook.inputs.connection as Record<string, unknown>;
      assert.equal(connection.user, "deploy");
      assert.match(String(connection.hostKey), /^ssh-ed25519 /);
    }
  });

  it("copies each hook script, re-copied when its content changes", () => {
    const copies = graph.ofType(COPY);
    assert.equal(copies.length, HOOK_SCRIPTS.length);
    for (const file of HOOK_SCRIPTS) {
      const copy = copies.find((c) => c.inputs.remotePath === `/srv/dropstack/hooks/${file}`);
      assert.ok(copy, `${file} is copied`);
      assert.equal((copy.inputs.triggers as unknown[])[0], scriptDigest(file));
    }
  });

  it("sends secrets on stdin only: no secret value in any other input of a hook or container", () => {
    const secrets = [
      ...graph.ofType("random:index/randomPassword:RandomPassword").map((r) => String(r.outputs.result)),
      ...graph.ofType("digitalocean:index/spacesKey:SpacesKey").map((r) => String(r.outputs.secretKey)),
    ];
    assert.ok(secrets.length >= 4, "the database role and Redis passwords and the Spaces secret are known");
    for (const hook of [backup, migrate]) {
      assert.ok(hook.secretInputs.includes("stdin"), `${hook.name}'s stdin is secret`);
      assert.ok(!hook.secretInputs.includes("create"), `${hook.name}'s command is not secret, so previews show it`);
    }
    const migratorPassword = String(graph.one("random:index/randomPassword:RandomPassword", "-pg-migrator-password").outputs.result);
    assert.ok(String(backup.inputs.stdin).includes(migratorPassword), "the backup connects as the migrator");
    assert.ok(
      String(backup.inputs.stdin).includes(String(graph.one("digitalocean:index/spacesKey:SpacesKey").outputs.secretKey)),
      "the off-site copy gets the Spaces secret",
    );
    for (const r of [...graph.ofType(COMMAND), ...graph.ofType(COPY), ...api, ...workers]) {
      for (const [key, value] of Object.entries(r.inputs)) {
        if (r.secretInputs.includes(key)) continue;
        const text = JSON.stringify(value);
        for (const secret of secrets) assert.ok(!text.includes(secret), `${r.name}.${key} holds a secret in the clear`);
      }
    }
    for (const container of [...api, ...workers])
      assert.ok(container.secretInputs.includes("envs"), `${container.name}'s environment is secret`);
  });

  it("copies the backup off-site when backups.offsite is on", () => {
    const bucket = graph.one("digitalocean:index/spacesBucket:SpacesBucket");
    assert.match(String(backup.inputs.create), /'rclone\/rclone:1\.68\.2'/);
    assert.ok(String(backup.inputs.create).includes(`offsite:${String(bucket.inputs.name)}/postgres/`));
  });

  it("rolls api replicas create-before-replace, health-gated, without the alias until they are healthy", () => {
    const tests = healthcheckTest(8000, "/health");
    const imageId = graph.one(REMOTE_IMAGE, "-app-image").outputs.imageId;
    for (const replica of api) {
      assert.equal(replica.inputs.name, undefined, "no fixed name: the provider auto-names, so old and new can coexist");
      // Set deliberately: left out, the docker provider's replace-first default would stop
      // the old replica before the new one is healthy.
      assert.equal(replica.deleteBeforeReplaceDefined, true, `${replica.name}: deleteBeforeReplace must be set explicitly`);
      assert.equal(replica.deleteBeforeReplace, false, `${replica.name}: create-before-delete`);
      assert.equal(replica.inputs.image, imageId, "the pulled image by ID, which is how the provider reads it back");
      assert.deepEqual(replica.inputs.networksAdvanced, [{ name: "dropstack" }], "on the app network, with no alias nginx resolves");
      assert.equal(replica.inputs.ports, undefined, "nothing published: nginx reaches the alias");
      assert.deepEqual((replica.inputs.healthcheck as { tests: string[] }).tests, tests);
      assert.equal(replica.inputs.wait, true);
      assert.ok(Number(replica.inputs.waitTimeout) >= 60);
      assert.equal(replica.inputs.stopSignal, "SIGTERM");
      assert.ok(Number(replica.inputs.stopTimeout) > 0);
      assert.ok(Number(replica.inputs.destroyGraceSeconds) > Number(replica.inputs.stopTimeout));
      assert.equal(replica.inputs.restart, "unless-stopped");
      assert.deepEqual(replica.inputs.logOpts, { "max-size": "20m", "max-file": "5", labels: "dropstack.role" });
      assert.ok(
        (replica.inputs.labels as { label: string; value: string }[]).some((l) => l.label === "dropstack.role" && l.value === "api"),
      );
    }
  });

  it("gives a replica the api alias, on the network nginx resolves it on, only after the provider saw it healthy", () => {
    const ingress = graph.one("docker:index/network:Network", "-ingress-network");
    assert.equal(ingress.inputs.name, INGRESS_NETWORK);
    assert.equal(ingress.inputs.internal, true);
    const nginx = graph.one(CONTAINER, "-nginx");
    assert.ok(
      (nginx.inputs.networksAdvanced as { name: string }[]).some((n) => n.name === INGRESS_NETWORK),
      "nginx resolves the alias there",
    );
    api.forEach((replica, i) => {
      const join = graph.one(COMMAND, `-api-${i}-ingress`);
      assert.ok(graph.dependsOn(join, replica), `${join.name} runs after ${replica.name} is created, i.e. healthy (wait: true)`);
      assert.ok(!graph.dependsOn(replica, join));
      assert.ok(
        String(join.inputs.create).includes(
          `docker network connect --alias ${API_ALIAS} ${INGRESS_NETWORK} ${String(replica.outputs.name)}`,
        ),
      );
      assert.deepEqual(join.inputs.triggers, [replica.id], "a new container joins anew");
      if (i + 1 < api.length) assert.ok(graph.dependsOn(api[i + 1], join), `${api[i + 1].name} waits until ${replica.name} takes traffic`);
      assert.ok(graph.dependsOn(smoke, join), "the smoke test runs once every replica takes traffic");
    });
  });

  it("stops a singleton worker before its replacement starts; others start next to the old one", () => {
    for (const worker of workers) {
      const config = app.workers.find((w) => worker.name.endsWith(`-worker-${w.name}`));
      assert.ok(config);
      assert.equal(worker.deleteBeforeReplace, config.singleton === true, worker.name);
    }
    assert.ok(
      app.workers.some((w) => w.singleton === true),
      "the committed stack marks Celery beat a singleton",
    );
  });

  it("fails the deploy when a worker crash-loops: a stability check per worker, and its healthcheck when configured", () => {
    for (const worker of workers) {
      const config = app.workers.find((w) => worker.name.endsWith(`-worker-${w.name}`));
      assert.ok(config);
      const check = graph.one(COMMAND, `${worker.name}-check`);
      assert.ok(graph.dependsOn(check, worker));
      assert.ok(graph.dependsOn(smoke, check), "the smoke test (and the image prune after it) waits for every worker check");
      assert.match(String(check.inputs.create), /sleep \d+/);
      if (config.healthcheck) {
        assert.deepEqual((worker.inputs.healthcheck as { tests: string[] }).tests, ["CMD-SHELL", config.healthcheck]);
        assert.equal(worker.inputs.wait, true);
      } else {
        assert.equal(worker.inputs.healthcheck, undefined);
        assert.equal(worker.inputs.wait, undefined);
      }
    }
    assert.ok(
      app.workers.some((w) => w.healthcheck),
      "the committed stack gives the Celery worker a healthcheck",
    );
  });

  it("prunes old app images only after the smoke test passed, keeping the deployed one", () => {
    const prune = graph.one(COMMAND, "-prune-images");
    assert.ok(graph.dependsOn(prune, smoke));
    const imageId = String(graph.one(REMOTE_IMAGE, "-app-image").outputs.imageId);
    assert.ok(String(prune.inputs.create).includes(`current='${imageId}'`));
    assert.ok(String(prune.inputs.create).includes(`docker image ls --no-trunc --quiet '${imageRepository(app.image)}'`));
    assert.deepEqual(prune.inputs.triggers, smoke.inputs.triggers, "runs after every smoke test");
  });

  it("runs each worker's command from the same image, off the api alias", () => {
    const imageId = graph.one(REMOTE_IMAGE, "-app-image").outputs.imageId;
    for (const worker of workers) {
      const config = app.workers.find((w) => worker.name.endsWith(`-worker-${w.name}`));
      assert.ok(config);
      assert.deepEqual(worker.inputs.command, ["sh", "-c", config.command]);
      assert.equal(worker.inputs.image, imageId);
      assert.deepEqual(worker.inputs.networksAdvanced, [{ name: "dropstack" }]);
      assert.equal(worker.deleteBeforeReplaceDefined, true, `${worker.name}: deleteBeforeReplace must be set explicitly`);
      assert.ok(
        (worker.inputs.labels as { label: string; value: string }[]).some((l) => l.label === "dropstack.role" && l.value === "worker"),
      );
    }
  });

  it("pulls the image once, keeping it for a quick code rollback", () => {
    const image = graph.one(REMOTE_IMAGE, "-app-image");
    assert.equal(image.inputs.name, app.image);
    assert.equal(image.inputs.keepLocally, true);
    for (const container of [...api, ...workers]) assert.ok(graph.dependsOn(container, image));
  });

  it("exports the deployed image, and the smoke-tested one as the promotion output", () => {
    assert.equal(outputs.appImage, app.image);
    assert.equal(outputs[PROMOTED_IMAGE_OUTPUT], app.image);
  });
});
