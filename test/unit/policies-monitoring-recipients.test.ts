// Alert recipients as the policy reads them: email lists holding values that are not strings
// (null, numbers, objects) next to blank and real addresses, and every other resource type
// (the uptime check, droplets, other alert kinds) left alone by the recipients check.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as digitalocean from "@pulumi/digitalocean";
import { alertsHaveRecipients, hasRecipients } from "../../policies/monitoring";
import { resourceViolations, typeOf } from "../support/policy";

const NOT_STRINGS: unknown[] = [null, undefined, 42, { address: "ops@example.com" }, ["ops@example.com"]];

describe("hasRecipients with values that are not addresses", () => {
  it("counts no one for emails that are not strings or are blank", () => {
    for (const value of NOT_STRINGS) {
      assert.equal(hasRecipients({ emails: [value as string] }), false, JSON.stringify(value));
      assert.equal(hasRecipients({ emails: [value as string, " ", ""] }), false, JSON.stringify(value));
    }
  });
  it("still counts a real address listed next to them", () => {
    for (const value of NOT_STRINGS) assert.equal(hasRecipients({ emails: [value as string, "ops@example.com"] }), true);
  });
});

describe("monitoring-alerts-have-recipients with values that are not addresses", () => {
  it("flags uptime and droplet alerts whose only emails are not strings", async () => {
    for (const value of NOT_STRINGS) {
      assert.deepEqual(
        await resourceViolations(alertsHaveRecipients, {
          type: typeOf(digitalocean.UptimeAlert),
          name: "uptime-down",
          props: { notifications: [{ emails: [value] }] },
        }),
        ["uptime alert uptime-down notifies nobody: list at least one address in dropstack:alerts.emails"],
      );
      assert.deepEqual(
        await resourceViolations(alertsHaveRecipients, {
          type: typeOf(digitalocean.MonitorAlert),
          name: "alert-cpu",
          props: { alerts: { emails: [value] } },
        }),
        ["droplet alert alert-cpu notifies nobody: list at least one address in dropstack:alerts.emails"],
      );
    }
  });

  it("leaves resources that are not alerts alone, recipients or not", async () => {
    for (const type of [
      typeOf(digitalocean.UptimeCheck),
      typeOf(digitalocean.Droplet),
      typeOf(digitalocean.Firewall),
      "aws:cloudwatch/metricAlarm:MetricAlarm",
    ]) {
      assert.deepEqual(
        await resourceViolations(alertsHaveRecipients, { type, name: "other", props: { notifications: [], alerts: {} } }),
        [],
        type,
      );
    }
  });
});
