// The backup hook as it runs on the droplet, asserted whole (every line): its header, the
// stdin it reads, the pg_dump container, the off-site copy through the rclone function and
// the off-site prune, and the stdin lines it is given with their validation messages. The
// cases are the product of the droplet's folders and test folders (one with a space), labels
// of several shapes (a digest pin, a registry with a port, a quote), keep counts from the
// smallest allowed, no off-site target or one of two, and the default or a given retention.
// The expected text is written out here, not taken from the renderer.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backupStdin, DROPLET_PATHS, type HookPaths, type OffsiteTarget, renderBackupCommand } from "../../components/hooks/commands";

/** POSIX single quoting, restated so the expectation does not lean on the module's helper. */
function sq(value: string): string {
  return `'${value.split("'").join(`'\\''`)}'`;
}

const PATH_SETS: HookPaths[] = [
  DROPLET_PATHS,
  { hooksDir: "/tmp/t/hooks", backupDir: "/tmp/t/backups", runDir: "/tmp/t/run", statusDir: "/tmp/t/status" },
  { hooksDir: "/tmp/my dir/hooks", backupDir: "/tmp/my dir/backups", runDir: "/tmp/my dir/run", statusDir: "/tmp/my dir/status" },
];
const LABELS = [`ghcr.io/acme/api@sha256:${"ab".repeat(32)}`, "registry.example:5000/team/app:v1.2", "it's"];
const KEEPS = [1, 3, 14];
const TARGETS: (OffsiteTarget | undefined)[] = [
  undefined,
  { bucket: "acme-backups-x1", endpoint: "https://fra1.digitaloceanspaces.com", prefix: "postgres/" },
  { bucket: "b2", endpoint: "https://ams3.digitaloceanspaces.com", prefix: "db/prod/" },
];
const RETENTIONS = [undefined, { keep: 2, days: 30 }];

const NAME_REGEX = "^[A-Za-z0-9._-]{1,64}-([0-9]{8}T[0-9]{6}[.][0-9]{9}Z)(-[A-Za-z0-9._-]{1,64})?[.]dump([.]json)?$";

function expectedRclone(target: OffsiteTarget, mount: string): string[] {
  return [
    "offsite_rclone() {",
    "  local -a stdin=()",
    "  if [[ $1 == --stdin ]]; then stdin=(-i); shift; fi",
    '  docker run --rm "${stdin[@]}" \\',
    '    --user "$(id -u):$(id -g)" \\',
    "    --cap-drop ALL \\",
    "    --security-opt no-new-privileges \\",
    `    -v ${sq(mount)} \\`,
    `    --env-file <(printf 'RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID=%s\\nRCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY=%s\\n' "$offsite_key_id" "$offsite_secret") \\`,
    "    -e RCLONE_CONFIG_OFFSITE_TYPE=s3 \\",
    "    -e RCLONE_CONFIG_OFFSITE_PROVIDER=DigitalOcean \\",
    `    -e 'RCLONE_CONFIG_OFFSITE_ENDPOINT=${target.endpoint}' \\`,
    "    -e RCLONE_CONFIG_OFFSITE_ACL=private \\",
    "    'rclone/rclone:1.68.2' \\",
    '    "$@"',
    "}",
  ];
}

function expectedPrune(remote: string, keep: number, days: number): string[] {
  const q = sq(remote);
  return [
    "prune_offsite() {",
    "  local LC_ALL=C",
    `  local keep=${keep} days=${days} listing object key oldest_kept cutoff epoch`,
    `  local backup_name='${NAME_REGEX}'`,
    "  local -a objects complete=() old=()",
    "  local -A listed=()",
    `  if ! listing=$(offsite_rclone lsf --files-only ${q}); then`,
    `    echo "dropstack: warning: could not list "${q}" to prune it; nothing was deleted" >&2`,
    "    return 0",
    "  fi",
    '  mapfile -t objects <<<"$listing"',
    '  for object in "${objects[@]}"; do [[ -z $object ]] || listed[$object]=1; done',
    '  for object in "${objects[@]}"; do',
    '    if [[ $object == *.dump && -n ${listed[$object.json]:-} && $object =~ $backup_name ]]; then complete+=("${BASH_REMATCH[1]}"); fi',
    "  done",
    "  if ((${#complete[@]} <= keep)); then",
    '    echo "dropstack: off-site holds ${#complete[@]} complete copies (keeping at least $keep); nothing to prune" >&2',
    "    return 0",
    "  fi",
    `  oldest_kept=$(printf '%s\\n' "\${complete[@]}" | sort -r | sed -n "\${keep}p")`,
    "  cutoff=$(($(date -u +%s) - days * 86400))",
    '  for object in "${objects[@]}"; do',
    "    [[ $object =~ $backup_name ]] || continue",
    "    key=${BASH_REMATCH[1]}",
    '    [[ $key < "$oldest_kept" ]] || continue',
    '    epoch=$(date -u -d "${key:0:4}-${key:4:2}-${key:6:2}T${key:9:2}:${key:11:2}:${key:13:2}Z" +%s) || continue',
    "    ((epoch < cutoff)) || continue",
    '    old+=("$object")',
    "  done",
    `  if ((\${#old[@]} > 0)) && ! printf '%s\\n' "\${old[@]}" | offsite_rclone --stdin delete --files-from-raw - ${q}; then`,
    `    echo "dropstack: warning: could not delete every one of the \${#old[@]} old object(s) off-site (rclone's reason is above); the new copy is safe" >&2`,
    "    return 0",
    "  fi",
    '  echo "dropstack: off-site: kept the newest $keep complete copies and every copy under $days days old; deleted ${#old[@]} object(s)" >&2',
    "}",
    "prune_offsite",
  ];
}

interface Case {
  paths: HookPaths;
  label: string;
  keep: number;
  target?: OffsiteTarget;
  retention?: { keep: number; days: number };
}

function expectedBackup({ paths, label, keep, target, retention }: Case): string {
  const { hooksDir, backupDir, statusDir } = paths;
  const lines = [
    "# dropstack backup hook (components/hooks/commands.ts): a verified pg_dump before the migration",
    "set -euo pipefail",
    "IFS= read -r database_url || true",
    '[[ -n $database_url ]] || { echo "dropstack: the database URL did not arrive on stdin" >&2; exit 1; }',
  ];
  if (target)
    lines.push(
      "IFS= read -r offsite_key_id || true",
      '[[ -n $offsite_key_id ]] || { echo "dropstack: the Spaces access key did not arrive on stdin" >&2; exit 1; }',
      "IFS= read -r offsite_secret || true",
      '[[ -n $offsite_secret ]] || { echo "dropstack: the Spaces secret key did not arrive on stdin" >&2; exit 1; }',
    );
  lines.push(
    `echo "dropstack: backing up before deploying "${sq(label)} >&2`,
    "output=$(docker run --rm \\",
    "  --network 'app-net' \\",
    '  --user "$(id -u):$(id -g)" \\',
    "  --cap-drop ALL \\",
    "  --security-opt no-new-privileges \\",
    `  -v ${sq(`${hooksDir}:${hooksDir}:ro`)} \\`,
    `  -v ${sq(`${backupDir}:${backupDir}`)} \\`,
    `  --env-file <(printf 'DATABASE_URL=%s\\n' "$database_url") \\`,
    `  -e ${sq(`BACKUP_DIR=${backupDir}`)} \\`,
    `  -e ${sq(`BACKUP_LABEL=${label}`)} \\`,
    `  -e 'BACKUP_KEEP=${keep}' \\`,
    "  'postgres:16.6-bookworm' \\",
    `  bash ${sq(`${hooksDir}/backup.sh`)})`,
    "backup=${output##*$'\\n'}",
    `if [[ $output == *$'\\n'* ]]; then printf '%s\\n' "\${output%$'\\n'*}"; fi`,
    `case $backup in ${sq(`${backupDir}/`)}*.dump) ;; *) echo "dropstack: backup.sh did not print a backup path (got: $backup)" >&2; exit 1 ;; esac`,
    '[[ -f $backup && -f $backup.json ]] || { echo "dropstack: $backup or its .json is missing" >&2; exit 1; }',
  );
  if (target) {
    const remote = `offsite:${target.bucket}/${target.prefix}`;
    lines.push(
      ...expectedRclone(target, `${backupDir}:${backupDir}:ro`),
      'for file in "$backup" "$backup.json"; do',
      `  offsite_rclone copyto --s3-no-check-bucket "$file" '${remote}'"\${file##*/}"`,
      "done",
      `echo "dropstack: copied \${backup##*/} and its .json to "'${remote}' >&2`,
      `status_tmp=$(mktemp ${sq(`${statusDir}/.offsite.json.XXXXXX`)})`,
      `printf '{"file": "%s", "finished_at": "%s"}\\n' "\${backup##*/}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$status_tmp"`,
      `chmod 0644 "$status_tmp" && mv -f "$status_tmp" ${sq(`${statusDir}/offsite.json`)}`,
      ...expectedPrune(remote, retention?.keep ?? keep, retention?.days ?? keep),
    );
  }
  lines.push(`printf '%s\\n' "$backup"`);
  return lines.join("\n");
}

function* cases(): Generator<Case> {
  for (const paths of PATH_SETS)
    for (const label of LABELS)
      for (const keep of KEEPS)
        for (const target of TARGETS)
          for (const retention of target ? RETENTIONS : [undefined]) yield { paths, label, keep, target, retention };
}

describe("the backup hook's script on the droplet", () => {
  it("is exactly the expected script for every folder set, label, keep count, off-site target and retention", () => {
    let count = 0;
    for (const c of cases()) {
      const rendered = renderBackupCommand({
        network: "app-net",
        clientImage: "postgres:16.6-bookworm",
        label: c.label,
        keep: c.keep,
        ...(c.target ? { offsite: c.target } : {}),
        ...(c.retention ? { offsiteRetention: c.retention } : {}),
        ...(c.paths === DROPLET_PATHS ? {} : { paths: c.paths }),
      });
      assert.deepEqual(rendered.split("\n"), expectedBackup(c).split("\n"), JSON.stringify(c));
      count++;
    }
    assert.equal(count, 3 * 3 * 3 * (1 + 2 * 2));
  });

  it("keeps a single local backup when dropstack:backups.keep is 1, with or without an off-site copy", () => {
    for (const target of TARGETS) {
      const rendered = renderBackupCommand({ network: "n", clientImage: "c", label: "l", keep: 1, ...(target ? { offsite: target } : {}) });
      assert.match(rendered, /^ {2}-e 'BACKUP_KEEP=1' \\$/m);
    }
  });
});

describe("the backup hook's stdin", () => {
  const URL = "postgresql://migrator:pw@db:5432/app";

  it("is the database URL, then the Spaces key ID and secret when copying off-site, one per line", () => {
    assert.equal(backupStdin({ databaseUrl: URL }), `${URL}\n`);
    assert.equal(
      backupStdin({ databaseUrl: URL, offsite: { accessKeyId: "DO00KEY", secretAccessKey: "s3cr3t/+=" } }),
      `${URL}\nDO00KEY\ns3cr3t/+=\n`,
    );
  });

  it("refuses a value with a line break or NUL, naming which secret it was without showing it", () => {
    for (const bad of ["\n", "\r", "\0", "\r\n"])
      for (const [where, secrets, what] of [
        ["url", { databaseUrl: `${URL}${bad}x` }, "the database URL"],
        ["key", { databaseUrl: URL, offsite: { accessKeyId: `DO${bad}00`, secretAccessKey: "s" } }, "the Spaces access key"],
        ["secret", { databaseUrl: URL, offsite: { accessKeyId: "DO00", secretAccessKey: `${bad}s` } }, "the Spaces secret key"],
      ] as const)
        assert.throws(
          () => backupStdin(secrets),
          (error: unknown) => {
            assert.ok(error instanceof Error);
            assert.equal(
              error.message,
              `${what} contains a line break or NUL, which cannot be passed to a hook`,
              `${where} ${JSON.stringify(bad)}`,
            );
            return true;
          },
        );
  });
});
