// The Observability component's own commands on the droplet, run by bash and read by shellcheck:
// the deploy marker writes one JSON line whatever the image reference holds.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { renderDeployMarkerCommand, renderPrepareCommand } from "../../components/observability/droplet";
import { SERVICE_DATA_DIRS } from "../../components/observability/settings";

const dir = mkdtempSync(path.join(tmpdir(), "dropstack-observability-"));

describe("deploy marker", () => {
  it("appends one JSON line per deploy, with the image and stack verbatim and the droplet's UTC time", () => {
    const log = path.join(dir, "deploys.log");
    const images = ["ghcr.io/acme/api@sha256:" + "a".repeat(64), `it's "quoted" $(touch ${dir}/pwned) \`x\` \\ back`, "ünïcode %s %d\\n"];
    for (const image of images) execFileSync("bash", ["-c", renderDeployMarkerCommand({ image, stack: "prod'uction" }, log)]);
    const lines = readFileSync(log, "utf8").split("\n");
    assert.equal(lines.pop(), "", "the file ends with a newline");
    assert.equal(lines.length, images.length);
    lines.forEach((line, i) => {
      const marker = JSON.parse(line) as { image: string; stack: string; at: string };
      assert.deepEqual(Object.keys(marker), ["image", "stack", "at"]);
      assert.equal(marker.image, images[i]);
      assert.equal(marker.stack, "prod'uction");
      assert.match(marker.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.ok(Math.abs(Date.parse(marker.at) - Date.now()) < 120_000);
    });
    assert.throws(() => readFileSync(path.join(dir, "pwned")), "nothing in the image reference runs");
  });

  it("fails when the log cannot be written, so the deploy reports it", () => {
    assert.throws(() =>
      execFileSync("bash", ["-c", renderDeployMarkerCommand({ image: "x", stack: "s" }, path.join(dir, "missing", "deploys.log"))], {
        stdio: "pipe",
      }),
    );
  });
});

describe("shellcheck", () => {
  it("passes both commands", () => {
    for (const [name, script] of [
      ["prepare", renderPrepareCommand()],
      ["marker", renderDeployMarkerCommand({ image: "ghcr.io/acme/api:1", stack: "production" })],
    ]) {
      const file = path.join(dir, `${name}.sh`);
      writeFileSync(file, `#!/usr/bin/env bash\n${script}\n`);
      execFileSync("shellcheck", ["--severity=style", file], { stdio: "pipe" });
    }
  });

  it("creates every service's data folder, owned by the user its image runs as", () => {
    const script = renderPrepareCommand();
    for (const [service, folder] of Object.entries(SERVICE_DATA_DIRS))
      assert.match(script, new RegExp(`-o \\d+ -g \\d+ '${folder}'$`, "m"), service);
    assert.match(script, /-o 65534 -g 65534 '\/srv\/observability\/prometheus'$/m);
    assert.match(script, /-o 472 -g 0 '\/srv\/observability\/grafana'$/m);
    assert.match(script, /-o 10001 -g 10001 '\/srv\/observability\/loki'$/m);
    assert.match(script, /-o deploy -g deploy '\/srv\/observability\/deploys'$/m);
  });
});
