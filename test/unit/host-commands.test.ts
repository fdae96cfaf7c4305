// The host's remote commands, run by bash (the deploy user's shell) with stand-ins for the
// droplet's programs on PATH: each stand-in logs its call and answers as the test says.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { renderDataReleaseCommand, renderReadinessCommand } from "../../components/host/cloud-init";
import { requireTools, scopedTempDirs } from "../../tools/lib/system";

const tempDir = scopedTempDirs(after);
const tools = requireTools([
  { command: "bash", debianPackage: "bash" },
  { command: "shellcheck", debianPackage: "shellcheck" },
]);

/** Writes executables that log "name args" to $STUB_LOG and exit with $STUB_<NAME>_EXIT (default 0). */
function stubs(dir: string, names: string[], extra: Record<string, string> = {}): void {
  for (const name of names) {
    const variable = `STUB_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_EXIT`;
    const file = join(dir, name);
    writeFileSync(file, ["#!/bin/bash", `echo "${name} $*" >> "$STUB_LOG"`, extra[name] ?? "", `exit "\${${variable}:-0}"`, ""].join("\n"));
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
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        STUB_LOG: log,
        STUB_CLOUD_INIT_EXIT: String(cloudInitExit),
        STUB_MOUNTPOINT_EXIT: mounted ? "0" : "1",
      },
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

describe("data release command (before the volume is detached)", () => {
  interface Scenario {
    running: string[];
    mounted: boolean;
    umountFails?: boolean;
    stopFails?: boolean;
  }

  function release(s: Scenario) {
    const dir = tempDir("host-release");
    const bin = join(dir, "bin");
    mkdirSync(bin);
    stubs(bin, ["docker", "sudo", "systemctl", "sync", "mountpoint", "umount", "fuser"], {
      docker: `if [ "$1 $2" = "ps -q" ]; then printf '%s' "$RUNNING"; fi`,
      // sudo -n runs the rest of its arguments, as on the droplet (deploy has NOPASSWD).
      sudo: 'if [ "$1" = "-n" ]; then shift; fi; "$@"; exit $?',
      fuser: 'echo "/srv: 4242 redis-server" >&2',
    });
    const log = join(dir, "log");
    const result = spawnSync(tools.bash, ["-c", renderDataReleaseCommand("/srv")], {
      encoding: "utf8",
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        STUB_LOG: log,
        RUNNING: s.running.map((id) => `${id}\n`).join(""),
        STUB_MOUNTPOINT_EXIT: s.mounted ? "0" : "1",
        STUB_UMOUNT_EXIT: s.umountFails ? "32" : "0",
        STUB_DOCKER_EXIT: s.stopFails ? "1" : "0",
      },
    });
    const lines = existsSync(log)
      ? readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .map((l) => l.trimEnd())
      : [];
    return { ...result, calls: lines.filter((l) => !l.startsWith("sudo ")), privileged: lines.filter((l) => l.startsWith("sudo ")) };
  }

  it("is shellcheck-clean", () => shellcheck(renderDataReleaseCommand()));

  it("stops every running container, then Docker, then unmounts /srv, in that order", () => {
    for (const running of [["a1b2c3"], ["a1b2c3", "d4e5f6", "0a0b0c"]]) {
      const result = release({ running, mounted: true });
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(result.calls, [
        "docker ps -q",
        `docker stop ${running.join(" ")}`,
        "systemctl stop docker.socket docker.service",
        "sync",
        "mountpoint -q /srv",
        "umount /srv",
      ]);
      assert.deepEqual(
        result.privileged,
        ["sudo -n systemctl stop docker.socket docker.service", "sudo -n umount /srv"],
        "never prompts for a password",
      );
      assert.match(result.stdout, /\/srv released/);
      assert.match(result.stderr, new RegExp(`^dropstack: stopping ${running.length} container\\(s\\) before /srv is detached$`, "m"));
    }
  });

  it("with nothing running or /srv already unmounted, still succeeds (a retried delete is safe)", () => {
    const idle = release({ running: [], mounted: true });
    assert.equal(idle.status, 0, idle.stderr);
    assert.ok(!idle.calls.some((c) => c.startsWith("docker stop")));
    assert.ok(idle.calls.includes("umount /srv"));
    const unmounted = release({ running: ["a1"], mounted: false });
    assert.equal(unmounted.status, 0, unmounted.stderr);
    assert.ok(!unmounted.calls.includes("umount /srv"));
  });

  it("fails, naming what holds /srv, when the unmount fails: the volume is not detached under a live mount", () => {
    const result = release({ running: ["a1"], mounted: true, umountFails: true });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /\/srv is busy/);
    assert.match(result.stderr, /4242 redis-server/);
    assert.doesNotMatch(result.stdout, /released/);
  });

  it("fails before touching the mount when a container cannot be stopped", () => {
    const result = release({ running: ["a1"], mounted: true, stopFails: true });
    assert.notEqual(result.status, 0);
    assert.ok(!result.calls.includes("umount /srv"));
  });
});
