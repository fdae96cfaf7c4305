// The restore drill and the scheduled backup as they run on the droplet between deploys. The
// drill's script is asserted whole (every line) over the droplet's and test folders (one with
// a space), the default or a given drill folder, role lists, and a local backup or one of two
// off-site targets; its role names are checked over valid and invalid shapes. The scheduled
// backup is the deploy's backup script (asserted whole in hooks-backup-whole) labelled
// "scheduled". The expected text is written out here, not taken from the renderer.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DROPLET_PATHS, type HookPaths, type OffsiteTarget, renderBackupCommand } from "../../components/hooks/commands";
import { renderDrillCommand, renderScheduledBackupScript } from "../../components/hooks/schedule";

/** POSIX single quoting, restated so the expectation does not lean on the module's helper. */
function sq(value: string): string {
  return `'${value.split("'").join(`'\\''`)}'`;
}

const PATH_SETS: HookPaths[] = [
  DROPLET_PATHS,
  { hooksDir: "/tmp/t/hooks", backupDir: "/tmp/t/backups", runDir: "/tmp/t/run", statusDir: "/tmp/t/status" },
  { hooksDir: "/tmp/my dir/hooks", backupDir: "/tmp/my dir/backups", runDir: "/tmp/my dir/run", statusDir: "/tmp/my dir/status" },
];
const TARGETS: (OffsiteTarget | undefined)[] = [
  undefined,
  { bucket: "acme-backups-x1", endpoint: "https://fra1.digitaloceanspaces.com", prefix: "postgres/" },
  { bucket: "b2", endpoint: "https://ams3.digitaloceanspaces.com", prefix: "db/prod/" },
];
const ROLE_LISTS = [[], ["migrator"], ["migrator", "app", "readonly"], ["_x", "app_2"]];

function expectedDrill(paths: HookPaths, drillDir: string, roles: string[], target: OffsiteTarget | undefined): string {
  const { hooksDir, backupDir, statusDir } = paths;
  const lines = [
    "# dropstack drill (components/hooks/schedule.ts): restore the latest backup into a throwaway server and check it",
    "set -euo pipefail",
    "IFS= read -r _database_url || true",
  ];
  if (target)
    lines.push(
      "IFS= read -r offsite_key_id || true",
      "IFS= read -r offsite_secret || true",
      `[[ -n $offsite_key_id && -n $offsite_secret ]] || { echo "dropstack: the Spaces key did not arrive on stdin" >&2; offsite_key_id='' offsite_secret=''; }`,
    );
  lines.push(
    `status=${sq(`${statusDir}/drill.json`)}`,
    "started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)",
    "write_result() {",
    "  local tmp",
    `  tmp=$(mktemp ${sq(`${statusDir}/.drill.json.XXXXXX`)})`,
    `  printf '%s\\n' "$1" >"$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$status"`,
    "}",
    "fail() {",
    '  echo "dropstack: drill failed: $1" >&2',
    '  write_result "{\\"ok\\": false, \\"file\\": null, \\"bytes\\": null, \\"backup_created_at\\": null, \\"started_at\\": \\"$started_at\\", \\"seconds\\": 0, \\"tables\\": null, \\"rows\\": null, \\"error\\": \\"$1\\"}"',
    "  exit 1",
    "}",
    `install -d -m 0750 ${sq(drillDir)}`,
    `run=$(mktemp -d ${sq(`${drillDir}/run.XXXXXX`)})`,
    `trap 'rm -rf -- "$run"' EXIT`,
    "stamp='-([0-9]{8}T[0-9]{6}[.][0-9]{9}Z)'",
    "newest='' newest_key=''",
  );
  if (target) {
    const remote = `'offsite:${target.bucket}/${target.prefix}'`;
    lines.push(
      "offsite_rclone() {",
      "  local -a stdin=()",
      "  if [[ $1 == --stdin ]]; then stdin=(-i); shift; fi",
      '  docker run --rm "${stdin[@]}" \\',
      '    --user "$(id -u):$(id -g)" \\',
      "    --cap-drop ALL \\",
      "    --security-opt no-new-privileges \\",
      `    -v ${sq(`${drillDir}:${drillDir}`)} \\`,
      `    --env-file <(printf 'RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID=%s\\nRCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY=%s\\n' "$offsite_key_id" "$offsite_secret") \\`,
      "    -e RCLONE_CONFIG_OFFSITE_TYPE=s3 \\",
      "    -e RCLONE_CONFIG_OFFSITE_PROVIDER=DigitalOcean \\",
      `    -e 'RCLONE_CONFIG_OFFSITE_ENDPOINT=${target.endpoint}' \\`,
      "    -e RCLONE_CONFIG_OFFSITE_ACL=private \\",
      "    'rclone/rclone:1.68.2' \\",
      '    "$@"',
      "}",
      `listing=$(offsite_rclone lsf --files-only ${remote}) || fail "could not list the off-site copies"`,
      "while IFS= read -r object; do",
      "  [[ $object == *.dump && $object =~ $stamp ]] || continue",
      "  key=${BASH_REMATCH[1]}",
      '  grep -qxF -- "$object.json" <<<"$listing" || continue',
      '  if [[ -z $newest_key || $key > "$newest_key" ]]; then newest=$object newest_key=$key; fi',
      'done <<<"$listing"',
      '[[ -n $newest ]] || fail "no complete off-site copy to restore"',
      'for file in "$newest" "$newest.json"; do',
      `  offsite_rclone copyto ${remote}"$file" "$run/$file" || fail "could not download $file"`,
      "done",
      "dump=$run/$newest",
      'echo "dropstack: drill of the newest off-site copy, $newest" >&2',
    );
  } else {
    lines.push(
      "shopt -s nullglob",
      `for json in ${sq(backupDir)}/*.dump.json; do`,
      "  object=${json##*/}",
      "  object=${object%.json}",
      "  [[ $object =~ $stamp && -f ${json%.json} ]] || continue",
      "  key=${BASH_REMATCH[1]}",
      '  if [[ -z $newest_key || $key > "$newest_key" ]]; then newest=$object newest_key=$key; fi',
      "done",
      "shopt -u nullglob",
      '[[ -n $newest ]] || fail "no local backup to restore"',
      `dump=${sq(backupDir)}/$newest`,
      'echo "dropstack: drill of the newest local backup, $newest" >&2',
    );
  }
  lines.push(
    "drill_status=0",
    "output=$(docker run --rm --network none \\",
    '  --user "$(id -u):$(id -g)" \\',
    "  --cap-drop ALL \\",
    "  --security-opt no-new-privileges \\",
    `  -v ${sq(`${hooksDir}:${hooksDir}:ro`)} \\`,
    `  -v ${sq(`${backupDir}:${backupDir}:ro`)} \\`,
    '  -v "$run:$run" \\',
    '  -e "DRILL_WORK_DIR=$run/server" \\',
    `  -e 'DRILL_ROLES=${roles.join(" ")}' \\`,
    "  'postgres:16.6-bookworm' \\",
    `  bash ${sq(`${hooksDir}/drill.sh`)} "$dump") || drill_status=$?`,
    "result=${output##*$'\\n'}",
    `if [[ $result != '{"ok": '* ]]; then fail "drill.sh gave no result (exit $drill_status)"; fi`,
    'write_result "$result"',
    'echo "dropstack: drill result: $result" >&2',
    'exit "$drill_status"',
  );
  return lines.join("\n");
}

describe("the restore drill's script on the droplet", () => {
  it("is exactly the expected script for every folder set, drill folder, role list and backup source", () => {
    let count = 0;
    for (const paths of PATH_SETS)
      for (const drillDir of [undefined, "/tmp/a drill"])
        for (const roles of ROLE_LISTS)
          for (const target of TARGETS) {
            const rendered = renderDrillCommand({
              clientImage: "postgres:16.6-bookworm",
              roles,
              ...(target ? { offsite: target } : {}),
              ...(paths === DROPLET_PATHS ? {} : { paths }),
              ...(drillDir === undefined ? {} : { drillDir }),
            });
            const expected = expectedDrill(paths, drillDir ?? "/srv/dropstack/drill", roles, target);
            assert.deepEqual(rendered.split("\n"), expected.split("\n"), JSON.stringify({ paths, drillDir, roles, target }));
            count++;
          }
    assert.equal(count, 3 * 2 * 4 * 3);
  });

  it("refuses a role that is not a plain lower-case PostgreSQL name, naming it", () => {
    for (const role of ["", "App", "1app", "app-x", "app x", "app;drop", "a'b", " app", "app\n", "$app", "app.x"])
      assert.throws(() => renderDrillCommand({ clientImage: "c", roles: ["migrator", role] }), {
        message: `drill role "${role}" is not a plain PostgreSQL role name`,
      });
  });
});

describe("the scheduled backup", () => {
  it("is the deploy's backup script labelled as scheduled, for local and off-site copies", () => {
    for (const target of TARGETS)
      for (const keep of [1, 7]) {
        const input = { network: "app-net", clientImage: "postgres:16.6-bookworm", keep, ...(target ? { offsite: target } : {}) };
        const rendered = renderScheduledBackupScript(input);
        assert.equal(rendered, renderBackupCommand({ ...input, label: "scheduled" }));
        assert.match(rendered, /^echo "dropstack: backing up before deploying "'scheduled' >&2$/m);
        assert.match(rendered, /^ {2}-e 'BACKUP_LABEL=scheduled' \\$/m);
      }
  });
});
