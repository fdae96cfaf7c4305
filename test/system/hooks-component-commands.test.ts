// The shell the Hooks component runs on the droplet, executed for real: bash runs the
// rendered backup, migrate and smoke commands against a real PostgreSQL and a real HTTPS
// server on loopback. Only docker is a stand-in: it records its arguments and runs each
// container's command here with exactly the environment docker would pass (its -e and
// --env-file values), so the hook scripts, psql, pg_dump and the migration all run for real.
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  HookPaths,
  backupStdin,
  migrateStdin,
  renderBackupCommand,
  renderMigrateCommand,
  renderPrepareCommand,
  renderSmokeCommand,
  renderVerifyCommand,
  renderWatchCommand,
  healthSmokeCheck,
} from "../../components/hooks/commands";
import { startPostgres, type PostgresServer } from "../../tools/lib/postgres";
import { type Finished, freePort, makeTempDir, requireTools, run, runAsync, writeSelfSignedCertificate } from "../../tools/lib/system";
import { installFakeDocker, type FakeDocker } from "./fake-docker";

const HOOKS_SOURCE = join(__dirname, "..", "..", "components", "hooks");
const IMAGE = `ghcr.io/acme/api:2.4.0@sha256:${"3f".repeat(32)}`;

/** Runs a rendered command the way sshd does (bash -c), feeding `stdin`. */
function runHook(script: string, stdin: string, env: NodeJS.ProcessEnv): Promise<Finished> {
  return runAsync(["bash", "-c", script], { input: stdin, env });
}

describe("backup and migrate hooks on a real PostgreSQL", () => {
  let pg: PostgresServer;
  let root: string;
  let env: NodeJS.ProcessEnv;
  let docker: FakeDocker;
  let dockerLog: string;
  let remoteDir: string;
  let paths: HookPaths;
  let databaseUrl: string;
  let databaseCounter = 0;

  before(async () => {
    requireTools([
      { command: "bash", debianPackage: "bash" },
      { command: "mkfifo", debianPackage: "coreutils" },
    ]);
    pg = await startPostgres();
    root = makeTempDir("hooks-commands");
    docker = installFakeDocker(root);
    ({ env, logFile: dockerLog, remoteDir } = docker);
    // The scripts run from where the Hooks component copies them, so copy them too.
    paths = { hooksDir: join(root, "hooks"), backupDir: join(root, "backups"), runDir: join(root, "run"), statusDir: join(root, "status") };
    for (const dir of Object.values(paths)) mkdirSync(dir, { recursive: true });
    for (const file of ["lib.sh", "backup.sh", "migrate.sh", "restore.sh"]) {
      writeFileSync(join(paths.hooksDir, file), readFileSync(join(HOOKS_SOURCE, file)));
    }
  });
  after(async () => {
    await pg?.stop();
  });

  /** A fresh database per test, with its own backups dir. */
  function freshDatabase(): { url: string; paths: HookPaths } {
    const name = `app${++databaseCounter}`;
    pg.createDatabase(name);
    pg.psql("CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL); INSERT INTO accounts VALUES (1, 'ada'), (2, 'grace');", name);
    databaseUrl = pg.url(name);
    const backupDir = join(root, `backups-${name}`);
    mkdirSync(backupDir);
    return { url: databaseUrl, paths: { ...paths, backupDir } };
  }

  const backupCommand = (p: HookPaths, offsite = false) =>
    renderBackupCommand({
      network: "dropstack",
      clientImage: "postgres:16.6-bookworm",
      label: IMAGE,
      keep: 3,
      paths: p,
      ...(offsite ? { offsite: { bucket: "acme-backups", endpoint: "https://fra1.digitaloceanspaces.com", prefix: "postgres/" } } : {}),
    });
  const migrateCommand = (p: HookPaths, migrate: string) =>
    renderMigrateCommand({
      network: "dropstack",
      clientImage: "postgres:16.6-bookworm",
      image: IMAGE,
      migrate,
      maxBackupAgeSeconds: 600,
      lockTimeoutSeconds: 30,
      paths: p,
    });
  const dockerInvocations = () => docker.invocations();

  test("backup: a verified dump lands in BACKUP_DIR, labelled with the image; the dump and its .json go off-site", async () => {
    const db = freshDatabase();
    const keys = { accessKeyId: "DO00MOCKACCESSKEY", secretAccessKey: "mock-spaces-secret-value-9f8e7d" };
    const result = await runHook(backupCommand(db.paths, true), backupStdin({ databaseUrl: db.url, offsite: keys }), env);
    assert.equal(result.status, 0, result.stderr);
    const backup = result.stdout.trim().split("\n").at(-1) ?? "";
    assert.match(backup, new RegExp(`^${db.paths.backupDir}/app\\d+-.*\\.dump$`));
    const metadata = JSON.parse(readFileSync(`${backup}.json`, "utf8")) as { label: string; bytes: number };
    assert.equal(metadata.label, IMAGE);
    assert.equal(readFileSync(backup).length, metadata.bytes);

    const copied = join(remoteDir, "acme-backups", "postgres", backup.split("/").at(-1) ?? "");
    assert.deepEqual(readFileSync(copied), readFileSync(backup));
    assert.deepEqual(readFileSync(`${copied}.json`), readFileSync(`${backup}.json`));
    const rcloneEnv = readFileSync(`${copied}.env`, "utf8").split("\n");
    for (const line of [
      `RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID=${keys.accessKeyId}`,
      `RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY=${keys.secretAccessKey}`,
      "RCLONE_CONFIG_OFFSITE_TYPE=s3",
      "RCLONE_CONFIG_OFFSITE_PROVIDER=DigitalOcean",
      "RCLONE_CONFIG_OFFSITE_ENDPOINT=https://fra1.digitaloceanspaces.com",
    ])
      assert.ok(rcloneEnv.includes(line), `rclone lacks ${line}`);

    const log = readFileSync(dockerLog, "utf8");
    for (const secret of [pg.password, keys.accessKeyId, keys.secretAccessKey]) {
      assert.ok(!log.includes(secret), "a secret reached docker's command line");
      assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), "a secret reached the command's output");
    }
  });

  test("backup: a database that cannot be dumped fails the hook and copies nothing off-site", async () => {
    const db = freshDatabase();
    const wrong = db.url.replace(pg.password, "not-the-password");
    const before = existsSync(remoteDir) ? readdirSync(remoteDir, { recursive: true }).length : 0;
    const result = await runHook(
      backupCommand(db.paths, true),
      backupStdin({ databaseUrl: wrong, offsite: { accessKeyId: "k", secretAccessKey: "s" } }),
      env,
    );
    assert.notEqual(result.status, 0);
    assert.deepEqual(readdirSync(db.paths.backupDir), []);
    assert.equal(existsSync(remoteDir) ? readdirSync(remoteDir, { recursive: true }).length : 0, before);
  });

  test("backup: without the secrets on stdin it stops before starting a container", async () => {
    const db = freshDatabase();
    const calls = dockerInvocations().length;
    const result = await runHook(backupCommand(db.paths), "", env);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /database URL did not arrive on stdin/);
    assert.equal(dockerInvocations().length, calls);
  });

  test("migrate: the split POSTGRES_* variables connect the migration as the migrator too, whatever printable characters its name and password have", async () => {
    const db = freshDatabase();
    const database = `app${databaseCounter}`;
    assert.equal((await runHook(backupCommand(db.paths), backupStdin({ databaseUrl: db.url }), env)).status, 0);
    const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join("");
    const migrator = { user: `mig:r@tor/${databaseCounter} "x"`, password: `  ${printable}  ` };
    const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;
    pg.psql(`CREATE ROLE "${migrator.user.replace(/"/g, '""')}" LOGIN PASSWORD ${literal(migrator.password)}`);
    const observed = join(root, `observed-split-${databaseCounter}`);
    // Only the split variables: PGPASSWORD and the flags, the way an app's settings build a connection from them.
    const migration = `PGPASSWORD="$POSTGRES_PASSWORD" psql -X -A -t -h "$POSTGRES_HOST" -p "$POSTGRES_PORT" -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c 'SELECT current_user, current_database()' > '${observed}'`;
    const appEnvironment = { DATABASE_URL: "postgresql://app:pool@pool.invalid/app", POSTGRES_USER: "app", POSTGRES_PASSWORD: "pool" };
    const result = await runHook(migrateCommand(db.paths, migration), migrateStdin(pg.url(database, migrator), appEnvironment), env);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(observed, "utf8").trim(), `${migrator.user}|${database}`);
  });

  test("migrate: after a backup, the migration runs in the app image with the app's environment, as the migrator, holding the lock", async () => {
    const db = freshDatabase();
    assert.equal((await runHook(backupCommand(db.paths), backupStdin({ databaseUrl: db.url }), env)).status, 0);
    const observed = join(root, `observed-${databaseCounter}`);
    const migration = [
      `psql -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c 'ALTER TABLE accounts ADD COLUMN email text'`,
      `locks=$(psql -X -A -t -d "$DATABASE_URL" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")`,
      `printf '%s|%s|%s\\n' "$APP_SETTING" "$DATABASE_URL" "$locks" > '${observed}'`,
    ].join(" && ");
    const appEnvironment = { APP_SETTING: "from-app-env", DATABASE_URL: "postgresql://app:pool@pool.invalid/app" };
    const result = await runHook(migrateCommand(db.paths, migration), migrateStdin(db.url, appEnvironment), env);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(
      pg.psql(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'email'",
        `app${databaseCounter}`,
      ),
      "1",
    );
    const [setting, url, locks] = readFileSync(observed, "utf8").trim().split("|");
    assert.equal(setting, "from-app-env");
    assert.equal(url, db.url, "the migration runs as the migrator, not through the app's pool");
    assert.equal(locks, "1", "migrate.sh's advisory lock is held while the migration runs");
    assert.equal(pg.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), "0", "the lock is released afterwards");
    assert.deepEqual(readdirSync(paths.runDir), [], "the hand-off directory is removed");

    const images = dockerInvocations()
      .filter((args) => args[0] === "run")
      .map((args) => args.find((a) => a.includes("postgres:") || a === IMAGE));
    assert.ok(images.includes(IMAGE), "the migration ran in the app image");
    assert.ok(!readFileSync(dockerLog, "utf8").includes(pg.password), "the database password reached docker's command line");
  });

  test("migrate: without a fresh backup nothing runs and the hook fails", async () => {
    const db = freshDatabase();
    const marker = join(root, `ran-${databaseCounter}`);
    const result = await runHook(migrateCommand(db.paths, `touch '${marker}'`), migrateStdin(db.url, {}), env);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /refusing to migrate/);
    assert.match(result.stderr, /nothing was migrated/);
    assert.equal(existsSync(marker), false);
    assert.deepEqual(readdirSync(paths.runDir), []);
  });

  test("migrate: a hand-off directory that cannot be made stops the hook before any container starts", async () => {
    const db = freshDatabase();
    assert.equal((await runHook(backupCommand(db.paths), backupStdin({ databaseUrl: db.url }), env)).status, 0);
    const runsBefore = dockerInvocations().filter((args) => args[0] === "run").length;
    const missing = { ...db.paths, runDir: join(root, "no-such-run-dir") };
    const marker = join(root, `ran-${databaseCounter}`);
    const result = await runHook(migrateCommand(missing, `touch '${marker}'`), migrateStdin(db.url, {}), env);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /mktemp: failed to create directory/);
    assert.equal(dockerInvocations().filter((args) => args[0] === "run").length, runsBefore, "no container started");
    assert.equal(existsSync(marker), false);
  });

  test("handoff.sh without one of its pinned parameters names it and starts nothing", async () => {
    const parameters: Record<string, string> = {
      NETWORK: "dropstack",
      CLIENT_IMAGE: "postgres:16.6-bookworm",
      APP_IMAGE: IMAGE,
      MIGRATION: "true",
      HOOKS_DIR: paths.hooksDir,
      BACKUP_DIR: paths.backupDir,
      RUN_DIR: paths.runDir,
      BACKUP_MAX_AGE_S: "600",
      MIGRATE_LOCK_TIMEOUT_S: "30",
    };
    const runsBefore = dockerInvocations().filter((args) => args[0] === "run").length;
    for (const name of Object.keys(parameters)) {
      const rest = Object.fromEntries(Object.entries(parameters).filter(([key]) => key !== name));
      const result = await runAsync(["bash", join(HOOKS_SOURCE, "handoff.sh")], {
        env: { ...env, ...rest },
        input: `${pg.url("postgres")}\n`,
      });
      assert.notEqual(result.status, 0, name);
      assert.match(result.stderr, new RegExp(`${name}: parameter null or not set`), name);
    }
    assert.equal(dockerInvocations().filter((args) => args[0] === "run").length, runsBefore, "no container started");
  });

  test("migrate: without the database URL on stdin it says so and starts nothing", async () => {
    const db = freshDatabase();
    const runsBefore = dockerInvocations().filter((args) => args[0] === "run").length;
    const result = await runHook(migrateCommand(db.paths, "true"), "", env);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /the database URL did not arrive on stdin/);
    assert.equal(dockerInvocations().filter((args) => args[0] === "run").length, runsBefore, "no container started");
  });

  for (const [signal, number] of [
    ["SIGHUP", 1],
    ["SIGINT", 2],
    ["SIGTERM", 15],
  ] as const) {
    test(`migrate: ${signal} during the migration, and again during the cleanup: the migration is waited for before the lock goes; exit ${128 + number}`, async () => {
      const db = freshDatabase();
      assert.equal((await runHook(backupCommand(db.paths), backupStdin({ databaseUrl: db.url }), env)).status, 0);
      const dir = makeTempDir("handoff-signal");
      const migration = `touch '${dir}/started'; sleep 3; touch '${dir}/finished'`;
      // Its own process group, so whatever a broken hook leaves running is killed afterwards.
      const child = spawn("bash", ["-c", migrateCommand(db.paths, migration)], { env, stdio: ["pipe", "ignore", "pipe"], detached: true });
      child.stdin.on("error", () => {});
      child.stdin.end(migrateStdin(db.url, {}));
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      try {
        for (let waited = 0; !existsSync(join(dir, "started")); waited += 50) {
          assert.ok(waited < 60_000, `the migration never started: ${stderr}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        child.kill(signal);
        await new Promise((r) => setTimeout(r, 300));
        child.kill(signal);
        const status = await exited;
        assert.equal(status, 128 + number, stderr);
        assert.ok(existsSync(join(dir, "finished")), "the hook ended before the migration did");
        assert.equal(pg.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), "0", "the lock is released afterwards");
        assert.deepEqual(readdirSync(paths.runDir), [], "the hand-off directory is removed");
      } finally {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          // Nothing left of the group.
        }
        child.stderr.destroy();
      }
    });
  }

  test("migrate: a failed migration fails the hook with its exit status and releases the lock", async () => {
    const db = freshDatabase();
    assert.equal((await runHook(backupCommand(db.paths), backupStdin({ databaseUrl: db.url }), env)).status, 0);
    const result = await runHook(migrateCommand(db.paths, "echo 'migration broke' >&2; exit 7"), migrateStdin(db.url, {}), env);
    assert.equal(result.status, 7);
    assert.match(result.stderr, /migration broke/);
    assert.equal(pg.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), "0");
  });

  test("migrate: two deploys at once never migrate concurrently", async () => {
    const db = freshDatabase();
    assert.equal((await runHook(backupCommand(db.paths), backupStdin({ databaseUrl: db.url }), env)).status, 0);
    const spans = join(root, `spans-${databaseCounter}`);
    const migration = `start=$(date +%s%N); sleep 1; printf '%s %s\\n' "$start" "$(date +%s%N)" >> '${spans}'`;
    const results = await Promise.all([1, 2].map(() => runHook(migrateCommand(db.paths, migration), migrateStdin(db.url, {}), env)));
    for (const r of results) assert.equal(r.status, 0, r.stderr);
    const [first, second] = readFileSync(spans, "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split(" ").map(BigInt))
      .sort((a, b) => (a[0] < b[0] ? -1 : 1));
    assert.ok(second[0] >= first[1], "the second migration started before the first one ended");
  });
});

describe("smoke hook against a real HTTPS server", () => {
  const HOST = "api.dropstack.test";
  let server: Server;
  let port: number;
  let responses: number[] = [];
  let requests = 0;

  before(async () => {
    requireTools([{ command: "curl", debianPackage: "curl" }]);
    const dir = makeTempDir("smoke");
    writeSelfSignedCertificate({
      certFile: join(dir, "cert.pem"),
      keyFile: join(dir, "key.pem"),
      subject: `/CN=${HOST}`,
      days: 1,
      extensions: [`subjectAltName=DNS:${HOST}`],
    });
    port = await freePort();
    server = createServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, (req, res) => {
      requests++;
      res.statusCode = req.url === "/health" ? (responses.shift() ?? 200) : 404;
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  });
  after(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  const smoke = (insecure: boolean, path = "/health") =>
    runHook(
      renderSmokeCommand({ checks: [healthSmokeCheck(HOST, path)], insecure, port, retries: 3, retryDelaySeconds: 1 }),
      "",
      process.env,
    );

  test("passes when the health path answers 2xx, retrying while the upstream still answers 503", async () => {
    responses = [503, 503];
    requests = 0;
    const result = await smoke(true);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(requests, 3);
    assert.match(result.stdout, /answered HTTP 200/);
  });

  test("fails at once on a 404: a wrong health path is not retried", async () => {
    requests = 0;
    const result = await smoke(true, "/missing");
    assert.notEqual(result.status, 0);
    assert.equal(requests, 1);
  });

  test("fails when the upstream never turns healthy", async () => {
    responses = [500, 500, 500, 500, 500];
    const result = await smoke(true);
    assert.notEqual(result.status, 0);
    responses = [];
  });

  test("verifies the certificate unless tls.staging: an untrusted certificate fails the production smoke test", async () => {
    requests = 0;
    const result = await smoke(false);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /certificate/i);
  });
});

test("every rendered hook command passes shellcheck", () => {
  const { shellcheck } = requireTools([{ command: "shellcheck", debianPackage: "shellcheck" }]);
  const dir = makeTempDir("hooks-shellcheck");
  const scripts = {
    "prepare.sh": renderPrepareCommand(),
    "backup.sh": renderBackupCommand({ network: "dropstack", clientImage: "postgres:16.6-bookworm", label: IMAGE, keep: 7 }),
    "backup-offsite.sh": renderBackupCommand({
      network: "dropstack",
      clientImage: "postgres:16.6-bookworm",
      label: IMAGE,
      keep: 7,
      offsite: { bucket: "b", endpoint: "https://fra1.digitaloceanspaces.com", prefix: "postgres/" },
    }),
    "migrate.sh": renderMigrateCommand({
      network: "dropstack",
      clientImage: "postgres:16.6-bookworm",
      image: IMAGE,
      migrate: "alembic upgrade head",
    }),
    "smoke.sh": renderSmokeCommand({ checks: [healthSmokeCheck("api.example.com", "/health")], insecure: false }),
    "verify.sh": renderVerifyCommand({
      network: "dropstack",
      clientImage: "postgres:16.6-bookworm",
      assertions: [
        { name: "43 tables", query: "SELECT count(*) = 43 FROM information_schema.tables WHERE table_schema = 'app'" },
        { name: "it's quoted", query: "SELECT $$x$$ = 'x'" },
      ],
    }),
    "watch.sh": renderWatchCommand({
      nginxContainer: "nginx-1",
      windowSeconds: 300,
      max5xxPercent: 1,
      p95LatencyMs: 2000,
      minRequests: 20,
      currentImage: `sha256:${"c".repeat(64)}`,
      stack: "production",
      ignoredHosts: [],
      rollback: true,
    }),
    "smoke-token.sh": renderSmokeCommand({
      checks: [
        healthSmokeCheck("api.example.com", "/health"),
        { method: "GET", host: "api.example.com", path: "/api/me", status: 200, token: true },
      ],
      insecure: false,
      token: { url: "https://acme.eu.auth0.com/oauth/token", audience: "https://api.example.com" },
    }),
  };
  const files = Object.entries(scripts).map(([file, text]) => {
    writeFileSync(join(dir, file), `#!/bin/bash\n${text}\n`);
    return join(dir, file);
  });
  const result = run([shellcheck, "--severity=style", ...files]);
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
