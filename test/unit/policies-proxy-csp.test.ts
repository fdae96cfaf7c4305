// nginx-csp-no-unsafe-inline-scripts on the configs components/proxy renders: a CSP whose script
// directives allow 'unsafe-inline' is reported (once per directive, wherever the conf travels),
// unless dropstack:proxy.allowUnsafeInlineScripts is exactly true; production enforces it and
// staging leaves it off.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, describe, it } from "node:test";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { NGINX_IMAGE, renderNginxConfCommand } from "../../components/proxy/commands";
import { renderNginxConf } from "../../components/proxy/render";
import { policies } from "../../policies/all";
import { nginxCspNoUnsafeInlineScripts as policy } from "../../policies/proxy";
import { setStackConfig } from "../../policies/stack-config";
import { effectiveConfig, readPolicyConfig } from "../../tools/check/analyzer";
import { FakeResource, resourceViolations, typeOf } from "../support/policy";
import { ROOT } from "../support/program";

const COMMAND = typeOf(command.remote.Command);
const CONTAINER = typeOf(docker.Container);

const conf = (contentSecurityPolicy?: string) =>
  renderNginxConf({
    hosts: { api: "api.example.com", app: "app.example.com" },
    upstream: { alias: "api", port: 8000 },
    hsts: true,
    contentSecurityPolicy,
  });

/** The two ways a conf reaches the droplet: the install Command's stdin, and a container upload. */
const carriers = (text: string): FakeResource[] => [
  { type: COMMAND, name: "nginx-conf", props: { create: renderNginxConfCommand({ image: NGINX_IMAGE }), stdin: text } },
  { type: CONTAINER, name: "edge", props: { uploads: [{ file: "/etc/nginx/nginx.conf", content: text }] } },
];

const UNSAFE = "default-src 'self'; script-src 'self' 'unsafe-inline'; object-src 'none'";
const expected = (resource: string, directive: string) =>
  `the nginx.conf of ${resource} lets inline scripts run (${directive}): remove 'unsafe-inline' from dropstack:proxy.csp (use nonces or hashes), or set dropstack:proxy.allowUnsafeInlineScripts: true to accept the risk`;

afterEach(() => setStackConfig({}, []));

describe("nginx-csp-no-unsafe-inline-scripts", () => {
  it("passes a conf without a CSP, dropstack's default CSP, and inline scripts held by nonces, hashes or 'strict-dynamic'", async () => {
    for (const csp of [
      undefined,
      "base-uri 'self'; frame-ancestors 'none'; object-src 'none'",
      "default-src 'self'",
      "script-src 'self' 'unsafe-inline' 'nonce-r4nd0m'",
      `script-src 'unsafe-inline' 'sha256-${"a".repeat(43)}='`,
      "script-src 'unsafe-inline' 'strict-dynamic' https:",
    ])
      for (const resource of carriers(conf(csp)))
        assert.deepEqual(await resourceViolations(policy, resource), [], `${resource.name}: ${csp}`);
  });

  it("reports a CSP that lets inline scripts run once per resource, naming the directive and both ways out", async () => {
    for (const [csp, directive] of [
      [UNSAFE, "script-src 'self' 'unsafe-inline'"],
      ["default-src 'self' 'UNSAFE-INLINE'", "default-src 'self' 'UNSAFE-INLINE'"],
      ["script-src 'self'; script-src-elem 'self' 'unsafe-inline'", "script-src-elem 'self' 'unsafe-inline'"],
    ])
      for (const resource of carriers(conf(csp)))
        assert.deepEqual(
          await resourceViolations(policy, resource),
          [expected(resource.name as string, directive)],
          `${resource.name}: ${csp}`,
        );
  });

  it("reports every distinct offending directive of a conf", async () => {
    const handWritten = [
      `server { add_header Content-Security-Policy "script-src 'unsafe-inline'" always; }`,
      `server { add_header Content-Security-Policy "default-src 'self'" always; }`,
      `server { add_header content-security-policy "default-src 'unsafe-inline'" always; }`,
      `server { add_header Content-Security-Policy "script-src 'unsafe-inline'" always; }`,
    ].join("\n");
    const [install] = carriers(handWritten);
    assert.deepEqual(await resourceViolations(policy, install), [
      expected("nginx-conf", "script-src 'unsafe-inline'"),
      expected("nginx-conf", "default-src 'unsafe-inline'"),
    ]);
  });

  it("is silent when dropstack:proxy sets allowUnsafeInlineScripts to true, and only then", async () => {
    const [install] = carriers(conf(UNSAFE));
    for (const proxy of [{ allowUnsafeInlineScripts: true }, { rateLimit: 20, burst: 40, allowUnsafeInlineScripts: true }]) {
      setStackConfig({ "dropstack:proxy": JSON.stringify(proxy) }, []);
      assert.deepEqual(await resourceViolations(policy, install), [], JSON.stringify(proxy));
    }
    const off: Record<string, string>[] = [
      {},
      { "dropstack:proxy": JSON.stringify({ rateLimit: 20 }) },
      ...[false, "true", 1, null, { enabled: true }].map((value) => ({
        "dropstack:proxy": JSON.stringify({ allowUnsafeInlineScripts: value }),
      })),
      { "dropstack:proxy": "{allowUnsafeInlineScripts: true" },
      { "dropstack:proxy": "null" },
      { "dropstack:proxy": "true" },
      { "dropstack:proxy": JSON.stringify([{ allowUnsafeInlineScripts: true }]) },
      // Another key's override is not this one.
      { "dropstack:promotion": JSON.stringify({ allowUnsafeInlineScripts: true }) },
      { "dropstack:proxy.allowUnsafeInlineScripts": "true" },
    ];
    for (const config of off) {
      setStackConfig(config, []);
      assert.equal((await resourceViolations(policy, install)).length, 1, JSON.stringify(config));
    }
  });

  it("is mandatory in production and disabled in staging", () => {
    const levelIn = (file: string) =>
      effectiveConfig(
        policies.map((p) => p.name),
        readPolicyConfig(path.join(ROOT, "policies", file)),
      )[policy.name].enforcementLevel;
    assert.ok(policies.includes(policy), "the pack serves it");
    assert.equal(levelIn("production.json"), "mandatory");
    assert.equal(levelIn("staging.json"), "disabled");
    const exceptions = JSON.parse(readFileSync(path.join(ROOT, "policies", "production-exceptions.json"), "utf8")) as object;
    assert.equal(policy.name in exceptions, false, "no production exception");
  });
});
