// npm run bench:backup [-- --size-mb N] [--rounds N] — what verification costs in the
// deploy hooks.
//
// Generates a database of about N MB (default 1024) in a throwaway local PostgreSQL
// (tools/lib/postgres.ts) with a realistic mix: customers, orders with free text and
// jsonb, and attachments that are partly incompressible (photos) and partly repetitive
// (documents), so pg_dump's compression matters. Then times each once:
//
//   raw pg_dump -Fc -f <file>     the baseline for backup.sh
//   backup.sh                     dump + streamed sha256 + pg_restore --list + metadata + fsync
//   raw pg_restore -d <fresh db>  the baseline for restore.sh
//   restore.sh <file>             sha256 check + pg_restore --single-transaction
//
// and prints seconds and ratios against the targets (backup ≤ 1.25× raw, restore ≤ 1.15×
// raw). Then it times a restore drill, the recovery time of this size: create a scratch
// database, restore.sh the newest backup into it, run the drill's check query (row counts
// and the newest order, compared with the source), drop it; printed against the 1-hour
// RTO target. The figures are printed, never enforced. Wall time on a shared machine is noisy,
// so it also prints the client-side CPU time of each run and the load average, and
// `--rounds N` repeats the four runs and reports medians. Both sides of each pair run against the
// same server with the same settings; the server runs without fsync (as in the tests),
// while both dumps are fsynced (pg_dump -f does so by default, backup.sh syncs before its
// rename).
import { mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { commandLine, integerOption } from "../cli";
import { makeTempDir, run } from "../lib/system";
import { startPostgres, type PostgresServer } from "../lib/postgres";

const HOOKS = join(__dirname, "..", "..", "components", "hooks");
const DEFAULT_SIZE_MB = 1024;
const BACKUP_TARGET = 1.25;
const RESTORE_TARGET = 1.15;
/** Recovery time objective: a full restore of the database must finish well within it. */
const RTO_TARGET_S = 3600;
const ORDERS_PER_BATCH = 40_000;
const ATTACHMENTS_PER_BATCH = 2_000;
/** Customers per MB of target size: about 200,000 for the default gigabyte. */
const CUSTOMERS_PER_MB = 200;

const COMMAND = {
  usage: "npm run bench:backup [-- --size-mb N] [--rounds N]",
  help: `
Times raw pg_dump/pg_restore against backup.sh/restore.sh on a generated database in a
throwaway local PostgreSQL, and prints seconds and ratios against the targets (backup
<= ${BACKUP_TARGET}x raw, restore <= ${RESTORE_TARGET}x raw), then times a restore drill
(scratch database, restore.sh, check query, drop) against the ${RTO_TARGET_S / 60}-minute RTO.
Figures are printed, never enforced; run it niced on a shared machine.

  --size-mb N   size of the generated database in MB (default ${DEFAULT_SIZE_MB}, at least 16)
  --rounds N    repeat the four runs N times and report medians (default 1)`,
  options: { "size-mb": { type: "string" }, rounds: { type: "string" } },
} as const;

function parseCli(argv: string[]): { sizeMb: number; rounds: number } {
  return commandLine(argv, COMMAND, ({ values }) => ({
    sizeMb: integerOption(values["size-mb"], "size-mb", 16, DEFAULT_SIZE_MB),
    rounds: integerOption(values.rounds, "rounds", 1, 1),
  }));
}

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(0);

const schema = (customers: number) => `
CREATE EXTENSION pgcrypto;
CREATE FUNCTION bench_words(n int) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT string_agg((ARRAY[
    'order', 'delivery', 'customer', 'please', 'call', 'before', 'arrival', 'leave', 'at', 'door',
    'fragile', 'gift', 'wrap', 'invoice', 'attached', 'refund', 'requested', 'damaged', 'box', 'thanks',
    'the', 'and', 'with', 'for', 'from', 'new', 'address', 'street', 'floor', 'building',
    'weekend', 'morning', 'evening', 'express', 'standard', 'pickup', 'warehouse', 'berlin', 'paris', 'lisbon',
    'size', 'colour', 'blue', 'red', 'green', 'large', 'small', 'medium', 'returned', 'exchange',
    'coupon', 'applied', 'loyalty', 'points', 'review', 'five', 'stars', 'late', 'early', 'confirmed',
    'über', 'café', 'naïve', 'façade'
  ])[1 + floor(random() * 64)::int], ' ') FROM generate_series(1, n)
$$;
CREATE TABLE customers (
  id int PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL,
  country char(2) NOT NULL,
  created_at timestamptz NOT NULL,
  lifetime_value numeric(12, 2) NOT NULL
);
INSERT INTO customers
  SELECT g, initcap(bench_words(2)), 'customer' || g || '@example.com',
         (ARRAY['DE', 'FR', 'PT', 'NL', 'US', 'GB'])[1 + floor(random() * 6)::int],
         now() - random() * interval '1500 days', round((random() * 5000)::numeric, 2)
  FROM generate_series(1, ${customers}) g;
CREATE TABLE orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id int NOT NULL REFERENCES customers (id),
  status text NOT NULL,
  total numeric(12, 2) NOT NULL,
  placed_at timestamptz NOT NULL,
  notes text,
  payload jsonb NOT NULL
);
CREATE TABLE attachments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id bigint NOT NULL,
  kind text NOT NULL,
  filename text NOT NULL,
  content bytea NOT NULL
);
`;

const ordersBatch = (customers: number) => `
INSERT INTO orders (customer_id, status, total, placed_at, notes, payload)
  SELECT 1 + floor(random() * ${customers})::int,
         (ARRAY['pending', 'paid', 'shipped', 'delivered', 'refunded'])[1 + floor(random() * 5)::int],
         round((random() * 900 + 5)::numeric, 2),
         now() - random() * interval '730 days',
         CASE WHEN random() < 0.7 THEN bench_words(8 + floor(random() * 25)::int) END,
         jsonb_build_object(
           'sku', 'SKU-' || floor(random() * 100000)::int,
           'quantity', 1 + floor(random() * 9)::int,
           'gift', random() < 0.1,
           'session', md5(random()::text),
           'lines', jsonb_build_array(
             jsonb_build_object('sku', 'SKU-' || floor(random() * 100000)::int, 'price', round((random() * 100)::numeric, 2)),
             jsonb_build_object('sku', 'SKU-' || floor(random() * 100000)::int, 'price', round((random() * 100)::numeric, 2))))
  FROM generate_series(1, ${ORDERS_PER_BATCH});
`;

// A quarter are photos (random bytes, incompressible), the rest documents (text that
// compresses several times over, with some random identifiers in it).
const ATTACHMENTS_BATCH = `
INSERT INTO attachments (order_id, kind, filename, content)
  SELECT o.id, kind, kind || '-' || o.id || CASE kind WHEN 'photo' THEN '.jpg' ELSE '.txt' END,
         CASE kind
           WHEN 'photo' THEN gen_random_bytes(1024) || gen_random_bytes(1024) || gen_random_bytes(1024) || gen_random_bytes(512)
           ELSE convert_to(repeat(bench_words(40) || ' ' || md5(random()::text) || E'\\n', 12), 'UTF8')
         END
  FROM (SELECT 1 + floor(random() * (SELECT max(id) FROM orders))::bigint AS id,
               CASE WHEN random() < 0.25 THEN 'photo' ELSE 'document' END AS kind
        FROM generate_series(1, ${ATTACHMENTS_PER_BATCH})) o;
`;

const INDEXES = `
CREATE UNIQUE INDEX customers_email ON customers (email);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_placed_at ON orders (placed_at);
CREATE INDEX attachments_order ON attachments (order_id);
`;
// Hint bits and the visibility map, as autovacuum leaves a live database: otherwise the
// first dump to read the fresh rows pays for writing them and the comparison is skewed.
const SETTLE = "VACUUM (FREEZE, ANALYZE);";

function generate(pg: PostgresServer, database: string, sizeMb: number): number {
  pg.createDatabase(database);
  const started = performance.now();
  const size = () => Number(pg.psql("SELECT pg_database_size(current_database())", database));
  const customers = sizeMb * CUSTOMERS_PER_MB;
  pg.psql(schema(customers), database);
  // Indexes come last and add a few percent; stop the tables short of the target.
  const tableTarget = sizeMb * MB * 0.92;
  let current = size();
  let lastReport = 0;
  while (current < tableTarget) {
    pg.psql(ordersBatch(customers) + ATTACHMENTS_BATCH, database);
    current = size();
    if (current - lastReport >= sizeMb * MB * 0.1 || current >= tableTarget) {
      lastReport = current;
      console.log(`  generating: ${mb(current)} of ~${sizeMb} MB (${seconds(performance.now() - started)} s)`);
    }
  }
  pg.psql(INDEXES, database);
  pg.psql(SETTLE, database);
  current = size();
  console.log(`  generated ${mb(current)} MB with indexes in ${seconds(performance.now() - started)} s`);
  return current;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

const CLOCK_TICKS_PER_SECOND = Number(run(["getconf", "CLK_TCK"]).stdout.trim()) || 100;

/**
 * CPU time of every finished child process and its descendants (Linux cutime + cstime):
 * the client side of a run (pg_dump, tee, sha256sum, pg_restore), which, unlike wall
 * time, other load on the machine barely moves. The server's own work is not in it.
 */
function childCpuMs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** Runs a command to completion and times it; throws with its stderr on failure. */
function timed(what: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Timing & { stdout: string } {
  const cpuBefore = childCpuMs();
  const started = performance.now();
  const result = run(argv, { env });
  const wallMs = performance.now() - started;
  const cpuMs = childCpuMs() - cpuBefore;
  if (result.status !== 0) throw new Error(`${what} failed (${result.status}):\n${result.stderr}`);
  console.log(`  ${what.padEnd(16)} ${seconds(wallMs).padStart(7)} s wall ${seconds(cpuMs).padStart(7)} s client CPU`);
  return { wallMs, cpuMs, stdout: result.stdout };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function rowCounts(pg: PostgresServer, database: string): string {
  return pg.psql("SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders), (SELECT count(*) FROM attachments)", database);
}

/**
 * The drill's check query: what an operator looks at before pointing the app at a restored
 * database (every table's rows, and that the newest write is there).
 */
function drillCheck(pg: PostgresServer, database: string): string {
  return pg.psql(
    "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders), (SELECT count(*) FROM attachments)," +
      " (SELECT max(placed_at) FROM orders)",
    database,
  );
}

const loadAverages = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

/** Ratios are taken per round (both runs saw the same load), then the median is reported. */
function report(what: string, raw: Timing[], scripted: Timing[], target: number): void {
  const ratios = (of: (t: Timing) => number) => median(scripted.map((t, round) => of(t) / of(raw[round])));
  const wall = ratios((t) => t.wallMs);
  const cpu = ratios((t) => t.cpuMs);
  const perRound = scripted.map((t, round) => (t.wallMs / raw[round].wallMs).toFixed(2)).join(", ");
  console.log(
    `  ${what}: raw ${seconds(median(raw.map((t) => t.wallMs)))} s, script ${seconds(median(scripted.map((t) => t.wallMs)))} s` +
      ` → ${wall.toFixed(2)}× wall (target ≤ ${target.toFixed(2)}×: ${wall <= target ? "met" : "MISSED"}; rounds ${perRound}),` +
      ` ${cpu.toFixed(2)}× client CPU`,
  );
}

async function main(): Promise<void> {
  const { sizeMb, rounds } = parseCli(process.argv.slice(2));
  console.log(`bench:backup — database of ~${sizeMb} MB, ${rounds} round(s); load average ${loadAverages()} (1, 5, 15 min)`);
  const pg = await startPostgres({
    settings: { max_wal_size: "16GB", checkpoint_timeout: "1h", maintenance_work_mem: "256MB", shared_buffers: "256MB" },
  });
  const stopServer = () => void pg.stop().finally(() => process.exit(130));
  process.once("SIGINT", stopServer);
  process.once("SIGTERM", stopServer);
  const work = makeTempDir("bench-backup");
  try {
    console.log(`PostgreSQL ${pg.psql("SHOW server_version")} on 127.0.0.1:${pg.port}, ${cpus().length} CPUs`);
    const databaseBytes = generate(pg, "bench", sizeMb);
    const expectedRows = rowCounts(pg, "bench");
    const hookEnv = (vars: Record<string, string>) => ({ PATH: process.env.PATH, ...vars });
    const rawDump = join(work, "raw.dump");
    const backupDir = join(work, "backups");
    mkdirSync(backupDir);
    const times = { rawDump: [] as Timing[], backup: [] as Timing[], rawRestore: [] as Timing[], restore: [] as Timing[] };
    const loadBefore = loadavg()[0];
    let backupFile = "";
    // Each run starts from the same state (no dirty pages or WAL left by the previous
    // one), and the order within a pair alternates, so neither side pays for the other.
    const settle = () => {
      pg.psql("CHECKPOINT");
      run(["sync"]);
    };
    const rawDumpRun = () => {
      rmSync(rawDump, { force: true });
      settle();
      times.rawDump.push(timed("raw pg_dump -Fc", ["pg_dump", "--format=custom", `--file=${rawDump}`, `--dbname=${pg.url("bench")}`]));
    };
    const backupRun = () => {
      settle();
      const backup = timed(
        "backup.sh",
        [join(HOOKS, "backup.sh")],
        hookEnv({ DATABASE_URL: pg.url("bench"), BACKUP_DIR: backupDir, BACKUP_KEEP: "1" }),
      );
      times.backup.push(backup);
      backupFile = backup.stdout.trimEnd().split("\n").at(-1) ?? "";
    };
    const restoreRun = (database: string, what: string, argv: string[], env?: NodeJS.ProcessEnv) => {
      pg.createDatabase(database);
      settle();
      const timing = timed(what, argv, env);
      const rows = rowCounts(pg, database);
      if (rows !== expectedRows) throw new Error(`${database} has rows ${rows}, expected ${expectedRows}`);
      pg.dropDatabase(database);
      return timing;
    };
    const rawRestoreRun = () =>
      times.rawRestore.push(restoreRun("restored_raw", "raw pg_restore", ["pg_restore", `--dbname=${pg.url("restored_raw")}`, rawDump]));
    const restoreScriptRun = () =>
      times.restore.push(
        restoreRun(
          "restored_script",
          "restore.sh",
          [join(HOOKS, "restore.sh"), backupFile],
          hookEnv({ DATABASE_URL: pg.url("restored_script") }),
        ),
      );
    for (let round = 1; round <= rounds; round++) {
      const rawFirst = round % 2 === 1;
      console.log(`round ${round} (${rawFirst ? "raw first" : "scripts first"}):`);
      for (const step of rawFirst ? [rawDumpRun, backupRun] : [backupRun, rawDumpRun]) step();
      for (const step of rawFirst ? [rawRestoreRun, restoreScriptRun] : [restoreScriptRun, rawRestoreRun]) step();
    }

    console.log(
      `results (medians over ${rounds} round(s); load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after):`,
    );
    console.log(
      `  database ${mb(databaseBytes)} MB; dumps: raw ${mb(statSync(rawDump).size)} MB, backup.sh ${mb(statSync(backupFile).size)} MB`,
    );
    report("backup ", times.rawDump, times.backup, BACKUP_TARGET);
    report("restore", times.rawRestore, times.restore, RESTORE_TARGET);
    console.log("  every restore reproduced the source's row counts");

    // The drill, timed end to end as an operator would run it: nothing is created beforehand.
    console.log("restore drill (create scratch database, restore.sh, check query, drop):");
    const expectedCheck = drillCheck(pg, "bench");
    settle();
    const drillStarted = performance.now();
    pg.createDatabase("drill_scratch");
    const drillRestore = timed("restore.sh", [join(HOOKS, "restore.sh"), backupFile], hookEnv({ DATABASE_URL: pg.url("drill_scratch") }));
    const checkStarted = performance.now();
    const check = drillCheck(pg, "drill_scratch");
    const checkMs = performance.now() - checkStarted;
    pg.dropDatabase("drill_scratch");
    const drillMs = performance.now() - drillStarted;
    if (check !== expectedCheck) throw new Error(`the drill's check query found ${check}, expected ${expectedCheck}`);
    console.log(
      `  RTO of a ${mb(databaseBytes)} MB database: ${seconds(drillMs)} s (restore ${seconds(drillRestore.wallMs)} s, check ${seconds(checkMs)} s)` +
        ` against ${RTO_TARGET_S / 60} min (${drillMs / 1000 <= RTO_TARGET_S ? "met" : "MISSED"}, ${((drillMs / 1000 / RTO_TARGET_S) * 100).toFixed(1)}% of it);` +
        ` check query ${check.replace(/\|/g, ", ")} matched the source`,
    );
    console.log(`load average at the end: ${loadAverages()} (1, 5, 15 min)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    await pg.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
