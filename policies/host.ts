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
    if (droplet.monitoring !== true)
      reportViolation("the droplet has monitoring off: set monitoring: true so CPU, memory and disk alerts work");
  }),
};

/**
 * End of standard support of the Ubuntu LTS releases DigitalOcean offers as droplet images
 * (ubuntu.com/about/release-cycle; paid ESM extends only some packages). Interim releases
 * are refused outright: nine months of support is not a server's lifetime.
 */
export const UBUNTU_LTS_END_OF_SUPPORT: Record<string, string> = {
  "16-04": "2021-04-30",
  "18-04": "2023-05-31",
  "20-04": "2025-05-31",
  "22-04": "2027-04-30",
  "24-04": "2029-04-30",
  "26-04": "2031-04-30",
};

/** Why a droplet image slug is not a supported Ubuntu LTS on `today`, or undefined. */
export function dropletImageProblem(image: string, today: Date): string | undefined {
  const match = /^ubuntu-(\d{2})-(\d{2})-x64$/.exec(image);
  if (!match) return `"${image}" is not an Ubuntu LTS image slug (ubuntu-24-04-x64); cloud-init and the hardening assume Ubuntu LTS`;
  const release = `${match[1]}-${match[2]}`;
  const end = UBUNTU_LTS_END_OF_SUPPORT[release];
  if (end === undefined)
    return `Ubuntu ${match[1]}.${match[2]} is not an LTS release, and interim releases lose security updates after nine months`;
  if (today.toISOString().slice(0, 10) > end)
    return `Ubuntu ${match[1]}.${match[2]} reached the end of standard support on ${end} and gets no more security updates`;
  return undefined;
}

export const dropletImageSupported: ResourceValidationPolicy = {
  name: "droplet-image-supported",
  description: "Droplets run an Ubuntu LTS image that still gets security updates.",
  validateResource: validateResourceOfType(digitalocean.Droplet, (droplet, _args, reportViolation) => {
    if (typeof droplet.image !== "string") return;
    const problem = dropletImageProblem(droplet.image, new Date());
    if (problem)
      reportViolation(
        `${problem}: set dropstack:droplet.image to ubuntu-24-04-x64 (a new image replaces the droplet: see "Replacing the droplet" in docs/operations.md)`,
      );
  }),
};

export const hostPolicies = [volumeProtected, dropletBackupsEnabled, dropletPrivateAndMonitored, dropletImageSupported];
