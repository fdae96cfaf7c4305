import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type CheckReport, runCheck, writeStackVariant } from "../support/check";
import { checkUnsafeVariant } from "../support/unsafe-stacks";

describe("npm run check (foundation)", () => {
  // The committed stacks' reports, each made once and read by every test that needs it.
  const reports = new Map<string, CheckReport>();
  function committed(stack: string): CheckReport {
    const report = reports.get(stack) ?? runCheck(stack);
    reports.set(stack, report);
    return report;
  }

  it("passes both committed stacks and lists the foundation resources", () => {
    for (const stack of ["staging", "production"]) {
      const report = committed(stack);
      assert.equal(report.status, 0, `${stack}: ${report.stderr}\n${JSON.stringify(report.json?.violations, null, 2)}`);
      const types = new Set(report.json?.resources.map((r) => r.type));
      for (const type of [
        "digitalocean:index/vpc:Vpc",
        "digitalocean:index/firewall:Firewall",
        "digitalocean:index/droplet:Droplet",
        "digitalocean:index/volume:Volume",
        "digitalocean:index/reservedIp:ReservedIp",
        "pulumi:providers:docker",
      ])
        assert.ok(types.has(type), `${stack} has no ${type}`);
    }
  });

  // Production's shared unsafe variant opens the admin ports to the world and turns droplet
  // backups off, among other edits (test/support/unsafe-stacks.ts).
  it("exits 1 naming the policy on the firewall when production opens SSH to the world", () => {
    const report = checkUnsafeVariant("production");
    assert.equal(report.status, 1, report.stderr);
    const found = report.json?.violations.find((v) => v.policy === "firewall-no-public-admin-ports");
    assert.equal(found?.enforcementLevel, "mandatory");
    assert.match(found?.urn ?? "", /digitalocean:index\/firewall:Firewall::dropstack-production-firewall$/);
    assert.match(found?.message ?? "", /0\.0\.0\.0\/0/);
  });

  it("exits 1 naming the policy on the droplet when production turns droplet backups off", () => {
    const report = checkUnsafeVariant("production");
    assert.equal(report.status, 1, report.stderr);
    const found = report.json?.violations.find((v) => v.policy === "droplet-backups-enabled");
    assert.equal(found?.enforcementLevel, "mandatory");
    assert.match(found?.urn ?? "", /digitalocean:index\/droplet:Droplet::dropstack-production-droplet$/);
  });

  it("only warns when staging has droplet backups off", () => {
    const report = committed("staging");
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
    assert.match(report.stderr, /dropstack:app\.port: must be a whole number from 1 to 65535, got "eighty"/);
    assert.match(report.stderr, /dropstack:hosts\.api: expected a fully qualified hostname/);
    // Nothing but the errors: no preview banner, no runtime warnings, nothing on stdout.
    assert.equal(report.stdout, "");
    assert.deepEqual(
      report.stderr
        .trim()
        .split("\n")
        .filter((l) => !/^error: invalid config|^ {2}dropstack:/.test(l)),
      [],
    );
  });

  it("exits 2 for unknown top-level keys and a newline in app.env, naming each", () => {
    const file = writeStackVariant("production", (c) => {
      c["dropstack:adminCidr"] = ["198.51.100.0/24"];
      ((c["dropstack:app"] as Record<string, unknown>).env as Record<string, unknown>).LOG_LEVEL = "info\nDATABASE_URL=postgres://evil";
    });
    const report = runCheck("production", { configFile: file, json: false });
    assert.equal(report.status, 2, report.stderr);
    assert.match(report.stderr, /dropstack:adminCidr: unknown key; did you mean dropstack:adminCidrs\?/);
    assert.match(report.stderr, /dropstack:app\.env\.LOG_LEVEL: contains a line break/);
  });

  it("exits 2 for an unknown stack, listing the stacks and how to add one", () => {
    const report = runCheck("nosuchstack", { json: false });
    assert.equal(report.status, 2);
    // Other tests may add a stack of their own meanwhile: production and staging are among those listed.
    const listed = /unknown stack "nosuchstack".*the stacks here are: (.*)/.exec(report.stderr)?.[1].split(", ");
    assert.ok(listed?.includes("production") && listed.includes("staging"), report.stderr);
    assert.match(report.stderr, /npm run new-stack -- nosuchstack/);
    assert.match(
      report.stderr,
      /cp Pulumi\.staging\.yaml Pulumi\.nosuchstack\.yaml && cp policies\/staging\.json policies\/nosuchstack\.json/,
    );
    assert.equal(runCheck("staging", { json: false, extraArgs: ["--bogus"] }).status, 2);
  });

  it("exits 2 before the program runs when --emit names a file or an unwritable place", () => {
    const file = join(mkdtempSync(join(tmpdir(), "emit-")), "a-file");
    writeFileSync(file, "");
    for (const target of [file, join(file, "sub"), "/proc/dropstack-emit"]) {
      const report = runCheck("staging", { json: false, extraArgs: ["--emit", target] });
      assert.equal(report.status, 2, target);
      assert.match(report.stderr, /^error: --emit /, target);
      assert.equal(report.stdout, "", target);
    }
  });
});
