// secretObservability: the mail relay's and remote Loki's passwords and the webhook URL reach
// the components as secret Outputs holding the configured value, every other key is passed on
// unchanged, and a block or password left out stays out. Cases combine each secret-bearing
// block present or absent, with and without its password.
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { describe, it } from "node:test";
import { secretObservability } from "../../components/config";
import { parseStackConfig } from "../../components/config/schema";
import { minimalConfig } from "../support/config";

const SMTP = { smarthost: "smtp.example.com:587", from: "alerts@example.com" };
const LOKI = { url: "https://logs.example.com/loki/api/v1/push" };
const SECRET_BEARING = ["smtp", "webhookUrl", "remoteLoki"];
const WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXX";

function observabilityOf(observability: Record<string, unknown>) {
  const raw = minimalConfig();
  Object.assign(raw, { observability: { enabled: true, ...observability } });
  const result = parseStackConfig(raw, "staging");
  assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
  return result.config.observability;
}

const valueOf = (output: pulumi.Output<string>) => new Promise<string>((resolve) => output.apply(resolve));

async function assertSecret(output: pulumi.Output<string> | undefined, value: string, what: string) {
  assert.ok(output !== undefined, `${what} is passed on`);
  assert.equal(await pulumi.isSecret(output), true, `${what} is secret`);
  assert.equal(await valueOf(output), value, `${what} keeps its value`);
}

describe("secretObservability", () => {
  it("wraps the relay password, the webhook URL and the Loki password as secrets, keeping every other key", async () => {
    const config = observabilityOf({
      smtp: { ...SMTP, username: "alerts", password: "relay-pass" },
      webhookUrl: WEBHOOK,
      remoteLoki: { ...LOKI, username: "tenant", password: "loki-pass" },
      loginPath: "/auth/login",
    });
    const loaded = secretObservability(config);
    const { smtp, webhookUrl, remoteLoki, ...rest } = loaded;
    const configRest = Object.fromEntries(Object.entries(config).filter(([key]) => !SECRET_BEARING.includes(key)));
    assert.deepEqual(rest, configRest);
    assert.ok(smtp);
    const { password: smtpPassword, ...smtpRest } = smtp;
    assert.deepEqual(smtpRest, { ...SMTP, username: "alerts", requireTls: true });
    await assertSecret(smtpPassword, "relay-pass", "smtp.password");
    await assertSecret(webhookUrl, WEBHOOK, "webhookUrl");
    assert.ok(remoteLoki);
    const { password: lokiPassword, ...lokiRest } = remoteLoki;
    assert.deepEqual(lokiRest, { ...LOKI, username: "tenant" });
    await assertSecret(lokiPassword, "loki-pass", "remoteLoki.password");
  });

  for (const block of ["smtp", "webhookUrl", "remoteLoki"] as const)
    it(`passes ${block} on alone when it is the only secret-bearing key set`, async () => {
      const given = {
        smtp: { ...SMTP, username: "u", password: "p1" },
        webhookUrl: WEBHOOK,
        remoteLoki: { ...LOKI, username: "t", password: "p2" },
      };
      const loaded = secretObservability(observabilityOf({ [block]: given[block] }));
      for (const other of ["smtp", "webhookUrl", "remoteLoki"] as const)
        if (other !== block) assert.equal(Object.hasOwn(loaded, other), false, `${other} stays out`);
      if (block === "smtp") await assertSecret(loaded.smtp?.password, "p1", "smtp.password");
      if (block === "webhookUrl") await assertSecret(loaded.webhookUrl, WEBHOOK, "webhookUrl");
      if (block === "remoteLoki") await assertSecret(loaded.remoteLoki?.password, "p2", "remoteLoki.password");
    });

  it("leaves a relay and a Loki without authentication without a password", () => {
    const loaded = secretObservability(observabilityOf({ smtp: SMTP, remoteLoki: LOKI }));
    assert.deepEqual(loaded.smtp, { ...SMTP, requireTls: true, password: undefined });
    assert.deepEqual(loaded.remoteLoki, { ...LOKI, password: undefined });
  });

  it("passes nothing secret on when none of them is set", () => {
    const config = observabilityOf({});
    assert.deepEqual(secretObservability(config), config);
  });
});
