// The isolation of everything the program runs on the droplet, asserted as a whole: each
// Pulumi-managed container's security-relevant settings, and the flags of every `docker run`
// in the remote commands. Changing any one of them (a dropped no-new-privileges, a new mount,
// a capability, the host network) fails here, not on a compromised droplet.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Registration } from "../../tools/check/harness";
import { runStack } from "../support/program";

const CONTAINER = "docker:index/container:Container";
const COMMAND = "command:remote:Command";
const NO_NEW_PRIVILEGES = ["no-new-privileges:true"];
const CERTS = { containerPath: "/etc/dropstack/certs", hostPath: "/srv/proxy/certs" };
const ACME = { containerPath: "/var/www/acme", hostPath: "/srv/proxy/acme" };

/** The settings that decide what a compromised container could reach. */
function isolation(inputs: Record<string, unknown>): Record<string, unknown> {
  const keys = ["securityOpts", "privileged", "capabilities", "user", "readOnly", "networkMode", "pidMode", "ipcMode", "usernsMode"];
  const picked: Record<string, unknown> = Object.fromEntries(keys.filter((k) => inputs[k] !== undefined).map((k) => [k, inputs[k]]));
  for (const k of ["devices", "volumes", "mounts", "sysctls", "tmpfs", "groupAdds"]) if (inputs[k] !== undefined) picked[k] = inputs[k];
  return picked;
}

/** Each container's isolation, by the part of its name after the stack prefix. */
const EXPECTED_CONTAINERS: Record<string, Record<string, unknown>> = {
  "api-": { securityOpts: NO_NEW_PRIVILEGES },
  "worker-": { securityOpts: NO_NEW_PRIVILEGES },
  // The static frontend (dropstack:frontend, in the production stack): no mounts, no privileges.
  "frontend-": { securityOpts: NO_NEW_PRIVILEGES },
  redis: { securityOpts: NO_NEW_PRIVILEGES, volumes: [{ containerPath: "/data", hostPath: "/srv/redis" }] },
  nginx: {
    securityOpts: NO_NEW_PRIVILEGES,
    volumes: [
      { containerPath: "/etc/dropstack/nginx", hostPath: "/srv/proxy/conf", readOnly: true },
      { ...CERTS, readOnly: true },
      { ...ACME, readOnly: true },
    ],
    sysctls: { "net.ipv4.ip_local_port_range": "1024 65535", "net.ipv4.tcp_tw_reuse": "1" },
  },
  certbot: {
    securityOpts: NO_NEW_PRIVILEGES,
    volumes: [
      { ...CERTS, readOnly: false },
      { ...ACME, readOnly: false },
      { containerPath: "/etc/letsencrypt", hostPath: "/srv/proxy/letsencrypt", readOnly: false },
    ],
  },
  // The monitoring (dropstack:observability, on in production): its own data folder each,
  // the host read-only where an exporter must see it, never the Docker socket.
  prometheus: {
    securityOpts: NO_NEW_PRIVILEGES,
    user: "65534:65534",
    volumes: [{ containerPath: "/prometheus", hostPath: "/srv/observability/prometheus" }],
  },
  alertmanager: {
    securityOpts: NO_NEW_PRIVILEGES,
    user: "65534:65534",
    volumes: [{ containerPath: "/alertmanager", hostPath: "/srv/observability/alertmanager" }],
  },
  loki: {
    securityOpts: NO_NEW_PRIVILEGES,
    user: "10001:10001",
    volumes: [{ containerPath: "/loki", hostPath: "/srv/observability/loki" }],
  },
  grafana: {
    securityOpts: NO_NEW_PRIVILEGES,
    user: "472:0",
    volumes: [{ containerPath: "/var/lib/grafana", hostPath: "/srv/observability/grafana" }],
  },
  alloy: {
    securityOpts: NO_NEW_PRIVILEGES,
    volumes: [
      { containerPath: "/var/lib/alloy/data", hostPath: "/srv/observability/alloy" },
      { containerPath: "/var/lib/docker/containers", hostPath: "/var/lib/docker/containers", readOnly: true },
      { containerPath: "/srv/observability/deploys", hostPath: "/srv/observability/deploys", readOnly: true },
    ],
  },
  "node-exporter": {
    securityOpts: NO_NEW_PRIVILEGES,
    volumes: [
      { containerPath: "/host/proc", hostPath: "/proc", readOnly: true },
      { containerPath: "/host/sys", hostPath: "/sys", readOnly: true },
      { containerPath: "/srv", hostPath: "/srv", readOnly: true },
    ],
  },
  cadvisor: { securityOpts: NO_NEW_PRIVILEGES, volumes: [{ containerPath: "/sys", hostPath: "/sys", readOnly: true }] },
  "cache-exporter": { securityOpts: NO_NEW_PRIVILEGES },
  blackbox: { securityOpts: NO_NEW_PRIVILEGES },
};

const CLIENT = ["--cap-drop ALL", "--security-opt no-new-privileges", '--user "$(id -u):$(id -g)"'];
const ROOT_NO_NEW_PRIVILEGES = ["--security-opt no-new-privileges"];
/** The security flags of each `docker run` in each remote command, in order. */
const EXPECTED_RUNS: Record<string, string[][]> = {
  backup: [CLIENT, CLIENT],
  migrate: [CLIENT, ROOT_NO_NEW_PRIVILEGES],
  "schedule-dump-script": [CLIENT, CLIENT],
  "schedule-drill-script": [CLIENT, CLIENT],
  "nginx-conf": [ROOT_NO_NEW_PRIVILEGES],
  "certbot-placeholder": [ROOT_NO_NEW_PRIVILEGES],
  "certbot-issue": [ROOT_NO_NEW_PRIVILEGES],
};

const SECURITY_FLAG = /--(privileged)\b|--(cap-drop|cap-add|security-opt|user|pid|ipc|userns|device|network|group-add)[ =]("[^"]*"|\S+)/g;

/** Every `docker run` invocation in a script (continuation lines joined), comments skipped. */
function dockerRuns(script: string): string[] {
  const joined = script.replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .filter((line) => !/^\s*#/.test(line))
    .flatMap((line) => line.split(/(?=docker run )/).filter((part) => part.startsWith("docker run ")));
}

/** The run's security-relevant flags, sorted; a network other than the host's is not one. */
function securityFlags(run: string): string[] {
  return [...run.matchAll(SECURITY_FLAG)]
    .map((m) => (m[1] ? `--${m[1]}` : `--${m[2]} ${m[3]}`))
    .filter((flag) => !flag.startsWith("--network ") || flag === "--network host")
    .sort();
}

function texts(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value && typeof value === "object") return Object.values(value).flatMap(texts);
  return [];
}

for (const stack of ["production"] as const) {
  describe(`isolation on the droplet (${stack}, as a whole)`, () => {
    let registrations: Registration[];
    before(async () => {
      registrations = (await runStack({ stack })).graph.registrations;
    });
    const suffix = (r: Registration) => r.name.replace(`dropstack-${stack}-`, "");

    it("every container has exactly the isolation its role needs", () => {
      const containers = registrations.filter((r) => r.type === CONTAINER);
      assert.ok(containers.length >= 5, containers.map((c) => c.name).join(", "));
      for (const container of containers) {
        const role = Object.keys(EXPECTED_CONTAINERS).find((prefix) => suffix(container).startsWith(prefix));
        assert.ok(role, `a container nobody expects: ${container.name}`);
        assert.deepEqual(isolation(container.inputs), EXPECTED_CONTAINERS[role], container.name);
      }
      for (const role of Object.keys(EXPECTED_CONTAINERS))
        assert.ok(
          containers.some((c) => suffix(c).startsWith(role)),
          `no ${role} container`,
        );
    });

    it("every docker run on the droplet has exactly its security flags: hook clients without capabilities, as the deploy user", () => {
      const found: Record<string, string[][]> = {};
      for (const command of registrations.filter((r) => r.type === COMMAND)) {
        const runs = texts(command.inputs).flatMap(dockerRuns);
        if (runs.length > 0) found[suffix(command)] = runs.map(securityFlags);
      }
      assert.deepEqual(
        found,
        Object.fromEntries(Object.entries(EXPECTED_RUNS).map(([name, runs]) => [name, runs.map((flags) => [...flags].sort())])),
      );
    });
  });
}

describe("dockerRuns and securityFlags, the parsing the table relies on", () => {
  it("finds each run, across continuations and inside $( ), never in comments", () => {
    const script = [
      "# docker run --privileged in a comment",
      'output=$(docker run --rm --network none \\\n  --user "$(id -u):$(id -g)" --cap-drop ALL \\\n  img cmd) || x=1',
      "if ! docker run --rm --security-opt no-new-privileges --network host img; then exit 1; fi",
    ].join("\n");
    const runs = dockerRuns(script);
    assert.equal(runs.length, 2);
    assert.deepEqual(securityFlags(runs[0]), ["--cap-drop ALL", '--user "$(id -u):$(id -g)"']);
    assert.deepEqual(securityFlags(runs[1]), ["--network host", "--security-opt no-new-privileges"]);
    assert.deepEqual(securityFlags("docker run --privileged --pid=host --cap-add SYS_ADMIN img"), [
      "--cap-add SYS_ADMIN",
      "--pid host",
      "--privileged",
    ]);
  });
});
