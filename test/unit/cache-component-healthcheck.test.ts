// The Redis container's healthcheck reads the password from the uploaded redis.conf at run
// time. Run through /bin/sh as Docker runs CMD-SHELL, against the real rendered file, with
// a stand-in redis-cli that answers like the real one (PONG only when authenticated,
// an error text but exit status 0 otherwise).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { REDIS_CONF_PATH, redisConfigProblems, redisHealthcheckCommand } from "../../components/cache";
import { renderRedisConf } from "../../components/cache/render";

const dir = mkdtempSync(path.join(tmpdir(), "dropstack-redis-health-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// Every shell-special character redis.conf allows in a password.
const PASSWORD = "pw$(touch${IFS}pwned)&;|*?[x]{y}<z>!#%^~=+,:/@end";

const binDir = path.join(dir, "bin");
const seenAuth = path.join(dir, "seen-auth");
function installFakeRedisCli(expectedPassword: string) {
  mkdirSync(binDir, { recursive: true });
  const expectedFile = path.join(dir, "expected");
  writeFileSync(expectedFile, expectedPassword);
  const script = [
    "#!/bin/sh",
    `printf '%s' "$REDISCLI_AUTH" > '${seenAuth}'`,
    `[ "$*" = "-h 127.0.0.1 -p 6379 ping" ] || { echo "unexpected arguments: $*"; exit 2; }`,
    `if [ "$REDISCLI_AUTH" = "$(cat '${expectedFile}')" ]; then echo PONG; else echo "NOAUTH Authentication required."; fi`,
  ].join("\n");
  writeFileSync(path.join(binDir, "redis-cli"), script + "\n");
  chmodSync(path.join(binDir, "redis-cli"), 0o755);
}

function runHealthcheck(confPath: string) {
  const [kind, script] = redisHealthcheckCommand(confPath);
  assert.equal(kind, "CMD-SHELL");
  return spawnSync("/bin/sh", ["-c", script], { cwd: dir, env: { PATH: `${binDir}:/usr/bin:/bin` }, encoding: "utf8" });
}

function writeConf(password: string): string {
  const file = path.join(dir, `redis-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(file, renderRedisConf({ password, maxmemory: "64mb", evictionPolicy: "noeviction", bind: "0.0.0.0" }));
  return file;
}

describe("Redis container healthcheck", () => {
  it("uses the uploaded redis.conf by default", () => {
    assert.match(redisHealthcheckCommand()[1], new RegExp(` ${REDIS_CONF_PATH.replace(/[./]/g, "\\$&")}\\)`));
  });

  it("passes with the password from redis.conf, passed to redis-cli exactly and never run as shell", () => {
    installFakeRedisCli(PASSWORD);
    const result = runHealthcheck(writeConf(PASSWORD));
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(seenAuth, "utf8"), PASSWORD);
    assert.ok(!existsSync(path.join(dir, "pwned")), "nothing in the password was executed");
  });

  it("fails when Redis does not accept the password (redis-cli still exits 0)", () => {
    installFakeRedisCli("the-password-redis-actually-has");
    const result = runHealthcheck(writeConf(PASSWORD));
    assert.equal(result.status, 1);
  });

  it("fails when the config cannot be read", () => {
    installFakeRedisCli(PASSWORD);
    assert.notEqual(runHealthcheck(path.join(dir, "missing.conf")).status, 0);
  });
});

describe("redisConfigProblems", () => {
  it("accepts the schema defaults", () => {
    assert.deepEqual(redisConfigProblems({ maxmemory: "256mb", evictionPolicy: "noeviction" }), []);
  });

  it("names each bad setting by its config key", () => {
    const problems = redisConfigProblems({ maxmemory: "lots", evictionPolicy: "lru" });
    assert.equal(problems.length, 2);
    assert.match(problems[0], /^dropstack:redis\.maxmemory: expected a size like 256mb/);
    assert.match(problems[1], /^dropstack:redis\.evictionPolicy: expected one of noeviction/);
  });
});
