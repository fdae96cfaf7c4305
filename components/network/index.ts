import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { LOAD_BALANCER_HEALTHCHECK, certificateDomains, loadBalancerForwardingRules } from "./balancer";
import { balancedInboundRules, dropletInboundRules, dropletOutboundRules } from "./rules";
import { componentType } from "../common/names";

export interface NetworkArgs {
  region: string;
  adminCidrs: string[];
  /** The tag droplets carry; the firewall applies to it, so a replacement droplet is covered at once. */
  dropletTag: string;
  /** scale.droplets > 1: a load balancer in front of every droplet with the tag. */
  loadBalancer?: LoadBalancerArgs;
}

export interface LoadBalancerArgs {
  /** Every host nginx serves: the load balancer's certificate covers them. */
  hosts: string[];
  /** scale.loadBalancer.sizeUnit */
  sizeUnit: number;
  /** The DigitalOcean zone serving the hosts: DigitalOcean issues the certificate through it. */
  zone: pulumi.Resource;
  /** Ports the droplets open to each other (Grafana, on the first droplet). */
  peerPorts: string[];
}

/** The private network, the droplet firewall and the address that outlives the droplet. */
export class Network extends pulumi.ComponentResource {
  readonly vpc: digitalocean.Vpc;
  readonly firewall: digitalocean.Firewall;
  readonly reservedIp: digitalocean.ReservedIp;
  readonly dropletTag: digitalocean.Tag;
  readonly certificate?: digitalocean.Certificate;
  readonly loadBalancer?: digitalocean.LoadBalancer;

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
    const balanced = args.loadBalancer;
    if (balanced) {
      // Auto-named: a new host list replaces the certificate, and the new one must exist
      // (under another name) before the load balancer lets go of the old one.
      this.certificate = new digitalocean.Certificate(
        `${name}-certificate`,
        { type: "lets_encrypt", domains: certificateDomains(balanced.hosts) },
        { parent: this, dependsOn: [balanced.zone] },
      );
      this.loadBalancer = new digitalocean.LoadBalancer(
        `${name}-lb`,
        {
          name: `${name}-lb`,
          region: args.region,
          vpcUuid: this.vpc.id,
          sizeUnit: balanced.sizeUnit,
          networkStack: "DUALSTACK",
          dropletTag: this.dropletTag.name,
          // The name, not the ID: DigitalOcean renews a Let's Encrypt certificate under a new ID.
          forwardingRules: loadBalancerForwardingRules(this.certificate.name),
          redirectHttpToHttps: true,
          healthcheck: { ...LOAD_BALANCER_HEALTHCHECK },
          enableBackendKeepalive: true,
          // DigitalOcean's longest: WebSockets idle longer than this are cut at the load balancer.
          httpIdleTimeoutSeconds: 600,
          // The Dns component owns the records.
          disableLetsEncryptDnsRecords: true,
        },
        { parent: this },
      );
    }
    const dropletTag = this.dropletTag.name;
    this.firewall = new digitalocean.Firewall(
      `${name}-firewall`,
      {
        name: `${name}-droplet`,
        tags: [this.dropletTag.name],
        inboundRules: this.loadBalancer
          ? pulumi
              .all([this.loadBalancer.id, dropletTag])
              .apply(([loadBalancerUid, tag]) =>
                balancedInboundRules(args.adminCidrs, { loadBalancerUid, dropletTag: tag, peerPorts: balanced?.peerPorts ?? [] }),
              )
          : dropletInboundRules(args.adminCidrs),
        outboundRules: dropletOutboundRules(),
      },
      { parent: this },
    );
    this.reservedIp = new digitalocean.ReservedIp(`${name}-ip`, { region: args.region }, { parent: this, protect: true });
    this.registerOutputs({ vpcId: this.vpc.id, firewallId: this.firewall.id, address: this.reservedIp.ipAddress });
  }
}
