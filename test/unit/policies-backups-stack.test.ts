// Backups policies' full messages, the off-site check on stacks with and without a database
// (every other kind of resource the stack declares, alone), and the retention check on every
// shape of dropstack:backups that holds no number to judge.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import * as digitalocean from "@pulumi/digitalocean";
import { backupsBucketProtected, backupsBucketVersioned, backupsOffsiteEnabled, backupsRetentionMinimum } from "../../policies/backups";
import { setStackConfig } from "../../policies/stack-config";
import { resourceViolations, stackViolations, typeOf } from "../support/policy";

const BUCKET = typeOf(digitalocean.SpacesBucket);
const good = { name: "dropstack-production-backups-abc", region: "fra1", acl: "private", versioning: { enabled: true } };

describe("backups bucket messages", () => {
  it("says how to protect the bucket", async () => {
    assert.deepEqual(await resourceViolations(backupsBucketProtected, { type: BUCKET, props: good }), [
      "set `protect: true` on the backups bucket so `pulumi destroy` or a replace cannot delete the off-site copies",
    ]);
  });
  it("says how to turn versioning on, whatever shape the setting has", async () => {
    for (const versioning of [undefined, { enabled: false }, { enabled: "true" }, {}, true]) {
      assert.deepEqual(
        await resourceViolations(backupsBucketVersioned, { type: BUCKET, props: { ...good, versioning }, protect: true }),
        ["versioning is off: set versioning: { enabled: true } on the backups bucket"],
        JSON.stringify(versioning),
      );
    }
  });
});

describe("backups-offsite-enabled on stacks without a database", () => {
  it("asks for no bucket where no database cluster is declared", async () => {
    for (const type of [
      typeOf(digitalocean.Droplet),
      typeOf(digitalocean.Volume),
      typeOf(digitalocean.Vpc),
      typeOf(digitalocean.DatabaseFirewall),
      typeOf(digitalocean.DatabaseConnectionPool),
      "pulumi:pulumi:Stack",
    ]) {
      assert.deepEqual(await stackViolations(backupsOffsiteEnabled, [{ type, name: "r", props: {} }]), [], type);
    }
  });
});

describe("backups-retention-minimum without a number to judge", () => {
  // Files may share a process: leave the config as empty as the other policy tests do.
  after(() => setStackConfig({}, []));
  it("passes a dropstack:backups that is unset, not JSON, or has no numeric keep", async () => {
    for (const value of [undefined, "", "not json", "null", "[]", "{}", '{"offsite":true}', '{"keep":"3"}', '{"keep":null}']) {
      setStackConfig(value === undefined ? {} : { "dropstack:backups": value }, []);
      assert.deepEqual(await stackViolations(backupsRetentionMinimum, []), [], String(value));
    }
  });
  it("still refuses a keep below the minimum next to other settings", async () => {
    setStackConfig({ "dropstack:backups": '{"offsite":false,"keep":0,"schedule":"daily"}' }, []);
    assert.deepEqual(await stackViolations(backupsRetentionMinimum, []), ["dropstack:backups.keep is 0: keep at least 7 verified backups"]);
  });
});
