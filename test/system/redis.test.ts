// The rendered redis.conf, read by a real redis-server on loopback: authentication, memory
// settings, disabled commands and AOF persistence behave as the Cache component promises.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { asUnprivileged, freePort, isRoot, makeTempDir, requireTools, run } from "../../tools/lib/system";
import {
  REDIS_AOF_DIR,
  REDIS_DISABLED_COMMANDS,
  REDIS_HEALTHCHECK_PASSWORD_ENV,
  buildRedisUrl,
  parseRedisMemory,
  redisHealthcheckTests,
  renderRedisConf,
  type RedisSettings,
} from "../../components/cache/render";

const HOST = "127.0.0.1";

/** Polls until check() is truthy; fails with the last value described by `what`. */
async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The pid of the process `parent` forked, once it has. */
function forkedChildOf(parent: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${parent}/task/${parent}/children`, "utf8").trim();
    return children ? Number(children.split(" ")[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** One redis-server process on the rendered conf, restartable on the same files. */
class RedisUnderTest {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  log = "";
  /** The redis-server pid itself (the spawned process may be runuser in front of it). */
  private serverPid = 0;

  constructor(
    private readonly redisServer: string,
    private readonly redisCli: string,
    private readonly confPath: string,
    readonly port: number,
    readonly password: string,
  ) {}

  /**
   * redis-cli against the server, authenticated with the right password unless told
   * otherwise (`password: false` sends none). Returns stdout and stderr, trimmed.
   */
  cli(args: string[], options: { password?: string | false; input?: string } = {}): string {
    const env = { ...process.env };
    delete env[REDIS_HEALTHCHECK_PASSWORD_ENV];
    const password = options.password ?? this.password;
    if (password !== false) env[REDIS_HEALTHCHECK_PASSWORD_ENV] = password;
    const result = run([this.redisCli, "-h", HOST, "-p", String(this.port), ...args], { env, input: options.input });
    if (result.error) throw result.error;
    return (result.stdout + result.stderr).trim();
  }

  async start(): Promise<void> {
    const [command, ...args] = asUnprivileged([this.redisServer, this.confPath]);
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    child.stdout?.on("data", (chunk) => (this.log += chunk));
    child.stderr?.on("data", (chunk) => (this.log += chunk));
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? -1 : null))));
    let exitedEarly = false;
    void this.exited.then(() => (exitedEarly = true));
    const failIfExited = () => {
      if (exitedEarly) throw new Error(`redis-server exited during start:\n${this.log}`);
    };
    // As root, runuser forks redis-server and waits; signals must reach redis-server itself.
    this.serverPid = isRoot
      ? await waitFor("runuser to start redis-server", () => (failIfExited(), forkedChildOf(child.pid ?? 0)))
      : (child.pid ?? 0);
    await waitFor(`redis-server on port ${this.port}`, () => (failIfExited(), this.cli(["ping"]) === "PONG"));
  }

  /** Signals redis-server itself and returns the exit status seen by the spawned process. */
  async stop(signal: NodeJS.Signals): Promise<number | null> {
    if (!this.child || !this.exited) return null;
    try {
      if (this.serverPid > 0) process.kill(this.serverPid, signal);
      else this.child.kill("SIGTERM");
    } catch {
      // already gone
    }
    const status = await this.exited;
    this.child = undefined;
    return status;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
}

describe("redis-server reading the rendered redis.conf", { timeout: 120_000 }, () => {
  let dir = "";
  let dataDir = "";
  let settings: RedisSettings;
  let redis: RedisUnderTest;

  before(async () => {
    const tools = requireTools([
      { command: "redis-server", debianPackage: "redis-server" },
      { command: "redis-cli", debianPackage: "redis-tools" },
    ]);
    dir = makeTempDir("redis");
    dataDir = join(dir, "data");
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o777);
    // Every character the validator allows outside letters and digits, to prove the conf
    // parser, AUTH and the URL all read the password the same way.
    const password = `${randomBytes(12).toString("hex")}!#$%&()*+,-./:;<=>?@[]^_{|}~`;
    settings = { password, maxmemory: "64mb", evictionPolicy: "allkeys-lfu", bind: HOST, port: await freePort(), dataDir };
    const confPath = join(dir, "redis.conf");
    writeFileSync(confPath, renderRedisConf(settings), { mode: 0o644 });
    redis = new RedisUnderTest(tools["redis-server"], tools["redis-cli"], confPath, settings.port ?? 0, password);
    await redis.start();
  });

  after(async () => {
    if (redis?.running) await redis.stop("SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("refuses commands without AUTH", () => {
    assert.match(redis.cli(["set", "unauthenticated", "1"], { password: false }), /^NOAUTH Authentication required/);
    assert.match(redis.cli(["ping"], { password: false }), /^NOAUTH/);
    assert.equal(redis.cli(["exists", "unauthenticated"]), "0");
  });

  it("refuses a wrong password", () => {
    assert.match(redis.cli(["set", "wrong", "1"], { password: `${redis.password}x` }), /WRONGPASS/);
    assert.equal(redis.cli(["exists", "wrong"]), "0");
  });

  it("accepts AUTH with the password, and the REDIS_URL", () => {
    const session = redis.cli([], { password: false, input: `AUTH "${redis.password}"\nSET greeting hello\nGET greeting\n` });
    assert.deepEqual(session.split("\n"), ["OK", "OK", "hello"]);
    const url = buildRedisUrl({ password: redis.password, host: HOST, port: redis.port });
    assert.equal(redis.cli(["--no-auth-warning", "-u", url, "get", "greeting"], { password: false }), "hello");
  });

  it("runs with the memory limit, eviction policy and persistence from the conf", () => {
    const config = (name: string) => redis.cli(["config", "get", name]).split("\n")[1];
    assert.equal(config("maxmemory-policy"), "allkeys-lfu");
    assert.equal(Number(config("maxmemory")), parseRedisMemory("64mb"));
    assert.equal(config("appendonly"), "yes");
    assert.equal(config("appendfsync"), "everysec");
    assert.equal(config("protected-mode"), "yes");
    assert.equal(config("dir"), dataDir);
  });

  it("keeps its file-writing settings out of CONFIG SET's reach", () => {
    assert.match(redis.cli(["config", "set", "dir", "/tmp"]), /can't set protected config/);
    assert.match(redis.cli(["config", "set", "dbfilename", "authorized_keys"]), /can't set protected config/);
    assert.equal(redis.cli(["config", "get", "dir"]).split("\n")[1], dataDir);
  });

  it("refuses the disabled commands and keeps the data", () => {
    redis.cli(["set", "survivor", "still-here"]);
    const attempts: Record<(typeof REDIS_DISABLED_COMMANDS)[number], string[]> = {
      FLUSHALL: ["flushall"],
      FLUSHDB: ["flushdb"],
      SHUTDOWN: ["shutdown", "nosave"],
      DEBUG: ["debug", "sleep", "0"],
      MODULE: ["module", "list"],
      REPLICAOF: ["replicaof", HOST, "1"],
      SLAVEOF: ["slaveof", HOST, "1"],
    };
    for (const [command, args] of Object.entries(attempts)) {
      assert.match(redis.cli(args), /^ERR unknown command/, `${command} should be refused`);
    }
    assert.equal(redis.cli(["get", "survivor"]), "still-here");
    assert.match(redis.cli(["info", "replication"]), /role:master/);
  });

  it("appends writes to the AOF", async () => {
    const aofDir = join(dataDir, REDIS_AOF_DIR);
    const incrFiles = () =>
      readdirSync(aofDir)
        .filter((f) => f.endsWith(".incr.aof"))
        .map((f) => join(aofDir, f));
    const aofBytes = () => incrFiles().reduce((sum, f) => sum + statSync(f).size, 0);
    assert.ok(existsSync(join(aofDir, "appendonly.aof.manifest")), "the AOF manifest exists");
    assert.ok(incrFiles().length > 0, "an incremental AOF file exists");
    const before = aofBytes();
    const marker = `aof-marker-${randomBytes(6).toString("hex")}`;
    for (let i = 0; i < 20; i++) redis.cli(["set", `${marker}-${i}`, "x".repeat(100)]);
    await waitFor("the writes to reach the AOF", () => incrFiles().some((f) => readFileSync(f, "utf8").includes(`${marker}-19`)));
    assert.ok(aofBytes() >= before + 20 * 100, `AOF grew from ${before} to ${aofBytes()} bytes`);
  });

  it("reloads its data from the AOF after a crash", async () => {
    const value = randomBytes(8).toString("hex");
    redis.cli(["set", "crash-survivor", value]);
    const aofDir = join(dataDir, REDIS_AOF_DIR);
    await waitFor("the write to reach the AOF", () =>
      readdirSync(aofDir).some((f) => f.endsWith(".incr.aof") && readFileSync(join(aofDir, f), "utf8").includes(value)),
    );
    await redis.stop("SIGKILL");
    // No snapshot was taken, so whatever comes back was replayed from the AOF.
    assert.ok(!existsSync(join(dataDir, "dump.rdb")), "no RDB snapshot exists");
    await redis.start();
    assert.equal(redis.cli(["get", "crash-survivor"]), value);
    assert.equal(redis.cli(["get", "survivor"]), "still-here");
  });

  it("passes the container healthcheck only with the password", () => {
    const [kind, script] = redisHealthcheckTests(settings);
    assert.equal(kind, "CMD-SHELL");
    const env = { ...process.env };
    delete env[REDIS_HEALTHCHECK_PASSWORD_ENV];
    assert.equal(run(["sh", "-c", script], { env }).status, 1, "an unauthenticated PING must fail the check");
    assert.equal(run(["sh", "-c", script], { env: { ...env, [REDIS_HEALTHCHECK_PASSWORD_ENV]: redis.password } }).status, 0);
  });

  it("shuts down cleanly on SIGTERM (docker stop) although SHUTDOWN is disabled", async () => {
    const status = await redis.stop("SIGTERM");
    assert.equal(status, 0, redis.log);
    assert.match(redis.log, /Calling fsync\(\) on the AOF file/);
    assert.match(redis.log, /ready to exit, bye bye/);
  });
});
