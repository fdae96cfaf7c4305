// Pure pieces of the app containers: their environment, healthcheck and labels.

/** policies/deploy.ts finds app containers by this label (the cache uses the same key). */
export const ROLE_LABEL = "dropstack.role";
export type AppRole = "api" | "worker";
/** The app's RemoteImage is `<name>-app-image`; policies/deploy.ts tells it from Redis's and nginx's by this. */
export const APP_IMAGE_SUFFIX = "-app-image";
/** The network alias every api replica answers to; nginx proxies to it. */
export const API_ALIAS = "api";

const DIGEST_PINNED = /@sha256:[a-f0-9]{64}$/;

/** True for `registry/app:1.2.3@sha256:<64 hex>` and `registry/app@sha256:<64 hex>`. */
export function isDigestPinned(reference: string): boolean {
  return DIGEST_PINNED.test(reference);
}

export interface AppEnvironmentParts {
  /** The app role through the pool (Database.appUri). */
  databaseUrl: string;
  /** Cache.redisUrl, when the stack runs Redis. */
  redisUrl?: string;
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
  const provided: Record<string, [string, string]> = { DATABASE_URL: [parts.databaseUrl, "the database (Database.appUri)"] };
  if (parts.redisUrl !== undefined) provided.REDIS_URL = [parts.redisUrl, "Redis (Cache.redisUrl)"];
  for (const [name, value] of Object.entries(parts.identity ?? {})) provided[name] = [value, "Auth0 (Identity)"];
  const problems: string[] = [];
  for (const [key, values] of [["app.env", parts.env], ["appSecrets", parts.secrets]] as const) {
    for (const name of Object.keys(values)) {
      if (name in provided) problems.push(`dropstack:${key}.${name}: already set by dropstack from ${provided[name][1]}; remove it`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return {
    ...parts.env,
    ...parts.secrets,
    ...Object.fromEntries(Object.entries(provided).map(([name, [value]]) => [name, value])),
  };
}

/** docker's `NAME=value` list, sorted so a reordered config causes no diff. */
export function environmentList(environment: Record<string, string>): string[] {
  return Object.keys(environment).sort().map((name) => `${name}=${environment[name]}`);
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
  const node = "require(\"http\").get(process.argv[1], { timeout: 4000 }, (r) => process.exit(r.statusCode >= 200 && r.statusCode < 400 ? 0 : 1)).on(\"timeout\", () => process.exit(1)).on(\"error\", () => process.exit(1))";
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
/** Seconds `pulumi up` waits for a new replica to turn healthy before failing the update. */
export const HEALTHY_WAIT_SECONDS = 180;
/** Seconds between SIGTERM and SIGKILL: in-flight requests and jobs get this long to finish. */
export const STOP_TIMEOUT_SECONDS = 30;
