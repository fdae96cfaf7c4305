// `npm run check` end to end for the cache: the rendered redis.conf it emits, and the
// pinned-image policy blocking production through the real analyzer.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { emittedCommittedStack } from "../support/check";
import { checkUnsafeVariant } from "../support/unsafe-stacks";
import { committedValue } from "../support/program";

describe("npm run check (cache)", () => {
  it("emits the redis.conf production ships, with a password and the committed memory settings", () => {
    const { report, dir } = emittedCommittedStack("production");
    assert.equal(report.status, 0, report.stderr);
    const conf = readFileSync(path.join(dir, "redis.conf"), "utf8").split("\n");
    const redis = committedValue<{ maxmemory: string; evictionPolicy: string }>("production", "dropstack:redis");
    assert.ok(
      conf.some((line) => /^requirepass "[^"]{32,}"$/.test(line)),
      "requirepass with a generated password",
    );
    assert.ok(conf.includes(`maxmemory ${redis.maxmemory}`));
    assert.ok(conf.includes(`maxmemory-policy ${redis.evictionPolicy}`));
    assert.ok(conf.includes("appendonly yes"));
  });

  it("exits 1 naming redis-image-pinned when production runs redis:7", () => {
    // Production's shared unsafe variant runs redis:7, among other edits (test/support/unsafe-stacks.ts).
    const report = checkUnsafeVariant("production");
    assert.equal(report.status, 1, report.stderr);
    const violation = report.json?.violations.find((v) => v.policy === "redis-image-pinned");
    assert.equal(violation?.enforcementLevel, "mandatory");
    assert.match(violation?.message ?? "", /dropstack:redis\.image/);
  });
});
