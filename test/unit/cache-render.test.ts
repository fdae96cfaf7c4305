import { test } from "node:test";
import assert from "node:assert/strict";
import {
  REDIS_DISABLED_COMMANDS,
  REDIS_EVICTION_POLICIES,
  buildRedisUrl,
  describeMaxmemoryProblem,
  parseRedisMemory,
  redisHealthcheckTests,
  renderRedisConf,
  validateRedisSettings,
  type RedisSettings,
} from "../../components/cache/render";

const PASSWORD = "s3cret-Pass.word~with!specials";
const valid: RedisSettings = { password: PASSWORD, maxmemory: "256mb", evictionPolicy: "allkeys-lru", bind: "0.0.0.0" };

/** The directives of a rendered file as [name, ...args] with comments and blank lines dropped. */
function directives(conf: string): string[][] {
  return conf
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => line.split(" "));
}

function valuesOf(conf: string, name: string): string[] {
  return directives(conf)
    .filter(([directive]) => directive === name)
    .map((args) => args.slice(1).join(" "));
}

test("the conf carries the password, AOF settings, memory limit and protected mode", () => {
  const conf = renderRedisConf(valid);
  assert.deepEqual(valuesOf(conf, "requirepass"), [`"${PASSWORD}"`]);
  assert.deepEqual(valuesOf(conf, "appendonly"), ["yes"]);
  assert.deepEqual(valuesOf(conf, "appendfsync"), ["everysec"]);
  assert.deepEqual(valuesOf(conf, "maxmemory"), ["256mb"]);
  assert.deepEqual(valuesOf(conf, "maxmemory-policy"), ["allkeys-lru"]);
  assert.deepEqual(valuesOf(conf, "protected-mode"), ["yes"]);
  assert.deepEqual(valuesOf(conf, "bind"), ["0.0.0.0"]);
});

test("defaults are port 6379 and data dir /data; both can be overridden", () => {
  const defaults = renderRedisConf(valid);
  assert.deepEqual(valuesOf(defaults, "port"), ["6379"]);
  assert.deepEqual(valuesOf(defaults, "dir"), ['"/data"']);
  const custom = renderRedisConf({ ...valid, port: 16380, dataDir: "/var/lib/redis" });
  assert.deepEqual(valuesOf(custom, "port"), ["16380"]);
  assert.deepEqual(valuesOf(custom, "dir"), ['"/var/lib/redis"']);
});

test("every dangerous command is renamed away and CONFIG is kept", () => {
  const conf = renderRedisConf(valid);
  const renamed = valuesOf(conf, "rename-command");
  for (const command of ["FLUSHALL", "FLUSHDB", "SHUTDOWN", "DEBUG", "MODULE", "REPLICAOF", "SLAVEOF"]) {
    assert.ok(renamed.includes(`${command} ""`), `${command} should be disabled`);
  }
  assert.equal(renamed.length, REDIS_DISABLED_COMMANDS.length);
  assert.ok(!renamed.some((r) => /^(CONFIG|AUTH|PING) /.test(r)), "the healthcheck and tooling commands stay");
  assert.deepEqual(valuesOf(conf, "enable-protected-configs"), ["no"]);
  assert.deepEqual(valuesOf(conf, "enable-debug-command"), ["no"]);
  assert.deepEqual(valuesOf(conf, "enable-module-command"), ["no"]);
});

test("the server stays in the foreground and logs to stdout for the container", () => {
  const conf = renderRedisConf(valid);
  assert.ok(!/daemonize/i.test(conf));
  assert.deepEqual(valuesOf(conf, "logfile"), ['""']);
});

test("every eviction policy is accepted and written as given", () => {
  assert.equal(REDIS_EVICTION_POLICIES.length, 8);
  for (const evictionPolicy of REDIS_EVICTION_POLICIES) {
    assert.deepEqual(validateRedisSettings({ ...valid, evictionPolicy }), []);
    assert.deepEqual(valuesOf(renderRedisConf({ ...valid, evictionPolicy }), "maxmemory-policy"), [evictionPolicy]);
  }
});

test("valid settings have no problems", () => {
  assert.deepEqual(validateRedisSettings(valid), []);
  assert.deepEqual(validateRedisSettings({ ...valid, bind: "::", port: 1, dataDir: "/srv/redis-data_1" }), []);
});

test("an unknown eviction policy is a problem naming the allowed ones", () => {
  const problems = validateRedisSettings({ ...valid, evictionPolicy: "lru" });
  assert.equal(problems.length, 1);
  assert.equal(problems[0].setting, "evictionPolicy");
  assert.match(problems[0].message, /expected one of noeviction, allkeys-lru.*got "lru"/);
});

test("maxmemory must be a Redis size of at least 1mb", () => {
  for (const bad of ["lots", "256 mb", "256MiB", "-1mb", "1.5gb", "", "99999999999999999999gb"]) {
    const problems = validateRedisSettings({ ...valid, maxmemory: bad });
    assert.deepEqual(
      problems.map((p) => p.setting),
      ["maxmemory"],
      `"${bad}" should be refused`,
    );
  }
  assert.match(describeMaxmemoryProblem("0") ?? "", /no limit/);
  assert.match(describeMaxmemoryProblem("512kb") ?? "", /at least 1mb/);
  for (const good of ["1mb", "256mb", "1gb", "2G", "512m", "1048576", "4096kb"]) {
    assert.equal(describeMaxmemoryProblem(good), undefined, `"${good}" should be accepted`);
  }
});

test("sizes use Redis units: k/m/g are powers of 1000, kb/mb/gb powers of 1024", () => {
  assert.equal(parseRedisMemory("256mb"), 256 * 1024 * 1024);
  assert.equal(parseRedisMemory("256MB"), 256 * 1024 * 1024);
  assert.equal(parseRedisMemory("256m"), 256_000_000);
  assert.equal(parseRedisMemory("1gb"), 1024 ** 3);
  assert.equal(parseRedisMemory("3k"), 3000);
  assert.equal(parseRedisMemory("3kb"), 3072);
  assert.equal(parseRedisMemory("12345"), 12345);
  assert.equal(parseRedisMemory("12345b"), 12345);
  assert.equal(parseRedisMemory("1tb"), undefined);
  assert.equal(parseRedisMemory("mb"), undefined);
});

test("short passwords are refused", () => {
  const problems = validateRedisSettings({ ...valid, password: "short-pass" });
  assert.deepEqual(
    problems.map((p) => p.setting),
    ["password"],
  );
  assert.match(problems[0].message, /at least 16 characters, got 10/);
  assert.deepEqual(
    validateRedisSettings({ ...valid, password: "" }).map((p) => p.setting),
    ["password"],
  );
});

test("passwords that would break out of the quoted requirepass value are refused", () => {
  const padding = "abcdefghijklmnopqrstuvwxyz";
  for (const bad of [' "', "'", "`", "\\", " ", "\t", "\nrename-command CONFIG x", "é"]) {
    const password = padding + bad;
    const problems = validateRedisSettings({ ...valid, password });
    assert.deepEqual(
      problems.map((p) => p.setting),
      ["password"],
      `${JSON.stringify(bad)} should be refused`,
    );
    assert.throws(() => renderRedisConf({ ...valid, password }), /password/);
  }
});

test("problem messages and render errors never contain the password", () => {
  const password = "Wrong pass word that leaks";
  const problems = validateRedisSettings({ ...valid, password, maxmemory: "x" });
  assert.ok(problems.length >= 2);
  for (const problem of problems) assert.ok(!problem.message.includes(password));
  assert.throws(
    () => renderRedisConf({ ...valid, password, maxmemory: "x" }),
    (error: Error) => !error.message.includes(password) && /password: .*; maxmemory: /.test(error.message),
  );
});

test("bind, port and data dir are checked", () => {
  const problems = validateRedisSettings({ ...valid, bind: "localhost", port: 70000, dataDir: "data dir" });
  assert.deepEqual(problems.map((p) => p.setting).sort(), ["bind", "dataDir", "port"]);
  assert.deepEqual(
    validateRedisSettings({ ...valid, dataDir: "/data\nrequirepass x" }).map((p) => p.setting),
    ["dataDir"],
  );
  assert.deepEqual(
    validateRedisSettings({ ...valid, port: 6379.5 }).map((p) => p.setting),
    ["port"],
  );
});

test("render lists every problem at once", () => {
  assert.throws(
    () => renderRedisConf({ password: "x", maxmemory: "lots", evictionPolicy: "random", bind: "any" }),
    (error: Error) => ["password", "maxmemory", "evictionPolicy", "bind"].every((s) => error.message.includes(`${s}: `)),
  );
});

test("the Redis URL names the default user and percent-encodes the password", () => {
  const password = "p@ss:w/rd?#%[]";
  const url = buildRedisUrl({ password, host: "redis", port: 6380 });
  assert.equal(url, "redis://default:p%40ss%3Aw%2Frd%3F%23%25%5B%5D@redis:6380/0");
  const parsed = new URL(url);
  assert.equal(decodeURIComponent(parsed.password), password);
  assert.equal(parsed.username, "default");
  assert.equal(parsed.hostname, "redis");
  assert.equal(parsed.port, "6380");
  assert.equal(parsed.pathname, "/0");
});

test("the Redis URL defaults to port 6379 and db 0, and brackets IPv6 hosts", () => {
  assert.equal(buildRedisUrl({ password: "abc", host: "10.0.0.5" }), "redis://default:abc@10.0.0.5:6379/0");
  assert.equal(buildRedisUrl({ password: "abc", host: "::1", db: 2 }), "redis://default:abc@[::1]:6379/2");
  assert.throws(() => buildRedisUrl({ password: "abc", host: "evil@host" }), /host/);
  assert.throws(() => buildRedisUrl({ password: "abc", host: "" }), /host/);
  assert.throws(() => buildRedisUrl({ password: "abc", host: "redis", port: 0 }), /port/);
});

test("the healthcheck pings on loopback when Redis binds a wildcard, and checks for PONG", () => {
  assert.deepEqual(redisHealthcheckTests({ bind: "0.0.0.0" }), ["CMD-SHELL", "redis-cli -h 127.0.0.1 -p 6379 ping | grep -qx PONG"]);
  assert.deepEqual(redisHealthcheckTests({ bind: "::", port: 6380 }), ["CMD-SHELL", "redis-cli -h ::1 -p 6380 ping | grep -qx PONG"]);
  assert.deepEqual(redisHealthcheckTests({ bind: "10.1.2.3" }), ["CMD-SHELL", "redis-cli -h 10.1.2.3 -p 6379 ping | grep -qx PONG"]);
  assert.throws(() => redisHealthcheckTests({ bind: "$(reboot)" }), /IP address/);
});
