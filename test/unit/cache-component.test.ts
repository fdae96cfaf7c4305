// The Redis container as the production program registers it, with redis settings changed
// from the committed ones so every value is seen to flow from config.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { REDIS_CONF_PATH, redisHealthcheckCommand } from "../../components/cache";
import { validateRedisSettings } from "../../components/cache/render";
import { PROMOTED_IMAGE_OUTPUT } from "../../components/promotion/evaluate";
import type { Graph, Registration } from "../../tools/check/harness";
import { setStackReferenceOutputs } from "../../tools/check/mocks";
import { ROOT, committedValue, runStack } from "../support/program";

const REDIS = { image: "redis:7.2.6-bookworm", maxmemory: "300mb", evictionPolicy: "allkeys-lfu" };

describe("Cache component (production, mocks)", () => {
  let graph: Graph;
  let outputs: Record<string, unknown>;
  let container: Registration;
  let image: Registration;
  let password: string;

  before(async () => {
    // As `npm run check` does offline: staging promoted the committed production image.
    setStackReferenceOutputs(committedValue<{ stagingStack: string }>("production", "dropstack:promotion").stagingStack, {
      [PROMOTED_IMAGE_OUTPUT]: committedValue<{ image: string }>("production", "dropstack:app").image,
    });
    ({ graph, outputs } = await runStack({ inThisProcess: true, stack: "production", override: { "dropstack:redis": REDIS } }));
    container = graph.one("docker:index/container:Container", "-redis");
    image = graph.one("docker:index/remoteImage:RemoteImage", "-redis-image");
    password = String(graph.one("random:index/randomPassword:RandomPassword", "-redis-password").outputs.result);
  });

  it("runs the pinned image from dropstack:redis.image, pulled on the droplet and kept there", () => {
    assert.equal(image.inputs.name, REDIS.image);
    assert.equal(image.inputs.keepLocally, true);
    assert.equal(container.inputs.image, image.outputs.imageId);
    assert.ok(container.propertyDependencies.image?.includes(image.urn), "the container's image comes from the RemoteImage");
    const dockerProvider = graph.one("pulumi:providers:docker", "");
    for (const r of [image, container])
      assert.ok(r.provider?.startsWith(`${dockerProvider.urn}::`), `${r.name} uses the droplet's docker provider`);
  });

  it("publishes no port and joins only the app network, as redis", () => {
    assert.equal(container.inputs.ports, undefined);
    assert.notEqual(container.inputs.publishAllPorts, true);
    assert.equal(container.inputs.networkMode, undefined);
    const appNetwork = graph.one("docker:index/network:Network", "app-network");
    assert.deepEqual(container.inputs.networksAdvanced, [{ name: appNetwork.inputs.name, aliases: ["redis"] }]);
  });

  it("keeps its data on the /srv volume", () => {
    assert.deepEqual(container.inputs.volumes, [{ hostPath: "/srv/redis", containerPath: "/data" }]);
  });

  it("starts redis-server on the uploaded redis.conf, rendered from config with the generated password", () => {
    assert.deepEqual(container.inputs.command, ["redis-server", REDIS_CONF_PATH]);
    const uploads = container.inputs.uploads as { file: string; content: string }[];
    assert.equal(uploads.length, 1);
    assert.equal(uploads[0].file, REDIS_CONF_PATH);
    const conf = uploads[0].content.split("\n");
    assert.ok(conf.includes(`requirepass "${password}"`), "requirepass carries the generated password");
    assert.ok(conf.includes("appendonly yes"));
    assert.ok(conf.includes(`maxmemory ${REDIS.maxmemory}`));
    assert.ok(conf.includes(`maxmemory-policy ${REDIS.evictionPolicy}`));
  });

  it("generates a password that redis.conf accepts verbatim", () => {
    const settings = { password, maxmemory: REDIS.maxmemory, evictionPolicy: REDIS.evictionPolicy, bind: "0.0.0.0" };
    assert.deepEqual(validateRedisSettings(settings), []);
    const generator = graph.one("random:index/randomPassword:RandomPassword", "-redis-password");
    assert.equal(generator.inputs.special, false, "letters and digits only: nothing redis.conf, a URL or a shell would read as syntax");
    assert.ok(Number(generator.inputs.length) >= 32);
  });

  it("keeps the password out of plain inputs and out of docker inspect", () => {
    assert.ok(container.secretInputs.includes("uploads"), "the uploaded redis.conf is a secret");
    for (const key of Object.keys(container.inputs).filter((k) => k !== "uploads")) {
      assert.ok(!JSON.stringify(container.inputs[key]).includes(password), `${key} does not contain the password`);
    }
    assert.equal(container.inputs.envs, undefined);
  });

  it("is health-checked with an authenticated PING, restarts and waits until healthy", () => {
    const healthcheck = container.inputs.healthcheck as { tests: string[]; startPeriod: string };
    assert.deepEqual(healthcheck.tests, redisHealthcheckCommand());
    assert.equal(container.inputs.restart, "unless-stopped");
    assert.equal(container.inputs.wait, true);
    assert.equal(container.inputs.logDriver, "json-file");
    assert.deepEqual(container.inputs.logOpts, { "max-size": "10m", "max-file": "3", labels: "dropstack.role" });
  });

  it("stops the old container before a replacement starts on the same AOF", () => {
    assert.equal(container.deleteBeforeReplace, true);
  });

  it("waits for the provisioned host", () => {
    const ready = graph.one("command:remote:Command", "-ready");
    assert.ok(graph.dependsOn(container, ready));
    assert.ok(graph.dependsOn(image, ready));
  });

  it("carries the label the cache policies look for", () => {
    assert.deepEqual(container.inputs.labels, [{ label: "dropstack.role", value: "cache" }]);
  });

  it("hands the app a secret redis:// URL for the redis alias", async () => {
    assert.equal(outputs.redisUrl, `redis://default:${password}@redis:6379/0`);
    const program = createRequire(__filename)(path.join(ROOT, "index.ts")) as Record<string, pulumi.Output<unknown>>;
    assert.equal(await pulumi.isSecret(program.redisUrl), true);
  });
});
