import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { evaluatePromotion } from "../../components/promotion/evaluate";
import { imageDigest } from "../../components/common/patterns";
import { runCheck, writeStackVariant } from "../support/check";

const DIGEST_A = `sha256:${"a".repeat(64)}`;
const DIGEST_B = `sha256:${"b".repeat(64)}`;
const base = { stagingStack: "acme/dropstack/staging", allowUnpromoted: false };

describe("promotion rule", () => {
  it("accepts the digest staging promoted, whatever the tag says", () => {
    const verdict = evaluatePromotion({
      ...base,
      productionImage: `ghcr.io/acme/api:2.4.0@${DIGEST_A}`,
      promotedImage: `ghcr.io/acme/api:rc@${DIGEST_A}`,
    });
    assert.equal(verdict.ok, true);
  });
  it("refuses a different digest and says how to override", () => {
    const verdict = evaluatePromotion({
      ...base,
      productionImage: `ghcr.io/acme/api@${DIGEST_B}`,
      promotedImage: `ghcr.io/acme/api@${DIGEST_A}`,
    });
    assert.equal(verdict.ok, false);
    assert.match(verdict.reason, /not the digest staging last deployed and smoke-tested/);
    assert.match(verdict.reason, /promotion\.allowUnpromoted/);
  });
  it("refuses when staging never published a promoted image, or the image has no digest", () => {
    assert.equal(evaluatePromotion({ ...base, productionImage: `ghcr.io/acme/api@${DIGEST_A}`, promotedImage: undefined }).ok, false);
    assert.equal(
      evaluatePromotion({ ...base, productionImage: "ghcr.io/acme/api:latest", promotedImage: `ghcr.io/acme/api@${DIGEST_A}` }).ok,
      false,
    );
  });
  it("lets a deliberate override through", () => {
    assert.equal(
      evaluatePromotion({ ...base, allowUnpromoted: true, productionImage: "ghcr.io/acme/api:hotfix", promotedImage: undefined }).ok,
      true,
    );
  });
  it("extracts digests only from pinned references", () => {
    assert.equal(imageDigest(`r/app:1@${DIGEST_A}`), DIGEST_A);
    assert.equal(imageDigest("r/app:1"), undefined);
  });
});

describe("promotion guard in the program (mocks, via npm run check)", () => {
  const outputsFile = (image: string) => {
    const file = join(tmpdir(), `staging-outputs-${process.pid}-${Math.random().toString(16).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ promotedImage: image }));
    return file;
  };

  it("passes production when staging promoted the same digest", () => {
    const report = runCheck("production", {
      extraArgs: [
        "--staging-outputs",
        outputsFile(`ghcr.io/acme/api:2.4.0@sha256:3f1d2c4b5a69788766554433221100ffeeddccbbaa99887766554433221100ff`),
      ],
    });
    assert.equal(report.status, 0, report.stderr);
    assert.ok(report.json?.resources.some((r) => r.type === "pulumi:pulumi:StackReference"));
  });

  it("fails the preview with a clear message when staging promoted another digest", () => {
    const report = runCheck("production", { json: false, extraArgs: ["--staging-outputs", outputsFile(`ghcr.io/acme/api@${DIGEST_A}`)] });
    assert.equal(report.status, 1);
    assert.match(
      report.stderr,
      /promotion guard: dropstack:app\.image sha256:3f1d.* is not the digest staging last deployed and smoke-tested/,
    );
  });

  it("lets an unpromoted image through when allowUnpromoted is set on purpose", () => {
    const file = writeStackVariant("production", (c) => {
      (c["dropstack:promotion"] as Record<string, unknown>).allowUnpromoted = true;
    });
    const report = runCheck("production", {
      configFile: file,
      extraArgs: ["--staging-outputs", outputsFile(`ghcr.io/acme/api@${DIGEST_A}`)],
    });
    assert.equal(report.status, 0, report.stderr);
  });

  it("requires a staging stack in production unless the override is set", () => {
    const file = writeStackVariant("production", (c) => {
      delete c["dropstack:promotion"];
    });
    const report = runCheck("production", { configFile: file, json: false });
    assert.equal(report.status, 2);
    assert.match(report.stderr, /dropstack:promotion\.stagingStack: required in production/);
  });
});
