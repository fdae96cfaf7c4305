import * as digitalocean from "@pulumi/digitalocean";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { POOL_ROLE, RoleKind, privilegeModel } from "./privileges";
import { appPoolSize, connectionUri, maintenanceWindow, readReplicaName, readReplicaSizeProblem, trustedSources } from "./settings";
import { clusterNameFor, normalizedRestoreTimestamp, restoredClusterName } from "./restore";
import { componentType } from "../common/names";

export interface DatabaseArgs {
  region: string;
  /** PostgreSQL major version, e.g. "16". */
  version: string;
  size: string;
  nodes: number;
  /** The app database's name (dropstack:postgres.database). */
  database: string;
  maintenance: { day: string; hour: number };
  vpcId: pulumi.Input<string>;
  /** The droplet tag: the database firewall admits every droplet carrying it. */
  dropletTag: pulumi.Input<string>;
  /** Admitted to the admin endpoint; `pulumi up` must run from one of them (see README). */
  adminCidrs: string[];
  tags?: string[];
  /**
   * dropstack:postgres.restore: serve the app from a new cluster restored to `timestamp`
   * from `fromCluster`'s point-in-time backups (this cluster's when unset).
   */
  restore?: { timestamp: string; fromCluster?: string };
  /**
   * dropstack:postgres.readReplicas and .readReplicaSize: read-only replicas of the cluster
   * that serves, for the app's reads (DATABASE_READ_URLS). Absent or a count of 0: none.
   */
  readReplicas?: { count: number; size: string };
}

/** A cluster restored to a point in time, with what the fork does not bring: trusted sources and the app's pool. */
export interface RestoredCluster {
  cluster: digitalocean.DatabaseCluster;
  firewall: digitalocean.DatabaseFirewall;
  pool: digitalocean.DatabaseConnectionPool;
}

/**
 * The managed PostgreSQL cluster, reachable only from the droplet and the admin CIDRs,
 * with the app database, a transaction pool for the app, and three login roles: migrator
 * (owns the schema, runs DDL) and readonly (SELECT only), created through @pulumi/postgresql,
 * and app (DML only, the pool's user), created through DigitalOcean's user API. The URIs point at private hosts: the hooks and the app run on
 * the droplet, inside the VPC.
 *
 * With `restore`, a second cluster is restored beside the first and the URIs point at it
 * (docs/rollback.md, "Point-in-time recovery"). The fork brings the databases, roles,
 * passwords, schema and grants as they were at that time, so the roles and grants stay
 * managed on the first cluster and the same credentials log in to the second.
 *
 * With `readReplicas`, read-only replicas of the cluster that serves, each with a firewall of
 * its own; they copy the roles and passwords, so the readonly role reads from them (readUris).
 */
export class Database extends pulumi.ComponentResource {
  /** This stack's own cluster: the roles, schema and grants are managed on it. */
  readonly cluster: digitalocean.DatabaseCluster;
  /** The point-in-time restore the app runs on, when dropstack:postgres.restore is set. */
  readonly restored?: RestoredCluster;
  readonly firewall: digitalocean.DatabaseFirewall;
  readonly appDatabase: digitalocean.DatabaseDb;
  readonly pool: digitalocean.DatabaseConnectionPool;
  readonly sqlProvider: postgresql.Provider;
  readonly schema: postgresql.Schema;
  /** The roles created over SQL (migrator, readonly), with their attributes. */
  readonly roles: Partial<Record<RoleKind, postgresql.Role>>;
  /** The app role, created through DigitalOcean's user API: the pool logs in as it. */
  readonly appUser: digitalocean.DatabaseUser;
  /** Secret. Direct to the primary: for migrations, backups and restores. */
  readonly migratorUri: pulumi.Output<string>;
  /** Secret. Through the PgBouncer pool (transaction mode): for the app and workers. */
  readonly appUri: pulumi.Output<string>;
  /** Secret. Direct to the primary, SELECT only: for reports and debugging. */
  readonly readonlyUri: pulumi.Output<string>;
  readonly privateHost: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly databaseName: pulumi.Output<string>;
  /** The read replicas of the cluster that serves, in order; empty without dropstack:postgres.readReplicas. */
  readonly replicas: digitalocean.DatabaseReplica[];
  /** One per replica, admitting the droplet tag only: a replica keeps trusted sources of its own. */
  readonly replicaFirewalls: digitalocean.DatabaseFirewall[];
  /**
   * Secret. The readonly role (readonlyUri's user and password: the replicas copy the roles)
   * on each replica's private host and the app database, in replica order; empty without replicas.
   */
  readonly readUris: pulumi.Output<string[]>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("Database"), name, {}, opts);
    const model = privilegeModel();
    const replicaCount = args.readReplicas?.count ?? 0;
    if (!Number.isInteger(replicaCount) || replicaCount < 0)
      throw new pulumi.RunError(`dropstack:postgres.readReplicas must be a whole number of replicas, got ${replicaCount}`);
    const replicaSize = args.readReplicas?.size ?? args.size;
    const sizeProblem = replicaCount > 0 ? readReplicaSizeProblem(args.size, replicaSize) : undefined;
    if (sizeProblem) throw new pulumi.RunError(`dropstack:postgres.readReplicaSize: ${sizeProblem}`);

    const clusterName = clusterNameFor(name);
    const clusterArgs = (doName: string): digitalocean.DatabaseClusterArgs => ({
      name: doName,
      engine: "pg",
      version: args.version,
      size: args.size,
      nodeCount: args.nodes,
      region: args.region,
      privateNetworkUuid: args.vpcId,
      maintenanceWindows: [maintenanceWindow(args.maintenance.day, args.maintenance.hour)],
      tags: args.tags,
    });
    this.cluster = new digitalocean.DatabaseCluster(clusterName, clusterArgs(clusterName), { parent: this, protect: true });

    this.firewall = new digitalocean.DatabaseFirewall(
      `${name}-pg-firewall`,
      {
        clusterId: this.cluster.id,
        rules: trustedSources(args.dropletTag, args.adminCidrs),
      },
      { parent: this },
    );

    this.appDatabase = new digitalocean.DatabaseDb(
      `${name}-pg-db`,
      {
        clusterId: this.cluster.id,
        name: args.database,
      },
      { parent: this, protect: true },
    );

    // The admin endpoint is the public host: `pulumi up` runs outside the VPC, from an
    // admin CIDR. doadmin is not a superuser on DigitalOcean; `superuser: false` makes the
    // provider grant itself role memberships it needs instead of assuming it bypasses checks.
    this.sqlProvider = new postgresql.Provider(
      `${name}-pg-admin`,
      {
        host: this.cluster.host,
        port: this.cluster.port,
        username: this.cluster.user,
        password: pulumi.secret(this.cluster.password),
        database: this.cluster.database,
        sslmode: "require",
        superuser: false,
        connectTimeout: 30,
      },
      { parent: this, dependsOn: [this.firewall] },
    );
    const sql = { parent: this, provider: this.sqlProvider };
    // Every postgresql.Grant/DefaultPrivileges revokes all on create and on delete; a
    // create-before-delete replacement would let the old one's delete wipe the new grants.
    const replaceable = { ...sql, deleteBeforeReplace: true };

    const sqlRoles = model.roles.filter((role) => role.createdBy === "sql");
    const passwords = Object.fromEntries(
      sqlRoles.map((role) => [
        role.kind,
        new random.RandomPassword(
          `${name}-pg-${role.kind}-password`,
          {
            length: 40,
            // Letters and digits only: nothing a URI, a shell or a .env file could misread.
            special: false,
          },
          { parent: this },
        ),
      ]),
    ) as Partial<Record<RoleKind, random.RandomPassword>>;

    this.roles = Object.fromEntries(
      sqlRoles.map((role) => [
        role.kind,
        new postgresql.Role(
          `${name}-pg-${role.kind}`,
          {
            name: role.name,
            login: true,
            password: (passwords[role.kind] as random.RandomPassword).result,
            searchPaths: role.searchPath,
            createDatabase: false,
            createRole: false,
            superuser: false,
            replication: false,
            bypassRowLevelSecurity: false,
          },
          sql,
        ),
      ]),
    );

    // The pool's user must be one DigitalOcean's user API knows (README, "The pool user"):
    // a `normal` user, with its password generated by DigitalOcean; its privileges are the
    // model's grants, applied over SQL like every other role's.
    const poolRole = model.roles.find((role) => role.kind === POOL_ROLE && role.createdBy === "digitalocean");
    if (!poolRole) throw new Error(`the privilege model must create the ${POOL_ROLE} role through DigitalOcean`);
    this.appUser = new digitalocean.DatabaseUser(
      `${name}-pg-${poolRole.kind}`,
      {
        clusterId: this.cluster.id,
        name: poolRole.name,
      },
      { parent: this, additionalSecretOutputs: ["password"] },
    );

    const roleByName = new Map<string, pulumi.Output<string>>([
      ...sqlRoles.map((role) => [role.name, (this.roles[role.kind] as postgresql.Role).name] as const),
      [poolRole.name, this.appUser.name],
    ]);
    const roleInput = (roleName: string) => roleByName.get(roleName) ?? roleName;
    const credentials = (kind: RoleKind): [pulumi.Output<string>, pulumi.Output<string>] =>
      kind === POOL_ROLE
        ? [this.appUser.name, this.appUser.password]
        : [(this.roles[kind] as postgresql.Role).name, (passwords[kind] as random.RandomPassword).result];

    this.schema = new postgresql.Schema(
      `${name}-pg-schema`,
      {
        name: model.schema,
        database: this.appDatabase.name,
        owner: roleInput(model.schemaOwner),
        dropCascade: false,
      },
      { ...sql, protect: true },
    );

    const grants = model.grants.map(
      (grant) =>
        new postgresql.Grant(
          `${name}-pg-grant-${grant.key}`,
          {
            database: this.appDatabase.name,
            role: roleInput(grant.role),
            objectType: grant.objectType,
            schema: grant.schema === model.schema ? this.schema.name : grant.schema,
            privileges: [...grant.privileges],
          },
          replaceable,
        ),
    );

    const defaults = model.defaultPrivileges.map(
      (rule) =>
        new postgresql.DefaultPrivileges(
          `${name}-pg-default-${rule.key}`,
          {
            database: this.appDatabase.name,
            owner: roleInput(rule.owner),
            role: roleInput(rule.role),
            schema: this.schema.name,
            objectType: rule.objectType,
            privileges: [...rule.privileges],
          },
          replaceable,
        ),
    );

    this.pool = new digitalocean.DatabaseConnectionPool(
      `${name}-pg-pool`,
      {
        clusterId: this.cluster.id,
        name: `${args.database}-pool`,
        dbName: this.appDatabase.name,
        user: this.appUser.name,
        mode: "transaction",
        size: appPoolSize(args.size),
      },
      { parent: this, dependsOn: [...grants, ...defaults] },
    );

    if (args.restore) {
      const restoredName = restoredClusterName(clusterName, args.restore.timestamp);
      // Protected like the first: it holds the data the app writes once it is cut over.
      const cluster = new digitalocean.DatabaseCluster(
        restoredName,
        {
          ...clusterArgs(restoredName),
          backupRestore: {
            databaseName: args.restore.fromCluster ?? this.cluster.name,
            backupCreatedAt: normalizedRestoreTimestamp(args.restore.timestamp),
          },
        },
        { parent: this, protect: true },
      );
      this.restored = {
        cluster,
        firewall: new digitalocean.DatabaseFirewall(
          `${restoredName}-firewall`,
          { clusterId: cluster.id, rules: trustedSources(args.dropletTag, args.adminCidrs) },
          { parent: this },
        ),
        // The app user and database come with the fork; the pool is DigitalOcean's PgBouncer
        // configuration, made here like the first cluster's (docs/rollback.md says what to do
        // if the fork brought it along).
        pool: new digitalocean.DatabaseConnectionPool(
          `${restoredName}-pool`,
          {
            clusterId: cluster.id,
            name: `${args.database}-pool`,
            dbName: this.appDatabase.name,
            user: this.appUser.name,
            mode: "transaction",
            size: appPoolSize(args.size),
          },
          { parent: this },
        ),
      };
    }

    // The app, the hooks and every URI follow the cluster that serves: the restored one when there is one.
    const serving = this.restored ?? { cluster: this.cluster, pool: this.pool };
    this.privateHost = serving.cluster.privateHost;
    this.port = serving.cluster.port;
    this.databaseName = this.appDatabase.name;

    const direct = (kind: RoleKind) =>
      pulumi.secret(
        pulumi
          .all([...credentials(kind), serving.cluster.privateHost, serving.cluster.port, this.appDatabase.name])
          .apply(([user, password, host, port, database]) => connectionUri({ user, password, host, port, database })),
      );
    this.migratorUri = direct("migrator");
    this.readonlyUri = direct("readonly");
    // Through PgBouncer the "database" is the pool's name.
    this.appUri = pulumi.secret(
      pulumi
        .all([...credentials(POOL_ROLE), serving.pool.privateHost, serving.pool.port, serving.pool.name])
        .apply(([user, password, host, port, database]) => connectionUri({ user, password, host, port, database })),
    );

    // The replicas follow the cluster that serves: after a point-in-time recovery the first
    // cluster no longer gets the app's writes, so replicas of it would serve a past that
    // drifts further from the truth with every write. A restore therefore replaces them
    // (other names, another source cluster) with replicas of the restored cluster.
    const servingName = args.restore ? restoredClusterName(clusterName, args.restore.timestamp) : clusterName;
    this.replicas = [];
    this.replicaFirewalls = [];
    for (let n = 1; n <= replicaCount; n++) {
      const replicaName = readReplicaName(servingName, n);
      const replica = new digitalocean.DatabaseReplica(
        replicaName,
        {
          clusterId: serving.cluster.id,
          name: replicaName,
          region: args.region,
          size: replicaSize,
          privateNetworkUuid: args.vpcId,
          tags: args.tags,
        },
        { parent: this },
      );
      this.replicas.push(replica);
      // DigitalOcean: "Like primary nodes, you can limit access to read-only nodes to trusted
      // sources"; its firewall names the replica by uuid (the provider's DatabaseReplica docs).
      // Only the app reads from it, so the admin CIDRs stay on the primary's.
      this.replicaFirewalls.push(
        new digitalocean.DatabaseFirewall(
          `${replicaName}-firewall`,
          { clusterId: replica.uuid, rules: trustedSources(args.dropletTag, []) },
          { parent: this },
        ),
      );
    }
    const [readonlyUser, readonlyPassword] = credentials("readonly");
    this.readUris = pulumi.secret(
      pulumi.all(
        this.replicas.map((replica, i) =>
          pulumi
            .all([readonlyUser, readonlyPassword, replica.privateHost, replica.port, this.appDatabase.name, this.replicaFirewalls[i].id])
            .apply(([user, password, host, port, database]) => connectionUri({ user, password, host, port, database })),
        ),
      ),
    );

    this.registerOutputs({
      clusterId: this.cluster.id,
      restoredClusterId: this.restored?.cluster.id,
      privateHost: this.privateHost,
      databaseName: this.databaseName,
      migratorUri: this.migratorUri,
      appUri: this.appUri,
      readonlyUri: this.readonlyUri,
      // Only with replicas, so a stack without them registers the outputs it always did.
      ...(replicaCount > 0 ? { readUris: this.readUris } : {}),
    });
  }
}
