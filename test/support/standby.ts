// A streaming hot standby of a test PostgreSQL (tools/lib/postgres.ts), as a managed read
// replica is one: pg_basebackup over a replication connection on loopback, with the
// connection to the primary written for recovery (-R), started read-only on a port of its
// own. The primary must run with wal_level replica and WAL senders (see PRIMARY_SETTINGS).
import { appendFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { PostgresServer } from "../../tools/lib/postgres";
import { asUnprivileged, freePort, makeTempDir, requireTools, run } from "../../tools/lib/system";

/** What a primary needs for a standby to stream from it (the test servers turn WAL senders off). */
export const PRIMARY_SETTINGS: Readonly<Record<string, string>> = { wal_level: "replica", max_wal_senders: "4" };

export interface Standby {
  readonly port: number;
  readonly logFile: string;
  /** `postgresql://user:password@127.0.0.1:port/db`, the superuser's unless a role is given. */
  url(database?: string, role?: { user: string; password: string }): string;
  /** SQL as the superuser (unaligned, tuples only, trimmed); throws with psql's stderr. */
  psql(sql: string, database?: string): string;
  /** Waits until the standby has replayed everything the primary has written so far. */
  caughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startStandby(primary: PostgresServer, osUser = "nobody"): Promise<Standby> {
  const tool = (name: string) => ({ command: join(primary.binDir, name), debianPackage: "postgresql" });
  const tools = requireTools([tool("pg_basebackup"), tool("pg_ctl"), tool("psql")]);
  const [pgBasebackup, pgCtl, psqlPath] = ["pg_basebackup", "pg_ctl", "psql"].map((name) => tools[join(primary.binDir, name)]);
  const baseDir = makeTempDir("standby");
  const dataDir = join(baseDir, "data");
  const logFile = join(baseDir, "server.log");
  const fail = (what: string, result: { status: number | null; stderr: string }) => {
    const log = existsSync(logFile) ? run(["tail", "-n", "30", logFile]).stdout : "";
    rmSync(baseDir, { recursive: true, force: true });
    return new Error(`${what} failed (${result.status}): ${result.stderr}\n${log}`);
  };

  // The superuser has REPLICATION; the data directory ends up owned by the server's OS user.
  const backup = run(
    asUnprivileged(
      [
        pgBasebackup,
        "--pgdata",
        dataDir,
        "--dbname",
        primary.url(),
        "--write-recovery-conf",
        "--wal-method=stream",
        "--checkpoint=fast",
        "--no-sync",
      ],
      osUser,
    ),
    { cwd: baseDir },
  );
  if (backup.status !== 0) throw fail("pg_basebackup", backup);

  const port = await freePort();
  // The copied postgresql.conf names the primary's port and socket directory; later lines win.
  appendFileSync(join(dataDir, "postgresql.conf"), `port = '${port}'\nunix_socket_directories = '${baseDir}'\nhot_standby = 'on'\n`);
  const start = run(asUnprivileged([pgCtl, "--pgdata", dataDir, "--log", logFile, "--wait", "--timeout", "60", "start"], osUser), {
    cwd: baseDir,
  });
  if (start.status !== 0) throw fail("starting the standby", start);

  const url = (database = "postgres", role = { user: primary.user, password: primary.password }) =>
    `postgresql://${encodeURIComponent(role.user)}:${encodeURIComponent(role.password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  const psql = (sql: string, database = "postgres") => {
    const result = run([psqlPath, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url(database), "-f", "-"], { input: sql });
    if (result.status !== 0) throw new Error(`psql on the standby's ${database} failed (${result.status}): ${result.stderr}`);
    return result.stdout.trim();
  };

  let stopped = false;
  return {
    port,
    logFile,
    url,
    psql,
    caughtUp: async (timeoutMs = 30_000) => {
      const target = primary.psql("SELECT pg_current_wal_lsn()");
      const deadline = Date.now() + timeoutMs;
      while (psql(`SELECT pg_last_wal_replay_lsn() >= '${target}'::pg_lsn`) !== "t") {
        if (Date.now() > deadline) throw new Error(`the standby did not replay up to ${target} in ${timeoutMs} ms; see ${logFile}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const stop = run(asUnprivileged([pgCtl, "--pgdata", dataDir, "--mode", "fast", "--wait", "--timeout", "60", "stop"], osUser), {
        cwd: baseDir,
      });
      rmSync(baseDir, { recursive: true, force: true });
      if (stop.status !== 0) throw new Error(`pg_ctl stop (standby) failed (${stop.status}): ${stop.stderr}`);
    },
  };
}
