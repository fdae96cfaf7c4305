// The observability policies as the policy pack lists them: each under its own name, with the
// description the CLI shows beside a violation, both in observabilityPolicies.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MIN_MEMORY_BESIDE_MONITORING_MB,
  observabilityDropletMemory,
  observabilityEnabled,
  observabilityPolicies,
} from "../../policies/observability";

describe("observability policies", () => {
  it("lists observability-enabled and observability-droplet-memory, in that order", () => {
    assert.deepEqual(
      observabilityPolicies.map((p) => p.name),
      ["observability-enabled", "observability-droplet-memory"],
    );
    assert.deepEqual(observabilityPolicies, [observabilityEnabled, observabilityDropletMemory]);
  });

  it("describes what each one requires", () => {
    assert.equal(
      observabilityEnabled.description,
      "The stack runs the Observability component (Prometheus, Alertmanager, Loki, Grafana): error rate, latency and login decisions need its metrics.",
    );
    assert.equal(
      observabilityDropletMemory.description,
      `A droplet that runs the monitoring containers has at least ${MIN_MEMORY_BESIDE_MONITORING_MB} MiB of memory beyond their memory limits, for the app, Redis and nginx.`,
    );
    assert.equal(MIN_MEMORY_BESIDE_MONITORING_MB, 2048);
  });
});
