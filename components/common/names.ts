// The names every layer of dropstack relies on: components set them, policies find
// resources by them, tools print them, tests assert them. Defined once here (docs/design.md,
// "One vocabulary"); this module imports nothing, so anything may import it.

/** The droplet's only login user; hooks and remote commands run as it. */
export const DEPLOY_USER = "deploy";
/** The protected data volume's mount point: everything that must survive a new droplet. */
export const DATA_MOUNT = "/srv";
/** Folders on the data volume, each owned by one component (README "A real deploy"). */
export const DATA_DIRS = {
  /** Verified backups and their .json (components/hooks). */
  backups: `${DATA_MOUNT}/backups`,
  /** Redis's append-only file (components/cache). */
  redis: `${DATA_MOUNT}/redis`,
  /** nginx.conf, certificates, certbot state, the ACME webroot (components/proxy). */
  proxy: `${DATA_MOUNT}/proxy`,
  /** The hook scripts and their scratch files (components/hooks). */
  dropstack: `${DATA_MOUNT}/dropstack`,
  /** Metrics, logs, alert state and Grafana's database (components/observability). */
  observability: `${DATA_MOUNT}/observability`,
} as const;

/** The Docker label that says what a dropstack container is; policies find containers by it. */
export const ROLE_LABEL = "dropstack.role";
/** ROLE_LABEL's values. */
export const CONTAINER_ROLES = {
  /** An api replica (dropstack:app.replicas). */
  api: "api",
  /** A worker (dropstack:app.workers). */
  worker: "worker",
  /** A frontend replica (dropstack:frontend). */
  frontend: "frontend",
  /** Redis. */
  cache: "cache",
  /** nginx. */
  proxy: "proxy",
  /** certbot, beside nginx. */
  certbot: "certbot",
  /** Prometheus, Alertmanager, Loki, Grafana, Alloy and the exporters (components/observability). */
  monitoring: "monitoring",
} as const;
export type ContainerRole = (typeof CONTAINER_ROLES)[keyof typeof CONTAINER_ROLES];

/**
 * The json-file log options every dropstack container adds to its own (docker.Container
 * logOpts, with logDriver "json-file"): `labels` makes the driver copy the container's
 * ROLE_LABEL into each line's `attrs`, where the log shipper (components/observability) reads it.
 */
export const ROLE_LOG_OPTION = { labels: ROLE_LABEL } as const;

/** A container's role label as docker.Container's `labels` takes it. */
export function roleLabel(role: ContainerRole): { label: string; value: ContainerRole } {
  return { label: ROLE_LABEL, value: role };
}

/**
 * The network nginx resolves API_ALIAS on. A replica joins it, with the alias, only once it
 * is healthy (components/app/render.ts, renderIngressJoinCommand), so Docker's DNS never
 * answers with a replica that has not passed its healthcheck. Internal: nothing leaves
 * through it, and Docker never picks it as a container's gateway, so nginx's published
 * ports stay on the app network.
 */
export const INGRESS_NETWORK = "dropstack-ingress";
/** The network alias every api replica answers to there; nginx proxies to it. */
export const API_ALIAS = "api";
/** The alias of the frontend replicas there (dropstack:frontend). */
export const FRONTEND_ALIAS = "frontend";

/** The alias of a worker that serves HTTP (dropstack:app.workers[].port) there. */
export function workerAlias(worker: string): string {
  return `worker-${worker}`;
}

/** Every dropstack component's Pulumi type is this prefix and its class name. */
export const COMPONENT_TYPE_PREFIX = "dropstack:index:";

/** The type token of a dropstack component: `componentType("App")` is `dropstack:index:App`. */
export function componentType(name: string): string {
  return `${COMPONENT_TYPE_PREFIX}${name}`;
}

/**
 * The logical-name suffixes of the deploy hooks' Commands. policies/deploy.ts and the check's
 * report find hooks by them (names are known during preview, unlike the rendered scripts).
 */
export const HOOK_SUFFIX = { backup: "-backup", migrate: "-migrate", verify: "-verify", smoke: "-smoke", watch: "-watch" } as const;
/** The app's RemoteImage is `<name>-app-image`; policies tell it from Redis's and nginx's by this. */
export const APP_IMAGE_SUFFIX = "-app-image";
/** The frontend's RemoteImage is `<name>-frontend-image`. */
export const FRONTEND_IMAGE_SUFFIX = "-frontend-image";

/**
 * With scale.droplets > 1: where the load balancer's health check asks each droplet's nginx
 * whether it takes traffic (the api's health through nginx, 503 while the droplet is drained).
 */
export const LOAD_BALANCER_HEALTH_PATH = "/dropstack/lb-health";
