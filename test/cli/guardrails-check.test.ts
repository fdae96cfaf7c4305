// The guardrail policies through `npm run check`: the real analyzer, with the stack config
// and its secret keys handed over in ConfigureStack as the engine does.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCheck, writeStackVariant } from "../support/check";
import { checkUnsafeVariant } from "../support/unsafe-stacks";

const OTHER_DIGEST = `sha256:${"b".repeat(64)}`;

describe("npm run check: guardrail policies", () => {
  it("production: each unsafe change is a mandatory violation, the promotion override a visible advisory", () => {
    const file = writeStackVariant("production", (c) => {
      c["digitalocean:token"] = "dop_v1_plaintext";
      ((c["dropstack:app"] as Record<string, unknown>).env as Record<string, unknown>).STRIPE_SECRET_KEY = "sk_live_plain";
      (c["dropstack:tls"] as Record<string, unknown>).staging = true;
      c["dropstack:backups"] = { keep: 3, offsite: false };
      (c["dropstack:droplet"] as Record<string, unknown>).image = "ubuntu-20-04-x64";
      (c["dropstack:promotion"] as Record<string, unknown>).allowUnpromoted = true;
    });
    const outputs = join(mkdtempSync(join(tmpdir(), "staging-outputs-")), "outputs.json");
    writeFileSync(outputs, JSON.stringify({ promotedImage: `ghcr.io/acme/api:2.3.9@${OTHER_DIGEST}` }));
    const report = runCheck("production", { configFile: file, extraArgs: ["--staging-outputs", outputs] });
    assert.equal(report.status, 1, report.stderr);
    const levels = new Map(report.json?.violations.map((v) => [v.policy, v.enforcementLevel]));
    for (const policy of [
      "config-secrets-encrypted",
      "proxy-trusted-certificates",
      "backups-offsite-enabled",
      "backups-retention-minimum",
      "droplet-image-supported",
    ]) {
      assert.equal(levels.get(policy), "mandatory", `${policy}: ${JSON.stringify(report.json?.violations.map((v) => v.policy))}`);
    }
    const secrets = report.json?.violations.filter((v) => v.policy === "config-secrets-encrypted").map((v) => v.message) ?? [];
    // The analyzer's message is the policy's description, then the violation on its own line.
    assert.ok(
      secrets.some((m) => /^digitalocean:token is a credential stored in plain text/m.test(m)),
      secrets.join("\n"),
    );
    assert.ok(
      secrets.some((m) => /^dropstack:app\.env\.STRIPE_SECRET_KEY looks like a secret/m.test(m)),
      secrets.join("\n"),
    );
    assert.ok(!JSON.stringify(report.json?.violations).includes("sk_live_plain"));
    const override = report.json?.violations.find((v) => v.policy === "deploy-promotion-override");
    assert.equal(override?.enforcementLevel, "advisory");
    assert.match(
      override?.message ?? "",
      new RegExp(`sha256:3f1d2c4b[0-9a-f]{56} ships although acme/dropstack/staging promoted ${OTHER_DIGEST}`),
    );
  });

  it("staging: plain credentials are advisory", () => {
    // Staging's shared unsafe variant stores auth0:clientSecret in plain text, among other edits.
    const report = checkUnsafeVariant("staging");
    assert.equal(report.status, 0, report.stderr);
    const found = report.json?.violations.find((v) => v.policy === "config-secrets-encrypted");
    assert.equal(found?.enforcementLevel, "advisory");
    assert.match(found?.message ?? "", /^auth0:clientSecret is a credential stored in plain text/m);
  });
});
