// From the validated stack config to ObservabilitySettings: the defaults that depend on
// other keys (Grafana's host, the hosts nginx holds certificates for) are decided here, once.
import { API_ALIAS } from "../common/names";
import { REDIS_HOST_ALIAS } from "../cache";
import { REDIS_DEFAULT_PORT } from "../cache/render";
import { backendConnections } from "../database/settings";
import { BACKUP_PROBE, CHECK_INTERVAL_MINUTES } from "../hooks/schedule";
import { DEFAULT_ALERT_THRESHOLDS, type ObservabilitySettings } from "./settings";

export interface ObservabilityInput {
  project: string;
  stack: string;
  domain: string;
  hosts: { api: string; app?: string; monitoring?: string };
  appPort: number;
  alertEmails: readonly string[];
  /** dropstack:postgres.size: its connection limit is what the connections alert measures against. */
  postgres: { size: string };
  /** dropstack:scale: past one droplet the certificates are the load balancer's. */
  scale?: { droplets: number };
  observability: {
    metricsRetentionSize: string;
    metricsRetentionDays: number;
    logRetentionDays: number;
    loginPath?: string;
    appMetricsPath?: string;
    smtp?: { smarthost: string; from: string; username?: string; requireTls: boolean };
    webhookUrl?: unknown;
    remoteLoki?: { url: string; username?: string };
    thresholds?: Partial<ObservabilitySettings["thresholds"]>;
  };
}

/** Grafana's FQDN: dropstack:hosts.monitoring, else monitoring.<domain>. */
export function monitoringHost(domain: string, hosts: { monitoring?: string }): string {
  return hosts.monitoring ?? `monitoring.${domain}`;
}

/** The settings every renderer takes; `nginxContainer` is the Proxy's nginx container name. */
export function observabilitySettings(input: ObservabilityInput, nginxContainer: string): ObservabilitySettings {
  const o = input.observability;
  const grafanaHost = monitoringHost(input.domain, input.hosts);
  const smtp = o.smtp && {
    smarthost: o.smtp.smarthost,
    from: o.smtp.from,
    requireTls: o.smtp.requireTls,
    ...(o.smtp.username !== undefined ? { username: o.smtp.username } : {}),
  };
  const remoteLoki = o.remoteLoki && {
    url: o.remoteLoki.url,
    ...(o.remoteLoki.username !== undefined ? { username: o.remoteLoki.username } : {}),
  };
  return {
    name: `${input.project}-${input.stack}`,
    stack: input.stack,
    monitoringHost: grafanaHost,
    tlsHosts: [input.hosts.api, ...(input.hosts.app ? [input.hosts.app] : []), grafanaHost],
    nginxContainer,
    ...((input.scale?.droplets ?? 1) > 1 ? { certificatesAtLoadBalancer: true } : {}),
    backupProbe: { host: input.hosts.api, path: BACKUP_PROBE.path },
    app: { alias: API_ALIAS, port: input.appPort, ...(o.appMetricsPath !== undefined ? { metricsPath: o.appMetricsPath } : {}) },
    redis: { alias: REDIS_HOST_ALIAS, port: REDIS_DEFAULT_PORT },
    ...(o.loginPath !== undefined ? { loginPath: o.loginPath } : {}),
    metricsRetentionSize: o.metricsRetentionSize,
    metricsRetentionDays: o.metricsRetentionDays,
    logRetentionDays: o.logRetentionDays,
    ...(remoteLoki ? { remoteLoki } : {}),
    alertEmails: [...input.alertEmails],
    ...(smtp ? { smtp } : {}),
    webhook: o.webhookUrl !== undefined,
    thresholds: { ...DEFAULT_ALERT_THRESHOLDS, ...o.thresholds },
    backupCheckIntervalMinutes: CHECK_INTERVAL_MINUTES,
    databaseConnectionLimit: backendConnections(input.postgres.size),
  };
}
