// Pure off-site backup settings: bucket name, endpoint and the keep → days mapping.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BACKUP_PREFIX,
  NONCURRENT_RETENTION_DAYS,
  backupBucketName,
  offsiteRetention,
  spacesEndpoint,
} from "../../components/backups/settings";

describe("offsiteRetention", () => {
  it("keeps the newest `keep` copies and every copy under `keep` days, then a noncurrent week, and aborts stale uploads after a day", () => {
    for (const keep of [1, 2, 7, 14, 365]) {
      assert.deepEqual(offsiteRetention(keep), {
        keep,
        days: keep,
        noncurrentDays: NONCURRENT_RETENTION_DAYS,
        abortIncompleteMultipartUploadDays: 1,
      });
    }
  });
  it("rejects a keep that is not a positive integer", () => {
    assert.throws(() => offsiteRetention(0));
    assert.throws(() => offsiteRetention(2.5));
  });
});

describe("spacesEndpoint", () => {
  it("is the regional S3-compatible endpoint", () => {
    assert.equal(spacesEndpoint("fra1"), "https://fra1.digitaloceanspaces.com");
  });
  it("refuses something that is not a region slug", () => {
    assert.throws(() => spacesEndpoint("fra1.evil.example"));
  });
});

describe("backupBucketName", () => {
  it("is the stack name, -backups- and the random suffix", () => {
    assert.equal(backupBucketName("dropstack-production", "a1b2c3d4"), "dropstack-production-backups-a1b2c3d4");
  });
  it("cleans and shortens long or odd stack names but keeps the whole suffix", () => {
    const name = backupBucketName(`My_Project--${"x".repeat(80)}-`, "zz99");
    assert.ok(name.length <= 63, name);
    assert.match(name, /^my-project-x+-backups-zz99$/);
  });
  it("rejects suffixes that would make an invalid or colliding name", () => {
    assert.throws(() => backupBucketName("dropstack", "UPPER"));
    assert.throws(() => backupBucketName("dropstack", ""));
  });
  it("keeps backups under one prefix the lifecycle rule targets", () => {
    assert.equal(BACKUP_PREFIX, "postgres/");
  });
});
