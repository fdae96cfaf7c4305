import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { BACKUP_PREFIX, backupBucketName, offsiteRetention, spacesEndpoint } from "./settings";
import { componentType } from "../common/names";

export interface BackupsArgs {
  region: string;
  /** dropstack:backups.keep: how long pruned copies stay recoverable is fixed (offsiteRetention). */
  keep: number;
}

/**
 * Off-site copies of the database backups: a private, versioned Spaces bucket whose lifecycle
 * rule never expires a current copy (the backup hook prunes, keeping the newest `keep`), and a Spaces key that can read and write that bucket
 * only. Creating the bucket needs account Spaces credentials on the provider (README).
 */
export class Backups extends pulumi.ComponentResource {
  readonly bucket: digitalocean.SpacesBucket;
  readonly key: digitalocean.SpacesKey;
  readonly bucketName: pulumi.Output<string>;
  /** e.g. https://fra1.digitaloceanspaces.com */
  readonly endpoint: string;
  readonly accessKeyId: pulumi.Output<string>;
  /** Secret. */
  readonly secretAccessKey: pulumi.Output<string>;
  /** Object keys start with this, e.g. `postgres/app-20250101T000000.000000000Z.dump`. */
  readonly prefix: string;

  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("Backups"), name, {}, opts);
    const retention = offsiteRetention(args.keep);
    this.prefix = BACKUP_PREFIX;
    this.endpoint = spacesEndpoint(args.region);

    const suffix = new random.RandomString(
      `${name}-backups-suffix`,
      {
        length: 8,
        lower: true,
        upper: false,
        numeric: true,
        special: false,
      },
      { parent: this },
    );

    this.bucket = new digitalocean.SpacesBucket(
      `${name}-backups`,
      {
        name: suffix.result.apply((s) => backupBucketName(name, s)),
        region: args.region,
        acl: "private",
        forceDestroy: false,
        versioning: { enabled: true },
        lifecycleRules: [
          {
            id: "expire-backups",
            enabled: true,
            prefix: BACKUP_PREFIX,
            noncurrentVersionExpiration: { days: retention.noncurrentDays },
            abortIncompleteMultipartUploadDays: retention.abortIncompleteMultipartUploadDays,
          },
        ],
      },
      { parent: this, protect: true },
    );

    this.key = new digitalocean.SpacesKey(
      `${name}-backups-key`,
      {
        name: `${name}-backups`,
        grants: [{ bucket: this.bucket.name, permission: "readwrite" }],
      },
      { parent: this, additionalSecretOutputs: ["secretKey"] },
    );

    this.bucketName = this.bucket.name;
    this.accessKeyId = this.key.accessKey;
    this.secretAccessKey = pulumi.secret(this.key.secretKey);

    this.registerOutputs({
      bucketName: this.bucketName,
      endpoint: this.endpoint,
      accessKeyId: this.accessKeyId,
      secretAccessKey: this.secretAccessKey,
      prefix: this.prefix,
    });
  }
}
