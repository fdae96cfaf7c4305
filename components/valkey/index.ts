// Managed Valkey in the stack's VPC (README "Growing past one droplet"): the cache the app's
// droplets share once there is more than one, in place of the Redis container each would
// otherwise run alone. Only the droplets' tag is a trusted source, TLS is required, and the
// eviction policy is dropstack:redis.evictionPolicy. The rules live in settings.ts.
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { componentType } from "../common/names";
import { maintenanceWindow } from "../database/settings";
import { valkeyClusterProblems, valkeyExporterAddress, valkeyMaxmemoryPolicy, valkeyUrl } from "./settings";

export { VALKEY_EVICTION_POLICIES, valkeyClusterProblems, valkeyEvictionPolicyProblem, valkeyExporterAddress, valkeyUrl } from "./settings";

export interface ValkeyArgs {
  region: string;
  /** Valkey major version, e.g. "8" (dropstack:scale.valkey.version). */
  version: string;
  /** Node size slug (dropstack:scale.valkey.size). */
  size: string;
  /** 1, or 2 for a standby (dropstack:scale.valkey.nodes). */
  nodes: number;
  vpcId: pulumi.Input<string>;
  /** The droplets' tag: the only trusted source. */
  dropletTag: pulumi.Input<string>;
  /** dropstack:redis.evictionPolicy; an LFU policy is refused (Valkey takes none). */
  evictionPolicy: string;
  /**
   * When DigitalOcean may patch the cluster: pass the database's (dropstack:postgres.maintenance),
   * one quiet hour for both. The database-cluster-maintenance-window policy asks for one.
   */
  maintenance?: { day: string; hour: number };
  tags?: string[];
}

/** The DigitalOcean name of a stack's Valkey cluster (the Valkey component named `name`). */
export function valkeyClusterName(name: string): string {
  return `${name}-valkey`;
}

export class Valkey extends pulumi.ComponentResource {
  /** Protected: besides the cache it holds what a Celery-style broker queues, which a new cluster would not have. */
  readonly cluster: digitalocean.DatabaseCluster;
  readonly config: digitalocean.DatabaseValkeyConfig;
  readonly firewall: digitalocean.DatabaseFirewall;
  /** Secret. `rediss://default:<password>@<private host>:<port>/0`, for the app and workers (REDIS_URL). */
  readonly redisUrl: pulumi.Output<string>;
  /** Secret. The cluster user's password, for redis_exporter's password file. */
  readonly password: pulumi.Output<string>;
  /** `rediss://<private host>:<port>`, without credentials: where redis_exporter scrapes the cluster. */
  readonly exporterAddress: pulumi.Output<string>;

  constructor(name: string, args: ValkeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("Valkey"), name, {}, opts);
    const problems = valkeyClusterProblems(args).map(({ key, message }) => `dropstack:scale.valkey.${key}: ${message}`);
    if (problems.length > 0) throw new pulumi.RunError(`invalid Valkey settings:\n  ${problems.join("\n  ")}`);
    const maxmemoryPolicy = valkeyMaxmemoryPolicy(args.evictionPolicy);

    const clusterName = valkeyClusterName(name);
    this.cluster = new digitalocean.DatabaseCluster(
      clusterName,
      {
        name: clusterName,
        engine: "valkey",
        version: args.version,
        size: args.size,
        nodeCount: args.nodes,
        region: args.region,
        privateNetworkUuid: args.vpcId,
        ...(args.maintenance ? { maintenanceWindows: [maintenanceWindow(args.maintenance.day, args.maintenance.hour)] } : {}),
        tags: args.tags,
      },
      { parent: this, protect: true },
    );

    this.config = new digitalocean.DatabaseValkeyConfig(
      `${clusterName}-config`,
      { clusterId: this.cluster.id, valkeyMaxmemoryPolicy: maxmemoryPolicy, ssl: true },
      { parent: this },
    );

    this.firewall = new digitalocean.DatabaseFirewall(
      `${clusterName}-firewall`,
      { clusterId: this.cluster.id, rules: [{ type: "tag", value: args.dropletTag }] },
      { parent: this },
    );

    // Derived from the firewall and the configuration too, so whatever uses the URL waits
    // until the droplets are admitted and TLS is required.
    this.redisUrl = pulumi.secret(
      pulumi
        .all([this.cluster.user, this.cluster.password, this.cluster.privateHost, this.cluster.port, this.firewall.id, this.config.id])
        .apply(([user, password, host, port]) => valkeyUrl({ user, password, host, port })),
    );

    this.password = pulumi.secret(this.cluster.password);
    this.exporterAddress = pulumi
      .all([this.cluster.privateHost, this.cluster.port, this.firewall.id])
      .apply(([host, port]) => valkeyExporterAddress(host, port));

    this.registerOutputs({ clusterId: this.cluster.id, redisUrl: this.redisUrl, exporterAddress: this.exporterAddress });
  }
}
