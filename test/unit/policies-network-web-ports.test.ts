// Only TCP's web ports may be open to the world: the same port numbers over UDP (HTTP/3's QUIC
// is not served) or a protocol named in another case are judged like any admin port. Generated
// over protocols, both web ports and IPv4 and IPv6 world sources.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as digitalocean from "@pulumi/digitalocean";
import { describeTooWideSources } from "../../components/network/cidr";
import { WEB_PORTS } from "../../components/network/rules";
import { firewallNoPublicAdminPorts } from "../../policies/network";
import { resourceViolations, typeOf } from "../support/policy";

const FIREWALL = typeOf(digitalocean.Firewall);

describe("firewall-no-public-admin-ports on web port numbers", () => {
  it("refuses the web ports open to the world over any protocol but tcp", async () => {
    for (const protocol of ["udp", "icmp", "TCP", "sctp"]) {
      for (const port of WEB_PORTS) {
        for (const world of ["0.0.0.0/0", "::/0"]) {
          const inboundRules = [{ protocol, portRange: port, sourceAddresses: [world] }];
          assert.deepEqual(
            await resourceViolations(firewallNoPublicAdminPorts, { type: FIREWALL, props: { inboundRules } }),
            [
              `inbound ${protocol} port ${port} is open to too much of the internet: ${world} ${describeTooWideSources([world])}; allow it from dropstack:adminCidrs, your admin networks only`,
            ],
            `${protocol} ${port} ${world}`,
          );
        }
      }
    }
  });

  it("accepts the web ports open to the world over tcp", async () => {
    const inboundRules = WEB_PORTS.map((port) => ({ protocol: "tcp", portRange: port, sourceAddresses: ["0.0.0.0/0", "::/0"] }));
    assert.deepEqual(await resourceViolations(firewallNoPublicAdminPorts, { type: FIREWALL, props: { inboundRules } }), []);
  });
});
