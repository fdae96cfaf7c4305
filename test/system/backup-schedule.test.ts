// Backups between deploys on the droplet, run for real: the systemd units as
// `systemd-analyze verify` reads them, the restore drill (its host command, drill.sh and
// restore.sh against off-site copies on a real S3 server through Debian's rclone, with a
// throwaway PostgreSQL server), and the freshness check that the monitoring reads.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type HookPaths, backupStdin, renderBackupCommand } from "../../components/hooks/commands";
import { type ScheduleSettings, UNITS, renderDrillCommand, renderDrillService, renderUnits } from "../../components/hooks/schedule";
import { DRILL_SCHEDULES } from "../../components/config/schema";
import { ROLE_NAMES } from "../../components/database/privileges";
import { startPostgres, type PostgresServer } from "../../tools/lib/postgres";
import { asUnprivileged, makeTempDir, requireTools, run, runAsync, scopedTempDirs } from "../../tools/lib/system";
import { installFakeDocker, withRealRclone } from "./fake-docker";
import { startS3, type S3Server } from "../support/s3";

const HOOKS_SOURCE = join(__dirname, "..", "..", "components", "hooks");
const CHECK = join(HOOKS_SOURCE, "backup-check.sh");
const BUCKET = "acme-backups";
const KEYS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
const tempDir = scopedTempDirs(after);

describe("systemd units for scheduled backups, drills and the freshness check", () => {
  const { "systemd-analyze": analyze } = requireTools([{ command: "systemd-analyze", debianPackage: "systemd" }]);

  // Every drill schedule, with and without off-site copies, across intervals (divisors of 24 and not).
  const variants: ScheduleSettings[] = [1, 4, 5, 24, 168].flatMap((intervalHours, i) =>
    DRILL_SCHEDULES.map((drill, j) => ({ intervalHours, drill, offsite: (i + j) % 2 === 0 })),
  );

  test("every configuration's units pass `systemd-analyze verify` without a warning", () => {
    for (const settings of variants) {
      const dir = tempDir("units");
      const units = renderUnits(settings);
      for (const [file, content] of Object.entries(units)) writeFileSync(join(dir, file), content);
      const files = Object.keys(units).map((f) => join(dir, f));
      const result = run([analyze, "verify", ...files]);
      assert.equal(result.status, 0, `${JSON.stringify(settings)}: ${result.stderr}`);
      assert.equal(result.stderr.trim(), "", JSON.stringify(settings));
      assert.equal(UNITS.drillTimer in units, settings.drill !== "off");
    }
  });

  test("a broken unit or a timer without its service makes `systemd-analyze verify` complain, so the test above can fail", () => {
    const settings: ScheduleSettings = { intervalHours: 4, drill: "weekly", offsite: true };
    const broken = tempDir("units-broken");
    writeFileSync(join(broken, UNITS.drillService), renderDrillService().replace("Type=oneshot", "Type=oneshoot"));
    assert.notEqual(run([analyze, "verify", join(broken, UNITS.drillService)]).stderr.trim(), "");
    const badCalendar = tempDir("units-calendar");
    const units = renderUnits(settings);
    writeFileSync(join(badCalendar, UNITS.drillService), units[UNITS.drillService] ?? "");
    writeFileSync(
      join(badCalendar, UNITS.drillTimer),
      (units[UNITS.drillTimer] ?? "").replace(/^OnCalendar=.*$/m, "OnCalendar=Sun *-*-* 25:00:00"),
    );
    assert.notEqual(run([analyze, "verify", join(badCalendar, UNITS.drillTimer)]).stderr.trim(), "");
  });
});

describe("restore drill and freshness check", () => {
  let pg: PostgresServer;
  let s3: S3Server;
  let root: string;
  let drills = 0;
  let env: NodeJS.ProcessEnv;
  let paths: HookPaths;

  before(async () => {
    const { rclone } = requireTools([{ command: "rclone", debianPackage: "rclone" }]);
    pg = await startPostgres();
    root = makeTempDir("drill");
    // The drill runs as an unprivileged user, as the deploy user runs it on the droplet
    // (PostgreSQL's initdb refuses root), so everything it touches is open to it.
    chmodSync(root, 0o777);
    s3 = await startS3(join(root, "s3"), [BUCKET]);
    const docker = installFakeDocker(root);
    env = withRealRclone({ ...docker.env, PATH: `${docker.env.PATH?.split(":")[0]}:${pg.binDir}:${process.env.PATH}` }, rclone, s3.port);
    paths = { hooksDir: join(root, "hooks"), backupDir: join(root, "backups"), runDir: join(root, "run"), statusDir: join(root, "status") };
    for (const dir of Object.values(paths)) {
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
    }
    for (const file of ["lib.sh", "backup.sh", "restore.sh", "drill.sh"])
      writeFileSync(join(paths.hooksDir, file), readFileSync(join(HOOKS_SOURCE, file)));
  });
  after(async () => {
    await s3?.stop();
    await pg?.stop();
  });

  /** An app database with the stack's roles and grants, some rows, and a backup of it (copied off-site under `prefix`). */
  async function appWithBackup(db: string, prefix: string, rows: number): Promise<{ backupDir: string; backup: string }> {
    pg.createDatabase(db);
    const roles = Object.values(ROLE_NAMES)
      .map((r) => `DO $$ BEGIN CREATE ROLE ${r} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;`)
      .join("\n");
    pg.psql(
      `${roles}
       CREATE SCHEMA app AUTHORIZATION ${ROLE_NAMES.migrator};
       CREATE TABLE app.users (id int PRIMARY KEY, email text NOT NULL);
       CREATE TABLE app.orders (id int PRIMARY KEY, user_id int REFERENCES app.users);
       INSERT INTO app.users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, ${rows}) g;
       INSERT INTO app.orders SELECT g, g FROM generate_series(1, ${rows}) g;
       GRANT USAGE ON SCHEMA app TO ${ROLE_NAMES.app}, ${ROLE_NAMES.readonly};
       GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO ${ROLE_NAMES.app};
       GRANT SELECT ON ALL TABLES IN SCHEMA app TO ${ROLE_NAMES.readonly};`,
      db,
    );
    const backupDir = join(root, `backups-${db}`);
    mkdirSync(backupDir);
    chmodSync(backupDir, 0o777);
    const command = renderBackupCommand({
      network: "dropstack",
      clientImage: "postgres:16.6-bookworm",
      label: "scheduled",
      keep: 3,
      offsite: { bucket: BUCKET, endpoint: s3.endpoint, prefix },
      paths: { ...paths, backupDir },
    });
    const made = await runAsync(["bash", "-c", command], { input: backupStdin({ databaseUrl: pg.url(db), offsite: KEYS }), env });
    assert.equal(made.status, 0, made.stderr);
    return { backupDir, backup: made.stdout.trim().split("\n").at(-1) ?? "" };
  }

  interface DrillResult {
    ok: boolean;
    file: string | null;
    bytes: number | null;
    tables: number | null;
    rows: number | null;
    seconds: number;
    started_at: string;
    backup_created_at: string | null;
    error: string | null;
  }

  async function drill(backupDir: string, prefix: string | undefined) {
    const statusDir = tempDir("drill-status");
    chmodSync(statusDir, 0o777);
    // Short: the throwaway server's Unix socket ends up four folders below it, and a socket
    // path has at most 107 bytes (on the droplet the folder is a short one under /srv).
    const drillDir = join(root, `drill${++drills}`);
    // What the root-run backups left (docker's log, the backups) is open to the drill's user.
    run(["chmod", "-R", "a+rwX", root]);
    const command = renderDrillCommand({
      clientImage: "postgres:16.6-bookworm",
      roles: Object.values(ROLE_NAMES),
      ...(prefix ? { offsite: { bucket: BUCKET, endpoint: s3.endpoint, prefix } } : {}),
      paths: { ...paths, backupDir, statusDir },
      drillDir,
    });
    const result = await runAsync(asUnprivileged(["bash", "-c", command]), {
      input: backupStdin({ databaseUrl: "postgresql://unused@127.0.0.1/none", ...(prefix ? { offsite: KEYS } : {}) }),
      env: { ...env, HOME: root },
    });
    const status = JSON.parse(readFileSync(join(statusDir, "drill.json"), "utf8")) as DrillResult;
    return { result, status, statusDir, drillDir };
  }

  test("the newest complete off-site copy restores into a throwaway server; every row is read; nothing is left behind", async () => {
    const { backupDir, backup } = await appWithBackup("drilled", "drilled/", 250);
    const { result, status, drillDir } = await drill(backupDir, "drilled/");
    assert.equal(result.status, 0, result.stderr);
    assert.equal(status.ok, true, result.stderr);
    assert.equal(status.file, backup.split("/").at(-1));
    assert.equal(status.tables, 2);
    assert.equal(status.rows, 500);
    assert.equal(status.bytes, readFileSync(backup).length);
    assert.equal(status.error, null);
    assert.match(status.started_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(status.backup_created_at, (JSON.parse(readFileSync(`${backup}.json`, "utf8")) as { created_at: string }).created_at);
    assert.match(result.stderr, /drill of the newest off-site copy/);
    // The download and the throwaway server are gone; the production database was never touched.
    assert.deepEqual(readdirSync(drillDir), []);
    assert.equal(pg.psql("SELECT count(*) FROM pg_database WHERE datname = 'dropstack_drill'"), "0");
  });

  test("without off-site copies the drill restores the newest local backup", async () => {
    const { backupDir, backup } = await appWithBackup("drilled_local", "drilled-local/", 40);
    const { result, status } = await drill(backupDir, undefined);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(status.ok, true);
    assert.equal(status.file, backup.split("/").at(-1));
    assert.equal(status.rows, 80);
  });

  test("a copy that does not match its .json fails the drill, and the result says so", async () => {
    const { backupDir, backup } = await appWithBackup("drilled_bad", "drilled-bad/", 10);
    // The off-site copy is altered after upload (same name, same size, different bytes).
    const name = backup.split("/").at(-1) ?? "";
    const bytes = readFileSync(backup);
    bytes[bytes.length - 1] ^= 0xff;
    await s3.put(BUCKET, `drilled-bad/${name}`, bytes);
    const { result, status } = await drill(backupDir, "drilled-bad/");
    assert.equal(result.status, 1);
    assert.equal(status.ok, false);
    assert.equal(status.file, name);
    assert.match(status.error ?? "", /restore\.sh failed/);
    assert.match(result.stderr, /altered or corrupt/);
  });

  test("an empty bucket fails the drill with a result, not silence", async () => {
    const { status, result } = await drill(tempDir("no-backups"), "nothing-here/");
    assert.equal(result.status, 1);
    assert.equal(status.ok, false);
    assert.match(status.error ?? "", /no complete off-site copy/);
  });

  describe("backup-check.sh", () => {
    let backupDir: string;
    let probeDir: string;
    before(async () => {
      ({ backupDir } = await appWithBackup("checked", "checked/", 5));
    });

    function check(statusDir: string, vars: Record<string, string>) {
      probeDir = tempDir("probe");
      const probe = join(probeDir, "dropstack-backups");
      writeFileSync(probe, "ok\n");
      const result = run([CHECK], {
        env: { PATH: process.env.PATH, BACKUP_DIR: backupDir, STATUS_DIR: statusDir, PROBE_FILE: probe, ...vars },
      });
      const verdict = JSON.parse(readFileSync(join(statusDir, "backups.json"), "utf8")) as {
        ok: boolean;
        newest_backup: string | null;
        newest_backup_age_s: number | null;
        problems: string[];
      };
      return { result, verdict, probe: existsSync(probe) ? readFileSync(probe, "utf8") : undefined };
    }
    const statusWith = (files: Record<string, string>) => {
      const dir = tempDir("check-status");
      for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
      return dir;
    };
    /** Blocks until the newest backup's created_at (whole seconds) is more than `seconds` in the past. */
    const waitUntilNewestBackupIsOlderThan = (seconds: number) => {
      const created = Math.max(
        ...readdirSync(backupDir)
          .filter((f) => f.endsWith(".dump.json"))
          .map((f) => Date.parse((JSON.parse(readFileSync(join(backupDir, f), "utf8")) as { created_at: string }).created_at)),
      );
      const wait = created + (seconds + 1) * 1000 - Date.now();
      if (wait > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, wait);
    };
    const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    const drillResult = (ok: boolean, startedAt = now()) =>
      `{"ok": ${ok}, "file": "x.dump", "bytes": 1, "backup_created_at": null, "started_at": "${startedAt}", "seconds": 1, "tables": 1, "rows": 1, "error": ${ok ? "null" : '"restore.sh failed (its reason is above)"'}}\n`;

    test("fresh backup, off-site copy and passed drill: ok, and the probe file says so", () => {
      const status = statusWith({ "offsite.json": `{"file": "x.dump", "finished_at": "${now()}"}\n`, "drill.json": drillResult(true) });
      const { result, verdict, probe } = check(status, { BACKUP_MAX_AGE_S: "3600", DRILL_MAX_AGE_S: "86400", OFFSITE: "true" });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(verdict.ok, true);
      assert.deepEqual(verdict.problems, []);
      assert.match(verdict.newest_backup ?? "", /^checked-.*-scheduled\.dump$/);
      assert.equal(probe, "ok\n");
    });

    for (const [what, files, vars, problem] of [
      [
        "the newest backup older than twice the interval",
        { "drill.json": drillResult(true) },
        { BACKUP_MAX_AGE_S: "1", DRILL_MAX_AGE_S: "86400" },
        /is \d+s old \(limit 1s\)/,
      ],
      ["no drill result", {}, { BACKUP_MAX_AGE_S: "3600", DRILL_MAX_AGE_S: "86400" }, /no restore drill result/],
      [
        "a failed drill",
        { "drill.json": drillResult(false) },
        { BACKUP_MAX_AGE_S: "3600", DRILL_MAX_AGE_S: "86400" },
        /the last restore drill failed: "restore\.sh failed/,
      ],
      [
        "a drill that passed too long ago",
        { "drill.json": drillResult(true, "2020-01-01T00:00:00Z") },
        { BACKUP_MAX_AGE_S: "3600", DRILL_MAX_AGE_S: "86400" },
        /restore drill passed \d+s ago \(limit 86400s\)/,
      ],
      ["no off-site copy recorded", {}, { BACKUP_MAX_AGE_S: "3600", OFFSITE: "true" }, /no off-site copy recorded/],
      [
        "an off-site copy too old",
        { "offsite.json": '{"file": "x.dump", "finished_at": "2020-01-01T00:00:00Z"}\n' },
        { BACKUP_MAX_AGE_S: "3600", OFFSITE: "true" },
        /last off-site copy finished \d+s ago/,
      ],
    ] as [string, Record<string, string>, Record<string, string>, RegExp][]) {
      test(`${what}: not ok, the problem named, the probe file gone (the uptime alert fires)`, () => {
        // A limit of 1 s holds only once the backup is 2 whole seconds old; a fast run got here sooner.
        if (vars.BACKUP_MAX_AGE_S === "1") waitUntilNewestBackupIsOlderThan(1);
        const { result, verdict, probe } = check(statusWith(files), vars);
        assert.equal(result.status, 1);
        assert.equal(verdict.ok, false);
        assert.equal(verdict.problems.length, 1, verdict.problems.join("; "));
        assert.match(verdict.problems[0], problem);
        assert.equal(probe, undefined);
      });
    }

    test("a backup that no longer matches its .json does not count as fresh", () => {
      const dir = tempDir("check-altered");
      for (const f of readdirSync(backupDir)) writeFileSync(join(dir, f), readFileSync(join(backupDir, f)));
      const dump = readdirSync(dir).find((f) => f.endsWith(".dump")) ?? "";
      writeFileSync(join(dir, dump), "altered");
      const probe = join(tempDir("probe-altered"), "p");
      const result = run([CHECK], {
        env: { PATH: process.env.PATH, BACKUP_DIR: dir, STATUS_DIR: tempDir("s"), BACKUP_MAX_AGE_S: "3600", PROBE_FILE: probe },
      });
      assert.equal(result.status, 1);
      assert.match(result.stderr, /no verified backup/);
      assert.equal(existsSync(probe), false);
    });
  });
});
