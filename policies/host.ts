import * as digitalocean from "@pulumi/digitalocean";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";

export const volumeProtected: ResourceValidationPolicy = {
  name: "volume-protected",
  description: "The droplet's data volume holds backups, Redis data and certificates: it must be protected from deletion.",
  validateResource: validateResourceOfType(digitalocean.Volume, (_volume, args, reportViolation) => {
    if (!args.opts.protect) reportViolation("set `protect: true` on the data volume so `pulumi destroy` or a replace cannot delete it");
  }),
};

export const dropletBackupsEnabled: ResourceValidationPolicy = {
  name: "droplet-backups-enabled",
  description: "Droplets take DigitalOcean's weekly backups, so a lost droplet can be restored.",
  validateResource: validateResourceOfType(digitalocean.Droplet, (droplet, _args, reportViolation) => {
    if (droplet.backups !== true) reportViolation("droplet backups are off: set dropstack:droplet.backups to true");
  }),
};

export const dropletPrivateAndMonitored: ResourceValidationPolicy = {
  name: "droplet-in-vpc-with-monitoring",
  description: "Droplets live in the stack's VPC and run the DigitalOcean monitoring agent, which alerts need.",
  validateResource: validateResourceOfType(digitalocean.Droplet, (droplet, _args, reportViolation) => {
    if (!droplet.vpcUuid) reportViolation("the droplet is not in a VPC: set vpcUuid so the database is reached over the private network");
    if (droplet.monitoring !== true) reportViolation("the droplet has monitoring off: set monitoring: true so CPU, memory and disk alerts work");
  }),
};

export const hostPolicies = [volumeProtected, dropletBackupsEnabled, dropletPrivateAndMonitored];
