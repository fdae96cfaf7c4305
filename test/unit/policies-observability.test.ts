// Production runs the monitoring stack; a droplet that runs it keeps room for the app.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONTAINER_ROLES, ROLE_LABEL, componentType } from "../../components/common/names";
import { MEMORY_LIMITS_MB, observabilityMemoryMb } from "../../components/observability/droplet";
import {
  MIN_MEMORY_BESIDE_MONITORING_MB,
  dropletMemoryMb,
  observabilityDropletMemory,
  observabilityEnabled,
} from "../../policies/observability";
import { FakeResource, stackViolations } from "../support/policy";

const DROPLET = "digitalocean:index/droplet:Droplet";
const CONTAINER = "docker:index/container:Container";

const monitoringContainers = (limits: Record<string, number | undefined>): FakeResource[] =>
  Object.entries(limits).map(([service, memory]) => ({
    type: CONTAINER,
    name: `acme-${service}`,
    props: { labels: [{ label: ROLE_LABEL, value: CONTAINER_ROLES.monitoring }], ...(memory !== undefined ? { memory } : {}) },
  }));
const droplet = (size: string): FakeResource => ({ type: DROPLET, name: "web", props: { size } });

describe("observability-enabled", () => {
  it("refuses a stack without the Observability component, naming the key that turns it on", async () => {
    const violations = await stackViolations(observabilityEnabled, [droplet("s-2vcpu-4gb")]);
    assert.equal(violations.length, 1);
    assert.match(violations[0], /dropstack:observability\.enabled: true/);
  });

  it("passes a stack with it", async () => {
    const stack = [droplet("s-2vcpu-4gb"), { type: componentType("Observability"), name: "acme", props: {} }];
    assert.deepEqual(await stackViolations(observabilityEnabled, stack), []);
  });

  it("is not satisfied by another component with a similar name", async () => {
    const stack = [
      { type: componentType("Monitoring"), name: "acme", props: {} },
      { type: "dropstack:other:Observability", name: "x", props: {} },
    ];
    assert.equal((await stackViolations(observabilityEnabled, stack)).length, 1);
  });
});

describe("dropletMemoryMb", () => {
  it("reads the memory a size slug names", () => {
    for (const [slug, mb] of [
      ["s-1vcpu-512mb-10gb", 512],
      ["s-1vcpu-1gb", 1024],
      ["s-2vcpu-4gb", 4096],
      ["s-2vcpu-4gb-amd", 4096],
      ["s-8vcpu-16gb", 16384],
      ["g-2vcpu-8gb", 8192],
    ] as const)
      assert.equal(dropletMemoryMb(slug), mb, slug);
  });

  it("answers undefined for a slug without a memory figure", () => {
    for (const slug of ["c-2", "s-2vcpu", "4gb", "s-2vcpu-4gbx"]) assert.equal(dropletMemoryMb(slug), undefined, slug);
  });
});

describe("observability-droplet-memory", () => {
  const limits = { ...MEMORY_LIMITS_MB };
  const total = observabilityMemoryMb();

  it("passes the default limits on a 4 GiB droplet, and the figure it states is their sum plus the headroom", async () => {
    assert.equal(total, 1856);
    assert.ok(4096 - total >= MIN_MEMORY_BESIDE_MONITORING_MB);
    assert.deepEqual(await stackViolations(observabilityDropletMemory, [droplet("s-2vcpu-4gb"), ...monitoringContainers(limits)]), []);
  });

  it("refuses droplets smaller than the limits plus the headroom, with both figures", async () => {
    for (const size of ["s-1vcpu-1gb", "s-1vcpu-2gb", "s-2vcpu-2gb"]) {
      const violations = await stackViolations(observabilityDropletMemory, [droplet(size), ...monitoringContainers(limits)]);
      assert.equal(violations.length, 1, size);
      assert.match(
        violations[0],
        new RegExp(
          `${size}, ${dropletMemoryMb(size)} MiB.*${total} MiB of limits.*at least ${total + MIN_MEMORY_BESIDE_MONITORING_MB} MiB`,
        ),
      );
    }
  });

  it("counts every monitoring container's limit: raising one past the headroom refuses a 4 GiB droplet", async () => {
    const bigger = { ...limits, prometheus: limits.prometheus + (4096 - total - MIN_MEMORY_BESIDE_MONITORING_MB) + 1 };
    assert.equal((await stackViolations(observabilityDropletMemory, [droplet("s-2vcpu-4gb"), ...monitoringContainers(bigger)])).length, 1);
    const exact = { ...limits, prometheus: limits.prometheus + (4096 - total - MIN_MEMORY_BESIDE_MONITORING_MB) };
    assert.deepEqual(await stackViolations(observabilityDropletMemory, [droplet("s-2vcpu-4gb"), ...monitoringContainers(exact)]), []);
  });

  it("refuses a monitoring container without a memory limit", async () => {
    const violations = await stackViolations(observabilityDropletMemory, [
      droplet("s-8vcpu-16gb"),
      ...monitoringContainers({ ...limits, loki: undefined }),
    ]);
    assert.deepEqual(violations.length, 1);
    assert.match(violations[0], /acme-loki has no memory limit/);
  });

  it("says so when the droplet size does not name its memory", async () => {
    const violations = await stackViolations(observabilityDropletMemory, [droplet("c-2"), ...monitoringContainers(limits)]);
    assert.equal(violations.length, 1);
    assert.match(violations[0], /cannot tell the memory of size "c-2"/);
  });

  it("ignores stacks without monitoring containers, and containers of other roles", async () => {
    const other: FakeResource = { type: CONTAINER, name: "api", props: { labels: [{ label: ROLE_LABEL, value: CONTAINER_ROLES.api }] } };
    assert.deepEqual(await stackViolations(observabilityDropletMemory, [droplet("s-1vcpu-512mb-10gb"), other]), []);
  });
});
