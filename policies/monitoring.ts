// Monitoring policies: every alert reaches someone, and a production stack is watched
// (an uptime check on the API plus uptime and droplet alerts). components/monitoring
// creates the alerts only when dropstack:alerts.emails lists someone.
import * as digitalocean from "@pulumi/digitalocean";
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { asList } from "./util";

const UPTIME_CHECK = "digitalocean:index/uptimeCheck:UptimeCheck";
const UPTIME_ALERT = "digitalocean:index/uptimeAlert:UptimeAlert";
const MONITOR_ALERT = "digitalocean:index/monitorAlert:MonitorAlert";

interface Recipients {
  emails?: string[];
  slacks?: unknown[];
}

/** True when a notification block names at least one email address or Slack channel. */
export function hasRecipients(recipients: Recipients | undefined): boolean {
  if (!recipients) return false;
  const emails = (recipients.emails ?? []).filter((e) => typeof e === "string" && e.trim().length > 0);
  return emails.length > 0 || (recipients.slacks ?? []).length > 0;
}

const NO_RECIPIENTS = "notifies nobody: list at least one address in dropstack:alerts.emails";

export const alertsHaveRecipients: ResourceValidationPolicy = {
  name: "monitoring-alerts-have-recipients",
  description: "Every uptime and droplet alert notifies at least one email address or Slack channel.",
  validateResource: (args, reportViolation) => {
    // asType answers undefined for a resource of another type, so each check sees only its own.
    const uptimeAlert = args.asType(digitalocean.UptimeAlert);
    if (uptimeAlert && !asList<Recipients>(uptimeAlert.notifications).some((n) => hasRecipients(n)))
      reportViolation(`uptime alert ${args.name} ${NO_RECIPIENTS}`);
    const dropletAlert = args.asType(digitalocean.MonitorAlert);
    if (dropletAlert && !hasRecipients(dropletAlert.alerts as Recipients | undefined))
      reportViolation(`droplet alert ${args.name} ${NO_RECIPIENTS}`);
  },
};

export const monitoringConfigured: StackValidationPolicy = {
  name: "monitoring-alerts-configured",
  description:
    "The stack has an uptime check on the API with uptime alerts, and droplet (CPU, memory, disk) alerts, so someone hears about an outage.",
  validateStack: (args, reportViolation) => {
    const count = (type: string) => args.resources.filter((r) => r.type === type).length;
    if (count(UPTIME_CHECK) === 0) {
      reportViolation("no uptime check watches the API: create the Monitoring component (components/monitoring) in index.ts");
    }
    const missing = [
      ...(count(UPTIME_ALERT) === 0 ? ["uptime alerts (API down, slow, certificate expiring)"] : []),
      ...(count(MONITOR_ALERT) === 0 ? ["droplet alerts (CPU, memory, disk)"] : []),
    ];
    if (missing.length > 0) {
      reportViolation(
        `the stack has no ${missing.join(" and no ")}: list at least one address in dropstack:alerts.emails (an email of a member of the DigitalOcean team)`,
      );
    }
  },
};

export const monitoringPolicies = [alertsHaveRecipients, monitoringConfigured];
