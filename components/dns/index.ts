import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { recordName } from "./records";
import { componentType } from "../common/names";

export interface DnsArgs {
  zone: string;
  hosts: string[];
  ipv4Address: pulumi.Input<string>;
  ipv6Address: pulumi.Input<string>;
  /** Short TTL so a droplet replacement's new IPv6 address propagates quickly. */
  ttl?: number;
}

/** The DO-managed zone and A/AAAA records for every dropstack host (only with `manageDns`). */
export class Dns extends pulumi.ComponentResource {
  readonly domain: digitalocean.Domain;

  constructor(name: string, args: DnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("Dns"), name, {}, opts);
    this.domain = new digitalocean.Domain(`${name}-zone`, { name: args.zone }, { parent: this, protect: true });
    const ttl = args.ttl ?? 300;
    for (const host of args.hosts) {
      const label = recordName(host, args.zone);
      new digitalocean.DnsRecord(
        `${name}-${host}-a`,
        { domain: this.domain.id, type: "A", name: label, value: args.ipv4Address, ttl },
        { parent: this },
      );
      new digitalocean.DnsRecord(
        `${name}-${host}-aaaa`,
        { domain: this.domain.id, type: "AAAA", name: label, value: args.ipv6Address, ttl },
        { parent: this },
      );
    }
    this.registerOutputs({ zone: this.domain.name });
  }
}
