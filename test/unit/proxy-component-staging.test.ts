// The Proxy in the committed staging stack under mocks: no HSTS, Let's Encrypt's staging CA,
// and an issuance that reports a failure without failing the update (the smoke test does not
// verify staging certificates, and staging's DNS records may only exist after its first deploy).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { before, describe, it } from "node:test";
import { hasHsts, tlsProtocolsIn } from "../../components/proxy/render";
import type { Graph, Registration } from "../../tools/check/harness";
import { committedValue, runStack } from "../support/program";

const COMMAND = "command:remote:Command";
const CONTAINER = "docker:index/container:Container";
const hosts = committedValue<{ api: string; app: string }>("staging", "dropstack:hosts");

describe("Proxy component (staging, mocks)", () => {
  let graph: Graph;
  let issuance: Registration;
  let conf: string;

  before(async () => {
    ({ graph } = await runStack({ stack: "staging" }));
    issuance = graph.one(COMMAND, "-certbot-issue");
    conf = String(graph.one(COMMAND, "-nginx-conf").inputs.stdin);
  });

  it("sends no HSTS but still allows only TLS 1.2 and 1.3", () => {
    assert.equal(committedValue<{ staging: boolean }>("staging", "dropstack:tls").staging, true);
    assert.equal(hasHsts(conf), false);
    assert.match(conf, new RegExp(`server_name ${hosts.api.replace(/\./g, "\\.")};`));
    assert.deepEqual(tlsProtocolsIn(conf), ["TLSv1.2", "TLSv1.3"]);
  });

  it("asks Let's Encrypt's staging CA", () => {
    const certbot = graph.one(CONTAINER, "-certbot");
    const script = (certbot.inputs.uploads as { file: string; content: string }[])[0].content;
    assert.match(script, /^ACME_STAGING='1'$/m);
    assert.equal(issuance.inputs.stdin, script);
  });

  it("reports a failed issuance without failing the update", () => {
    const create = String(issuance.inputs.create);
    // Run the rendered command with a docker that fails like certbot does when DNS is not there yet.
    const result = spawnSync(
      "bash",
      ["-c", `docker() { if [ "$1" = run ]; then cat >/dev/null; echo 'Challenge failed' >&2; return 1; fi; }\n${create}`],
      { encoding: "utf8", input: "#!/bin/sh\n" },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /WARNING: no certificate from Let's Encrypt yet \(certbot exit 1/);
    assert.match(result.stderr, new RegExp(`A/AAAA records of ${hosts.api.replace(/\./g, "\\.")}`));
    assert.doesNotMatch(create, /curl/, "nothing waits for a trusted certificate");
  });

  it("still runs the smoke test after the proxy", () => {
    assert.ok(graph.dependsOn(graph.one(COMMAND, "-smoke"), issuance));
  });
});
