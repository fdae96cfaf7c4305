// The monitoring is configurable in staging: turned on there (with hosts.monitoring and a
// mail relay), the check passes the whole policy pack, nginx serves Grafana's host, and every
// monitoring file is emitted and accepted by the programs that read it here.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { parse, stringify } from "yaml";
import { ALERT_RULES_FILE } from "../../components/observability/rules";
import { makeTempDir } from "../../tools/lib/system";
import { type CheckReport, runCheck } from "../support/check";
import { ROOT } from "../support/program";
import { scriptArgv } from "../support/scripts";

describe("staging with dropstack:observability.enabled", () => {
  let report: CheckReport;
  let dir: string;

  before(() => {
    dir = makeTempDir("observability-staging");
    const stack = parse(readFileSync(join(ROOT, "Pulumi.staging.yaml"), "utf8")) as { config: Record<string, unknown> };
    stack.config["dropstack:hosts"] = { ...(stack.config["dropstack:hosts"] as object), monitoring: "grafana.staging.example.com" };
    stack.config["dropstack:observability"] = {
      enabled: true,
      loginPath: "/auth/login",
      smtp: { smarthost: "smtp.example.com:587", from: "alerts@example.com" },
    };
    const file = join(dir, "Pulumi.staging.yaml");
    writeFileSync(file, stringify(stack));
    report = runCheck("staging", { configFile: file, extraArgs: ["--emit", join(dir, "emitted")] });
  });

  test("passes the whole policy pack with the monitoring on", () => {
    assert.equal(report.status, 0, report.stderr + report.stdout);
    assert.deepEqual(
      report.json?.violations.filter((v) => v.policy.startsWith("observability-")),
      [],
      "the staging droplet (s-2vcpu-4gb) has the memory",
    );
    const names = (report.json?.resources ?? []).map((r) => r.name);
    assert.ok(names.includes("dropstack-staging-grafana"), "Grafana's container is registered");
  });

  test("emits every monitoring file, and each validator here accepts it", () => {
    const emitted = readdirSync(join(dir, "emitted"));
    for (const file of ["prometheus.yml", ALERT_RULES_FILE, "alertmanager.yml", "blackbox.yml", "loki.yaml", "config.alloy"])
      assert.ok(emitted.includes(file), file);
    assert.match(readFileSync(join(dir, "emitted", "nginx.conf"), "utf8"), /server_name grafana\.staging\.example\.com;/);
    const files = ["prometheus.yml", ALERT_RULES_FILE, "alertmanager.yml", "blackbox.yml"].map((f) => join(dir, "emitted", f));
    const output = execFileSync(process.execPath, [...scriptArgv("validate-emitted", []), ...files], { cwd: ROOT, encoding: "utf8" });
    assert.equal(output.match(/^valid /gm)?.length, 4, output);
  });
});
