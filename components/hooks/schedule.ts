// Data protection between deploys, on the droplet: a systemd timer runs the deploy's own backup
// command every dropstack:backups.intervalHours, another restores the latest (off-site) backup
// into a throwaway server and checks it (dropstack:backups.drill), and a third checks every
// 15 minutes that both are recent and passed, leaving a probe file the uptime check fetches.
// Units and scripts are rendered here as pure functions; `systemd-analyze verify` and the
// tests read exactly these bytes, and `npm run check -- <stack> --emit` writes them.
import { DATA_DIRS, DEPLOY_USER } from "../common/names";
import { shellQuote } from "../common/shell";
import type { DrillSchedule } from "../config/schema";
import { HEALTH_PROBE, INSTALLS_STDIN_MARKER, PROXY_HOST_PATHS } from "../proxy/commands";
import {
  type BackupCommandInput,
  CLIENT_CONTAINER_FLAGS,
  DROPLET_PATHS,
  type HookPaths,
  type OffsiteTarget,
  offsiteRemote,
  rcloneFunction,
  renderBackupCommand,
} from "./commands";

/** Where the scheduled jobs' scripts and their stdin live on the droplet. */
export const SCHEDULE_DIR = `${DATA_DIRS.dropstack}/scheduled`;
/** The throwaway server of a restore drill and the copy it restores. */
export const DRILL_DIR = `${DATA_DIRS.dropstack}/drill`;
/** Where the unit files go. */
export const UNIT_DIR = "/etc/systemd/system";
/** The label scheduled backups carry in their .json and file name. */
export const SCHEDULED_LABEL = "scheduled";

export const SCHEDULE_FILES = {
  /** The backup command, exactly as a deploy renders it (renderBackupCommand). */
  backupScript: `${SCHEDULE_DIR}/backup.sh`,
  drillScript: `${SCHEDULE_DIR}/drill.sh`,
  /** The secrets the two scripts read on stdin (backupStdin's lines); 0600, the deploy user's. */
  stdin: `${SCHEDULE_DIR}/stdin`,
} as const;

export const UNITS = {
  backupService: "dropstack-backup.service",
  backupTimer: "dropstack-backup.timer",
  drillService: "dropstack-drill.service",
  drillTimer: "dropstack-drill.timer",
  checkService: "dropstack-backup-check.service",
  checkTimer: "dropstack-backup-check.timer",
} as const;
export type UnitFile = (typeof UNITS)[keyof typeof UNITS];

/**
 * The file the freshness check keeps in the ACME webroot while backups are fresh and the last
 * drill passed (beside the proxy's own health probe): nginx serves it over HTTP, and the
 * Monitoring component's uptime check alerts when it answers 404.
 */
export const BACKUP_PROBE = {
  path: HEALTH_PROBE.path.replace(/[^/]+$/, "dropstack-backups"),
  hostFile: `${PROXY_HOST_PATHS.acme}${HEALTH_PROBE.path.replace(/[^/]+$/, "dropstack-backups")}`,
} as const;

/** How often the freshness check runs. */
export const CHECK_INTERVAL_MINUTES = 15;
const DRILL_PERIOD_SECONDS: Record<Exclude<DrillSchedule, "off">, number> = { daily: 86_400, weekly: 7 * 86_400 };
// Drills run at 05:00 UTC (Sundays for weekly), spread over half an hour.
const DRILL_CALENDAR: Record<Exclude<DrillSchedule, "off">, string> = { daily: "*-*-* 05:00:00", weekly: "Sun *-*-* 05:00:00" };

export interface ScheduleSettings {
  /** dropstack:backups.intervalHours */
  intervalHours: number;
  /** dropstack:backups.drill */
  drill: DrillSchedule;
  /** dropstack:backups.offsite on. */
  offsite: boolean;
}

/** The freshness limits: twice the backup interval; twice the drill period (0 = drills off). */
export function freshnessLimits(settings: Pick<ScheduleSettings, "intervalHours" | "drill">): {
  backupMaxAgeSeconds: number;
  drillMaxAgeSeconds: number;
} {
  if (!Number.isInteger(settings.intervalHours) || settings.intervalHours < 1 || settings.intervalHours > 168)
    throw new Error(`dropstack:backups.intervalHours must be a whole number from 1 to 168, got ${settings.intervalHours}`);
  return {
    backupMaxAgeSeconds: 2 * settings.intervalHours * 3600,
    drillMaxAgeSeconds: settings.drill === "off" ? 0 : 2 * DRILL_PERIOD_SECONDS[settings.drill],
  };
}

function unit(sections: [string, string[]][]): string {
  return sections.map(([name, lines]) => [`[${name}]`, ...lines].join("\n")).join("\n\n") + "\n";
}

// The deploy user runs the jobs (docker group, its own backups); the volume must be mounted and
// Docker running, or the job fails (and the freshness check says so) rather than writing to /.
const JOB_UNIT = ["Requires=docker.service", "After=docker.service network-online.target", "Wants=network-online.target"];
function jobService(description: string, script: string, timeoutHours: number): string {
  return unit([
    ["Unit", [`Description=${description}`, ...JOB_UNIT, `RequiresMountsFor=${DATA_DIRS.dropstack}`]],
    [
      "Service",
      [
        "Type=oneshot",
        `User=${DEPLOY_USER}`,
        `Group=${DEPLOY_USER}`,
        // The secrets arrive on stdin as they do for the deploy's hooks: never in argv or the environment.
        `StandardInput=file:${SCHEDULE_FILES.stdin}`,
        "StandardOutput=journal",
        "StandardError=journal",
        `ExecStart=/bin/bash ${script}`,
        `TimeoutStartSec=${timeoutHours}h`,
        // Behind the app for CPU and disk.
        "Nice=10",
        "IOSchedulingClass=best-effort",
        "IOSchedulingPriority=7",
      ],
    ],
  ]);
}

export function renderBackupService(settings: ScheduleSettings): string {
  return jobService(
    `dropstack: verified backup of the database every ${settings.intervalHours}h${settings.offsite ? ", copied off-site" : ""}`,
    SCHEDULE_FILES.backupScript,
    Math.max(1, settings.intervalHours),
  );
}

export function renderBackupTimer(settings: ScheduleSettings): string {
  freshnessLimits(settings);
  return unit([
    ["Unit", [`Description=dropstack: verified backup every ${settings.intervalHours}h`]],
    [
      "Timer",
      // A monotonic period works for any number of hours (a calendar only for divisors of 24);
      // after a reboot the first run comes 15 minutes in.
      ["OnBootSec=15min", `OnUnitActiveSec=${settings.intervalHours}h`, "AccuracySec=1min", `Unit=${UNITS.backupService}`],
    ],
    ["Install", ["WantedBy=timers.target"]],
  ]);
}

export function renderDrillService(): string {
  return jobService("dropstack: restore drill of the latest backup into a throwaway server", SCHEDULE_FILES.drillScript, 6);
}

export function renderDrillTimer(settings: ScheduleSettings): string {
  if (settings.drill === "off") throw new Error("dropstack:backups.drill is off: there is no drill timer");
  return unit([
    ["Unit", [`Description=dropstack: ${settings.drill} restore drill`]],
    [
      "Timer",
      [
        `OnCalendar=${DRILL_CALENDAR[settings.drill]}`,
        // A drill missed while the droplet was off runs at the next boot.
        "Persistent=true",
        "RandomizedDelaySec=30min",
        `Unit=${UNITS.drillService}`,
      ],
    ],
    ["Install", ["WantedBy=timers.target"]],
  ]);
}

export function renderCheckService(settings: ScheduleSettings, paths: HookPaths = DROPLET_PATHS): string {
  const limits = freshnessLimits(settings);
  const probeDir = BACKUP_PROBE.hostFile.slice(0, BACKUP_PROBE.hostFile.lastIndexOf("/"));
  return unit([
    ["Unit", ["Description=dropstack: backup freshness and restore drill check", `RequiresMountsFor=${DATA_DIRS.dropstack}`]],
    [
      "Service",
      [
        "Type=oneshot",
        `Environment=BACKUP_DIR=${paths.backupDir} STATUS_DIR=${paths.statusDir}`,
        `Environment=BACKUP_MAX_AGE_S=${limits.backupMaxAgeSeconds} DRILL_MAX_AGE_S=${limits.drillMaxAgeSeconds} OFFSITE=${settings.offsite}`,
        `Environment=PROBE_FILE=${BACKUP_PROBE.hostFile}`,
        `ExecStart=/bin/bash ${paths.hooksDir}/backup-check.sh`,
        // Root only to write the probe into the proxy's webroot; everything else is read-only,
        // and it needs no network. A missing webroot (no proxy yet) is skipped, not an error.
        "ProtectSystem=strict",
        `ReadWritePaths=${paths.statusDir} -${probeDir}`,
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateNetwork=yes",
        "NoNewPrivileges=yes",
      ],
    ],
  ]);
}

export function renderCheckTimer(): string {
  return unit([
    ["Unit", ["Description=dropstack: backup freshness check"]],
    ["Timer", ["OnBootSec=5min", `OnUnitActiveSec=${CHECK_INTERVAL_MINUTES}min`, "AccuracySec=1min", `Unit=${UNITS.checkService}`]],
    ["Install", ["WantedBy=timers.target"]],
  ]);
}

/** Every unit this configuration installs, by file name. */
export function renderUnits(settings: ScheduleSettings, paths: HookPaths = DROPLET_PATHS): Partial<Record<UnitFile, string>> {
  return {
    [UNITS.backupService]: renderBackupService(settings),
    [UNITS.backupTimer]: renderBackupTimer(settings),
    ...(settings.drill === "off" ? {} : { [UNITS.drillService]: renderDrillService(), [UNITS.drillTimer]: renderDrillTimer(settings) }),
    [UNITS.checkService]: renderCheckService(settings, paths),
    [UNITS.checkTimer]: renderCheckTimer(),
  };
}

/** The timers to enable; the others (the drill's when drills are off) are disabled. */
export function enabledTimers(settings: ScheduleSettings): UnitFile[] {
  return [UNITS.backupTimer, ...(settings.drill === "off" ? [] : [UNITS.drillTimer]), UNITS.checkTimer];
}

/** The scheduled backup: the deploy's backup command, labelled as scheduled. */
export function renderScheduledBackupScript(input: Omit<BackupCommandInput, "label">): string {
  return renderBackupCommand({ ...input, label: SCHEDULED_LABEL });
}

export interface DrillCommandInput {
  clientImage: string;
  /** Restore the newest complete off-site copy; without it, the newest local backup. */
  offsite?: OffsiteTarget;
  /** Roles the dump's GRANTs name (the database component's roles). */
  roles: string[];
  paths?: HookPaths;
  drillDir?: string;
}

/**
 * The drill's host side: fetch the newest complete off-site copy (or take the newest local
 * backup), run drill.sh on it in the PostgreSQL client image with no network, and write its
 * one-line JSON result to `<statusDir>/drill.json`, or a failure result when it gave none.
 */
export function renderDrillCommand(input: DrillCommandInput): string {
  const paths = input.paths ?? DROPLET_PATHS;
  const drillDir = input.drillDir ?? DRILL_DIR;
  for (const role of input.roles)
    if (!/^[a-z_][a-z0-9_]*$/.test(role)) throw new Error(`drill role "${role}" is not a plain PostgreSQL role name`);
  const status = `${paths.statusDir}/drill.json`;
  const lines = [
    `# dropstack drill (components/hooks/schedule.ts): restore the latest backup into a throwaway server and check it`,
    "set -euo pipefail",
    // stdin carries backupStdin's lines: the database URL (unused: the drill never touches the
    // database) and, off-site, the Spaces key.
    "IFS= read -r _database_url || true",
  ];
  if (input.offsite)
    lines.push(
      "IFS= read -r offsite_key_id || true",
      "IFS= read -r offsite_secret || true",
      `[[ -n $offsite_key_id && -n $offsite_secret ]] || { echo "dropstack: the Spaces key did not arrive on stdin" >&2; offsite_key_id='' offsite_secret=''; }`,
    );
  lines.push(
    `status=${shellQuote(status)}`,
    `started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)`,
    // The result the monitoring reads, written whole by a rename.
    "write_result() {",
    `  local tmp`,
    `  tmp=$(mktemp ${shellQuote(`${paths.statusDir}/.drill.json.XXXXXX`)})`,
    `  printf '%s\\n' "$1" >"$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$status"`,
    "}",
    "fail() {",
    `  echo "dropstack: drill failed: $1" >&2`,
    `  write_result "{\\"ok\\": false, \\"file\\": null, \\"bytes\\": null, \\"backup_created_at\\": null, \\"started_at\\": \\"$started_at\\", \\"seconds\\": 0, \\"tables\\": null, \\"rows\\": null, \\"error\\": \\"$1\\"}"`,
    "  exit 1",
    "}",
    `install -d -m 0750 ${shellQuote(drillDir)}`,
    `run=$(mktemp -d ${shellQuote(`${drillDir}/run.XXXXXX`)})`,
    `trap 'rm -rf -- "$run"' EXIT`,
    `stamp=${shellQuote("-([0-9]{8}T[0-9]{6}[.][0-9]{9}Z)")}`,
    "newest='' newest_key=''",
  );
  if (input.offsite) {
    const remote = offsiteRemote(input.offsite);
    lines.push(
      ...rcloneFunction(input.offsite, `${drillDir}:${drillDir}`),
      `listing=$(offsite_rclone lsf --files-only ${shellQuote(remote)}) || fail "could not list the off-site copies"`,
      // The newest complete copy: a .dump whose .json (uploaded last) is there too.
      "while IFS= read -r object; do",
      `  [[ $object == *.dump && $object =~ $stamp ]] || continue`,
      "  key=${BASH_REMATCH[1]}",
      `  grep -qxF -- "$object.json" <<<"$listing" || continue`,
      `  if [[ -z $newest_key || $key > "$newest_key" ]]; then newest=$object newest_key=$key; fi`,
      `done <<<"$listing"`,
      `[[ -n $newest ]] || fail "no complete off-site copy to restore"`,
      `for file in "$newest" "$newest.json"; do`,
      `  offsite_rclone copyto ${shellQuote(remote)}"$file" "$run/$file" || fail "could not download $file"`,
      "done",
      `dump=$run/$newest`,
      `echo "dropstack: drill of the newest off-site copy, $newest" >&2`,
    );
  } else {
    lines.push(
      "shopt -s nullglob",
      `for json in ${shellQuote(paths.backupDir)}/*.dump.json; do`,
      "  object=${json##*/}",
      "  object=${object%.json}",
      `  [[ $object =~ $stamp && -f \${json%.json} ]] || continue`,
      "  key=${BASH_REMATCH[1]}",
      `  if [[ -z $newest_key || $key > "$newest_key" ]]; then newest=$object newest_key=$key; fi`,
      "done",
      "shopt -u nullglob",
      `[[ -n $newest ]] || fail "no local backup to restore"`,
      `dump=${shellQuote(paths.backupDir)}/$newest`,
      `echo "dropstack: drill of the newest local backup, $newest" >&2`,
    );
  }
  lines.push(
    "drill_status=0",
    [
      "output=$(docker run --rm --network none",
      ...CLIENT_CONTAINER_FLAGS,
      `-v ${shellQuote(`${paths.hooksDir}:${paths.hooksDir}:ro`)}`,
      `-v ${shellQuote(`${paths.backupDir}:${paths.backupDir}:ro`)}`,
      `-v "$run:$run"`,
      `-e "DRILL_WORK_DIR=$run/server"`,
      `-e ${shellQuote(`DRILL_ROLES=${input.roles.join(" ")}`)}`,
      shellQuote(input.clientImage),
      `bash ${shellQuote(`${paths.hooksDir}/drill.sh`)} "$dump") || drill_status=$?`,
    ].join(" \\\n  "),
    `result=\${output##*$'\\n'}`,
    `if [[ $result != '{"ok": '* ]]; then fail "drill.sh gave no result (exit $drill_status)"; fi`,
    `write_result "$result"`,
    `echo "dropstack: drill result: $result" >&2`,
    `exit "$drill_status"`,
  );
  return lines.join("\n");
}

/**
 * Installs the Command's stdin at `target` whole (a temp file beside it, then a rename), as the
 * deploy user in its own folders, or with sudo for the unit files. Its first line is the marker
 * `npm run check -- --emit` finds files by.
 */
export function renderInstallFileCommand(target: string, mode: "0600" | "0644" | "0755"): string {
  const asRoot = target.startsWith(`${UNIT_DIR}/`);
  const sudo = asRoot ? "sudo " : "";
  const dir = target.slice(0, target.lastIndexOf("/"));
  const name = target.slice(target.lastIndexOf("/") + 1);
  return [
    `${INSTALLS_STDIN_MARKER}${target}`,
    "set -euo pipefail",
    ...(asRoot ? [] : [`install -d -m 0750 ${shellQuote(dir)}`]),
    `tmp=$(${sudo}mktemp ${shellQuote(`${dir}/.${name}.XXXXXX`)})`,
    `trap '${sudo}rm -f -- "$tmp"' EXIT`,
    // The mode before the content: the secrets are never readable by anyone else, not even for a moment (mktemp makes 0600).
    `${sudo}chmod ${mode} "$tmp"`,
    `${sudo}tee "$tmp" >/dev/null`,
    `${sudo}mv -f -- "$tmp" ${shellQuote(target)}`,
    "trap - EXIT",
    `echo "dropstack: installed ${target}"`,
  ].join("\n");
}

/** After the files: systemd reads the units again, the configured timers run, the others stop. */
export function renderEnableTimersCommand(settings: ScheduleSettings): string {
  const enabled = enabledTimers(settings);
  const disabled = [UNITS.drillTimer].filter((t) => !enabled.includes(t));
  return [
    "set -euo pipefail",
    "sudo systemctl daemon-reload",
    `sudo systemctl enable --now ${enabled.join(" ")}`,
    ...disabled.map((t) => `sudo systemctl disable --now ${t} 2>/dev/null || true`),
    `systemctl list-timers --no-pager ${enabled.join(" ")}`,
  ].join("\n");
}
