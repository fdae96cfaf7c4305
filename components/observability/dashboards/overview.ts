// The overview: is the site answering, quickly and without errors, and has the droplet room
// to keep doing so. Traffic comes from nginx's access log (NGINX_LOG_METRICS, derived by
// Alloy), the host from node-exporter, containers from cAdvisor, Redis from redis_exporter,
// errors from the container logs in Loki. Limits are the alerting thresholds, so a line
// crossing one on a chart is an alert firing or about to.
import type { Dashboard, Panel } from "@grafana/schema";
import { DATA_MOUNT } from "../../common/names";
import { JOBS, LOG_LABELS, NGINX_LOG_METRICS, type ObservabilitySettings } from "../settings";
import { deployAnnotation } from "./deploys";
import { type Section, dashboard, logsPanel, timeSeriesPanel } from "./panels";
import { differs, equals, matches, oneOf, rate, selector, stackStreams, streamSelector } from "./promql";

export const OVERVIEW_UID = "dropstack-overview";

/** The filesystems whose free space is alerted on: the root disk and the data volume. */
export const WATCHED_MOUNTPOINTS = ["/", DATA_MOUNT] as const;

/** Statuses that count as a successful login: a 2xx answer, or a redirect into the app. */
const LOGIN_SUCCESS_STATUS = "[23]..";

const requests = NGINX_LOG_METRICS.requests;
const requestBuckets = `${NGINX_LOG_METRICS.requestSeconds}_bucket`;

function trafficSection(settings: ObservabilitySettings): Section {
  const { thresholds } = settings;
  const panels: Panel[] = [
    timeSeriesPanel({
      title: "Requests by host and status",
      description: "Responses per second nginx logged, by virtual host and HTTP status.",
      width: 12,
      unit: "reqps",
      series: [{ expr: `sum by (host, status) (${rate(requests)})`, legend: "{{host}} {{status}}" }],
    }),
    timeSeriesPanel({
      title: "5xx responses",
      description: `Share of responses that were 5xx, by host. The line is the alert threshold (${thresholds.max5xxPercent}%).`,
      width: 12,
      unit: "percent",
      min: 0,
      limit: { above: thresholds.max5xxPercent },
      series: [
        {
          expr: `100 * sum by (host) (${rate(selector(requests, matches("status", "5..")))}) / sum by (host) (${rate(requests)})`,
          legend: "{{host}}",
        },
      ],
    }),
    timeSeriesPanel({
      title: "Request time",
      description: `Time nginx took to answer ($request_time), all hosts. The line is the p95 alert threshold (${thresholds.p95LatencyMs} ms).`,
      width: 12,
      unit: "s",
      min: 0,
      limit: { above: thresholds.p95LatencyMs / 1000 },
      series: [0.5, 0.95, 0.99].map((quantile) => ({
        expr: `histogram_quantile(${quantile}, sum by (le) (${rate(requestBuckets)}))`,
        legend: `p${Math.round(quantile * 100)}`,
      })),
    }),
  ];
  if (settings.loginPath !== undefined) {
    const logins = selector(requests, equals("login", "true"));
    const succeeded = selector(requests, equals("login", "true"), matches("status", LOGIN_SUCCESS_STATUS));
    panels.push(
      timeSeriesPanel({
        title: "Login success",
        description:
          `Share of requests to ${settings.loginPath} answered 2xx or 3xx. ` +
          `The line is the alert threshold (${thresholds.minLoginSuccessPercent}%).`,
        width: 12,
        unit: "percent",
        min: 0,
        max: 100,
        limit: { below: thresholds.minLoginSuccessPercent },
        series: [{ expr: `100 * sum(${rate(succeeded)}) / sum(${rate(logins)})`, legend: "success" }],
      }),
    );
  }
  return { title: "Traffic", panels };
}

function hostSection(settings: ObservabilitySettings): Section {
  const { thresholds } = settings;
  const node = equals("job", JOBS.node);
  const watched = matches("mountpoint", oneOf(WATCHED_MOUNTPOINTS));
  return {
    title: "Droplet",
    panels: [
      timeSeriesPanel({
        title: "CPU busy",
        description: "Share of CPU time not idle, all cores (node-exporter).",
        width: 8,
        unit: "percent",
        min: 0,
        max: 100,
        series: [{ expr: `100 * (1 - avg(${rate(selector("node_cpu_seconds_total", node, equals("mode", "idle")))}))`, legend: "busy" }],
      }),
      timeSeriesPanel({
        title: "Memory available",
        description: `MemAvailable as a share of all memory (node-exporter). The line is the alert threshold (${thresholds.minMemoryAvailablePercent}%).`,
        width: 8,
        unit: "percent",
        min: 0,
        max: 100,
        limit: { below: thresholds.minMemoryAvailablePercent },
        series: [
          {
            expr: `100 * ${selector("node_memory_MemAvailable_bytes", node)} / ${selector("node_memory_MemTotal_bytes", node)}`,
            legend: "available",
          },
        ],
      }),
      timeSeriesPanel({
        title: "Disk free",
        description: `Free space on / and ${DATA_MOUNT} (node-exporter). The line is the alert threshold (${thresholds.minDiskFreePercent}%).`,
        width: 8,
        unit: "percent",
        min: 0,
        max: 100,
        limit: { below: thresholds.minDiskFreePercent },
        series: [
          {
            expr: `100 * ${selector("node_filesystem_avail_bytes", node, watched)} / ${selector("node_filesystem_size_bytes", node, watched)}`,
            legend: "{{mountpoint}}",
          },
        ],
      }),
    ],
  };
}

function containersSection(): Section {
  const named = [equals("job", JOBS.containers), differs("name", "")];
  return {
    title: "Containers",
    panels: [
      timeSeriesPanel({
        title: "Container CPU",
        description: "CPU time per second by container (cAdvisor): 100% is one core.",
        width: 12,
        unit: "percentunit",
        min: 0,
        series: [{ expr: `sum by (name) (${rate(selector("container_cpu_usage_seconds_total", ...named))})`, legend: "{{name}}" }],
      }),
      timeSeriesPanel({
        title: "Container memory",
        description: "Working set by container (cAdvisor): the memory the kernel will not reclaim, which the OOM killer goes by.",
        width: 12,
        unit: "bytes",
        min: 0,
        series: [{ expr: `sum by (name) (${selector("container_memory_working_set_bytes", ...named)})`, legend: "{{name}}" }],
      }),
    ],
  };
}

function redisSection(): Section {
  const redis = equals("job", JOBS.redis);
  return {
    title: "Redis",
    panels: [
      timeSeriesPanel({
        title: "Redis memory",
        description: "Memory Redis uses for data, against its maxmemory (redis_exporter).",
        width: 12,
        unit: "bytes",
        min: 0,
        series: [
          { expr: selector("redis_memory_used_bytes", redis), legend: "used" },
          { expr: selector("redis_memory_max_bytes", redis), legend: "maxmemory" },
        ],
      }),
      timeSeriesPanel({
        title: "Redis clients",
        description: "Client connections, and those blocked waiting on a list or stream (redis_exporter).",
        width: 12,
        unit: "short",
        min: 0,
        series: [
          { expr: selector("redis_connected_clients", redis), legend: "connected" },
          { expr: selector("redis_blocked_clients", redis), legend: "blocked" },
        ],
      }),
    ],
  };
}

/** Lines that say error, fatal, panic or exception, in any case, from any of this stack's containers. */
export function errorLogsQuery(settings: ObservabilitySettings): string {
  return `${streamSelector(...stackStreams(settings, LOG_LABELS.containersJob))} |~ \`(?i)\\b(error|fatal|panic|exception)\\b\``;
}

function logsSection(settings: ObservabilitySettings): Section {
  return {
    title: "Logs",
    panels: [
      logsPanel({
        title: "Recent errors",
        description: `Container log lines mentioning an error (Loki). The ${LOG_LABELS.role} label names the container's role.`,
        width: 24,
        height: 12,
        maxLines: 200,
        expr: errorLogsQuery(settings),
      }),
    ],
  };
}

export function overviewDashboard(settings: ObservabilitySettings): Dashboard {
  return dashboard({
    uid: OVERVIEW_UID,
    title: "Overview",
    description: `${settings.name}: traffic, the droplet, containers, Redis and errors.`,
    sections: [trafficSection(settings), hostSection(settings), containersSection(), redisSection(), logsSection(settings)],
    annotations: [deployAnnotation(settings)],
  });
}
