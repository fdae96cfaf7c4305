// What the schema fills in when a key is left out, for staging and for production, asserted
// whole; and every bounded number and every fixed list of choices tried at and past its
// edges, with the message the user reads.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_ALERT_THRESHOLDS } from "../../components/observability/settings";
import { DO_REGIONS, DRILL_SCHEDULES, parseStackConfig, REDIS_EVICTION_POLICIES, WEEKDAYS } from "../../components/config/schema";
import { minimalConfig } from "../support/config";

type Raw = ReturnType<typeof minimalConfig>;

const SSH_KEY = (minimalConfig().sshPublicKeys as string[])[0];

/** The defaults every stack gets; `production` changes the safety-relevant ones. */
function expectedDefaults(production: boolean) {
  return {
    region: "fra1",
    domain: "example.com",
    manageDns: false,
    hosts: { api: "api.example.com" },
    adminCidrs: production ? ["203.0.113.0/24"] : ["127.0.0.1/32"],
    sshPublicKeys: [SSH_KEY],
    droplet: { size: "s-2vcpu-4gb", image: "ubuntu-24-04-x64", backups: production, volumeGb: 20 },
    postgres: {
      version: "16",
      size: "db-s-1vcpu-2gb",
      nodes: production ? 2 : 1,
      database: "app",
      readReplicas: 0,
      maintenance: { day: "sunday", hour: 3 },
    },
    scale: { droplets: 1, loadBalancer: { sizeUnit: 1 }, valkey: { version: "8", size: "db-s-1vcpu-2gb", nodes: production ? 2 : 1 } },
    redis: { image: "redis:7.4.1-alpine", maxmemory: "256mb", evictionPolicy: "noeviction" },
    app: {
      image: "ghcr.io/acme/api:1.0.0",
      port: 8000,
      replicas: 2,
      healthPath: "/health",
      migrate: "alembic upgrade head",
      env: {},
      workers: [],
      verify: { sql: [] },
      watch: { seconds: 0, max5xxPercent: 1, p95LatencyMs: 2000, minRequests: 20, rollback: false },
      smoke: [],
    },
    appSecrets: {},
    tls: { email: "ops@example.com", staging: !production },
    backups: { keep: 7, offsite: false, intervalHours: production ? 4 : 24, drill: "weekly" },
    alerts: { emails: [] },
    observability: {
      enabled: production,
      metricsRetentionSize: "2GB",
      metricsRetentionDays: 15,
      logRetentionDays: 14,
      grafanaRoles: { admin: [], editor: [], viewer: [] },
      thresholds: DEFAULT_ALERT_THRESHOLDS,
    },
    proxy: {
      rateLimit: 10,
      burst: 20,
      maxBodySize: "10m",
      csp: "base-uri 'self'; frame-ancestors 'none'; object-src 'none'",
      allowUnsafeInlineScripts: false,
      routes: [],
      timeouts: { connect: 5, send: 60, read: 60, webSocketRead: 3600, webSocketSend: 3600 },
      keepalive: { connections: 16, idleSeconds: 2 },
    },
    promotion: { allowUnpromoted: production },
  };
}

describe("config defaults", () => {
  it("staging: everything left out is filled in, and nothing else is added", () => {
    const result = parseStackConfig(minimalConfig(), "staging");
    assert.ok(result.ok);
    assert.deepEqual(result.config, expectedDefaults(false));
  });

  it("production: backups, two database nodes, real certificates and a 4-hour backup interval", () => {
    const raw = { ...minimalConfig(), adminCidrs: ["203.0.113.0/24"], backups: { offsite: false }, promotion: { allowUnpromoted: true } };
    const result = parseStackConfig(raw, "production");
    assert.ok(result.ok);
    assert.deepEqual(result.config, expectedDefaults(true));
  });
});

interface Range {
  key: string;
  min: number;
  max: number;
  set: (raw: Raw, value: unknown) => void;
}

const RANGES: Range[] = [
  { key: "droplet.volumeGb", min: 1, max: 16384, set: (raw, v) => void (raw.droplet = { volumeGb: v }) },
  { key: "postgres.nodes", min: 1, max: 3, set: (raw, v) => void (raw.postgres = { nodes: v }) },
  { key: "postgres.maintenance.hour", min: 0, max: 23, set: (raw, v) => void (raw.postgres = { maintenance: { hour: v } }) },
  { key: "postgres.readReplicas", min: 0, max: 5, set: (raw, v) => void (raw.postgres = { readReplicas: v }) },
  // Past one droplet the zone must be DigitalOcean's (the load balancer's certificate).
  { key: "scale.droplets", min: 1, max: 10, set: (raw, v) => void ((raw.manageDns = true), (raw.scale = { droplets: v })) },
  { key: "scale.loadBalancer.sizeUnit", min: 1, max: 100, set: (raw, v) => void (raw.scale = { loadBalancer: { sizeUnit: v } }) },
  { key: "app.port", min: 1, max: 65535, set: (raw, v) => void (raw.app.port = v) },
  { key: "app.replicas", min: 1, max: 10, set: (raw, v) => void (raw.app.replicas = v) },
  { key: "app.smoke.0.status", min: 100, max: 599, set: (raw, v) => void (raw.app.smoke = [{ path: "/health", status: v }]) },
  { key: "app.watch.seconds", min: 0, max: 3600, set: (raw, v) => void (raw.app.watch = { seconds: v }) },
  { key: "app.watch.p95LatencyMs", min: 1, max: 600000, set: (raw, v) => void (raw.app.watch = { p95LatencyMs: v }) },
  { key: "app.watch.minRequests", min: 1, max: 1000000, set: (raw, v) => void (raw.app.watch = { minRequests: v }) },
  { key: "backups.keep", min: 1, max: 365, set: (raw, v) => void (raw.backups = { offsite: false, keep: v }) },
  { key: "backups.intervalHours", min: 1, max: 168, set: (raw, v) => void (raw.backups = { offsite: false, intervalHours: v }) },
];

function problemsAt(set: (raw: Raw) => void, key: string): { all: string[]; at: string[] } {
  const raw = minimalConfig();
  set(raw);
  const result = parseStackConfig(raw, "staging");
  const all = result.ok ? [] : result.problems;
  return { all, at: all.filter((p) => p.startsWith(`dropstack:${key}:`)) };
}

describe("bounded whole numbers", () => {
  for (const range of RANGES) {
    it(`${range.key} takes ${range.min} to ${range.max}, and refuses what is outside, fractional or not a number`, () => {
      const message = (value: unknown) =>
        `dropstack:${range.key}: must be a whole number from ${range.min} to ${range.max}, got ${JSON.stringify(value)}`;
      for (const value of [range.min, range.min + 1, Math.floor((range.min + range.max) / 2), range.max - 1, range.max])
        assert.deepEqual(problemsAt((raw) => range.set(raw, value), range.key).all, [], `${value}`);
      for (const value of [range.min - 1, range.max + 1, range.min + 0.5, range.max - 0.5, -range.max, String(range.min), true, null])
        assert.deepEqual(problemsAt((raw) => range.set(raw, value), range.key).at, [message(value)], JSON.stringify(value));
    });
  }
});

describe("app.watch.max5xxPercent", () => {
  it("takes a percentage from 0 to 100 with at most two decimals", () => {
    const at = (value: unknown) => problemsAt((raw) => void (raw.app.watch = { max5xxPercent: value }), "app.watch.max5xxPercent");
    for (const value of [0, 0.01, 0.5, 1, 12.34, 99.99, 100]) assert.deepEqual(at(value).all, [], `${value}`);
    // 1e-8 is off a whole hundredth by exactly the tolerance floating-point error is allowed.
    for (const value of [-0.01, 100.01, 0.001, 12.345, 101, 1e-8, 50 + 1e-8, "1", null])
      assert.deepEqual(
        at(value).at,
        [`dropstack:app.watch.max5xxPercent: must be a percentage from 0 to 100 with at most two decimals, got ${JSON.stringify(value)}`],
        JSON.stringify(value),
      );
  });
});

interface Choice {
  key: string;
  choices: readonly string[];
  message: string;
  set: (raw: Raw, value: unknown) => void;
}

const CHOICES: Choice[] = [
  {
    key: "region",
    choices: DO_REGIONS,
    message: `expected a DigitalOcean region slug (${DO_REGIONS.join(", ")})`,
    set: (raw, v) => void (raw.region = v),
  },
  {
    key: "postgres.maintenance.day",
    choices: WEEKDAYS,
    message: `expected a weekday (${WEEKDAYS.join(", ")})`,
    set: (raw, v) => void (raw.postgres = { maintenance: { day: v } }),
  },
  {
    key: "backups.drill",
    choices: DRILL_SCHEDULES,
    message: `expected one of ${DRILL_SCHEDULES.join(", ")}`,
    set: (raw, v) => void (raw.backups = { offsite: false, drill: v }),
  },
  {
    key: "redis.evictionPolicy",
    choices: REDIS_EVICTION_POLICIES,
    message: `expected one of ${REDIS_EVICTION_POLICIES.join(", ")}`,
    set: (raw, v) => void (raw.redis = { evictionPolicy: v }),
  },
  {
    key: "app.smoke.0.method",
    choices: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    message: "expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
    set: (raw, v) => void (raw.app.smoke = [{ path: "/health", method: v }]),
  },
];

describe("fixed lists of choices", () => {
  for (const choice of CHOICES) {
    it(`${choice.key} takes each of its choices and names them all when given another`, () => {
      for (const value of choice.choices) assert.deepEqual(problemsAt((raw) => choice.set(raw, value), choice.key).all, [], value);
      const others = [
        "",
        choice.choices[0].toUpperCase() === choice.choices[0] ? choice.choices[0].toLowerCase() : choice.choices[0].toUpperCase(),
        `${choice.choices[0]} `,
        "other",
        7,
      ];
      for (const value of others)
        assert.deepEqual(
          problemsAt((raw) => choice.set(raw, value), choice.key).at,
          [`dropstack:${choice.key}: ${choice.message}, got ${JSON.stringify(value)}`],
          JSON.stringify(value),
        );
    });
  }
});
