// Splitting the users into import jobs. Auth0 takes at most 500 KB of users per job
// ("The file size limit for a bulk import is 500KB") and answers 413 above 512000 bytes for
// the whole multipart request; a users file of at most 500000 bytes leaves room for the
// request's other parts whichever way "KB" is read.
import type { ImportUser } from "./users-file";

export const USERS_FILE_MAX_BYTES = 500_000;

export interface Batch {
  /** 1-based, as the progress lines and the report count them. */
  number: number;
  /** Indexes of the batch's users in the input file, in order. */
  indexes: number[];
  /** The users file of this job: the batch's users as a compact JSON array. */
  body: string;
  /** Size of `body` in bytes (UTF-8), what Auth0's limit counts. */
  bytes: number;
}

export type BatchPlan = { ok: true; batches: Batch[] } | { ok: false; problems: string[] };

/**
 * Consecutive users, as many per batch as fit in `maxBytes` of JSON, in file order. A user
 * that alone is over the limit can never be imported and is a problem naming its index.
 */
export function planBatches(users: ImportUser[], source: string, maxBytes = USERS_FILE_MAX_BYTES): BatchPlan {
  const serialized = users.map((user) => JSON.stringify(user));
  const sizes = serialized.map((json) => Buffer.byteLength(json, "utf8"));
  const problems = sizes.flatMap((size, i) =>
    // "[" + user + "]" is the smallest file the user can be in.
    size + 2 > maxBytes ? [`${source}[${i}]: ${size + 2} bytes as a users file alone, more than the ${maxBytes} one import job takes`] : [],
  );
  if (problems.length > 0) return { ok: false, problems };

  const batches: Batch[] = [];
  let indexes: number[] = [];
  let bytes = 2;
  const close = () => {
    const body = `[${indexes.map((i) => serialized[i]).join(",")}]`;
    batches.push({ number: batches.length + 1, indexes, body, bytes });
  };
  sizes.forEach((size, i) => {
    const added = size + (indexes.length > 0 ? 1 : 0);
    if (indexes.length > 0 && bytes + added > maxBytes) {
      close();
      indexes = [];
      bytes = 2;
    }
    bytes += size + (indexes.length > 0 ? 1 : 0);
    indexes.push(i);
  });
  close();
  return { ok: true, batches };
}
