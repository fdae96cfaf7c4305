// When redis-password-required takes a Redis container for password-protected: a requirepass
// line Redis would read as one password, in a .conf redis-server is started with, or a
// non-empty --requirepass. The accepted lines are generated from every quoting of the
// password, indentation, spacing between key and value, and line ending (spaces, CRLF); the
// refused ones are commented out, empty, or carry more than one value.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as docker from "@pulumi/docker";
import { redisPasswordRequired } from "../../policies/cache";
import { FakeResource, stackViolations, typeOf } from "../support/policy";

const CONF = "/usr/local/etc/redis/redis.conf";
const NO_PASSWORD =
  "Redis container redis starts without a password: upload a redis.conf with requirepass (components/cache renders one) and pass its path to redis-server";

function redis(props: Record<string, unknown>): FakeResource[] {
  return [
    { type: typeOf(docker.RemoteImage), name: "redis-image", props: { name: "redis:7.4.1-alpine" } },
    { type: typeOf(docker.Container), name: "redis", dependsOn: ["redis-image"], props: { image: "sha256:1f2e3d", ...props } },
  ];
}

const withConf = (content: string) => redis({ command: ["redis-server", CONF], uploads: [{ file: CONF, content }] });
const conf = (line: string) => `bind 0.0.0.0\n${line}\nappendonly yes\n`;

describe("requirepass in the redis.conf", () => {
  it("accepts one password however it is quoted, indented, spaced and ended", async () => {
    for (const value of ["s3cretpassw0rdXYZ", "'s3cretpassw0rdXYZ'", '"s3cretpassw0rdXYZ"'])
      for (const indent of ["", "  ", "\t"])
        for (const gap of [" ", "  ", "\t", " \t "])
          for (const end of ["", "   ", "\r", " \r"]) {
            const line = `${indent}requirepass${gap}${value}${end}`;
            assert.deepEqual(await stackViolations(redisPasswordRequired, withConf(conf(line))), [], JSON.stringify(line));
          }
  });

  it("refuses a commented-out requirepass, with or without a space after the #", async () => {
    for (const line of [
      "#requirepass s3cretpassw0rdXYZ",
      "##requirepass s3cretpassw0rdXYZ",
      "# requirepass s3cretpassw0rdXYZ",
      "#\trequirepass 's3cretpassw0rdXYZ'",
    ])
      assert.deepEqual(await stackViolations(redisPasswordRequired, withConf(conf(line))), [NO_PASSWORD], line);
  });

  it("refuses a requirepass Redis would not read as one password", async () => {
    for (const line of [
      'requirepass ""',
      "requirepass ''",
      "requirepass s3cret passw0rd",
      'requirepass "s3cret" passw0rd',
      "requirepass 's3cret'passw0rd",
      'requirepass s3cretpassw0rd"',
      "requirepass s3cretpassw0rd'",
    ])
      assert.deepEqual(await stackViolations(redisPasswordRequired, withConf(conf(line))), [NO_PASSWORD], line);
  });
});

describe("which files and flags redis-server starts with", () => {
  it("accepts a .conf passed alone, as the official image's entrypoint allows, or after redis-server", async () => {
    for (const command of [[CONF], ["redis-server", CONF], ["redis-server", CONF, "--appendonly", "yes"]]) {
      const stack = redis({ command, uploads: [{ file: CONF, content: conf("requirepass s3cretpassw0rdXYZ") }] });
      assert.deepEqual(await stackViolations(redisPasswordRequired, stack), [], command.join(" "));
    }
  });

  it("does not read a requirepass line in a start script it uploads and runs as a redis.conf", async () => {
    const script = "/usr/local/bin/start-redis.sh";
    const content = `#!/bin/sh\ncat > /tmp/redis.conf <<EOF\nrequirepass $REDIS_PASSWORD\nEOF\nexec redis-server /tmp/redis.conf\n`;
    for (const command of [[script], ["sh", script]]) {
      const stack = redis({ command, uploads: [{ file: script, content }] });
      assert.deepEqual(await stackViolations(redisPasswordRequired, stack), [NO_PASSWORD], command.join(" "));
    }
  });

  it("refuses --requirepass without a value or with an empty one", async () => {
    for (const command of [
      ["redis-server", "--requirepass"],
      ["redis-server", "--requirepass", ""],
      ["redis-server", "--appendonly", "yes", "--requirepass", ""],
    ])
      assert.deepEqual(
        await stackViolations(redisPasswordRequired, redis({ command, uploads: [] })),
        [NO_PASSWORD],
        JSON.stringify(command),
      );
  });

  it("accepts --requirepass with a value wherever it stands", async () => {
    for (const command of [
      ["redis-server", "--requirepass", "s3cretpassw0rdXYZ"],
      ["redis-server", "--appendonly", "yes", "--requirepass", "s3cretpassw0rdXYZ"],
    ])
      assert.deepEqual(await stackViolations(redisPasswordRequired, redis({ command, uploads: [] })), [], JSON.stringify(command));
  });

  it("refuses a container that runs the image's default command, which starts Redis without a conf", async () => {
    assert.deepEqual(
      await stackViolations(redisPasswordRequired, redis({ uploads: [{ file: CONF, content: conf("requirepass s3cretpassw0rdXYZ") }] })),
      [NO_PASSWORD],
    );
  });
});
