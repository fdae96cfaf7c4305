// The managed PostgreSQL cluster, from DigitalOcean's metrics endpoint (scraped as
// JOBS.database). That endpoint listens on port 9273 and is served by Telegraf's
// prometheus_client output, so its series carry Telegraf's names: `<input>_<field>`, from
// the cpu, mem, disk, system and postgresql inputs (the last reads pg_stat_database, one
// series per database, labelled `db`).
import type { Dashboard } from "@grafana/schema";
import { JOBS, type ObservabilitySettings } from "../settings";
import { deployAnnotation } from "./deploys";
import { type Limit, dashboard, statPanel, timeSeriesPanel } from "./panels";
import { RATE_WINDOW, equals, increase, rate, selector } from "./promql";

export const DATABASE_UID = "dropstack-database";

/** The series of DigitalOcean's database metrics endpoint the dashboard reads. */
export const DATABASE_METRICS = {
  /** Percent of CPU time idle; `cpu="cpu-total"` is all cores together. */
  cpuIdlePercent: "cpu_usage_idle",
  memoryUsedPercent: "mem_used_percent",
  /** By `path`. */
  diskUsedPercent: "disk_used_percent",
  load1: "system_load1",
  /** Backends connected to each database (pg_stat_database.numbackends). */
  backends: "postgresql_numbackends",
  /** Counters since the server started. */
  commits: "postgresql_xact_commit",
  rollbacks: "postgresql_xact_rollback",
  blocksHit: "postgresql_blks_hit",
  blocksRead: "postgresql_blks_read",
  deadlocks: "postgresql_deadlocks",
  tempBytes: "postgresql_temp_bytes",
} as const;

/**
 * The connection count at which maxDatabaseConnectionsPercent is reached; the endpoint does
 * not report max_connections itself.
 */
export function connectionsLimit(settings: ObservabilitySettings): Limit {
  return { above: Math.floor((settings.databaseConnectionLimit * settings.thresholds.maxDatabaseConnectionsPercent) / 100) };
}

export function databaseDashboard(settings: ObservabilitySettings): Dashboard {
  const { thresholds } = settings;
  const database = equals("job", JOBS.database);
  const metric = (name: string, ...matchers: string[]) => selector(name, database, ...matchers);
  const connections = connectionsLimit(settings);
  const hit = `sum(${rate(metric(DATABASE_METRICS.blocksHit))})`;
  const read = `sum(${rate(metric(DATABASE_METRICS.blocksRead))})`;
  return dashboard({
    uid: DATABASE_UID,
    title: "Database",
    description: `${settings.name}: the managed PostgreSQL cluster, from DigitalOcean's metrics endpoint.`,
    sections: [
      {
        title: "Server",
        panels: [
          statPanel({
            title: "Metrics endpoint up",
            description: "1 while Prometheus can scrape the cluster's metrics endpoint; 0 means every panel below is stale.",
            width: 4,
            unit: "short",
            expr: `min(${selector("up", database)})`,
            limit: { below: 1 },
          }),
          timeSeriesPanel({
            title: "Database CPU",
            description: `CPU busy on each database node. The line is the alert threshold (${thresholds.maxDatabaseCpuPercent}%).`,
            width: 10,
            unit: "percent",
            min: 0,
            max: 100,
            limit: { above: thresholds.maxDatabaseCpuPercent },
            series: [{ expr: `100 - ${metric(DATABASE_METRICS.cpuIdlePercent, equals("cpu", "cpu-total"))}`, legend: "{{instance}}" }],
          }),
          timeSeriesPanel({
            title: "Database connections",
            description:
              `Backends connected, all databases. The line is ${thresholds.maxDatabaseConnectionsPercent}% of the cluster's ` +
              `${settings.databaseConnectionLimit} connections (the alert threshold).`,
            width: 10,
            unit: "short",
            min: 0,
            limit: connections,
            series: [{ expr: `sum by (instance) (${metric(DATABASE_METRICS.backends)})`, legend: "{{instance}}" }],
          }),
          timeSeriesPanel({
            title: "Database memory used",
            description: "Memory used on each database node.",
            width: 8,
            unit: "percent",
            min: 0,
            max: 100,
            series: [{ expr: metric(DATABASE_METRICS.memoryUsedPercent), legend: "{{instance}}" }],
          }),
          timeSeriesPanel({
            title: "Database disk used",
            description: "Disk used on each database node, by path.",
            width: 8,
            unit: "percent",
            min: 0,
            max: 100,
            series: [{ expr: metric(DATABASE_METRICS.diskUsedPercent), legend: "{{instance}} {{path}}" }],
          }),
          timeSeriesPanel({
            title: "Database load",
            description: "One-minute load average on each database node.",
            width: 8,
            unit: "short",
            min: 0,
            series: [{ expr: metric(DATABASE_METRICS.load1), legend: "{{instance}}" }],
          }),
        ],
      },
      {
        title: "Activity",
        panels: [
          timeSeriesPanel({
            title: "Transactions",
            description: "Commits and rollbacks per second, all databases.",
            width: 6,
            unit: "ops",
            min: 0,
            series: [
              { expr: `sum(${rate(metric(DATABASE_METRICS.commits))})`, legend: "commits" },
              { expr: `sum(${rate(metric(DATABASE_METRICS.rollbacks))})`, legend: "rollbacks" },
            ],
          }),
          timeSeriesPanel({
            title: "Cache hit ratio",
            description: "Share of block reads served from shared buffers rather than disk, all databases.",
            width: 6,
            unit: "percent",
            min: 0,
            max: 100,
            series: [{ expr: `100 * ${hit} / (${hit} + ${read})`, legend: "hit" }],
          }),
          timeSeriesPanel({
            title: "Deadlocks",
            description: `Deadlocks PostgreSQL detected and broke, per ${RATE_WINDOW}, all databases.`,
            width: 6,
            unit: "short",
            min: 0,
            series: [{ expr: `sum(${increase(metric(DATABASE_METRICS.deadlocks))})`, legend: "deadlocks" }],
          }),
          timeSeriesPanel({
            title: "Temp files",
            description: "Bytes written to temporary files by queries that outgrew work_mem, all databases.",
            width: 6,
            unit: "Bps",
            min: 0,
            series: [{ expr: `sum(${rate(metric(DATABASE_METRICS.tempBytes))})`, legend: "written" }],
          }),
        ],
      },
    ],
    annotations: [deployAnnotation(settings)],
  });
}
