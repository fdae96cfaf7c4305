import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isHostname } from "../../components/config/hostname";
import { parseStackConfig } from "../../components/config/schema";
import { decodeConfigValue } from "../../components/config";
import { minimalConfig } from "../support/config";

const minimal = minimalConfig;

function problems(raw: Record<string, unknown>, stack = "staging"): string[] {
  const result = parseStackConfig(raw, stack);
  return result.ok ? [] : result.problems;
}

describe("stack config schema", () => {
  it("fills sensible staging defaults", () => {
    const result = parseStackConfig(minimal(), "staging");
    assert.ok(result.ok);
    assert.equal(result.config.app.port, 8000);
    assert.equal(result.config.app.replicas, 2);
    assert.equal(result.config.app.healthPath, "/health");
    assert.equal(result.config.postgres.nodes, 1);
    assert.equal(result.config.tls.staging, true);
    assert.equal(result.config.droplet.backups, false);
    assert.deepEqual(result.config.backups, { keep: 7, offsite: false, intervalHours: 24, drill: "weekly" });
    assert.equal(result.config.manageDns, false);
  });

  it("gives production no silent defaults for adminCidrs, backups and tls.email", () => {
    const raw: Record<string, unknown> = { ...minimal() };
    delete raw.tls;
    assert.deepEqual(problems(raw, "production").sort(), [
      "dropstack:adminCidrs: required",
      "dropstack:backups: required",
      "dropstack:tls.email: required",
    ]);
  });

  it("uses safer defaults in production once the required keys are set", () => {
    const result = parseStackConfig(
      { ...minimal(), adminCidrs: ["198.51.100.0/24"], backups: { offsite: true }, promotion: { stagingStack: "acme/dropstack/staging" } },
      "production",
    );
    assert.ok(result.ok);
    assert.equal(result.config.postgres.nodes, 2);
    assert.equal(result.config.droplet.backups, true);
    assert.equal(result.config.tls.staging, false);
    assert.equal(result.config.backups.keep, 7);
  });

  it("lists every problem at once, each with its full key", () => {
    const raw = {
      ...minimal(),
      region: "mars1",
      hosts: { api: "not a host" },
      app: { image: "ghcr.io/acme/api:1", port: "eighty", migrate: "x" },
      adminCidrs: ["10.0.0.0/33"],
    };
    const found = problems(raw);
    assert.equal(found.length, 4, found.join("\n"));
    assert.ok(found.some((p) => p.startsWith("dropstack:region: expected a DigitalOcean region slug")));
    assert.ok(found.includes('dropstack:app.port: must be a whole number from 1 to 65535, got "eighty"'));
    assert.ok(found.some((p) => p.startsWith("dropstack:hosts.api: expected a fully qualified hostname")));
    assert.ok(found.some((p) => p.startsWith("dropstack:adminCidrs.0: expected a CIDR")));
  });

  it("names unknown keys so typos do not silently fall back to defaults", () => {
    assert.deepEqual(problems({ ...minimal(), droplet: { sise: "s-1vcpu-1gb" } }), [
      "dropstack:droplet.sise: unknown key; did you mean dropstack:droplet.size?",
    ]);
  });

  it("rejects hosts outside a managed zone and duplicate hosts", () => {
    assert.deepEqual(problems({ ...minimal(), manageDns: true, hosts: { api: "api.other.org" } }), [
      'dropstack:hosts.api: "api.other.org" is not inside the managed zone "example.com"',
    ]);
    assert.deepEqual(problems({ ...minimal(), hosts: { api: "api.example.com", app: "api.example.com" } }), [
      "dropstack:hosts.app: must differ from hosts.api",
    ]);
  });

  it("rejects repeated worker names and variables set both in app.env and appSecrets", () => {
    const raw = {
      ...minimal(),
      app: {
        ...minimal().app,
        env: { SECRET_KEY: "x" },
        workers: [
          { name: "w", command: "a" },
          { name: "w", command: "b" },
        ],
      },
      appSecrets: { SECRET_KEY: "y" },
    };
    assert.deepEqual(problems(raw).sort(), [
      "dropstack:app.workers: worker names repeat: w",
      "dropstack:appSecrets.SECRET_KEY: is also set in app.env; keep each variable in one place",
    ]);
  });

  it("checks redis sizes with the renderer's rule", () => {
    assert.deepEqual(problems({ ...minimal(), redis: { maxmemory: "100kb" } }), [
      'dropstack:redis.maxmemory: expected at least 1mb, got "100kb"',
    ]);
  });

  it("recognises hostnames", () => {
    assert.ok(isHostname("api.example.com"));
    assert.ok(!isHostname("localhost"));
    assert.ok(!isHostname("-bad.example.com"));
    assert.ok(!isHostname("Api.Example.com"));
  });

  it("decodes Pulumi's stored config shapes", () => {
    assert.equal(decodeConfigValue("fra1"), "fra1");
    assert.deepEqual(decodeConfigValue('{"port":8000}'), { port: 8000 });
    assert.equal(decodeConfigValue("true"), true);
  });
});
