// Loki's configuration: one single-binary Loki on the droplet, keeping log lines on the data
// volume for dropstack:observability.logRetentionDays and no longer.
import { stringify } from "yaml";
import { SERVICES, type ObservabilitySettings } from "./settings";

/**
 * Where Loki keeps chunks, index, WAL and compactor state inside its container: the folder
 * the grafana/loki image creates for its user (uid 10001), so SERVICE_DATA_DIRS.loki is
 * mounted here and must be writable by that uid.
 */
export const LOKI_DATA_DIR = "/loki";

/**
 * The first day of the one schema period. Fixed, and in the past of every deploy: moving it
 * would make Loki look for older data under a schema it was never written with.
 */
export const LOKI_SCHEMA_FROM = "2024-01-01";

/** The compactor applies retention at most this late (Loki's minimum retention is one day). */
export const MIN_LOG_RETENTION_DAYS = 1;
/**
 * Longer than a year belongs in a remote Loki (dropstack:observability.remoteLoki), not on one
 * droplet's volume beside the database backups.
 */
export const MAX_LOG_RETENTION_DAYS = 365;

/** The problems with the settings Loki's config reads, each naming its setting; empty when there are none. */
export function validateLokiSettings(settings: Pick<ObservabilitySettings, "logRetentionDays">): string[] {
  const days = settings.logRetentionDays;
  if (Number.isInteger(days) && days >= MIN_LOG_RETENTION_DAYS && days <= MAX_LOG_RETENTION_DAYS) return [];
  return [
    `dropstack:observability.logRetentionDays must be a whole number of days from ${MIN_LOG_RETENTION_DAYS} to ${MAX_LOG_RETENTION_DAYS}, got ${typeof days === "number" ? days : JSON.stringify(days)}`,
  ];
}

/** Loki's retention for the settings, in hours (Loki's unit for retention_period). */
export function lokiRetentionPeriod(settings: Pick<ObservabilitySettings, "logRetentionDays">): string {
  return `${settings.logRetentionDays * 24}h`;
}

/** loki.yaml for the Loki container (CONFIG_PATHS.loki). Throws, listing every problem, on invalid settings. */
export function renderLokiConfig(settings: Pick<ObservabilitySettings, "logRetentionDays">): string {
  const problems = validateLokiSettings(settings);
  if (problems.length > 0) throw new Error(`invalid Loki settings: ${problems.join("; ")}`);

  const config = {
    // One tenant: only Alloy and Grafana reach Loki, over the private app network.
    auth_enabled: false,
    server: { http_listen_port: SERVICES.loki.port, log_level: "info" },
    common: {
      path_prefix: LOKI_DATA_DIR,
      storage: { filesystem: { chunks_directory: `${LOKI_DATA_DIR}/chunks`, rules_directory: `${LOKI_DATA_DIR}/rules` } },
      replication_factor: 1,
      // Alone in its ring: no memberlist, and no guessing which interface to advertise.
      ring: { kvstore: { store: "inmemory" } },
      instance_addr: "127.0.0.1",
    },
    schema_config: {
      // Retention needs the 24h index period.
      configs: [
        { from: LOKI_SCHEMA_FROM, store: "tsdb", object_store: "filesystem", schema: "v13", index: { prefix: "index_", period: "24h" } },
      ],
    },
    compactor: {
      // Marker files of chunks pending deletion live here, on the volume, so a restart resumes them.
      working_directory: `${LOKI_DATA_DIR}/compactor`,
      compaction_interval: "10m",
      retention_enabled: true,
      retention_delete_delay: "2h",
      // Required with retention since Loki 3.
      delete_request_store: "filesystem",
    },
    limits_config: {
      retention_period: lokiRetentionPeriod(settings),
      // One small app's containers: a flood of log lines is refused before it fills the volume
      // (2 MB/s is still far more than the app logs when healthy). The burst holds at least one
      // of Alloy's pushes (1 MiB batches).
      ingestion_rate_mb: 2,
      ingestion_burst_size_mb: 4,
      per_stream_rate_limit: "1MB",
      per_stream_rate_limit_burst: "4MB",
      // The streams are job x role x stdout/stderr, a few dozen; anything near this is a label leak.
      max_global_streams_per_user: 1000,
      // A huge line (a dumped request body) is cut, not lost.
      max_line_size: "256KB",
      max_line_size_truncate: true,
      reject_old_samples: true,
      reject_old_samples_max_age: "168h",
      // Alloy sends each container line's container ID as structured metadata.
      allow_structured_metadata: true,
    },
    analytics: { reporting_enabled: false },
  };
  return stringify(config);
}
