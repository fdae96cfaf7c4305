// Backups bucket policies called directly: a violating and a compliant case each.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as digitalocean from "@pulumi/digitalocean";
import { backupsBucketPrivate, backupsBucketProtected, backupsBucketVersioned } from "../../policies/backups";
import { resourceViolations, typeOf } from "../support/policy";

const BUCKET = typeOf(digitalocean.SpacesBucket);
const good = { name: "dropstack-production-backups-abc", region: "fra1", acl: "private", versioning: { enabled: true } };

describe("policy backups-bucket-private", () => {
  it("flags a public-read bucket", async () => {
    const found = await resourceViolations(backupsBucketPrivate, { type: BUCKET, props: { ...good, acl: "public-read" } });
    assert.equal(found.length, 1);
    assert.match(found[0], /acl: "private"/);
  });
  it("accepts a private bucket, and one left at Spaces' private default", async () => {
    assert.deepEqual(await resourceViolations(backupsBucketPrivate, { type: BUCKET, props: good }), []);
    assert.deepEqual(await resourceViolations(backupsBucketPrivate, { type: BUCKET, props: { ...good, acl: undefined } }), []);
  });
});

describe("policy backups-bucket-protected", () => {
  it("flags an unprotected bucket", async () => {
    assert.equal((await resourceViolations(backupsBucketProtected, { type: BUCKET, props: good })).length, 1);
  });
  it("accepts a protected bucket", async () => {
    assert.deepEqual(await resourceViolations(backupsBucketProtected, { type: BUCKET, props: good, protect: true }), []);
  });
});

describe("policy backups-bucket-versioned", () => {
  it("flags a bucket without versioning", async () => {
    assert.equal(
      (await resourceViolations(backupsBucketVersioned, { type: BUCKET, props: { ...good, versioning: { enabled: false } } })).length,
      1,
    );
    assert.equal((await resourceViolations(backupsBucketVersioned, { type: BUCKET, props: { ...good, versioning: undefined } })).length, 1);
  });
  it("accepts a versioned bucket", async () => {
    assert.deepEqual(await resourceViolations(backupsBucketVersioned, { type: BUCKET, props: good }), []);
  });
});
