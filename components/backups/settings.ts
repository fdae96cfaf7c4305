// Pure settings for the off-site backup bucket: its name, endpoint, key prefix and how
// long copies live. Unit-tested without mocks; the README explains the retention mapping.

/** Every off-site object lives under this prefix; the lifecycle rule applies to it only. */
export const BACKUP_PREFIX = "postgres/";

/** How long an overwritten or deleted copy stays recoverable (versioning keeps it as noncurrent). */
export const NONCURRENT_RETENTION_DAYS = 7;

/** Uploads that never finished are aborted after this many days so their parts stop costing storage. */
export const ABORT_MULTIPART_DAYS = 1;

export interface OffsiteRetention {
  /** A copy is expired (becomes noncurrent) this many days after upload. */
  currentDays: number;
  /** A noncurrent copy is deleted this many days after it stopped being current. */
  noncurrentDays: number;
  abortIncompleteMultipartUploadDays: number;
}

/**
 * `backups.keep` counts local backups (backup.sh prunes to the newest N). Off-site,
 * Spaces can only expire by age, so a copy lives `keep` days: with at least one backup a
 * day (each deploy makes one, and a daily schedule guarantees one), the bucket holds at
 * least the `keep` newest backups, and usually more. An expired or overwritten copy is
 * recoverable for NONCURRENT_RETENTION_DAYS more before it is gone for good.
 */
export function offsiteRetention(keep: number): OffsiteRetention {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`backups.keep must be a positive integer, got ${keep}`);
  return { currentDays: keep, noncurrentDays: NONCURRENT_RETENTION_DAYS, abortIncompleteMultipartUploadDays: ABORT_MULTIPART_DAYS };
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
