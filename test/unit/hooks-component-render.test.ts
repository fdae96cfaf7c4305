// The hook commands' pure rendering: what goes on stdin (secrets) versus into the command
// text (everything else), the pinned images, and input validation.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  DROPLET_PATHS,
  HOOK_SCRIPTS,
  RCLONE_IMAGE,
  backupStdin,
  migrateStdin,
  postgresClientImage,
  renderBackupCommand,
  renderDeferredUpdate,
  renderMigrateCommand,
  renderSmokeCommand,
  healthSmokeCheck,
  smokeChecks,
  smokeStdin,
} from "../../components/hooks/commands";
import { scriptDigest } from "../../components/hooks";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const IMAGE = `ghcr.io/acme/api:2.4.0@sha256:${"c0".repeat(32)}`;
const DATABASE_URL = "postgresql://migrator:s3cret-pass@private-db.example.com:25060/app?sslmode=require";

describe("hook stdin", () => {
  it("backup: the database URL, then the Spaces key pair when copying off-site", () => {
    assert.equal(backupStdin({ databaseUrl: DATABASE_URL }), `${DATABASE_URL}\n`);
    assert.equal(
      backupStdin({ databaseUrl: DATABASE_URL, offsite: { accessKeyId: "AK", secretAccessKey: "SK" } }),
      `${DATABASE_URL}\nAK\nSK\n`,
    );
  });

  it("migrate: the migrator URI, then the app's environment with its connection replaced by the migrator's", () => {
    const stdin = migrateStdin(DATABASE_URL, {
      DATABASE_URL: "postgresql://app@pool/app",
      POSTGRES_HOST: "pool",
      POSTGRES_PORT: "25061",
      POSTGRES_USER: "app",
      POSTGRES_PASSWORD: "pool-password",
      POSTGRES_DB: "app-pool",
      SECRET_KEY: "k=v=w",
      LOG_LEVEL: "info",
    });
    assert.deepEqual(stdin.split("\n"), [
      DATABASE_URL,
      "DATABASE_URL=" + DATABASE_URL,
      "POSTGRES_HOST=private-db.example.com",
      "POSTGRES_PORT=25060",
      "POSTGRES_USER=migrator",
      "POSTGRES_PASSWORD=s3cret-pass",
      "POSTGRES_DB=app",
      "SECRET_KEY=k=v=w",
      "LOG_LEVEL=info",
      "",
    ]);
  });

  it("refuses values that would split into two lines, and names that are not variables", () => {
    assert.throws(() => migrateStdin(DATABASE_URL, { PEM: "-----BEGIN\nKEY-----" }), /PEM contains a line break/);
    assert.throws(() => migrateStdin(DATABASE_URL, { "BAD-NAME": "x" }), /"BAD-NAME" is not an environment variable name/);
    assert.throws(() => backupStdin({ databaseUrl: "postgresql://a\r\n@b/c" }), /database URL contains a line break/);
  });
});

describe("hook command text", () => {
  const offsite = { bucket: "acme-backups-x1", endpoint: "https://fra1.digitaloceanspaces.com", prefix: "postgres/" };
  const backup = renderBackupCommand({ network: "dropstack", clientImage: postgresClientImage("16"), label: IMAGE, keep: 14, offsite });
  const migrate = renderMigrateCommand({
    network: "dropstack",
    clientImage: postgresClientImage("16"),
    image: IMAGE,
    migrate: "alembic upgrade head",
  });

  it("backup runs backup.sh in the pinned client image on the app network with the label and retention", () => {
    assert.match(backup, /'postgres:16\.6-bookworm' \\\n {2}bash '\/srv\/dropstack\/hooks\/backup\.sh'/);
    assert.match(backup, /--network 'dropstack'/);
    assert.ok(backup.includes(`-e 'BACKUP_LABEL=${IMAGE}'`));
    assert.ok(backup.includes("-e 'BACKUP_KEEP=14'"));
    assert.ok(backup.includes(`-v '${DROPLET_PATHS.backupDir}:${DROPLET_PATHS.backupDir}'`));
    assert.ok(backup.includes(`'${RCLONE_IMAGE}'`) && /^rclone\/rclone:\d+\.\d+\.\d+$/.test(RCLONE_IMAGE));
    assert.ok(backup.includes("'offsite:acme-backups-x1/postgres/'\"${file##*/}\""));
  });

  it("passes secrets only by reference: the text holds variable names, never values", () => {
    for (const text of [backup, migrate]) {
      assert.ok(!/--env (DATABASE_URL|RCLONE)/.test(text), "no --env NAME: values come from env files");
      assert.match(text, /--env-file <\(printf /);
      assert.ok(!text.includes("s3cret"), "no secret in the command");
    }
  });

  it("migrate hands the migration to the app image and never mounts the docker socket or uses the host network", () => {
    // handoff.sh runs "$APP_IMAGE" sh -c "$MIGRATION" and bash "$HOOKS_DIR/migrate.sh"; the values are pinned above it.
    assert.ok(migrate.includes(`\nAPP_IMAGE='${IMAGE}'\n`));
    assert.ok(migrate.includes("\nMIGRATION='alembic upgrade head'\n"));
    assert.ok(migrate.includes("\nHOOKS_DIR='/srv/dropstack/hooks'\n"));
    assert.ok(migrate.includes("\nBACKUP_MAX_AGE_S='3600'\n"));
    assert.ok(migrate.includes('  "$APP_IMAGE" \\\n  sh -c "$MIGRATION" &'));
    assert.ok(migrate.includes('  bash "$HOOKS_DIR/migrate.sh" &'));
    for (const text of [backup, migrate]) {
      assert.ok(!text.includes("docker.sock"));
      assert.ok(!/--network[ =]'?host/.test(text));
      assert.ok(!text.includes("--privileged"));
    }
  });

  it("quotes whatever the migrate command holds", () => {
    const tricky = renderMigrateCommand({
      network: "dropstack",
      clientImage: "postgres:16.6-bookworm",
      image: IMAGE,
      migrate: "python manage.py migrate --noinput && echo 'done'; $(whoami)",
    });
    assert.ok(tricky.includes(`\nMIGRATION='python manage.py migrate --noinput && echo '\\''done'\\''; $(whoami)'\n`));
  });

  it("smoke verifies the certificate except against the ACME staging CA", () => {
    const production = renderSmokeCommand({ checks: [healthSmokeCheck("api.example.com", "/health")], insecure: false });
    const staging = renderSmokeCommand({ checks: [healthSmokeCheck("api.staging.example.com", "/healthz")], insecure: true });
    assert.ok(production.includes("\nINSECURE='0'\n"));
    assert.ok(staging.includes("\nINSECURE='1'\n"));
    assert.ok(production.includes("\nCHECKS='GET\tapi.example.com\t/health\t2xx\t0\t'\n"));
    assert.ok(staging.includes("\nCHECKS='GET\tapi.staging.example.com\t/healthz\t2xx\t0\t'\n"));
  });

  it("smoke pins every configured check, health path first, and the token endpoint only when a check sends the token", () => {
    const checks = smokeChecks("api.example.com", "/health", [
      { method: "GET", path: "/api/me", status: 200, token: true },
      { method: "POST", path: "/api/echo?x=1", host: "app.example.com", status: 201, bodyContains: "it's", token: false },
    ]);
    const text = renderSmokeCommand({ checks, insecure: false, token: { url: "https://t.example/oauth/token", audience: "https://api" } });
    assert.ok(
      text.includes(
        "\nCHECKS='GET\tapi.example.com\t/health\t2xx\t0\t\nGET\tapi.example.com\t/api/me\t200\t1\t\nPOST\tapp.example.com\t/api/echo?x=1\t201\t0\tit'\\''s'\n",
      ),
      text,
    );
    assert.ok(text.includes("\nTOKEN_URL='https://t.example/oauth/token'\nTOKEN_AUDIENCE='https://api'\n"));
    assert.ok(!renderSmokeCommand({ checks: checks.slice(0, 1), insecure: false }).includes("TOKEN_URL="));
    assert.throws(() => renderSmokeCommand({ checks, insecure: false }), /check 2 sends a bearer token, but no token endpoint/);
    assert.throws(() => renderSmokeCommand({ checks: [], insecure: false }), /at least one check/);
    for (const path of ["health", "/a b", '/a"b', "/é", "/\n", ""])
      assert.throws(() => renderSmokeCommand({ checks: [{ ...checks[0], path }], insecure: false }), /expected a path/, path);
    for (const bodyContains of ["a\tb", "a\nb", "  ", ""])
      assert.throws(() => renderSmokeCommand({ checks: [{ ...checks[0], bodyContains }], insecure: false }), /body match/, bodyContains);
    assert.equal(smokeStdin("id", "secret"), "id\nsecret\n");
    assert.throws(() => smokeStdin("id", "se\ncret"), /line break/);
  });

  it("the deferred update runs nothing but an explanation", () => {
    assert.match(renderDeferredUpdate("migrate"), /^echo "dropstack: migrate hook settings changed; they apply at the next deploy/);
  });
});

describe("pinned client images and validation", () => {
  it("follows postgres.version with an exact release tag", () => {
    assert.equal(postgresClientImage("16"), "postgres:16.6-bookworm");
    for (const major of ["15", "16", "17"])
      assert.match(
        postgresClientImage(major),
        new RegExp(`^postgres:${major}\\.\\d+-bookworm$`),
        "every supported major pins a patch release",
      );
    assert.equal(postgresClientImage("12"), "postgres:12-bookworm", "unsupported majors are for the database policy to reject");
  });

  it("rejects retention and timeouts that make no sense", () => {
    assert.throws(
      () => renderBackupCommand({ network: "n", clientImage: "c", label: "l", keep: 0 }),
      /backups\.keep must be a positive integer/,
    );
    assert.throws(
      () => renderMigrateCommand({ network: "n", clientImage: "c", image: IMAGE, migrate: "m", maxBackupAgeSeconds: 0 }),
      /backup age limit/,
    );
  });

  it("ships every hook script, fingerprinted by its content", () => {
    assert.deepEqual([...HOOK_SCRIPTS].sort(), [
      "backup-check.sh",
      "backup.sh",
      "drill.sh",
      "lib.sh",
      "migrate.sh",
      "restore.sh",
      "verify.sh",
    ]);
    const file = join(__dirname, "..", "..", "components", "hooks", "backup.sh");
    assert.equal(scriptDigest("backup.sh"), createHash("sha256").update(readFileSync(file)).digest("hex"));
  });
});
