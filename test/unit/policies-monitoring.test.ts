import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as digitalocean from "@pulumi/digitalocean";
import { alertsHaveRecipients, hasRecipients, monitoringConfigured } from "../../policies/monitoring";
import { FakeResource, resourceViolations, stackViolations, typeOf } from "../support/policy";

const UPTIME_CHECK = typeOf(digitalocean.UptimeCheck);
const UPTIME_ALERT = typeOf(digitalocean.UptimeAlert);
const MONITOR_ALERT = typeOf(digitalocean.MonitorAlert);

const uptimeAlert = (notifications: unknown): FakeResource => ({
  type: UPTIME_ALERT,
  name: "uptime-down",
  props: { checkId: "1001", type: "down", period: "3m", notifications },
});
const monitorAlert = (alerts: unknown): FakeResource => ({
  type: MONITOR_ALERT,
  name: "alert-cpu",
  props: { type: "v1/insights/droplet/cpu", compare: "GreaterThan", value: 90, window: "5m", entities: ["1002"], alerts },
});

describe("monitoring-alerts-have-recipients", () => {
  it("passes alerts that email someone or post to Slack", async () => {
    assert.deepEqual(await resourceViolations(alertsHaveRecipients, uptimeAlert([{ emails: ["ops@example.com"] }])), []);
    assert.deepEqual(await resourceViolations(alertsHaveRecipients, monitorAlert({ emails: ["ops@example.com"] })), []);
    assert.deepEqual(
      await resourceViolations(
        alertsHaveRecipients,
        monitorAlert({ slacks: [{ channel: "#ops", url: "https://hooks.slack.com/services/x" }] }),
      ),
      [],
    );
  });

  it("flags an uptime alert that notifies nobody, naming the config key", async () => {
    for (const notifications of [[{ emails: [] }], [], [{ emails: [" "] }], [{ slacks: [] }], [{}], undefined]) {
      const violations = await resourceViolations(alertsHaveRecipients, uptimeAlert(notifications));
      assert.equal(violations.length, 1, JSON.stringify(notifications));
      assert.match(violations[0], /uptime alert uptime-down notifies nobody: list at least one address in dropstack:alerts\.emails/);
    }
  });

  it("flags a droplet alert that notifies nobody", async () => {
    const violations = await resourceViolations(alertsHaveRecipients, monitorAlert({ emails: [] }));
    assert.equal(violations.length, 1);
    assert.match(violations[0], /droplet alert alert-cpu notifies nobody/);
  });

  it("reads recipients as DigitalOcean sends them", () => {
    assert.equal(hasRecipients(undefined), false);
    assert.equal(hasRecipients({ emails: [], slacks: [] }), false);
    assert.equal(hasRecipients({ slacks: [] }), false, "no emails listed is no emails");
    assert.equal(hasRecipients({}), false);
    assert.equal(hasRecipients({ emails: ["a@example.com"] }), true);
  });
});

describe("monitoring-alerts-configured", () => {
  const check: FakeResource = { type: UPTIME_CHECK, name: "uptime", props: { target: "https://api.example.com/health", type: "https" } };
  const watched = [check, uptimeAlert([{ emails: ["ops@example.com"] }]), monitorAlert({ emails: ["ops@example.com"] })];

  it("passes a stack with an uptime check, uptime alerts and droplet alerts", async () => {
    assert.deepEqual(await stackViolations(monitoringConfigured, watched), []);
  });

  it("flags a stack whose alerts were skipped for lack of emails", async () => {
    const violations = await stackViolations(monitoringConfigured, [check]);
    assert.equal(violations.length, 1);
    assert.match(violations[0], /no uptime alerts .* and no droplet alerts .*: list at least one address in dropstack:alerts\.emails/);
  });

  it("flags a stack without droplet alerts, and one without an uptime check", async () => {
    assert.match((await stackViolations(monitoringConfigured, watched.slice(0, 2)))[0], /^the stack has no droplet alerts/);
    const noCheck = await stackViolations(monitoringConfigured, watched.slice(1));
    assert.equal(noCheck.length, 1);
    assert.match(noCheck[0], /no uptime check watches the API/);
  });
});
