// dropstack: one `pulumi up` takes a containerised web app to production on DigitalOcean.
// This file only wires components together; each lives in components/<name>/.
import { loadStackConfig } from "./components/config";
import { Dns } from "./components/dns";
import { Host } from "./components/host";
import { Network } from "./components/network";
import { Project } from "./components/project";

const config = loadStackConfig();
const name = `${config.project}-${config.stack}`;

const network = new Network(name, {
  region: config.region,
  adminCidrs: config.adminCidrs,
  dropletTag: `${name}-app`,
});

const host = new Host(name, {
  region: config.region,
  size: config.droplet.size,
  image: config.droplet.image,
  backups: config.droplet.backups,
  volumeGb: config.droplet.volumeGb,
  sshPublicKeys: config.sshPublicKeys,
  vpcId: network.vpc.id,
  tag: network.dropletTag.name,
  reservedIp: network.reservedIp,
});

const hostnames = [config.hosts.api, config.hosts.app].filter((h): h is string => h !== undefined);
const dns = config.manageDns
  ? new Dns(name, { zone: config.domain, hosts: hostnames, ipv4Address: network.reservedIp.ipAddress, ipv6Address: host.droplet.ipv6Address })
  : undefined;

new Project(name, {
  stack: config.stack,
  production: config.production,
  resources: [
    host.droplet.dropletUrn,
    host.volume.volumeUrn,
    network.reservedIp.reservedIpUrn,
    ...(dns ? [dns.domain.domainUrn] : []),
  ],
});

export const address = network.reservedIp.ipAddress;
export const ipv6Address = host.droplet.ipv6Address;
export const hostPublicKey = host.hostKey.publicKeyOpenssh;
export const apiUrl = `https://${config.hosts.api}`;
export const dnsRecords = config.manageDns ? "managed in DigitalOcean" : hostnames.map((h) => `${h} A/AAAA → reserved IP and droplet IPv6 (manage them at your DNS provider)`);
