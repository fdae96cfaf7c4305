import * as digitalocean from "@pulumi/digitalocean";
import { ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { stackConfig } from "./stack-config";
import { asProps } from "./util";

export const backupsBucketPrivate: ResourceValidationPolicy = {
  name: "backups-bucket-private",
  description: "Spaces buckets holding backups are private: a database dump readable by anyone is a data breach.",
  validateResource: validateResourceOfType(digitalocean.SpacesBucket, (bucket, _args, reportViolation) => {
    // Spaces defaults a bucket without acl to private.
    const acl = bucket.acl ?? "private";
    if (acl !== "private")
      reportViolation(`the bucket's acl is "${String(acl)}": set acl: "private"; hand out access with a scoped Spaces key instead`);
  }),
};

export const backupsBucketProtected: ResourceValidationPolicy = {
  name: "backups-bucket-protected",
  description: "The off-site backup bucket is protected, so no destroy or replace removes the last copies of the data.",
  validateResource: validateResourceOfType(digitalocean.SpacesBucket, (_bucket, args, reportViolation) => {
    if (!args.opts.protect)
      reportViolation("set `protect: true` on the backups bucket so `pulumi destroy` or a replace cannot delete the off-site copies");
  }),
};

export const backupsBucketVersioned: ResourceValidationPolicy = {
  name: "backups-bucket-versioned",
  description: "The backup bucket keeps versions, so an overwritten or deleted copy can still be recovered.",
  validateResource: validateResourceOfType(digitalocean.SpacesBucket, (bucket, _args, reportViolation) => {
    if (asProps(bucket.versioning).enabled !== true)
      reportViolation("versioning is off: set versioning: { enabled: true } on the backups bucket");
  }),
};

const CLUSTER_TYPE = "digitalocean:index/databaseCluster:DatabaseCluster";
const BUCKET_TYPE = "digitalocean:index/spacesBucket:SpacesBucket";

export const backupsOffsiteEnabled: StackValidationPolicy = {
  name: "backups-offsite-enabled",
  description:
    "A stack with a database copies its verified backups off the droplet, to a Spaces bucket, so losing the droplet and its volume does not lose the data.",
  validateStack: (args, reportViolation) => {
    if (!args.resources.some((r) => r.type === CLUSTER_TYPE)) return;
    if (!args.resources.some((r) => r.type === BUCKET_TYPE)) {
      reportViolation(
        "off-site backups are off: the only copies of the database's backups live on the droplet's volume; set dropstack:backups.offsite to true (and give the Spaces key as secrets)",
      );
    }
  },
};

/** The fewest verified backups a stack keeps (one a deploy, plus the nightly ones): a week's worth. */
export const MIN_BACKUPS_KEPT = 7;

export const backupsRetentionMinimum: StackValidationPolicy = {
  name: "backups-retention-minimum",
  description: `The stack keeps at least ${MIN_BACKUPS_KEPT} verified backups (dropstack:backups.keep), so a problem noticed days later can still be rolled back.`,
  validateStack: (_args, reportViolation) => {
    let keep: unknown;
    try {
      keep = (JSON.parse(stackConfig().config["dropstack:backups"]) as { keep?: unknown }).keep;
    } catch {
      // Unset (also before the engine sends the config; the default keeps 7), or not JSON (the
      // stack's config validation reports that): JSON.parse throws on both, nothing to judge.
    }
    if (typeof keep === "number" && keep < MIN_BACKUPS_KEPT) {
      reportViolation(`dropstack:backups.keep is ${keep}: keep at least ${MIN_BACKUPS_KEPT} verified backups`);
    }
  },
};

export const backupsPolicies = [
  backupsBucketPrivate,
  backupsBucketProtected,
  backupsBucketVersioned,
  backupsOffsiteEnabled,
  backupsRetentionMinimum,
];
