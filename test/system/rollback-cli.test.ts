// npm run rollback as the deploy job runs it after a failed `pulumi up`, with a stand-in pulumi
// on PATH that records its arguments and fails where a test tells it to.
import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { WATCH_ROLLBACK_MARKER } from "../../components/hooks/commands";
import { runAsync, scopedTempDirs } from "../../tools/lib/system";
import { writeStackVariant } from "../support/check";
import { ROOT, TS_NODE } from "../support/program";

const PREVIOUS = `ghcr.io/acme/api:2.3.9@sha256:${"a".repeat(64)}`;
const BREACHED = `Updating (production)\n  dropstack-production-smoke-watch (command:remote:Command):\n    ${WATCH_ROLLBACK_MARKER} ${PREVIOUS}\nerror: update failed\n`;

describe("npm run rollback", () => {
  const cleanups: (() => void)[] = [];
  after(() => cleanups.forEach((c) => c()));
  const tempDir = scopedTempDirs((c) => cleanups.push(c));

  async function rollback(options: { log: string; rollback: boolean; failOn?: string; stack?: string }) {
    const stack = options.stack ?? "production";
    const dir = tempDir("rollback-cli");
    const calls = join(dir, "calls");
    writeFileSync(
      join(dir, "pulumi"),
      `#!/bin/sh\nprintf '%s\\n' "$*" >>"${calls}"\ncase "$*" in *"$FAIL_ON"*) [ -n "$FAIL_ON" ] && { echo "error: $1 failed" >&2; exit 255; } ;; esac\nexit 0\n`,
    );
    chmodSync(join(dir, "pulumi"), 0o755);
    writeFileSync(join(dir, "up.log"), options.log);
    const configFile = writeStackVariant(stack, (config) => {
      const app = config["dropstack:app"] as Record<string, unknown>;
      app.watch = { seconds: 300, rollback: options.rollback };
    });
    const result = await runAsync(
      [process.execPath, ...TS_NODE, join(ROOT, "tools", "rollback", "main.ts"), stack, join(dir, "up.log"), "--config-file", configFile],
      { env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, FAIL_ON: options.failOn ?? "" }, cwd: ROOT },
    );
    return { ...result, calls: existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n") : [] };
  }

  it("rolls production back as the runbook does, the promotion override set for that update only", async () => {
    const r = await rollback({ log: BREACHED, rollback: true });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(r.calls, [
      `config set --path dropstack:app.image ${PREVIOUS} --stack production`,
      "config set --path dropstack:promotion.allowUnpromoted true --stack production",
      "up --stack production --yes --non-interactive --policy-pack policies --policy-pack-config policies/production.json",
      "config set --path dropstack:promotion.allowUnpromoted false --stack production",
    ]);
    assert.match(r.stdout, /^rollback: production back to ghcr\.io\/acme\/api:2\.3\.9@sha256:a{64}/m);
    assert.match(r.stdout, /\[3\/4\] deploy it: backup, migrate, rollout, smoke test/);
    assert.match(r.stdout, /Pulumi\.production\.yaml in this checkout now names it: commit that change/);
  });

  it("a failed rollback up still sets the override back, and says where it failed", async () => {
    const r = await rollback({ log: BREACHED, rollback: true, failOn: "up --stack" });
    assert.equal(r.status, 1);
    assert.equal(r.calls.length, 4, r.calls.join("\n"));
    assert.equal(r.calls[3], "config set --path dropstack:promotion.allowUnpromoted false --stack production");
    assert.match(r.stderr, /rollback: failed at "deploy it: backup, migrate, rollout, smoke test"/);
    const cleanup = await rollback({ log: BREACHED, rollback: true, failOn: "allowUnpromoted false" });
    assert.equal(cleanup.status, 1);
    assert.match(
      cleanup.stderr,
      /could not set dropstack:promotion\.allowUnpromoted back to false: run `pulumi config set --path dropstack:promotion\.allowUnpromoted false --stack production` by hand/,
    );
  });

  it("does nothing (exit 3) when the stack has not opted in or the update failed elsewhere", async () => {
    const off = await rollback({ log: BREACHED, rollback: false });
    assert.equal(off.status, 3);
    assert.deepEqual(off.calls, []);
    assert.match(off.stdout, /named ghcr\.io\/acme\/api:2\.3\.9@sha256:a{64}, but dropstack:app\.watch\.rollback is off for production/);
    const elsewhere = await rollback({ log: "error: the migration failed\n", rollback: true });
    assert.equal(elsewhere.status, 3);
    assert.deepEqual(elsewhere.calls, []);
    assert.match(elsewhere.stdout, /did not fail at the post-deploy watch/);
  });

  it("refuses (exit 2) an image that is not the digest that ran, running nothing", async () => {
    const r = await rollback({ log: `${WATCH_ROLLBACK_MARKER} ghcr.io/acme/api:latest\n`, rollback: true, stack: "staging" });
    assert.equal(r.status, 2);
    assert.deepEqual(r.calls, []);
    assert.match(r.stderr, /rollback: rolling back to ghcr\.io\/acme\/api:latest: not pinned by @sha256 digest/);
  });
});
