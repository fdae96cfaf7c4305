import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as docker from "@pulumi/docker";
import { isPinnedImage, parseImageReference, redisImagePinned, redisPasswordRequired, redisPortNotPublished } from "../../policies/cache";
import { FakeResource, stackViolations, typeOf } from "../support/policy";

const CONTAINER = typeOf(docker.Container);
const REMOTE_IMAGE = typeOf(docker.RemoteImage);
const CONF = "/usr/local/etc/redis/redis.conf";

/** The Redis container as components/cache registers it, with its image pulled by a RemoteImage. */
function cacheStack(container: Record<string, unknown> = {}, imageName = "redis:7.4.1-alpine"): FakeResource[] {
  return [
    { type: REMOTE_IMAGE, name: "redis-image", props: { name: imageName, keepLocally: true } },
    {
      type: CONTAINER,
      name: "redis",
      dependsOn: ["redis-image"],
      props: {
        image: "sha256:1f2e3d",
        command: ["redis-server", CONF],
        uploads: [{ file: CONF, content: 'bind 0.0.0.0\nrequirepass "s3cretpassw0rdXYZabc"\nappendonly yes\n' }],
        labels: [{ label: "dropstack.role", value: "cache" }],
        networksAdvanced: [{ name: "dropstack", aliases: ["redis"] }],
        ...container,
      },
    },
  ];
}

describe("redis-password-required", () => {
  it("passes the container components/cache builds", async () => {
    assert.deepEqual(await stackViolations(redisPasswordRequired, cacheStack()), []);
  });

  it("passes a container started with --requirepass", async () => {
    const stack = cacheStack({ command: ["redis-server", "--requirepass", "s3cretpassw0rdXYZabc"], uploads: [] });
    assert.deepEqual(await stackViolations(redisPasswordRequired, stack), []);
  });

  it("flags a redis.conf without requirepass", async () => {
    const violations = await stackViolations(
      redisPasswordRequired,
      cacheStack({ uploads: [{ file: CONF, content: "bind 0.0.0.0\nappendonly yes\n" }] }),
    );
    assert.equal(violations.length, 1);
    assert.match(violations[0], /redis starts without a password: upload a redis.conf with requirepass/);
  });

  it("flags a commented-out or empty requirepass", async () => {
    for (const content of ['# requirepass "s3cretpassw0rdXYZabc"\n', 'requirepass ""\n']) {
      assert.equal((await stackViolations(redisPasswordRequired, cacheStack({ uploads: [{ file: CONF, content }] }))).length, 1, content);
    }
  });

  it("flags a conf with requirepass that redis-server is not started with", async () => {
    const violations = await stackViolations(redisPasswordRequired, cacheStack({ command: ["redis-server"] }));
    assert.equal(violations.length, 1);
  });

  it("finds an unlabelled Redis container by the image it pulls", async () => {
    const stack = cacheStack({ labels: [], uploads: [] });
    assert.equal((await stackViolations(redisPasswordRequired, stack)).length, 1);
  });

  it("does not take a container that only waits for the Redis image for Redis", async () => {
    const [redisImage, redis] = cacheStack();
    const app: FakeResource = {
      type: CONTAINER,
      name: "app",
      dependsOn: ["app-image", "redis-image", "redis"],
      props: { image: "sha256:9a8b7c", command: ["gunicorn"] },
    };
    const stack = [redisImage, redis, { type: REMOTE_IMAGE, name: "app-image", props: { name: "ghcr.io/acme/api:2.4.0" } }, app];
    for (const policy of [redisPasswordRequired, redisPortNotPublished, redisImagePinned])
      assert.deepEqual(await stackViolations(policy, stack), [], policy.name);
  });

  it("leaves other containers alone", async () => {
    const app: FakeResource = {
      type: CONTAINER,
      name: "app",
      props: { image: "ghcr.io/acme/api:2.4.0", command: ["gunicorn"], ports: [{ internal: 8000, external: 8000 }] },
    };
    assert.deepEqual(await stackViolations(redisPasswordRequired, [app]), []);
    assert.deepEqual(await stackViolations(redisPortNotPublished, [app]), []);
    assert.deepEqual(await stackViolations(redisImagePinned, [app]), []);
  });
});

describe("redis-port-not-published", () => {
  it("passes a container only on the docker network", async () => {
    assert.deepEqual(await stackViolations(redisPortNotPublished, cacheStack()), []);
  });

  it("flags a published port, publishAllPorts and the host network", async () => {
    const ports = await stackViolations(redisPortNotPublished, cacheStack({ ports: [{ internal: 6379, external: 6379 }] }));
    assert.equal(ports.length, 1);
    assert.match(ports[0], /publishes ports 6379->6379: remove `ports`/);
    assert.equal((await stackViolations(redisPortNotPublished, cacheStack({ publishAllPorts: true }))).length, 1);
    assert.match((await stackViolations(redisPortNotPublished, cacheStack({ networkMode: "host" })))[0], /host network/);
  });
});

describe("redis-image-pinned", () => {
  it("passes an exact version tag and a digest", async () => {
    assert.deepEqual(await stackViolations(redisImagePinned, cacheStack()), []);
    assert.deepEqual(await stackViolations(redisImagePinned, cacheStack({}, `redis@sha256:${"ab".repeat(32)}`)), []);
  });

  it("flags latest, a bare major and a missing tag, naming the config key", async () => {
    for (const image of ["redis:latest", "redis:7", "redis:7.4", "redis", "redis:alpine"]) {
      const violations = await stackViolations(redisImagePinned, cacheStack({}, image));
      assert.equal(violations.length, 1, image);
      assert.match(violations[0], /set dropstack:redis\.image to an exact version/);
    }
  });

  it("checks an image the container names itself", async () => {
    const [, container] = cacheStack({ image: "redis:7" });
    assert.equal((await stackViolations(redisImagePinned, [{ ...container, dependsOn: [] }])).length, 1);
  });

  it("flags a labelled cache container whose image cannot be told", async () => {
    const [, container] = cacheStack();
    assert.match((await stackViolations(redisImagePinned, [{ ...container, dependsOn: [] }]))[0], /cannot tell which image/);
  });
});

describe("cache policies during a preview", () => {
  // The pack's analyzer wraps properties in a proxy that throws on values unknown until the
  // update; an app container's image ID is one of them on every deploy of a new image.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const proxy = require("@pulumi/policy/proxy") as { unknownCheckingProxy<T>(v: T): T; unknownStringValue: string };

  it("still checks Redis when other containers' images are unknown", async () => {
    const app: FakeResource = {
      type: CONTAINER,
      name: "app",
      props: proxy.unknownCheckingProxy({ image: proxy.unknownStringValue, command: ["gunicorn"] }),
    };
    const [image, redis] = cacheStack({}, "redis:7");
    const stack = [app, image, { ...redis, props: proxy.unknownCheckingProxy({ ...redis.props, image: proxy.unknownStringValue }) }];
    const violations = await stackViolations(redisImagePinned, stack);
    assert.equal(violations.length, 1);
    assert.match(violations[0], /Redis image "redis:7"/);
  });
});

describe("image references", () => {
  it("splits registry, repository, tag and digest", () => {
    assert.deepEqual(parseImageReference("redis:7.4.1-alpine"), { repository: "redis", tag: "7.4.1-alpine" });
    assert.deepEqual(parseImageReference("docker.io/library/redis:7.4.1"), { repository: "redis", tag: "7.4.1" });
    assert.deepEqual(parseImageReference("registry.example.com:5000/team/redis"), { repository: "team/redis" });
    assert.deepEqual(parseImageReference(`redis:7.4.1@sha256:${"0".repeat(64)}`), {
      repository: "redis",
      tag: "7.4.1",
      digest: `sha256:${"0".repeat(64)}`,
    });
    assert.equal(parseImageReference("sha256:1f2e3d"), undefined);
    assert.equal(parseImageReference(""), undefined, "an empty reference names no repository");
  });

  it("counts only exact releases and digests as pinned", () => {
    for (const pinned of [
      "redis:7.4.1-alpine",
      "redis:7.4.1",
      "redis:7.4.1-alpine3.20",
      "localhost:5000/redis:v7.4.1",
      `redis@sha256:${"a".repeat(64)}`,
    ]) {
      assert.equal(isPinnedImage(pinned), true, pinned);
    }
    for (const moving of [
      "redis",
      "redis:latest",
      "redis:7",
      "redis:7.4",
      "redis:7-alpine",
      "redis:alpine",
      "redis@sha256:abc",
      "registry:5000/redis",
    ]) {
      assert.equal(isPinnedImage(moving), false, moving);
    }
  });
});
