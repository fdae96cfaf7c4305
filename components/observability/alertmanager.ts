// alertmanager.yml: who hears about an alert and how often. Rendered for both Debian's
// Alertmanager 0.25 (whose amtool checks it in the system tests) and the image in settings.ts
// (0.28); secrets stay in files beside it (CONFIG_PATHS), never in it.
//
// The webhook is a Slack-compatible incoming webhook (slack_configs.api_url_file): the
// generic webhook integration reads its URL from a file (url_file) only from Alertmanager
// 0.26 on, and 0.25 rejects the field, so the one integration both versions read from a
// file is Slack's. Slack, Mattermost, Rocket.Chat and Discord (its /slack URL) accept it.
import { isIP } from "node:net";
import { EMAIL } from "../common/patterns";
import { isHostname } from "../config/hostname";
import { controlCharacterAt } from "../config/text";
import { isPort } from "../proxy/upstream";
import { renderConfigYaml } from "./prometheus";
import { ALERT_SEVERITIES, CONFIG_PATHS, WATCHDOG_ALERT, type ObservabilitySettings } from "./settings";

/** The receiver every alert goes to: each configured email address and the webhook. */
export const RECIPIENTS_RECEIVER = "recipients";
/** The receiver of the Watchdog alert: it has no integrations, so it notifies no one. */
export const WATCHDOG_RECEIVER = "watchdog";

/** The labels a notification groups alerts by: one mail per alert name and stack. */
export const GROUP_BY = ["alertname", "stack"] as const;

/**
 * How long Alertmanager waits for more alerts of a new group before the first notification,
 * how long before telling about alerts added to a group already notified, and how long before
 * repeating an unchanged one that still fires (one reminder each half working day).
 */
export const NOTIFICATION_TIMING = { groupWait: "30s", groupInterval: "5m", repeatInterval: "4h" } as const;

const describe = (value: unknown) => JSON.stringify(value);

function smarthostProblem(smarthost: string): string | undefined {
  const match = /^([^:]+):([0-9]+)$/.exec(smarthost);
  if (match && (isHostname(match[1]) || isIP(match[1]) === 4) && isPort(Number(match[2]))) return undefined;
  return `expected host:port like smtp.example.com:587 or 10.0.0.5:25, got ${describe(smarthost)}`;
}

/** Every problem with the settings alertmanager.yml reads, as `setting: message`. */
export function validateAlertmanagerSettings(settings: ObservabilitySettings): string[] {
  const problems: string[] = [];
  const add = (setting: string, message: string) => problems.push(`${setting}: ${message}`);
  for (const email of settings.alertEmails) {
    if (!EMAIL.test(email) || controlCharacterAt(email) >= 0)
      add("dropstack:alerts.emails", `expected email addresses like ops@example.com, got ${describe(email)}`);
  }
  const duplicates = settings.alertEmails.filter((email, index) => settings.alertEmails.indexOf(email) !== index);
  if (duplicates.length > 0) add("dropstack:alerts.emails", `lists ${describe(duplicates[0])} twice`);
  const smtp = settings.smtp;
  if (settings.alertEmails.length > 0 && smtp === undefined)
    add(
      "dropstack:observability.smtp",
      "is required to send alerts to dropstack:alerts.emails (smarthost, from, and a username when the relay needs one)",
    );
  if (smtp !== undefined) {
    const smarthost = smarthostProblem(smtp.smarthost);
    if (smarthost) add("dropstack:observability.smtp.smarthost", smarthost);
    if (!EMAIL.test(smtp.from) || controlCharacterAt(smtp.from) >= 0)
      add("dropstack:observability.smtp.from", `expected an email address like alerts@example.com, got ${describe(smtp.from)}`);
    if (smtp.username !== undefined && (smtp.username.length === 0 || /\s/.test(smtp.username) || controlCharacterAt(smtp.username) >= 0))
      add("dropstack:observability.smtp.username", `expected a user name without spaces, got ${describe(smtp.username)}`);
  }
  return problems;
}

/** Outgoing mail, shared by every email integration; the password is read from its file. */
function smtpGlobals(settings: ObservabilitySettings) {
  const smtp = settings.smtp;
  if (smtp === undefined || settings.alertEmails.length === 0) return {};
  return {
    smtp_from: smtp.from,
    smtp_smarthost: smtp.smarthost,
    ...(smtp.username !== undefined
      ? { smtp_auth_username: smtp.username, smtp_auth_password_file: CONFIG_PATHS.alertmanagerSmtpPasswordFile }
      : {}),
    smtp_require_tls: smtp.requireTls,
  };
}

function recipientsReceiver(settings: ObservabilitySettings) {
  return {
    name: RECIPIENTS_RECEIVER,
    // One integration per address: a bounced address is retried on its own and does not hold
    // back the others' mail.
    ...(settings.alertEmails.length > 0 ? { email_configs: settings.alertEmails.map((to) => ({ to, send_resolved: true })) } : {}),
    ...(settings.webhook ? { slack_configs: [{ api_url_file: CONFIG_PATHS.alertmanagerWebhookUrlFile, send_resolved: true }] } : {}),
  };
}

/**
 * alertmanager.yml. Critical and warning alerts alike go to every email address and the
 * webhook; with neither configured the receiver notifies no one (production's policy refuses
 * that stack, the renderer does not). Throws, listing every problem, on invalid settings.
 */
export function renderAlertmanagerConfig(settings: ObservabilitySettings): string {
  const problems = validateAlertmanagerSettings(settings);
  if (problems.length > 0) throw new Error(`invalid alerting settings: ${problems.join("; ")}`);
  const config = {
    global: smtpGlobals(settings),
    route: {
      receiver: RECIPIENTS_RECEIVER,
      group_by: [...GROUP_BY],
      group_wait: NOTIFICATION_TIMING.groupWait,
      group_interval: NOTIFICATION_TIMING.groupInterval,
      repeat_interval: NOTIFICATION_TIMING.repeatInterval,
      routes: [
        // The Watchdog fires all the time to show that rules run and alerts arrive here; mailed,
        // it would be a message every repeat interval forever. It stays visible in Alertmanager
        // and Grafana, and its absence there is the signal.
        { receiver: WATCHDOG_RECEIVER, matchers: [`alertname="${WATCHDOG_ALERT}"`] },
      ],
    },
    inhibit_rules: [
      // A warning says less than the critical alert of the same name, already sent.
      {
        source_matchers: [`severity="${ALERT_SEVERITIES.critical}"`],
        target_matchers: [`severity="${ALERT_SEVERITIES.warning}"`],
        equal: [...GROUP_BY],
      },
    ],
    receivers: [recipientsReceiver(settings), { name: WATCHDOG_RECEIVER }],
  };
  return renderConfigYaml("alertmanager.yml for the Observability component.", config);
}
