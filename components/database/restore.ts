// Point-in-time recovery (dropstack:postgres.restore): pure rules for the timestamp and the
// restored cluster's name. Unit-tested without mocks; nothing here reads the clock, so
// callers pass "now" where the answer depends on it.

/** DigitalOcean keeps a PostgreSQL cluster's point-in-time backups for this many days. */
export const PITR_WINDOW_DAYS = 7;

/** The DigitalOcean name of a stack's own cluster (the Database component named `name`). */
export function clusterNameFor(name: string): string {
  return `${name}-pg`;
}

/** DigitalOcean cluster names: 3 to 63 lowercase letters, digits and hyphens, starting with a letter. */
export const CLUSTER_NAME = /^[a-z][a-z0-9-]{1,61}[a-z0-9]$/;
export const MAX_CLUSTER_NAME = 63;

// RFC 3339 date-time with an explicit offset, to whole seconds: "2026-11-28T09:30:00Z" or
// "2026-11-28T10:30:00+01:00". A local time without an offset names a different instant on
// every machine, and fractions of a second would give two names for one restore point.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|([+-])(\d{2}):(\d{2}))$/;

/** Why `value` is not a restore timestamp dropstack accepts, or undefined. */
export function describeRestoreTimestampProblem(value: string): string | undefined {
  const expected = `expected an RFC 3339 UTC time to whole seconds like 2026-11-28T09:30:00Z (or with an offset, +01:00), got ${JSON.stringify(value)}`;
  const match = RFC3339.exec(value);
  if (!match) return expected;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const offsetHours = match[9] === undefined ? 0 : Number(match[9]);
  const offsetMinutes = match[10] === undefined ? 0 : Number(match[10]);
  // Date.UTC rolls 2026-02-30 over to March: a field that changes on the way back was out of range.
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const real =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  if (!real || offsetHours > 23 || offsetMinutes > 59) return `${JSON.stringify(value)} is not a real date and time`;
  return undefined;
}

/** The instant a valid restore timestamp names; throws on an invalid one. */
export function restoreInstant(value: string): Date {
  const problem = describeRestoreTimestampProblem(value);
  if (problem) throw new Error(problem);
  return new Date(value);
}

/** The timestamp as DigitalOcean's API takes and reports it: UTC, whole seconds, `Z`. */
export function normalizedRestoreTimestamp(value: string): string {
  return restoreInstant(value)
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z");
}

/**
 * The restored cluster's name: the source's name and the UTC restore point, e.g.
 * `dropstack-production-pg-pitr-20261128t093000z`. One name per restore point, so a second
 * restore to another time is another cluster beside the first, never a replacement of it.
 */
export function restoredClusterName(clusterName: string, timestamp: string): string {
  const stamp = normalizedRestoreTimestamp(timestamp).replace(/[-:]/g, "").toLowerCase();
  return `${clusterName}-pitr-${stamp}`;
}

/** Why the restored cluster's name is not one DigitalOcean accepts, or undefined. */
export function describeRestoredNameProblem(clusterName: string, timestamp: string): string | undefined {
  const name = restoredClusterName(clusterName, timestamp);
  if (name.length > MAX_CLUSTER_NAME)
    return `the restored cluster's name ${name} would have ${name.length} characters; DigitalOcean allows ${MAX_CLUSTER_NAME} (use a shorter project or stack name)`;
  return CLUSTER_NAME.test(name) ? undefined : `the restored cluster's name ${name} is not a DigitalOcean cluster name`;
}

/**
 * What DigitalOcean will say about restoring to `timestamp` at `now`: it refuses a time in
 * the future or older than its 7-day window. Undefined when the time is inside the window.
 * A restored cluster that exists already is not affected, so this is a note for whoever is
 * about to create one (npm run check prints it), never a config error: the key stays set for
 * as long as the app runs on the restored cluster, long after the window has moved on.
 */
export function pitrWindowNote(timestamp: string, now: Date): string | undefined {
  const at = restoreInstant(timestamp).getTime();
  const ageMs = now.getTime() - at;
  const normalized = normalizedRestoreTimestamp(timestamp);
  if (ageMs < 0)
    return `postgres.restore.timestamp ${normalized} is in the future (now ${now.toISOString()}); DigitalOcean refuses to create the restored cluster`;
  const windowMs = PITR_WINDOW_DAYS * 24 * 3600 * 1000;
  if (ageMs > windowMs) {
    const days = (ageMs / (24 * 3600 * 1000)).toFixed(1);
    return (
      `postgres.restore.timestamp ${normalized} is ${days} days old; DigitalOcean keeps point-in-time backups for ${PITR_WINDOW_DAYS} days` +
      " and refuses to create a cluster restored to it (a restored cluster that exists already is unaffected)"
    );
  }
  return undefined;
}
