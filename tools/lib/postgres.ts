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
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { asUnprivileged, freePort, makeTempDir, requireTools, run } from "./system";

const POSTGRES_LIB = "/usr/lib/postgresql";
const MINIMUM_MAJOR_VERSION = 15;

// A test server lives for one test file and keeps nothing: no durability, and none of the work
// that only pays off later (autovacuum workers visiting every database the tests create,
// WAL kept for replicas that do not exist).
const FAST_SETTINGS: Record<string, string> = {
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
  autovacuum: "off",
  wal_level: "minimal",
  max_wal_senders: "0",
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

/** initdb into `dataDir` (which must not exist yet), owned by `osUser`; returns the password. */
function initDataDir(initdb: string, dataDir: string, options: { user: string; password: string; osUser: string }): string {
  const passwordFile = `${dataDir}.password`;
  writeFileSync(passwordFile, `${options.password}\n`, { mode: 0o644 });
  const result = run(
    asUnprivileged(
      [
        initdb,
        "--pgdata",
        dataDir,
        "--username",
        options.user,
        "--pwfile",
        passwordFile,
        "--auth-host=scram-sha-256",
        "--auth-local=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
      ],
      options.osUser,
    ),
    { cwd: dirname(dataDir) },
  );
  rmSync(passwordFile, { force: true });
  if (result.status !== 0) throw new Error(`initdb failed (${result.status}): ${result.stderr}${result.error?.message ?? ""}`);
  return options.password;
}

/**
 * Within one `npm test` run (tools/run-tests.mjs names its folder in DROPSTACK_TEST_RUN) the
 * servers start from a copy of one initdb'd data directory: a copy costs a twentieth of
 * initdb's CPU, and the suite starts a few dozen servers. The template is made once, under
 * a name of its own and then renamed, so files starting servers at the same time never
 * copy half of one. Its password, random per run, is every copy's.
 */
function copyTemplate(template: string, dataDir: string, initdb: (target: string, password: string) => string): string {
  if (!existsSync(template)) {
    const making = `${template}.${process.pid}`;
    mkdirSync(making);
    chmodSync(making, 0o777); // initdb runs as the unprivileged user and creates data/ here
    const password = initdb(join(making, "data"), randomBytes(18).toString("hex"));
    writeFileSync(join(making, "password"), password, { mode: 0o600 });
    try {
      renameSync(making, template);
    } catch {
      // Another file made it first: use theirs.
      rmSync(making, { recursive: true, force: true });
    }
  }
  const copy = run(["cp", "-a", join(template, "data"), dataDir]);
  if (copy.status !== 0) throw new Error(`copying the PostgreSQL template failed (${copy.status}): ${copy.stderr}`);
  return readFileSync(join(template, "password"), "utf8");
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
  const initdb = (target: string, password: string) => initDataDir(tools[join(binDir, "initdb")], target, { user, password, osUser });
  let password: string;
  try {
    password = process.env.DROPSTACK_TEST_RUN
      ? copyTemplate(join(process.env.DROPSTACK_TEST_RUN, `postgres-${majorVersion}-${osUser}`), dataDir, initdb)
      : initdb(dataDir, randomBytes(18).toString("hex"));
  } catch (error) {
    rmSync(baseDir, { recursive: true, force: true });
    throw error;
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
  const running = startDataDir({ name: "PostgreSQL", binDir, baseDir, dataDir, logFile, port, osUser, superuser: { user, password } });
  return {
    majorVersion,
    host: "127.0.0.1",
    port,
    user,
    password,
    binDir,
    dataDir,
    logFile,
    url: running.url,
    psql: running.psql,
    createDatabase: (name) => void running.psql(`CREATE DATABASE ${quoteIdentifier(name)}`),
    dropDatabase: (name) => void running.psql(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`),
    stop: running.stop,
  };
}

/** The server of a data directory, as startDataDir runs it. */
export type DataDirServer = Pick<PostgresServer, "url" | "psql" | "stop">;

/**
 * Starts the server of `dataDir`, whose postgresql.conf names `port`, with pg_ctl as `osUser`,
 * logging to `logFile`: the superuser's URLs and psql, and a stop that removes `baseDir` (the
 * folder that holds them all, removed too when the server does not start). `name` says which
 * server in errors.
 */
export function startDataDir(options: {
  name: string;
  binDir: string;
  baseDir: string;
  dataDir: string;
  logFile: string;
  port: number;
  osUser: string;
  superuser: { user: string; password: string };
}): DataDirServer {
  const { name, binDir, baseDir, dataDir, logFile, port, osUser, superuser } = options;
  const pgCtl = join(binDir, "pg_ctl");
  const start = run(asUnprivileged([pgCtl, "--pgdata", dataDir, "--log", logFile, "--wait", "--timeout", "60", "start"], osUser), {
    cwd: baseDir,
  });
  if (start.status !== 0) {
    const log = existsSync(logFile) ? run(["tail", "-n", "30", logFile]).stdout : "";
    rmSync(baseDir, { recursive: true, force: true });
    throw new Error(`${name} did not start (${start.status}): ${start.stderr}\n${log}`);
  }

  const url = (database = "postgres", role = superuser) =>
    `postgresql://${encodeURIComponent(role.user)}:${encodeURIComponent(role.password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;

  const psql = (sql: string, database = "postgres") => {
    const result = run([join(binDir, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url(database), "-f", "-"], {
      input: sql,
    });
    if (result.status !== 0) throw new Error(`psql on ${name}'s ${database} failed (${result.status}): ${result.stderr}`);
    return result.stdout.trim();
  };

  let stopped = false;
  return {
    url,
    psql,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const stop = run(asUnprivileged([pgCtl, "--pgdata", dataDir, "--mode", "fast", "--wait", "--timeout", "60", "stop"], osUser), {
        cwd: baseDir,
      });
      rmSync(baseDir, { recursive: true, force: true });
      if (stop.status !== 0) throw new Error(`pg_ctl stop (${name}) failed (${stop.status}): ${stop.stderr}`);
    },
  };
}
