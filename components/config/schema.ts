// The dropstack stack config (DESIGN §4) as one zod schema. Parsing is pure: it takes
// the raw values Pulumi config holds and the stack name, and returns a typed StackConfig
// or every problem at once, each named by its full key.
import { isIP } from "node:net";
import { z } from "zod";
import { imageRegistry } from "../app/render";
import { REDIS_EVICTION_POLICIES, describeMaxmemoryProblem } from "../cache/render";

export const CONFIG_NAMESPACE = "dropstack";

/** Stacks that get production rules: no silent defaults for safety-relevant keys. */
export function isProductionStack(stack: string): boolean {
  return stack === "production" || stack === "prod";
}

// DigitalOcean regions that offer droplets, managed databases and Spaces together.
export const DO_REGIONS = [
  "nyc1", "nyc2", "nyc3", "sfo2", "sfo3", "ams3", "sgp1", "lon1", "fra1", "tor1", "blr1", "syd1", "atl1",
] as const;

export { REDIS_EVICTION_POLICIES };

export const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;

const HOSTNAME_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function isHostname(value: string): boolean {
  if (value.length > 253 || !value.includes(".")) return false;
  const labels = value.split(".");
  return labels.every((l) => HOSTNAME_LABEL.test(l)) && /[a-z]/.test(labels[labels.length - 1]);
}

export function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split("/");
  if (rest.length > 0 || prefix === undefined || !/^\d{1,3}$/.test(prefix)) return false;
  const version = isIP(address);
  const bits = Number(prefix);
  return (version === 4 && bits <= 32) || (version === 6 && bits <= 128);
}

const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( \S.*)?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SIZE_SLUG = /^[a-z0-9-]+$/;
const NGINX_SIZE = /^[1-9][0-9]*[kKmMgG]?$/;
const IMAGE_REF = /^[a-z0-9]+([._\-/:][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const hostname = z.string().refine(isHostname, { message: "expected a fully qualified hostname like api.example.com" });
const cidr = z.string().refine(isCidr, { message: "expected a CIDR like 203.0.113.7/32 or 2001:db8::/48" });
const email = z.string().regex(EMAIL, "expected an email address");
const port = z.number({ error: (i) => `expected integer, got ${describe(i.input)}` }).int().min(1).max(65535);
const positiveInt = z.number({ error: (i) => `expected integer, got ${describe(i.input)}` }).int().positive();
const bool = z.boolean({ error: (i) => `expected true or false, got ${describe(i.input)}` });
const imageRef = z.string().regex(IMAGE_REF, "expected an image reference like registry.example.com/app:1.2.3@sha256:<64 hex>");
const httpsUrl = z.string().url("expected a URL");

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  return JSON.stringify(value);
}

const worker = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "expected a short lowercase name like worker or beat"),
  command: z.string().min(1),
  // Stopped before its replacement starts (e.g. Celery beat): never two at once.
  singleton: bool.default(false),
  // A command run in the container; the deploy waits for the worker to turn healthy.
  healthcheck: z.string().min(1).optional(),
});

/** Defaults that are safe everywhere; production must still state adminCidrs, backups and tls.email. */
export function stackConfigSchema(stack: string) {
  const production = isProductionStack(stack);
  const requiredInProduction = <T extends z.ZodTypeAny>(schema: T, fallback: z.input<T>) =>
    production ? schema : schema.default(fallback as never);

  return z
    .strictObject({
      region: z.enum(DO_REGIONS, { error: (i) => `expected a DigitalOcean region slug (${DO_REGIONS.join(", ")}), got ${describe(i.input)}` }),
      domain: hostname,
      manageDns: bool.default(false),
      hosts: z.strictObject({ api: hostname, app: hostname.optional() }),
      adminCidrs: requiredInProduction(z.array(cidr).min(1, "list at least one CIDR"), ["127.0.0.1/32"]),
      sshPublicKeys: z.array(z.string().regex(SSH_PUBLIC_KEY, "expected an OpenSSH public key line")).min(1, "list at least one key"),
      droplet: z
        .strictObject({
          size: z.string().regex(SIZE_SLUG, "expected a droplet size slug like s-2vcpu-4gb").default("s-2vcpu-4gb"),
          image: z.string().regex(SIZE_SLUG, "expected an image slug like ubuntu-24-04-x64").default("ubuntu-24-04-x64"),
          backups: bool.default(production),
          volumeGb: positiveInt.max(16384).default(20),
        })
        .prefault({}),
      postgres: z
        .strictObject({
          version: z.string().regex(/^\d{1,2}$/, "expected a major version like \"16\"").default("16"),
          size: z.string().regex(SIZE_SLUG, "expected a database size slug like db-s-1vcpu-2gb").default("db-s-1vcpu-2gb"),
          nodes: positiveInt.max(3).default(production ? 2 : 1),
          database: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "expected a lowercase database name").default("app"),
          maintenance: z
            .strictObject({
              day: z.enum(WEEKDAYS, { error: (i) => `expected a weekday (${WEEKDAYS.join(", ")}), got ${describe(i.input)}` }).default("sunday"),
              hour: z.number({ error: (i) => `expected integer, got ${describe(i.input)}` }).int().min(0).max(23).default(3),
            })
            .prefault({}),
        })
        .prefault({}),
      redis: z
        .strictObject({
          image: imageRef.default("redis:7.4.1-alpine"),
          maxmemory: z.string().superRefine((value, ctx) => {
            const problem = describeMaxmemoryProblem(value);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
          }).default("256mb"),
          evictionPolicy: z.enum(REDIS_EVICTION_POLICIES, { error: (i) => `expected one of ${REDIS_EVICTION_POLICIES.join(", ")}, got ${describe(i.input)}` }).default("noeviction"),
        })
        .prefault({}),
      app: z.strictObject({
        image: imageRef,
        port: port.default(8000),
        replicas: positiveInt.max(10).default(2),
        healthPath: z.string().regex(/^\/[\w\-./]*$/, "expected a path like /health").default("/health"),
        migrate: z.string().min(1, "expected the migration command, e.g. alembic upgrade head"),
        env: z.record(z.string().regex(ENV_NAME, "expected an environment variable name"), z.string()).default({}),
        workers: z.array(worker).default([]),
      }),
      appSecrets: z.record(z.string().regex(ENV_NAME, "expected an environment variable name"), z.string()).default({}),
      tls: z
        .strictObject({
          email: requiredInProduction(email, "") as z.ZodType<string>,
          staging: bool.default(!production),
        })
        .prefault({} as { email: string }),
      auth0: z
        .strictObject({
          apiIdentifier: z.string().min(1),
          roles: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/, "expected a role name like super_admin"), z.array(z.string().regex(/^[\w:.-]+$/, "expected a permission like read:patients"))).default({}),
          spa: z
            .strictObject({
              callbacks: z.array(httpsUrl).optional(),
              logoutUrls: z.array(httpsUrl).optional(),
              webOrigins: z.array(httpsUrl).optional(),
            })
            .prefault({}),
          claimNamespace: z.string().min(1).optional(),
        })
        .optional(),
      backups: requiredInProduction(
        z.strictObject({ keep: positiveInt.max(365).default(7), offsite: bool }),
        { keep: 7, offsite: false },
      ),
      alerts: z.strictObject({ emails: z.array(email).default([]) }).prefault({}),
      proxy: z
        .strictObject({
          rateLimit: positiveInt.max(100000).default(10),
          burst: z.number({ error: (i) => `expected integer, got ${describe(i.input)}` }).int().min(0).max(100000).default(20),
          maxBodySize: z.string().regex(NGINX_SIZE, "expected an nginx size like 10m").default("10m"),
        })
        .prefault({}),
      promotion: z
        .strictObject({
          stagingStack: z.string().min(1).optional(),
          allowUnpromoted: bool.default(false),
        })
        .prefault({}),
      // Credentials for a private app.image; the password is secret (`pulumi config set --secret --path`).
      registry: z
        .strictObject({
          server: z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/, "expected a registry host like ghcr.io or registry.example.com:5000"),
          username: z.string().min(1),
          password: z.string().min(1),
        })
        .optional(),
    })
    .superRefine((config, ctx) => {
      if (config.tls.email === "") {
        ctx.addIssue({ code: "custom", path: ["tls", "email"], message: "required: the ACME account email for Let's Encrypt" });
      }
      const zoneHosts = [config.hosts.api, config.hosts.app].filter((h): h is string => h !== undefined);
      for (const [key, host] of Object.entries(config.hosts)) {
        if (host && config.manageDns && !(host === config.domain || host.endsWith(`.${config.domain}`))) {
          ctx.addIssue({ code: "custom", path: ["hosts", key], message: `"${host}" is not inside the managed zone "${config.domain}"` });
        }
      }
      if (new Set(zoneHosts).size !== zoneHosts.length) {
        ctx.addIssue({ code: "custom", path: ["hosts", "app"], message: "must differ from hosts.api" });
      }
      if (production && !config.promotion.stagingStack && !config.promotion.allowUnpromoted) {
        ctx.addIssue({ code: "custom", path: ["promotion", "stagingStack"], message: "required in production: the staging stack (org/project/stack) whose smoke-tested image may ship; or set promotion.allowUnpromoted" });
      }
      if (config.registry && config.registry.server !== imageRegistry(config.app.image)) {
        ctx.addIssue({ code: "custom", path: ["registry", "server"], message: `"${config.registry.server}" is not the registry of app.image, which docker pulls from ${imageRegistry(config.app.image)}` });
      }
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
      const stackSet = stackAppEnvironmentNames(config.auth0 !== undefined);
      for (const [key, values] of [["env", config.app.env], ["appSecrets", config.appSecrets]] as const) {
        for (const name of Object.keys(values).filter((n) => stackSet.includes(n))) {
          ctx.addIssue({ code: "custom", path: key === "env" ? ["app", "env", name] : ["appSecrets", name], message: "is set by dropstack in the app's environment; remove it" });
        }
      }
    });
}

/**
 * Variables dropstack itself puts in the app's environment (components/app: the database,
 * Redis and, with dropstack:auth0, the Identity component's settings); app.env and
 * appSecrets may not shadow them.
 */
export function stackAppEnvironmentNames(auth0: boolean): string[] {
  return ["DATABASE_URL", "REDIS_URL", ...(auth0 ? ["AUTH0_DOMAIN", "AUTH0_AUDIENCE", "AUTH0_CLIENT_ID", "AUTH0_ROLES_CLAIM"] : [])];
}

export type StackConfig = z.output<ReturnType<typeof stackConfigSchema>>;

/** Top-level keys of the namespace, as Pulumi config stores them (objects under one key). */
export const TOP_LEVEL_KEYS = [
  "region", "domain", "manageDns", "hosts", "adminCidrs", "sshPublicKeys", "droplet", "postgres", "redis",
  "app", "appSecrets", "tls", "auth0", "backups", "alerts", "proxy", "promotion", "registry",
] as const;

/** Keys whose whole value is a secret (`pulumi config set --secret`). */
export const SECRET_KEYS: ReadonlySet<string> = new Set(["appSecrets"]);

export type ParseResult = { ok: true; config: StackConfig } | { ok: false; problems: string[] };

/** One line per problem: `dropstack:app.port: expected integer, got "eighty"`. */
export function parseStackConfig(raw: Record<string, unknown>, stack: string): ParseResult {
  const result = stackConfigSchema(stack).safeParse(raw);
  if (result.success) return { ok: true, config: result.data };
  const problems = result.error.issues.map((issue) => {
    const key = [CONFIG_NAMESPACE + ":" + String(issue.path[0] ?? ""), ...issue.path.slice(1).map(String)].join(".");
    return `${key}: ${issueMessage(issue, raw)}`;
  });
  return { ok: false, problems: [...new Set(problems)] };
}

function issueMessage(issue: z.core.$ZodIssue, raw: Record<string, unknown>): string {
  if (issue.code === "invalid_type" && valueAt(raw, issue.path) === undefined) return "required";
  if (issue.code === "unrecognized_keys") return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
  return issue.message;
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined), raw);
}
