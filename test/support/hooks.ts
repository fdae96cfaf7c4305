/**
 * The reasons lib.sh's verify_backup logs when it refuses a backup, one per line. A refusal
 * must give exactly one: a second means a check went on after the first had failed.
 */
const VERIFY_REASON =
  /: no such file$|: no metadata file .*$|: no valid "(sha256|bytes)" field$|: truncated or altered$|: altered or corrupt$/gm;

export function verifyReasons(stderr: string): string[] {
  return stderr.match(VERIFY_REASON) ?? [];
}
