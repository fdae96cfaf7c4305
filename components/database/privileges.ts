// The database privilege model as data. The Database component turns it into
// @pulumi/postgresql resources; renderRoleSql/renderGrantSql turn the same data into the
// SQL those resources run, so a system test can prove the model on a real PostgreSQL.
//
// Ownership: the migrator owns the `app` schema and everything migrations create in it.
// The app role only reads and writes rows; readonly only reads. Nobody else (PUBLIC) may
// connect to the app database or create objects in it.
//
// Why a dedicated schema instead of `public`: since PostgreSQL 15 `public` belongs to
// pg_database_owner (doadmin on DigitalOcean) and PUBLIC lost CREATE on it, so the
// migrator could not create tables there without extra grants, and clusters upgraded
// from older majors keep the old, permissive ACL. A schema owned by the migrator makes
// ownership explicit and identical on every version; each SQL role's search_path points at
// it, and the app role (named like the schema) finds it through the default "$user", so
// unqualified names in migrations and queries land there.

export const APP_SCHEMA = "app";

/** PostgreSQL's pseudo-role for "every role"; the provider maps it to PUBLIC. */
export const PUBLIC_ROLE = "public";

export type RoleKind = "migrator" | "app" | "readonly";
export const ROLE_KINDS: readonly RoleKind[] = ["migrator", "app", "readonly"];

/** One stack has one cluster with one app database, so fixed role names cannot collide. */
export const ROLE_NAMES: Readonly<Record<RoleKind, string>> = { migrator: "migrator", app: "app", readonly: "readonly" };

export const APP_TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE"] as const;
export const APP_SEQUENCE_PRIVILEGES = ["USAGE", "SELECT"] as const;
export const READONLY_TABLE_PRIVILEGES = ["SELECT"] as const;
export const READONLY_SEQUENCE_PRIVILEGES = ["SELECT"] as const;

/**
 * CREATE on the database lets migrations run `CREATE EXTENSION` for trusted extensions
 * (pgcrypto, citext, ...); TEMPORARY lets them stage data. The app and readonly roles
 * only connect.
 */
export const DATABASE_PRIVILEGES: Readonly<Record<RoleKind, readonly string[]>> = {
  migrator: ["CONNECT", "CREATE", "TEMPORARY"],
  app: ["CONNECT"],
  readonly: ["CONNECT"],
};

/** Privileges that let a role change the schema or other roles' data beyond DML; none of our grants may contain them. */
export const NEVER_GRANTED_TO_APP = ["CREATE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"] as const;

export type GrantObjectType = "database" | "schema" | "table" | "sequence";

export interface GrantSpec {
  /** Stable key for resource names, e.g. `app-tables`. */
  key: string;
  role: string;
  objectType: GrantObjectType;
  /** The schema for schema/table/sequence grants (the provider's `schema` argument). */
  schema?: string;
  /** The exact privilege set; the provider revokes everything else first. Empty = revoke all. */
  privileges: readonly string[];
}

export interface DefaultPrivilegeSpec {
  key: string;
  role: string;
  /** Objects created by this role get the privileges. */
  owner: string;
  schema: string;
  objectType: "table" | "sequence";
  privileges: readonly string[];
}

export interface RoleSpec {
  kind: RoleKind;
  name: string;
  /**
   * "sql": created by @pulumi/postgresql with the attributes below. "digitalocean": created
   * through DigitalOcean's user API (a `normal` user), because the PgBouncer pool logs in as
   * it and DigitalOcean's pool API names users it knows (see README.md, "The pool user").
   */
  createdBy: "sql" | "digitalocean";
  /** Set per role for SQL roles; a DigitalOcean user keeps the server's default, `"$user", public`. */
  searchPath: string[];
}

/** The pool's role: its name equals the schema's, so the default search_path (`"$user"`) finds it. */
export const POOL_ROLE: RoleKind = "app";

export interface PrivilegeModel {
  schema: string;
  schemaOwner: string;
  roles: RoleSpec[];
  grants: GrantSpec[];
  defaultPrivileges: DefaultPrivilegeSpec[];
}

export function privilegeModel(): PrivilegeModel {
  const { migrator, app, readonly } = ROLE_NAMES;
  const schema = APP_SCHEMA;
  return {
    schema,
    schemaOwner: migrator,
    roles: ROLE_KINDS.map((kind): RoleSpec =>
      kind === POOL_ROLE
        ? { kind, name: ROLE_NAMES[kind], createdBy: "digitalocean", searchPath: [] }
        : { kind, name: ROLE_NAMES[kind], createdBy: "sql", searchPath: [schema] },
    ),
    grants: [
      // PUBLIC keeps nothing on the app database (PostgreSQL's default is CONNECT and TEMPORARY)...
      { key: "public-database", role: PUBLIC_ROLE, objectType: "database", privileges: [] },
      // ...nothing on our schema, and only USAGE on `public` (no CREATE, whatever the major version's default).
      { key: "public-app-schema", role: PUBLIC_ROLE, objectType: "schema", schema, privileges: [] },
      { key: "public-public-schema", role: PUBLIC_ROLE, objectType: "schema", schema: "public", privileges: ["USAGE"] },
      ...ROLE_KINDS.map((kind): GrantSpec => ({
        key: `${kind}-database`,
        role: ROLE_NAMES[kind],
        objectType: "database",
        privileges: DATABASE_PRIVILEGES[kind],
      })),
      { key: "app-schema", role: app, objectType: "schema", schema, privileges: ["USAGE"] },
      { key: "readonly-schema", role: readonly, objectType: "schema", schema, privileges: ["USAGE"] },
      // Tables and sequences that already exist (e.g. created before these grants were applied).
      { key: "app-tables", role: app, objectType: "table", schema, privileges: APP_TABLE_PRIVILEGES },
      { key: "app-sequences", role: app, objectType: "sequence", schema, privileges: APP_SEQUENCE_PRIVILEGES },
      { key: "readonly-tables", role: readonly, objectType: "table", schema, privileges: READONLY_TABLE_PRIVILEGES },
      { key: "readonly-sequences", role: readonly, objectType: "sequence", schema, privileges: READONLY_SEQUENCE_PRIVILEGES },
    ],
    defaultPrivileges: [
      // Everything later migrations create.
      { key: "app-tables", role: app, owner: migrator, schema, objectType: "table", privileges: APP_TABLE_PRIVILEGES },
      { key: "app-sequences", role: app, owner: migrator, schema, objectType: "sequence", privileges: APP_SEQUENCE_PRIVILEGES },
      { key: "readonly-tables", role: readonly, owner: migrator, schema, objectType: "table", privileges: READONLY_TABLE_PRIVILEGES },
      {
        key: "readonly-sequences",
        role: readonly,
        owner: migrator,
        schema,
        objectType: "sequence",
        privileges: READONLY_SEQUENCE_PRIVILEGES,
      },
    ],
  };
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

const PLURAL: Record<"table" | "sequence", string> = { table: "TABLES", sequence: "SEQUENCES" };

/**
 * The roles and the schema, as they are created (CREATE ROLE ... LOGIN, search_path set per
 * SQL role, CREATE SCHEMA ... AUTHORIZATION). Used by tests against a real server.
 */
export function renderRoleSql(model: PrivilegeModel, passwords: Record<RoleKind, string>): string {
  const lines: string[] = [];
  for (const role of model.roles) {
    lines.push(`CREATE ROLE ${quoteIdentifier(role.name)} LOGIN PASSWORD ${quoteLiteral(passwords[role.kind])};`);
    if (role.searchPath.length > 0) {
      lines.push(`ALTER ROLE ${quoteIdentifier(role.name)} SET search_path TO ${role.searchPath.map(quoteIdentifier).join(", ")};`);
    }
  }
  lines.push(`CREATE SCHEMA ${quoteIdentifier(model.schema)} AUTHORIZATION ${quoteIdentifier(model.schemaOwner)};`);
  return lines.join("\n") + "\n";
}

/**
 * The grants and default privileges in the provider's own form: each postgresql.Grant
 * revokes everything on its object type, then grants exactly its list; each
 * DefaultPrivileges does the same with ALTER DEFAULT PRIVILEGES FOR ROLE <owner>.
 */
export function renderGrantSql(model: PrivilegeModel, database: string): string {
  const lines: string[] = [];
  for (const grant of model.grants) {
    const role = quoteIdentifier(grant.role);
    const target = grantTarget(grant, database);
    lines.push(`REVOKE ALL PRIVILEGES ON ${target} FROM ${role};`);
    if (grant.privileges.length > 0) lines.push(`GRANT ${grant.privileges.join(", ")} ON ${target} TO ${role};`);
  }
  for (const rule of model.defaultPrivileges) {
    const prefix = `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdentifier(rule.owner)} IN SCHEMA ${quoteIdentifier(rule.schema)}`;
    lines.push(`${prefix} REVOKE ALL ON ${PLURAL[rule.objectType]} FROM ${quoteIdentifier(rule.role)};`);
    if (rule.privileges.length > 0)
      lines.push(`${prefix} GRANT ${rule.privileges.join(", ")} ON ${PLURAL[rule.objectType]} TO ${quoteIdentifier(rule.role)};`);
  }
  return lines.join("\n") + "\n";
}

function grantTarget(grant: GrantSpec, database: string): string {
  switch (grant.objectType) {
    case "database":
      return `DATABASE ${quoteIdentifier(database)}`;
    case "schema":
      return `SCHEMA ${quoteIdentifier(requireSchema(grant))}`;
    case "table":
    case "sequence":
      return `ALL ${PLURAL[grant.objectType]} IN SCHEMA ${quoteIdentifier(requireSchema(grant))}`;
  }
}

function requireSchema(grant: GrantSpec): string {
  if (!grant.schema) throw new Error(`grant ${grant.key} on a ${grant.objectType} needs a schema`);
  return grant.schema;
}
