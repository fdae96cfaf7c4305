// Pure pieces of the app containers: their environment, healthcheck and labels.

import { CONTAINER_ROLES, ROLE_LABEL } from "../common/names";
import { withoutDigest } from "../common/patterns";

/** The app's containers, by their `dropstack.role` label (components/common/names.ts). */
export type AppRole = typeof CONTAINER_ROLES.api | typeof CONTAINER_ROLES.worker;

export interface AppEnvironmentParts {
  /** The app role through the pool (Database.appUri). */
  databaseUrl: string;
  /** Cache.redisUrl, when the stack runs Redis (Valkey.redisUrl past one droplet). */
  redisUrl?: string;
  /** Database.readUris: the readonly role on each read replica; none or empty, no DATABASE_READ_URLS. */
  databaseReadUrls?: string[];
  /** Identity.appEnvironment (AUTH0_*), when dropstack:auth0 is set. */
  identity?: Record<string, string>;
  /** dropstack:app.env */
  env: Record<string, string>;
  /** dropstack:appSecrets */
  secrets: Record<string, string>;
}

/**
 * The environment every app container (and the migration) gets. Each variable has one
 * source: dropstack:app.env or appSecrets may not redefine what the stack provides, since
 * a silently shadowed DATABASE_URL would point the app at the wrong place.
 */
export function appEnvironment(parts: AppEnvironmentParts): Record<string, string> {
  const database = "the database (Database.appUri)";
  const provided: Record<string, [string, string]> = { DATABASE_URL: [parts.databaseUrl, database] };
  for (const [name, value] of Object.entries(postgresEnvironment(parts.databaseUrl))) provided[name] = [value, database];
  if (parts.databaseReadUrls !== undefined && parts.databaseReadUrls.length > 0)
    provided[DATABASE_READ_URLS] = [databaseReadUrlsValue(parts.databaseReadUrls), "the read replicas (Database.readUris)"];
  if (parts.redisUrl !== undefined) provided.REDIS_URL = [parts.redisUrl, "Redis (Cache.redisUrl)"];
  for (const [name, value] of Object.entries(parts.identity ?? {})) provided[name] = [value, "Auth0 (Identity)"];
  const problems = shadowedEnvironment(parts.env, parts.secrets, Object.keys(provided)).map(
    ({ key, name }) => `dropstack:${key}.${name}: already set by dropstack from ${provided[name][1]}; remove it`,
  );
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return {
    ...parts.env,
    ...parts.secrets,
    ...Object.fromEntries(Object.entries(provided).map(([name, [value]]) => [name, value])),
  };
}

/** The app's own Management API client (dropstack:auth0.appManagementScopes), reserved whenever auth0 is set. */
export const APP_MANAGEMENT_ENVIRONMENT_NAMES = ["AUTH0_MANAGEMENT_CLIENT_ID", "AUTH0_MANAGEMENT_CLIENT_SECRET"] as const;

/** The read replicas' URLs, comma-separated, with dropstack:postgres.readReplicas. */
export const DATABASE_READ_URLS = "DATABASE_READ_URLS";

/**
 * Variables dropstack itself puts in the app's environment (the database, its read replicas
 * when there are any, Redis and, with dropstack:auth0, the Identity component's settings);
 * app.env and appSecrets may not shadow them. The config schema checks the same rule before
 * any resource exists.
 */
export function stackAppEnvironmentNames(auth0: boolean, readReplicas = false): string[] {
  return [
    "DATABASE_URL",
    ...POSTGRES_ENVIRONMENT_NAMES,
    ...(readReplicas ? [DATABASE_READ_URLS] : []),
    "REDIS_URL",
    ...(auth0 ? ["AUTH0_DOMAIN", "AUTH0_AUDIENCE", "AUTH0_CLIENT_ID", "AUTH0_ROLES_CLAIM", ...APP_MANAGEMENT_ENVIRONMENT_NAMES] : []),
  ];
}

/**
 * DATABASE_READ_URLS: the URLs joined by commas, which no URL connectionUri writes contains
 * (it percent-encodes the user, password and database; host names have none). The URLs
 * carry passwords, so a refusal never repeats them.
 */
export function databaseReadUrlsValue(urls: readonly string[]): string {
  const bad = urls.findIndex((url) => url === "" || url.includes(","));
  if (bad >= 0)
    throw new Error(
      `read replica URL ${bad + 1} of ${urls.length} is empty or holds a comma, which would split it in DATABASE_READ_URLS; its value is secret and not shown`,
    );
  return urls.join(",");
}

/** DATABASE_URL's connection as the separate variables many app settings read instead of a URL. */
export const POSTGRES_ENVIRONMENT_NAMES = ["POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"] as const;

/** libpq's port when a URL names none. */
const POSTGRES_DEFAULT_PORT = "5432";

/**
 * The connection in a `postgresql://` URL as POSTGRES_HOST, _PORT, _USER, _PASSWORD and _DB,
 * so that both forms always name the same role, host and database. connectionUri
 * percent-encodes the user, password and database, so they are decoded here; through the
 * pool the database is the pool's name, which is what a client connects to. The URL is a
 * secret, so a refusal never repeats it.
 */
export function postgresEnvironment(databaseUrl: string): Record<(typeof POSTGRES_ENVIRONMENT_NAMES)[number], string> {
  const refuse = (why: string) =>
    new Error(
      `the database URL (DATABASE_URL) ${why}, so POSTGRES_HOST and the others cannot be derived from it; its value is secret and not shown`,
    );
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw refuse("is not a URL");
  }
  if (url.protocol !== "postgresql:" && url.protocol !== "postgres:") throw refuse("is not a postgresql:// URL");
  const decoded = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw refuse(`has a malformed percent-encoding in its ${what}`);
    }
  };
  // WHATWG URL keeps an IPv6 host in brackets; libpq's host parameter takes the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const user = decoded(url.username, "user");
  const path = url.pathname.replace(/^\//, "");
  if (host === "") throw refuse("names no host");
  if (user === "") throw refuse("names no user");
  if (path === "" || path.includes("/")) throw refuse("does not name one database in its path");
  const database = decoded(path, "database");
  return {
    POSTGRES_HOST: host,
    POSTGRES_PORT: url.port === "" ? POSTGRES_DEFAULT_PORT : url.port,
    POSTGRES_USER: user,
    POSTGRES_PASSWORD: decoded(url.password, "password"),
    POSTGRES_DB: database,
  };
}

/** The one shadowing rule: every app.env or appSecrets name that the stack already provides. */
export function shadowedEnvironment(
  env: Record<string, string>,
  secrets: Record<string, string>,
  provided: readonly string[],
): { key: "app.env" | "appSecrets"; name: string }[] {
  return (
    [
      ["app.env", env],
      ["appSecrets", secrets],
    ] as const
  ).flatMap(([key, values]) =>
    Object.keys(values)
      .filter((name) => provided.includes(name))
      .map((name) => ({ key, name })),
  );
}

/** dropstack:app.command: a command line run with `sh -c`, or the exact argv. */
export type ApiCommand = string | readonly string[];

const API_COMMAND_EXAMPLE = "uvicorn app.main:app --host 0.0.0.0 --port 8000";

/**
 * Everything wrong with a dropstack:app.command value, each with the list index it is about
 * (none when about the whole value). The config schema and apiContainerCommand share it.
 */
export function apiCommandProblems(value: unknown): { index?: number; message: string }[] {
  const shown = (v: unknown) => (v === undefined ? "nothing" : JSON.stringify(v));
  if (typeof value === "string")
    return /\S/.test(value) ? [] : [{ message: `expected the api's command, e.g. ${API_COMMAND_EXAMPLE}, got ${shown(value)}` }];
  if (!Array.isArray(value))
    return [
      {
        message: `expected the api's command as text (run with sh -c) or as a list of arguments (run as given), got ${shown(value)}`,
      },
    ];
  if (value.length === 0)
    return [{ message: "expected at least the program to run, got an empty list; leave app.command unset to run the image's own CMD" }];
  return value.flatMap((item: unknown, index) => {
    if (typeof item !== "string") return [{ index, message: `expected an argument as text, got ${shown(item)}` }];
    return item === "" ? [{ index, message: 'expected an argument, got ""' }] : [];
  });
}

/** A command line as docker runs it through the image's shell, for app.command and the workers. */
export function shellCommand(line: string): string[] {
  return ["sh", "-c", line];
}

/** The api replicas' `command`: a text app.command through the shell, a list as the exact argv. */
export function apiContainerCommand(command: ApiCommand): string[] {
  const problems = apiCommandProblems(command);
  if (problems.length > 0)
    throw new Error(
      problems.map(({ index, message }) => `dropstack:app.command${index === undefined ? "" : `.${index}`}: ${message}`).join("\n"),
    );
  return typeof command === "string" ? shellCommand(command) : [...command];
}

/** docker's `NAME=value` list, sorted so a reordered config causes no diff. */
export function environmentList(environment: Record<string, string>): string[] {
  return Object.keys(environment)
    .sort()
    .map((name) => `${name}=${environment[name]}`);
}

/**
 * The api healthcheck, run by docker with /bin/sh inside the app image. Image contents
 * differ, so it uses the first of curl, wget (busybox's too), python3 or node it finds;
 * the image needs /bin/sh and one of them (docs/rollback.md "App image requirements").
 * wget gets no timeout flag: some busybox builds lack -T (Debian's crashes on it), and
 * docker's own healthcheck timeout bounds every client anyway.
 */
export function healthcheckTest(port: number, healthPath: string): string[] {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`dropstack:app.port: not a port: ${port}`);
  if (!/^\/[\w\-./]*$/.test(healthPath)) throw new Error(`dropstack:app.healthPath: expected a path like /health, got "${healthPath}"`);
  const url = `http://127.0.0.1:${port}${healthPath}`;
  const python = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=4)";
  const node =
    'require("http").get(process.argv[1], { timeout: 4000 }, (r) => process.exit(r.statusCode >= 200 && r.statusCode < 400 ? 0 : 1)).on("timeout", () => process.exit(1)).on("error", () => process.exit(1))';
  const script = [
    `url=${url}`,
    `if command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null --max-time 4 "$url"`,
    `elif command -v wget >/dev/null 2>&1; then wget -q -O /dev/null "$url"`,
    `elif command -v python3 >/dev/null 2>&1; then python3 -c '${python}' "$url"`,
    `elif command -v node >/dev/null 2>&1; then node -e '${node}' "$url"`,
    `else echo "healthcheck: the image has none of curl, wget, python3 or node" >&2; exit 1`,
    "fi",
  ].join("; ");
  return ["CMD-SHELL", script];
}

/**
 * How a replica proves it is up; `wait` on the container turns this into a rollout gate.
 * Durations are written as Go prints them ("30s", not "1m" or "60s"): the provider reads
 * them back that way, and any other spelling would show a change on every preview.
 */
export const HEALTHCHECK_TIMING = { interval: "5s", timeout: "5s", retries: 3, startPeriod: "30s" } as const;
/** Worker healthchecks are commands like `celery inspect ping`, slower than an HTTP probe. */
export const WORKER_HEALTHCHECK_TIMING = { interval: "10s", timeout: "10s", retries: 3, startPeriod: "30s" } as const;
/** Seconds `pulumi up` waits for a new replica to turn healthy before failing the update. */
export const HEALTHY_WAIT_SECONDS = 180;
/** Seconds between SIGTERM and SIGKILL: in-flight requests and jobs get this long to finish. */
export const STOP_TIMEOUT_SECONDS = 30;

// Go templates for `docker inspect`. test/system/fake-docker.ts answers exactly these.
export const INSPECT_HEALTH = "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}";
export const INSPECT_NETWORKS = "{{range $name, $endpoint := .NetworkSettings.Networks}}{{$name}} {{end}}";
export const INSPECT_RUN_STATE = "{{.State.Status}} {{.RestartCount}} {{.State.StartedAt}}";

function checkedName(what: string, value: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(value)) throw new Error(`${what}: not a docker name: "${value}"`);
  return value;
}

export interface IngressJoinInput {
  /** The replica's container name (docker.Container auto-names it). */
  container: string;
  network: string;
  alias: string;
}

/**
 * Run on the droplet after the provider reports the replica healthy (`wait: true`): it
 * re-checks the health and only then connects the replica to the ingress network under the
 * alias. A replica that never turned healthy fails its Container create first, so this never
 * runs for it and it never gets the alias; the next `pulumi up` removes the tainted container.
 * Re-running is harmless: an already connected replica is left as it is.
 */
export function renderIngressJoinCommand(input: IngressJoinInput): string {
  const container = checkedName("container", input.container);
  const network = checkedName("network", input.network);
  const alias = checkedName("alias", input.alias);
  return [
    `# dropstack ingress join (components/app): ${container} answers to ${alias} on ${network} only once healthy`,
    "set -euo pipefail",
    `status=$(docker inspect --format '${INSPECT_HEALTH}' ${container})`,
    `if [[ $status != healthy ]]; then echo "dropstack: ${container} is $status, not healthy: it gets no traffic" >&2; exit 1; fi`,
    `networks=" $(docker inspect --format '${INSPECT_NETWORKS}' ${container}) "`,
    `if [[ $networks == *" ${network} "* ]]; then`,
    `  echo "dropstack: ${container} is already on ${network}"`,
    "else",
    `  docker network connect --alias ${alias} ${network} ${container}`,
    `  echo "dropstack: ${container} is healthy and now answers to ${alias} on ${network}"`,
    "fi",
  ].join("\n");
}

/** Seconds a worker must keep running, without a restart, after it starts. */
export const WORKER_STABLE_SECONDS = 20;

/**
 * A worker has no port to probe, so its rollout gate is this check: the container is
 * running and Docker did not restart it during the window. A worker that crashes at start
 * (bad import, missing setting) is restarted by its restart policy and fails the check, so
 * `pulumi up` fails with its last log lines instead of leaving a crash loop behind.
 */
export function renderWorkerStableCommand(input: { container: string; seconds?: number }): string {
  const container = checkedName("container", input.container);
  const seconds = input.seconds ?? WORKER_STABLE_SECONDS;
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new Error(`the worker stability window must be a positive number of seconds, got ${seconds}`);
  return [
    `# dropstack worker check (components/app): ${container} keeps running for ${seconds}s without a restart`,
    "set -euo pipefail",
    `before=$(docker inspect --format '${INSPECT_RUN_STATE}' ${container})`,
    `sleep ${seconds}`,
    `after=$(docker inspect --format '${INSPECT_RUN_STATE}' ${container})`,
    `if [[ $before != running\\ * || $after != "$before" ]]; then`,
    `  echo "dropstack: worker ${container} is crash-looping or stopped (state, restarts, start time: $before -> $after); its last log lines:" >&2`,
    `  docker logs --tail 50 ${container} >&2 || true`,
    "  exit 1",
    "fi",
    `echo "dropstack: worker ${container} has run for ${seconds}s without a restart"`,
  ].join("\n");
}

/**
 * The registry host docker pulls `reference` from, as the Docker provider works it out
 * (parseImageOptions in the kreuzwerker provider's resource_docker_image_funcs.go): the first
 * path component when it has a dot or a port or is `localhost`, otherwise Docker Hub. The
 * provider looks its registryAuth entries up by exactly this host.
 */
export function imageRegistry(reference: string): string {
  const slash = reference.indexOf("/");
  if (slash === -1) return "registry-1.docker.io";
  const first = reference.slice(0, slash);
  return /[.:]/.test(first) || first === "localhost" ? first : "registry-1.docker.io";
}

/** The repository part of a reference, as `docker image ls <repository>` matches it. */
export function imageRepository(reference: string): string {
  const unpinned = withoutDigest(reference);
  const lastSlash = unpinned.lastIndexOf("/");
  // The tag's colon is the first after the last slash (a registry's port comes before it);
  // the slash itself is no colon, and with no slash the search starts at 0.
  const colon = unpinned.indexOf(":", lastSlash);
  const repository = colon === -1 ? unpinned : unpinned.slice(0, colon);
  // Docker lists Hub images by their short name.
  return repository.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, "").replace(/^library\//, "");
}

/** The worker's optional healthcheck: its command run by docker with /bin/sh in the container. */
export function workerHealthcheckTest(command: string): string[] {
  if (command.trim() === "") throw new Error("a worker healthcheck needs a command");
  return ["CMD-SHELL", command];
}

/**
 * PostgreSQL's messages for schema changes a role may not make (the app role through the
 * pool owns nothing and may not create in the schema): an app that migrates at start-up
 * logs one of these and never turns healthy.
 */
export const DDL_PERMISSION_ERRORS = [
  "permission denied for schema",
  "must be owner of",
  "permission denied for database",
  "permission denied to create extension",
] as const;

/**
 * How long the start-up check waits for the first replica of the image to appear (it is
 * created as the check starts); without one it has nothing to read and passes. The
 * rehearsal, which runs steps one at a time, may run the check first and pays this once per deploy.
 */
export const STARTUP_APPEAR_SECONDS = 30;
/** How long the start-up check looks: the health wait, plus the time the replica takes to be created. */
export const STARTUP_CHECK_SECONDS = HEALTHY_WAIT_SECONDS + 60;

/**
 * Runs beside the first new api replica's health wait. The Docker provider's failure for a
 * replica that never turns healthy says only `container failed to be in healthy state`, so
 * this reads the new image's api containers' own logs meanwhile: a PostgreSQL permission
 * error on a schema change means the app migrates at start-up, and this fails the deploy
 * saying so and where migrations belong. It passes as soon as one replica of the image is
 * healthy, or one turned unhealthy for another reason (nothing more to find), or none
 * appeared, or the time is up.
 */
export function renderStartupCheckCommand(input: {
  imageId: string;
  seconds?: number;
  intervalSeconds?: number;
  appearSeconds?: number;
}): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(input.imageId)) throw new Error(`expected an image ID (sha256:<64 hex>), got "${input.imageId}"`);
  const seconds = input.seconds ?? STARTUP_CHECK_SECONDS;
  const interval = input.intervalSeconds ?? 5;
  const appearSeconds = Math.min(input.appearSeconds ?? STARTUP_APPEAR_SECONDS, seconds);
  const pattern = DDL_PERMISSION_ERRORS.join("|");
  return [
    `# dropstack start-up check (components/app): the new api replicas' logs, for schema changes the app role may not make`,
    "set -euo pipefail",
    // SECONDS counts whole seconds from a start that may fall late in a second: one more never ends a wait early.
    `deadline=$((SECONDS + ${seconds} + 1)) appear_by=$((SECONDS + ${appearSeconds} + 1))`,
    `pattern='${pattern}'`,
    "while :; do",
    `  mapfile -t containers < <(docker ps --all --filter label=${ROLE_LABEL}=${CONTAINER_ROLES.api} --filter ancestor=${input.imageId} --format '{{.Names}}')`,
    // Replica 0 is created as this starts; when none appears, no replica of this image is being started.
    `  if ((\${#containers[@]} == 0 && SECONDS >= appear_by)); then echo "dropstack: no api container of this image appeared within ${appearSeconds}s: nothing to check"; exit 0; fi`,
    "  healthy=0 unhealthy=0",
    '  for container in "${containers[@]}"; do',
    '    logs=$(docker logs --tail 500 "$container" 2>&1 || true)',
    '    found=$(grep -E -m 5 -- "$pattern" <<<"$logs" || true)',
    "    if [[ -n $found ]]; then",
    `      echo "dropstack: api replica $container logs PostgreSQL permission errors on schema changes:" >&2`,
    `      while IFS= read -r line; do printf '  %s\\n' "$line"; done <<<"$found" >&2`,
    `      echo "dropstack: the app changes the schema at start-up, but its role (DATABASE_URL, through the pool) has no DDL rights, so the replica cannot turn healthy. Run migrations in dropstack:app.migrate (e.g. alembic upgrade head), where the migrator role, the migration lock and the backup gate apply, and take them out of the app's start-up (docs/operations.md, \\"Migrations belong in app.migrate\\")." >&2`,
    "      exit 1",
    "    fi",
    `    case $(docker inspect --format '${INSPECT_HEALTH}' "$container" 2>/dev/null || true) in`,
    "      healthy) healthy=$((healthy + 1)) ;;",
    "      unhealthy) unhealthy=$((unhealthy + 1)) ;;",
    "    esac",
    "  done",
    '  if ((healthy > 0)); then echo "dropstack: an api replica of this image is healthy; its logs show no schema permission errors"; exit 0; fi',
    '  if ((unhealthy > 0)); then echo "dropstack: an api replica of this image is unhealthy, and its logs show no schema permission errors: see its logs for the reason"; exit 0; fi',
    `  if ((SECONDS >= deadline)); then echo "dropstack: no api replica of this image turned healthy within ${seconds}s; its logs show no schema permission errors"; exit 0; fi`,
    `  sleep ${interval}`,
    "done",
  ].join("\n");
}
