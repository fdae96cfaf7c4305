// What became of each user of a users:import run, from the jobs' answers, and the report
// written for it: JSON for tools and a summary for people. Users are named by their index in
// the input file, email and user_id only; Auth0's error messages are searched for the user's
// password hash and MFA secrets before they are kept (GET /jobs/{id}/errors echoes the user
// "as provided in the import file", hash included).
import type { Batch } from "./batches";
import { secretStrings, type ImportUser } from "./users-file";

/** Auth0's code for a user that already exists in the connection (upsert off). */
export const DUPLICATED_USER = "DUPLICATED_USER";

/** GET /api/v2/jobs/{id}: the fields the tool reads. */
export interface Job {
  id: string;
  status: string;
  status_details?: string;
  percentage_done?: number;
  summary?: { failed?: number; updated?: number; inserted?: number; total?: number };
}

/** One element of GET /api/v2/jobs/{id}/errors: the user as provided, and why it failed. */
export interface JobUserErrors {
  user?: Record<string, unknown>;
  errors?: { code?: string; message?: string; path?: string }[];
}

export type Outcome = "imported" | "skipped" | "failed" | "unconfirmed" | "not-run";
export const OUTCOMES: readonly Outcome[] = ["imported", "skipped", "failed", "unconfirmed", "not-run"];

export interface UserOutcome {
  /** Index in the input file; null for an error Auth0 reported about a user the batch cannot match. */
  index: number | null;
  email: string;
  userId?: string;
  batch: number;
  outcome: Outcome;
  reason?: string;
}

export interface BatchResult {
  batch: number;
  users: number;
  bytes: number;
  firstIndex: number;
  lastIndex: number;
  jobId?: string;
  jobStatus?: string;
  statusDetails?: string;
  /** Auth0's own counts for the job (inserted, updated, failed, total). */
  summary?: Job["summary"];
  /** Why the batch did not run, or why its outcome is unknown. */
  problem?: string;
  counts: Record<Outcome, number>;
}

/** What the run learned about one batch; absent parts mean the run never got that far. */
export interface BatchAnswer {
  job?: Job;
  /** The errors endpoint's array; undefined when it answered 204 (no errors) or was not asked. */
  errors?: JobUserErrors[];
  problem?: string;
}

const TERMINAL = ["completed", "failed"];

/** `text` with every secret replaced, so an echoed hash never reaches a log or report. */
export function redact(text: string, secrets: string[]): string {
  return secrets.reduce((result, secret) => result.split(secret).join("[redacted]"), text);
}

function describeErrors(errors: NonNullable<JobUserErrors["errors"]>, secrets: string[]): string {
  const described = errors.map((e) =>
    redact(`${e.code ?? "ERROR"}: ${e.message ?? "(no message)"}${e.path ? ` (path ${e.path})` : ""}`, secrets),
  );
  return described.length > 0 ? described.join("; ") : "no reason given";
}

function countOutcomes(outcomes: UserOutcome[]): Record<Outcome, number> {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const o of outcomes) counts[o.outcome]++;
  return counts;
}

/**
 * Each user of the batch: imported when its job completed without an error for it; skipped
 * when every error is DUPLICATED_USER and upsert is off (it exists already, which is what makes
 * a re-run safe); failed otherwise, with Auth0's reasons. A job that never finished leaves its
 * users unconfirmed; a batch never started leaves them not run.
 */
export function classifyBatch(
  batch: Batch,
  users: ImportUser[],
  answer: BatchAnswer,
  upsert: boolean,
): { result: BatchResult; outcomes: UserOutcome[] } {
  const { job } = answer;
  const base = (index: number, outcome: Outcome, reason?: string): UserOutcome => ({
    index,
    email: users[index].email,
    ...(typeof users[index].user_id === "string" ? { userId: users[index].user_id as string } : {}),
    batch: batch.number,
    outcome,
    ...(reason ? { reason } : {}),
  });

  let outcomes: UserOutcome[];
  if (!job) {
    outcomes = batch.indexes.map((i) => base(i, "not-run", answer.problem));
  } else if (!TERMINAL.includes(job.status)) {
    outcomes = batch.indexes.map((i) => base(i, "unconfirmed", answer.problem ?? `job ${job.id} is still ${job.status}`));
  } else {
    const byEmail = new Map(batch.indexes.map((i) => [users[i].email.toLowerCase(), i]));
    const byUserId = new Map(batch.indexes.flatMap((i) => (typeof users[i].user_id === "string" ? [[users[i].user_id as string, i]] : [])));
    const matched = new Map<number, NonNullable<JobUserErrors["errors"]>>();
    const unmatched: UserOutcome[] = [];
    for (const entry of answer.errors ?? []) {
      const email = typeof entry.user?.email === "string" ? entry.user.email : undefined;
      const userId = typeof entry.user?.user_id === "string" ? entry.user.user_id : undefined;
      const index = (email !== undefined ? byEmail.get(email.toLowerCase()) : undefined) ?? (userId ? byUserId.get(userId) : undefined);
      if (index === undefined) {
        const secrets = entry.user ? secretStrings(entry.user) : [];
        unmatched.push({
          index: null,
          email: email ?? "(none)",
          ...(userId ? { userId } : {}),
          batch: batch.number,
          outcome: "failed",
          reason: `reported for a user not in this batch: ${describeErrors(entry.errors ?? [], secrets)}`,
        });
      } else {
        matched.set(index, [...(matched.get(index) ?? []), ...(entry.errors ?? [])]);
      }
    }
    const jobFailed = job.status === "failed" ? `the job failed: ${job.status_details ?? "Auth0 gave no details"}` : undefined;
    outcomes = batch.indexes.map((i) => {
      const errors = matched.get(i);
      if (!errors) return jobFailed ? base(i, "failed", jobFailed) : base(i, "imported");
      if (!upsert && errors.length > 0 && errors.every((e) => e.code === DUPLICATED_USER)) return base(i, "skipped", "already exists");
      return base(i, "failed", describeErrors(errors, secretStrings(users[i])));
    });
    outcomes.push(...unmatched);
  }

  return {
    outcomes,
    result: {
      batch: batch.number,
      users: batch.indexes.length,
      bytes: batch.bytes,
      firstIndex: batch.indexes[0],
      lastIndex: batch.indexes[batch.indexes.length - 1],
      ...(job ? { jobId: job.id, jobStatus: job.status } : {}),
      ...(job?.status_details ? { statusDetails: job.status_details } : {}),
      ...(job?.summary ? { summary: job.summary } : {}),
      ...(answer.problem ? { problem: answer.problem } : {}),
      counts: countOutcomes(outcomes),
    },
  };
}

export interface ReportMeta {
  stack: string;
  tenant: string;
  connectionId: string;
  input: string;
  upsert: boolean;
  startedAt: string;
  finishedAt: string;
}

export interface Report extends ReportMeta {
  totals: Record<Outcome, number> & { users: number };
  batches: BatchResult[];
  users: UserOutcome[];
}

export function buildReport(meta: ReportMeta, userCount: number, results: { result: BatchResult; outcomes: UserOutcome[] }[]): Report {
  const users = results.flatMap((r) => r.outcomes);
  return { ...meta, totals: { users: userCount, ...countOutcomes(users) }, batches: results.map((r) => r.result), users };
}

/** 0 when every user was imported or already existed; 1 when any failed or was left unconfirmed or not run. */
export function exitCodeFor(report: Report): number {
  const { failed, unconfirmed } = report.totals;
  return failed + unconfirmed + report.totals["not-run"] > 0 ? 1 : 0;
}

const LISTED_USERS = 50;

function countsLine(counts: Record<Outcome, number>, upsert: boolean): string {
  const parts = [`${counts.imported} ${upsert ? "imported or updated" : "imported"}`];
  if (!upsert || counts.skipped > 0) parts.push(`${counts.skipped} skipped (already exist)`);
  parts.push(`${counts.failed} failed`);
  if (counts.unconfirmed > 0) parts.push(`${counts.unconfirmed} unconfirmed`);
  if (counts["not-run"] > 0) parts.push(`${counts["not-run"]} not run`);
  return parts.join(", ");
}

/** A user as the summary names it: `users.json[17] bob@example.com`. */
function userLabel(input: string, user: UserOutcome): string {
  return `${user.index === null ? `${input} (batch ${user.batch}, not matched)` : `${input}[${user.index}]`} ${user.email}`;
}

/** The batch's line: its users, its job, what became of them. */
export function batchLine(result: BatchResult, total: number, input: string, upsert: boolean): string {
  const where = `batch ${result.batch}/${total} (${input}[${result.firstIndex}..${result.lastIndex}], ${result.users} users, ${result.bytes} bytes)`;
  if (!result.jobId) return `${where}: not run: ${result.problem ?? "the run stopped before it"}`;
  const status = result.jobStatus === "failed" ? `failed (${result.statusDetails ?? "no details"})` : result.jobStatus;
  const auth0 = result.summary
    ? ` [Auth0: ${result.summary.inserted ?? 0} inserted, ${result.summary.updated ?? 0} updated, ${result.summary.failed ?? 0} failed]`
    : "";
  const problem = result.problem ? ` (${result.problem})` : "";
  return `${where}: job ${result.jobId} ${status}${problem}: ${countsLine(result.counts, upsert)}${auth0}`;
}

/** The human summary: per batch, the totals, then each user that needs attention. */
export function formatSummary(report: Report): string {
  const lines = [
    `users:import ${report.stack}: ${report.input} into ${report.tenant}, connection ${report.connectionId}, upsert ${report.upsert ? "on" : "off"}`,
    `started ${report.startedAt}, finished ${report.finishedAt}`,
    ...report.batches.map((b) => batchLine(b, report.batches.length, report.input, report.upsert)),
    `total: ${report.totals.users} users: ${countsLine(report.totals, report.upsert)}`,
  ];
  for (const outcome of ["failed", "unconfirmed", "not-run"] as const) {
    const users = report.users.filter((u) => u.outcome === outcome);
    if (users.length === 0) continue;
    lines.push("", `${outcome}:`);
    for (const user of users.slice(0, LISTED_USERS)) lines.push(`  ${userLabel(report.input, user)}: ${user.reason ?? ""}`.trimEnd());
    if (users.length > LISTED_USERS) lines.push(`  … and ${users.length - LISTED_USERS} more (the JSON report lists every user)`);
  }
  if (exitCodeFor(report) !== 0)
    lines.push(
      "",
      "Fix the failed users in the file (or leave them), then run the same command again: users that exist already are skipped" +
        (report.upsert ? " (with --upsert, updated)" : "") +
        ", so a re-run imports only what is missing.",
    );
  return `${lines.join("\n")}\n`;
}
