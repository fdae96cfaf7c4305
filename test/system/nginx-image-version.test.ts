// The image's nginx, built from the vendored source, reads the production rendering: the
// system tests of nginx.conf (test/system/nginx.test.ts, nginx-edge.test.ts and, behind a load
// balancer, nginx-load-balancer.test.ts) run again with it (DROPSTACK_NGINX), so the upstream
// groups with `resolve`, keepalive and max_fails=0 that only nginx >= 1.27.3 gets are served for
// real, not only by Debian's 1.22 in their variable form.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { IMAGE_NGINX_VERSION } from "../../components/proxy/versions";
import { imageNginxBinary } from "../../tools/lib/nginx-build";
import { localNginxVersion } from "../../tools/lib/nginx-harness";
import { ROOT, TS_NODE } from "../support/program";

const FILES = ["test/system/nginx.test.ts", "test/system/nginx-edge.test.ts", "test/system/nginx-load-balancer.test.ts"];

test(`nginx ${IMAGE_NGINX_VERSION}, the image's, serves the rendering the droplet gets: ${FILES.join(", ")} pass with it`, (t) => {
  const nginx = imageNginxBinary((line) => t.diagnostic(line));
  assert.equal(localNginxVersion(nginx), IMAGE_NGINX_VERSION);
  const result = spawnSync(
    process.execPath,
    [...TS_NODE, "--test", "--test-concurrency=1", "--test-reporter=spec", ...FILES.map((f) => join(ROOT, f))],
    {
      cwd: ROOT,
      // Without NODE_TEST_CONTEXT: set by this file's own runner, it would make the child report to it instead of printing.
      env: { ...withoutTestContext(process.env), DROPSTACK_NGINX: nginx },
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const output = `${result.stdout}${result.stderr}`;
  const count = (what: string) => Number(new RegExp(`^ℹ ${what} (\\d+)$`, "m").exec(output)?.[1] ?? Number.NaN);
  t.diagnostic(`with nginx ${IMAGE_NGINX_VERSION}: ${count("pass")} passed, ${count("fail")} failed`);
  assert.equal(result.status, 0, output.split("\n").slice(-80).join("\n"));
  assert.ok(count("pass") >= 40, `only ${count("pass")} tests ran`);
  assert.equal(count("fail"), 0);
});

function withoutTestContext(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => name !== "NODE_TEST_CONTEXT"));
}
