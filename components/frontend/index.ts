// The static frontend (dropstack:frontend): a container image that serves the built files,
// rolled out exactly as the api replicas are (components/app README): a new replica starts
// beside the old one, must turn healthy before the next is touched, and only then joins the
// ingress network under FRONTEND_ALIAS, where nginx finds it. nginx adds the caching, the
// single-page-app fallback and compression in front (components/proxy/routes.ts), so any
// static file server will do.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { HEALTHCHECK_TIMING, HEALTHY_WAIT_SECONDS, STOP_TIMEOUT_SECONDS, healthcheckTest, renderIngressJoinCommand } from "../app/render";
import { CONTAINER_ROLES, FRONTEND_ALIAS, FRONTEND_IMAGE_SUFFIX, ROLE_LOG_OPTION, componentType, roleLabel } from "../common/names";

/** A static file server needs little; the limit keeps a runaway one from starving the api. */
export const FRONTEND_MEMORY_MB = 256;

export interface FrontendArgs {
  /** dropstack:frontend.image */
  image: pulumi.Input<string>;
  /** dropstack:frontend.port, where the image serves the files. */
  port: number;
  replicas: number;
  /** A path the server answers with 200; its healthcheck gates the rollout. */
  healthPath: string;
  dockerProvider: docker.Provider;
  /** Host.appNetwork.name */
  networkName: pulumi.Input<string>;
  /** App.ingressNetwork.name */
  ingressNetworkName: pulumi.Input<string>;
  /** Host.connection */
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** Host.ready */
  hostReady: pulumi.CustomResource;
  /** What the replicas wait for, e.g. the api rollout: a new frontend never calls an old api. */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export class Frontend extends pulumi.ComponentResource {
  readonly image: docker.RemoteImage;
  /** Replicas in rollout order; each waits for the previous one's ingress join. */
  readonly replicas: docker.Container[];
  readonly ingressJoins: command.remote.Command[];

  constructor(name: string, args: FrontendArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("Frontend"), name, {}, opts);
    if (!Number.isInteger(args.replicas) || args.replicas < 1)
      throw new Error(`dropstack:frontend.replicas must be at least 1, got ${args.replicas}`);
    const onDroplet = { parent: this, provider: args.dockerProvider };

    this.image = new docker.RemoteImage(
      `${name}${FRONTEND_IMAGE_SUFFIX}`,
      { name: args.image, keepLocally: true },
      { ...onDroplet, dependsOn: [args.hostReady] },
    );

    this.replicas = [];
    this.ingressJoins = [];
    for (let i = 0; i < args.replicas; i++) {
      const previous = this.ingressJoins[i - 1];
      const after = [this.image, ...(args.dependsOn ?? [])];
      const replica = new docker.Container(
        `${name}-frontend-${i}`,
        {
          image: this.image.imageId,
          labels: [roleLabel(CONTAINER_ROLES.frontend), { label: "dropstack.replica", value: String(i) }],
          restart: "unless-stopped",
          securityOpts: ["no-new-privileges:true"],
          memory: FRONTEND_MEMORY_MB,
          stopTimeout: STOP_TIMEOUT_SECONDS,
          destroyGraceSeconds: STOP_TIMEOUT_SECONDS + 15,
          logDriver: "json-file",
          logOpts: { "max-size": "20m", "max-file": "5", ...ROLE_LOG_OPTION },
          networksAdvanced: [{ name: args.networkName }],
          healthcheck: { tests: healthcheckTest(args.port, args.healthPath), ...HEALTHCHECK_TIMING },
          wait: true,
          waitTimeout: HEALTHY_WAIT_SECONDS,
        },
        { ...onDroplet, dependsOn: previous ? [...after, previous] : after, deleteBeforeReplace: false },
      );
      this.replicas.push(replica);
      this.ingressJoins.push(
        new command.remote.Command(
          `${name}-frontend-${i}-ingress`,
          {
            connection: args.connection,
            triggers: [replica.id],
            logging: "stdoutAndStderr",
            addPreviousOutputInEnv: false,
            create: pulumi
              .all([replica.name, args.ingressNetworkName])
              .apply(([container, network]) => renderIngressJoinCommand({ container, network, alias: FRONTEND_ALIAS })),
          },
          { parent: this },
        ),
      );
    }

    this.registerOutputs({ replicas: this.replicas.map((c) => c.id) });
  }
}
