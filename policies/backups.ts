import * as digitalocean from "@pulumi/digitalocean";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { asProps } from "./util";

export const backupsBucketPrivate: ResourceValidationPolicy = {
  name: "backups-bucket-private",
  description: "Spaces buckets holding backups are private: a database dump readable by anyone is a data breach.",
  validateResource: validateResourceOfType(digitalocean.SpacesBucket, (bucket, _args, reportViolation) => {
    // Spaces defaults a bucket without acl to private.
    const acl = bucket.acl ?? "private";
    if (acl !== "private") reportViolation(`the bucket's acl is "${String(acl)}": set acl: "private"; hand out access with a scoped Spaces key instead`);
  }),
};

export const backupsBucketProtected: ResourceValidationPolicy = {
  name: "backups-bucket-protected",
  description: "The off-site backup bucket is protected, so no destroy or replace removes the last copies of the data.",
  validateResource: validateResourceOfType(digitalocean.SpacesBucket, (_bucket, args, reportViolation) => {
    if (!args.opts.protect) reportViolation("set `protect: true` on the backups bucket so `pulumi destroy` or a replace cannot delete the off-site copies");
  }),
};

export const backupsBucketVersioned: ResourceValidationPolicy = {
  name: "backups-bucket-versioned",
  description: "The backup bucket keeps versions, so an overwritten or deleted copy can still be recovered.",
  validateResource: validateResourceOfType(digitalocean.SpacesBucket, (bucket, _args, reportViolation) => {
    if (asProps(bucket.versioning).enabled !== true) reportViolation("versioning is off: set versioning: { enabled: true } on the backups bucket");
  }),
};

export const backupsPolicies = [backupsBucketPrivate, backupsBucketProtected, backupsBucketVersioned];
