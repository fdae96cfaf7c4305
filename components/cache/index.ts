// The Redis container on the droplet (README "What one `pulumi up` does", Cache): pinned image, generated password,
// AOF on the /srv volume, reachable only over the private docker network. redis.conf comes
// from render.ts, which test/system/redis.test.ts runs through a real redis-server.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { CONTAINER_ROLES, DATA_DIRS, ROLE_LOG_OPTION, roleLabel, componentType } from "../common/names";
import {
  REDIS_DEFAULT_DATA_DIR,
  REDIS_DEFAULT_PORT,
  REDIS_MIN_PASSWORD_LENGTH,
  RedisSettings,
  buildRedisUrl,
  redisHealthcheckTests,
  renderRedisConf,
  validateRedisSettings,
} from "./render";

/** Where the config is uploaded; `redis-server` reads it as its only argument. */
export const REDIS_CONF_PATH = "/usr/local/etc/redis/redis.conf";
/** The network alias the app, workers and hooks use to reach Redis. */
export const REDIS_HOST_ALIAS = "redis";
/** AOF and RDB files live on the data volume, so they survive a rebuilt droplet. */
export const REDIS_HOST_DATA_DIR = DATA_DIRS.redis;
// Inside the container Redis listens on every interface of the private network only:
// the port is never published on the droplet.
const BIND = "0.0.0.0";
// Long enough that brute force is hopeless; letters and digits only, so the password is
// safe verbatim in redis.conf, in a URL and in a shell word.
const PASSWORD_LENGTH = 40;

export interface CacheArgs {
  /** Image reference, e.g. `redis:7.4.1-alpine` (dropstack:redis.image). */
  image: string;
  /** dropstack:redis.maxmemory, e.g. `256mb`. */
  maxmemory: string;
  /** dropstack:redis.evictionPolicy. */
  evictionPolicy: string;
  /** Docker on the droplet (Host.dockerProvider). */
  dockerProvider: docker.Provider;
  /** The private network shared with the app (Host.appNetwork.name). */
  networkName: pulumi.Input<string>;
  /** Nothing runs on the host before it is provisioned and /srv is mounted (Host.ready). */
  hostReady: pulumi.Resource;
}

/**
 * Problems with the Redis settings from config, each named by its config key. The password
 * is generated, so it is checked with a stand-in of the minimum length.
 */
export function redisConfigProblems(args: Pick<CacheArgs, "maxmemory" | "evictionPolicy">): string[] {
  const settings: RedisSettings = {
    password: "p".repeat(REDIS_MIN_PASSWORD_LENGTH),
    maxmemory: args.maxmemory,
    evictionPolicy: args.evictionPolicy,
    bind: BIND,
  };
  return validateRedisSettings(settings).map((p) => `dropstack:redis.${p.setting}: ${p.message}`);
}

/**
 * The container healthcheck: render.ts's authenticated PING, with the password read from
 * the uploaded redis.conf for each run. Passing it as REDISCLI_AUTH in the container's
 * environment instead would print it in every `docker inspect`.
 */
export function redisHealthcheckCommand(confPath: string = REDIS_CONF_PATH): string[] {
  const [kind, ping] = redisHealthcheckTests({ bind: BIND, port: REDIS_DEFAULT_PORT });
  // render.ts quotes the password and keeps quotes and backslashes out of it, so the text
  // between the quotes is the password.
  const readPassword = `sed -n 's/^requirepass "\\(.*\\)"$/\\1/p' ${confPath}`;
  return [kind, `REDISCLI_AUTH="$(${readPassword})" ${ping}`];
}

export class Cache extends pulumi.ComponentResource {
  readonly password: random.RandomPassword;
  readonly image: docker.RemoteImage;
  readonly container: docker.Container;
  /** `redis://default:<password>@redis:6379/0` for the app and workers; a secret. */
  readonly redisUrl: pulumi.Output<string>;

  constructor(name: string, args: CacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("Cache"), name, {}, opts);
    const problems = redisConfigProblems(args);
    if (problems.length > 0) throw new pulumi.RunError(`invalid Redis settings:\n  ${problems.join("\n  ")}`);

    this.password = new random.RandomPassword(`${name}-redis-password`, { length: PASSWORD_LENGTH, special: false }, { parent: this });
    const password = pulumi.secret(this.password.result);
    const conf = pulumi.secret(
      password.apply((p) =>
        renderRedisConf({
          password: p,
          maxmemory: args.maxmemory,
          evictionPolicy: args.evictionPolicy,
          bind: BIND,
          port: REDIS_DEFAULT_PORT,
        }),
      ),
    );

    this.image = new docker.RemoteImage(
      `${name}-redis-image`,
      {
        name: args.image,
        // Another container may still use the image when this one is replaced.
        keepLocally: true,
      },
      { parent: this, provider: args.dockerProvider, dependsOn: [args.hostReady] },
    );

    this.container = new docker.Container(
      `${name}-redis`,
      {
        name: `${name}-redis`,
        image: this.image.imageId,
        command: ["redis-server", REDIS_CONF_PATH],
        uploads: [{ file: REDIS_CONF_PATH, content: conf }],
        volumes: [{ hostPath: REDIS_HOST_DATA_DIR, containerPath: REDIS_DEFAULT_DATA_DIR }],
        networksAdvanced: [{ name: args.networkName, aliases: [REDIS_HOST_ALIAS] }],
        // policies/cache.ts finds the cache container by this label.
        labels: [roleLabel(CONTAINER_ROLES.cache)],
        healthcheck: {
          tests: redisHealthcheckCommand(),
          interval: "10s",
          timeout: "3s",
          retries: 5,
          // Replaying a large AOF takes a while; failures during it do not count.
          startPeriod: "60s",
        },
        restart: "unless-stopped",
        // The image's entrypoint only ever drops to the redis user, which this still allows.
        securityOpts: ["no-new-privileges:true"],
        wait: true,
        waitTimeout: 180,
        // SIGTERM makes Redis fsync the AOF before exiting.
        stopSignal: "SIGTERM",
        stopTimeout: 30,
        destroyGraceSeconds: 30,
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3", ...ROLE_LOG_OPTION },
      },
      {
        parent: this,
        provider: args.dockerProvider,
        dependsOn: [args.hostReady],
        // Two servers must never write the same AOF directory: stop the old one first.
        deleteBeforeReplace: true,
      },
    );

    // Derived from the container too, so whatever uses the URL waits for a healthy Redis.
    this.redisUrl = pulumi.secret(
      pulumi
        .all([password, this.container.id])
        .apply(([p]) => buildRedisUrl({ password: p, host: REDIS_HOST_ALIAS, port: REDIS_DEFAULT_PORT, db: 0 })),
    );

    this.registerOutputs({ redisUrl: this.redisUrl, containerName: this.container.name });
  }
}
