// The dropstack stack config (README "Config reference") as one zod schema. Parsing is pure: it takes
// the raw values Pulumi config holds and the stack name, and returns a typed StackConfig
// or every problem at once, each named by its full key.
import { z } from "zod";
import { type ApiCommand, apiCommandProblems, imageRegistry, shadowedEnvironment, stackAppEnvironmentNames } from "../app/render";
import { EMAIL, ENV_NAME, WORKER_NAME } from "../common/patterns";
import { REDIS_EVICTION_POLICIES, describeMaxmemoryProblem } from "../cache/render";
import { describeSshPublicKeyProblem } from "../host/ssh-keys";
import {
  CONNECTION_NAME,
  DEFAULT_DATABASE_CONNECTION_NAME,
  DEFAULT_PASSWORD_HISTORY,
  DEFAULT_PASSWORD_MIN_LENGTH,
  DEFAULT_PASSWORD_POLICY,
  MFA_FACTORS,
  MFA_POLICIES,
  PASSWORD_HISTORY_BOUNDS,
  PASSWORD_MIN_LENGTH_BOUNDS,
  PASSWORD_POLICIES,
  describeAppManagementScopeProblem,
  mfaProblems,
} from "../identity/settings";
import { describeAuth0UrlProblem } from "../identity/urls";
import { describeCidrProblem } from "../network/cidr";
import { controlCharacterAt } from "./text";
import { isHostname } from "./hostname";
import { DEFAULT_PROXY_SETTINGS, type ProxySettings, describeHealthPathProblem, validateProxySettings } from "../proxy/settings";
import { DEFAULT_CONTENT_SECURITY_POLICY, isHeaderValue } from "../proxy/headers";
import { FRONTEND_SERVICE, describeRoutePathProblem, isRouteService, workerOfService } from "../proxy/routes";
import {
  DEFAULT_UPSTREAM_KEEPALIVE,
  DEFAULT_UPSTREAM_TIMEOUTS,
  UPSTREAM_KEEPALIVE_BOUNDS,
  UPSTREAM_TIMEOUT_BOUNDS,
} from "../proxy/upstream";
import { DROPLET_PRICES, POSTGRES_NODE_PRICES, VALKEY_NODE_PRICES, type Price } from "../cost/prices";
import { readReplicaName, readReplicaSizeProblem } from "../database/settings";
import { VALKEY_MAX_NODES, valkeyClusterProblems, valkeyEvictionPolicyProblem } from "../valkey/settings";
import {
  CLUSTER_NAME,
  MAX_CLUSTER_NAME,
  clusterNameFor,
  describeRestoreTimestampProblem,
  describeRestoredNameProblem,
  restoredClusterName,
} from "../database/restore";
import { ASSERTION_NAME, SMOKE_BODY, SMOKE_METHODS, SMOKE_PATH } from "../hooks/commands";
import { DEFAULT_ALERT_THRESHOLDS } from "../observability/settings";
import { MAX_LOG_RETENTION_DAYS, MIN_LOG_RETENTION_DAYS } from "../observability/loki";

/** The Pulumi project (Pulumi.yaml's name); Pulumi names the stack config's namespace after it. */
export const PROJECT = "dropstack";
export const CONFIG_NAMESPACE = PROJECT;

/** Stacks that get production rules: no silent defaults for safety-relevant keys. */
export function isProductionStack(stack: string): boolean {
  return stack === "production" || stack === "prod";
}

// DigitalOcean regions that offer droplets, managed databases and Spaces together.
export const DO_REGIONS = ["nyc1", "nyc2", "nyc3", "sfo2", "sfo3", "ams3", "sgp1", "lon1", "fra1", "tor1", "blr1", "syd1", "atl1"] as const;

export { REDIS_EVICTION_POLICIES };

export const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;

const SIZE_SLUG = /^[a-z0-9-]+$/;
/** An Auth0 role's name as auth0.roles keys it. */
const ROLE_NAME = /^[a-z][a-z0-9_-]*$/;
// [registry host:port/]path[:tag][@sha256:digest], where a host without a port reads as the
// path's first part. A colon only before a port or the tag, so that the tag's 128-character
// limit holds.
const IMAGE_REF = /^([a-z0-9]+([._-][a-z0-9]+)*:\d{1,5}\/)?[a-z0-9]+([._\-/][a-z0-9]+)*(:\w[\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

/** A string checked by `problem` (undefined when fine); the problem is the whole message. */
function checkedString(problem: (value: string) => string | undefined) {
  return z.string({ error: (i) => `expected text, got ${describe(i.input)}` }).superRefine((value, ctx) => {
    const found = problem(value);
    if (found) ctx.addIssue({ code: "custom", message: found });
  });
}

/** A whole number in [min, max]; the message states the range and repeats the value. */
function intIn(min: number, max: number) {
  const message = (value: unknown) => `must be a whole number from ${min} to ${max}, got ${describe(value)}`;
  // A schema's error covers the issues of its checks too, so the refinement needs none.
  return z.number({ error: (i) => message(i.input) }).refine((v) => Number.isInteger(v) && v >= min && v <= max);
}

/** A string matching `pattern`; the message says what was expected and repeats the value. */
function matching(pattern: RegExp, expected: string) {
  return checkedString((value) => (pattern.test(value) ? undefined : `expected ${expected}, got ${describe(value)}`));
}

const hostname = checkedString((v) =>
  isHostname(v) ? undefined : `expected a fully qualified hostname like api.example.com, got ${describe(v)}`,
);
const cidr = checkedString(describeCidrProblem);
const email = matching(EMAIL, "an email address");
const port = intIn(1, 65535);
const bool = z.boolean({ error: (i) => `expected true or false, got ${describe(i.input)}` });
const imageRef = checkedString((v) => {
  if (/^[a-z][a-z0-9+.-]*:\/\/|^[^/@]+:[^/@]*@/i.test(v))
    return `expected an image reference without a scheme or credentials (registry.example.com/app:1.2.3@sha256:<64 hex>), got ${describe(v.replace(/\/\/[^@/]*@|^[^/@]+@/, (m) => (m.startsWith("//") ? "//***@" : "***@")))}`;
  return IMAGE_REF.test(v)
    ? undefined
    : `expected an image reference like registry.example.com/app:1.2.3@sha256:<64 hex>, got ${describe(v)}`;
});
const auth0Url = checkedString(describeAuth0UrlProblem);
const sshPublicKey = checkedString((v) => {
  const problem = describeSshPublicKeyProblem(v);
  return problem ? `${describe(v.length > 48 ? `${v.slice(0, 45)}...` : v)}: ${problem}` : undefined;
});

/**
 * Only sizes the price table prices (components/cost/prices.ts), so the check can price every
 * stack: a size listed without a sourced figure is refused too, with the reason.
 */
const pricedSize = (table: Readonly<Record<string, Price>>, example: string) =>
  checkedString((slug) => {
    const priced = Object.keys(table).filter((size) => table[size].monthlyUsd !== null);
    if (priced.includes(slug)) return undefined;
    const why = Object.hasOwn(table, slug) ? ", which the price table lists without a sourced price" : "";
    return `expected a size the price table prices (${priced.join(", ")}), e.g. ${example}, got ${describe(slug)}${why}`;
  });

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  return JSON.stringify(value);
}

/** The stack a fully qualified name (`org/project/stack`) points at. */
const QUALIFIED_STACK = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/;

// A social connection's OAuth app at the provider; the secret is set with
// `pulumi config set --secret --path` and never repeated in messages.
const socialConnection = z.strictObject({
  clientId: matching(/^\S+$/, "the OAuth client ID the provider issued"),
  clientSecret: z.string({ error: "expected text" }).min(1, "must not be empty"),
  scopes: z
    .array(matching(/^[a-z][a-z0-9_]*$/, "an Auth0 attribute name like email, profile or read_user"), {
      error: (i) => `expected a list of attribute names, got ${describe(i.input)}`,
    })
    .min(1, "list at least one attribute, e.g. email, or leave scopes out for the defaults")
    .optional(),
});

const worker = z.strictObject({
  name: matching(WORKER_NAME, "a short lowercase name like worker or beat"),
  command: matching(/\S/, "the worker's command, e.g. celery -A app worker"),
  // Stopped before its replacement starts (e.g. Celery beat): never two at once.
  singleton: bool.default(false),
  // A command run in the container; the deploy waits for the worker to turn healthy.
  healthcheck: matching(/\S/, "a command run in the worker's container").optional(),
  // The port a worker serves HTTP on: nginx reaches it through proxy.routes (service worker:<name>).
  port: port.optional(),
});

// dropstack:proxy.routes[]: a path prefix on hosts.api (or `host`) answered by a service.
const route = z.strictObject({
  host: hostname.optional(),
  path: checkedString(describeRoutePathProblem),
  service: checkedString((v) => (isRouteService(v) ? undefined : `expected api, frontend or worker:<name>, got ${describe(v)}`)),
  stripPrefix: bool.default(false),
});

/** A timeout or keepalive setting, within the renderer's bounds (components/proxy/upstream.ts). */
function tuning(bounds: readonly [number, number], fallback: number) {
  return intIn(bounds[0], bounds[1]).default(fallback);
}

// dropstack:app.command: the api replicas' command, by the rule the App applies (components/app/render.ts).
const apiCommand = z
  .unknown()
  .superRefine((value, ctx) => {
    for (const { index, message } of apiCommandProblems(value))
      ctx.addIssue({ code: "custom", path: index === undefined ? [] : [index], message });
  })
  .pipe(z.custom<ApiCommand>());

// dropstack:app.smoke[]: a request through nginx after the rollout (components/hooks/smoke.sh).
const smokeCheck = z.strictObject({
  method: z.enum(SMOKE_METHODS, { error: (i) => `expected one of ${SMOKE_METHODS.join(", ")}, got ${describe(i.input)}` }).default("GET"),
  path: matching(SMOKE_PATH, "a request path like /api/users/me (RFC 3986 characters, starting with /)"),
  // hosts.api unless given; must be a name nginx serves.
  host: hostname.optional(),
  status: intIn(100, 599).default(200),
  bodyContains: matching(SMOKE_BODY, "text the response body must contain, without tabs").optional(),
  // A bearer token from the stack's Auth0 M2M client (client-credentials grant for auth0.apiIdentifier).
  token: bool.default(false),
  // Permissions the M2M client is granted on the API for these checks.
  scopes: z.array(matching(/^[\w:.-]+$/, "a permission like read:users")).default([]),
});

// dropstack:app.verify.sql[]: a query the readonly role runs after the migration; it must return true.
const sqlAssertion = z.strictObject({
  name: matching(ASSERTION_NAME, "a short name for the assertion (up to 100 characters, no tabs)"),
  query: matching(
    /\S/,
    "one line of SQL returning true, e.g. SELECT count(*) = 43 FROM information_schema.tables WHERE table_schema = 'app'",
  ),
});

/** Prometheus's size units (--storage.tsdb.retention.size), in bytes. */
const SIZE_UNITS = { KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 } as const;
const RETENTION_SIZE = /^([1-9]\d{0,5})(KB|MB|GB|TB)$/;

/** Bytes in a retention size like "5GB"; undefined when it is not one. */
export function retentionSizeBytes(size: string): number | undefined {
  const match = RETENTION_SIZE.exec(size);
  return match ? Number(match[1]) * SIZE_UNITS[match[2] as keyof typeof SIZE_UNITS] : undefined;
}

/** A request path the access log is matched against (loginPath, appMetricsPath). */
const requestPath = matching(/^\/[\w\-./~]*$/, "a request path like /auth/login");
const httpsUrl = checkedString((v) => {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return "expected an https:// URL";
  }
  if (url.protocol !== "https:") return `expected an https:// URL, got a ${url.protocol.slice(0, -1)} URL`;
  // Credentials belong in the secret password keys, never in a URL.
  if (url.username !== "" || url.password !== "") return "expected a URL without credentials in it";
  return undefined;
});
// Secret values: never repeated in messages.
const secretText = z.string({ error: "expected text" }).min(1, "must not be empty");

/** dropstack:observability: metrics, logs, alerts and dashboards on the droplet (components/observability). */
function observability(production: boolean) {
  const percent = (fallback: number) =>
    z
      .number({ error: (i) => `must be a percentage from 0 to 100, got ${describe(i.input)}` })
      .refine((v) => v >= 0 && v <= 100)
      .default(fallback);
  return z
    .strictObject({
      // On by default in production, where the observability-enabled policy requires it.
      enabled: bool.default(production),
      metricsRetentionSize: matching(RETENTION_SIZE, "a size like 512MB or 5GB").default("2GB"),
      metricsRetentionDays: intIn(1, 3650).default(15),
      logRetentionDays: intIn(MIN_LOG_RETENTION_DAYS, MAX_LOG_RETENTION_DAYS).default(14),
      // Requests to this path count as login attempts: 2xx/3xx are successes.
      loginPath: requestPath.optional(),
      // The api's own Prometheus metrics, scraped from every replica when set.
      appMetricsPath: requestPath.optional(),
      smtp: z
        .strictObject({
          smarthost: matching(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?:\d{1,5}$/i, "host:port of the mail relay, e.g. smtp.example.com:587"),
          from: email,
          username: matching(/^\S+$/, "the relay's user name").optional(),
          password: secretText.optional(),
          // STARTTLS; off only for a relay on a private network.
          requireTls: bool.default(true),
        })
        .optional(),
      // An Alertmanager webhook (Slack, PagerDuty, …); secret, since the URL is the credential.
      webhookUrl: secretText.optional(),
      remoteLoki: z
        .strictObject({ url: httpsUrl, username: matching(/^\S+$/, "the Loki user or tenant").optional(), password: secretText.optional() })
        .optional(),
      // Auth0 roles (auth0.roles) that sign in to Grafana as Admin, Editor or Viewer; users with
      // none of them are refused, since the tenant also holds the app's own users.
      grafanaRoles: z
        .strictObject({
          admin: z.array(matching(ROLE_NAME, "a role name from auth0.roles")).default([]),
          editor: z.array(matching(ROLE_NAME, "a role name from auth0.roles")).default([]),
          viewer: z.array(matching(ROLE_NAME, "a role name from auth0.roles")).default([]),
        })
        .prefault({}),
      thresholds: z
        .strictObject({
          max5xxPercent: percent(DEFAULT_ALERT_THRESHOLDS.max5xxPercent),
          p95LatencyMs: intIn(1, 600000).default(DEFAULT_ALERT_THRESHOLDS.p95LatencyMs),
          minLoginSuccessPercent: percent(DEFAULT_ALERT_THRESHOLDS.minLoginSuccessPercent),
          minDiskFreePercent: percent(DEFAULT_ALERT_THRESHOLDS.minDiskFreePercent),
          minMemoryAvailablePercent: percent(DEFAULT_ALERT_THRESHOLDS.minMemoryAvailablePercent),
          maxDatabaseCpuPercent: percent(DEFAULT_ALERT_THRESHOLDS.maxDatabaseCpuPercent),
          maxDatabaseConnectionsPercent: percent(DEFAULT_ALERT_THRESHOLDS.maxDatabaseConnectionsPercent),
          minCertificateDays: intIn(1, 89).default(DEFAULT_ALERT_THRESHOLDS.minCertificateDays),
        })
        .prefault({}),
    })
    .prefault({});
}

type ObservabilityConfig = z.output<ReturnType<typeof observability>>;

/** Problems only the whole config shows: mail needs a relay, the retention must fit the volume. */
export function observabilityProblems(
  config: ObservabilityConfig,
  alertEmails: readonly string[],
  volumeGb: number,
): { path: string[]; message: string }[] {
  const problems: { path: string[]; message: string }[] = [];
  if (alertEmails.length > 0 && !config.smtp)
    problems.push({
      path: ["smtp"],
      message: "required to mail dropstack:alerts.emails: the relay Alertmanager sends through (smarthost, from)",
    });
  if (config.smtp && (config.smtp.username === undefined) !== (config.smtp.password === undefined))
    problems.push({
      path: ["smtp", config.smtp.username === undefined ? "username" : "password"],
      message: "set both smtp.username and smtp.password (secret), or neither for a relay without authentication",
    });
  if (config.remoteLoki && (config.remoteLoki.username === undefined) !== (config.remoteLoki.password === undefined))
    problems.push({
      path: ["remoteLoki", config.remoteLoki.username === undefined ? "username" : "password"],
      message: "set both remoteLoki.username and remoteLoki.password (secret), or neither",
    });
  const bytes = retentionSizeBytes(config.metricsRetentionSize);
  // Backups, Redis and the logs share the volume: metrics may take at most half of it.
  if (bytes !== undefined && bytes > (volumeGb * 2 ** 30) / 2)
    problems.push({
      path: ["metricsRetentionSize"],
      message: `${config.metricsRetentionSize} is more than half of the ${volumeGb} GB data volume (dropstack:droplet.volumeGb), which backups, Redis and logs share`,
    });
  return problems;
}

/** A list whose items are checked one by one, so each bad item is named by its index. */
function list<T extends z.ZodTypeAny>(item: T, empty?: string) {
  // Not a list at all: issueMessage says "expected a list, got …".
  const array = z.array(item);
  return empty ? array.min(1, empty) : array;
}

/** A map of environment variable names to values; secret values are never repeated in messages. */
function envMap(secret: boolean) {
  return z
    .record(z.string(), z.string({ error: (i) => (secret ? "expected text" : `expected text, got ${describe(i.input)}`) }))
    .superRefine((values, ctx) => {
      for (const name of Object.keys(values).filter((n) => !ENV_NAME.test(n))) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: `${describe(name)} is not an environment variable name (letters, digits and _, not starting with a digit)`,
        });
      }
    });
}

/** A proxy setting, checked by the renderer's own rule (components/proxy/settings.ts). */
function proxySetting<K extends keyof ProxySettings, T extends z.ZodTypeAny>(setting: K, base: T) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      for (const problem of validateProxySettings({ [setting]: value } as Partial<ProxySettings>))
        ctx.addIssue({ code: "custom", message: problem.message });
    })
    .pipe(base) as unknown as T;
}

/** scale.droplets: one droplet, or up to this many behind a load balancer. */
export const MAX_APP_DROPLETS = 10;
/** postgres.readReplicas */
export const MAX_READ_REPLICAS = 5;

/**
 * What scale.droplets > 1 needs from the rest of the config. The load balancer's certificate is
 * DigitalOcean's Let's Encrypt one, which DigitalOcean issues only for a zone it serves.
 */
export function scaleProblems(config: { scale: { droplets: number }; manageDns: boolean }): { path: string[]; message: string }[] {
  if (config.scale.droplets === 1) return [];
  const problems: { path: string[]; message: string }[] = [];
  if (!config.manageDns)
    problems.push({
      path: ["manageDns"],
      message:
        "must be true with scale.droplets > 1: the load balancer's Let's Encrypt certificate is issued by DigitalOcean for a zone it serves",
    });
  return problems;
}

/**
 * What DigitalOcean would refuse about the data tier scaling out adds: read replicas smaller
 * than the cluster's nodes or with names past its limit, and, past one droplet (where managed
 * Valkey replaces the Redis container), a Valkey shape or eviction policy it does not take.
 * `servingCluster` is the DigitalOcean name of the cluster the replicas follow.
 */
export function scaleDataProblems(
  config: {
    scale: { droplets: number; valkey: { size: string; nodes: number } };
    postgres: { size: string; readReplicas: number; readReplicaSize?: string };
    redis: { evictionPolicy: string };
  },
  servingCluster: string,
): { path: string[]; message: string }[] {
  const problems: { path: string[]; message: string }[] = [];
  const { postgres } = config;
  if (postgres.readReplicas > 0 && postgres.readReplicaSize !== undefined) {
    const problem = readReplicaSizeProblem(postgres.size, postgres.readReplicaSize);
    if (problem) problems.push({ path: ["postgres", "readReplicaSize"], message: problem });
  }
  const longest = readReplicaName(servingCluster, postgres.readReplicas);
  if (postgres.readReplicas > 0 && longest.length > MAX_CLUSTER_NAME)
    problems.push({
      path: ["postgres", "readReplicas"],
      message: `the read replica name ${longest} would have ${longest.length} characters; DigitalOcean allows ${MAX_CLUSTER_NAME} (use a shorter project or stack name)`,
    });
  if (config.scale.droplets > 1) {
    for (const { key, message } of valkeyClusterProblems(config.scale.valkey)) problems.push({ path: ["scale", "valkey", key], message });
    const policy = valkeyEvictionPolicyProblem(config.redis.evictionPolicy);
    if (policy) problems.push({ path: ["redis", "evictionPolicy"], message: `${policy} (scale.droplets > 1 runs managed Valkey)` });
  }
  return problems;
}

/**
 * The DigitalOcean name of the cluster the app runs on: the restored one with postgres.restore
 * (an invalid timestamp has a problem of its own, and names none).
 */
function servingClusterName(name: string, restore: { timestamp: string } | undefined): string {
  const own = clusterNameFor(name);
  return restore && describeRestoreTimestampProblem(restore.timestamp) === undefined ? restoredClusterName(own, restore.timestamp) : own;
}

/** How often the backup timer runs by default: production's figure is its logical-dump RPO (README). */
export const DEFAULT_BACKUP_INTERVAL_HOURS = { staging: 24, production: 4 } as const;
/** How often the restore drill runs (components/hooks/schedule.ts). */
export const DRILL_SCHEDULES = ["off", "daily", "weekly"] as const;
export type DrillSchedule = (typeof DRILL_SCHEDULES)[number];

/** Defaults that are safe everywhere; production must still state adminCidrs, backups and tls.email. */
export function stackConfigSchema(stack: string, project: string) {
  const production = isProductionStack(stack);
  const requiredInProduction = <T extends z.ZodTypeAny>(schema: T, fallback: z.input<T>) =>
    production ? schema : schema.default(fallback as never);

  return z
    .strictObject({
      region: z.enum(DO_REGIONS, {
        error: (i) => `expected a DigitalOcean region slug (${DO_REGIONS.join(", ")}), got ${describe(i.input)}`,
      }),
      domain: hostname,
      manageDns: bool.default(false),
      // monitoring: Grafana's FQDN; monitoring.<domain> when observability is on and it is unset.
      hosts: z.strictObject({ api: hostname, app: hostname.optional(), monitoring: hostname.optional() }),
      adminCidrs: requiredInProduction(list(cidr, "list at least one CIDR"), ["127.0.0.1/32"]),
      sshPublicKeys: list(sshPublicKey, "list at least one OpenSSH public key"),
      droplet: z
        .strictObject({
          size: pricedSize(DROPLET_PRICES, "s-2vcpu-4gb").default("s-2vcpu-4gb"),
          image: matching(SIZE_SLUG, "an image slug like ubuntu-24-04-x64").default("ubuntu-24-04-x64"),
          backups: bool.default(production),
          volumeGb: intIn(1, 16384).default(20),
        })
        .prefault({}),
      postgres: z
        .strictObject({
          version: matching(/^\d{1,2}$/, 'a major version like "16" (quoted)').default("16"),
          size: pricedSize(POSTGRES_NODE_PRICES, "db-s-1vcpu-2gb").default("db-s-1vcpu-2gb"),
          nodes: intIn(1, 3).default(production ? 2 : 1),
          database: matching(/^[a-z_][a-z0-9_]{0,62}$/, "a lowercase database name like app").default("app"),
          maintenance: z
            .strictObject({
              day: z
                .enum(WEEKDAYS, { error: (i) => `expected a weekday (${WEEKDAYS.join(", ")}), got ${describe(i.input)}` })
                .default("sunday"),
              hour: intIn(0, 23).default(3),
            })
            .prefault({}),
          // Read-only standbys the app reads from (DATABASE_READ_URLS); their size is the cluster's unless set.
          readReplicas: intIn(0, MAX_READ_REPLICAS).default(0),
          readReplicaSize: pricedSize(POSTGRES_NODE_PRICES, "db-s-2vcpu-4gb").optional(),
          // Point-in-time recovery into a new cluster beside this one (docs/rollback.md).
          restore: z
            .strictObject({
              timestamp: checkedString(describeRestoreTimestampProblem),
              // The cluster whose backups to restore; this stack's own when unset.
              fromCluster: matching(CLUSTER_NAME, "a DigitalOcean database cluster name like dropstack-production-pg").optional(),
            })
            .optional(),
        })
        .prefault({}),
      // Past one droplet (README "Growing past one droplet"): app droplets behind a DigitalOcean
      // load balancer, with managed Valkey instead of the Redis container.
      scale: z
        .strictObject({
          droplets: intIn(1, MAX_APP_DROPLETS).default(1),
          loadBalancer: z.strictObject({ sizeUnit: intIn(1, 100).default(1) }).prefault({}),
          valkey: z
            .strictObject({
              version: matching(/^\d{1,2}$/, 'a major version like "8" (quoted)').default("8"),
              size: pricedSize(VALKEY_NODE_PRICES, "db-s-1vcpu-2gb").default("db-s-1vcpu-2gb"),
              // A primary and at most one standby (components/valkey/settings.ts).
              nodes: intIn(1, VALKEY_MAX_NODES).default(production ? 2 : 1),
            })
            .prefault({}),
        })
        .prefault({}),
      redis: z
        .strictObject({
          image: imageRef.default("redis:7.4.1-alpine"),
          maxmemory: checkedString(describeMaxmemoryProblem).default("256mb"),
          evictionPolicy: z
            .enum(REDIS_EVICTION_POLICIES, {
              error: (i) => `expected one of ${REDIS_EVICTION_POLICIES.join(", ")}, got ${describe(i.input)}`,
            })
            .default("noeviction"),
        })
        .prefault({}),
      app: z.strictObject({
        image: imageRef,
        port: port.default(8000),
        replicas: intIn(1, 10).default(2),
        healthPath: checkedString(describeHealthPathProblem).default("/health"),
        migrate: matching(/\S/, "the migration command, e.g. alembic upgrade head"),
        // Unset: the api replicas run the image's own CMD. Workers and the migration have their own commands.
        command: apiCommand.optional(),
        env: envMap(false).default({}),
        workers: z.array(worker, { error: (i) => `expected a list of {name, command}, got ${describe(i.input)}` }).default([]),
        verify: z
          .strictObject({
            sql: z.array(sqlAssertion, { error: (i) => `expected a list of {name, query}, got ${describe(i.input)}` }).default([]),
          })
          .prefault({}),
        // After the smoke test, nginx's requests for `seconds` against the limits; 0 turns the watch off.
        watch: z
          .strictObject({
            seconds: intIn(0, 3600).default(0),
            max5xxPercent: z
              .number({ error: (i) => `must be a percentage from 0 to 100 with at most two decimals, got ${describe(i.input)}` })
              .refine((v) => v >= 0 && v <= 100 && Math.abs(Math.round(v * 100) - v * 100) < 1e-6)
              .default(1),
            p95LatencyMs: intIn(1, 600000).default(2000),
            minRequests: intIn(1, 1000000).default(20),
            // On a breach, the deploy job runs the code rollback (npm run rollback) to the previous image.
            rollback: bool.default(false),
          })
          .prefault({}),
        smoke: z.array(smokeCheck, { error: (i) => `expected a list of {path, status, …}, got ${describe(i.input)}` }).default([]),
      }),
      appSecrets: envMap(true).default({}),
      tls: z
        .strictObject({
          email: requiredInProduction(email, "") as z.ZodType<string>,
          staging: bool.default(!production),
        })
        .prefault({} as { email: string }),
      auth0: z
        .strictObject({
          apiIdentifier: matching(/^\S+$/, "the API audience, e.g. https://api.example.com"),
          roles: z
            .record(z.string(), z.array(matching(/^[\w:.-]+$/, "a permission like read:patients")))
            .superRefine((roles, ctx) => {
              for (const role of Object.keys(roles).filter((r) => !ROLE_NAME.test(r))) {
                ctx.addIssue({ code: "custom", path: [role], message: `expected a role name like super_admin, got ${describe(role)}` });
              }
            })
            .default({}),
          spa: z
            .strictObject({
              callbacks: list(auth0Url).optional(),
              logoutUrls: list(auth0Url).optional(),
              webOrigins: list(auth0Url).optional(),
            })
            .prefault({}),
          claimNamespace: matching(/^\S+$/, "a namespace like https://example.com").optional(),
          // The Management API scopes the app itself needs; its own M2M client, in its environment.
          appManagementScopes: z
            .array(checkedString(describeAppManagementScopeProblem), {
              error: (i) => `expected a list of Management API scopes like read:users, got ${describe(i.input)}`,
            })
            .superRefine((scopes, ctx) => {
              const repeated = scopes.filter((s, i) => scopes.indexOf(s) !== i);
              if (repeated.length > 0) ctx.addIssue({ code: "custom", message: `scopes repeat: ${[...new Set(repeated)].join(", ")}` });
            })
            .default([]),
          // The role the post-login Action puts in the tokens of a user who holds none.
          defaultRole: matching(ROLE_NAME, "a role name from auth0.roles").optional(),
          // Also assign defaultRole to such a user once, through the Management API. Unset means false.
          assignDefaultRole: bool.optional(),
          // Where users sign in; each connection is enabled for the stack's sign-in clients only.
          connections: z
            .strictObject({
              database: z
                .strictObject({
                  name: matching(CONNECTION_NAME, "a connection name of letters, digits and inner hyphens (at most 128)").default(
                    DEFAULT_DATABASE_CONNECTION_NAME,
                  ),
                  // Nested: flat names like passwordPolicy would read as credentials to config-secrets-encrypted.
                  password: z
                    .strictObject({
                      policy: z
                        .enum(PASSWORD_POLICIES, {
                          error: (i) => `expected one of ${PASSWORD_POLICIES.join(", ")}, got ${describe(i.input)}`,
                        })
                        .default(production ? DEFAULT_PASSWORD_POLICY.production : DEFAULT_PASSWORD_POLICY.staging),
                      minLength: intIn(PASSWORD_MIN_LENGTH_BOUNDS.min, PASSWORD_MIN_LENGTH_BOUNDS.max).default(DEFAULT_PASSWORD_MIN_LENGTH),
                      // How many previous passwords a user may not reuse; 0 turns the check off.
                      history: intIn(PASSWORD_HISTORY_BOUNDS.min, PASSWORD_HISTORY_BOUNDS.max).default(DEFAULT_PASSWORD_HISTORY),
                      noPersonalInfo: bool.default(true),
                      // Auth0's list of the 10,000 most common passwords.
                      dictionary: bool.default(true),
                    })
                    .prefault({}),
                  disableSignup: bool.default(false),
                  requiresUsername: bool.default(false),
                })
                .optional(),
              google: socialConnection.optional(),
              github: socialConnection.optional(),
            })
            .optional(),
          // Unset: optional with otp (resolveMfa in components/identity/settings.ts).
          mfa: z
            .strictObject({
              policy: z
                .enum(MFA_POLICIES, { error: (i) => `expected one of ${MFA_POLICIES.join(", ")}, got ${describe(i.input)}` })
                .optional(),
              factors: z
                .array(z.enum(MFA_FACTORS, { error: (i) => `expected one of ${MFA_FACTORS.join(", ")}, got ${describe(i.input)}` }), {
                  error: (i) => `expected a list of factors, got ${describe(i.input)}`,
                })
                .optional(),
            })
            .superRefine((mfa, ctx) => {
              for (const problem of mfaProblems(mfa)) ctx.addIssue({ code: "custom", path: [problem.key], message: problem.message });
            })
            .optional(),
        })
        .optional(),
      // intervalHours: the backup timer's period, so the logical-dump RPO (README); drill: how
      // often the latest backup is restored into a scratch server and checked.
      backups: requiredInProduction(
        z.strictObject({
          keep: intIn(1, 365).default(7),
          offsite: bool,
          intervalHours: intIn(1, 168).default(
            production ? DEFAULT_BACKUP_INTERVAL_HOURS.production : DEFAULT_BACKUP_INTERVAL_HOURS.staging,
          ),
          drill: z
            .enum(DRILL_SCHEDULES, { error: (i) => `expected one of ${DRILL_SCHEDULES.join(", ")}, got ${describe(i.input)}` })
            .default("weekly"),
        }),
        { keep: 7, offsite: false, intervalHours: DEFAULT_BACKUP_INTERVAL_HOURS.staging, drill: "weekly" },
      ),
      alerts: z.strictObject({ emails: z.array(email).default([]) }).prefault({}),
      observability: observability(production),
      proxy: z
        .strictObject({
          rateLimit: proxySetting("rateLimit", z.number()).default(DEFAULT_PROXY_SETTINGS.rateLimit),
          burst: proxySetting("burst", z.number()).default(DEFAULT_PROXY_SETTINGS.burst),
          maxBodySize: proxySetting("maxBodySize", z.string()).default(DEFAULT_PROXY_SETTINGS.maxBodySize),
          // The Content-Security-Policy of hosts.api and hosts.app.
          csp: checkedString((v) =>
            isHeaderValue(v) ? undefined : `expected a Content-Security-Policy without double quotes, backslashes or $, got ${describe(v)}`,
          ).default(DEFAULT_CONTENT_SECURITY_POLICY),
          // Production's policy nginx-csp-no-unsafe-inline-scripts refuses 'unsafe-inline' scripts unless this is set.
          allowUnsafeInlineScripts: bool.default(false),
          routes: z
            .array(route, { error: (i) => `expected a list of {path, service, host?, stripPrefix?}, got ${describe(i.input)}` })
            .default([]),
          // Seconds; webSocket* hold for upgraded connections only.
          timeouts: z
            .strictObject({
              connect: tuning(UPSTREAM_TIMEOUT_BOUNDS.connect, DEFAULT_UPSTREAM_TIMEOUTS.connect),
              send: tuning(UPSTREAM_TIMEOUT_BOUNDS.send, DEFAULT_UPSTREAM_TIMEOUTS.send),
              read: tuning(UPSTREAM_TIMEOUT_BOUNDS.read, DEFAULT_UPSTREAM_TIMEOUTS.read),
              webSocketRead: tuning(UPSTREAM_TIMEOUT_BOUNDS.webSocketRead, DEFAULT_UPSTREAM_TIMEOUTS.webSocketRead),
              webSocketSend: tuning(UPSTREAM_TIMEOUT_BOUNDS.webSocketSend, DEFAULT_UPSTREAM_TIMEOUTS.webSocketSend),
            })
            .prefault({}),
          // Idle connections nginx keeps to each service, and for how long: below the app server's own idle timeout.
          keepalive: z
            .strictObject({
              connections: tuning(UPSTREAM_KEEPALIVE_BOUNDS.connections, DEFAULT_UPSTREAM_KEEPALIVE.connections),
              idleSeconds: tuning(UPSTREAM_KEEPALIVE_BOUNDS.idleSeconds, DEFAULT_UPSTREAM_KEEPALIVE.idleSeconds),
            })
            .prefault({}),
        })
        .prefault({}),
      // A static frontend: a container serving the built files, rolled out like the api replicas.
      frontend: z
        .strictObject({
          image: imageRef,
          port: port.default(80),
          replicas: intIn(1, 10).default(2),
          // The healthcheck's own rule (healthcheckTest in components/app/render.ts).
          healthPath: matching(/^\/[\w\-./]*$/, "a path the frontend answers with 200, like / or /index.html").default("/"),
        })
        .optional(),
      promotion: z
        .strictObject({
          stagingStack: checkedString((v) => {
            const match = QUALIFIED_STACK.exec(v);
            if (!match)
              return `expected the staging stack's fully qualified name, org/project/stack (e.g. acme/${project}/staging), got ${describe(v)}`;
            if (match[2] === project && match[3] === stack)
              return `${describe(v)} is this stack; name the staging stack whose smoke-tested image may ship`;
            return undefined;
          }).optional(),
          allowUnpromoted: bool.default(false),
        })
        .prefault({}),
      // Credentials for a private app.image; the password is secret (`pulumi config set --secret --path`).
      registry: z
        .strictObject({
          server: matching(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/, "a registry host like ghcr.io or registry.example.com:5000"),
          username: matching(/^\S+$/, "the registry user name"),
          // Secret: never repeated in messages.
          password: z.string({ error: "expected text" }).min(1, "must not be empty"),
        })
        .optional(),
    })
    .superRefine((config, ctx) => {
      if (config.tls.email === "") {
        ctx.addIssue({ code: "custom", path: ["tls", "email"], message: "required: the ACME account email for Let's Encrypt" });
      }
      for (const [key, host] of Object.entries(config.hosts)) {
        if (host && config.manageDns && !(host === config.domain || host.endsWith(`.${config.domain}`))) {
          ctx.addIssue({ code: "custom", path: ["hosts", key], message: `"${host}" is not inside the managed zone "${config.domain}"` });
        }
      }
      if (config.hosts.app === config.hosts.api) {
        ctx.addIssue({ code: "custom", path: ["hosts", "app"], message: "must differ from hosts.api" });
      }
      const monitoring = config.hosts.monitoring;
      if (monitoring !== undefined && (monitoring === config.hosts.api || monitoring === config.hosts.app)) {
        ctx.addIssue({
          code: "custom",
          path: ["hosts", "monitoring"],
          message: "must differ from hosts.api and hosts.app: Grafana gets a name of its own",
        });
      }
      if (monitoring !== undefined && !config.observability.enabled) {
        ctx.addIssue({
          code: "custom",
          path: ["hosts", "monitoring"],
          message: "is Grafana's name, and the monitoring is off: set observability.enabled: true, or remove hosts.monitoring",
        });
      }
      if (config.observability.enabled) {
        for (const problem of observabilityProblems(config.observability, config.alerts.emails, config.droplet.volumeGb))
          ctx.addIssue({ code: "custom", path: ["observability", ...problem.path], message: problem.message });
      }
      for (const [grafanaRole, roles] of Object.entries(config.observability.grafanaRoles)) {
        // A malformed name has its own message already.
        for (const role of roles.filter((r) => ROLE_NAME.test(r) && !Object.hasOwn(config.auth0?.roles ?? {}, r)))
          ctx.addIssue({
            code: "custom",
            path: ["observability", "grafanaRoles", grafanaRole],
            message: config.auth0
              ? `"${role}" is not a role in auth0.roles`
              : "needs dropstack:auth0: Grafana's roles come from its tenant",
          });
      }
      const defaultRole = config.auth0?.defaultRole;
      // A malformed name has its own message already.
      if (config.auth0 && defaultRole !== undefined && ROLE_NAME.test(defaultRole) && !Object.hasOwn(config.auth0.roles, defaultRole)) {
        const roles = Object.keys(config.auth0.roles);
        ctx.addIssue({
          code: "custom",
          path: ["auth0", "defaultRole"],
          message: `"${defaultRole}" is not a role in auth0.roles (${roles.length > 0 ? `roles: ${roles.join(", ")}` : "it has none"})`,
        });
      }
      if (config.auth0?.assignDefaultRole && defaultRole === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["auth0", "assignDefaultRole"],
          message: "assigns auth0.defaultRole, which is not set: set auth0.defaultRole too, or remove assignDefaultRole",
        });
      }
      for (const problem of scaleProblems(config)) ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
      for (const problem of scaleDataProblems(config, servingClusterName(`${project}-${stack}`, config.postgres.restore)))
        ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
      if (config.app.watch.rollback && config.app.watch.seconds === 0) {
        ctx.addIssue({
          code: "custom",
          path: ["app", "watch", "rollback"],
          message: "rolls back after a breach of the post-deploy watch, which is off: set app.watch.seconds too",
        });
      }
      if (production && !config.promotion.stagingStack && !config.promotion.allowUnpromoted) {
        ctx.addIssue({
          code: "custom",
          path: ["promotion", "stagingStack"],
          message:
            "required in production: the staging stack (org/project/stack) whose smoke-tested image may ship; or set promotion.allowUnpromoted",
        });
      }
      if (config.registry && config.registry.server !== imageRegistry(config.app.image)) {
        ctx.addIssue({
          code: "custom",
          path: ["registry", "server"],
          message: `"${config.registry.server}" is not the registry of app.image, which docker pulls from ${imageRegistry(config.app.image)}`,
        });
      }
      const restore = config.postgres.restore;
      // An invalid timestamp has its own problem already; the name is derived from a valid one.
      if (restore && describeRestoreTimestampProblem(restore.timestamp) === undefined) {
        const clusterName = clusterNameFor(`${project}-${stack}`);
        const problem = describeRestoredNameProblem(clusterName, restore.timestamp);
        if (problem) ctx.addIssue({ code: "custom", path: ["postgres", "restore"], message: problem });
        else if (restore.fromCluster === restoredClusterName(clusterName, restore.timestamp))
          ctx.addIssue({
            code: "custom",
            path: ["postgres", "restore", "fromCluster"],
            message: `is the cluster this restore creates; name the cluster whose backups to restore (${clusterName} when unset)`,
          });
      }
      const permissions = new Set(Object.values(config.auth0?.roles ?? {}).flat());
      config.app.smoke.forEach((check, i) => {
        const at = (key: string) => ["app", "smoke", i, key];
        if (check.host !== undefined && check.host !== config.hosts.api && check.host !== config.hosts.app)
          ctx.addIssue({
            code: "custom",
            path: at("host"),
            message: `"${check.host}" is not hosts.api or hosts.app, so nginx does not serve it`,
          });
        if (check.token && !config.auth0)
          ctx.addIssue({
            code: "custom",
            path: at("token"),
            message: "needs dropstack:auth0: the token comes from the stack's Auth0 M2M client",
          });
        if (check.scopes.length > 0 && !check.token)
          ctx.addIssue({ code: "custom", path: at("scopes"), message: "only used with token: true" });
        for (const scope of check.scopes.filter((s) => config.auth0 && !permissions.has(s)))
          ctx.addIssue({ code: "custom", path: at("scopes"), message: `"${scope}" is not a permission of any role in auth0.roles` });
        if (check.method === "HEAD" && check.bodyContains !== undefined)
          ctx.addIssue({ code: "custom", path: at("bodyContains"), message: "a HEAD response has no body" });
      });
      const assertionNames = config.app.verify.sql.map((a) => a.name);
      const repeatedAssertions = assertionNames.filter((n, i) => assertionNames.indexOf(n) !== i);
      if (repeatedAssertions.length > 0)
        ctx.addIssue({
          code: "custom",
          path: ["app", "verify", "sql"],
          message: `assertion names repeat: ${[...new Set(repeatedAssertions)].join(", ")}; a failure names its assertion`,
        });
      for (const problem of routeProblems(config)) ctx.addIssue({ code: "custom", ...problem });
      const workerNames = config.app.workers.map((w) => w.name);
      const repeated = workerNames.filter((n, i) => workerNames.indexOf(n) !== i);
      if (repeated.length > 0) {
        ctx.addIssue({ code: "custom", path: ["app", "workers"], message: `worker names repeat: ${[...new Set(repeated)].join(", ")}` });
      }
      for (const name of Object.keys(config.appSecrets)) {
        if (name in config.app.env) {
          ctx.addIssue({ code: "custom", path: ["appSecrets", name], message: "is also set in app.env; keep each variable in one place" });
        }
      }
      for (const { key, name } of shadowedEnvironment(
        config.app.env,
        config.appSecrets,
        stackAppEnvironmentNames(config.auth0 !== undefined, config.postgres.readReplicas > 0),
      )) {
        ctx.addIssue({
          code: "custom",
          path: key === "app.env" ? ["app", "env", name] : ["appSecrets", name],
          message: "is set by dropstack in the app's environment; remove it",
        });
      }
    });
}

export { stackAppEnvironmentNames };

type RouteConfig = {
  hosts: { api: string; app?: string };
  proxy: { routes: { host?: string; path: string; service: string }[] };
  frontend?: unknown;
  app: { healthPath: string; workers: { name: string; port?: number; healthcheck?: string }[] };
};

/** What proxy.routes and frontend ask of the rest of the config: served hosts, existing services. */
function routeProblems(config: RouteConfig): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const served = [config.hosts.api, ...(config.hosts.app ? [config.hosts.app] : [])];
  const seen = new Set<string>();
  config.proxy.routes.forEach((route, i) => {
    const at = (key: string) => ["proxy", "routes", i, key];
    const host = route.host ?? config.hosts.api;
    if (!served.includes(host))
      problems.push({ path: at("host"), message: `"${host}" is not hosts.api or hosts.app, so nginx does not serve it` });
    if (seen.has(`${host} ${route.path}`)) problems.push({ path: at("path"), message: `${host} already routes ${route.path}` });
    if (route.path === config.app.healthPath)
      problems.push({ path: at("path"), message: `${route.path} is app.healthPath, which always goes straight to the api` });
    seen.add(`${host} ${route.path}`);
    // A malformed service has its own message already.
    const worker = isRouteService(route.service) ? workerOfService(route.service) : undefined;
    if (route.service === FRONTEND_SERVICE && config.frontend === undefined)
      problems.push({ path: at("service"), message: "needs dropstack:frontend: the frontend container to route to" });
    if (worker !== undefined) {
      const spec = config.app.workers.find((w) => w.name === worker);
      if (spec === undefined) problems.push({ path: at("service"), message: `"${worker}" is not a worker in app.workers` });
      else if (spec.port === undefined)
        problems.push({ path: at("service"), message: `app.workers ${worker} has no port: set the port it serves HTTP on` });
    }
  });
  config.app.workers.forEach((worker, i) => {
    if (worker.port !== undefined && worker.healthcheck === undefined)
      problems.push({
        path: ["app", "workers", i, "port"],
        message: "needs healthcheck: nginx reaches a worker only once it has proven healthy",
      });
  });
  const frontendRouted = config.proxy.routes.some((route) => route.service === FRONTEND_SERVICE);
  if (config.frontend !== undefined && config.hosts.app === undefined && !frontendRouted)
    problems.push({
      path: ["frontend"],
      message: "no host serves it: set hosts.app (its / goes to the frontend), or a proxy.routes entry with service: frontend",
    });
  return problems;
}

export type StackConfig = z.output<ReturnType<typeof stackConfigSchema>>;

/** Top-level keys of the namespace, as Pulumi config stores them (objects under one key). */
export const TOP_LEVEL_KEYS: readonly string[] = Object.keys(stackConfigSchema("staging", PROJECT).shape);

export type ParseResult = { ok: true; config: StackConfig } | { ok: false; problems: string[] };

/**
 * One line per problem: `dropstack:postgres.nodes: must be a whole number from 1 to 3, got 5`.
 * `raw` holds every key of the namespace (unknown ones included) with Pulumi's stored
 * shapes decoded; `project` is the Pulumi project, for promotion.stagingStack.
 */
export function parseStackConfig(raw: Record<string, unknown>, stack: string, project = PROJECT): ParseResult {
  const schema = cachedSchema(stack, project);
  // reportInput: each issue carries the value it is about, for messages that show what was given.
  const result = schema.safeParse(raw, { reportInput: true });
  const problems = [...controlCharacterProblems(raw, [])];
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) problems.push(`${fullKey([...issue.path, key])}: ${unknownKeyMessage(schema, issue.path, key)}`);
        continue;
      }
      problems.push(`${fullKey(issue.path)}: ${issueMessage(issue)}`);
    }
  }
  if (problems.length === 0 && result.success) return { ok: true, config: result.data };
  return { ok: false, problems: [...new Set(problems)] };
}

const schemas = new Map<string, ReturnType<typeof stackConfigSchema>>();

/** Building the schema costs more than parsing with it; one per stack and project. */
function cachedSchema(stack: string, project: string): ReturnType<typeof stackConfigSchema> {
  const key = `${project}/${stack}`;
  if (!schemas.has(key)) schemas.set(key, stackConfigSchema(stack, project));
  return schemas.get(key) as ReturnType<typeof stackConfigSchema>;
}

function fullKey(path: PropertyKey[]): string {
  // Every issue has a path: parseStackConfig is given an object, so none is about the whole.
  return [CONFIG_NAMESPACE + ":" + String(path[0]), ...path.slice(1).map(String)].join(".");
}

function issueMessage(issue: z.core.$ZodIssue): string {
  const value = issue.input;
  if (issue.code === "invalid_type") {
    if (value === undefined) return "required";
    // Our own messages (intIn, checkedString, …) already say what was expected; zod's start "Invalid input".
    if (!issue.message.startsWith("Invalid input")) return issue.message;
    const expected =
      issue.expected === "object" || issue.expected === "record"
        ? "a mapping of keys to values"
        : issue.expected === "array"
          ? "a list"
          : issue.expected;
    return `expected ${expected}, got ${describe(value)}`;
  }
  // Every length bound of the schema carries its own message ("list at least one CIDR").
  return issue.message;
}

/** Every string in the namespace with a line break or control character (components/config/text.ts); secret values unrepeated. */
function* controlCharacterProblems(value: unknown, path: PropertyKey[]): Generator<string> {
  if (typeof value === "string") {
    const at = controlCharacterAt(value);
    if (at >= 0) {
      const code = `U+${value.charCodeAt(at).toString(16).toUpperCase().padStart(4, "0")}`;
      yield `${fullKey(path)}: contains a line break or control character (${code} at position ${at}); values reach the droplet's shell, env and config files as single lines`;
    }
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* controlCharacterProblems(item, [...path, i]);
  } else if (value !== null && typeof value === "object") {
    for (const [k, item] of Object.entries(value)) yield* controlCharacterProblems(item, [...path, k]);
  }
}

type AnySchema = { _zod: { def: Record<string, unknown> & { type: string } } };

/** The keys the schema knows for the object at `path`, looking through defaults, optionals and lists. */
function knownKeysAt(schema: unknown, path: PropertyKey[]): string[] {
  const unwrap = (s: AnySchema): AnySchema => {
    for (;;) {
      const def = s._zod.def;
      if (["default", "prefault", "optional", "nullable"].includes(def.type)) s = def.innerType as AnySchema;
      else if (def.type === "pipe") s = def.in as AnySchema;
      else return s;
    }
  };
  let current = unwrap(schema as AnySchema);
  for (const key of path) {
    const def = current._zod.def;
    // Each container's definition holds only its own child: an object's shape, a list's element, a record's valueType.
    const child = (def.shape as Record<string, AnySchema> | undefined)?.[String(key)] ?? def.element ?? def.valueType;
    if (!child) return [];
    current = unwrap(child as AnySchema);
  }
  return current._zod.def.type === "object" ? Object.keys(current._zod.def.shape as object) : [];
}

/**
 * What to say about `key`, which the strict object of `schema` at `path` does not know: where
 * it belongs when it is a dotted path typed as one top-level key, else the nearest known key.
 */
export function unknownKeyMessage(schema: unknown, path: PropertyKey[], key: string): string {
  const known = knownKeysAt(schema, path);
  const head = key.split(".")[0];
  // A key without a dot is its own head, and it is unknown: only a dotted key gets here.
  if (path.length === 0 && known.includes(head)) {
    return `unknown key; nested keys live inside ${fullKey([head])}: set it with pulumi config set --path '${fullKey([key])}' <value>`;
  }
  const nearest = nearestKey(key, known);
  return nearest === undefined ? "unknown key" : `unknown key; did you mean ${fullKey([...path, nearest])}?`;
}

/** The known key with the smallest edit distance (case-insensitive, transpositions count once). */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  // Row 0 and column 0 are the distances from an empty prefix; the loop below fills the rest.
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : i)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      // Where i or j is 1, a[-1] or b[-1] is undefined, so the swap test fails there by itself.
      if (a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * Pulumi stores `pulumi config set --path app.port 8000` as a JSON object under
 * `dropstack:app`, and plain values as strings; this reads both shapes.
 */
export function decodeConfigValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Every `dropstack:` key of the stack, decoded, unknown keys included (they are errors,
 * not ignored). `config` maps full keys to Pulumi's stored strings.
 */
export function rawNamespaceConfig(config: Record<string, string>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(config)) {
    if (key.startsWith(`${CONFIG_NAMESPACE}:`)) raw[key.slice(CONFIG_NAMESPACE.length + 1)] = decodeConfigValue(text);
  }
  return raw;
}
