// A real, throwaway PostgreSQL server for system tests and benchmarks: initdb into a temp
// dir, listen on a free 127.0.0.1 port only, run as an unprivileged user when we are root
// (PostgreSQL refuses root). Start one per test file — initdb costs about a second — and
// give each test its own database instead.
//
//   const pg = await startPostgres();
//   after(() => pg.stop());
//   pg.createDatabase("app");
//   pg.psql("CREATE TABLE t (id int)", "app");
//   spawn("my-script", { env: { ...process.env, DATABASE_URL: pg.url("app") } });
//
// Authentication is scram-sha-256 over TCP, so URLs carry the superuser password exactly
// like a managed cluster's do; roles created by tests log in with their own passwords.
import { appendFileSync, existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { asUnprivileged, freePort, makeTempDir, requireTools, run } from "./system";

const POSTGRES_LIB = "/usr/lib/postgresql";
const MINIMUM_MAJOR_VERSION = 15;

/** Durability is irrelevant for a server that lives for one test file; these make it fast. */
const FAST_SETTINGS: Record<string, string> = {
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
};

export interface PostgresOptions {
  /** Extra or overriding `postgres -c` settings, e.g. `{ max_connections: "200" }`. */
  settings?: Record<string, string>;
  /** The unprivileged OS user that owns the cluster when we run as root. */
  osUser?: string;
}

export interface PostgresServer {
  /** Major version of the server binaries, e.g. 15. */
  readonly majorVersion: number;
  readonly host: "127.0.0.1";
  readonly port: number;
  /** The bootstrap superuser and its password. */
  readonly user: string;
  readonly password: string;
  /** Directory of the server binaries (initdb, pg_ctl, postgres, and matching client tools). */
  readonly binDir: string;
  readonly dataDir: string;
  /** Server log, worth printing when a test fails. */
  readonly logFile: string;
  /** `postgresql://user:password@127.0.0.1:port/db` for the superuser, or for another role. */
  url(database?: string, role?: { user: string; password: string }): string;
  /**
   * Runs SQL (any number of statements) through psql with ON_ERROR_STOP as the superuser and
   * returns unaligned, tuples-only output, trimmed; throws with psql's stderr on failure.
   */
  psql(sql: string, database?: string): string;
  createDatabase(name: string): void;
  dropDatabase(name: string): void;
  /** Stops the server (fast shutdown) and deletes its data directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** The newest `/usr/lib/postgresql/<major>/bin` with a server in it, if any. */
export function findPostgresBinDir(minimumMajor = MINIMUM_MAJOR_VERSION): { binDir: string; majorVersion: number } | undefined {
  if (!existsSync(POSTGRES_LIB)) return undefined;
  const majors = readdirSync(POSTGRES_LIB)
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((major) => major >= minimumMajor && existsSync(join(POSTGRES_LIB, String(major), "bin", "postgres")))
    .sort((a, b) => b - a);
  if (majors.length === 0) return undefined;
  return { binDir: join(POSTGRES_LIB, String(majors[0]), "bin"), majorVersion: majors[0] };
}

/**
 * The client tools a test needs beyond the server itself (psql, pg_dump, ...), found on PATH;
 * fails naming `postgresql-client` when they are missing.
 */
export function requirePostgresClientTools(commands: string[] = ["psql", "pg_dump", "pg_restore"]): Record<string, string> {
  return requireTools(commands.map((command) => ({ command, debianPackage: "postgresql-client" })));
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const server = findPostgresBinDir();
  // Without a server these paths do not exist, so requireTools fails naming `postgresql`.
  const binDir = server?.binDir ?? join(POSTGRES_LIB, `${MINIMUM_MAJOR_VERSION}-or-newer`, "bin");
  const serverTool = (name: string) => ({ command: join(binDir, name), debianPackage: "postgresql" });
  const tools = requireTools([serverTool("initdb"), serverTool("pg_ctl"), serverTool("postgres"), serverTool("psql")]);
  requirePostgresClientTools();
  const majorVersion = Number(basename(dirname(binDir)));
  const osUser = options.osUser ?? "nobody";

  const baseDir = makeTempDir("postgres");
  const dataDir = join(baseDir, "data");
  const logFile = join(baseDir, "server.log");
  const user = "postgres";
  const password = randomBytes(18).toString("hex");
  const passwordFile = join(baseDir, "password");
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o644 });

  const initdb = run(
    asUnprivileged(
      [
        tools[join(binDir, "initdb")],
        "--pgdata",
        dataDir,
        "--username",
        user,
        "--pwfile",
        passwordFile,
        "--auth-host=scram-sha-256",
        "--auth-local=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
      ],
      osUser,
    ),
    { cwd: baseDir },
  );
  rmSync(passwordFile, { force: true });
  if (initdb.status !== 0) {
    rmSync(baseDir, { recursive: true, force: true });
    throw new Error(`initdb failed (${initdb.status}): ${initdb.stderr}${initdb.error?.message ?? ""}`);
  }

  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    port: String(port),
    // The socket lives in our temp dir: the Debian default (/var/run/postgresql) is root's.
    unix_socket_directories: baseDir,
    ...FAST_SETTINGS,
    ...options.settings,
  };
  appendFileSync(
    join(dataDir, "postgresql.conf"),
    Object.entries(settings)
      .map(([key, value]) => `${key} = '${value.replace(/'/g, "''")}'\n`)
      .join(""),
  );
  const pgCtl = tools[join(binDir, "pg_ctl")];
  const start = run(asUnprivileged([pgCtl, "--pgdata", dataDir, "--log", logFile, "--wait", "--timeout", "60", "start"], osUser), {
    cwd: baseDir,
  });
  if (start.status !== 0) {
    const log = existsSync(logFile) ? run(["tail", "-n", "30", logFile]).stdout : "";
    rmSync(baseDir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start (${start.status}): ${start.stderr}\n${log}`);
  }

  const url = (database = "postgres", role = { user, password }) =>
    `postgresql://${encodeURIComponent(role.user)}:${encodeURIComponent(role.password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;

  const psql = (sql: string, database = "postgres") => {
    const result = run([tools[join(binDir, "psql")], "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url(database), "-f", "-"], {
      input: sql,
    });
    if (result.status !== 0) throw new Error(`psql on ${database} failed (${result.status}): ${result.stderr}`);
    return result.stdout.trim();
  };

  let stopped = false;
  return {
    majorVersion,
    host: "127.0.0.1",
    port,
    user,
    password,
    binDir,
    dataDir,
    logFile,
    url,
    psql,
    createDatabase: (name) => void psql(`CREATE DATABASE ${quoteIdentifier(name)}`),
    dropDatabase: (name) => void psql(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const stop = run(asUnprivileged([pgCtl, "--pgdata", dataDir, "--mode", "fast", "--wait", "--timeout", "60", "stop"], osUser), {
        cwd: baseDir,
      });
      rmSync(baseDir, { recursive: true, force: true });
      if (stop.status !== 0) throw new Error(`pg_ctl stop failed (${stop.status}): ${stop.stderr}`);
    },
  };
}
