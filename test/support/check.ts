// Runs `npm run check`'s entry point as users do, on a committed stack file or on a
// modified copy, and returns its exit status and --json report.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { ROOT, TS_NODE } from "./program";

export interface CheckReport {
  status: number;
  stdout: string;
  stderr: string;
  json?: {
    summary: { resources: number; mandatory: number; advisory: number };
    resources: { urn: string; type: string; name: string; protect: boolean; parent?: string }[];
    deployOrder: string[][];
    violations: { policy: string; enforcementLevel: string; urn: string; message: string }[];
  };
}

export function runCheck(stack: string, options: { configFile?: string; json?: boolean; extraArgs?: string[] } = {}): CheckReport {
  const args = [
    path.join(ROOT, "tools/check/main.ts"),
    stack,
    ...(options.configFile ? ["--config-file", options.configFile] : []),
    ...(options.json === false ? [] : ["--json"]),
    ...(options.extraArgs ?? []),
  ];
  const result = spawnSync(process.execPath, [...TS_NODE, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const report: CheckReport = { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  if (options.json !== false && result.stdout.trim().startsWith("{")) report.json = JSON.parse(result.stdout);
  return report;
}

/** A copy of a committed stack file with top-level `dropstack:` keys changed by `edit`. */
export function writeStackVariant(stack: string, edit: (config: Record<string, unknown>) => void): string {
  const document = parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  edit(document.config);
  const file = path.join(mkdtempSync(path.join(tmpdir(), "dropstack-stack-")), `Pulumi.${stack}.yaml`);
  writeFileSync(file, stringify(document));
  return file;
}
