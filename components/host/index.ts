import * as command from "@pulumi/command";
import * as digitalocean from "@pulumi/digitalocean";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import {
  DATA_LABEL,
  DATA_MOUNT,
  DEPLOY_USER,
  authorizedKeysFile,
  renderAuthorizedKeysCommand,
  renderCloudInit,
  renderDataReleaseCommand,
  renderReadinessCommand,
} from "./cloud-init";
import { dockerSshOptions, sshConnection } from "./ssh";
import { componentType } from "../common/names";

export interface HostArgs {
  region: string;
  size: string;
  image: string;
  backups: boolean;
  volumeGb: number;
  sshPublicKeys: string[];
  vpcId: pulumi.Input<string>;
  tag: pulumi.Input<string>;
  /** The address SSH and Docker reach it on; without one (the load-balanced droplets after the first), its public IPv4. */
  reservedIp?: digitalocean.ReservedIp;
  /** dropstack:registry: the provider pulls a private app image with these (password secret). */
  registryAuth?: { address: string; username: string; password: pulumi.Input<string> };
}

/**
 * The droplet, its protected data volume and the pinned SSH identity every remote
 * connection uses. cloud-init runs once: later changes to it are ignored on purpose
 * (see README "Re-provisioning the droplet"), so editing it never replaces production.
 */
export class Host extends pulumi.ComponentResource {
  readonly droplet: digitalocean.Droplet;
  readonly volume: digitalocean.Volume;
  readonly hostKey: tls.PrivateKey;
  /** Waits until cloud-init finished and /srv is mounted; everything on the host depends on it. */
  readonly ready: command.remote.Command;
  /** Its delete stops the containers and unmounts /srv before the volume is detached. */
  readonly dataRelease: command.remote.Command;
  readonly dockerProvider: docker.Provider;
  /** The private bridge network shared by the app, workers, Redis, nginx and the hooks. */
  readonly appNetwork: docker.Network;
  readonly connection: command.types.input.remote.ConnectionArgs;
  readonly address: pulumi.Output<string>;
  readonly userData: pulumi.Output<string>;

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("Host"), name, {}, opts);
    this.hostKey = new tls.PrivateKey(
      `${name}-host-key`,
      { algorithm: "ED25519" },
      { parent: this, additionalSecretOutputs: ["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"] },
    );

    this.userData = pulumi.secret(
      pulumi.all([this.hostKey.privateKeyOpenssh, this.hostKey.publicKeyOpenssh]).apply(([privateOpenssh, publicOpenssh]) =>
        renderCloudInit({
          sshPublicKeys: args.sshPublicKeys,
          hostKey: { privateOpenssh, publicOpenssh },
        }),
      ),
    );

    this.droplet = new digitalocean.Droplet(
      `${name}-droplet`,
      {
        name: `${name}-droplet`,
        region: args.region,
        size: args.size,
        image: args.image,
        vpcUuid: args.vpcId,
        ipv6: true,
        monitoring: true,
        backups: args.backups,
        tags: [args.tag],
        // No `sshKeys`: DigitalOcean installs those for root only (which cloud-init shuts out),
        // and refuses a second upload of the same key with 422, so two stacks could not both
        // register it. The deploy user's keys arrive through cloud-init; see README.md.
        userData: this.userData,
        gracefulShutdown: true,
      },
      { parent: this, ignoreChanges: ["userData"] },
    );

    this.volume = new digitalocean.Volume(
      `${name}-data`,
      {
        region: args.region,
        size: args.volumeGb,
        initialFilesystemType: "ext4",
        initialFilesystemLabel: DATA_LABEL,
        description: `dropstack data for ${name}: backups, Redis AOF, certificates`,
      },
      { parent: this, protect: true },
    );

    const attachment = new digitalocean.VolumeAttachment(
      `${name}-data-attachment`,
      {
        dropletId: this.droplet.id.apply(Number),
        volumeId: this.volume.id,
        // A volume attaches to one droplet and an IP points at one: when the droplet is
        // replaced, the old link must go before the new one can be made.
      },
      { parent: this, deleteBeforeReplace: true },
    );

    const assignment = args.reservedIp
      ? new digitalocean.ReservedIpAssignment(
          `${name}-ip-assignment`,
          {
            ipAddress: args.reservedIp.ipAddress,
            dropletId: this.droplet.id.apply(Number),
          },
          { parent: this, deleteBeforeReplace: true },
        )
      : undefined;

    this.address = assignment ? pulumi.all([assignment.ipAddress, assignment.id]).apply(([ip]) => ip) : this.droplet.ipv4Address;
    this.connection = sshConnection(this.address, this.hostKey.publicKeyOpenssh);

    this.ready = new command.remote.Command(
      `${name}-ready`,
      {
        connection: this.connection,
        create: renderReadinessCommand(),
        triggers: [this.droplet.id, attachment.id],
      },
      { parent: this, dependsOn: [attachment, ...(assignment ? [assignment] : [])] },
    );

    // Before the volume leaves a droplet (replacement or removal), stop what writes to it and
    // unmount it there. `triggers` makes the attachment a property dependency: when the
    // attachment is deleted-before-replaced, the engine first deletes the dependents it
    // replaces, so this delete runs on the old droplet (the reserved IP still points at it)
    // before the detach. Inputs other than triggers only re-run the harmless `create`.
    this.dataRelease = new command.remote.Command(
      `${name}-data-release`,
      {
        connection: this.connection,
        create: `echo "dropstack: ${DATA_MOUNT} will be released before the volume is detached"`,
        delete: renderDataReleaseCommand(),
        triggers: [this.droplet.id, attachment.id],
      },
      { parent: this, dependsOn: [this.ready], deleteBeforeReplace: true },
    );

    // cloud-init ran once; later changes to dropstack:sshPublicKeys reach the droplet here.
    // The connection itself needs one of the listed keys, so a list that locks everyone
    // out cannot be written: the command runs over a key that must stay in it.
    const authorizedKeys = new command.remote.Command(
      `${name}-authorized-keys`,
      {
        connection: this.connection,
        create: renderAuthorizedKeysCommand(),
        stdin: authorizedKeysFile(args.sshPublicKeys),
        triggers: [authorizedKeysFile(args.sshPublicKeys)],
      },
      { parent: this, dependsOn: [this.ready] },
    );

    this.dockerProvider = new docker.Provider(
      `${name}-docker`,
      {
        host: pulumi.interpolate`ssh://${DEPLOY_USER}@${this.address}`,
        sshOpts: dockerSshOptions(this.hostKey.publicKeyOpenssh),
        ...(args.registryAuth ? { registryAuth: [{ ...args.registryAuth, password: pulumi.secret(args.registryAuth.password) }] } : {}),
      },
      { parent: this, dependsOn: [this.ready, authorizedKeys] },
    );

    this.appNetwork = new docker.Network(
      `${name}-app-network`,
      {
        name: "dropstack",
        driver: "bridge",
        // Containers reach the managed database and registries, so the network is not internal.
        internal: false,
      },
      { parent: this, provider: this.dockerProvider },
    );

    this.registerOutputs({
      dropletId: this.droplet.id,
      volumeId: this.volume.id,
      address: this.address,
      hostPublicKey: this.hostKey.publicKeyOpenssh,
    });
  }
}
