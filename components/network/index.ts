import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { dropletInboundRules, dropletOutboundRules } from "./rules";
import { componentType } from "../common/names";

export interface NetworkArgs {
  region: string;
  adminCidrs: string[];
  /** The tag droplets carry; the firewall applies to it, so a replacement droplet is covered at once. */
  dropletTag: string;
}

/** The private network, the droplet firewall and the address that outlives the droplet. */
export class Network extends pulumi.ComponentResource {
  readonly vpc: digitalocean.Vpc;
  readonly firewall: digitalocean.Firewall;
  readonly reservedIp: digitalocean.ReservedIp;
  readonly dropletTag: digitalocean.Tag;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("Network"), name, {}, opts);
    this.vpc = new digitalocean.Vpc(
      `${name}-vpc`,
      {
        name: `${name}-vpc`,
        region: args.region,
        description: "dropstack private network for the droplet and the database",
      },
      { parent: this },
    );
    this.dropletTag = new digitalocean.Tag(`${name}-tag`, { name: args.dropletTag }, { parent: this });
    this.firewall = new digitalocean.Firewall(
      `${name}-firewall`,
      {
        name: `${name}-droplet`,
        tags: [this.dropletTag.name],
        inboundRules: dropletInboundRules(args.adminCidrs),
        outboundRules: dropletOutboundRules(),
      },
      { parent: this },
    );
    this.reservedIp = new digitalocean.ReservedIp(`${name}-ip`, { region: args.region }, { parent: this, protect: true });
    this.registerOutputs({ vpcId: this.vpc.id, firewallId: this.firewall.id, address: this.reservedIp.ipAddress });
  }
}
