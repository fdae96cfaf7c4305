// The hooks' security-relevant rendering asserted whole, so that changing any line fails a
// test: the droplet folders' owners and modes, the hardening of every container a hook or a
// scheduled job starts, the systemd units (who runs the jobs, the freshness check's sandbox,
// the timers), the file installs and the validation of the hook settings.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WATCH_COMMAND_INPUT } from "../support/watch-command";
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
    const ok = { ...WATCH_COMMAND_INPUT, ignoredHosts: ["monitoring.example.com"] };
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
    for (const host of ["grafana", "a b.example.com", "Grafana.example.com", "x.example.com;rm", ""])
      assert.throws(
        () => renderWatchCommand({ ...ok, ignoredHosts: ["monitoring.example.com", host] }),
        new RegExp(`ignored hosts must be hostnames like monitoring.example.com, got "${host.replace(/[.;]/g, "\\$&")}"`),
        host,
      );
    assert.ok(renderWatchCommand({ ...ok, ignoredHosts: [] }).includes("\nIGNORED_HOSTS=''\n"));
    // One word per host: watch.sh splits the list on spaces.
    assert.ok(
      renderWatchCommand({ ...ok, ignoredHosts: ["monitoring.example.com", "grafana.example.org"] }).includes(
        "\nIGNORED_HOSTS='monitoring.example.com grafana.example.org'\n",
      ),
    );
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
