// "The readonly role works on the read replicas": a real PostgreSQL primary with the roles and
// grants of the privilege model (as the Database component applies them), and a streaming hot
// standby of it on loopback, as DigitalOcean's read replicas are. On the standby the readonly
// role logs in with the primary's password through the URL Database.readUris writes, reads
// every table of the app (rows written on the primary after the standby started too, once
// replayed), and writes nothing; neither can the migrator or the app role: a standby only
// runs read-only transactions.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { RoleKind, privilegeModel, renderGrantSql, renderRoleSql } from "../../components/database/privileges";
import { connectionUri } from "../../components/database/settings";
import { PostgresServer, startPostgres } from "../../tools/lib/postgres";
import { requireTools, run, scopedTempDirs, writeSelfSignedCertificate } from "../../tools/lib/system";
import { PRIMARY_SETTINGS, Standby, startStandby } from "../support/standby";

const DATABASE = "app";
const tempDir = scopedTempDirs(after);

/** The app's tables: varied shapes and sizes, one created before the grants were applied. */
const TABLES = [
  { name: "legacy", rows: 3, beforeGrants: true },
  { name: "customers", rows: 1, beforeGrants: false },
  { name: "orders", rows: 250, beforeGrants: false },
  { name: "Order Lines", rows: 1200, beforeGrants: false },
] as const;

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

function createTableSql(name: string, rows: number): string {
  return [
    `CREATE TABLE ${ident(name)} (id bigserial PRIMARY KEY, label text NOT NULL, amount numeric(12,2), payload jsonb, at timestamptz NOT NULL DEFAULT now());`,
    `INSERT INTO ${ident(name)} (label, amount, payload) SELECT ${`'${name.replace(/'/g, "''")} #'`} || i, i * 1.25, jsonb_build_object('i', i, 'even', i % 2 = 0) FROM generate_series(1, ${rows}) AS i;`,
  ].join("\n");
}

/** A table's rows as one value: the count and a digest of every row in id order. */
const fingerprintSql = (name: string) =>
  `SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM ${ident(name)} AS t`;

describe("the readonly role on a streaming read replica", () => {
  const model = privilegeModel();
  const passwords: Record<RoleKind, string> = {
    migrator: randomBytes(20).toString("hex"),
    app: randomBytes(20).toString("hex"),
    readonly: randomBytes(20).toString("hex"),
  };
  let primary: PostgresServer;
  let standby: Standby;
  let psqlPath: string;

  /** psql with a URL, as the app and the hooks connect; the URL's sslmode is honoured. */
  const connect = (url: string, sql: string) =>
    run([psqlPath, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-"], { input: sql });
  /** The role's URL on the standby as Database.readUris writes it: private host, port, app database, sslmode=require. */
  const replicaUrl = (role: RoleKind) =>
    connectionUri({
      user: model.roles.find((r) => r.kind === role)?.name ?? role,
      password: passwords[role],
      host: "127.0.0.1",
      port: standby.port,
      database: DATABASE,
    });
  const onReplica = (role: RoleKind, sql: string) => {
    const result = connect(replicaUrl(role), sql);
    assert.equal(result.status, 0, `${role} on the replica should run ${sql}\n${result.stderr}`);
    return result.stdout.trim();
  };
  const refusedOnReplica = (role: RoleKind, sql: string, reason: RegExp) => {
    const result = connect(replicaUrl(role), sql);
    assert.notEqual(result.status, 0, `${role} must not be able to run ${sql} on the replica`);
    assert.match(result.stderr, reason, `${role}: ${sql}`);
  };
  const onPrimary = (role: RoleKind, sql: string) => {
    const result = connect(primary.url(DATABASE, { user: role, password: passwords[role] }), sql);
    assert.equal(result.status, 0, `${role} on the primary should run ${sql}\n${result.stderr}`);
    return result.stdout.trim();
  };
  const primaryFingerprint = (name: string) => primary.psql(`SET search_path TO app; ${fingerprintSql(name)}`, DATABASE);

  before(async () => {
    psqlPath = requireTools([{ command: "psql", debianPackage: "postgresql-client" }]).psql;
    // TLS as on a managed cluster: the URLs say sslmode=require. The key belongs to the server's user.
    const tlsDir = tempDir("replica-tls");
    const [certFile, keyFile] = [join(tlsDir, "server.crt"), join(tlsDir, "server.key")];
    writeSelfSignedCertificate({ certFile, keyFile, subject: "/CN=127.0.0.1", days: 2, unprivileged: true });
    chmodSync(keyFile, 0o600);

    primary = await startPostgres({ settings: { ...PRIMARY_SETTINGS, ssl: "on", ssl_cert_file: certFile, ssl_key_file: keyFile } });
    primary.createDatabase(DATABASE);
    primary.psql(renderRoleSql(model, passwords), DATABASE);
    for (const table of TABLES.filter((t) => t.beforeGrants)) onPrimary("migrator", createTableSql(table.name, table.rows));
    primary.psql(renderGrantSql(model, DATABASE), DATABASE);
    for (const table of TABLES.filter((t) => !t.beforeGrants)) onPrimary("migrator", createTableSql(table.name, table.rows));
    standby = await startStandby(primary);
  });
  after(async () => {
    await standby?.stop();
    await primary?.stop();
  });

  it("is a hot standby in recovery, streaming from the primary, taking TLS connections", async () => {
    assert.equal(standby.psql("SELECT pg_is_in_recovery()"), "t");
    await standby.caughtUp();
    // The WAL receiver reports "catchup" until it has reached the primary's end of WAL.
    const deadline = Date.now() + 10_000;
    while (primary.psql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") !== "1") {
      assert.ok(Date.now() < deadline, `the standby is not streaming: ${primary.psql("SELECT state FROM pg_stat_replication")}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(onReplica("readonly", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), "t");
  });

  it("lets readonly log in with the primary's password and read every table as the primary has it", async () => {
    await standby.caughtUp();
    assert.equal(onReplica("readonly", "SELECT current_user || ' ' || current_schema()"), "readonly app");
    for (const table of TABLES) {
      assert.equal(onReplica("readonly", fingerprintSql(table.name)), primaryFingerprint(table.name), table.name);
      assert.match(primaryFingerprint(table.name), new RegExp(`^${table.rows}:[0-9a-f]{32}$`));
    }
    assert.equal(
      onReplica("readonly", `SELECT count(*) FROM orders o JOIN ${ident("Order Lines")} l USING (id) WHERE (o.payload->>'even')::boolean`),
      "125",
    );
    assert.equal(onReplica("readonly", "SELECT last_value FROM orders_id_seq"), "250", "and the sequences");
  });

  it("shows readonly what the primary wrote after the standby started, once replayed: new rows, new columns, new tables", async () => {
    for (const [i, table] of TABLES.entries())
      onPrimary(
        "app",
        `INSERT INTO ${ident(table.name)} (label, amount) SELECT 'late #' || n, n FROM generate_series(1, ${i * 7 + 1}) AS n`,
      );
    onPrimary("app", "UPDATE orders SET amount = amount * 2 WHERE id % 10 = 0; DELETE FROM customers WHERE id = 1");
    onPrimary("migrator", "ALTER TABLE legacy ADD COLUMN note text NOT NULL DEFAULT 'added later'");
    onPrimary("migrator", createTableSql("invoices", 40));
    await standby.caughtUp();
    for (const name of [...TABLES.map((t) => t.name), "invoices"])
      assert.equal(onReplica("readonly", fingerprintSql(name)), primaryFingerprint(name), name);
    assert.equal(onReplica("readonly", "SELECT count(*) FROM customers WHERE label = 'late #1'"), "1");
    assert.equal(onReplica("readonly", "SELECT DISTINCT note FROM legacy"), "added later");
    assert.equal(
      onReplica("readonly", "SELECT count(*) FROM invoices"),
      "40",
      "the default privileges reach a table created after the standby started",
    );
  });

  it("keeps readonly from writing there, as on the primary", () => {
    const before = TABLES.map((t) => onReplica("readonly", fingerprintSql(t.name)));
    refusedOnReplica("readonly", "INSERT INTO orders (label) VALUES ('nope')", /cannot execute INSERT in a read-only transaction/);
    refusedOnReplica("readonly", "UPDATE orders SET label = 'nope'", /cannot execute UPDATE in a read-only transaction/);
    refusedOnReplica("readonly", "DELETE FROM customers", /cannot execute DELETE in a read-only transaction/);
    refusedOnReplica("readonly", "CREATE TABLE sneaky (id int)", /cannot execute CREATE TABLE in a read-only transaction/);
    refusedOnReplica("readonly", "SELECT nextval('orders_id_seq')", /permission denied for sequence orders_id_seq/);
    refusedOnReplica(
      "readonly",
      "BEGIN READ WRITE; INSERT INTO orders (label) VALUES ('nope'); COMMIT",
      /cannot set transaction read-write mode during recovery/,
    );
    assert.deepEqual(
      TABLES.map((t) => onReplica("readonly", fingerprintSql(t.name))),
      before,
    );
  });

  it("keeps the migrator and the app role from changing anything there: every transaction is read-only", () => {
    const before = TABLES.map((t) => onReplica("readonly", fingerprintSql(t.name)));
    for (const role of ["migrator", "app"] as const) {
      assert.equal(onReplica(role, "SHOW transaction_read_only"), "on", role);
      assert.equal(onReplica(role, "SELECT count(*) FROM orders"), onReplica("readonly", "SELECT count(*) FROM orders"), `${role} reads`);
      for (const [statement, sql] of [
        ["INSERT", "INSERT INTO orders (label) VALUES ('nope')"],
        ["UPDATE", "UPDATE orders SET label = 'nope'"],
        ["DELETE", "DELETE FROM orders"],
        ["TRUNCATE TABLE", "TRUNCATE customers"],
        ["nextval()", "SELECT nextval('orders_id_seq')"],
      ] as const)
        refusedOnReplica(role, sql, new RegExp(`cannot execute ${statement.replace(/[()]/g, "\\$&")} in a read-only transaction`));
      refusedOnReplica(
        role,
        "BEGIN READ WRITE; INSERT INTO orders (label) VALUES ('nope'); COMMIT",
        /cannot set transaction read-write mode during recovery/,
      );
      refusedOnReplica(
        role,
        "SET default_transaction_read_only = off; INSERT INTO orders (label) VALUES ('nope')",
        /cannot execute INSERT in a read-only transaction/,
      );
    }
    for (const [statement, sql] of [
      ["CREATE TABLE", "CREATE TABLE sneaky (id int)"],
      ["ALTER TABLE", "ALTER TABLE orders ADD COLUMN sneaky text"],
      ["DROP TABLE", "DROP TABLE customers"],
      ["CREATE INDEX", "CREATE INDEX sneaky ON orders (label)"],
    ] as const)
      refusedOnReplica("migrator", sql, new RegExp(`cannot execute ${statement} in a read-only transaction`));
    assert.deepEqual(
      TABLES.map((t) => onReplica("readonly", fingerprintSql(t.name))),
      before,
      "nothing changed",
    );
  });

  it("turns away the readonly role with another password: the replica knows only the primary's", () => {
    const wrong = connectionUri({
      user: "readonly",
      password: randomBytes(20).toString("hex"),
      host: "127.0.0.1",
      port: standby.port,
      database: DATABASE,
    });
    const result = connect(wrong, "SELECT 1");
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /password authentication failed for user "readonly"/);
  });
});
