// The shell that remote.Command runs on the droplet for each deploy hook, rendered as pure
// functions so the exact text can be shellchecked and executed in tests.
//
// Secrets never appear in these scripts, in any process's arguments or in the logs: they
// arrive on stdin (remote.Command's `stdin`, a secret input), are read into shell
// variables with the `read` builtin, and reach containers through `--env-file <(printf …)`
// — printf is a builtin and the process substitution is a pipe, so nothing is written to
// disk and no argv ever holds a value. (sshd's AcceptEnv would be the other way in, and the
// droplet's sshd does not accept environment variables.)
import { isIP } from "node:net";
import { postgresEnvironment } from "../app/render";
import { DATA_DIRS, DEPLOY_USER, HOOK_SUFFIX } from "../common/names";
import { DIGEST, ENV_NAME } from "../common/patterns";
import { join } from "node:path";
import { renderScriptFile, shellQuote } from "../common/shell";
import { isHostname } from "../config/hostname";
import { offsiteRetention } from "../backups/settings";

export { HOOK_SUFFIX };

/** Where things live on the droplet. Tests point these at temp dirs. */
export interface HookPaths {
  /** The hook scripts, copied by the Hooks component. */
  hooksDir: string;
  /** backup.sh's BACKUP_DIR (created by cloud-init, owned by the deploy user). */
  backupDir: string;
  /** Per-run scratch dirs (the migration hand-off FIFOs). */
  runDir: string;
  /** Results the monitoring reads: the last off-site copy, the last drill, the freshness verdict. */
  statusDir: string;
}

export const DROPLET_PATHS: HookPaths = {
  hooksDir: `${DATA_DIRS.dropstack}/hooks`,
  backupDir: DATA_DIRS.backups,
  runDir: `${DATA_DIRS.dropstack}/run`,
  statusDir: `${DATA_DIRS.dropstack}/status`,
};

/** Shipped to `hooksDir`; lib.sh is sourced by the others from their own directory. */
export const HOOK_SCRIPTS = ["lib.sh", "backup.sh", "migrate.sh", "restore.sh", "verify.sh", "drill.sh", "backup-check.sh"] as const;

// The PostgreSQL client image per supported major version (components/database accepts 15
// and newer): exact patch releases, so a deploy never changes the tools by surprise; bump
// them deliberately. pg_dump must be at least the server's major version, and a newer major
// writes SQL an older server may reject on restore, so the client follows
// dropstack:postgres.version.
const POSTGRES_CLIENT_RELEASES: Record<string, string> = {
  "15": "15.10",
  "16": "16.6",
  "17": "17.2",
};

/**
 * The client image for a server major version: an exact release for the versions above. Any
 * other major gets its major-version tag, so the program still evaluates and the database
 * policies can say what to change (they reject majors older than dropstack supports).
 */
export function postgresClientImage(majorVersion: string): string {
  const release = POSTGRES_CLIENT_RELEASES[majorVersion];
  return release ? `postgres:${release}-bookworm` : `postgres:${majorVersion}-bookworm`;
}

/** Copies backups off-site; an exact release, configured entirely through the environment. */
export const RCLONE_IMAGE = "rclone/rclone:1.68.2";
/** The rclone remote the environment defines (RCLONE_CONFIG_<NAME>_*). */
const RCLONE_REMOTE = "OFFSITE";

/** How fresh the backup must be when the migration starts (migrate.sh's BACKUP_MAX_AGE_S). */
export const DEFAULT_BACKUP_MAX_AGE_SECONDS = 3600;
/** How long a migration waits for another one to finish (MIGRATE_LOCK_TIMEOUT_S). */
export const DEFAULT_MIGRATE_LOCK_TIMEOUT_SECONDS = 900;

/** A value that travels as one stdin line: no line breaks (docker's env-file splits on them) and no NULs. */
function stdinLine(what: string, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new Error(`${what} contains a line break or NUL, which cannot be passed to a hook`);
  return value;
}

function envLines(environment: Record<string, string>): string[] {
  return Object.entries(environment).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new Error(`"${name}" is not an environment variable name`);
    return `${name}=${stdinLine(name, value)}`;
  });
}

// Containers the hooks start run as the deploy user (so backups stay the deploy user's
// files), with no capabilities and no way to gain privileges; the docker socket is never
// mounted and the host network never used (policies/deploy.ts checks the same for every
// Pulumi-managed container). handoff.sh starts migrate.sh's container with the same flags.
export const CLIENT_CONTAINER_FLAGS = [`--user "$(id -u):$(id -g)"`, "--cap-drop ALL", "--security-opt no-new-privileges"];

function header(hook: string, purpose: string): string[] {
  return [`# dropstack ${hook} hook (components/hooks/commands.ts): ${purpose}`, "set -euo pipefail"];
}

/** Reads the first stdin line into `variable`, failing with a message when it is empty. */
function readRequiredLine(variable: string, what: string): string[] {
  return [
    `IFS= read -r ${variable} || true`,
    `[[ -n $${variable} ]] || { echo "dropstack: ${what} did not arrive on stdin" >&2; exit 1; }`,
  ];
}

/** `mkdir -p` for the dirs the hooks write, owned by the deploy user. Runs once per droplet. */
export function renderPrepareCommand(paths: HookPaths = DROPLET_PATHS): string {
  const parent = paths.hooksDir.slice(0, paths.hooksDir.lastIndexOf("/"));
  return [
    ...header("prepare", "directories for the hook scripts and their scratch files"),
    `sudo install -d -o ${DEPLOY_USER} -g ${DEPLOY_USER} -m 0750 ${[parent, paths.hooksDir, paths.runDir].map(shellQuote).join(" ")}`,
    // World-readable: only verdicts and timings, which the freshness check (root) also writes.
    `sudo install -d -o ${DEPLOY_USER} -g ${DEPLOY_USER} -m 0755 ${shellQuote(paths.statusDir)}`,
  ].join("\n");
}

export interface OffsiteTarget {
  bucket: string;
  /** S3 endpoint, e.g. https://fra1.digitaloceanspaces.com */
  endpoint: string;
  /** Object key prefix, e.g. `postgres/`. */
  prefix: string;
}

/** The newest `keep` complete copies stay whatever their age; older ones go once older than `days`. */
export interface OffsiteRetentionRule {
  keep: number;
  days: number;
}

export interface BackupCommandInput {
  /** The docker network the database is reached from (Host.appNetwork). */
  network: string;
  clientImage: string;
  /** BACKUP_LABEL: the image reference about to be deployed. */
  label: string;
  /** BACKUP_KEEP (dropstack:backups.keep). */
  keep: number;
  offsite?: OffsiteTarget;
  /** Off-site pruning after the upload; default offsiteRetention(keep): the newest `keep`, and all under `keep` days. */
  offsiteRetention?: OffsiteRetentionRule;
  paths?: HookPaths;
}

export interface BackupSecrets {
  /** The migrator's direct connection URI. */
  databaseUrl: string;
  offsite?: { accessKeyId: string; secretAccessKey: string };
}

/** The backup hook's stdin: the database URL, then (off-site only) the Spaces key ID and secret. */
export function backupStdin(secrets: BackupSecrets): string {
  const lines = [stdinLine("the database URL", secrets.databaseUrl)];
  if (secrets.offsite)
    lines.push(
      stdinLine("the Spaces access key", secrets.offsite.accessKeyId),
      stdinLine("the Spaces secret key", secrets.offsite.secretAccessKey),
    );
  return lines.map((l) => `${l}\n`).join("");
}

/** `offsite:<bucket>/<prefix>`: where copies go, as rclone names it. */
export function offsiteRemote(target: OffsiteTarget): string {
  return `${RCLONE_REMOTE.toLowerCase()}:${target.bucket}/${target.prefix}`;
}

/**
 * `offsite_rclone [--stdin] ARGS…`: rclone in its pinned image with `mount` bound, configured
 * entirely through the environment, the Spaces key coming from the shell variables
 * `offsite_key_id` and `offsite_secret` (read from stdin) through a pipe, never an argument.
 * With --stdin the container reads the caller's stdin (a list of files for rclone); without it,
 * the container's stdin is closed, so it never consumes what the caller's stdin still holds.
 */
export function rcloneFunction(target: OffsiteTarget, mount: string): string[] {
  return [
    "offsite_rclone() {",
    "  local -a stdin=()",
    "  if [[ $1 == --stdin ]]; then stdin=(-i); shift; fi",
    "  " +
      [
        'docker run --rm "${stdin[@]}"',
        ...CLIENT_CONTAINER_FLAGS,
        `-v ${shellQuote(mount)}`,
        `--env-file <(printf 'RCLONE_CONFIG_${RCLONE_REMOTE}_ACCESS_KEY_ID=%s\\nRCLONE_CONFIG_${RCLONE_REMOTE}_SECRET_ACCESS_KEY=%s\\n' "$offsite_key_id" "$offsite_secret")`,
        `-e RCLONE_CONFIG_${RCLONE_REMOTE}_TYPE=s3`,
        `-e RCLONE_CONFIG_${RCLONE_REMOTE}_PROVIDER=DigitalOcean`,
        `-e ${shellQuote(`RCLONE_CONFIG_${RCLONE_REMOTE}_ENDPOINT=${target.endpoint}`)}`,
        `-e RCLONE_CONFIG_${RCLONE_REMOTE}_ACL=private`,
        shellQuote(RCLONE_IMAGE),
        '"$@"',
      ].join(" \\\n    "),
    "}",
  ];
}

/**
 * A whole backup.sh file name, `<database>-<UTC stamp>[-<label>].dump` or its `.json`, as a
 * bash regex whose one group is the stamp (it sorts in time order). Anchored: a foreign
 * object that merely contains a stamp (`report-<stamp>.pdf`, `app-<stamp>.dump.bak`) is
 * not a backup, and the prune must never delete it.
 */
const BACKUP_NAME_REGEX = "^[A-Za-z0-9._-]{1,64}-([0-9]{8}T[0-9]{6}[.][0-9]{9}Z)(-[A-Za-z0-9._-]{1,64})?[.]dump([.]json)?$";

/**
 * Off-site retention that cannot empty the bucket: the newest `keep` complete copies (a .dump
 * whose .json, uploaded last, is there too) are never deleted, whatever their age; an older
 * object goes only once its name's stamp is more than `days` old. Objects that are not
 * backup.sh names are never touched, nor is an upload in flight (it is newer than every kept
 * copy). The old objects go in one rclone run (its list on stdin), not a container each. A failed
 * listing or deletion is reported and skipped: the new copy is already safe.
 */
export function renderOffsitePrune(remote: string, rule: OffsiteRetentionRule): string[] {
  if (!Number.isInteger(rule.keep) || rule.keep < 1) throw new Error(`off-site retention must keep at least 1 copy, got ${rule.keep}`);
  if (!Number.isInteger(rule.days) || rule.days < 1) throw new Error(`off-site retention days must be at least 1, got ${rule.days}`);
  const q = shellQuote(remote);
  return [
    "prune_offsite() {",
    "  local LC_ALL=C",
    `  local keep=${rule.keep} days=${rule.days} listing object key oldest_kept cutoff epoch`,
    `  local backup_name=${shellQuote(BACKUP_NAME_REGEX)}`,
    "  local -a objects complete=() old=()",
    "  local -A listed=()",
    `  if ! listing=$(offsite_rclone lsf --files-only ${q}); then`,
    `    echo "dropstack: warning: could not list "${q}" to prune it; nothing was deleted" >&2`,
    "    return 0",
    "  fi",
    `  mapfile -t objects <<<"$listing"`,
    `  for object in "\${objects[@]}"; do [[ -z $object ]] || listed[$object]=1; done`,
    `  for object in "\${objects[@]}"; do`,
    `    if [[ $object == *.dump && -n \${listed[$object.json]:-} && $object =~ $backup_name ]]; then complete+=("\${BASH_REMATCH[1]}"); fi`,
    "  done",
    `  if ((\${#complete[@]} <= keep)); then`,
    `    echo "dropstack: off-site holds \${#complete[@]} complete copies (keeping at least $keep); nothing to prune" >&2`,
    "    return 0",
    "  fi",
    `  oldest_kept=$(printf '%s\\n' "\${complete[@]}" | sort -r | sed -n "\${keep}p")`,
    "  cutoff=$(($(date -u +%s) - days * 86400))",
    `  for object in "\${objects[@]}"; do`,
    "    [[ $object =~ $backup_name ]] || continue",
    "    key=${BASH_REMATCH[1]}",
    `    [[ $key < "$oldest_kept" ]] || continue`,
    `    epoch=$(date -u -d "\${key:0:4}-\${key:4:2}-\${key:6:2}T\${key:9:2}:\${key:11:2}:\${key:13:2}Z" +%s) || continue`,
    "    ((epoch < cutoff)) || continue",
    `    old+=("$object")`,
    "  done",
    // --files-from-raw takes each line as one exact name relative to the prefix (no filter
    // syntax), so a name with glob characters deletes only itself.
    `  if ((\${#old[@]} > 0)) && ! printf '%s\\n' "\${old[@]}" | offsite_rclone --stdin delete --files-from-raw - ${q}; then`,
    `    echo "dropstack: warning: could not delete every one of the \${#old[@]} old object(s) off-site (rclone's reason is above); the new copy is safe" >&2`,
    "    return 0",
    "  fi",
    `  echo "dropstack: off-site: kept the newest $keep complete copies and every copy under $days days old; deleted \${#old[@]} object(s)" >&2`,
    "}",
    "prune_offsite",
  ];
}

/**
 * Runs backup.sh in the PostgreSQL client image; its last stdout line is the verified
 * backup's path. With `offsite`, rclone then copies the dump and, last, its .json (whose
 * presence marks a complete copy) to the bucket. Prints the backup path as its last line.
 */
export function renderBackupCommand(input: BackupCommandInput): string {
  const paths = input.paths ?? DROPLET_PATHS;
  if (!Number.isInteger(input.keep) || input.keep < 1)
    throw new Error(`dropstack:backups.keep must be a positive integer, got ${input.keep}`);
  const lines = [...header("backup", "a verified pg_dump before the migration"), ...readRequiredLine("database_url", "the database URL")];
  if (input.offsite) {
    lines.push(
      ...readRequiredLine("offsite_key_id", "the Spaces access key"),
      ...readRequiredLine("offsite_secret", "the Spaces secret key"),
    );
  }
  lines.push(
    `echo "dropstack: backing up before deploying "${shellQuote(input.label)} >&2`,
    [
      "output=$(docker run --rm",
      `--network ${shellQuote(input.network)}`,
      ...CLIENT_CONTAINER_FLAGS,
      `-v ${shellQuote(`${paths.hooksDir}:${paths.hooksDir}:ro`)}`,
      `-v ${shellQuote(`${paths.backupDir}:${paths.backupDir}`)}`,
      `--env-file <(printf 'DATABASE_URL=%s\\n' "$database_url")`,
      `-e ${shellQuote(`BACKUP_DIR=${paths.backupDir}`)}`,
      `-e ${shellQuote(`BACKUP_LABEL=${input.label}`)}`,
      `-e ${shellQuote(`BACKUP_KEEP=${input.keep}`)}`,
      shellQuote(input.clientImage),
      `bash ${shellQuote(`${paths.hooksDir}/backup.sh`)})`,
    ].join(" \\\n  "),
    // backup.sh prints the path last; anything before it is passed through.
    `backup=\${output##*$'\\n'}`,
    `if [[ $output == *$'\\n'* ]]; then printf '%s\\n' "\${output%$'\\n'*}"; fi`,
    `case $backup in ${shellQuote(paths.backupDir + "/")}*.dump) ;; *) echo "dropstack: backup.sh did not print a backup path (got: $backup)" >&2; exit 1 ;; esac`,
    `[[ -f $backup && -f $backup.json ]] || { echo "dropstack: $backup or its .json is missing" >&2; exit 1; }`,
  );
  if (input.offsite) {
    const remote = offsiteRemote(input.offsite);
    lines.push(
      ...rcloneFunction(input.offsite, `${paths.backupDir}:${paths.backupDir}:ro`),
      `for file in "$backup" "$backup.json"; do`,
      // The key may only write this bucket, so rclone must not try to create it.
      `  offsite_rclone copyto --s3-no-check-bucket "$file" ${shellQuote(remote)}"\${file##*/}"`,
      "done",
      `echo "dropstack: copied \${backup##*/} and its .json to "${shellQuote(remote)} >&2`,
      // What the freshness check reads: when the last complete off-site copy finished.
      `status_tmp=$(mktemp ${shellQuote(`${paths.statusDir}/.offsite.json.XXXXXX`)})`,
      `printf '{"file": "%s", "finished_at": "%s"}\\n' "\${backup##*/}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$status_tmp"`,
      `chmod 0644 "$status_tmp" && mv -f "$status_tmp" ${shellQuote(`${paths.statusDir}/offsite.json`)}`,
      ...renderOffsitePrune(remote, input.offsiteRetention ?? offsiteRetention(input.keep)),
    );
  }
  lines.push(`printf '%s\\n' "$backup"`);
  return lines.join("\n");
}

export interface MigrateCommandInput {
  network: string;
  clientImage: string;
  /** The app image reference, pinned (`…@sha256:…`). */
  image: string;
  /** dropstack:app.migrate, run with `sh -c` in the app image. */
  migrate: string;
  maxBackupAgeSeconds?: number;
  lockTimeoutSeconds?: number;
  paths?: HookPaths;
}

/**
 * The migrate hook's stdin: the migrator URI (migrate.sh's DATABASE_URL), then the
 * migration container's environment as NAME=value lines — the app's own environment with
 * its connection, DATABASE_URL and the split POSTGRES_* variables, replaced by the
 * migrator's, so settings that the app reads at import time are there while the schema
 * changes run with the migrator's rights whichever form the migration reads.
 */
export function migrateStdin(databaseUrl: string, appEnvironment: Record<string, string>): string {
  const firstLine = stdinLine("the database URL", databaseUrl);
  const environment = { ...appEnvironment, DATABASE_URL: databaseUrl, ...postgresEnvironment(databaseUrl) };
  return [firstLine, ...envLines(environment)].map((l) => `${l}\n`).join("");
}

/**
 * The migrate hook: handoff.sh (beside this file, shellchecked as it is) with its parameters
 * pinned. It runs migrate.sh (fresh-backup check, advisory lock) in the PostgreSQL client
 * image, and the migration in the app image once migrate.sh asks for it, on the same docker
 * network. Exits with migrate.sh's status, which is the migration's, or non-zero when it refused.
 */
export function renderMigrateCommand(input: MigrateCommandInput): string {
  const paths = input.paths ?? DROPLET_PATHS;
  const maxAge = input.maxBackupAgeSeconds ?? DEFAULT_BACKUP_MAX_AGE_SECONDS;
  const lockTimeout = input.lockTimeoutSeconds ?? DEFAULT_MIGRATE_LOCK_TIMEOUT_SECONDS;
  if (!Number.isInteger(maxAge) || maxAge < 1) throw new Error(`the backup age limit must be a positive number of seconds, got ${maxAge}`);
  if (!Number.isInteger(lockTimeout) || lockTimeout < 0)
    throw new Error(`the migration lock timeout must be a whole number of seconds, got ${lockTimeout}`);
  return renderScriptFile(join(__dirname, "handoff.sh"), {
    header: ["dropstack migrate hook: the app's migration behind a fresh backup, one at a time"],
    source: "components/hooks/handoff.sh",
    parameters: [
      ["NETWORK", input.network],
      ["CLIENT_IMAGE", input.clientImage],
      ["APP_IMAGE", input.image],
      ["MIGRATION", input.migrate],
      ["HOOKS_DIR", paths.hooksDir],
      ["BACKUP_DIR", paths.backupDir],
      ["RUN_DIR", paths.runDir],
      ["BACKUP_MAX_AGE_S", maxAge],
      ["MIGRATE_LOCK_TIMEOUT_S", lockTimeout],
    ],
  });
}

/** One request of the smoke test (dropstack:app.smoke, after the health path check). */
export interface SmokeCheck {
  method: SmokeMethod;
  /** A name nginx serves: dropstack:hosts.api or hosts.app. */
  host: string;
  /** Path and query, e.g. `/api/users/me`. */
  path: string;
  /** An exact code (200) or a class (`2xx`). */
  status: number | `${1 | 2 | 3 | 4 | 5}xx`;
  /** A fixed string the response body must contain. */
  bodyContains?: string;
  /** Sends the bearer token from the stack's M2M client (SmokeCommandInput.token). */
  token?: boolean;
}

export const SMOKE_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export type SmokeMethod = (typeof SMOKE_METHODS)[number];

/** A request path as curl sends it: RFC 3986 path and query characters only, starting with `/`. */
export const SMOKE_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;

/** A body match: text with something besides spaces and no tab or other control character (smoke.sh splits on tabs). */
export const SMOKE_BODY = /^(?=.*\S)[^\p{Cc}]+$/u;

/** One schema assertion (dropstack:app.verify.sql[]): a query that must return true. */
export interface SqlAssertion {
  name: string;
  query: string;
}

/** An assertion's name: text without tabs or other control characters (verify.sh splits name and query on the first tab). */
export const ASSERTION_NAME = /^(?=.*\S)[^\p{Cc}]{1,100}$/u;

/** Per assertion query; the session is read-only too. */
export const DEFAULT_ASSERTION_TIMEOUT_MS = 30_000;

export interface VerifyCommandInput {
  network: string;
  clientImage: string;
  assertions: SqlAssertion[];
  statementTimeoutMs?: number;
  paths?: HookPaths;
}

/**
 * After the migration, before any app container is replaced: verify.sh in the PostgreSQL
 * client image, as the readonly role, whose URI arrives on stdin (verifyStdin). Exits 1,
 * naming every assertion that did not return true, which stops the rollout.
 */
export function renderVerifyCommand(input: VerifyCommandInput): string {
  const paths = input.paths ?? DROPLET_PATHS;
  const timeout = input.statementTimeoutMs ?? DEFAULT_ASSERTION_TIMEOUT_MS;
  if (input.assertions.length === 0) throw new Error("the schema check needs at least one assertion");
  if (!Number.isInteger(timeout) || timeout < 1) throw new Error(`the assertion timeout must be a positive number of ms, got ${timeout}`);
  const lines = input.assertions.map(({ name, query }, i) => {
    if (!ASSERTION_NAME.test(name)) throw new Error(`assertion ${i + 1}: the name must be text without tabs or control characters`);
    if (!/\S/.test(query) || /[\r\n\0]/.test(query)) throw new Error(`assertion "${name}": the query must be one line of SQL`);
    // verify.sh splits on the first tab, and its loop reads the value as one line.
    return `${name}\t${query}`;
  });
  return [
    ...header("verify", `${input.assertions.length} schema assertion(s) as the readonly role before the rollout`),
    ...readRequiredLine("database_url", "the readonly database URL"),
    [
      "docker run --rm",
      `--network ${shellQuote(input.network)}`,
      ...CLIENT_CONTAINER_FLAGS,
      `-v ${shellQuote(`${paths.hooksDir}:${paths.hooksDir}:ro`)}`,
      `--env-file <(printf 'DATABASE_URL=%s\\n' "$database_url")`,
      `-e ASSERTION_COUNT=${lines.length}`,
      ...lines.map((line, i) => `-e ${shellQuote(`ASSERTION_${i + 1}=${line}`)}`),
      `-e ${shellQuote(`STATEMENT_TIMEOUT_MS=${timeout}`)}`,
      shellQuote(input.clientImage),
      `bash ${shellQuote(`${paths.hooksDir}/verify.sh`)}`,
    ].join(" \\\n  "),
  ].join("\n");
}

/** The verify hook's stdin: the readonly role's URI. */
export function verifyStdin(databaseUrl: string): string {
  return `${stdinLine("the readonly database URL", databaseUrl)}\n`;
}

export interface SmokeCommandInput {
  checks: SmokeCheck[];
  /**
   * dropstack:tls.staging: the certificate then comes from Let's Encrypt's staging CA,
   * which no trust store contains, so only then is the certificate not verified.
   */
  insecure: boolean;
  /** The client-credentials grant for checks with `token`; the client ID and secret go on stdin (smokeStdin). */
  token?: { url: string; audience: string };
  /** nginx's HTTPS port on the host. */
  port?: number;
  /** Behind a load balancer: its IPv4 address, where the checks go instead of nginx on this host. */
  address?: string;
  retries?: number;
  retryDelaySeconds?: number;
  maxTimeSeconds?: number;
}

/** The health path check every smoke test starts with: any 2xx, as the container healthcheck accepts. */
export function healthSmokeCheck(host: string, path: string): SmokeCheck {
  return { method: "GET", host, path, status: "2xx" };
}

/** dropstack:app.smoke[] as the config schema returns it. */
export interface SmokeConfig {
  method: SmokeMethod;
  path: string;
  host?: string;
  status: number;
  bodyContains?: string;
  token: boolean;
}

/** The smoke test's checks: the health path first, then dropstack:app.smoke, each on hosts.api unless it names a host. */
export function smokeChecks(apiHost: string, healthPath: string, configured: SmokeConfig[]): SmokeCheck[] {
  return [
    healthSmokeCheck(apiHost, healthPath),
    ...configured.map(({ method, path, host, status, bodyContains, token }) => ({
      method,
      host: host ?? apiHost,
      path,
      status,
      ...(bodyContains !== undefined ? { bodyContains } : {}),
      token,
    })),
  ];
}

/**
 * After the rollout: smoke.sh (beside this file, shellchecked as it is) with the checks
 * pinned. Each request goes through nginx on this host; every check runs and the failures
 * are reported together. Retries cover nginx picking up new upstreams; another wrong
 * answer fails the check at once.
 */
export function renderSmokeCommand(input: SmokeCommandInput): string {
  if (input.checks.length === 0) throw new Error("the smoke test needs at least one check");
  const parameters: [string, string | number][] = [
    ["PORT", input.port ?? 443],
    ["INSECURE", input.insecure ? 1 : 0],
    ["RETRIES", input.retries ?? 10],
    ["RETRY_DELAY_S", input.retryDelaySeconds ?? 3],
    ["MAX_TIME_S", input.maxTimeSeconds ?? 10],
  ];
  const lines = input.checks.map((check, index) => {
    const i = index + 1;
    if (!SMOKE_METHODS.includes(check.method)) throw new Error(`smoke check ${i}: unknown method "${String(check.method)}"`);
    if (!SMOKE_PATH.test(check.path)) throw new Error(`smoke check ${i}: expected a path like /api/health, got "${check.path}"`);
    if (!/^[a-z0-9.-]+$/.test(check.host)) throw new Error(`smoke check ${i}: not a hostname: "${check.host}"`);
    if (
      typeof check.status === "number"
        ? !Number.isInteger(check.status) || check.status < 100 || check.status > 599
        : !/^[1-5]xx$/.test(check.status)
    )
      throw new Error(`smoke check ${i}: expected an HTTP status like 200 or 2xx, got ${String(check.status)}`);
    // smoke.sh splits each line on tabs.
    if (check.bodyContains !== undefined && !SMOKE_BODY.test(check.bodyContains))
      throw new Error(`smoke check ${i}: the body match must be text without tabs or other control characters`);
    if (check.token && !input.token) throw new Error(`smoke check ${i} sends a bearer token, but no token endpoint is given`);
    return [check.method, check.host, check.path, String(check.status), check.token ? 1 : 0, check.bodyContains ?? ""].join("\t");
  });
  if (input.address !== undefined) {
    if (isIP(input.address) !== 4) throw new Error(`the smoke test's address must be an IPv4 address, got "${input.address}"`);
    parameters.push(["ADDRESS", input.address]);
  }
  parameters.push(["CHECKS", lines.join("\n")]);
  if (input.token) parameters.push(["TOKEN_URL", input.token.url], ["TOKEN_AUDIENCE", input.token.audience]);
  const described = input.checks.map((c) => `${c.method} ${c.host}${c.path}`).join(", ");
  return renderScriptFile(join(__dirname, "smoke.sh"), {
    header: [`dropstack smoke hook: ${described} through nginx, every check run, all failures reported`],
    source: "components/hooks/smoke.sh",
    parameters,
  });
}

/** The smoke hook's stdin when a check sends a token: the M2M client ID, then its secret. */
export function smokeStdin(clientId: string, clientSecret: string): string {
  return `${stdinLine("the M2M client ID", clientId)}\n${stdinLine("the M2M client secret", clientSecret)}\n`;
}

export interface WatchCommandInput {
  /** nginx's container name (Proxy.nginx.name). */
  nginxContainer: string;
  /** dropstack:app.watch.seconds */
  windowSeconds: number;
  /** dropstack:app.watch.max5xxPercent: the largest share of 5xx that passes, e.g. 1 or 0.5. */
  max5xxPercent: number;
  /** dropstack:app.watch.p95LatencyMs */
  p95LatencyMs: number;
  /** dropstack:app.watch.minRequests: fewer requests are too few to judge. */
  minRequests: number;
  /** The image ID just deployed (`sha256:…`). */
  currentImage: string;
  /** The stack, for the printed rollback commands. */
  stack: string;
  /** dropstack:app.watch.rollback: the deploy job rolls back on a breach (npm run rollback). */
  rollback: boolean;
  /** Hosts whose requests are not the deploy's: Grafana's (hosts.monitoring), when observability is on. */
  ignoredHosts: string[];
  historyFile?: string;
}

/** Starts the line of a breached watch that names the image to roll back to (tools/rollback reads it). */
export const WATCH_ROLLBACK_MARKER = "dropstack-rollback-image:";

/**
 * After the smoke test: watch.sh (beside this file, shellchecked as it is) with its limits
 * pinned. Exits 1 on a breach, printing the code rollback to the previous deployed image.
 */
export function renderWatchCommand(input: WatchCommandInput): string {
  const positive = (what: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) throw new Error(`the watch's ${what} must be a positive whole number, got ${value}`);
    return value;
  };
  // Hundredths of a percent, so the script compares integers and a share exactly at the limit passes.
  const basisPoints = Math.round(input.max5xxPercent * 100);
  // n / 100 is the double nearest n hundredths, as a decimal with two places is, so this holds
  // exactly for at most two decimals (0.29 * 100 is 28.999…96), and never for NaN.
  if (basisPoints < 0 || basisPoints > 10000 || basisPoints / 100 !== input.max5xxPercent)
    throw new Error(`the watch's 5xx limit must be a percentage from 0 to 100 with at most two decimals, got ${input.max5xxPercent}`);
  if (!DIGEST.test(input.currentImage)) throw new Error(`expected an image ID (sha256:<64 hex>), got "${input.currentImage}"`);
  const badHost = input.ignoredHosts.find((host) => !isHostname(host));
  if (badHost !== undefined) throw new Error(`the watch's ignored hosts must be hostnames like monitoring.example.com, got "${badHost}"`);
  return renderScriptFile(join(__dirname, "watch.sh"), {
    header: [`dropstack watch hook: ${input.windowSeconds}s of requests through nginx against the 5xx and latency limits`],
    source: "components/hooks/watch.sh",
    parameters: [
      ["NGINX_CONTAINER", input.nginxContainer],
      ["WINDOW_S", positive("window", input.windowSeconds)],
      ["MAX_5XX_BASIS_POINTS", basisPoints],
      ["MAX_P95_MS", positive("latency limit", input.p95LatencyMs)],
      ["MIN_REQUESTS", positive("minimum of requests", input.minRequests)],
      ["CURRENT_IMAGE", input.currentImage],
      ["HISTORY", input.historyFile ?? DEPLOYED_IMAGES_FILE],
      ["STACK", input.stack],
      ["ROLLBACK_MARKER", WATCH_ROLLBACK_MARKER],
      ["AUTO_ROLLBACK", input.rollback ? "true" : "false"],
      ["IGNORED_HOSTS", input.ignoredHosts.join(" ")],
    ],
  });
}

/** The no-op `update` of backup and migrate: they run only when a deploy replaces them. */
export function renderDeferredUpdate(hook: "backup" | "migrate"): string {
  return `echo "dropstack: ${hook} hook settings changed; they apply at the next deploy (a new image digest or dropstack:app.migrate)"`;
}

/** The app image IDs deployed, oldest first, one per line; the prune keeps the newest of them. */
export const DEPLOYED_IMAGES_FILE = `${DATA_DIRS.dropstack}/deployed-images`;
/** The running image and the one before it (docs/rollback.md rolls back to that one without a pull). */
export const KEEP_DEPLOYED_IMAGES = 2;

export interface PruneImagesInput {
  /** The app image's repository (imageRepository(dropstack:app.image)). */
  repository: string;
  /** The image ID the rollout deployed (`sha256:…`). */
  imageId: string;
  historyFile?: string;
  keep?: number;
}

/**
 * After the smoke test passed: record the deployed image, then remove the repository's other
 * images except the last `keep` deployed ones and any image a container (running or stopped)
 * was created from. Other repositories (Redis, nginx, the hook tools) are never touched. A
 * failed removal is reported and skipped: the rollout already succeeded.
 */
export function renderPruneImagesCommand(input: PruneImagesInput): string {
  const keep = input.keep ?? KEEP_DEPLOYED_IMAGES;
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`the number of deployed images to keep must be at least 1, got ${keep}`);
  if (!DIGEST.test(input.imageId)) throw new Error(`expected an image ID (sha256:<64 hex>), got "${input.imageId}"`);
  const history = input.historyFile ?? DEPLOYED_IMAGES_FILE;
  return [
    ...header("prune", `keep the last ${keep} deployed ${input.repository} images and those in use; remove older ones`),
    `history=${shellQuote(history)} current=${shellQuote(input.imageId)}`,
    `touch "$history"`,
    `if [[ $(tail -n 1 "$history") != "$current" ]]; then printf '%s\\n' "$current" >>"$history"; fi`,
    // The newest distinct entries; the file is trimmed so it never grows without bound.
    // awk reads to the end (no `head`), so no pipe breaks under pipefail.
    `mapfile -t deployed < <(tac "$history" | awk -v n=${keep} 'NF && !seen[$0]++ && n-- > 0')`,
    `tac "$history" | awk -v n=20 'NF && !seen[$0]++ && n-- > 0' | tac >"$history.new"`,
    `mv -- "$history.new" "$history"`,
    `mapfile -t containers < <(docker ps --all --quiet --no-trunc)`,
    "in_use=()",
    `if ((\${#containers[@]} > 0)); then mapfile -t in_use < <(docker inspect --format '{{.Image}}' "\${containers[@]}"); fi`,
    `declare -A keep_ids=()`,
    `for id in "\${deployed[@]}" "\${in_use[@]}"; do keep_ids[$id]=1; done`,
    "removed=0 kept=0",
    `while IFS= read -r id; do`,
    `  if [[ -n \${keep_ids[$id]:-} ]]; then kept=$((kept + 1)); continue; fi`,
    `  if docker image rm --force "$id" >/dev/null; then removed=$((removed + 1)); echo "dropstack: removed old app image $id"`,
    `  else echo "dropstack: could not remove $id; left in place" >&2; fi`,
    `done < <(docker image ls --no-trunc --quiet ${shellQuote(input.repository)} | sort -u)`,
    `echo "dropstack: kept $kept app image(s) (the last ${keep} deployed and those in use), removed $removed"`,
  ].join("\n");
}
