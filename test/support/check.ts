// Runs `npm run check`'s entry point as users do, on a committed stack file or on a
// modified copy, and returns its exit status and --json report.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { ROOT, TS_NODE } from "./program";
import { sharedInRun } from "./shared-in-run";

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
  const json = options.json !== false;
  const shareable = (options.extraArgs ?? []).length === 0 && (options.configFile === undefined || isSharedVariant(options.configFile));
  // A committed stack's check, or a shared variant's, is the same for every file of the run.
  return shareable
    ? sharedInRun("check", [stack, options.configFile ?? null, json], () => spawnCheck(stack, options))
    : spawnCheck(stack, options);
}

function spawnCheck(stack: string, options: { configFile?: string; json?: boolean; extraArgs?: string[] }): CheckReport {
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

/**
 * Asserts that the deploy order `npm run check` prints (without --json) names every step on a
 * line of its own section, each on the line of the step before it or a later one. A step is a
 * regular expression its name ends with, followed on the line by a comma, a space or the
 * line's end. Answers the section and the steps' lines.
 */
export function assertPrintedInOrder(stdout: string, stepEnds: string[]): { section: string; lines: number[] } {
  const section = stdout.slice(stdout.indexOf("Deploy order"));
  const sectionLines = section.split("\n");
  const lines = stepEnds.map((stepEnd) => sectionLines.findIndex((l) => new RegExp(`${stepEnd}(,|$| )`).test(l)));
  assert.ok(
    lines.every((l) => l > 0),
    `${JSON.stringify(lines)}\n${section}`,
  );
  assert.deepEqual(
    [...lines].sort((a, b) => a - b),
    lines,
    section,
  );
  return { section, lines };
}

const SHARED_VARIANTS = "shared-stack-variants";

function isSharedVariant(configFile: string): boolean {
  const runDir = process.env.DROPSTACK_TEST_RUN;
  return !!runDir && path.dirname(path.dirname(configFile)) === path.join(runDir, SHARED_VARIANTS);
}

/**
 * writeStackVariant's file, at a path named after its contents in the run's folder: every
 * test file that makes the same variant gets the same path, and so shares one check of it.
 */
export function sharedStackVariant(stack: string, edit: (config: Record<string, unknown>) => void): string {
  const runDir = process.env.DROPSTACK_TEST_RUN;
  if (!runDir) return writeStackVariant(stack, edit);
  const text = stackVariantText(stack, edit);
  const dir = path.join(runDir, SHARED_VARIANTS, createHash("sha256").update(text).digest("hex").slice(0, 16));
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${file}.${process.pid}`, text);
    renameSync(`${file}.${process.pid}`, file);
  }
  return file;
}

function stackVariantText(stack: string, edit: (config: Record<string, unknown>) => void, source?: string): string {
  const document = parse(readFileSync(source ?? path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  edit(document.config);
  return stringify(document);
}

/** A copy of a committed stack file (or of `source`, e.g. an example) with top-level `dropstack:` keys changed by `edit`. */
export function writeStackVariant(stack: string, edit: (config: Record<string, unknown>) => void, source?: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "dropstack-stack-")), `Pulumi.${stack}.yaml`);
  writeFileSync(file, stackVariantText(stack, edit, source));
  return file;
}

/**
 * `npm run check -- <stack> --json --emit <dir>` on a committed stack: its report and the
 * folder the server files went to. Within a run the check is made once and the folder shared
 * (each file would otherwise make the same check again), so readers must not change the files.
 */
export function emittedCommittedStack(stack: string): { report: CheckReport; dir: string } {
  const runDir = process.env.DROPSTACK_TEST_RUN;
  const dir = runDir ? path.join(runDir, "shared-emits", stack) : mkdtempSync(path.join(tmpdir(), `dropstack-emit-${stack}-`));
  // Outside a run the folder is this process's; a run removes its own folder.
  if (!runDir) process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const report = sharedInRun("emit", [stack, dir], () => {
    mkdirSync(dir, { recursive: true });
    return spawnCheck(stack, { extraArgs: ["--emit", dir] });
  });
  return { report, dir };
}
