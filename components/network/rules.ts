// Firewall rules as data, so the policy that guards them and the component that
// applies them agree on what "web" and "admin" ports mean.
export const WORLD = ["0.0.0.0/0", "::/0"];
export const WEB_PORTS = ["80", "443"];
export const SSH_PORT = "22";

export interface InboundRule {
  protocol: "tcp" | "udp" | "icmp";
  portRange?: string;
  sourceAddresses?: string[];
  /** The load balancer's ID: only it may connect (scale.droplets > 1). */
  sourceLoadBalancerUids?: string[];
  /** Droplets carrying these tags may connect. */
  sourceTags?: string[];
}

export interface OutboundRule {
  protocol: "tcp" | "udp" | "icmp";
  portRange?: string;
  destinationAddresses: string[];
}

/** 80/443 from anywhere, SSH from the admin CIDRs only, nothing else inbound. */
export function dropletInboundRules(adminCidrs: string[]): InboundRule[] {
  return [
    ...WEB_PORTS.map((port): InboundRule => ({ protocol: "tcp", portRange: port, sourceAddresses: WORLD })),
    { protocol: "tcp", portRange: SSH_PORT, sourceAddresses: [...adminCidrs] },
  ];
}

/** Where the load balancer sends every request (HTTPS ends at the load balancer). */
export const BALANCED_PORT = "80";

/**
 * Behind a load balancer: port 80 from the load balancer only, nothing else on 80/443, SSH
 * from the admin CIDRs, and `peerPorts` from the app droplets themselves (Grafana on the
 * first droplet, proxied by every droplet's nginx).
 */
export function balancedInboundRules(
  adminCidrs: string[],
  balancer: { loadBalancerUid: string; dropletTag: string; peerPorts: string[] },
): InboundRule[] {
  return [
    { protocol: "tcp", portRange: BALANCED_PORT, sourceLoadBalancerUids: [balancer.loadBalancerUid] },
    ...balancer.peerPorts.map((port): InboundRule => ({ protocol: "tcp", portRange: port, sourceTags: [balancer.dropletTag] })),
    { protocol: "tcp", portRange: SSH_PORT, sourceAddresses: [...adminCidrs] },
  ];
}

/** The droplet pulls images, packages and certificates, and reaches the managed database. */
export function dropletOutboundRules(): OutboundRule[] {
  return [
    { protocol: "tcp", portRange: "1-65535", destinationAddresses: WORLD },
    { protocol: "udp", portRange: "1-65535", destinationAddresses: WORLD },
    { protocol: "icmp", destinationAddresses: WORLD },
  ];
}

/** True when a rule's port range covers the port (DO accepts "22", "1-65535" and "all"). */
export function portRangeCovers(portRange: string | undefined, port: number): boolean {
  if (portRange === undefined || portRange === "" || portRange === "all" || portRange === "0") return true;
  const [low, high = low] = portRange.split("-").map(Number);
  return port >= low && port <= high;
}
