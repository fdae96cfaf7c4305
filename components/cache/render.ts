// redis.conf for the Cache component (README "What one `pulumi up` does": "Redis container on the host (password,
// AOF, maxmemory)"), plus the small helpers that must agree with it: the REDIS_URL the app
// receives and the container healthcheck. Everything here is pure; test/system/redis.test.ts
// feeds the rendered file to a real redis-server.
//
// Why CONFIG stays enabled: Redis 7 refuses `CONFIG SET` on its file-writing settings
// (dir, dbfilename, …) while `enable-protected-configs no`, which closes the classic
// "CONFIG SET dir + SAVE" file-write attack. What is left of CONFIG is power a password
// holder already has (they can read, overwrite or delete every key), and renaming it to a
// name derived from the password would add no secret, only break tools that read settings
// (BullMQ checks `CONFIG GET maxmemory-policy`, operators diagnose with `CONFIG GET`).
// What is disabled instead are the commands that wreck the whole instance in one call and
// that no application needs: see REDIS_DISABLED_COMMANDS.
import { isIP } from "node:net";

/** The maxmemory-policy values Redis 7 accepts; the config schema validates against this same list. */
export const REDIS_EVICTION_POLICIES = [
  "noeviction",
  "allkeys-lru",
  "allkeys-lfu",
  "allkeys-random",
  "volatile-lru",
  "volatile-lfu",
  "volatile-random",
  "volatile-ttl",
] as const;
export type RedisEvictionPolicy = (typeof REDIS_EVICTION_POLICIES)[number];

export const REDIS_DEFAULT_PORT = 6379;
/** Where the official redis image keeps its data; the host volume is mounted here. */
export const REDIS_DEFAULT_DATA_DIR = "/data";
/** The AOF directory inside the data dir (Redis 7 multi-part AOF). */
export const REDIS_AOF_DIR = "appendonlydir";
/** Redis answers ~100k AUTH attempts per second, so short passwords fall to brute force. */
export const REDIS_MIN_PASSWORD_LENGTH = 16;
/** Below this Redis cannot even hold its own bookkeeping, so every write would fail. */
export const REDIS_MIN_MAXMEMORY_BYTES = 1024 * 1024;

/**
 * Commands renamed to "" (removed). Each wipes or takes over the whole instance in one call,
 * and none is needed by an application or by the healthcheck (which only needs AUTH + PING):
 * - FLUSHALL, FLUSHDB: delete every key.
 * - SHUTDOWN: stops the server; `docker stop` uses SIGTERM, which still shuts down cleanly.
 * - DEBUG: can crash or freeze the server (DEBUG SEGFAULT, DEBUG SLEEP).
 * - MODULE: loads native code into the server.
 * - REPLICAOF, SLAVEOF: replace all data with a copy of another (possibly hostile) server.
 * KEYS stays: it is slow on big keyspaces, but cache and queue libraries still call it.
 */
export const REDIS_DISABLED_COMMANDS = ["FLUSHALL", "FLUSHDB", "SHUTDOWN", "DEBUG", "MODULE", "REPLICAOF", "SLAVEOF"] as const;

export interface RedisSettings {
  /**
   * Password of Redis 7's `default` user (what `requirepass` sets). At least 16 printable
   * ASCII characters without whitespace, quotes, backquotes or backslashes, so it can be
   * written into redis.conf verbatim, e.g. `random.RandomPassword` with
   * `overrideSpecial: "-_.~!#%^*+=:,"` or `special: false`.
   */
  password: string;
  /** Memory limit in Redis' size syntax: `256mb`, `1gb`, `512m`, bytes. At least 1mb. */
  maxmemory: string;
  /** One of REDIS_EVICTION_POLICIES. */
  evictionPolicy: string;
  /**
   * The address Redis listens on. In the container this is `0.0.0.0` so the app containers
   * reach it over the Docker network; the port is never published on the droplet.
   */
  bind: string;
  /** Default 6379. */
  port?: number;
  /** Absolute path of the data dir (AOF and RDB files). Default `/data`. */
  dataDir?: string;
}

export interface RedisSettingsProblem {
  setting: keyof RedisSettings;
  message: string;
}

const MEMORY_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1000,
  kb: 1024,
  m: 1000 ** 2,
  mb: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1024 ** 3,
};

/**
 * Bytes for a Redis size (`256mb` → 268435456), with Redis' own units: k/m/g are powers of
 * 1000, kb/mb/gb powers of 1024, case-insensitive. Undefined when Redis would not read it
 * the same way (or at all).
 */
export function parseRedisMemory(value: string): number | undefined {
  const match = /^([0-9]+)([a-z]*)$/i.exec(value);
  if (!match) return undefined;
  const unit = MEMORY_UNITS[match[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Number(match[1]) * unit;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Why a maxmemory value is unusable, or undefined when it is fine. For the config schema too. */
export function describeMaxmemoryProblem(value: string): string | undefined {
  const bytes = parseRedisMemory(value);
  if (bytes === undefined) return `expected a size like 256mb or 1gb, got ${JSON.stringify(value)}`;
  if (bytes === 0) return "0 means no limit; the cache shares the droplet with the app, so set one like 256mb";
  if (bytes < REDIS_MIN_MAXMEMORY_BYTES) return `expected at least 1mb, got ${JSON.stringify(value)}`;
  return undefined;
}

// Printable ASCII minus whitespace, both quotes, backquote and backslash: the characters
// that redis.conf's argument splitter (or a shell the value might pass through) would read
// as syntax rather than as part of the password.
const PASSWORD_CHARACTERS = /^[!#-&(-[\]-_a-~]+$/;
const PATH_CHARACTERS = /^\/[A-Za-z0-9._\-/]*$/;

/** Every problem with the settings; an empty list means renderRedisConf will accept them. */
export function validateRedisSettings(settings: RedisSettings): RedisSettingsProblem[] {
  const problems: RedisSettingsProblem[] = [];
  const add = (setting: keyof RedisSettings, message: string) => problems.push({ setting, message });

  // Messages never quote the password: they end up in logs.
  const { password } = settings;
  if (typeof password !== "string" || password.length === 0) add("password", "expected a password");
  else {
    if (password.length < REDIS_MIN_PASSWORD_LENGTH) {
      add("password", `expected at least ${REDIS_MIN_PASSWORD_LENGTH} characters, got ${password.length}`);
    }
    if (!PASSWORD_CHARACTERS.test(password)) {
      add("password", "expected only printable ASCII without whitespace, quotes (\" ' `) or backslashes");
    }
  }

  const memoryProblem =
    typeof settings.maxmemory === "string" ? describeMaxmemoryProblem(settings.maxmemory) : "expected a size like 256mb";
  if (memoryProblem) add("maxmemory", memoryProblem);

  if (!(REDIS_EVICTION_POLICIES as readonly string[]).includes(settings.evictionPolicy)) {
    add("evictionPolicy", `expected one of ${REDIS_EVICTION_POLICIES.join(", ")}, got ${JSON.stringify(settings.evictionPolicy)}`);
  }

  if (typeof settings.bind !== "string" || isIP(settings.bind) === 0) {
    add("bind", `expected an IPv4 or IPv6 address like 0.0.0.0 or 127.0.0.1, got ${JSON.stringify(settings.bind)}`);
  }

  if (settings.port !== undefined && !(Number.isInteger(settings.port) && settings.port >= 1 && settings.port <= 65535)) {
    add("port", `expected an integer from 1 to 65535, got ${JSON.stringify(settings.port)}`);
  }

  if (settings.dataDir !== undefined && !(typeof settings.dataDir === "string" && PATH_CHARACTERS.test(settings.dataDir))) {
    add("dataDir", `expected an absolute path of letters, digits and ._-/, got ${JSON.stringify(settings.dataDir)}`);
  }
  return problems;
}

function assertValid(settings: RedisSettings): void {
  const problems = validateRedisSettings(settings);
  if (problems.length > 0) {
    throw new Error(`invalid Redis settings: ${problems.map((p) => `${p.setting}: ${p.message}`).join("; ")}`);
  }
}

/**
 * The complete redis.conf for `redis-server <file>`. It contains the password: wrap the
 * result in `pulumi.secret`. Throws, listing every problem, when validateRedisSettings
 * finds any, so an unreadable or unsafe file is never written.
 */
export function renderRedisConf(settings: RedisSettings): string {
  assertValid(settings);
  const port = settings.port ?? REDIS_DEFAULT_PORT;
  const dataDir = settings.dataDir ?? REDIS_DEFAULT_DATA_DIR;
  const lines = [
    "# redis.conf rendered by dropstack (components/cache/render.ts).",
    "# Edits on the host are overwritten by the next `pulumi up`.",
    "",
    "# Network. Protected mode stays on as a second guard should the password ever be unset.",
    `bind ${settings.bind}`,
    `port ${port}`,
    "protected-mode yes",
    "tcp-keepalive 300",
    "",
    "# Authentication: requirepass sets the password of the Redis 7 ACL user `default`.",
    `requirepass "${settings.password}"`,
    "",
    "# Persistence: every write goes to the append-only file, fsynced once a second, so a",
    "# crash loses at most a second of writes; hourly RDB snapshots are a second copy.",
    `dir "${dataDir}"`,
    "appendonly yes",
    "appendfsync everysec",
    `appenddirname "${REDIS_AOF_DIR}"`,
    "save 3600 1 300 100 60 10000",
    "",
    "# Memory: the cache shares the droplet with the app, so it has a hard limit.",
    `maxmemory ${settings.maxmemory}`,
    `maxmemory-policy ${settings.evictionPolicy}`,
    "",
    "# Hardening. Protected configs (dir, dbfilename, ...) cannot be changed at runtime,",
    "# which keeps CONFIG SET from writing files outside the data dir.",
    "enable-protected-configs no",
    "enable-debug-command no",
    "enable-module-command no",
    ...REDIS_DISABLED_COMMANDS.map((command) => `rename-command ${command} ""`),
    "",
    "# Runs in the foreground as the container's main process and logs to stdout.",
    'logfile ""',
    "",
  ];
  return lines.join("\n");
}

export interface RedisUrlParts {
  password: string;
  /** Hostname or address the app uses, e.g. the Redis container's network alias. */
  host: string;
  /** Default 6379. */
  port?: number;
  /** Database number, default 0. */
  db?: number;
  /** The ACL user, default `default`; a managed cluster reports its own. */
  user?: string;
  /** `rediss://`: the server takes TLS connections only (managed Valkey). */
  tls?: boolean;
}

/**
 * `redis://default:<password>@<host>:<port>/<db>` (`rediss://` with `tls`) with the user and
 * password percent-encoded. The user
 * is named `default` (the ACL user requirepass configures) rather than left empty: redis-cli
 * 6.2+ sends an empty user name as-is and fails AUTH (redis/redis-doc#2604), while clients
 * that ignore user names still send the password alone, which Redis 7 accepts.
 */
export function buildRedisUrl(parts: RedisUrlParts): string {
  const { password, host } = parts;
  const port = parts.port ?? REDIS_DEFAULT_PORT;
  const db = parts.db ?? 0;
  if (isIP(host) !== 6 && !/^[A-Za-z0-9._-]+$/.test(host)) {
    throw new Error(`expected a Redis host name or address, got ${JSON.stringify(host)}`);
  }
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new Error(`expected a port from 1 to 65535, got ${port}`);
  if (!(Number.isInteger(db) && db >= 0)) throw new Error(`expected a database number >= 0, got ${db}`);
  const user = parts.user ?? "default";
  if (user === "") throw new Error("expected a Redis user name, got an empty one");
  const hostPart = isIP(host) === 6 ? `[${host}]` : host;
  const scheme = parts.tls ? "rediss" : "redis";
  return `${scheme}://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${hostPart}:${port}/${db}`;
}

/**
 * The environment variable redis-cli reads its password from. The Redis container needs it
 * (as a secret) for the healthcheck, which keeps the password off the command line.
 */
export const REDIS_HEALTHCHECK_PASSWORD_ENV = "REDISCLI_AUTH";

/**
 * The Docker healthcheck `test` for the Redis container: an authenticated PING that must
 * answer PONG. The grep matters: redis-cli exits 0 even when Redis answers with an error
 * such as NOAUTH, so its exit status alone would report a locked-out server as healthy.
 */
export function redisHealthcheckTests(settings: Pick<RedisSettings, "bind" | "port">): string[] {
  const port = settings.port ?? REDIS_DEFAULT_PORT;
  if (isIP(settings.bind) === 0) throw new Error(`expected an IP address to bind, got ${JSON.stringify(settings.bind)}`);
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new Error(`expected a port from 1 to 65535, got ${port}`);
  // Inside the container a wildcard bind is reachable on loopback.
  const wildcard: Record<string, string> = { "0.0.0.0": "127.0.0.1", "::": "::1" };
  const host = wildcard[settings.bind] ?? settings.bind;
  return ["CMD-SHELL", `redis-cli -h ${host} -p ${port} ping | grep -qx PONG`];
}
