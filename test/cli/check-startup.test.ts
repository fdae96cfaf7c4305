// `npm run check -- --help`, and a command line the check refuses, answer before the
// program, Pulumi and gRPC load (about a second of CPU): only an accepted command line
// loads them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ROOT, TS_NODE } from "../support/program";

const work = mkdtempSync(join(tmpdir(), "dropstack-check-startup-"));
// Preloaded after the check's own preload: on exit, records whether @pulumi/pulumi was loaded.
const probe = join(work, "probe.cjs");
writeFileSync(
  probe,
  `process.once("exit", () => require("node:fs").writeFileSync(process.env.PROBE_OUT, JSON.stringify(Object.keys(require.cache).some((f) => f.includes("/node_modules/@pulumi/pulumi/")))));\n`,
);

function check(args: string[]): { status: number | null; stderr: string; pulumiLoaded: boolean } {
  const out = join(work, `loaded-${args.join("_").replace(/\W/g, "")}.json`);
  const result = spawnSync(process.execPath, [...TS_NODE, "--require", probe, join(ROOT, "tools/check/main.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, PROBE_OUT: out },
  });
  return { status: result.status, stderr: result.stderr, pulumiLoaded: JSON.parse(readFileSync(out, "utf8")) as boolean };
}

describe("npm run check start-up", () => {
  it("answers --help, an unknown flag, an unknown stack and a bad stack name without loading Pulumi", () => {
    const cases: [string[], number][] = [
      [["--help"], 0],
      [["staging", "--no-such-flag"], 2],
      [["no-such-stack"], 2],
      [["../staging"], 2],
    ];
    for (const [args, status] of cases) {
      const run = check(args);
      assert.equal(run.status, status, `${args.join(" ")}: ${run.stderr}`);
      assert.equal(run.pulumiLoaded, false, `${args.join(" ")} loaded @pulumi/pulumi`);
    }
  });

  it("loads the program for an accepted command line (a missing --config-file is found by the check itself)", () => {
    const run = check(["staging", "--config-file", join(work, "no-such-stack-file.yaml")]);
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /no-such-stack-file\.yaml/);
    assert.equal(run.pulumiLoaded, true);
  });
});
