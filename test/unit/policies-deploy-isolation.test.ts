// container-isolated at the edges of what it reads: the host-level capabilities by their
// documented names (not the exported list, so a name dropped from it shows), CAP_ dropped only
// as a prefix, security options matched whole (characters before or after, spaces, quotes,
// profiles merely named after "unconfined"), only bind mounts and host paths taken for host
// paths, and a host path with any number of trailing slashes or spelled with doubled slashes,
// . or .. (the kernel resolves those to the same directory). Cases are generated over every
// socket path and each directory above it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as docker from "@pulumi/docker";
import { containerIsolated, exposesDockerSocket } from "../../policies/deploy";
import { FakeResource, resourceViolations, typeOf } from "../support/policy";

const CONTAINER = typeOf(docker.Container);
const NO_NEW_PRIVILEGES = "no-new-privileges:true";

const container = (props: Record<string, unknown>): FakeResource => ({
  type: CONTAINER,
  name: "c",
  props: { image: "nginx:1.27.3", securityOpts: [NO_NEW_PRIVILEGES], ...props },
});
const violations = (props: Record<string, unknown>) => resourceViolations(containerIsolated, container(props));

const SETUID_MESSAGE = 'container c can gain privileges through setuid binaries: add securityOpts: ["no-new-privileges:true"]';

/** The directories above each socket, and the sockets themselves. */
const SOCKET_PATHS = ["/var/run/docker.sock", "/run/docker.sock", "/var/run", "/var", "/run"];

describe("container-isolated: capabilities", () => {
  it("refuses each capability that amounts to root on the droplet, by its documented name", async () => {
    const hostLevel = [
      "ALL",
      "SYS_ADMIN",
      "SYS_MODULE",
      "SYS_PTRACE",
      "SYS_RAWIO",
      "SYS_BOOT",
      "SYS_TIME",
      "NET_ADMIN",
      "DAC_READ_SEARCH",
      "MAC_ADMIN",
      "MAC_OVERRIDE",
      "BPF",
      "PERFMON",
    ];
    for (const capability of hostLevel)
      for (const spelled of [capability, `CAP_${capability}`, `cap_${capability.toLowerCase()}`]) {
        assert.deepEqual(
          await violations({ capabilities: { adds: [spelled] } }),
          [`container c adds the capability ${capability}, which amounts to root on the droplet: remove it`],
          spelled,
        );
      }
  });

  it("drops CAP_ only at the front of a name", async () => {
    for (const spelled of ["NET_CAP_ADMIN", "SYS_CAP_ADMIN", "XCAP_BPF", "B_CAP_PF"])
      assert.deepEqual(await violations({ capabilities: { adds: [spelled] } }), [], spelled);
  });
});

describe("container-isolated: security options", () => {
  it("does not take an option that only ends like no-new-privileges for it", async () => {
    for (const option of [
      "x-no-new-privileges",
      "disable-no-new-privileges:true",
      "seccomp=no-new-privileges=true",
      " no-new-privileges:true",
      '"no-new-privileges:true"',
      "no-new-privileges:true ",
      "no-new-privileges:true\n",
    ]) {
      assert.deepEqual(await violations({ securityOpts: [option] }), [SETUID_MESSAGE], JSON.stringify(option));
    }
  });

  it("leaves alone profiles merely named after unconfined, and options that only contain a switch-off", async () => {
    for (const option of [
      "seccomp=unconfined.json",
      "seccomp=unconfined-audit.json",
      "apparmor=unconfined-net",
      "apparmor:unconfined_profile",
      "label=disabled",
      "label=disable-nested",
      "seccomp=unconfined ",
      'seccomp=unconfined"',
      "xseccomp=unconfined",
      "no-apparmor=unconfined",
      "relabel:disable",
      " seccomp=unconfined",
      '"apparmor=unconfined',
    ]) {
      assert.deepEqual(await violations({ securityOpts: [NO_NEW_PRIVILEGES, option] }), [], JSON.stringify(option));
    }
  });
});

describe("container-isolated: host paths", () => {
  it("takes only bind mounts' sources for host paths", async () => {
    for (const type of ["volume", "tmpfs"])
      for (const source of ["docker.sock", "run", "var"]) {
        assert.deepEqual(await violations({ mounts: [{ type, source, target: "/var/run/docker.sock" }] }), [], `${type} ${source}`);
      }
    assert.deepEqual(await violations({ mounts: [{ type: "bind", source: "/var/run/docker.sock", target: "/sock" }] }), [
      "container c mounts /var/run/docker.sock, which exposes the Docker socket (root on the droplet): remove that mount",
    ]);
  });

  it("passes named volumes and mounts without a host path", async () => {
    const props = {
      volumes: [
        { volumeName: "redis-data", containerPath: "/data" },
        { fromContainer: "prod-proxy", containerPath: "/certs" },
      ],
      mounts: [
        { type: "volume", target: "/cache" },
        { type: "tmpfs", target: "/tmp" },
        { type: "bind", target: "/empty" },
      ],
    };
    assert.deepEqual(await violations(props), []);
  });

  it("sees the socket through any number of trailing slashes", async () => {
    for (const path of SOCKET_PATHS)
      for (const slashes of ["/", "//", "///"]) {
        assert.equal(exposesDockerSocket(`${path}${slashes}`), true, `${path}${slashes}`);
        assert.deepEqual(await violations({ volumes: [{ hostPath: `${path}${slashes}`, containerPath: "/host" }] }), [
          `container c mounts ${path}${slashes}, which exposes the Docker socket (root on the droplet): remove that mount`,
        ]);
      }
    for (const path of ["/", "//", "///"]) assert.equal(exposesDockerSocket(path), true, path);
  });

  it("sees the socket through a path spelled with doubled slashes, . or ..", async () => {
    const spellings = (path: string) => [
      path.replaceAll("/", "//"),
      path.replace(/^\//, "/./"),
      `${path}/.`,
      `/srv/..${path}`,
      `/srv/backups/../..${path}`,
      `${path}/../${path.split("/").pop() ?? ""}`,
    ];
    for (const path of SOCKET_PATHS)
      for (const spelled of spellings(path)) {
        assert.equal(exposesDockerSocket(spelled), true, spelled);
        assert.deepEqual(await violations({ mounts: [{ type: "bind", source: spelled, target: "/host" }] }), [
          `container c mounts ${spelled}, which exposes the Docker socket (root on the droplet): remove that mount`,
        ]);
      }
    for (const path of ["/var/run/../lib", "/run/..//srv", "/var//lib/docker", "/./srv/backups"])
      assert.equal(exposesDockerSocket(path), false, path);
    for (const path of ["/srv/backups/", "/var/lib/docker//", "/running///", "/var/runtime/"])
      assert.equal(exposesDockerSocket(path), false, path);
  });
});
