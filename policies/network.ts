import * as digitalocean from "@pulumi/digitalocean";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { ADMIN_SOURCE_LIMIT, describeTooWideSources } from "../components/network/cidr";
import { WEB_PORTS } from "../components/network/rules";
import { asList, asProps } from "./util";

export const firewallNoPublicAdminPorts: ResourceValidationPolicy = {
  name: "firewall-no-public-admin-ports",
  description: `Only HTTP and HTTPS are open to the internet; SSH and every other port admit the admin CIDRs only, which together may cover at most one IPv4 /${ADMIN_SOURCE_LIMIT[4].prefix} and one IPv6 /${ADMIN_SOURCE_LIMIT[6].prefix}, however they are spelled or split.`,
  validateResource: validateResourceOfType(digitalocean.Firewall, (firewall, _args, reportViolation) => {
    // Rules for the same protocol and ports are judged together: two /1 rules open as much as one /0.
    const byPorts = new Map<string, string[]>();
    for (const rule of asList(firewall.inboundRules).map(asProps)) {
      const protocol = String(rule.protocol);
      const ports = rule.portRange === undefined || rule.portRange === "" ? "all" : String(rule.portRange);
      if (protocol === "tcp" && WEB_PORTS.includes(ports)) continue;
      const key = `${protocol} port ${ports}`;
      byPorts.set(key, [...(byPorts.get(key) ?? []), ...asList<string>(rule.sourceAddresses).map(String)]);
    }
    for (const [ports, sources] of byPorts) {
      const tooWide = describeTooWideSources(sources);
      if (tooWide)
        reportViolation(
          `inbound ${ports} is open to too much of the internet: ${sources.join(", ")} ${tooWide}; allow it from dropstack:adminCidrs, your admin networks only`,
        );
    }
  }),
};

export const networkPolicies = [firewallNoPublicAdminPorts];
