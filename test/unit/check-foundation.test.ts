import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCheck, writeStackVariant } from "../support/check";

describe("npm run check (foundation)", () => {
  it("passes both committed stacks and lists the foundation resources", () => {
    for (const stack of ["staging", "production"]) {
      const report = runCheck(stack);
      assert.equal(report.status, 0, `${stack}: ${report.stderr}\n${JSON.stringify(report.json?.violations, null, 2)}`);
      const types = new Set(report.json?.resources.map((r) => r.type));
      for (const type of [
        "digitalocean:index/vpc:Vpc", "digitalocean:index/firewall:Firewall", "digitalocean:index/droplet:Droplet",
        "digitalocean:index/volume:Volume", "digitalocean:index/reservedIp:ReservedIp", "pulumi:providers:docker",
      ]) assert.ok(types.has(type), `${stack} has no ${type}`);
    }
  });

  it("exits 1 naming the policy when production opens SSH to the world", () => {
    const file = writeStackVariant("production", (c) => { c["dropstack:adminCidrs"] = ["0.0.0.0/0"]; });
    const report = runCheck("production", { configFile: file });
    assert.equal(report.status, 1, report.stderr);
    assert.ok(report.json?.violations.some((v) => v.policy === "firewall-no-public-admin-ports" && v.enforcementLevel === "mandatory"));
  });

  it("exits 1 naming the policy when production turns droplet backups off", () => {
    const file = writeStackVariant("production", (c) => { (c["dropstack:droplet"] as Record<string, unknown>).backups = false; });
    const report = runCheck("production", { configFile: file });
    assert.equal(report.status, 1, report.stderr);
    assert.ok(report.json?.violations.some((v) => v.policy === "droplet-backups-enabled" && v.enforcementLevel === "mandatory"));
  });

  it("only warns when staging has droplet backups off", () => {
    const report = runCheck("staging");
    assert.equal(report.status, 0);
    assert.ok(report.json?.violations.some((v) => v.policy === "droplet-backups-enabled" && v.enforcementLevel === "advisory"));
  });

  it("exits 2 and lists every bad key for malformed config", () => {
    const file = writeStackVariant("staging", (c) => {
      c["dropstack:region"] = "mars1";
      (c["dropstack:app"] as Record<string, unknown>).port = "eighty";
      (c["dropstack:hosts"] as Record<string, unknown>).api = "not a hostname";
    });
    const report = runCheck("staging", { configFile: file, json: false });
    assert.equal(report.status, 2);
    assert.match(report.stderr, /dropstack:region: expected a DigitalOcean region slug/);
    assert.match(report.stderr, /dropstack:app\.port: expected integer, got "eighty"/);
    assert.match(report.stderr, /dropstack:hosts\.api: expected a fully qualified hostname/);
  });

  it("exits 2 for an unknown stack or bad arguments", () => {
    assert.equal(runCheck("nosuchstack", { json: false }).status, 2);
    assert.equal(runCheck("staging", { json: false, extraArgs: ["--bogus"] }).status, 2);
  });
});
