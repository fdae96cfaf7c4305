// Behind a load balancer (scale.droplets > 1), each droplet's turn in the rolling deploy ends
// here: App.drain took it out of the load balancer before its replicas were replaced; this
// puts it back once nginx answers the load balancer's health check again, and only then may
// the next droplet be drained. README "Growing past one droplet" describes the whole order.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { componentType } from "../common/names";
import { renderPruneImagesCommand } from "../hooks/commands";

export interface RotationArgs {
  /** Host.connection of the droplet. */
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** The undrain script: removes the drain flag, waits for nginx's health and for the load balancer. */
  create: string;
  /** Re-run whenever these change: the drain's ID and the droplet's replicas. */
  triggers: pulumi.Input<unknown[]>;
  /** The droplet's App, Frontend and Proxy: everything that must be ready before traffic returns. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
  /** Keep the running and the previous image of this repository on the droplet, remove older ones. */
  pruneImages?: { repository: string; imageId: pulumi.Input<string> };
}

export class Rotation extends pulumi.ComponentResource {
  /** Done when the droplet is back in the load balancer. */
  readonly undrain: command.remote.Command;
  readonly prune?: command.remote.Command;

  constructor(name: string, args: RotationArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("Rotation"), name, {}, opts);
    const remote = {
      connection: args.connection,
      triggers: args.triggers,
      logging: "stdoutAndStderr" as const,
      addPreviousOutputInEnv: false,
    };
    this.undrain = new command.remote.Command(
      `${name}-undrain`,
      { ...remote, create: args.create },
      { parent: this, dependsOn: args.dependsOn },
    );
    const pruneImages = args.pruneImages;
    if (pruneImages)
      this.prune = new command.remote.Command(
        `${name}-prune-images`,
        {
          ...remote,
          create: pulumi
            .output(pruneImages.imageId)
            .apply((imageId) => renderPruneImagesCommand({ repository: pruneImages.repository, imageId })),
        },
        { parent: this, dependsOn: [this.undrain] },
      );
    this.registerOutputs({ undrain: this.undrain.id });
  }
}
