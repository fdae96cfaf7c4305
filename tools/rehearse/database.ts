// The managed PostgreSQL cluster's stand-in: one container from the rehearsal's postgres
// image, answering on the cluster's private host name (port as the cluster reports it,
// TLS required) and on the pool's (PgBouncer, transaction mode, as the pool's user). The
// database, roles, schema, grants and default privileges are the ones the program
// registers through @pulumi/digitalocean and @pulumi/postgresql, turned into the SQL the
// postgresql provider runs (cyrilgdn/terraform-provider-postgresql: a Grant revokes
// everything first, then grants; DefaultPrivileges uses ALTER DEFAULT PRIVILEGES FOR ROLE).
import type { Registration } from "../check/harness";
import type { Droplet } from "./droplet";

const T = {
  cluster: "digitalocean:index/databaseCluster:DatabaseCluster",
  db: "digitalocean:index/databaseDb:DatabaseDb",
  pool: "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool",
  user: "digitalocean:index/databaseUser:DatabaseUser",
  role: "postgresql:index/role:Role",
  schema: "postgresql:index/schema:Schema",
  grant: "postgresql:index/grant:Grant",
  defaults: "postgresql:index/defaultPrivileges:DefaultPrivileges",
} as const;

export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function grantee(role: string): string {
  return role.toLowerCase() === "public" ? "PUBLIC" : ident(role);
}

const OBJECTS: Record<string, string> = { table: "TABLES", sequence: "SEQUENCES", function: "FUNCTIONS", type: "TYPES", schema: "SCHEMAS" };

export interface ClusterPlan {
  /** Private host and port of the primary, as the program's URIs name them. */
  host: string;
  port: number;
  /** Statements run as the superuser in the maintenance database. */
  clusterSql: string;
  /** Per database: statements run in that database, in registration order. */
  databaseSql: Record<string, string>;
  pools: { name: string; host: string; port: number; dbName: string; user: string; mode: string; size: number }[];
}

/** The SQL and pools the program's registrations ask for. Pure, so it is unit-testable. */
export function clusterPlan(registrations: Registration[]): ClusterPlan {
  const clusters = registrations.filter((r) => r.type === T.cluster);
  if (clusters.length !== 1) throw new Error(`the rehearsal stands in for one database cluster; the program declares ${clusters.length}`);
  const cluster = clusters[0].outputs;
  const clusterSql: string[] = [];
  const databaseSql: Record<string, string[]> = {};
  const inDb = (db: string, sql: string) => (databaseSql[db] ??= []).push(sql);
  for (const r of registrations) {
    const i = r.inputs as Record<string, unknown>;
    switch (r.type) {
      case T.db:
        clusterSql.push(`CREATE DATABASE ${ident(String(i.name))};`);
        break;
      case T.user:
        // DigitalOcean's user API makes a plain login role; its password is the provider's output.
        clusterSql.push(`CREATE ROLE ${ident(String(i.name))} LOGIN PASSWORD ${literal(String(r.outputs.password))};`);
        break;
      case T.role: {
        const flags = [
          i.login ? "LOGIN" : "NOLOGIN",
          i.superuser ? "SUPERUSER" : "NOSUPERUSER",
          i.createDatabase ? "CREATEDB" : "NOCREATEDB",
          i.createRole ? "CREATEROLE" : "NOCREATEROLE",
          i.replication ? "REPLICATION" : "NOREPLICATION",
          i.bypassRowLevelSecurity ? "BYPASSRLS" : "NOBYPASSRLS",
        ];
        if (typeof i.password === "string") flags.push(`PASSWORD ${literal(i.password)}`);
        clusterSql.push(`CREATE ROLE ${ident(String(i.name))} ${flags.join(" ")};`);
        const paths = (i.searchPaths as string[] | undefined) ?? [];
        if (paths.length > 0) clusterSql.push(`ALTER ROLE ${ident(String(i.name))} SET search_path TO ${paths.map(ident).join(", ")};`);
        break;
      }
      case T.schema:
        inDb(String(i.database), `CREATE SCHEMA ${ident(String(i.name))}${i.owner ? ` AUTHORIZATION ${ident(String(i.owner))}` : ""};`);
        break;
      case T.grant: {
        const privileges = (i.privileges as string[]) ?? [];
        const role = grantee(String(i.role));
        const type = String(i.objectType);
        const target =
          type === "database"
            ? `DATABASE ${ident(String(i.database))}`
            : type === "schema"
              ? `SCHEMA ${ident(String(i.schema))}`
              : `ALL ${OBJECTS[type]} IN SCHEMA ${ident(String(i.schema))}`;
        inDb(String(i.database), `REVOKE ALL ON ${target} FROM ${role};`);
        if (privileges.length > 0) inDb(String(i.database), `GRANT ${privileges.join(", ")} ON ${target} TO ${role};`);
        break;
      }
      case T.defaults: {
        const privileges = (i.privileges as string[]) ?? [];
        const scope = `FOR ROLE ${ident(String(i.owner))}${i.schema ? ` IN SCHEMA ${ident(String(i.schema))}` : ""}`;
        const objects = OBJECTS[String(i.objectType)];
        inDb(String(i.database), `ALTER DEFAULT PRIVILEGES ${scope} REVOKE ALL ON ${objects} FROM ${grantee(String(i.role))};`);
        if (privileges.length > 0)
          inDb(
            String(i.database),
            `ALTER DEFAULT PRIVILEGES ${scope} GRANT ${privileges.join(", ")} ON ${objects} TO ${grantee(String(i.role))};`,
          );
        break;
      }
      default:
        break;
    }
  }
  const pools = registrations
    .filter((r) => r.type === T.pool)
    .map((r) => ({
      name: String(r.inputs.name),
      host: String(r.outputs.privateHost),
      port: Number(r.outputs.port),
      dbName: String(r.inputs.dbName),
      user: String(r.inputs.user),
      mode: String(r.inputs.mode),
      size: Number(r.inputs.size),
    }));
  return {
    host: String(cluster.privateHost),
    port: Number(cluster.port),
    clusterSql: clusterSql.join("\n"),
    databaseSql: Object.fromEntries(Object.entries(databaseSql).map(([db, sql]) => [db, sql.join("\n")])),
    pools,
  };
}

/** PgBouncer's config for the pools: TLS required from clients, SCRAM verifiers from PostgreSQL itself. */
export function pgbouncerIni(plan: ClusterPlan): string {
  const ports = [...new Set(plan.pools.map((p) => p.port))];
  if (ports.length > 1) throw new Error(`pools on different ports are not supported: ${ports.join(", ")}`);
  return [
    "[databases]",
    ...plan.pools.map((p) => `${p.name} = host=127.0.0.1 port=${plan.port} dbname=${p.dbName} pool_size=${p.size}`),
    "[pgbouncer]",
    "listen_addr = *",
    `listen_port = ${ports[0] ?? 25061}`,
    "auth_type = scram-sha-256",
    "auth_file = /etc/pgbouncer/userlist.txt",
    `pool_mode = ${plan.pools[0]?.mode ?? "transaction"}`,
    "client_tls_sslmode = require",
    "client_tls_cert_file = /var/lib/postgresql/server.crt",
    "client_tls_key_file = /var/lib/postgresql/server.key",
    "unix_socket_dir =",
    "",
  ].join("\n");
}

const CONTAINER = "dropstack-rehearsal-database";

/**
 * Starts the stand-in (not on the droplet's network yet: `attach` joins it when the program
 * has created that network, as the VPC link would make it reachable) and applies the plan.
 */
export async function startDatabase(droplet: Droplet, image: string, plan: ClusterPlan): Promise<void> {
  const boot = [
    "set -e",
    "cd /var/lib/postgresql",
    "openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=rehearsal-db -keyout server.key -out server.crt 2>/dev/null",
    "chown postgres:postgres server.key server.crt && chmod 600 server.key",
    "echo rehearsal-superuser > pwfile && chown postgres pwfile",
    "runuser -u postgres -- initdb -D data -A scram-sha-256 --pwfile=pwfile >/dev/null && rm pwfile",
    `printf '%s\\n' "listen_addresses = '*'" "port = ${plan.port}" "ssl = on" "ssl_cert_file = '/var/lib/postgresql/server.crt'" "ssl_key_file = '/var/lib/postgresql/server.key'" >> data/postgresql.conf`,
    "printf '%s\\n' 'local all all trust' 'host all all 127.0.0.1/32 scram-sha-256' 'hostssl all all all scram-sha-256' > data/pg_hba.conf",
    "exec runuser -u postgres -- postgres -D data",
  ].join("\n");
  droplet.docker(["rm", "-f", CONTAINER], { check: false });
  droplet.docker(["run", "-d", "--name", CONTAINER, image, "bash", "-c", boot]);
  const psql = (db: string, sql: string) => superuserPsql(droplet, plan, db, sql);
  for (let i = 0; ; i++) {
    if (droplet.docker(["exec", "-u", "postgres", CONTAINER, "pg_isready", "-q", "-p", String(plan.port)], { check: false }).status === 0)
      break;
    if (droplet.docker(["inspect", "--format", "{{.State.Running}}", CONTAINER], { check: false }).stdout.trim() === "false" || i > 120)
      throw new Error(`the database stand-in did not start:\n${droplet.docker(["logs", CONTAINER], { check: false }).stderr}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  psql("postgres", plan.clusterSql);
  for (const [db, sql] of Object.entries(plan.databaseSql)) psql(db, sql);
  if (plan.pools.length > 0) {
    const users = [...new Set(plan.pools.map((p) => p.user))];
    const userlist = psql(
      "postgres",
      `\\pset tuples_only on\n\\pset format unaligned\nSELECT format('"%s" "%s"', rolname, rolpassword) FROM pg_authid WHERE rolname IN (${users.map(literal).join(", ")});`,
    ).stdout;
    droplet.docker(
      [
        "exec",
        "-i",
        CONTAINER,
        "sh",
        "-c",
        "mkdir -p /etc/pgbouncer && cat > /etc/pgbouncer/userlist.txt && chown postgres /etc/pgbouncer/userlist.txt",
      ],
      { input: userlist },
    );
    droplet.docker(["exec", "-i", CONTAINER, "sh", "-c", "cat > /etc/pgbouncer/rehearsal.ini"], { input: pgbouncerIni(plan) });
    droplet.docker(["exec", "-d", "-u", "postgres", CONTAINER, "pgbouncer", "/etc/pgbouncer/rehearsal.ini"]);
  }
}

/** Joins the stand-in to the droplet's network under the cluster's and the pools' private host names. */
export function attachDatabase(droplet: Droplet, network: string, plan: ClusterPlan): void {
  const aliases = [plan.host, ...plan.pools.map((p) => p.host)].flatMap((h) => ["--alias", h]);
  droplet.docker(["network", "connect", ...aliases, network, CONTAINER]);
}

/** psql in the stand-in as the superuser, `sql` on stdin; `extra` options before the database (e.g. unaligned output). */
function superuserPsql(droplet: Droplet, plan: ClusterPlan, db: string, sql: string, extra: string[] = []) {
  return droplet.docker(
    [
      "exec",
      "-i",
      "-u",
      "postgres",
      CONTAINER,
      "psql",
      "-X",
      "-q",
      ...extra,
      "-v",
      "ON_ERROR_STOP=1",
      "-p",
      String(plan.port),
      "-d",
      db,
      "-f",
      "-",
    ],
    { input: sql },
  );
}

/** psql in the stand-in as the superuser, for scenario checks: the answer, unaligned, without headers. */
export function databaseQuery(droplet: Droplet, plan: ClusterPlan, db: string, sql: string): string {
  return superuserPsql(droplet, plan, db, sql, ["-A", "-t"]).stdout.trim();
}
