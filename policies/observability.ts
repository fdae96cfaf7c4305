// Observability policies: production runs the monitoring stack (every go/no-go and rollback
// decision reads its metrics), and a droplet that runs it has the memory for it and the app.
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { CONTAINER_ROLES, ROLE_LABEL, componentType } from "../components/common/names";
import { known } from "./util";

const OBSERVABILITY = componentType("Observability");
const DROPLET = "digitalocean:index/droplet:Droplet";
const CONTAINER = "docker:index/container:Container";

/**
 * Memory the droplet keeps beside the monitoring containers' limits: the app replicas and
 * workers, Redis (maxmemory 256–512 MB in the committed stacks), nginx, Docker and the OS.
 */
export const MIN_MEMORY_BESIDE_MONITORING_MB = 2048;

/** A droplet size slug's memory in MiB (`s-2vcpu-4gb` → 4096, `s-1vcpu-512mb-10gb` → 512); undefined when the slug does not say. */
export function dropletMemoryMb(slug: string): number | undefined {
  const match = /-(\d+)(gb|mb)(?=-|$)/.exec(slug);
  if (!match) return undefined;
  return Number(match[1]) * (match[2] === "gb" ? 1024 : 1);
}

export const observabilityEnabled: StackValidationPolicy = {
  name: "observability-enabled",
  description:
    "The stack runs the Observability component (Prometheus, Alertmanager, Loki, Grafana): error rate, latency and login decisions need its metrics.",
  validateStack: (args, reportViolation) => {
    if (!args.resources.some((r) => r.type === OBSERVABILITY))
      reportViolation("the stack has no monitoring of its own: set dropstack:observability.enabled: true (the default in production)");
  },
};

export const observabilityDropletMemory: StackValidationPolicy = {
  name: "observability-droplet-memory",
  description: `A droplet that runs the monitoring containers has at least ${MIN_MEMORY_BESIDE_MONITORING_MB} MiB of memory beyond their memory limits, for the app, Redis and nginx.`,
  validateStack: (args, reportViolation) => {
    const monitoring = args.resources.filter(
      (r) =>
        r.type === CONTAINER &&
        (known(() => r.props.labels as { label?: string; value?: string }[] | undefined) ?? []).some(
          (l) => l.label === ROLE_LABEL && l.value === CONTAINER_ROLES.monitoring,
        ),
    );
    if (monitoring.length === 0) return;
    const limitOf = (r: PolicyResource) => (typeof r.props.memory === "number" && r.props.memory > 0 ? r.props.memory : undefined);
    const unlimited = monitoring.filter((r) => limitOf(r) === undefined);
    for (const r of unlimited)
      reportViolation(`monitoring container ${r.name} has no memory limit: set memory (MiB) so it cannot starve the app`);
    // The droplet is sized by the limits that are limits; the others are reported above.
    const limits = monitoring.reduce((sum, r) => sum + (limitOf(r) ?? 0), 0);
    for (const droplet of args.resources.filter((r) => r.type === DROPLET)) {
      const size = known(() => droplet.props.size);
      if (typeof size !== "string") continue;
      const memory = dropletMemoryMb(size);
      if (memory === undefined) {
        reportViolation(
          `droplet ${droplet.name}: cannot tell the memory of size "${size}"; use a size slug that names it, like s-2vcpu-4gb`,
        );
      } else if (memory - limits < MIN_MEMORY_BESIDE_MONITORING_MB) {
        reportViolation(
          `droplet ${droplet.name} (${size}, ${memory} MiB) is too small for the monitoring containers (${limits} MiB of limits) and the app: it needs at least ${limits + MIN_MEMORY_BESIDE_MONITORING_MB} MiB; set dropstack:droplet.size to s-2vcpu-4gb or larger, or dropstack:observability.enabled: false`,
        );
      }
    }
  },
};

export const observabilityPolicies = [observabilityEnabled, observabilityDropletMemory];
