// The load balancer as data (components/network/balancer.ts) and the droplet firewall behind
// it (rules.ts): what it forwards, how long a rolling deploy waits for it, who may connect.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LOAD_BALANCER_HEALTH_PATH } from "../../components/common/names";
import {
  type HealthCheckTiming,
  LOAD_BALANCER_HEALTHCHECK,
  certificateDomains,
  drainWaitSeconds,
  loadBalancerForwardingRules,
  undrainWaitSeconds,
} from "../../components/network/balancer";
import { SSH_PORT, WEB_PORTS, WORLD, balancedInboundRules, dropletInboundRules } from "../../components/network/rules";

const checks: HealthCheckTiming[] = [1, 3, 5, 10].flatMap((checkIntervalSeconds) =>
  [1, 2, 5].flatMap((threshold) =>
    [1, 3].map((responseTimeoutSeconds) => ({
      checkIntervalSeconds,
      responseTimeoutSeconds,
      unhealthyThreshold: threshold,
      healthyThreshold: threshold,
    })),
  ),
);

describe("the load balancer's health check and the waits of a rolling deploy", () => {
  it("asks nginx on port 80 for the load balancer's health path over HTTP", () => {
    assert.equal(LOAD_BALANCER_HEALTHCHECK.protocol, "http");
    assert.equal(LOAD_BALANCER_HEALTHCHECK.port, 80);
    assert.equal(LOAD_BALANCER_HEALTHCHECK.path, LOAD_BALANCER_HEALTH_PATH);
  });

  it("drains for longer than the load balancer needs to see enough failed checks, and undrains for longer than it needs to see enough good ones", () => {
    for (const check of checks) {
      const markedDown = check.unhealthyThreshold * check.checkIntervalSeconds + check.responseTimeoutSeconds;
      assert.ok(drainWaitSeconds(check) > markedDown, JSON.stringify(check));
      assert.ok(undrainWaitSeconds(check) > check.healthyThreshold * check.checkIntervalSeconds, JSON.stringify(check));
      assert.ok(Number.isInteger(drainWaitSeconds(check)) && Number.isInteger(undrainWaitSeconds(check)));
    }
    assert.equal(drainWaitSeconds(), drainWaitSeconds(LOAD_BALANCER_HEALTHCHECK));
  });
});

describe("forwarding and the certificate", () => {
  it("ends HTTPS at the load balancer with the named certificate and forwards plain HTTP to port 80; plain HTTP only for the redirect", () => {
    for (const name of ["dropstack-production-certificate-1a2b3c4", "x"]) {
      const rules = loadBalancerForwardingRules(name);
      assert.deepEqual(rules, [
        { entryProtocol: "https", entryPort: 443, targetProtocol: "http", targetPort: 80, certificateName: name },
        { entryProtocol: "http", entryPort: 80, targetProtocol: "http", targetPort: 80 },
      ]);
    }
  });

  it("covers every host once, and refuses none", () => {
    assert.deepEqual(certificateDomains(["api.example.com", "app.example.com", "api.example.com"]), ["api.example.com", "app.example.com"]);
    assert.throws(() => certificateDomains([]), /at least one host/);
  });
});

describe("the droplet firewall behind the load balancer", () => {
  const admins = [["198.51.100.0/24"], ["198.51.100.0/24", "2001:db8:100::/48"]];
  for (const adminCidrs of admins)
    for (const peerPorts of [[], ["3000"], ["3000", "9100"]]) {
      it(`admits port 80 from the load balancer only, SSH from ${adminCidrs.join(" ")}, ports [${peerPorts.join(", ")}] from the droplets`, () => {
        const rules = balancedInboundRules(adminCidrs, { loadBalancerUid: "lb-1", dropletTag: "acme-production-app", peerPorts });
        const web = rules.filter((r) => WEB_PORTS.includes(r.portRange ?? ""));
        assert.deepEqual(web, [{ protocol: "tcp", portRange: "80", sourceLoadBalancerUids: ["lb-1"] }]);
        assert.ok(
          rules.every((r) => !(r.sourceAddresses ?? []).some((a) => WORLD.includes(a))),
          "nothing from the world",
        );
        assert.deepEqual(
          rules.filter((r) => r.portRange === SSH_PORT),
          [{ protocol: "tcp", portRange: SSH_PORT, sourceAddresses: adminCidrs }],
        );
        assert.deepEqual(
          rules.filter((r) => r.sourceTags !== undefined).map((r) => [r.portRange, r.sourceTags]),
          peerPorts.map((port) => [port, ["acme-production-app"]]),
        );
      });
    }

  it("leaves one droplet's firewall as it was: 80 and 443 from the world", () => {
    const rules = dropletInboundRules(["198.51.100.0/24"]);
    assert.deepEqual(
      rules.filter((r) => WEB_PORTS.includes(r.portRange ?? "")).map((r) => [r.portRange, r.sourceAddresses]),
      WEB_PORTS.map((port) => [port, WORLD]),
    );
  });
});
