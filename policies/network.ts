import * as digitalocean from "@pulumi/digitalocean";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { WEB_PORTS, isWorldOpen } from "../components/network/rules";
import { asList, asProps } from "./util";

export const firewallNoPublicAdminPorts: ResourceValidationPolicy = {
  name: "firewall-no-public-admin-ports",
  description: "Only HTTP and HTTPS are open to the internet (0.0.0.0/0, ::/0); SSH and every other port are limited to admin CIDRs.",
  validateResource: validateResourceOfType(digitalocean.Firewall, (firewall, _args, reportViolation) => {
    for (const rule of asList(firewall.inboundRules).map(asProps)) {
      if (!isWorldOpen(asList<string>(rule.sourceAddresses))) continue;
      const protocol = String(rule.protocol);
      const ports = rule.portRange === undefined ? "all" : String(rule.portRange);
      if (protocol === "tcp" && WEB_PORTS.includes(ports)) continue;
      reportViolation(`inbound ${protocol} port ${ports} is open to the internet (${asList<string>(rule.sourceAddresses).join(", ")}); allow it from dropstack:adminCidrs only`);
    }
  }),
};

export const networkPolicies = [firewallNoPublicAdminPorts];
