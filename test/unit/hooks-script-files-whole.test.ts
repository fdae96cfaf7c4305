// The migrate, smoke and watch hooks as they run on the droplet, asserted whole (every line):
// each is its script file (handoff.sh, smoke.sh, watch.sh, read here from the repository)
// without its shebang, under a header, a "rendered from" line and the pinned parameters. The
// cases are the defaults and given values (the smallest allowed among them), the droplet's and
// test folders (one with a space), commands and bodies holding quotes, check lists with and
// without a token, and limits with decimals. Also the stdin of the migrate hook and the smoke
// checks built from the config.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  DROPLET_PATHS,
  type HookPaths,
  migrateStdin,
  renderMigrateCommand,
  renderSmokeCommand,
  renderWatchCommand,
  type SmokeCheck,
  smokeChecks,
} from "../../components/hooks/commands";

const HOOKS = join(__dirname, "..", "..", "components", "hooks");

/** POSIX single quoting, restated so the expectation does not lean on the module's helper. */
function sq(value: string): string {
  return `'${value.split("'").join(`'\\''`)}'`;
}

function expectedScript(file: string, header: string, parameters: [string, string][]): string[] {
  const body = readFileSync(join(HOOKS, file), "utf8");
  assert.ok(body.startsWith("#!/usr/bin/env bash\n"), file);
  return [
    `# ${header}`,
    `# Rendered by dropstack from components/hooks/${file}; parameters pinned below.`,
    ...parameters.map(([name, value]) => `${name}=${sq(value)}`),
    ...body.slice(body.indexOf("\n") + 1).split("\n"),
  ];
}

const IMAGE_ID = `sha256:${"ab".repeat(32)}`;
const PATH_SETS: HookPaths[] = [
  DROPLET_PATHS,
  { hooksDir: "/tmp/my dir/hooks", backupDir: "/tmp/my dir/backups", runDir: "/tmp/my dir/run", statusDir: "/tmp/my dir/status" },
];

describe("the migrate hook's script on the droplet", () => {
  it("is handoff.sh under its header and every parameter pinned, for defaults, the smallest limits and given folders", () => {
    for (const paths of PATH_SETS)
      for (const migrate of ["alembic upgrade head", `sh -c 'npm run migrate' && echo "done $x"`])
        for (const [maxAge, lockTimeout] of [
          [undefined, undefined],
          [1, 0],
          [7200, 60],
        ]) {
          const rendered = renderMigrateCommand({
            network: "app-net",
            clientImage: "postgres:16.6-bookworm",
            image: `ghcr.io/acme/api@${IMAGE_ID}`,
            migrate,
            ...(maxAge === undefined ? {} : { maxBackupAgeSeconds: maxAge }),
            ...(lockTimeout === undefined ? {} : { lockTimeoutSeconds: lockTimeout }),
            ...(paths === DROPLET_PATHS ? {} : { paths }),
          });
          assert.deepEqual(
            rendered.split("\n"),
            expectedScript("handoff.sh", "dropstack migrate hook: the app's migration behind a fresh backup, one at a time", [
              ["NETWORK", "app-net"],
              ["CLIENT_IMAGE", "postgres:16.6-bookworm"],
              ["APP_IMAGE", `ghcr.io/acme/api@${IMAGE_ID}`],
              ["MIGRATION", migrate],
              ["HOOKS_DIR", paths.hooksDir],
              ["BACKUP_DIR", paths.backupDir],
              ["RUN_DIR", paths.runDir],
              ["BACKUP_MAX_AGE_S", String(maxAge ?? 3600)],
              ["MIGRATE_LOCK_TIMEOUT_S", String(lockTimeout ?? 900)],
            ]),
          );
        }
  });

  it("refuses an age limit under a second, saying what it got", () => {
    for (const maxBackupAgeSeconds of [0, -1, 0.5, Number.NaN])
      assert.throws(() => renderMigrateCommand({ network: "n", clientImage: "c", image: "i", migrate: "m", maxBackupAgeSeconds }), {
        message: `the backup age limit must be a positive number of seconds, got ${maxBackupAgeSeconds}`,
      });
  });

  it("reads the migrator URI, then the app's environment with its connection replaced, and names any value that would split", () => {
    const url = "postgresql://migrator:pw@db/app";
    const lines = (...l: string[]) => l.map((line) => `${line}\n`).join("");
    assert.equal(
      migrateStdin(url, {}),
      lines(
        url,
        `DATABASE_URL=${url}`,
        "POSTGRES_HOST=db",
        "POSTGRES_PORT=5432",
        "POSTGRES_USER=migrator",
        "POSTGRES_PASSWORD=pw",
        "POSTGRES_DB=app",
      ),
    );
    // Replaced where the app's environment has them, the others after it.
    assert.equal(
      migrateStdin(url, { A: "1", DATABASE_URL: "postgresql://app@db/app", POSTGRES_USER: "app", B_2: "x=y z" }),
      lines(
        url,
        "A=1",
        `DATABASE_URL=${url}`,
        "POSTGRES_USER=migrator",
        "B_2=x=y z",
        "POSTGRES_HOST=db",
        "POSTGRES_PORT=5432",
        "POSTGRES_PASSWORD=pw",
        "POSTGRES_DB=app",
      ),
    );
    for (const bad of ["\n", "\r", "\0"]) {
      assert.throws(() => migrateStdin(`postgresql://m${bad}@db/app`, { A: "1" }), {
        message: "the database URL contains a line break or NUL, which cannot be passed to a hook",
      });
      assert.throws(() => migrateStdin(url, { SECRET_KEY: `a${bad}b` }), {
        message: "SECRET_KEY contains a line break or NUL, which cannot be passed to a hook",
      });
    }
  });
});

describe("the smoke hook's script on the droplet", () => {
  const health: SmokeCheck = { method: "GET", host: "api.example.com", path: "/api/health", status: "2xx" };
  const CHECK_LISTS: [SmokeCheck[], string, string][] = [
    [[health], "GET api.example.com/api/health", "GET\tapi.example.com\t/api/health\t2xx\t0\t"],
    [
      [health, { method: "POST", host: "app.example.com", path: "/p?q=1&r=%20", status: 201, bodyContains: `it's "ok"`, token: true }],
      "GET api.example.com/api/health, POST app.example.com/p?q=1&r=%20",
      `GET\tapi.example.com\t/api/health\t2xx\t0\t\nPOST\tapp.example.com\t/p?q=1&r=%20\t201\t1\tit's "ok"`,
    ],
  ];

  it("is smoke.sh under a header naming every check, with the checks, the retries and the token endpoint pinned", () => {
    for (const [checks, described, lines] of CHECK_LISTS)
      for (const insecure of [false, true])
        for (const token of [undefined, { url: "https://auth.example.com/oauth/token", audience: "https://api.example.com" }])
          for (const [port, retries, delay, maxTime] of [
            [undefined, undefined, undefined, undefined],
            [8443, 1, 0, 2],
          ]) {
            if (!token && checks.some((c) => c.token)) continue;
            const rendered = renderSmokeCommand({
              checks,
              insecure,
              ...(token ? { token } : {}),
              ...(port === undefined ? {} : { port, retries, retryDelaySeconds: delay, maxTimeSeconds: maxTime }),
            });
            const parameters: [string, string][] = [
              ["PORT", String(port ?? 443)],
              ["INSECURE", insecure ? "1" : "0"],
              ["RETRIES", String(retries ?? 10)],
              ["RETRY_DELAY_S", String(delay ?? 3)],
              ["MAX_TIME_S", String(maxTime ?? 10)],
              ["CHECKS", lines],
              ...(token
                ? ([
                    ["TOKEN_URL", token.url],
                    ["TOKEN_AUDIENCE", token.audience],
                  ] as [string, string][])
                : []),
            ];
            const header = `dropstack smoke hook: ${described} through nginx, every check run, all failures reported`;
            assert.deepEqual(rendered.split("\n"), expectedScript("smoke.sh", header, parameters).join("\n").split("\n"));
          }
  });

  it("checks the health path first, then each configured request on hosts.api unless it names a host", () => {
    assert.deepEqual(smokeChecks("api.example.com", "/healthz", []), [
      { method: "GET", host: "api.example.com", path: "/healthz", status: "2xx" },
    ]);
    assert.deepEqual(
      smokeChecks("api.example.com", "/healthz", [
        { method: "GET", path: "/api/me", status: 200, token: true },
        { method: "HEAD", path: "/", host: "app.example.com", status: 301, bodyContains: "", token: false },
        { method: "POST", path: "/api/x", status: 204, bodyContains: "ok", token: false },
      ]),
      [
        { method: "GET", host: "api.example.com", path: "/healthz", status: "2xx" },
        { method: "GET", host: "api.example.com", path: "/api/me", status: 200, token: true },
        { method: "HEAD", host: "app.example.com", path: "/", status: 301, bodyContains: "", token: false },
        { method: "POST", host: "api.example.com", path: "/api/x", status: 204, bodyContains: "ok", token: false },
      ],
    );
  });
});

describe("the watch hook's script on the droplet", () => {
  it("is watch.sh under a header naming the window, with the limits, the image, the stack and the rollback pinned", () => {
    for (const [percent, basisPoints] of [
      [0, "0"],
      [0.5, "50"],
      [1, "100"],
      [2.25, "225"],
      [100, "10000"],
    ] as const)
      for (const rollback of [false, true])
        for (const history of [undefined, "/tmp/my dir/deployed-images"]) {
          const rendered = renderWatchCommand({
            nginxContainer: "dropstack-nginx",
            windowSeconds: 1,
            max5xxPercent: percent,
            p95LatencyMs: 750,
            minRequests: 1,
            currentImage: IMAGE_ID,
            stack: "acme/prod",
            rollback,
            ignoredHosts: ["monitoring.example.com"],
            ...(history === undefined ? {} : { historyFile: history }),
          });
          assert.deepEqual(
            rendered.split("\n"),
            expectedScript("watch.sh", "dropstack watch hook: 1s of requests through nginx against the 5xx and latency limits", [
              ["NGINX_CONTAINER", "dropstack-nginx"],
              ["WINDOW_S", "1"],
              ["MAX_5XX_BASIS_POINTS", basisPoints],
              ["MAX_P95_MS", "750"],
              ["MIN_REQUESTS", "1"],
              ["CURRENT_IMAGE", IMAGE_ID],
              ["HISTORY", history ?? "/srv/dropstack/deployed-images"],
              ["STACK", "acme/prod"],
              ["ROLLBACK_MARKER", "dropstack-rollback-image:"],
              ["AUTO_ROLLBACK", rollback ? "true" : "false"],
              ["IGNORED_HOSTS", "monitoring.example.com"],
            ]),
          );
        }
  });
});
