// Runs `npm run check`'s entry point as users do, on a committed stack file or on a
// modified copy, and returns its exit status and --json report.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
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
  const committed = options.configFile === undefined && (options.extraArgs ?? []).length === 0;
  const cached = committed ? committedStackReport(stack, options.json !== false) : undefined;
  if (cached?.report) return cached.report;
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
  cached?.save(report);
  return report;
}

/**
 * The check of a committed stack file, as it stands, is the same for every test file of one
 * `npm test` run, and a dozen files ask for it. tools/run-tests.mjs gives each run a temp
 * folder of its own (TMPDIR) and says so in DROPSTACK_TEST_RUN, so a report is kept there
 * for the rest of that run, and never outlives the sources it was made from. The key
 * includes the environment, which some tests change.
 */
function committedStackReport(stack: string, json: boolean): { report?: CheckReport; save: (report: CheckReport) => void } | undefined {
  const runDir = process.env.DROPSTACK_TEST_RUN;
  if (!runDir) return undefined;
  const key = createHash("sha256")
    .update(JSON.stringify([stack, json, Object.entries(process.env).sort()]))
    .digest("hex");
  const file = path.join(runDir, `check-${key}.json`);
  try {
    return { report: JSON.parse(readFileSync(file, "utf8")) as CheckReport, save: () => undefined };
  } catch {
    return {
      save: (report) => {
        // Written whole under a name of its own, then renamed: a file reading it at the same
        // time sees all of it or nothing.
        writeFileSync(`${file}.${process.pid}`, JSON.stringify(report));
        renameSync(`${file}.${process.pid}`, file);
      },
    };
  }
}

/** A copy of a committed stack file with top-level `dropstack:` keys changed by `edit`. */
export function writeStackVariant(stack: string, edit: (config: Record<string, unknown>) => void): string {
  const document = parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  edit(document.config);
  const file = path.join(mkdtempSync(path.join(tmpdir(), "dropstack-stack-")), `Pulumi.${stack}.yaml`);
  writeFileSync(file, stringify(document));
  return file;
}
