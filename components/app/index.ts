// The app on the droplet (DESIGN §2): pull the image, run the deploy hooks (backup, then
// migration), then roll the api replicas one at a time behind their healthchecks, and run
// the workers from the same image.
//
// Containers have no fixed names: docker.Container auto-names them (`<logical name>-<random>`)
// and `deleteBeforeReplace: false` overrides the provider's delete-first default, so a
// replacement starts next to the old container, must turn healthy (`wait: true`) before the
// next replica is touched, and the old one is removed only after the update succeeded. A
// replica that never turns healthy fails `pulumi up` while the old containers keep serving.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { Hooks, HooksArgs } from "../hooks";
import {
  API_ALIAS, APP_IMAGE_SUFFIX, AppEnvironmentParts, AppRole, HEALTHCHECK_TIMING, HEALTHY_WAIT_SECONDS, ROLE_LABEL, STOP_TIMEOUT_SECONDS,
  appEnvironment, environmentList, healthcheckTest, isDigestPinned,
} from "./render";

export { API_ALIAS, ROLE_LABEL, appEnvironment, isDigestPinned } from "./render";

type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** The app containers' environment as one secret Output, from the components' outputs and config. */
export function buildAppEnvironment(parts: Inputs<AppEnvironmentParts>): pulumi.Output<Record<string, string>> {
  return pulumi.secret(pulumi
    .all([parts.databaseUrl, parts.redisUrl, parts.identity, parts.env, parts.secrets])
    .apply(([databaseUrl, redisUrl, identity, env, secrets]) => appEnvironment({ databaseUrl, redisUrl, identity, env, secrets })));
}

export interface AppArgs {
  /** dropstack:app.image, or PromotionGuard.approvedImage in production. */
  image: pulumi.Input<string>;
  port: number;
  replicas: number;
  healthPath: string;
  workers: { name: string; command: string }[];
  /** Secret: buildAppEnvironment(...). */
  environment: pulumi.Input<Record<string, string>>;
  dockerProvider: docker.Provider;
  /** Host.appNetwork.name */
  networkName: pulumi.Input<string>;
  /** Host.ready */
  hostReady: pulumi.CustomResource;
  /** The hook settings; the image, environment, network and host come from the args above. */
  hooks: Omit<HooksArgs, "image" | "environment" | "networkName" | "hostReady">;
  /** What the containers need running first besides the migration, e.g. the Redis container. */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export class App extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage;
  /**
   * The image deployed, as the hooks run it and label backups with: dropstack:app.image
   * verbatim when it is pinned by digest (known at preview), otherwise the digest the pull
   * resolved, so the migration runs the build the containers run even if a tag moves.
   * The containers themselves run the pulled image by its ID.
   */
  readonly imageReference: pulumi.Output<string>;
  readonly hooks: Hooks;
  /** api replicas in rollout order; each waits for the previous one. */
  readonly api: docker.Container[];
  readonly workers: docker.Container[];
  /** When these change, a rollout happened: the deploy triggers and every api replica's ID. */
  readonly rolloutTriggers: pulumi.Output<unknown[]>;

  constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dropstack:index:App", name, {}, opts);
    if (!Number.isInteger(args.replicas) || args.replicas < 1) throw new Error(`dropstack:app.replicas must be at least 1, got ${args.replicas}`);
    const onDroplet = { parent: this, provider: args.dockerProvider };

    // keepLocally: a code rollback to the previous digest starts without a pull.
    this.image = new docker.RemoteImage(`${name}${APP_IMAGE_SUFFIX}`, { name: args.image, keepLocally: true }, { ...onDroplet, dependsOn: [args.hostReady] });
    this.imageReference = pulumi.output(args.image).apply((ref) => (isDigestPinned(ref) ? pulumi.output(ref) : this.image.repoDigest));

    this.hooks = new Hooks(name, {
      ...args.hooks,
      image: this.imageReference,
      environment: args.environment,
      networkName: args.networkName,
      hostReady: args.hostReady,
      dependsOn: [...(args.hooks.dependsOn ?? []), this.image],
    }, { parent: this });

    const envs = pulumi.secret(pulumi.output(args.environment).apply(environmentList));
    const container = (role: AppRole, extraLabels: Record<string, string>): docker.ContainerArgs => ({
      // The image ID, not the reference: the provider reads a container's image back as its
      // ID, so a reference would show a change (and a replacement) on every preview.
      image: this.image.imageId,
      envs,
      labels: Object.entries({ [ROLE_LABEL]: role, ...extraLabels }).map(([label, value]) => ({ label, value })),
      restart: "unless-stopped",
      init: true,
      securityOpts: ["no-new-privileges:true"],
      stopSignal: "SIGTERM",
      stopTimeout: STOP_TIMEOUT_SECONDS,
      destroyGraceSeconds: STOP_TIMEOUT_SECONDS + 15,
      logDriver: "json-file",
      logOpts: { "max-size": "20m", "max-file": "5" },
    });
    const after = [this.hooks.migrate, this.image, ...(args.dependsOn ?? [])];

    this.api = [];
    for (let i = 0; i < args.replicas; i++) {
      const previous = this.api[i - 1];
      this.api.push(new docker.Container(`${name}-api-${i}`, {
        ...container("api", { "dropstack.replica": String(i) }),
        networksAdvanced: [{ name: args.networkName, aliases: [API_ALIAS] }],
        healthcheck: { tests: healthcheckTest(args.port, args.healthPath), ...HEALTHCHECK_TIMING },
        wait: true,
        waitTimeout: HEALTHY_WAIT_SECONDS,
      }, { ...onDroplet, dependsOn: previous ? [...after, previous] : after, deleteBeforeReplace: false }));
    }

    this.workers = args.workers.map((worker) => new docker.Container(`${name}-worker-${worker.name}`, {
      ...container("worker", { "dropstack.worker": worker.name }),
      command: ["sh", "-c", worker.command],
      networksAdvanced: [{ name: args.networkName }],
    }, { ...onDroplet, dependsOn: after, deleteBeforeReplace: false }));

    this.rolloutTriggers = pulumi.all([this.hooks.triggers, pulumi.all(this.api.map((c) => c.id))]).apply(([triggers, ids]) => [...triggers, ...ids]);

    this.registerOutputs({
      imageReference: this.imageReference,
      api: this.api.map((c) => c.id),
      workers: this.workers.map((c) => c.id),
    });
  }
}
