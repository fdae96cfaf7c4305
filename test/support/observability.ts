// ObservabilitySettings for the observability tests (unit and system): a staging stack with the
// default thresholds, which each test or file changes where it needs to.
import { API_ALIAS } from "../../components/common/names";
import { backendConnections } from "../../components/database/settings";
import { BACKUP_PROBE, CHECK_INTERVAL_MINUTES } from "../../components/hooks/schedule";
import type { DatabaseMetrics } from "../../components/observability/prometheus";
import {
  DEFAULT_ALERT_THRESHOLDS,
  type AlertThresholds,
  type ObservabilitySettings,
  type SmtpSettings,
} from "../../components/observability/settings";

export function observabilitySettings(
  overrides: Partial<Omit<ObservabilitySettings, "thresholds">> & { thresholds?: Partial<AlertThresholds> } = {},
): ObservabilitySettings {
  const { thresholds, ...rest } = overrides;
  return {
    name: "acme-staging",
    stack: "staging",
    monitoringHost: "monitoring.example.com",
    tlsHosts: ["api.example.com", "app.example.com", "monitoring.example.com"],
    nginxContainer: "acme-staging-nginx",
    backupProbe: { host: "api.example.com", path: BACKUP_PROBE.path },
    app: { alias: API_ALIAS, port: 8000 },
    redis: { alias: "redis", port: 6379 },
    metricsRetentionSize: "5GB",
    metricsRetentionDays: 15,
    logRetentionDays: 14,
    alertEmails: ["ops@example.com"],
    webhook: false,
    backupCheckIntervalMinutes: CHECK_INTERVAL_MINUTES,
    databaseConnectionLimit: backendConnections("db-s-1vcpu-1gb"),
    ...rest,
    thresholds: { ...DEFAULT_ALERT_THRESHOLDS, ...thresholds },
  };
}

/** Outgoing mail through a relay that takes a login, over STARTTLS. */
export const SMTP: SmtpSettings = { smarthost: "smtp.example.com:587", from: "alerts@example.com", username: "apikey", requireTls: true };

/** DigitalOcean's metrics endpoints of a database cluster and its standby, and the metrics user. */
export const DATABASE_METRICS: DatabaseMetrics = {
  targets: [
    "db-postgresql-nyc3-1-do-user-2-0.b.db.ondigitalocean.com:9273",
    "replica-db-postgresql-nyc3-1-do-user-2-0.b.db.ondigitalocean.com:9273",
  ],
  username: "doadmin-metrics",
};
