// Staging grown past one droplet under mocks: its certificate is the load balancer's (DigitalOcean's
// Let's Encrypt one), so the smoke test verifies it even though tls.staging (Let's Encrypt's
// staging CA for nginx's own certificates) is on, and no certbot runs on any droplet.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Graph } from "../../tools/check/harness";
import { committedValue, runStack } from "../support/program";

describe("staging past one droplet (mocks)", () => {
  let graph: Graph;

  before(async () => {
    assert.equal(
      committedValue<{ staging: boolean }>("staging", "dropstack:tls").staging,
      true,
      "the committed staging stack uses the staging CA",
    );
    ({ graph } = await runStack({ stack: "staging", override: { "dropstack:manageDns": true, "dropstack:scale": { droplets: 2 } } }));
  });

  it("verifies the load balancer's certificate in the smoke test, through the load balancer's address", () => {
    const smoke = String(graph.one("command:remote:Command", "-smoke").inputs.create);
    assert.ok(smoke.includes("\nINSECURE='0'\n"), "verified");
    assert.match(smoke, /\nADDRESS='[0-9.]+'\n/);
  });

  it("runs no certbot: the load balancer holds the certificate", () => {
    assert.equal(graph.ofType("docker:index/container:Container").filter((c) => c.name.endsWith("-certbot")).length, 0);
    assert.equal(graph.ofType("digitalocean:index/certificate:Certificate").length, 1);
  });
});
