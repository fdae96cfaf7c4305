// Every config key the schema checks against a pattern, with values generated at the edges of
// the pattern: the shortest and longest accepted, each accepted value with a character the
// pattern refuses put before it, after it or in place of it, and the empty value. A pattern
// that lost an anchor, a quantifier or a character class would let one of them through, or
// refuse an accepted one.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig } from "../../components/config/schema";
import { minimalConfig } from "../support/config";

type Raw = ReturnType<typeof minimalConfig>;

interface PatternKey {
  /** The key as problems name it, after `dropstack:`. */
  key: string;
  /** Puts the value at the key of a staging config the schema otherwise accepts. */
  set: (raw: Raw, value: string) => void;
  /** The message's text after the key, for a refused value. */
  refusal: (value: string) => string;
  accepted: string[];
  refused: string[];
  /** Characters the pattern refuses anywhere in the value: each is tried before, after and inside every accepted value. */
  foreign: string[];
}

const expected = (what: string) => (value: string) => `expected ${what}, got ${JSON.stringify(value)}`;
const HEX64 = "0123456789abcdef".repeat(4);

const AUTH0 = { apiIdentifier: "https://api.example.com" };

const KEYS: PatternKey[] = [
  {
    key: "droplet.image",
    set: (raw, value) => void (raw.droplet = { image: value }),
    refusal: expected("an image slug like ubuntu-24-04-x64"),
    accepted: ["ubuntu-24-04-x64", "a", "7", "-", "debian-12-x64"],
    refused: ["", "Ubuntu-24-04-x64", "ubuntu_24_04", "ubuntu 24"],
    foreign: [" ", "_", "A", "!", "."],
  },
  {
    key: "postgres.version",
    set: (raw, value) => void (raw.postgres = { version: value }),
    refusal: expected('a major version like "16" (quoted)'),
    accepted: ["9", "16", "17"],
    refused: ["", "100", "v16", "16.2", "١٦"],
    foreign: [" ", "v", "."],
  },
  {
    key: "postgres.database",
    set: (raw, value) => void (raw.postgres = { database: value }),
    refusal: expected("a lowercase database name like app"),
    accepted: ["app", "a", "_", "app_2", `a${"b".repeat(62)}`, `_${"9".repeat(62)}`],
    refused: ["", "1app", "App", "app-db", `a${"b".repeat(63)}`, "9"],
    foreign: [" ", "-", "A", "."],
  },
  {
    key: "app.workers.0.name",
    set: (raw, value) => void (raw.app.workers = [{ name: value, command: "celery -A app worker" }]),
    refusal: expected("a short lowercase name like worker or beat"),
    accepted: ["worker", "w", "beat-2", `a${"b".repeat(30)}`, "a-"],
    refused: ["", "2w", "-w", "Worker", `a${"b".repeat(31)}`],
    foreign: [" ", "_", "A", "."],
  },
  {
    key: "app.smoke.0.scopes.0",
    set: (raw, value) => {
      raw.auth0 = { ...AUTH0, roles: { reader: [value] } };
      raw.app.smoke = [{ path: "/health", token: true, scopes: [value] }];
    },
    refusal: expected("a permission like read:users"),
    accepted: ["read:users", "a", "x.y-z_1", ":", "READ:ALL"],
    refused: ["", "read users", "read/users"],
    foreign: [" ", "/", "!", "é"],
  },
  {
    key: "auth0.roles.reader.0",
    set: (raw, value) => void (raw.auth0 = { ...AUTH0, roles: { reader: [value] } }),
    refusal: expected("a permission like read:patients"),
    accepted: ["read:patients", "a", "x.y-z_1"],
    refused: ["", "read patients", "read/patients"],
    foreign: [" ", "/", "!"],
  },
  {
    key: "auth0.apiIdentifier",
    set: (raw, value) => void (raw.auth0 = { apiIdentifier: value }),
    refusal: expected("the API audience, e.g. https://api.example.com"),
    accepted: ["https://api.example.com", "x", "urn:acme:api"],
    refused: ["", "https://api example.com", " "],
    foreign: [" ", "\t"],
  },
  {
    key: "auth0.claimNamespace",
    set: (raw, value) => void (raw.auth0 = { ...AUTH0, claimNamespace: value }),
    refusal: expected("a namespace like https://example.com"),
    accepted: ["https://example.com", "x"],
    refused: ["", "https://example .com"],
    foreign: [" "],
  },
  {
    key: "registry.server",
    set: (raw, value) => {
      raw.registry = { server: value, username: "bot", password: "s3cr3t" };
      raw.app.image = `${value}/acme/api:1.0.0`;
    },
    refusal: expected("a registry host like ghcr.io or registry.example.com:5000"),
    accepted: ["ghcr.io", "registry.example.com:5000", "r.io", "a:1", "a.b:65535", "10.0.0.5:5000", "localhost"],
    refused: ["", "-ghcr.io", "ghcr.io-", "ghcr.io:", "ghcr.io:123456", ":5000", "GHCR.io"],
    foreign: [" ", "/", "_", "A", "@"],
  },
  {
    key: "registry.username",
    set: (raw, value) => void (raw.registry = { server: "ghcr.io", username: value, password: "s3cr3t" }),
    refusal: expected("the registry user name"),
    accepted: ["bot", "x", "robot$acme+ci"],
    refused: ["", "my bot"],
    foreign: [" "],
  },
];

function problemsWith(entry: PatternKey, value: string): string[] {
  const raw = minimalConfig();
  if (entry.key === "registry.username") raw.app.image = "ghcr.io/acme/api:1.0.0";
  entry.set(raw, value);
  const result = parseStackConfig(raw, "staging");
  return result.ok ? [] : result.problems;
}

/** Each accepted value with the character put before it, after it, and in place of each of its characters. */
function withForeign(accepted: string[], foreign: string[]): string[] {
  const variants = new Set<string>();
  for (const value of accepted)
    for (const character of foreign) {
      variants.add(`${character}${value}`);
      variants.add(`${value}${character}`);
      for (let i = 0; i < value.length; i++) variants.add(`${value.slice(0, i)}${character}${value.slice(i + 1)}`);
    }
  return [...variants];
}

describe("config keys checked against a pattern", () => {
  for (const entry of KEYS) {
    it(`${entry.key} accepts its examples, the shortest and the longest`, () => {
      for (const value of entry.accepted) assert.deepEqual(problemsWith(entry, value), [], JSON.stringify(value));
    });

    it(`${entry.key} refuses the empty value, its counter-examples and every accepted value with a foreign character`, () => {
      const refused = [...entry.refused, ...withForeign(entry.accepted, entry.foreign)];
      // A character put in place of another can make another accepted value ("a" in place of "b").
      for (const value of refused.filter((v) => !entry.accepted.includes(v))) {
        // (registry.server also gets "is not the registry of app.image" for what it refuses)
        const problems = problemsWith(entry, value).filter((p) => p.startsWith(`dropstack:${entry.key}: expected`));
        assert.deepEqual(problems, [`dropstack:${entry.key}: ${entry.refusal(value)}`], JSON.stringify(value));
      }
    });
  }
});

describe("app.image and redis.image", () => {
  const refusal = expected("an image reference like registry.example.com/app:1.2.3@sha256:<64 hex>");
  const accepted = [
    "redis",
    "a",
    "ghcr.io/acme/api:1.0.0",
    "registry.example.com:5000/acme/api:v1.2_3-rc",
    `api@sha256:${HEX64}`,
    `ghcr.io/acme/api:1.0.0@sha256:${HEX64}`,
    `api:${"t".repeat(128)}`,
    "a_b.c-d/e",
    "localhost:5000/app",
    "my-registry.example.com:443/team/app:latest",
  ];
  const refused = [
    "",
    "Api",
    "/api",
    "api/",
    "api:",
    "a..b",
    "a//b",
    `api:${"t".repeat(129)}`,
    `ghcr.io/acme/api:${"t".repeat(129)}`,
    "registry.example.com:port/app",
    "registry.example.com:123456/app",
    "a/b:5000/c",
    "api:-tag",
    `api@sha256:${HEX64.slice(1)}`,
    `api@sha256:${HEX64}0`,
    `api@sha256:${HEX64.toUpperCase()}`,
    `api@sha512:${HEX64}`,
    "api tag",
    " api",
    "api ",
    "!api",
    "api!",
  ];

  for (const key of ["app", "redis"] as const) {
    const problemsWith = (image: string) => {
      const raw = minimalConfig();
      if (key === "app") raw.app.image = image;
      else raw.redis = { image };
      const result = parseStackConfig(raw, "staging");
      return result.ok ? [] : result.problems;
    };

    it(`${key}.image accepts names, paths, ports, tags up to 128 characters and sha256 digests`, () => {
      for (const image of accepted) assert.deepEqual(problemsWith(image), [], image);
    });

    it(`${key}.image refuses empty parts, uppercase, a tag over 128 characters, a malformed digest and stray characters`, () => {
      for (const image of refused)
        assert.deepEqual(problemsWith(image), [`dropstack:${key}.image: ${refusal(image)}`], JSON.stringify(image));
    });
  }
});
