// Uptime check on the API's health endpoint plus alerts (README "What one `pulumi up` does", Monitoring). Alerts
// need someone to tell: without dropstack:alerts.emails only the check is created, and
// the monitoring-alerts-configured policy refuses that in production.
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import {
  BACKUP_ALERT_RULE,
  DROPLET_ALERT_RULES,
  UPTIME_ALERT_RULES,
  backupProbeUrl,
  describeDropletAlert,
  healthCheckUrl,
  uptimeProbeRegions,
} from "./alerts";
import { componentType } from "../common/names";

export interface MonitoringArgs {
  /** The droplet's region (dropstack:region); picks the probe regions. */
  region: string;
  /** The droplets the CPU, memory and disk alerts watch (their monitoring agent must be on). */
  dropletIds: pulumi.Input<string>[];
  /** dropstack:hosts.api */
  apiHost: string;
  /** dropstack:app.healthPath */
  healthPath: string;
  /**
   * dropstack:alerts.emails. DigitalOcean only mails addresses that belong to members of
   * the team that owns the resources.
   */
  alertEmails: string[];
  /** Watch the droplet's backup freshness probe (components/hooks/schedule.ts). */
  backupProbe: boolean;
}

export class Monitoring extends pulumi.ComponentResource {
  readonly uptimeCheck: digitalocean.UptimeCheck;
  readonly uptimeAlerts: digitalocean.UptimeAlert[];
  readonly dropletAlerts: digitalocean.MonitorAlert[];
  readonly healthUrl: string;
  /** The backup freshness probe's check, when args.backupProbe. */
  readonly backupCheck?: digitalocean.UptimeCheck;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("Monitoring"), name, {}, opts);
    this.healthUrl = healthCheckUrl(args.apiHost, args.healthPath);

    this.uptimeCheck = new digitalocean.UptimeCheck(
      `${name}-uptime`,
      {
        name: `${name} ${args.apiHost} health`,
        target: this.healthUrl,
        type: "https",
        regions: uptimeProbeRegions(args.region),
        enabled: true,
      },
      { parent: this },
    );

    const emails = [...args.alertEmails];
    const notify = emails.length > 0;

    this.uptimeAlerts = notify
      ? UPTIME_ALERT_RULES.map(
          (rule) =>
            new digitalocean.UptimeAlert(
              `${name}-uptime-${rule.key}`,
              {
                name: `${name}: ${rule.summary}`,
                checkId: this.uptimeCheck.id,
                type: rule.type,
                period: rule.period,
                ...(rule.threshold !== undefined ? { threshold: rule.threshold } : {}),
                ...(rule.comparison !== undefined ? { comparison: rule.comparison } : {}),
                notifications: [{ emails }],
              },
              { parent: this },
            ),
        )
      : [];

    this.dropletAlerts = notify
      ? DROPLET_ALERT_RULES.map(
          (rule) =>
            new digitalocean.MonitorAlert(
              `${name}-alert-${rule.key}`,
              {
                description: describeDropletAlert(name, rule),
                type: rule.type,
                compare: "GreaterThan",
                value: rule.value,
                window: rule.window,
                entities: args.dropletIds,
                enabled: true,
                alerts: { emails },
              },
              { parent: this },
            ),
        )
      : [];

    if (args.backupProbe) {
      const backupCheck = new digitalocean.UptimeCheck(
        `${name}-${BACKUP_ALERT_RULE.key}`,
        {
          name: `${name} backups fresh`,
          target: backupProbeUrl(args.apiHost),
          type: "http",
          regions: uptimeProbeRegions(args.region),
          enabled: true,
        },
        { parent: this },
      );
      this.backupCheck = backupCheck;
      if (notify)
        this.uptimeAlerts.push(
          new digitalocean.UptimeAlert(
            `${name}-${BACKUP_ALERT_RULE.key}-stale`,
            {
              name: `${name}: ${BACKUP_ALERT_RULE.summary}`,
              checkId: backupCheck.id,
              type: BACKUP_ALERT_RULE.type,
              period: BACKUP_ALERT_RULE.period,
              notifications: [{ emails }],
            },
            { parent: this },
          ),
        );
    }

    this.registerOutputs({
      uptimeCheckId: this.uptimeCheck.id,
      healthUrl: this.healthUrl,
      alertEmails: emails,
    });
  }
}
