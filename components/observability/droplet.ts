// What the Observability component does on the droplet itself, as pure functions: the data
// folders with the owners the images run as, each container's memory ceiling, and the deploy
// marker appended after a passing smoke test.
import { posix } from "node:path";
import { DEPLOY_USER } from "../common/names";
import { shellQuote } from "../common/shell";
import { DEPLOY_LOG, OBSERVABILITY_DATA_DIR, SERVICE_DATA_DIRS, type ServiceName } from "./settings";

/**
 * The user each service with a data folder runs as (uid:gid), fixed here so its folder can be
 * owned by it: the images' own defaults (nobody for Prometheus and Alertmanager, 10001 for
 * Loki, 472 for Grafana). Alloy stays root: the engine's log files are readable by root only.
 */
export const serviceUsers: Partial<Record<ServiceName, string>> = {
  prometheus: "65534:65534",
  alertmanager: "65534:65534",
  loki: "10001:10001",
  grafana: "472:0",
};

/**
 * Docker memory limits, MiB: ceilings, so a runaway query or log burst stops at its own
 * container instead of the kernel killing the app. policies/observability.ts sizes the
 * droplet against their sum.
 */
export const MEMORY_LIMITS_MB: Record<ServiceName, number> = {
  prometheus: 512,
  loki: 384,
  grafana: 256,
  alloy: 256,
  cadvisor: 192,
  alertmanager: 64,
  nodeExporter: 64,
  redisExporter: 64,
  blackbox: 64,
};

/** The sum of MEMORY_LIMITS_MB: what the monitoring may take of the droplet's memory. */
export function observabilityMemoryMb(): number {
  return Object.values(MEMORY_LIMITS_MB).reduce((sum, mb) => sum + mb, 0);
}

/** Creates the data folders on the volume, each owned by its service's user. Idempotent. */
export function renderPrepareCommand(): string {
  const owned = (Object.entries(SERVICE_DATA_DIRS) as [keyof typeof SERVICE_DATA_DIRS, string][]).map(([service, dir]) => {
    const [uid, gid] = (serviceUsers[service as ServiceName] ?? "0:0").split(":");
    return `sudo install -d -m 0750 -o ${uid} -g ${gid} ${shellQuote(dir)}`;
  });
  return [
    "set -euo pipefail",
    `sudo install -d -m 0755 ${shellQuote(OBSERVABILITY_DATA_DIR)}`,
    ...owned,
    // The deploy user appends the markers; Alloy (root) reads them.
    `sudo install -d -m 0755 -o ${DEPLOY_USER} -g ${DEPLOY_USER} ${shellQuote(posix.dirname(DEPLOY_LOG))}`,
  ].join("\n");
}

/** Appends one JSON line {"image","stack","at"} to DEPLOY_LOG; Grafana shows it as an annotation. */
export function renderDeployMarkerCommand(input: { image: string; stack: string }, logPath: string = DEPLOY_LOG): string {
  const line = (at: string) => JSON.stringify({ image: input.image, stack: input.stack, at });
  // The time is the droplet's, taken when the marker is written, not when the program ran.
  const [before, after] = line("@AT@").split('"@AT@"');
  return [
    "set -euo pipefail",
    `at=$(date -u +%Y-%m-%dT%H:%M:%SZ)`,
    `printf '%s"%s"%s\\n' ${shellQuote(before)} "$at" ${shellQuote(after)} >> ${shellQuote(logPath)}`,
  ].join("\n");
}
