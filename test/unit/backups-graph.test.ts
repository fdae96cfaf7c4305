// The Backups component in the whole production program under mocks (backups.offsite: true).
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import type { Graph } from "../../tools/check/harness";
import { ROOT, runStack } from "../support/program";

const BUCKET = "digitalocean:index/spacesBucket:SpacesBucket";
const KEY = "digitalocean:index/spacesKey:SpacesKey";

describe("off-site backups (production, mocks)", () => {
  let graph: Graph;
  let program: Record<string, unknown>;
  before(async () => {
    // No promotion stack: the guard (it reads staging's outputs) stays out of a test about backups.
    ({ graph } = await runStack({
      inThisProcess: true,
      stack: "production",
      override: { "dropstack:promotion": { allowUnpromoted: true } },
    }));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    program = require(path.join(ROOT, "index.ts"));
  });

  it("creates a private, protected, versioned bucket in the stack's region with a unique name", () => {
    const bucket = graph.one(BUCKET);
    assert.equal(bucket.protect, true);
    assert.equal(bucket.inputs.acl, "private");
    assert.equal(bucket.inputs.region, "fra1");
    assert.equal(bucket.inputs.forceDestroy, false);
    assert.deepEqual(bucket.inputs.versioning, { enabled: true });
    assert.match(String(bucket.inputs.name), /^dropstack-production-backups-[a-z0-9]{8}$/);
  });

  it("never expires a current copy by age (the hook prunes, keeping the newest); removes pruned versions a week later", () => {
    const [rule, ...others] = graph.one(BUCKET).inputs.lifecycleRules as Record<string, unknown>[];
    assert.equal(others.length, 0);
    assert.equal(rule.enabled, true);
    assert.equal(rule.prefix, "postgres/");
    // An age rule would empty the bucket of a stack that made no backup for that long.
    assert.equal(rule.expiration, undefined);
    assert.deepEqual(rule.noncurrentVersionExpiration, { days: 7 });
    assert.equal(rule.abortIncompleteMultipartUploadDays, 1);
  });

  it("issues a Spaces key that can read and write this bucket only, its secret kept secret", () => {
    const key = graph.one(KEY);
    const bucket = graph.one(BUCKET);
    assert.deepEqual(key.inputs.grants, [{ bucket: bucket.inputs.name, permission: "readwrite" }]);
    assert.ok(key.propertyDependencies.grants.includes(bucket.urn));
    assert.ok(key.additionalSecretOutputs.includes("secretKey"));
  });

  it("exports the bucket and the regional endpoint for the hooks", async () => {
    const value = <T>(o: pulumi.Output<T>) =>
      new Promise<T>((resolve) =>
        o.apply((v) => {
          resolve(v);
          return v;
        }),
      );
    assert.equal(await value(program.backupsBucket as pulumi.Output<string>), graph.one(BUCKET).inputs.name);
    assert.equal(program.backupsEndpoint, "https://fra1.digitaloceanspaces.com");
  });

  it("adds the bucket to the DigitalOcean project", () => {
    const resources = graph.one("digitalocean:index/project:Project").inputs.resources as string[];
    assert.ok(resources.some((urn) => urn.startsWith("do:space:dropstack-production-backups-")));
  });
});
