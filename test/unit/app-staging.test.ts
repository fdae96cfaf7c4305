// Staging deploys a tag: the pull resolves it to a digest, and everything runs that digest.
// It keeps backups on the volume only and smoke-tests against the ACME staging CA.
import assert from "node:assert/strict";
import { shellQuote } from "../../components/common/shell";
import { before, describe, it } from "node:test";
import type { Graph } from "../../tools/check/harness";
import { committedValue, runStack } from "../support/program";

const app = committedValue<{ image: string; migrate: string }>("staging", "dropstack:app");

describe("app and hooks (staging, mocks)", () => {
  let graph: Graph;
  let outputs: Record<string, unknown>;
  let resolved: string;

  before(async () => {
    ({ graph, outputs } = await runStack({ stack: "staging" }));
    resolved = String(graph.one("docker:index/remoteImage:RemoteImage", "-app-image").outputs.repoDigest);
  });

  it("pulls the configured tag once; the containers run what was pulled and the migration its digest", () => {
    assert.ok(!app.image.includes("@sha256:"), "staging's committed image is a tag");
    const pulled = graph.one("docker:index/remoteImage:RemoteImage", "-app-image");
    assert.equal(pulled.inputs.name, app.image);
    assert.match(resolved, /@sha256:[a-f0-9]{64}$/);
    for (const c of graph.ofType("docker:index/container:Container").filter((c) => /-(api-\d+|worker-.+)$/.test(c.name))) {
      assert.equal(c.inputs.image, pulled.outputs.imageId, c.name);
    }
    const migrate = graph.one("command:remote:Command", "-migrate");
    // handoff.sh runs "$APP_IMAGE" sh -c "$MIGRATION"; the rendered Command pins both.
    assert.ok(String(migrate.inputs.create).includes(`\nAPP_IMAGE=${shellQuote(resolved)}\n`));
    assert.ok(String(migrate.inputs.create).includes(`\nMIGRATION=${shellQuote(app.migrate)}\n`));
    assert.deepEqual(migrate.inputs.triggers, [resolved, app.migrate]);
    assert.equal(outputs.promotedImage, resolved, "staging promotes the digest it smoke-tested, not the tag");
  });

  it("keeps backups on the volume when backups.offsite is off", () => {
    const backup = graph.one("command:remote:Command", "-backup");
    assert.ok(!String(backup.inputs.create).includes("rclone"));
    assert.equal(String(backup.inputs.stdin).split("\n").filter(Boolean).length, 1, "only the database URL on stdin");
  });

  it("smoke-tests without verifying the certificate, which comes from the ACME staging CA", () => {
    assert.match(String(graph.one("command:remote:Command", "-smoke").inputs.create), /--insecure/);
  });
});
