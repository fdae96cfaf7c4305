// Backups between deploys as pure rendering: the config keys, the freshness limits, the timers
// and services per configuration, the drill's host command and the file installs. The units
// themselves are read by systemd-analyze in test/system/backup-schedule.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_BACKUP_INTERVAL_HOURS, DRILL_SCHEDULES, parseStackConfig } from "../../components/config/schema";
import { DROPLET_PATHS } from "../../components/hooks/commands";
import {
  BACKUP_PROBE,
  SCHEDULE_FILES,
  UNITS,
  type ScheduleSettings,
  enabledTimers,
  freshnessLimits,
  renderBackupService,
  renderCheckService,
  renderDrillCommand,
  renderEnableTimersCommand,
  renderInstallFileCommand,
  renderScheduledBackupScript,
  renderUnits,
} from "../../components/hooks/schedule";
import { stdinInstallPath } from "../../components/proxy/commands";
import { minimalConfig } from "../support/config";

const minimal = (backups?: Record<string, unknown>) => ({ ...minimalConfig(), ...(backups ? { backups } : {}) });

describe("dropstack:backups.intervalHours and .drill", () => {
  it("default to a daily backup in staging, every 4 hours in production, and a weekly drill", () => {
    const staging = parseStackConfig(minimal({ offsite: false }), "staging");
    assert.ok(staging.ok);
    assert.equal(staging.config.backups.intervalHours, DEFAULT_BACKUP_INTERVAL_HOURS.staging);
    assert.equal(staging.config.backups.drill, "weekly");
    const production = parseStackConfig(
      { ...minimal({ offsite: true }), adminCidrs: ["198.51.100.0/24"], promotion: { stagingStack: "acme/dropstack/staging" } },
      "production",
    );
    assert.ok(production.ok, production.ok ? "" : production.problems.join("\n"));
    assert.equal(production.config.backups.intervalHours, 4);
    assert.equal(production.config.backups.drill, "weekly");
  });

  it("accept every whole number of hours from 1 to 168 and every drill schedule", () => {
    for (const intervalHours of [1, 2, 5, 24, 167, 168])
      for (const drill of DRILL_SCHEDULES) {
        const result = parseStackConfig(minimal({ offsite: false, intervalHours, drill }), "staging");
        assert.ok(result.ok, `${intervalHours} ${drill}`);
        assert.equal(result.config.backups.intervalHours, intervalHours);
      }
  });

  it("refuse anything else, naming the key (exit 2 in the check)", () => {
    for (const intervalHours of [0, 169, 2.5, -4, "four", "4"]) {
      const result = parseStackConfig(minimal({ offsite: false, intervalHours }), "staging");
      assert.ok(!result.ok);
      assert.deepEqual(
        result.problems.filter((p) => p.startsWith("dropstack:backups.intervalHours: must be a whole number from 1 to 168")).length,
        1,
        `${JSON.stringify(intervalHours)}: ${result.problems.join("; ")}`,
      );
    }
    for (const drill of ["monthly", "", true, 7]) {
      const result = parseStackConfig(minimal({ offsite: false, drill }), "staging");
      assert.ok(!result.ok);
      assert.ok(
        result.problems.some((p) => p.startsWith("dropstack:backups.drill: expected one of off, daily, weekly, got")),
        result.problems.join("; "),
      );
    }
  });
});

const variants: ScheduleSettings[] = [1, 3, 4, 24, 168].flatMap((intervalHours) =>
  DRILL_SCHEDULES.flatMap((drill) => [true, false].map((offsite) => ({ intervalHours, drill, offsite }))),
);

describe("schedule rendering", () => {
  it("alarms at twice the interval and twice the drill period (no drill limit when drills are off)", () => {
    for (const settings of variants) {
      const limits = freshnessLimits(settings);
      assert.equal(limits.backupMaxAgeSeconds, settings.intervalHours * 7200);
      assert.equal(limits.drillMaxAgeSeconds, { off: 0, daily: 2 * 86_400, weekly: 14 * 86_400 }[settings.drill]);
      const check = renderCheckService(settings);
      assert.match(
        check,
        new RegExp(
          `BACKUP_MAX_AGE_S=${limits.backupMaxAgeSeconds} DRILL_MAX_AGE_S=${limits.drillMaxAgeSeconds} OFFSITE=${settings.offsite}\n`,
        ),
      );
      assert.match(check, new RegExp(`PROBE_FILE=${BACKUP_PROBE.hostFile}\n`));
    }
    for (const intervalHours of [0, 169, 1.5]) assert.throws(() => freshnessLimits({ intervalHours, drill: "off" }), /intervalHours/);
  });

  it("runs the backup every intervalHours, the drill on its calendar, the check every 15 minutes; drill units only when drills are on", () => {
    for (const settings of variants) {
      const units = renderUnits(settings);
      assert.match(units[UNITS.backupTimer] ?? "", new RegExp(`^OnUnitActiveSec=${settings.intervalHours}h$`, "m"));
      assert.match(units[UNITS.checkTimer] ?? "", /^OnUnitActiveSec=15min$/m);
      if (settings.drill === "off") {
        assert.equal(units[UNITS.drillTimer], undefined);
        assert.deepEqual(enabledTimers(settings), [UNITS.backupTimer, UNITS.checkTimer]);
        assert.match(renderEnableTimersCommand(settings), /systemctl disable --now dropstack-drill\.timer/);
      } else {
        assert.match(
          units[UNITS.drillTimer] ?? "",
          settings.drill === "weekly" ? /^OnCalendar=Sun \*-\*-\* 05:00:00$/m : /^OnCalendar=\*-\*-\* 05:00:00$/m,
        );
        assert.match(
          renderEnableTimersCommand(settings),
          /systemctl enable --now dropstack-backup\.timer dropstack-drill\.timer dropstack-backup-check\.timer/,
        );
      }
    }
  });

  it("the jobs run as the deploy user with their secrets on stdin from a file, never in the unit", () => {
    const service = renderBackupService({ intervalHours: 4, drill: "weekly", offsite: true });
    assert.match(service, /^User=deploy$/m);
    assert.match(service, new RegExp(`^StandardInput=file:${SCHEDULE_FILES.stdin}$`, "m"));
    assert.match(service, new RegExp(`^ExecStart=/bin/bash ${SCHEDULE_FILES.backupScript}$`, "m"));
    assert.doesNotMatch(service, /Environment=/);
  });

  it("the scheduled backup is the deploy's backup command, labelled scheduled", () => {
    const script = renderScheduledBackupScript({ network: "dropstack", clientImage: "postgres:16.6-bookworm", keep: 14 });
    assert.match(script, /-e 'BACKUP_LABEL=scheduled'/);
    assert.match(script, /backup\.sh'\)$/m);
  });

  it("the drill refuses role names it could not put in SQL unquoted", () => {
    for (const role of ["App", "app; DROP", "1app", ""])
      assert.throws(() => renderDrillCommand({ clientImage: "c", roles: [role] }), /not a plain PostgreSQL role name/);
    assert.match(
      renderDrillCommand({ clientImage: "c", roles: ["migrator", "app", "readonly"] }),
      /-e 'DRILL_ROLES=migrator app readonly'/,
    );
  });

  it("installs each file from stdin under its marker; units with sudo, the secrets 0600", () => {
    const unit = renderInstallFileCommand(`/etc/systemd/system/${UNITS.backupService}`, "0644");
    assert.equal(stdinInstallPath(unit), `/etc/systemd/system/${UNITS.backupService}`);
    assert.match(unit, /^sudo tee "\$tmp" >\/dev\/null$/m);
    const secrets = renderInstallFileCommand(SCHEDULE_FILES.stdin, "0600");
    assert.match(secrets, /^chmod 0600 "\$tmp"\ntee "\$tmp"/m);
    assert.doesNotMatch(secrets, /sudo/);
    assert.ok(SCHEDULE_FILES.stdin.startsWith(`${DROPLET_PATHS.hooksDir.replace(/\/hooks$/, "")}/`));
  });
});
