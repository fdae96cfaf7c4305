// The hooks' security-relevant rendering asserted whole, so that changing any line fails a
// test: the droplet folders' owners and modes, the hardening of every container a hook or a
// scheduled job starts, the systemd units (who runs the jobs, the freshness check's sandbox,
// the timers), the file installs and the validation of the hook settings.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { scheduleResourceKey } from "../../components/hooks";
import { HOOK_SUFFIX } from "../../components/common/names";
import {
  CLIENT_CONTAINER_FLAGS,
  DROPLET_PATHS,
  type HookPaths,
  renderBackupCommand,
  renderMigrateCommand,
  renderOffsitePrune,
  renderPrepareCommand,
  renderPruneImagesCommand,
  renderSmokeCommand,
  renderVerifyCommand,
  renderWatchCommand,
  verifyStdin,
} from "../../components/hooks/commands";
import {
  BACKUP_PROBE,
  DRILL_DIR,
  SCHEDULE_FILES,
  UNITS,
  type ScheduleSettings,
  renderDrillCommand,
  renderEnableTimersCommand,
  renderInstallFileCommand,
  renderScheduledBackupScript,
  renderUnits,
} from "../../components/hooks/schedule";
import { DRILL_SCHEDULES } from "../../components/config/schema";

const OFFSITE = { bucket: "acme-backups-x1", endpoint: "https://fra1.digitaloceanspaces.com", prefix: "postgres/" };
const IMAGE_ID = `sha256:${"ab".repeat(32)}`;
const TEST_PATHS: HookPaths = { hooksDir: "/tmp/t/hooks", backupDir: "/tmp/t/backups", runDir: "/tmp/t/run", statusDir: "/tmp/t/status" };

describe("the droplet folders of the hooks", () => {
  it("are the deploy user's: hooks and run private to it, the status world-readable", () => {
    assert.deepEqual(DROPLET_PATHS, {
      hooksDir: "/srv/dropstack/hooks",
      backupDir: "/srv/backups",
      runDir: "/srv/dropstack/run",
      statusDir: "/srv/dropstack/status",
    });
    assert.equal(
      renderPrepareCommand(),
      [
        "# dropstack prepare hook (components/hooks/commands.ts): directories for the hook scripts and their scratch files",
        "set -euo pipefail",
        "sudo install -d -o deploy -g deploy -m 0750 '/srv/dropstack' '/srv/dropstack/hooks' '/srv/dropstack/run'",
        "sudo install -d -o deploy -g deploy -m 0755 '/srv/dropstack/status'",
      ].join("\n"),
    );
    assert.match(
      renderPrepareCommand(TEST_PATHS),
      /^sudo install -d -o deploy -g deploy -m 0750 '\/tmp\/t' '\/tmp\/t\/hooks' '\/tmp\/t\/run'$/m,
    );
    assert.match(renderPrepareCommand(TEST_PATHS), /^sudo install -d -o deploy -g deploy -m 0755 '\/tmp\/t\/status'$/m);
  });
});

/** Each `docker run …` of a rendered script, up to the line that does not continue. */
function dockerRuns(script: string): string[] {
  return script
    .split(/(?=docker run )/)
    .slice(1)
    .map((run) => run.split(/(?<!\\)\n/)[0]);
}

describe("the containers the hooks and scheduled jobs start", () => {
  const scripts: [string, string, number][] = [
    ["backup", renderBackupCommand({ network: "n", clientImage: "postgres:16.6-bookworm", label: "l", keep: 3 }), 1],
    [
      "backup off-site",
      renderBackupCommand({ network: "n", clientImage: "postgres:16.6-bookworm", label: "l", keep: 3, offsite: OFFSITE }),
      2,
    ],
    ["scheduled backup off-site", renderScheduledBackupScript({ network: "n", clientImage: "c", keep: 3, offsite: OFFSITE }), 2],
    ["verify", renderVerifyCommand({ network: "n", clientImage: "c", assertions: [{ name: "a", query: "select true" }] }), 1],
    ["drill", renderDrillCommand({ clientImage: "c", roles: ["app"] }), 1],
    ["drill off-site", renderDrillCommand({ clientImage: "c", roles: ["app"], offsite: OFFSITE }), 2],
  ];

  it("run as the calling user, with no capabilities and no way to gain privileges", () => {
    assert.deepEqual(CLIENT_CONTAINER_FLAGS, [`--user "$(id -u):$(id -g)"`, "--cap-drop ALL", "--security-opt no-new-privileges"]);
    for (const [what, script, count] of scripts) {
      const runs = dockerRuns(script);
      assert.equal(runs.length, count, `${what}: ${count} docker run(s)`);
      for (const run of runs) {
        for (const flag of CLIENT_CONTAINER_FLAGS)
          assert.ok(run.includes(` \\\n  ${flag} \\\n`) || run.includes(` \\\n    ${flag} \\\n`), `${what}: ${flag} in ${run}`);
        assert.doesNotMatch(run, /--privileged|--cap-add|docker\.sock|--network[ =]'?host|--pid|--ipc/, what);
      }
    }
  });

  it("never see a secret in their arguments: the database URL and the Spaces key arrive through env files", () => {
    for (const [what, script] of scripts) {
      for (const run of dockerRuns(script)) {
        assert.doesNotMatch(run, /-e '?(DATABASE_URL|RCLONE_CONFIG_OFFSITE_(ACCESS_KEY_ID|SECRET_ACCESS_KEY))=/, what);
        assert.doesNotMatch(run, /--env (DATABASE_URL|RCLONE)/, what);
      }
    }
    assert.match(
      scripts[1][1],
      /--env-file <\(printf 'RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID=%s\\nRCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY=%s\\n' "\$offsite_key_id" "\$offsite_secret"\)/,
    );
    assert.match(scripts[0][1], /--env-file <\(printf 'DATABASE_URL=%s\\n' "\$database_url"\)/);
  });

  it("the off-site copies go to a private bucket on DigitalOcean Spaces at the configured endpoint", () => {
    const rclone = dockerRuns(scripts[1][1])[1];
    for (const setting of [
      "-e RCLONE_CONFIG_OFFSITE_TYPE=s3",
      "-e RCLONE_CONFIG_OFFSITE_PROVIDER=DigitalOcean",
      "-e 'RCLONE_CONFIG_OFFSITE_ENDPOINT=https://fra1.digitaloceanspaces.com'",
      "-e RCLONE_CONFIG_OFFSITE_ACL=private",
      "-v '/srv/backups:/srv/backups:ro'",
    ])
      assert.ok(rclone.includes(setting), setting);
  });

  it("the drill's restore has no network and reads the backups read-only", () => {
    for (const [what, script] of scripts.filter(([name]) => name.startsWith("drill"))) {
      const drill = dockerRuns(script).at(-1) ?? "";
      assert.match(drill, /^docker run --rm --network none \\\n/, what);
      assert.ok(drill.includes("-v '/srv/backups:/srv/backups:ro'"), what);
      assert.ok(drill.includes("-v '/srv/dropstack/hooks:/srv/dropstack/hooks:ro'"), what);
    }
    assert.ok(dockerRuns(scripts[5][1])[0].includes(`-v '${DRILL_DIR}:${DRILL_DIR}'`));
  });
});

const variants: ScheduleSettings[] = [1, 6, 24, 168].flatMap((intervalHours) =>
  DRILL_SCHEDULES.flatMap((drill) => [true, false].map((offsite) => ({ intervalHours, drill, offsite }))),
);

/** The job services' common lines: the deploy user, secrets on stdin from the 0600 file, behind the app. */
function jobService(description: string, script: string, timeout: string): string {
  return `[Unit]
Description=${description}
Requires=docker.service
After=docker.service network-online.target
Wants=network-online.target
RequiresMountsFor=/srv/dropstack

[Service]
Type=oneshot
User=deploy
Group=deploy
StandardInput=file:/srv/dropstack/scheduled/stdin
StandardOutput=journal
StandardError=journal
ExecStart=/bin/bash ${script}
TimeoutStartSec=${timeout}
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
`;
}

describe("the systemd units of backups between deploys", () => {
  it("are rendered whole for every interval, drill schedule and off-site setting", () => {
    for (const settings of variants) {
      const { intervalHours, drill, offsite } = settings;
      const drillAge = { off: 0, daily: 172800, weekly: 1209600 }[drill];
      const expected: Record<string, string> = {
        [UNITS.backupService]: jobService(
          `dropstack: verified backup of the database every ${intervalHours}h${offsite ? ", copied off-site" : ""}`,
          "/srv/dropstack/scheduled/backup.sh",
          `${intervalHours}h`,
        ),
        [UNITS.backupTimer]: `[Unit]
Description=dropstack: verified backup every ${intervalHours}h

[Timer]
OnBootSec=15min
OnUnitActiveSec=${intervalHours}h
AccuracySec=1min
Unit=dropstack-backup.service

[Install]
WantedBy=timers.target
`,
        [UNITS.checkService]: `[Unit]
Description=dropstack: backup freshness and restore drill check
RequiresMountsFor=/srv/dropstack

[Service]
Type=oneshot
Environment=BACKUP_DIR=/srv/backups STATUS_DIR=/srv/dropstack/status
Environment=BACKUP_MAX_AGE_S=${intervalHours * 7200} DRILL_MAX_AGE_S=${drillAge} OFFSITE=${offsite}
Environment=PROBE_FILE=/srv/proxy/acme/.well-known/acme-challenge/dropstack-backups
ExecStart=/bin/bash /srv/dropstack/hooks/backup-check.sh
ProtectSystem=strict
ReadWritePaths=/srv/dropstack/status -/srv/proxy/acme/.well-known/acme-challenge
ProtectHome=yes
PrivateTmp=yes
PrivateNetwork=yes
NoNewPrivileges=yes
`,
        [UNITS.checkTimer]: `[Unit]
Description=dropstack: backup freshness check

[Timer]
OnBootSec=5min
OnUnitActiveSec=15min
AccuracySec=1min
Unit=dropstack-backup-check.service

[Install]
WantedBy=timers.target
`,
      };
      if (drill !== "off") {
        expected[UNITS.drillService] = jobService(
          "dropstack: restore drill of the latest backup into a throwaway server",
          "/srv/dropstack/scheduled/drill.sh",
          "6h",
        );
        expected[UNITS.drillTimer] = `[Unit]
Description=dropstack: ${drill} restore drill

[Timer]
OnCalendar=${drill === "weekly" ? "Sun " : ""}*-*-* 05:00:00
Persistent=true
RandomizedDelaySec=30min
Unit=dropstack-drill.service

[Install]
WantedBy=timers.target
`;
      }
      assert.deepEqual(renderUnits(settings), expected, JSON.stringify(settings));
    }
    assert.equal(BACKUP_PROBE.path, "/.well-known/acme-challenge/dropstack-backups");
  });

  it("the check service points at the paths it is given", () => {
    const check = renderUnits({ intervalHours: 4, drill: "off", offsite: false }, TEST_PATHS)[UNITS.checkService] ?? "";
    assert.match(check, /^Environment=BACKUP_DIR=\/tmp\/t\/backups STATUS_DIR=\/tmp\/t\/status$/m);
    assert.match(check, /^ExecStart=\/bin\/bash \/tmp\/t\/hooks\/backup-check\.sh$/m);
    assert.match(check, /^ReadWritePaths=\/tmp\/t\/status -\/srv\/proxy\/acme\/\.well-known\/acme-challenge$/m);
  });

  it("are enabled, or the drill's disabled when drills are off, whole", () => {
    for (const drill of DRILL_SCHEDULES) {
      const timers =
        drill === "off"
          ? "dropstack-backup.timer dropstack-backup-check.timer"
          : "dropstack-backup.timer dropstack-drill.timer dropstack-backup-check.timer";
      assert.equal(
        renderEnableTimersCommand({ intervalHours: 4, drill, offsite: false }),
        [
          "set -euo pipefail",
          "sudo systemctl daemon-reload",
          `sudo systemctl enable --now ${timers}`,
          ...(drill === "off" ? ["sudo systemctl disable --now dropstack-drill.timer 2>/dev/null || true"] : []),
          `systemctl list-timers --no-pager ${timers}`,
        ].join("\n"),
      );
    }
  });

  it("get resource names that never contain the deploy backup's suffix", () => {
    assert.deepEqual(Object.values(UNITS).map(scheduleResourceKey), [
      "dump-service",
      "dump-timer",
      "drill-service",
      "drill-timer",
      "freshness-service",
      "freshness-timer",
    ]);
    for (const unit of Object.values(UNITS)) assert.ok(!scheduleResourceKey(unit).includes(HOOK_SUFFIX.backup), unit);
  });
});

describe("file installs from stdin", () => {
  it("write a temp file with the mode set before the content, then rename it, removing the temp file on failure", () => {
    assert.equal(
      renderInstallFileCommand(SCHEDULE_FILES.stdin, "0600"),
      [
        "# dropstack: installs stdin as /srv/dropstack/scheduled/stdin",
        "set -euo pipefail",
        "install -d -m 0750 '/srv/dropstack/scheduled'",
        "tmp=$(mktemp '/srv/dropstack/scheduled/.stdin.XXXXXX')",
        `trap 'rm -f -- "$tmp"' EXIT`,
        'chmod 0600 "$tmp"',
        'tee "$tmp" >/dev/null',
        "mv -f -- \"$tmp\" '/srv/dropstack/scheduled/stdin'",
        "trap - EXIT",
        'echo "dropstack: installed /srv/dropstack/scheduled/stdin"',
      ].join("\n"),
    );
    assert.equal(
      renderInstallFileCommand(`/etc/systemd/system/${UNITS.drillTimer}`, "0644"),
      [
        "# dropstack: installs stdin as /etc/systemd/system/dropstack-drill.timer",
        "set -euo pipefail",
        "tmp=$(sudo mktemp '/etc/systemd/system/.dropstack-drill.timer.XXXXXX')",
        `trap 'sudo rm -f -- "$tmp"' EXIT`,
        'sudo chmod 0644 "$tmp"',
        'sudo tee "$tmp" >/dev/null',
        "sudo mv -f -- \"$tmp\" '/etc/systemd/system/dropstack-drill.timer'",
        "trap - EXIT",
        'echo "dropstack: installed /etc/systemd/system/dropstack-drill.timer"',
      ].join("\n"),
    );
    assert.deepEqual(SCHEDULE_FILES, {
      backupScript: "/srv/dropstack/scheduled/backup.sh",
      drillScript: "/srv/dropstack/scheduled/drill.sh",
      stdin: "/srv/dropstack/scheduled/stdin",
    });
  });
});

describe("hook settings that make no sense are refused", () => {
  it("off-site retention keeps at least one copy for at least one day", () => {
    for (const keep of [0, -1, 1.5, Number.NaN])
      assert.throws(() => renderOffsitePrune("offsite:b/p/", { keep, days: 7 }), /must keep at least 1 copy/, String(keep));
    for (const days of [0, -3, 2.5, Number.NaN])
      assert.throws(() => renderOffsitePrune("offsite:b/p/", { keep: 3, days }), /days must be at least 1/, String(days));
    for (const [keep, days] of [
      [1, 1],
      [14, 30],
    ])
      assert.match(renderOffsitePrune("offsite:b/p/", { keep, days }).join("\n"), new RegExp(`^  local keep=${keep} days=${days} `, "m"));
  });

  it("the schema check needs one-line queries under named assertions and a positive timeout", () => {
    const ok = { network: "n", clientImage: "c", assertions: [{ name: "users table", query: "select to_regclass('users') is not null" }] };
    assert.throws(() => renderVerifyCommand({ ...ok, assertions: [] }), /at least one assertion/);
    for (const statementTimeoutMs of [0, -5, 1.5])
      assert.throws(() => renderVerifyCommand({ ...ok, statementTimeoutMs }), /timeout must be a positive number of ms/);
    for (const name of ["", " ", "a\tb", "a\nb", "x".repeat(101)])
      assert.throws(
        () => renderVerifyCommand({ ...ok, assertions: [{ name, query: "select true" }] }),
        /assertion 1: the name/,
        JSON.stringify(name),
      );
    for (const query of ["", "  ", "select\ntrue", "select true\r", "select\0"])
      assert.throws(
        () => renderVerifyCommand({ ...ok, assertions: [{ name: "a", query }] }),
        /assertion "a": the query must be one line/,
        JSON.stringify(query),
      );
    const text = renderVerifyCommand({
      ...ok,
      assertions: [...ok.assertions, { name: "two", query: "select 1 = 1" }],
      statementTimeoutMs: 5000,
    });
    assert.ok(text.includes("-e ASSERTION_COUNT=2 \\\n"));
    assert.ok(text.includes("-e 'ASSERTION_1=users table\tselect to_regclass('\\''users'\\'') is not null' \\\n"));
    assert.ok(text.includes("-e 'ASSERTION_2=two\tselect 1 = 1' \\\n"));
    assert.ok(text.includes("-e 'STATEMENT_TIMEOUT_MS=5000' \\\n"));
    assert.ok(renderVerifyCommand(ok).includes("-e 'STATEMENT_TIMEOUT_MS=30000' \\\n"));
    assert.ok(
      text.startsWith(
        "# dropstack verify hook (components/hooks/commands.ts): 2 schema assertion(s) as the readonly role before the rollout\nset -euo pipefail\n",
      ),
    );
    assert.ok(
      text.includes(`[[ -n $database_url ]] || { echo "dropstack: the readonly database URL did not arrive on stdin" >&2; exit 1; }`),
    );
    assert.equal(verifyStdin("postgresql://readonly@db/app"), "postgresql://readonly@db/app\n");
    assert.throws(() => verifyStdin("postgresql://a\n@db/app"), /readonly database URL contains a line break/);
  });

  it("the watch takes a percentage with at most two decimals, positive limits and an image ID", () => {
    const ok = {
      nginxContainer: "nginx",
      windowSeconds: 300,
      max5xxPercent: 1,
      p95LatencyMs: 800,
      minRequests: 20,
      currentImage: IMAGE_ID,
      stack: "production",
      rollback: true,
    };
    for (const max5xxPercent of [-0.01, 100.01, 0.125, Number.NaN, Number.POSITIVE_INFINITY])
      assert.throws(() => renderWatchCommand({ ...ok, max5xxPercent }), /5xx limit must be a percentage/, String(max5xxPercent));
    for (const [max5xxPercent, basisPoints] of [
      [0, 0],
      [0.5, 50],
      [1.25, 125],
      [100, 10000],
    ])
      assert.ok(renderWatchCommand({ ...ok, max5xxPercent }).includes(`\nMAX_5XX_BASIS_POINTS='${basisPoints}'\n`), String(max5xxPercent));
    for (const [key, what] of [
      ["windowSeconds", "window"],
      ["p95LatencyMs", "latency limit"],
      ["minRequests", "minimum of requests"],
    ] as const)
      for (const value of [0, -1, 2.5])
        assert.throws(
          () => renderWatchCommand({ ...ok, [key]: value }),
          new RegExp(`watch's ${what} must be a positive whole number`),
          `${key} ${value}`,
        );
    for (const currentImage of ["sha256:abc", "ghcr.io/acme/api:1", `sha256:${"AB".repeat(32)}`])
      assert.throws(() => renderWatchCommand({ ...ok, currentImage }), /expected an image ID/, currentImage);
    const text = renderWatchCommand(ok);
    for (const line of [
      "NGINX_CONTAINER='nginx'",
      "WINDOW_S='300'",
      "MAX_P95_MS='800'",
      "MIN_REQUESTS='20'",
      `CURRENT_IMAGE='${IMAGE_ID}'`,
      "HISTORY='/srv/dropstack/deployed-images'",
      "STACK='production'",
      "ROLLBACK_MARKER='dropstack-rollback-image:'",
      "AUTO_ROLLBACK='true'",
    ])
      assert.ok(text.includes(`\n${line}\n`), line);
    assert.ok(renderWatchCommand({ ...ok, rollback: false, historyFile: "/tmp/h" }).includes("\nAUTO_ROLLBACK='false'\n"));
    assert.ok(renderWatchCommand({ ...ok, historyFile: "/tmp/h" }).includes("\nHISTORY='/tmp/h'\n"));
  });

  it("the image prune keeps at least one deployed image and needs an image ID", () => {
    for (const keep of [0, -1, 1.5])
      assert.throws(() => renderPruneImagesCommand({ repository: "ghcr.io/acme/api", imageId: IMAGE_ID, keep }), /keep must be at least 1/);
    for (const imageId of ["sha256:abc", "latest", ""])
      assert.throws(() => renderPruneImagesCommand({ repository: "ghcr.io/acme/api", imageId }), /expected an image ID/, imageId);
  });

  it("smoke checks need a known method, a hostname and an HTTP status or class", () => {
    const check = { method: "GET" as const, host: "api.example.com", path: "/health", status: 200 as const };
    for (const status of [99, 600, 200.5, "6xx", "2XX", "20x"] as never[])
      assert.throws(
        () => renderSmokeCommand({ checks: [{ ...check, status }], insecure: false }),
        /expected an HTTP status like 200 or 2xx/,
        String(status),
      );
    for (const status of [100, 599, "1xx", "5xx"] as never[]) renderSmokeCommand({ checks: [{ ...check, status }], insecure: false });
    for (const host of ["API.example.com", "api example.com", "", "api_1.example.com"])
      assert.throws(() => renderSmokeCommand({ checks: [{ ...check, host }], insecure: false }), /smoke check 1: not a hostname/, host);
    assert.throws(
      () => renderSmokeCommand({ checks: [{ ...check, method: "TRACE" as never }], insecure: false }),
      /smoke check 1: unknown method "TRACE"/,
    );
    const text = renderSmokeCommand({ checks: [check], insecure: false, port: 8443, retries: 2, retryDelaySeconds: 1, maxTimeSeconds: 5 });
    for (const line of ["PORT='8443'", "RETRIES='2'", "RETRY_DELAY_S='1'", "MAX_TIME_S='5'"]) assert.ok(text.includes(`\n${line}\n`), line);
    const defaults = renderSmokeCommand({ checks: [check], insecure: false });
    for (const line of ["PORT='443'", "RETRIES='10'", "RETRY_DELAY_S='3'", "MAX_TIME_S='10'"])
      assert.ok(defaults.includes(`\n${line}\n`), line);
  });
});

/** A backup.sh name whose stamp is `seconds` before `now` (epoch seconds). */
function backupName(now: number, seconds: number, label = "img"): string {
  const stamp = new Date((now - seconds) * 1000)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.(\d{3})Z$/, ".$1000000Z");
  return `app-${stamp}-${label}.dump`;
}

/**
 * Runs the rendered off-site prune in bash against a bucket listing, with rclone replaced by a
 * function that prints the listing (or fails) and records what it is asked to delete.
 */
function runOffsitePrune(listing: string[] | "fails", rule: { keep: number; days: number }, deleteFails = false) {
  const dir = mkdtempSync(join(tmpdir(), "dropstack-offsite-prune-"));
  const deleted = join(dir, "deleted");
  const stub = [
    "offsite_rclone() {",
    '  if [[ $1 == lsf ]]; then [[ $LISTING != fails ]] || return 1; printf "%s" "$LISTING"; return 0; fi',
    '  if [[ $1 == --stdin && $2 == delete && $3 == --files-from-raw && $4 == - && $5 == offsite:b/p/ ]]; then cat >>"$DELETED"; return "$DELETE_STATUS"; fi',
    '  echo "unexpected rclone call: $*" >&2; return 99',
    "}",
  ].join("\n");
  const result = spawnSync("bash", ["-c", `set -euo pipefail\n${stub}\n${renderOffsitePrune("offsite:b/p/", rule).join("\n")}`], {
    encoding: "utf8",
    env: {
      ...process.env,
      LISTING: listing === "fails" ? "fails" : listing.map((name) => `${name}\n`).join(""),
      DELETED: deleted,
      DELETE_STATUS: deleteFails ? "1" : "0",
    },
  });
  const removed = existsSync(deleted) ? readFileSync(deleted, "utf8").split("\n").filter(Boolean) : [];
  rmSync(dir, { recursive: true, force: true });
  return { ...result, removed };
}

describe("off-site retention", () => {
  const now = Math.floor(Date.now() / 1000);
  const day = 86_400;

  it("deletes only copies older than both the newest `keep` complete ones and `days`, for every keep and days", () => {
    for (const keep of [1, 2, 5])
      for (const days of [1, 3, 7]) {
        // Eight daily complete copies, an hour past each day so no stamp sits on the cut-off.
        const copies = Array.from({ length: 8 }, (_, i) => backupName(now, i * day + 3600));
        const listing = [...copies.flatMap((dump) => [dump, `${dump}.json`]), "notes.txt", "app-latest.dump"];
        const result = runOffsitePrune(listing, { keep, days });
        assert.equal(result.status, 0, result.stderr);
        const expected = copies.filter((_, i) => i >= Math.max(keep, days)).flatMap((dump) => [dump, `${dump}.json`]);
        assert.deepEqual([...result.removed].sort(), [...expected].sort(), `keep ${keep}, days ${days}`);
        assert.match(
          result.stderr,
          new RegExp(
            `kept the newest ${keep} complete copies and every copy under ${days} days old; deleted ${expected.length} object\\(s\\)`,
          ),
        );
      }
  });

  it("never deletes the newest complete copies, however old, nor an upload in flight or foreign objects", () => {
    const old = Array.from({ length: 3 }, (_, i) => backupName(now, (100 + i) * day));
    const inFlight = backupName(now, 60);
    const orphan = backupName(now, 200 * day);
    const listing = [...old.flatMap((dump) => [dump, `${dump}.json`]), inFlight, orphan, "readme.txt"];
    const keepAll = runOffsitePrune(listing, { keep: 3, days: 1 });
    assert.equal(keepAll.status, 0, keepAll.stderr);
    assert.deepEqual(keepAll.removed, [], "three complete copies, keep 3: nothing goes, not even the orphan");
    assert.match(keepAll.stderr, /off-site holds 3 complete copies \(keeping at least 3\); nothing to prune/);
    const keepTwo = runOffsitePrune(listing, { keep: 2, days: 1 });
    assert.deepEqual([...keepTwo.removed].sort(), [old[2], `${old[2]}.json`, orphan].sort());
  });

  it("never deletes an object that is not a backup.sh name, however old the stamp inside it", () => {
    const copies = Array.from({ length: 3 }, (_, i) => backupName(now, (100 + i) * day));
    const stamp = /-(\d{8}T\d{6}\.\d{9}Z)-/.exec(copies[2])?.[1] as string;
    // A stamp 200 days old inside names backup.sh never writes: other extensions, suffixes
    // after .dump, no database part, characters file_safe replaces, parts too long.
    const foreign = [
      `report-${stamp}.pdf`,
      `app-${stamp}.dump.bak`,
      `app-${stamp}.dump.json.tmp`,
      `app-${stamp}.dump.partial`,
      `${stamp}.dump`,
      `-${stamp}.dump`,
      `app-${stamp}-la bel.dump`,
      `app db-${stamp}.dump`,
      `${"d".repeat(65)}-${stamp}.dump`,
      `app-${stamp}-${"l".repeat(65)}.dump`,
      `old-app-${stamp}.dump.json.json`,
      `app-${stamp}.dumps`,
      `app-${stamp}Z.dump`,
    ];
    const listing = [...copies.flatMap((dump) => [dump, `${dump}.json`]), ...foreign.flatMap((name) => [name, `${name}.json`])];
    const result = runOffsitePrune(listing, { keep: 1, days: 1 });
    assert.equal(result.status, 0, result.stderr);
    const expected = copies.slice(1).flatMap((dump) => [dump, `${dump}.json`]);
    assert.deepEqual([...result.removed].sort(), [...expected].sort());
    // A label and a database name with every character file_safe keeps are backup.sh names.
    const labelled = [`my_app.v2-${stamp}-pre-migrate_1.dump`, `a-${stamp}.dump`];
    const own = runOffsitePrune([...copies.slice(0, 1), `${copies[0]}.json`, ...labelled.flatMap((n) => [n, `${n}.json`])], {
      keep: 1,
      days: 1,
    });
    assert.deepEqual([...own.removed].sort(), labelled.flatMap((n) => [n, `${n}.json`]).sort());
  });

  it("reports a failed listing or deletion and leaves the new copy's success alone", () => {
    const listing = Array.from({ length: 3 }, (_, i) => backupName(now, (10 + i) * day)).flatMap((dump) => [dump, `${dump}.json`]);
    const unlisted = runOffsitePrune("fails", { keep: 1, days: 1 });
    assert.equal(unlisted.status, 0);
    assert.deepEqual(unlisted.removed, []);
    assert.match(unlisted.stderr, /warning: could not list offsite:b\/p\/ to prune it; nothing was deleted/);
    const undeleted = runOffsitePrune(listing, { keep: 1, days: 1 }, true);
    assert.equal(undeleted.status, 0);
    assert.match(undeleted.stderr, /warning: could not delete every one of the 4 old object\(s\) off-site/);
    assert.doesNotMatch(undeleted.stderr, /kept the newest/);
  });
});

/** An image ID made of one repeated hex digit pair. */
const imageId = (n: number) => `sha256:${n.toString(16).padStart(2, "0").repeat(32)}`;

/**
 * Runs the rendered image prune in bash with docker replaced by a function: `ps` lists
 * $CONTAINERS, `inspect` answers $IN_USE, `image ls` lists $IMAGES, `image rm` records the ID
 * (and fails for $RM_FAILS).
 */
function runPruneImages(input: {
  history: string[];
  current: number;
  containers: number;
  inUse: number[];
  images: number[];
  rmFails?: number;
  keep?: number;
}) {
  const dir = mkdtempSync(join(tmpdir(), "dropstack-prune-images-"));
  const history = join(dir, "deployed-images");
  writeFileSync(history, input.history.map((line) => `${line}\n`).join(""));
  const stub = [
    "docker() {",
    '  case "$1 $2" in',
    '    "ps --all") printf "%s" "$CONTAINERS" ;;',
    '    "inspect --format") printf "%s" "$IN_USE" ;;',
    '    "image ls") [[ $5 == ghcr.io/acme/api ]] && printf "%s" "$IMAGES" ;;',
    '    "image rm") printf "%s\\n" "$4" >>"$REMOVED"; [[ $4 != "$RM_FAILS" ]] ;;',
    '    *) echo "unexpected docker call: $*" >&2; return 99 ;;',
    "  esac",
    "}",
  ].join("\n");
  const script = renderPruneImagesCommand({
    repository: "ghcr.io/acme/api",
    imageId: imageId(input.current),
    historyFile: history,
    ...(input.keep ? { keep: input.keep } : {}),
  });
  const lines = (ids: number[]) => ids.map((id) => `${imageId(id)}\n`).join("");
  const result = spawnSync("bash", ["-c", `${stub}\n${script}`], {
    encoding: "utf8",
    env: {
      ...process.env,
      CONTAINERS: Array.from({ length: input.containers }, (_, i) => `container${i}\n`).join(""),
      IN_USE: lines(input.inUse),
      IMAGES: lines(input.images),
      REMOVED: join(dir, "removed"),
      RM_FAILS: input.rmFails === undefined ? "" : imageId(input.rmFails),
    },
  });
  const removed = existsSync(join(dir, "removed")) ? readFileSync(join(dir, "removed"), "utf8").split("\n").filter(Boolean) : [];
  const recorded = readFileSync(history, "utf8").split("\n").filter(Boolean);
  rmSync(dir, { recursive: true, force: true });
  return { ...result, removed, recorded };
}

describe("pruning old app images after a passing deploy", () => {
  it("keeps the last deployed images and those a container uses, and removes the repository's others", () => {
    for (const keep of [1, 2, 3]) {
      const result = runPruneImages({
        history: [imageId(1), imageId(2), imageId(3)],
        current: 4,
        containers: 2,
        inUse: [1, 4],
        images: [1, 2, 3, 4, 5],
        keep,
      });
      assert.equal(result.status, 0, result.stderr);
      const kept = new Set([1, 4, ...[4, 3, 2].slice(0, keep)]);
      const expected = [1, 2, 3, 4, 5].filter((id) => !kept.has(id)).map(imageId);
      assert.deepEqual([...result.removed].sort(), expected, `keep ${keep}`);
      assert.deepEqual(result.recorded, [1, 2, 3, 4].map(imageId), "the deployed image is recorded once, last");
      assert.match(
        result.stdout,
        new RegExp(
          `kept ${5 - expected.length} app image\\(s\\) \\(the last ${keep} deployed and those in use\\), removed ${expected.length}\\n$`,
        ),
      );
    }
  });

  it("records a redeploy of the same image once, trims the history to 20 entries, and works with no container at all", () => {
    const history = Array.from({ length: 30 }, (_, i) => imageId(i + 1));
    const result = runPruneImages({ history, current: 30, containers: 0, inUse: [], images: [29, 30, 31] });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.recorded, history.slice(10), "the newest 20, the current one not repeated");
    assert.deepEqual(result.removed, [imageId(31)], "the default keeps the running and the previous image");
  });

  it("reports an image it cannot remove and still succeeds: the rollout already did", () => {
    const result = runPruneImages({
      history: [imageId(1)],
      current: 2,
      containers: 1,
      inUse: [2],
      images: [1, 2, 3, 4],
      keep: 1,
      rmFails: 3,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.removed, [imageId(1), imageId(3)].concat(imageId(4)).sort());
    assert.match(result.stderr, new RegExp(`could not remove ${imageId(3)}; left in place`));
    assert.match(result.stdout, /removed 2\n$/);
  });
});

/** A temp folder holding the hook folders, each created. */
function hookFolders(prefix: string): { dir: string; paths: HookPaths } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const paths: HookPaths = {
    hooksDir: join(dir, "hooks"),
    backupDir: join(dir, "backups"),
    runDir: join(dir, "run"),
    statusDir: join(dir, "status"),
  };
  for (const path of Object.values(paths)) mkdirSync(path);
  return { dir, paths };
}

/**
 * Runs the rendered backup hook in bash with docker replaced by a function that records each
 * call and the env files it is given; the backup.sh container prints $OUTPUT and creates the
 * files named in $CREATE.
 */
function runBackupHook(stdin: string, options: { offsite: boolean; output?: string; create?: string[] }) {
  const { dir, paths } = hookFolders("dropstack-backup-hook-");
  const dump = join(paths.backupDir, "app-20261129T010203.123456789Z-img.dump");
  const stub = [
    "docker() {",
    '  printf "%s\\n" "$*" >>"$T/calls"',
    '  local -a args=("$@")',
    "  local i",
    '  for ((i = 0; i < ${#args[@]}; i++)); do if [[ ${args[i]} == --env-file ]]; then cat -- "${args[i + 1]}" >>"$T/envs"; fi; done',
    '  if [[ $* == *backup.sh* ]]; then printf "%b" "$OUTPUT"; for f in $CREATE; do : >"$f"; done; fi',
    "}",
  ].join("\n");
  const script = renderBackupCommand({
    network: "n",
    clientImage: "c",
    label: "img",
    keep: 2,
    paths,
    ...(options.offsite ? { offsite: OFFSITE } : {}),
  });
  const result = spawnSync("bash", ["-c", `${stub}\n${script}`], {
    input: stdin,
    encoding: "utf8",
    env: {
      ...process.env,
      T: dir,
      OUTPUT: options.output ?? `pg_dump said something\\n${dump}\\n`,
      CREATE: (options.create ?? [dump, `${dump}.json`]).join(" "),
    },
  });
  const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), "utf8") : "");
  const status = join(paths.statusDir, "offsite.json");
  const offsite = existsSync(status) ? { text: readFileSync(status, "utf8"), mode: statSync(status).mode & 0o777 } : undefined;
  const calls = read("calls").split("\n").filter(Boolean);
  const envs = read("envs");
  rmSync(dir, { recursive: true, force: true });
  return { ...result, calls, envs, offsite, dump };
}

describe("the backup hook's run", () => {
  const url = "postgresql://migrator:pw@db:25060/app";

  it("passes the database URL to backup.sh through an env file and prints the backup's path last", () => {
    const result = runBackupHook(`${url}\n`, { offsite: false });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `pg_dump said something\n${result.dump}\n`);
    assert.equal(result.envs, `DATABASE_URL=${url}\n`);
    assert.equal(result.calls.length, 1);
    assert.match(result.stderr, /^dropstack: backing up before deploying img$/m);
    assert.equal(result.offsite, undefined);
  });

  it("copies the dump off-site, then its .json, which marks a complete copy; records the copy; the key only through an env file", () => {
    const result = runBackupHook(`${url}\nAKID\nSECRET\n`, { offsite: true });
    assert.equal(result.status, 0, result.stderr);
    const copies = result.calls.filter((call) => call.includes(" copyto "));
    assert.deepEqual(
      copies.map((call) => call.replace(/^.* copyto /, "")),
      [
        `--s3-no-check-bucket ${result.dump} offsite:acme-backups-x1/postgres/${basename(result.dump)}`,
        `--s3-no-check-bucket ${result.dump}.json offsite:acme-backups-x1/postgres/${basename(result.dump)}.json`,
      ],
    );
    assert.ok(result.envs.includes("RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID=AKID\nRCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY=SECRET\n"));
    assert.ok(
      !result.calls.some((call) => call.includes("SECRET") || call.includes("AKID") || call.includes(url)),
      "no secret in an argument",
    );
    assert.equal(result.offsite?.mode, 0o644);
    assert.match(
      result.offsite?.text ?? "",
      new RegExp(`^\\{"file": "${basename(result.dump)}", "finished_at": "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"\\}\\n$`),
    );
    assert.match(result.stderr, /copied app-\S+\.dump and its \.json to offsite:acme-backups-x1\/postgres\//);
    assert.equal(result.stdout.split("\n").at(-2), result.dump);
  });

  it("stops before any container when a secret did not arrive on stdin", () => {
    for (const [stdin, offsite, what] of [
      ["", false, "the database URL"],
      ["\n", false, "the database URL"],
      [`${url}\n`, true, "the Spaces access key"],
      [`${url}\nAKID\n`, true, "the Spaces secret key"],
    ] as const) {
      const result = runBackupHook(stdin, { offsite });
      assert.equal(result.status, 1, `${what}: ${result.stderr}`);
      assert.equal(result.stderr, `dropstack: ${what} did not arrive on stdin\n`);
      assert.deepEqual(result.calls, []);
    }
  });

  it("fails, copying nothing off-site, when backup.sh printed no backup or its files are missing", () => {
    const none = runBackupHook(`${url}\nAKID\nSECRET\n`, { offsite: true, output: "oops\\n" });
    assert.equal(none.status, 1);
    assert.match(none.stderr, /dropstack: backup\.sh did not print a backup path \(got: oops\)/);
    const missing = runBackupHook(`${url}\nAKID\nSECRET\n`, { offsite: true, create: [] });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /dropstack: \S+\.dump or its \.json is missing/);
    const noJson = runBackupHook(`${url}\nAKID\nSECRET\n`, { offsite: true, create: [missing.dump] });
    assert.equal(noJson.status, 1);
    for (const result of [none, missing, noJson]) assert.equal(result.calls.length, 1, "only the backup container ran");
  });
});

/**
 * Runs the rendered drill command in bash with docker replaced by a function: an rclone `lsf`
 * prints $LISTING, `copyto` creates the file it is asked for, and drill.sh's container records
 * the dump it was given, prints $RESULT and exits with $DRILL_STATUS.
 */
function runDrill(options: {
  offsite: boolean;
  stdin?: string;
  backups?: string[];
  listing?: string[];
  result?: string;
  drillStatus?: number;
}) {
  const { dir, paths } = hookFolders("dropstack-drill-");
  for (const file of options.backups ?? []) writeFileSync(join(paths.backupDir, file), "");
  const drillDir = join(dir, "drill");
  const stub = [
    "docker() {",
    "  local last=${*: -1}",
    '  if [[ $* == *" lsf --files-only "* ]]; then printf "%b" "$LISTING"; return 0; fi',
    '  if [[ $* == *" copyto "* ]]; then printf "%s\\n" "${*: -2:1}" >>"$T/downloads"; : >"$last"; return 0; fi',
    '  if [[ $* == *drill.sh* ]]; then printf "%s\\n" "$last" >"$T/drilled"; printf "%s\\n" "$@" | sed -n "s|^DRILL_WORK_DIR=\\(.*\\)/server$|\\1|p" >"$T/rundir"; printf "%b" "$RESULT"; return "$DRILL_STATUS"; fi',
    '  echo "unexpected docker call: $*" >&2; return 99',
    "}",
  ].join("\n");
  const script = renderDrillCommand({
    clientImage: "c",
    roles: ["app"],
    paths,
    drillDir,
    ...(options.offsite ? { offsite: OFFSITE } : {}),
  });
  const result = spawnSync("bash", ["-c", `${stub}\n${script}`], {
    input: options.stdin ?? (options.offsite ? "url\nAKID\nSECRET\n" : "url\n"),
    encoding: "utf8",
    env: {
      ...process.env,
      T: dir,
      LISTING: (options.listing ?? []).map((name) => `${name}\\n`).join(""),
      RESULT: options.result ?? `restoring\\n{"ok": true, "tables": 3}\\n`,
      DRILL_STATUS: String(options.drillStatus ?? 0),
    },
  });
  const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : undefined);
  const status = join(paths.statusDir, "drill.json");
  const out = {
    ...result,
    drilled: read(join(dir, "drilled"))?.trim(),
    downloads: read(join(dir, "downloads"))?.split("\n").filter(Boolean) ?? [],
    runDir: read(join(dir, "rundir"))?.trim(),
    runDirLeft: existsSync(read(join(dir, "rundir"))?.trim() || join(dir, "none")),
    written: read(status),
    mode: existsSync(status) ? statSync(status).mode & 0o777 : undefined,
    backupDir: paths.backupDir,
    drillDirMode: existsSync(drillDir) ? statSync(drillDir).mode & 0o777 : undefined,
  };
  rmSync(dir, { recursive: true, force: true });
  return out;
}

describe("the restore drill's host command", () => {
  const stamp = (day: number) => `202611${String(day).padStart(2, "0")}T050000.000000000Z`;
  const failure = (error: string) =>
    new RegExp(
      `^\\{"ok": false, "file": null, "bytes": null, "backup_created_at": null, "started_at": "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ", "seconds": 0, "tables": null, "rows": null, "error": "${error}"\\}\\n$`,
    );

  it("restores the newest local backup that has its .json, and publishes drill.sh's result whole", () => {
    const backups = [
      `app-${stamp(1)}-a.dump`,
      `app-${stamp(1)}-a.dump.json`,
      `app-${stamp(3)}-b.dump`,
      `app-${stamp(3)}-b.dump.json`,
      `app-${stamp(2)}-c.dump`,
      `app-${stamp(2)}-c.dump.json`,
      `app-${stamp(4)}-d.dump`,
      `app-${stamp(5)}-e.dump.json`,
    ];
    const result = runDrill({ offsite: false, backups });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.drilled, join(result.backupDir, `app-${stamp(3)}-b.dump`), "the newest dump whose .json is there too");
    assert.equal(result.written, '{"ok": true, "tables": 3}\n');
    assert.equal(result.mode, 0o644);
    assert.equal(result.drillDirMode, 0o750);
    assert.match(result.stderr, new RegExp(`drill of the newest local backup, app-${stamp(3)}-b\\.dump`));
    assert.match(result.runDir ?? "", /\/drill\/run\.[A-Za-z0-9]{6}$/);
    assert.equal(result.runDirLeft, false, "the run's scratch folder is removed");
  });

  it("restores the newest complete off-site copy, downloading the dump and its .json", () => {
    const listing = [
      `app-${stamp(2)}-a.dump`,
      `app-${stamp(2)}-a.dump.json`,
      `app-${stamp(4)}-b.dump`,
      `app-${stamp(4)}-b.dump.json`,
      `app-${stamp(6)}-c.dump`,
      "notes.txt",
    ];
    const result = runDrill({ offsite: true, listing });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.downloads, [
      `offsite:acme-backups-x1/postgres/app-${stamp(4)}-b.dump`,
      `offsite:acme-backups-x1/postgres/app-${stamp(4)}-b.dump.json`,
    ]);
    assert.match(result.drilled ?? "", new RegExp(`/run\\.[^/]+/app-${stamp(4)}-b\\.dump$`));
    assert.equal(result.written, '{"ok": true, "tables": 3}\n');
  });

  it("records a failure the monitoring can read, and fails, when there is nothing to restore or drill.sh gives no result", () => {
    const none = runDrill({ offsite: false, backups: [`app-${stamp(4)}-d.dump`] });
    assert.equal(none.status, 1);
    assert.match(none.written ?? "", failure("no local backup to restore"));
    assert.equal(none.drilled, undefined);
    const noCopy = runDrill({ offsite: true, listing: [`app-${stamp(6)}-c.dump`] });
    assert.equal(noCopy.status, 1);
    assert.match(noCopy.written ?? "", failure("no complete off-site copy to restore"));
    const crashed = runDrill({
      offsite: false,
      backups: [`app-${stamp(1)}-a.dump`, `app-${stamp(1)}-a.dump.json`],
      result: "",
      drillStatus: 3,
    });
    assert.equal(crashed.status, 1);
    assert.match(crashed.written ?? "", failure("drill.sh gave no result \\(exit 3\\)"));
    assert.match(crashed.stderr, /dropstack: drill failed: drill\.sh gave no result \(exit 3\)/);
    const failed = runDrill({
      offsite: false,
      backups: [`app-${stamp(1)}-a.dump`, `app-${stamp(1)}-a.dump.json`],
      result: '{"ok": false, "error": "x"}\\n',
      drillStatus: 1,
    });
    assert.equal(failed.status, 1, "drill.sh's own failure is the command's");
    assert.equal(failed.written, '{"ok": false, "error": "x"}\n');
  });

  it("says so when the Spaces key did not arrive, and still tries the listing", () => {
    const result = runDrill({ offsite: true, stdin: "url\n", listing: [] });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /dropstack: the Spaces key did not arrive on stdin/);
    assert.match(result.written ?? "", failure("no complete off-site copy to restore"));
  });
});

describe("the migrate hook's settings", () => {
  const input = {
    network: "dropstack",
    clientImage: "postgres:16.6-bookworm",
    image: `ghcr.io/acme/api@${IMAGE_ID}`,
    migrate: "alembic upgrade head",
  };

  it("pins the backup age limit and the lock timeout, 3600 s and 900 s unless given", () => {
    const defaults = renderMigrateCommand(input);
    for (const line of [
      "NETWORK='dropstack'",
      "CLIENT_IMAGE='postgres:16.6-bookworm'",
      "BACKUP_MAX_AGE_S='3600'",
      "MIGRATE_LOCK_TIMEOUT_S='900'",
      "BACKUP_DIR='/srv/backups'",
      "RUN_DIR='/srv/dropstack/run'",
    ])
      assert.ok(defaults.includes(`\n${line}\n`), line);
    const given = renderMigrateCommand({ ...input, maxBackupAgeSeconds: 60, lockTimeoutSeconds: 0, paths: TEST_PATHS });
    for (const line of [
      "BACKUP_MAX_AGE_S='60'",
      "MIGRATE_LOCK_TIMEOUT_S='0'",
      "HOOKS_DIR='/tmp/t/hooks'",
      "BACKUP_DIR='/tmp/t/backups'",
      "RUN_DIR='/tmp/t/run'",
    ])
      assert.ok(given.includes(`\n${line}\n`), line);
  });

  it("refuses an age limit under a second and a lock timeout that is not a whole number of seconds", () => {
    for (const maxBackupAgeSeconds of [0, -1, 1.5])
      assert.throws(() => renderMigrateCommand({ ...input, maxBackupAgeSeconds }), /backup age limit must be a positive number of seconds/);
    for (const lockTimeoutSeconds of [-1, 0.5, Number.NaN])
      assert.throws(
        () => renderMigrateCommand({ ...input, lockTimeoutSeconds }),
        /migration lock timeout must be a whole number of seconds/,
      );
  });

  it("the backup refuses a retention that is not a positive whole number", () => {
    for (const keep of [0, -2, 1.5])
      assert.throws(
        () => renderBackupCommand({ network: "n", clientImage: "c", label: "l", keep }),
        /dropstack:backups\.keep must be a positive integer/,
      );
  });
});
