// Pure settings for the off-site backup bucket: its name, endpoint, key prefix and how
// long copies live. Unit-tested without mocks; the README explains the retention mapping.

/** Every off-site object lives under this prefix; the lifecycle rule applies to it only. */
export const BACKUP_PREFIX = "postgres/";

/** How long an overwritten or deleted copy stays recoverable (versioning keeps it as noncurrent). */
export const NONCURRENT_RETENTION_DAYS = 7;

/** Uploads that never finished are aborted after this many days so their parts stop costing storage. */
export const ABORT_MULTIPART_DAYS = 1;

export interface OffsiteRetention {
  /** The newest `keep` complete copies are never deleted, whatever their age. */
  keep: number;
  /** An older copy is deleted (by the backup hook's prune) once it is this many days old. */
  days: number;
  /** A deleted copy stays recoverable (a noncurrent version) this many days. */
  noncurrentDays: number;
  abortIncompleteMultipartUploadDays: number;
}

/**
 * Retention that cannot empty the bucket. Spaces' lifecycle rules can only expire by age, so a
 * stack that made no backup for longer than the rule's age would lose every copy; no rule
 * expires current copies any more. The backup hook prunes instead, after each upload
 * (components/hooks/commands.ts, renderOffsitePrune): the newest `keep` complete copies always
 * stay, and an older one goes only once it is `keep` days old (the window the lifecycle rule
 * used to give). What pruning deletes stays recoverable for NONCURRENT_RETENTION_DAYS more,
 * as a noncurrent version, before the lifecycle rule removes it for good.
 */
export function offsiteRetention(keep: number): OffsiteRetention {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`backups.keep must be a positive integer, got ${keep}`);
  return { keep, days: keep, noncurrentDays: NONCURRENT_RETENTION_DAYS, abortIncompleteMultipartUploadDays: ABORT_MULTIPART_DAYS };
}

/** The S3-compatible endpoint clients (aws-cli, rclone, s3cmd) use for a Spaces region. */
export function spacesEndpoint(region: string): string {
  if (!/^[a-z]{3}\d$/.test(region)) throw new Error(`not a DigitalOcean region slug: ${region}`);
  return `https://${region}.digitaloceanspaces.com`;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/**
 * `<stack name>-backups-<suffix>`: Spaces names are global and DNS labels (3-63 of
 * a-z, 0-9, -), so the stack name is lowercased, cleaned and shortened to fit while the
 * random suffix that makes it unique is kept whole.
 */
export function backupBucketName(stackName: string, suffix: string): string {
  if (!/^[a-z0-9]{1,16}$/.test(suffix)) throw new Error(`bucket suffix must be 1-16 of a-z0-9, got "${suffix}"`);
  const tail = `-backups-${suffix}`;
  const base = stackName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 63 - tail.length)
    .replace(/-$/, "");
  const name = `${base || "dropstack"}${tail}`;
  if (!BUCKET_NAME.test(name)) throw new Error(`cannot make a valid bucket name from "${stackName}"`);
  return name;
}
