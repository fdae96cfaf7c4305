// observability-droplet-memory: which resources count as monitoring containers (only Docker
// containers whose role label says monitoring, whatever other labels they carry), which memory
// values are limits (positive numbers only), and which resources are droplets to size (only
// droplets whose size is known). Cases are generated over the labels a container can carry,
// memory values of every shape, and resources of other types that have labels or a size.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONTAINER_ROLES, ROLE_LABEL } from "../../components/common/names";
import { MIN_MEMORY_BESIDE_MONITORING_MB, observabilityDropletMemory } from "../../policies/observability";
import { FakeResource, stackViolations } from "../support/policy";

const DROPLET = "digitalocean:index/droplet:Droplet";
const CONTAINER = "docker:index/container:Container";
const MONITORING = { label: ROLE_LABEL, value: CONTAINER_ROLES.monitoring };

const droplet = (size: unknown, name = "web"): FakeResource => ({ type: DROPLET, name, props: { size } });
const container = (name: string, labels: { label: string; value: string }[], memory?: unknown): FakeResource => ({
  type: CONTAINER,
  name,
  props: { labels, ...(memory !== undefined ? { memory } : {}) },
});
const tooSmall = (name: string, size: string, memory: number, limits: number) =>
  `droplet ${name} (${size}, ${memory} MiB) is too small for the monitoring containers (${limits} MiB of limits) and the app: it needs at least ${limits + MIN_MEMORY_BESIDE_MONITORING_MB} MiB; set dropstack:droplet.size to s-2vcpu-4gb or larger, or dropstack:observability.enabled: false`;
const unlimited = (name: string) => `monitoring container ${name} has no memory limit: set memory (MiB) so it cannot starve the app`;

class UnknownValueError extends Error {}
/** A droplet whose size is unknown during preview, as the analyzer's props read it. */
function dropletOfUnknownSize(name: string): FakeResource {
  const props = Object.defineProperty({}, "size", {
    enumerable: true,
    get() {
      throw new UnknownValueError("size is unknown during preview");
    },
  });
  return { type: DROPLET, name, props };
}

describe("observability-droplet-memory: monitoring containers", () => {
  const OTHER_LABELS = [
    { label: "com.docker.compose.project", value: "acme" },
    { label: "dropstack.stack", value: "production" },
    { label: "org.opencontainers.image.title", value: "prometheus" },
  ];
  for (let before = 0; before <= OTHER_LABELS.length; before++)
    it(`counts a container labelled monitoring among ${OTHER_LABELS.length} other labels (role label at position ${before})`, async () => {
      const labels = [...OTHER_LABELS.slice(0, before), MONITORING, ...OTHER_LABELS.slice(before)];
      assert.deepEqual(
        await stackViolations(observabilityDropletMemory, [droplet("s-1vcpu-2gb"), container("acme-prometheus", labels, 512)]),
        [tooSmall("web", "s-1vcpu-2gb", 2048, 512)],
      );
    });

  for (const label of ["role", "dropstack.roles", "tier", "com.example.role", ""])
    it(`does not count a container whose ${JSON.stringify(label)} label, not the role label, says monitoring`, async () => {
      const labels = [
        { label, value: CONTAINER_ROLES.monitoring },
        { label: ROLE_LABEL, value: CONTAINER_ROLES.api },
      ];
      assert.deepEqual(
        await stackViolations(observabilityDropletMemory, [droplet("s-1vcpu-512mb-10gb"), container("acme-api", labels)]),
        [],
      );
    });

  for (const type of [
    "docker:index/remoteImage:RemoteImage",
    "docker:index/volume:Volume",
    "docker:index/network:Network",
    "docker:index/service:Service",
    "dropstack:index:Observability",
  ])
    it(`does not take a ${type} with the monitoring role label for a container`, async () => {
      const labelled: FakeResource = { type, name: "acme-monitoring", props: { labels: [MONITORING] } };
      assert.deepEqual(await stackViolations(observabilityDropletMemory, [droplet("s-1vcpu-512mb-10gb"), labelled]), []);
    });
});

describe("observability-droplet-memory: memory limits", () => {
  for (const memory of [0, -1, -512, "512", "0", true, null, Number.NaN])
    it(`refuses a monitoring container whose memory is ${typeof memory === "string" ? JSON.stringify(memory) : String(memory)}, and sizes the droplet by the other limits`, async () => {
      const stack = [droplet("s-1vcpu-1gb"), container("acme-loki", [MONITORING], memory), container("acme-grafana", [MONITORING], 256)];
      const violations = await stackViolations(observabilityDropletMemory, stack);
      assert.equal(violations[0], unlimited("acme-loki"));
      // Only the limits that are limits count: a zero, negative or NaN one neither lowers the total nor hides the droplet's size.
      assert.deepEqual(violations.slice(1), [tooSmall("web", "s-1vcpu-1gb", 1024, 256)]);
    });

  it("sizes the droplet by the limits that are numbers when another monitoring container has none", async () => {
    const stack = [droplet("s-1vcpu-2gb"), container("acme-loki", [MONITORING]), container("acme-grafana", [MONITORING], 256)];
    assert.deepEqual(await stackViolations(observabilityDropletMemory, stack), [
      unlimited("acme-loki"),
      tooSmall("web", "s-1vcpu-2gb", 2048, 256),
    ]);
  });

  for (const memory of [1, 0.5, 256, 4096])
    it(`takes ${memory} MiB as a limit`, async () => {
      const violations = await stackViolations(observabilityDropletMemory, [
        droplet("s-8vcpu-16gb"),
        container("acme-loki", [MONITORING], memory),
      ]);
      assert.deepEqual(violations, []);
    });
});

describe("observability-droplet-memory: droplets", () => {
  for (const [type, size] of [
    ["digitalocean:index/databaseCluster:DatabaseCluster", "db-s-1vcpu-1gb"],
    ["digitalocean:index/databaseCluster:DatabaseCluster", "c-2"],
    ["digitalocean:index/volume:Volume", "s-1vcpu-1gb"],
    ["digitalocean:index/kubernetesCluster:KubernetesCluster", "s-1vcpu-512mb-10gb"],
  ])
    it(`does not size a ${type} of size ${size} as a droplet`, async () => {
      const other: FakeResource = { type, name: "acme-other", props: { size } };
      assert.deepEqual(
        await stackViolations(observabilityDropletMemory, [droplet("s-2vcpu-4gb"), other, container("acme-loki", [MONITORING], 512)]),
        [],
      );
    });

  it("skips a droplet whose size is unknown during preview, and sizes the others", async () => {
    const stack = [dropletOfUnknownSize("web"), droplet("s-1vcpu-1gb", "worker"), container("acme-loki", [MONITORING], 512)];
    assert.deepEqual(await stackViolations(observabilityDropletMemory, stack), [tooSmall("worker", "s-1vcpu-1gb", 1024, 512)]);
  });

  for (const size of [undefined, null, 4096])
    it(`skips a droplet whose size is ${String(size)}`, async () => {
      assert.deepEqual(await stackViolations(observabilityDropletMemory, [droplet(size), container("acme-loki", [MONITORING], 512)]), []);
    });
});
