// Deploy policies called directly, each with a violating and a compliant stack or resource.
import { describe, it } from "node:test";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import assert from "node:assert/strict";
import { APP_IMAGE_SUFFIX, HOOK_SUFFIX, ROLE_LABEL } from "../../components/common/names";
import {
  HOST_LEVEL_CAPABILITIES,
  appHealthchecked,
  appImagePinned,
  containerIsolated,
  deployHooksOrdered,
  exposesDockerSocket,
} from "../../policies/deploy";
import { FakeResource, resourceViolations, stackViolations, typeOf } from "../support/policy";

const COMMAND = typeOf(command.remote.Command);
const CONTAINER = typeOf(docker.Container);
const REMOTE_IMAGE = typeOf(docker.RemoteImage);
const PINNED = `ghcr.io/acme/api:2.4.0@sha256:${"ab".repeat(32)}`;
const IMAGE_ID = `sha256:${"cd".repeat(32)}`;
const role = (value: string) => [{ label: "dropstack.role", value }];

/** backup → migrate → api-0 → api-1, worker after migrate: what components/app builds. */
function deployStack(overrides: Partial<Record<string, Partial<FakeResource>>> = {}): FakeResource[] {
  const base: FakeResource[] = [
    { type: REMOTE_IMAGE, name: "prod-app-image", props: { name: PINNED } },
    { type: COMMAND, name: "prod-backup", props: {}, dependsOn: ["prod-app-image"] },
    { type: COMMAND, name: "prod-migrate", props: {}, dependsOn: ["prod-backup"] },
    { type: CONTAINER, name: "prod-api-0", props: { image: IMAGE_ID, labels: role("api") }, dependsOn: ["prod-migrate", "prod-app-image"] },
    {
      type: CONTAINER,
      name: "prod-api-1",
      props: { image: IMAGE_ID, labels: role("api") },
      dependsOn: ["prod-migrate", "prod-app-image", "prod-api-0"],
    },
    {
      type: CONTAINER,
      name: "prod-worker-beat",
      props: { image: PINNED, labels: role("worker") },
      dependsOn: ["prod-migrate", "prod-app-image"],
    },
    { type: REMOTE_IMAGE, name: "prod-redis-image", props: { name: "redis:7.4.1-alpine" } },
    { type: CONTAINER, name: "prod-redis", props: { image: "sha256:0123", labels: role("cache") }, dependsOn: ["prod-redis-image"] },
  ];
  return base.map((r) => ({ ...r, ...(overrides[r.name as string] ?? {}) }));
}

describe("the markers the policy pack finds resources by", () => {
  it("are the documented names (docs/design.md): hook suffixes, the role label, the app image suffix", () => {
    assert.deepEqual(HOOK_SUFFIX, { backup: "-backup", migrate: "-migrate", verify: "-verify", smoke: "-smoke", watch: "-watch" });
    assert.equal(ROLE_LABEL, "dropstack.role");
    assert.equal(APP_IMAGE_SUFFIX, "-app-image");
  });
});

describe("deploy-hooks-ordered", () => {
  it("passes backup → migrate → app containers, including through a chained replica", async () => {
    assert.deepEqual(await stackViolations(deployHooksOrdered, deployStack()), []);
  });

  it("passes when the wait goes through a component parent", async () => {
    const stack: FakeResource[] = [
      { type: "dropstack:index:Hooks", name: "prod-hooks", props: {} },
      { type: COMMAND, name: "prod-backup", props: {}, parent: "prod-hooks" },
      { type: COMMAND, name: "prod-migrate", props: {}, parent: "prod-hooks", dependsOn: ["prod-backup"] },
      { type: CONTAINER, name: "prod-api-0", props: { image: PINNED, labels: role("api") }, dependsOn: ["prod-hooks"] },
    ];
    assert.deepEqual(await stackViolations(deployHooksOrdered, stack), []);
  });

  it("flags a migration that does not wait for a backup", async () => {
    const violations = await stackViolations(deployHooksOrdered, deployStack({ "prod-migrate": { dependsOn: [] } }));
    assert.equal(violations.length, 1);
    assert.match(violations[0], /migrate Command prod-migrate does not wait for a backup Command/);
  });

  it("flags every app container that does not wait for a migration, and ignores other containers", async () => {
    const violations = await stackViolations(
      deployHooksOrdered,
      deployStack({
        "prod-api-0": { dependsOn: ["prod-app-image"] },
        "prod-api-1": { dependsOn: ["prod-app-image"] },
        "prod-worker-beat": { dependsOn: ["prod-backup"] },
      }),
    );
    assert.equal(violations.length, 3);
    assert.ok(violations.some((v) => /api container prod-api-1 does not wait for a migrate Command/.test(v)));
    assert.ok(violations.some((v) => /worker container prod-worker-beat/.test(v)));
  });

  it("flags app containers when there is no migrate Command at all", async () => {
    const stack = deployStack().filter((r) => r.name !== "prod-migrate");
    assert.equal((await stackViolations(deployHooksOrdered, stack)).length, 3);
  });
});

describe("app-image-pinned", () => {
  it("passes containers running the image by ID or digest, pulled by digest; the cache's tag is not its concern", async () => {
    assert.deepEqual(await stackViolations(appImagePinned, deployStack()), []);
  });

  it("looks only at the app's image even when app containers also wait for other pulls", async () => {
    const stack = deployStack({ "prod-api-0": { dependsOn: ["prod-migrate", "prod-app-image", "prod-redis-image"] } });
    assert.deepEqual(await stackViolations(appImagePinned, stack), []);
  });

  it("flags the pulled image once when config names a tag", async () => {
    const violations = await stackViolations(
      appImagePinned,
      deployStack({ "prod-app-image": { props: { name: "ghcr.io/acme/api:latest" } } }),
    );
    assert.equal(violations.length, 1);
    assert.match(violations[0], /"ghcr\.io\/acme\/api:latest" can change under the same name: set dropstack:app\.image/);
  });

  it("flags a container running an unpinned reference", async () => {
    const violations = await stackViolations(
      appImagePinned,
      deployStack({ "prod-worker-beat": { props: { image: "ghcr.io/acme/api:2.4.0", labels: role("worker") } } }),
    );
    assert.equal(violations.length, 1);
    assert.match(violations[0], /worker container prod-worker-beat runs "ghcr\.io\/acme\/api:2\.4\.0", which is not pinned by digest/);
  });
});

describe("app-healthchecked", () => {
  const api = (props: Record<string, unknown>): FakeResource => ({
    type: CONTAINER,
    name: "prod-api-0",
    props: { labels: role("api"), ...props },
  });
  const healthcheck = { tests: ["CMD-SHELL", "curl -fsS http://127.0.0.1:8000/health"], interval: "5s" };

  it("passes an api container with a healthcheck it waits for", async () => {
    assert.deepEqual(await resourceViolations(appHealthchecked, api({ healthcheck, wait: true })), []);
  });

  it("flags an api container without a healthcheck, or with NONE", async () => {
    assert.match((await resourceViolations(appHealthchecked, api({ wait: true })))[0], /has no healthcheck/);
    assert.match(
      (await resourceViolations(appHealthchecked, api({ wait: true, healthcheck: { tests: ["NONE"] } })))[0],
      /has no healthcheck/,
    );
  });

  it("flags an api container that does not wait to turn healthy", async () => {
    assert.match((await resourceViolations(appHealthchecked, api({ healthcheck })))[0], /set wait: true/);
  });

  it("leaves workers and other containers alone", async () => {
    assert.deepEqual(await resourceViolations(appHealthchecked, { type: CONTAINER, name: "w", props: { labels: role("worker") } }), []);
    assert.deepEqual(await resourceViolations(appHealthchecked, { type: CONTAINER, name: "n", props: {} }), []);
  });
});

describe("container-isolated", () => {
  const container = (props: Record<string, unknown>): FakeResource => ({
    type: CONTAINER,
    name: "c",
    props: { image: "nginx:1.27.3", securityOpts: ["no-new-privileges:true"], ...props },
  });

  it("passes a container on the private network with ordinary mounts", async () => {
    const props = {
      securityOpts: ["no-new-privileges:true"],
      capabilities: { drops: ["ALL"], adds: ["CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE", "DAC_OVERRIDE"] },
      networksAdvanced: [{ name: "dropstack" }],
      volumes: [{ hostPath: "/srv/redis", containerPath: "/data" }],
      mounts: [{ type: "bind", source: "/srv/proxy/certs", target: "/etc/letsencrypt" }],
    };
    assert.deepEqual(await resourceViolations(containerIsolated, container(props)), []);
  });

  it("flags a container that can gain privileges, whatever else its securityOpts say", async () => {
    for (const securityOpts of [undefined, [], ["no-new-privileges:false"], ["seccomp=default.json"], ["no-new-privileges-x"]]) {
      const found = await resourceViolations(containerIsolated, container({ securityOpts }));
      assert.equal(found.length, 1, JSON.stringify(securityOpts));
      assert.match(found[0], /can gain privileges through setuid binaries: add securityOpts: \["no-new-privileges:true"\]/);
    }
    for (const option of ["no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"])
      assert.deepEqual(await resourceViolations(containerIsolated, container({ securityOpts: [option] })), [], option);
  });

  it("flags seccomp or AppArmor switched off and SELinux labels disabled", async () => {
    for (const option of [
      "seccomp=unconfined",
      "seccomp:unconfined",
      "apparmor=unconfined",
      "APPARMOR:unconfined",
      "label=disable",
      "label:disable",
    ]) {
      const found = await resourceViolations(containerIsolated, container({ securityOpts: ["no-new-privileges:true", option] }));
      assert.deepEqual(found.length, 1, option);
      assert.match(found[0], new RegExp(`turns off a kernel confinement with securityOpts "${option}"`));
    }
  });

  it("flags each host-level capability however it is spelled, and only those", async () => {
    for (const capability of HOST_LEVEL_CAPABILITIES)
      for (const spelled of [capability, `CAP_${capability}`, capability.toLowerCase()]) {
        const found = await resourceViolations(containerIsolated, container({ capabilities: { adds: ["CHOWN", spelled] } }));
        assert.equal(found.length, 1, spelled);
        assert.match(found[0], new RegExp(`adds the capability ${capability}, which amounts to root`));
      }
    for (const spelled of ["CHOWN", "NET_BIND_SERVICE", "SETUID", "KILL"])
      assert.deepEqual(await resourceViolations(containerIsolated, container({ capabilities: { adds: [spelled], drops: ["ALL"] } })), []);
  });

  it("flags the host's process, IPC or user namespace", async () => {
    for (const key of ["pidMode", "ipcMode", "usernsMode"]) {
      const found = await resourceViolations(containerIsolated, container({ [key]: "host" }));
      assert.equal(found.length, 1, key);
      assert.match(found[0], new RegExp(`shares the host's namespace through ${key}: "host"`));
      assert.deepEqual(await resourceViolations(containerIsolated, container({ [key]: key === "ipcMode" ? "private" : "" })), [], key);
    }
  });

  it("flags a privileged container", async () => {
    assert.match((await resourceViolations(containerIsolated, container({ privileged: true })))[0], /is privileged/);
  });

  it("flags host networking", async () => {
    assert.match((await resourceViolations(containerIsolated, container({ networkMode: "host" })))[0], /uses the host network/);
  });

  it("flags the docker socket mounted as a volume or a bind mount, or through a parent directory", async () => {
    assert.match(
      (
        await resourceViolations(
          containerIsolated,
          container({ volumes: [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" }] }),
        )
      )[0],
      /exposes the Docker socket/,
    );
    assert.match(
      (
        await resourceViolations(containerIsolated, container({ mounts: [{ type: "bind", source: "/run/docker.sock", target: "/sock" }] }))
      )[0],
      /exposes the Docker socket/,
    );
    assert.match(
      (await resourceViolations(containerIsolated, container({ volumes: [{ hostPath: "/var/run/", containerPath: "/host-run" }] })))[0],
      /mounts \/var\/run\//,
    );
  });

  it("tells the socket and its parents apart from lookalike paths", () => {
    for (const path of ["/var/run/docker.sock", "/run/docker.sock", "/home/deploy/docker.sock", "/var/run", "/run", "/var", "/"])
      assert.equal(exposesDockerSocket(path), true, path);
    for (const path of ["/srv/backups", "/var/lib/docker-data", "/running", "/var/runtime"])
      assert.equal(exposesDockerSocket(path), false, path);
  });
});
