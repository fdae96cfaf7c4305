// The start-up check's bash script, whole and line by line, as the droplet runs it beside the
// first new api replica's health wait (test/system/app-startup-check.test.ts runs it against a
// docker stand-in; here a changed word is seen without a shell). Rendered for representative
// inputs: the defaults (the health wait plus a minute, a 30 s wait for the replica to appear,
// a poll every 5 s), short windows as the system test uses, an appear wait longer than the
// whole window (cut to it), and several image IDs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HEALTHY_WAIT_SECONDS, STARTUP_CHECK_SECONDS, renderStartupCheckCommand } from "../../components/app/render";

const MIGRATE_HINT =
  'echo "dropstack: the app changes the schema at start-up, but its role (DATABASE_URL, through the pool) has no DDL rights, so the replica cannot turn healthy. ' +
  "Run migrations in dropstack:app.migrate (e.g. alembic upgrade head), where the migrator role, the migration lock and the backup gate apply, " +
  'and take them out of the app\'s start-up (docs/operations.md, \\"Migrations belong in app.migrate\\")." >&2';

function expectedScript(imageId: string, seconds: number, appearSeconds: number, interval: number): string[] {
  return [
    "# dropstack start-up check (components/app): the new api replicas' logs, for schema changes the app role may not make",
    "set -euo pipefail",
    `deadline=$((SECONDS + ${seconds} + 1)) appear_by=$((SECONDS + ${appearSeconds} + 1))`,
    "pattern='permission denied for schema|must be owner of|permission denied for database|permission denied to create extension'",
    "while :; do",
    `  mapfile -t containers < <(docker ps --all --filter label=dropstack.role=api --filter ancestor=${imageId} --format '{{.Names}}')`,
    `  if ((\${#containers[@]} == 0 && SECONDS >= appear_by)); then echo "dropstack: no api container of this image appeared within ${appearSeconds}s: nothing to check"; exit 0; fi`,
    "  healthy=0 unhealthy=0",
    '  for container in "${containers[@]}"; do',
    '    logs=$(docker logs --tail 500 "$container" 2>&1 || true)',
    '    found=$(grep -E -m 5 -- "$pattern" <<<"$logs" || true)',
    "    if [[ -n $found ]]; then",
    '      echo "dropstack: api replica $container logs PostgreSQL permission errors on schema changes:" >&2',
    '      while IFS= read -r line; do printf \'  %s\\n\' "$line"; done <<<"$found" >&2',
    `      ${MIGRATE_HINT}`,
    "      exit 1",
    "    fi",
    "    case $(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' \"$container\" 2>/dev/null || true) in",
    "      healthy) healthy=$((healthy + 1)) ;;",
    "      unhealthy) unhealthy=$((unhealthy + 1)) ;;",
    "    esac",
    "  done",
    '  if ((healthy > 0)); then echo "dropstack: an api replica of this image is healthy; its logs show no schema permission errors"; exit 0; fi',
    '  if ((unhealthy > 0)); then echo "dropstack: an api replica of this image is unhealthy, and its logs show no schema permission errors: see its logs for the reason"; exit 0; fi',
    `  if ((SECONDS >= deadline)); then echo "dropstack: no api replica of this image turned healthy within ${seconds}s; its logs show no schema permission errors"; exit 0; fi`,
    `  sleep ${interval}`,
    "done",
  ];
}

const IMAGE_IDS = [`sha256:${"7a".repeat(32)}`, `sha256:${"0123456789abcdef".repeat(4)}`, `sha256:${"f".repeat(64)}`];

describe("start-up check script", () => {
  it("by default looks for the whole health wait plus a minute, waits 30 s for a replica to appear and polls every 5 s", () => {
    assert.equal(HEALTHY_WAIT_SECONDS, 180);
    assert.equal(STARTUP_CHECK_SECONDS, 240);
    for (const imageId of IMAGE_IDS)
      assert.deepEqual(renderStartupCheckCommand({ imageId }).split("\n"), expectedScript(imageId, 240, 30, 5), imageId);
  });

  it("takes the window, poll interval and appear wait it is given", () => {
    for (const [seconds, intervalSeconds, appearSeconds] of [
      [2, 1, 2],
      [600, 10, 45],
      [240, 2, 1],
    ] as const) {
      for (const imageId of IMAGE_IDS)
        assert.deepEqual(
          renderStartupCheckCommand({ imageId, seconds, intervalSeconds, appearSeconds }).split("\n"),
          expectedScript(imageId, seconds, appearSeconds, intervalSeconds),
          `${imageId} ${seconds}s every ${intervalSeconds}s, appear within ${appearSeconds}s`,
        );
    }
  });

  it("waits for a replica to appear no longer than the whole window", () => {
    for (const [seconds, appearSeconds] of [
      [10, 30],
      [2, 3],
      [20, undefined],
    ] as const) {
      const imageId = IMAGE_IDS[0];
      assert.deepEqual(
        renderStartupCheckCommand({ imageId, seconds, appearSeconds }).split("\n"),
        expectedScript(imageId, seconds, seconds, 5),
        `${seconds}s, appear within ${appearSeconds}s`,
      );
    }
  });
});
