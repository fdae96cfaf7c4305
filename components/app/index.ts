// The app on the droplet (README "What one `pulumi up` does"): pull the image, run the deploy hooks (backup, then
// migration), then roll the api replicas one at a time behind their healthchecks, and run
// the workers from the same image.
//
// Containers have no fixed names: docker.Container auto-names them (`<logical name>-<random>`)
// and `deleteBeforeReplace: false` overrides the provider's delete-first default, so a
// replacement starts next to the old container, must turn healthy (`wait: true`) before the
// next replica is touched, and the old one is removed only after the update succeeded. A
// replica that never turns healthy fails `pulumi up` while the old containers keep serving,
// and never receives traffic: it joins the network where nginx resolves the api alias only
// once healthy. Workers roll the same way, except singletons, which stop first. README.md
// beside this file gives the evidence for each choice.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { Hooks, HooksArgs } from "../hooks";
import {
  ApiCommand,
  AppEnvironmentParts,
  AppRole,
  HEALTHCHECK_TIMING,
  HEALTHY_WAIT_SECONDS,
  STOP_TIMEOUT_SECONDS,
  WORKER_HEALTHCHECK_TIMING,
  apiContainerCommand,
  appEnvironment,
  environmentList,
  healthcheckTest,
  renderIngressJoinCommand,
  renderStartupCheckCommand,
  renderWorkerStableCommand,
  shellCommand,
  workerHealthcheckTest,
} from "./render";

import {
  API_ALIAS,
  APP_IMAGE_SUFFIX,
  CONTAINER_ROLES,
  INGRESS_NETWORK,
  ROLE_LOG_OPTION,
  roleLabel,
  componentType,
  workerAlias,
} from "../common/names";
import { isDigestPinned } from "../common/patterns";

export { appEnvironment, imageRegistry, imageRepository } from "./render";

/** dropstack:app.workers[] */
export interface WorkerSpec {
  name: string;
  command: string;
  /** Stopped before its replacement starts (deleteBeforeReplace), e.g. Celery beat. */
  singleton?: boolean;
  /** Run by docker with /bin/sh in the container; the worker must turn healthy for the update to go on. */
  healthcheck?: string;
  /** Where it serves HTTP: once healthy it joins the ingress network as workerAlias(name), for proxy.routes. */
  port?: number;
}

type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/** The app containers' environment as one secret Output, from the components' outputs and config. */
export function buildAppEnvironment(parts: Inputs<AppEnvironmentParts>): pulumi.Output<Record<string, string>> {
  return pulumi.secret(
    pulumi
      .all([parts.databaseUrl, parts.redisUrl, parts.identity, parts.env, parts.secrets, parts.databaseReadUrls])
      .apply(([databaseUrl, redisUrl, identity, env, secrets, databaseReadUrls]) =>
        appEnvironment({ databaseUrl, redisUrl, identity, env, secrets, databaseReadUrls }),
      ),
  );
}

/** A droplet after the first behind a load balancer: the first droplet's hooks, and this droplet's SSH connection. */
export interface FollowingHooks {
  ranOnFirstDroplet: Hooks;
  /** Host.connection of this droplet. */
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
}

export interface AppArgs {
  /** dropstack:app.image, or PromotionGuard.approvedImage in production. */
  image: pulumi.Input<string>;
  port: number;
  replicas: number;
  healthPath: string;
  /** dropstack:app.command, for the api replicas only; unset, they run the image's own CMD. */
  command?: ApiCommand;
  workers: WorkerSpec[];
  /** Secret: buildAppEnvironment(...). */
  environment: pulumi.Input<Record<string, string>>;
  dockerProvider: docker.Provider;
  /** Host.appNetwork.name */
  networkName: pulumi.Input<string>;
  /** Host.ready */
  hostReady: pulumi.CustomResource;
  /**
   * The hook settings; the image, environment, network and host come from the args above.
   * Behind a load balancer, the droplets after the first get the first droplet's Hooks: the
   * backup and the migration run once per deploy, and their replicas roll after it.
   */
  hooks: Omit<HooksArgs, "image" | "environment" | "networkName" | "hostReady"> | FollowingHooks;
  /**
   * Behind a load balancer: a step on the droplet, after the migration and before the first
   * replica is replaced, that takes the droplet out of the load balancer; re-run when `triggers` change.
   */
  drain?: { create: string; triggers: pulumi.Input<unknown>[] };
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
  /** The deploy's hooks: this droplet's, or the first droplet's behind a load balancer. */
  readonly hooks: Hooks;
  /** Takes the droplet out of the load balancer before its replicas are replaced (args.drain). */
  readonly drain?: command.remote.Command;
  /** api replicas in rollout order; each waits for the previous one. */
  readonly api: docker.Container[];
  /** The network nginx resolves API_ALIAS on; replicas join it once healthy. */
  readonly ingressNetwork: docker.Network;
  /** Per replica: joins it to the ingress network under API_ALIAS after it turned healthy. */
  readonly ingressJoins: command.remote.Command[];
  readonly workers: docker.Container[];
  /**
   * Beside the first new replica's health wait: fails the update, saying why, when the new
   * replicas log PostgreSQL permission errors on schema changes (migrations at start-up).
   */
  readonly startupCheck!: command.remote.Command;
  /** Per worker: fails the update when the worker does not keep running. */
  readonly workerChecks: command.remote.Command[];
  /** Per worker with a port: joins it to the ingress network once it is healthy and stable. */
  readonly workerIngressJoins: command.remote.Command[];
  /** When these change, a rollout happened: the deploy triggers and every api replica's ID. */
  readonly rolloutTriggers: pulumi.Output<unknown[]>;

  constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("App"), name, {}, opts);
    if (!Number.isInteger(args.replicas) || args.replicas < 1)
      throw new Error(`dropstack:app.replicas must be at least 1, got ${args.replicas}`);
    // Unset, the replicas register no command and run the image's CMD, as before app.command existed.
    const apiCommand = args.command === undefined ? undefined : apiContainerCommand(args.command);
    const onDroplet = { parent: this, provider: args.dockerProvider };

    // keepLocally: a code rollback to the previous digest starts without a pull.
    this.image = new docker.RemoteImage(
      `${name}${APP_IMAGE_SUFFIX}`,
      { name: args.image, keepLocally: true },
      { ...onDroplet, dependsOn: [args.hostReady] },
    );
    this.imageReference = pulumi.output(args.image).apply((ref) => (isDigestPinned(ref) ? pulumi.output(ref) : this.image.repoDigest));

    const hooks = args.hooks;
    this.hooks =
      "ranOnFirstDroplet" in hooks
        ? hooks.ranOnFirstDroplet
        : new Hooks(
            name,
            {
              ...hooks,
              image: this.imageReference,
              environment: args.environment,
              networkName: args.networkName,
              hostReady: args.hostReady,
              dependsOn: [...(hooks.dependsOn ?? []), this.image],
            },
            { parent: this },
          );
    const connection = hooks.connection;

    const envs = pulumi.secret(pulumi.output(args.environment).apply(environmentList));
    const container = (role: AppRole, extraLabels: Record<string, string>): docker.ContainerArgs => ({
      // The image ID, not the reference: the provider reads a container's image back as its
      // ID, so a reference would show a change (and a replacement) on every preview.
      image: this.image.imageId,
      envs,
      labels: [roleLabel(role), ...Object.entries(extraLabels).map(([label, value]) => ({ label, value }))],
      restart: "unless-stopped",
      init: true,
      securityOpts: ["no-new-privileges:true"],
      stopSignal: "SIGTERM",
      stopTimeout: STOP_TIMEOUT_SECONDS,
      destroyGraceSeconds: STOP_TIMEOUT_SECONDS + 15,
      logDriver: "json-file",
      logOpts: { "max-size": "20m", "max-file": "5", ...ROLE_LOG_OPTION },
    });
    // The migration, and the schema assertions after it when there are any (Hooks.schemaReady).
    const after = [this.hooks.schemaReady, this.image, ...(args.dependsOn ?? [])];
    const onHost = (triggers: pulumi.Input<unknown>[]) => ({
      connection,
      triggers,
      logging: "stdoutAndStderr" as const,
      addPreviousOutputInEnv: false,
    });

    // The provider attaches a container to its networks, aliases included, before starting
    // it, and leaves it running when the health wait fails (README "Traffic only to healthy
    // replicas"). So replicas start on the app network without the alias and join this one,
    // with it, only after they are healthy.
    this.ingressNetwork = new docker.Network(
      `${name}-ingress-network`,
      {
        name: INGRESS_NETWORK,
        driver: "bridge",
        internal: true,
      },
      { ...onDroplet, dependsOn: [args.hostReady] },
    );

    if (args.drain)
      this.drain = new command.remote.Command(
        `${name}-drain`,
        { ...onHost(args.drain.triggers), create: args.drain.create },
        { parent: this, dependsOn: after },
      );
    const rolloutAfter = this.drain ? [...after, this.drain] : after;

    this.api = [];
    this.ingressJoins = [];
    for (let i = 0; i < args.replicas; i++) {
      const previous = this.ingressJoins[i - 1];
      const replica = new docker.Container(
        `${name}-api-${i}`,
        {
          ...container(CONTAINER_ROLES.api, { "dropstack.replica": String(i) }),
          command: apiCommand,
          networksAdvanced: [{ name: args.networkName }],
          healthcheck: { tests: healthcheckTest(args.port, args.healthPath), ...HEALTHCHECK_TIMING },
          wait: true,
          waitTimeout: HEALTHY_WAIT_SECONDS,
        },
        { ...onDroplet, dependsOn: previous ? [...rolloutAfter, previous] : rolloutAfter, deleteBeforeReplace: false },
      );
      this.api.push(replica);
      if (i === 0) {
        // Not after the replica: it must read the logs while the provider still waits for health.
        this.startupCheck = new command.remote.Command(
          `${name}-api-startup`,
          {
            ...onHost([this.image.imageId, this.hooks.triggers]),
            create: this.image.imageId.apply((imageId) => renderStartupCheckCommand({ imageId })),
          },
          { parent: this, dependsOn: after },
        );
      }
      this.ingressJoins.push(
        new command.remote.Command(
          `${name}-api-${i}-ingress`,
          {
            ...onHost([replica.id]),
            create: pulumi
              .all([replica.name, this.ingressNetwork.name])
              .apply(([container, network]) => renderIngressJoinCommand({ container, network, alias: API_ALIAS })),
          },
          // No dependsOn: `create` reads the replica's and the network's names, outputs that
          // resolve only once each is created, so the join already waits for both.
          { parent: this },
        ),
      );
    }

    this.workers = [];
    this.workerChecks = [];
    this.workerIngressJoins = [];
    for (const worker of args.workers) {
      const healthcheck = worker.healthcheck
        ? {
            healthcheck: { tests: workerHealthcheckTest(worker.healthcheck), ...WORKER_HEALTHCHECK_TIMING },
            wait: true,
            waitTimeout: HEALTHY_WAIT_SECONDS,
          }
        : {};
      const workerContainer = new docker.Container(
        `${name}-worker-${worker.name}`,
        {
          ...container(CONTAINER_ROLES.worker, { "dropstack.worker": worker.name }),
          command: shellCommand(worker.command),
          networksAdvanced: [{ name: args.networkName }],
          ...healthcheck,
          // A singleton (Celery beat) must never run twice, so the old one stops first.
        },
        { ...onDroplet, dependsOn: after, deleteBeforeReplace: worker.singleton === true },
      );
      this.workers.push(workerContainer);
      const check = new command.remote.Command(
        `${name}-worker-${worker.name}-check`,
        {
          ...onHost([workerContainer.id]),
          create: workerContainer.name.apply((containerName) => renderWorkerStableCommand({ container: containerName })),
        },
        // Waits for the worker through its name in `create`, as the ingress join does.
        { parent: this },
      );
      this.workerChecks.push(check);
      if (worker.port !== undefined) {
        this.workerIngressJoins.push(
          new command.remote.Command(
            `${name}-worker-${worker.name}-ingress`,
            {
              ...onHost([workerContainer.id]),
              create: pulumi
                .all([workerContainer.name, this.ingressNetwork.name])
                .apply(([container, network]) => renderIngressJoinCommand({ container, network, alias: workerAlias(worker.name) })),
            },
            { parent: this, dependsOn: [check] },
          ),
        );
      }
    }

    this.rolloutTriggers = pulumi
      .all([this.hooks.triggers, pulumi.all(this.api.map((c) => c.id))])
      .apply(([triggers, ids]) => [...triggers, ...ids]);

    this.registerOutputs({
      imageReference: this.imageReference,
      api: this.api.map((c) => c.id),
      workers: this.workers.map((c) => c.id),
    });
  }
}
