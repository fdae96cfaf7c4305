// The hook scripts run unattended on the droplet, so they are held to shellcheck with
// sourced files followed (-x), and to bash's strict mode.
import { test } from "node:test";
import assert from "node:assert/strict";
import { accessSync, constants, readFileSync } from "node:fs";
import { join } from "node:path";
import { requireTools, run } from "../../tools/lib/system";

const HOOKS = join(__dirname, "..", "..", "components", "hooks");
// handoff.sh (the migrate hook's host side), smoke.sh and watch.sh are rendered into their Commands with parameters pinned.
const SCRIPTS = [
  "backup.sh",
  "restore.sh",
  "migrate.sh",
  "handoff.sh",
  "smoke.sh",
  "verify.sh",
  "watch.sh",
  "drill.sh",
  "backup-check.sh",
].map((name) => join(HOOKS, name));

test("shellcheck -x passes on the hook scripts and the library they source", () => {
  const { shellcheck } = requireTools([{ command: "shellcheck", debianPackage: "shellcheck" }]);
  const result = run([shellcheck, "-x", "--severity=style", ...SCRIPTS, join(HOOKS, "lib.sh")]);
  assert.equal(result.status, 0, result.stdout + result.stderr);
});

test("each hook script is an executable bash script in strict mode", () => {
  for (const script of SCRIPTS) {
    const lines = readFileSync(script, "utf8").split("\n");
    assert.equal(lines[0], "#!/usr/bin/env bash", script);
    assert.ok(lines.includes("set -euo pipefail"), `${script} lacks set -euo pipefail`);
    accessSync(script, constants.X_OK);
  }
});
