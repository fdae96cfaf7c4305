import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig, PROJECT, stackConfigSchema } from "../../components/config/schema";
import {
  DROPLET_BACKUP_SHARES,
  DROPLET_PRICES,
  POSTGRES_NODE_PRICES,
  PRICES_READ_ON,
  Price,
  RESERVED_IP_ASSIGNED,
  RESERVED_IP_UNASSIGNED,
  SPACES_SUBSCRIPTION,
  UNBILLED,
  UPTIME_CHECK,
  VOLUME_PER_GB,
} from "../../components/cost/prices";
import { minimalConfig } from "../support/config";

const minimal = minimalConfig;

// Built once: the candidate list below parses a few thousand configs.
const schema = stackConfigSchema("staging", PROJECT);
const accepts = (key: "droplet" | "postgres", size: string) => schema.safeParse({ ...minimal(), [key]: { size } }).success;

/** Size slugs DigitalOcean uses across its droplet and database families, and near misses. */
function candidateSlugs(): string[] {
  const memories = ["512mb", "512mb-10gb", "1gb", "2gb", "4gb", "8gb", "16gb", "32gb", "64gb", "128gb"];
  const prefixes = ["s", "db-s", "c", "c2", "g", "gd", "m", "m3", "so", "gd-s"];
  const suffixes = ["", "-amd", "-intel"];
  const slugs: string[] = [];
  for (const prefix of prefixes) {
    for (const vcpu of [1, 2, 4, 8, 16]) {
      for (const memory of memories) for (const suffix of suffixes) slugs.push(`${prefix}-${vcpu}vcpu-${memory}${suffix}`);
    }
  }
  const listed = [...Object.keys(DROPLET_PRICES), ...Object.keys(POSTGRES_NODE_PRICES)];
  return [
    ...slugs,
    ...listed,
    ...listed.map((s) => s.toUpperCase()),
    ...listed.map((s) => ` ${s}`),
    "",
    "constructor",
    "toString",
    "__proto__",
  ];
}

describe("price table", () => {
  it("states a public source and its date for every figure, and marks the rest unsourced", () => {
    const all: [string, Price][] = [
      ...Object.entries(DROPLET_PRICES),
      ...Object.entries(POSTGRES_NODE_PRICES),
      ["volume", VOLUME_PER_GB],
      ["spaces", SPACES_SUBSCRIPTION],
      ["reserved ip", RESERVED_IP_ASSIGNED],
      ["unassigned reserved ip", RESERVED_IP_UNASSIGNED],
      ["uptime", UPTIME_CHECK],
    ];
    for (const [name, price] of all) {
      if (price.monthlyUsd === null) {
        assert.match(price.source, /^unsourced/, name);
      } else {
        assert.ok(price.monthlyUsd >= 0 && Number.isFinite(price.monthlyUsd), name);
        assert.match(price.source, /^https:\/\/\S+ \(.+\)$/, name);
        if (price.asOf !== undefined) assert.match(price.asOf, /^\d{4}-\d{2}-\d{2}$/, name);
      }
    }
    assert.match(DROPLET_BACKUP_SHARES.source, /^https:\/\/docs\.digitalocean\.com\//);
    for (const [plan, share] of Object.entries(DROPLET_BACKUP_SHARES.shares)) assert.ok(share > 0 && share < 1, plan);
    assert.ok(Object.hasOwn(DROPLET_BACKUP_SHARES.shares, DROPLET_BACKUP_SHARES.defaultPlan));
    assert.match(PRICES_READ_ON, /^\d{4}-\d{2}-\d{2}$/);
  });

  it("dates every sourced figure no later than the day the table was read", () => {
    const dated = [
      ...Object.values(DROPLET_PRICES),
      ...Object.values(POSTGRES_NODE_PRICES),
      VOLUME_PER_GB,
      SPACES_SUBSCRIPTION,
      RESERVED_IP_ASSIGNED,
      UPTIME_CHECK,
      DROPLET_BACKUP_SHARES,
    ].filter((p) => !("monthlyUsd" in p) || p.monthlyUsd !== null);
    for (const price of dated) {
      assert.ok(price.asOf, price.source);
      assert.ok(price.asOf <= PRICES_READ_ON, `${price.asOf} is after ${PRICES_READ_ON}: ${price.source}`);
      assert.ok(price.source.includes(price.asOf), `the source text states its date ${price.asOf}: ${price.source}`);
    }
  });

  it("says why each DigitalOcean resource it leaves unpriced costs nothing of its own", () => {
    for (const [type, why] of Object.entries(UNBILLED)) {
      assert.match(type, /^digitalocean:index\/[a-zA-Z]+:[A-Z][A-Za-z]+$/, type);
      assert.match(why, /^(no charge: .*https:\/\/docs\.digitalocean\.com\/|part of the |no price: )/, type);
    }
  });

  it("droplet prices grow with the size", () => {
    const prices = Object.values(DROPLET_PRICES).map((p) => p.monthlyUsd as number);
    assert.deepEqual(
      prices,
      [...prices].sort((a, b) => a - b),
    );
  });
});

describe("config schema and price table agree", () => {
  it("accepts a droplet or database size only when the price table prices it (listed with a sourced figure)", () => {
    const priced = (table: Readonly<Record<string, Price>>, slug: string) => Object.hasOwn(table, slug) && table[slug].monthlyUsd !== null;
    for (const slug of candidateSlugs()) {
      assert.equal(accepts("droplet", slug), priced(DROPLET_PRICES, slug), `droplet.size ${JSON.stringify(slug)}`);
      assert.equal(accepts("postgres", slug), priced(POSTGRES_NODE_PRICES, slug), `postgres.size ${JSON.stringify(slug)}`);
    }
  });

  it("refuses a size the table lists without a sourced price, and says so", () => {
    const unsourced = Object.keys(POSTGRES_NODE_PRICES).filter((slug) => POSTGRES_NODE_PRICES[slug].monthlyUsd === null);
    // Without an unsourced size this test would check nothing: once every size has a figure, remove it.
    assert.ok(unsourced.length > 0, "the table lists no size without a sourced price");
    for (const slug of unsourced) {
      const result = parseStackConfig({ ...minimal(), postgres: { size: slug } }, "staging");
      assert.ok(!result.ok, slug);
      assert.match(result.problems[0], /^dropstack:postgres\.size: .*which the price table lists without a sourced price$/);
    }
  });

  it("names the key and the priced sizes when a size is not in the table", () => {
    const result = parseStackConfig({ ...minimal(), droplet: { size: "s-3vcpu-1gb" }, postgres: { size: "db-s-2vcpu-2gb" } }, "staging");
    assert.ok(!result.ok);
    assert.equal(result.problems.length, 2);
    assert.match(
      result.problems[0],
      /^dropstack:droplet\.size: expected a size the price table prices \(s-1vcpu-512mb-10gb, .*s-2vcpu-4gb.*\)/,
    );
    assert.match(result.problems[1], /^dropstack:postgres\.size: expected a size the price table prices \(db-s-1vcpu-1gb, /);
  });

  it("the defaults are priced sizes", () => {
    const staging = parseStackConfig(minimal(), "staging");
    assert.ok(staging.ok);
    assert.ok(Object.hasOwn(DROPLET_PRICES, staging.config.droplet.size));
    assert.ok(Object.hasOwn(POSTGRES_NODE_PRICES, staging.config.postgres.size));
  });
});
