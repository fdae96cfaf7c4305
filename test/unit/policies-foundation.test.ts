import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as digitalocean from "@pulumi/digitalocean";
import { dropletBackupsEnabled, dropletPrivateAndMonitored, volumeProtected } from "../../policies/host";
import { firewallNoPublicAdminPorts } from "../../policies/network";
import { dropletInboundRules } from "../../components/network/rules";
import { resourceViolations, typeOf } from "../support/policy";

const VOLUME = typeOf(digitalocean.Volume);
const DROPLET = typeOf(digitalocean.Droplet);
const FIREWALL = typeOf(digitalocean.Firewall);

describe("policy volume-protected", () => {
  it("flags an unprotected volume", async () => {
    const found = await resourceViolations(volumeProtected, { type: VOLUME, props: { size: 20 } });
    assert.equal(found.length, 1);
    assert.match(found[0], /^set `protect: true` on the data volume so `pulumi destroy` or a replace cannot delete it/);
  });
  it("accepts a protected volume", async () => {
    assert.deepEqual(await resourceViolations(volumeProtected, { type: VOLUME, props: { size: 20 }, protect: true }), []);
  });
});

describe("policy droplet-backups-enabled", () => {
  it("flags a droplet without backups", async () => {
    const found = await resourceViolations(dropletBackupsEnabled, { type: DROPLET, props: { backups: false } });
    assert.match(found[0], /dropstack:droplet\.backups/);
  });
  it("accepts a droplet with backups", async () => {
    assert.deepEqual(await resourceViolations(dropletBackupsEnabled, { type: DROPLET, props: { backups: true } }), []);
  });
});

describe("policy droplet-in-vpc-with-monitoring", () => {
  it("flags a droplet outside a VPC or without monitoring", async () => {
    const found = await resourceViolations(dropletPrivateAndMonitored, { type: DROPLET, props: { monitoring: false } });
    assert.equal(found.length, 2);
  });
  it("accepts a monitored droplet in a VPC", async () => {
    assert.deepEqual(
      await resourceViolations(dropletPrivateAndMonitored, { type: DROPLET, props: { vpcUuid: "vpc-1", monitoring: true } }),
      [],
    );
  });
});

describe("policy firewall-no-public-admin-ports", () => {
  it("flags SSH open to 0.0.0.0/0", async () => {
    const found = await resourceViolations(firewallNoPublicAdminPorts, {
      type: FIREWALL,
      props: { inboundRules: dropletInboundRules(["0.0.0.0/0"]) },
    });
    assert.equal(found.length, 1);
    assert.match(found[0], /tcp port 22 is open to too much of the internet: 0\.0\.0\.0\/0 together cover/);
  });
  it("flags any non-web port or a rule without a port range open to ::/0", async () => {
    const found = await resourceViolations(firewallNoPublicAdminPorts, {
      type: FIREWALL,
      props: {
        inboundRules: [
          { protocol: "tcp", portRange: "5432", sourceAddresses: ["::/0"] },
          { protocol: "udp", sourceAddresses: ["0.0.0.0/0"] },
          { protocol: "tcp", portRange: "1-65535", sourceAddresses: ["0.0.0.0/0"] },
        ],
      },
    });
    assert.equal(found.length, 3);
  });
  it("names a rule without a port range, or with an empty one, as every port", async () => {
    for (const portRange of [undefined, ""]) {
      const found = await resourceViolations(firewallNoPublicAdminPorts, {
        type: FIREWALL,
        props: { inboundRules: [{ protocol: "udp", ...(portRange === undefined ? {} : { portRange }), sourceAddresses: ["0.0.0.0/0"] }] },
      });
      assert.equal(found.length, 1, JSON.stringify(portRange));
      assert.match(found[0], /^inbound udp port all is open to too much of the internet/);
    }
    const web = { protocol: "tcp", portRange: "443", sourceAddresses: ["0.0.0.0/0"] };
    assert.deepEqual(await resourceViolations(firewallNoPublicAdminPorts, { type: FIREWALL, props: { inboundRules: [web] } }), []);
  });
  it("accepts web ports to the world and SSH from admin CIDRs", async () => {
    const props = { inboundRules: dropletInboundRules(["198.51.100.0/24", "2001:db8::/48"]) };
    assert.deepEqual(await resourceViolations(firewallNoPublicAdminPorts, { type: FIREWALL, props }), []);
  });
});
