// A streaming hot standby of a test PostgreSQL (tools/lib/postgres.ts), as a managed read
// replica is one: pg_basebackup over a replication connection on loopback, with the
// connection to the primary written for recovery (-R), started read-only on a port of its
// own. The primary must run with wal_level replica and WAL senders (see PRIMARY_SETTINGS).
import { appendFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type PostgresServer, startDataDir } from "../../tools/lib/postgres";
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
  const pgBasebackup = requireTools([tool("pg_basebackup"), tool("pg_ctl"), tool("psql")])[join(primary.binDir, "pg_basebackup")];
  const baseDir = makeTempDir("standby");
  const dataDir = join(baseDir, "data");
  const logFile = join(baseDir, "server.log");

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
  if (backup.status !== 0) {
    rmSync(baseDir, { recursive: true, force: true });
    throw new Error(`pg_basebackup failed (${backup.status}): ${backup.stderr}`);
  }

  const port = await freePort();
  // The copied postgresql.conf names the primary's port and socket directory; later lines win.
  appendFileSync(join(dataDir, "postgresql.conf"), `port = '${port}'\nunix_socket_directories = '${baseDir}'\nhot_standby = 'on'\n`);
  const server = startDataDir({
    name: "the standby",
    binDir: primary.binDir,
    baseDir,
    dataDir,
    logFile,
    port,
    osUser,
    superuser: { user: primary.user, password: primary.password },
  });

  return {
    port,
    logFile,
    ...server,
    caughtUp: async (timeoutMs = 30_000) => {
      const target = primary.psql("SELECT pg_current_wal_lsn()");
      const deadline = Date.now() + timeoutMs;
      while (server.psql(`SELECT pg_last_wal_replay_lsn() >= '${target}'::pg_lsn`) !== "t") {
        if (Date.now() > deadline) throw new Error(`the standby did not replay up to ${target} in ${timeoutMs} ms; see ${logFile}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}
