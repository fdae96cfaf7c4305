// The host's remote commands, run by bash (the deploy user's shell) with stand-ins for the
// droplet's programs on PATH: each stand-in logs its call and answers as the test says.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { renderReadinessCommand } from "../../components/host/cloud-init";
import { requireTools, scopedTempDirs } from "../support/system";

const tempDir = scopedTempDirs(after);
const tools = requireTools([{ command: "bash", debianPackage: "bash" }, { command: "shellcheck", debianPackage: "shellcheck" }]);

/** Writes executables that log "name args" to $STUB_LOG and exit with $STUB_<NAME>_EXIT (default 0). */
function stubs(dir: string, names: string[], extra: Record<string, string> = {}): void {
  for (const name of names) {
    const variable = `STUB_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_EXIT`;
    const file = join(dir, name);
    writeFileSync(file, [
      "#!/bin/bash",
      `echo "${name} $*" >> "$STUB_LOG"`,
      extra[name] ?? "",
      `exit "\${${variable}:-0}"`,
      "",
    ].join("\n"));
    chmodSync(file, 0o755);
  }
}

function shellcheck(script: string): void {
  const file = join(tempDir("host-sc"), "command.sh");
  writeFileSync(file, script);
  const result = spawnSync(tools.shellcheck, ["-s", "bash", file], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stdout);
}

describe("readiness command (cloud-init status --wait)", () => {
  function ready(cloudInitExit: number, marker: boolean, mounted: boolean) {
    const dir = tempDir("host-ready");
    const bin = join(dir, "bin");
    mkdirSync(bin);
    stubs(bin, ["cloud-init", "mountpoint", "docker"], {
      "cloud-init": 'if [ "$1 $2" = "status --long" ]; then echo "status: stand-in detail"; fi',
      docker: "echo 27.5.1",
    });
    const markerFile = join(dir, "ready");
    if (marker) writeFileSync(markerFile, "2026-01-01T00:00:00Z\n");
    const log = join(dir, "log");
    const result = spawnSync(tools.bash, ["-c", renderReadinessCommand(markerFile, "/srv")], {
      encoding: "utf8",
      env: { PATH: `${bin}:/usr/bin:/bin`, STUB_LOG: log, STUB_CLOUD_INIT_EXIT: String(cloudInitExit), STUB_MOUNTPOINT_EXIT: mounted ? "0" : "1" },
    });
    return { ...result, calls: existsSync(log) ? readFileSync(log, "utf8") : "" };
  }

  it("is shellcheck-clean", () => shellcheck(renderReadinessCommand()));

  it("waits for cloud-init before anything else", () => {
    const result = ready(0, true, true);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.calls, /^cloud-init status --wait\n/);
    assert.match(result.stdout, /27\.5\.1/);
  });

  it("accepts done-with-recoverable-errors (exit 2) and shows the warnings", () => {
    const result = ready(2, true, true);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /recoverable errors/);
    assert.match(result.stderr, /stand-in detail/);
  });

  it("fails on a real cloud-init error (exit 1) and on any other status, with the details", () => {
    for (const exit of [1, 3, 127]) {
      const result = ready(exit, true, true);
      assert.equal(result.status, 1, `cloud-init exit ${exit}`);
      assert.match(result.stderr, new RegExp(`cloud-init failed \\(exit ${exit}\\)`));
      assert.match(result.stderr, /stand-in detail/);
      assert.doesNotMatch(result.calls, /^docker/m, "stops before docker");
    }
  });

  it("succeeds only when cloud-init is done (0 or 2), the marker exists and /srv is mounted", () => {
    for (const exit of [0, 1, 2]) {
      for (const marker of [true, false]) {
        for (const mounted of [true, false]) {
          const expected = (exit === 0 || exit === 2) && marker && mounted;
          const result = ready(exit, marker, mounted);
          assert.equal(result.status === 0, expected, `exit ${exit}, marker ${marker}, mounted ${mounted}: ${result.stderr}`);
        }
      }
    }
  });
});
