// The import itself: one Auth0 job per batch, one at a time (Auth0 runs at most two import
// jobs of a tenant at once, and a job that is still running when the next starts would only
// compete with it), each polled until it completes or fails, then asked for its per-user errors.
import type { Batch } from "./batches";
import { ImportError, type ManagementApi } from "./management-api";
import { batchLine, classifyBatch, type BatchAnswer, type BatchResult, type Job, type UserOutcome } from "./report";
import type { ImportUser } from "./users-file";

/** Waits between two reads of a job's status: 1 s, doubling up to 30 s. */
export function pollDelay(attempt: number): number {
  return Math.min(1000 * 2 ** attempt, 30_000);
}

export interface RunOptions {
  connectionId: string;
  upsert: boolean;
  /** Sent as each job's external_id with the batch number, so the jobs of a run can be told apart. */
  externalIdPrefix: string;
  /** How long one job may stay pending or processing before the run stops waiting. */
  jobTimeoutMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  progress: (line: string) => void;
  /** The input file as messages name it. */
  input: string;
}

type Api = Pick<ManagementApi, "createImportJob" | "job" | "jobErrors">;

async function runBatch(api: Api, batch: Batch, total: number, options: RunOptions): Promise<BatchAnswer & { stop?: string }> {
  const label = `batch ${batch.number}/${total}`;
  let job: Job;
  try {
    job = await api.createImportJob({
      usersFile: batch.body,
      connectionId: options.connectionId,
      upsert: options.upsert,
      externalId: `${options.externalIdPrefix}-${batch.number}-of-${total}`,
    });
  } catch (error) {
    if (!(error instanceof ImportError)) throw error;
    return { problem: `the job was not started: ${error.message}`, stop: `batch ${batch.number} could not be started` };
  }
  options.progress(`${label}: job ${job.id} ${job.status} (${batch.indexes.length} users, ${batch.bytes} bytes)`);

  const deadline = options.now() + options.jobTimeoutMs;
  let shown = `${job.status} ${job.percentage_done ?? ""}`;
  for (let attempt = 0; job.status !== "completed" && job.status !== "failed"; attempt++) {
    if (options.now() >= deadline) {
      const problem = `still ${job.status} after ${Math.round(options.jobTimeoutMs / 1000)} s; it may yet finish (Auth0 dashboard, or GET /api/v2/jobs/${job.id})`;
      return { job, problem, stop: `job ${job.id} did not finish in time` };
    }
    await options.sleep(Math.min(pollDelay(attempt), Math.max(deadline - options.now(), 0)));
    try {
      job = await api.job(job.id);
    } catch (error) {
      if (!(error instanceof ImportError)) throw error;
      return { job, problem: `its status could not be read: ${error.message}`, stop: `job ${job.id} could not be followed` };
    }
    const now = `${job.status} ${job.percentage_done ?? ""}`;
    if (now !== shown) {
      options.progress(`${label}: job ${job.id} ${job.status}${job.percentage_done === undefined ? "" : ` ${job.percentage_done}%`}`);
      shown = now;
    }
  }
  try {
    return { job, errors: await api.jobErrors(job.id) };
  } catch (error) {
    if (!(error instanceof ImportError)) throw error;
    // The job finished but which users failed is unknown: its users stay unconfirmed.
    return {
      job: { ...job, status: `${job.status} (errors unreadable)` },
      problem: error.message,
      stop: `job ${job.id}'s errors could not be read`,
    };
  }
}

/**
 * Runs every batch in order. A batch that cannot be started or followed stops the run (the
 * API or the credentials are failing; further jobs would fare no better): its users and the
 * remaining batches' are reported as unconfirmed or not run, which a re-run picks up.
 */
export async function runBatches(
  api: Api,
  batches: Batch[],
  users: ImportUser[],
  options: RunOptions,
): Promise<{ result: BatchResult; outcomes: UserOutcome[] }[]> {
  const results: { result: BatchResult; outcomes: UserOutcome[] }[] = [];
  let stopped: string | undefined;
  for (const batch of batches) {
    const answer: BatchAnswer & { stop?: string } = stopped
      ? { problem: `not started because ${stopped}` }
      : await runBatch(api, batch, batches.length, options);
    stopped ??= answer.stop;
    const classified = classifyBatch(batch, users, answer, options.upsert);
    results.push(classified);
    options.progress(batchLine(classified.result, batches.length, options.input, options.upsert));
  }
  return results;
}
