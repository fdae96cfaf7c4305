// An unknown key is answered at the path where it sits: every key of every object of the
// config, typed with a letter in front, is suggested back at its own path; the schema's
// wrappers (defaults, optionals, nullables, lists, records, transforms) are looked through;
// where no key is known there is no suggestion; and the edit distance charges for every
// character added or removed at the front, of either key.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { nearestKey, parseStackConfig, TOP_LEVEL_KEYS, unknownKeyMessage } from "../../components/config/schema";
import { minimalConfig, problemsAfter } from "../support/config";

/** The smallest config with every optional object and list item present. */
function fullerConfig(): Record<string, unknown> {
  const raw = minimalConfig();
  raw.hosts = { api: "api.example.com", app: "app.example.com" };
  raw.app.workers = [{ name: "worker", command: "celery -A app worker", healthcheck: "true" }];
  return raw;
}

/** Every object of the parsed config that has keys, with its path (records without entries have none). */
function objectsWithKeys(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; keys: string[] }[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => objectsWithKeys(item, [...path, i]));
  if (value === null || typeof value !== "object") return [];
  const keys = Object.keys(value);
  const here = keys.length > 0 ? [{ path, keys }] : [];
  return [...here, ...Object.entries(value).flatMap(([key, item]) => objectsWithKeys(item, [...path, key]))];
}

/** `raw` with `extra` merged into the object at `path` (created where the raw config leaves it out). */
function withKeyAt(raw: Record<string, unknown>, path: (string | number)[], extra: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(raw);
  let node: Record<string | number, unknown> = copy;
  for (const step of path) {
    if (node[step] === undefined) node[step] = {};
    node = node[step] as Record<string | number, unknown>;
  }
  Object.assign(node, extra);
  return copy;
}

describe("an unknown key at any depth", () => {
  it("is answered with the nearest key of its own object, at its own path", () => {
    const parsed = parseStackConfig(fullerConfig(), "staging");
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.problems.join("\n"));
    const objects = objectsWithKeys(parsed.config);
    let tried = 0;
    for (const { path, keys } of objects) {
      for (const key of keys) {
        const typo = `x${key}`;
        const result = parseStackConfig(withKeyAt(fullerConfig(), path, { [typo]: 1 }), "staging");
        const where = ["dropstack:" + String(path[0] ?? typo), ...path.slice(1).map(String), ...(path.length > 0 ? [typo] : [])].join(".");
        const suggested = ["dropstack:" + String(path[0] ?? key), ...path.slice(1).map(String), ...(path.length > 0 ? [key] : [])].join(
          ".",
        );
        // An object the raw config left out may now lack its required keys; those problems are not this test's.
        const unknown = (result.ok ? [] : result.problems).filter((problem) => problem.includes(": unknown key"));
        assert.deepEqual(unknown, [`${where}: unknown key; did you mean ${suggested}?`], `${typo} at ${path.join(".")}`);
        tried++;
      }
    }
    assert.ok(
      objects.some(({ path }) => path.length >= 3),
      "a list item's object is among them",
    );
    assert.ok(tried > 60, `${tried} keys`);
  });

  it("explains a dotted top-level key of any depth, and only where its first part is a key of the top level", () => {
    assert.deepEqual(
      problemsAfter((raw) => void ((raw as Record<string, unknown>)["app.watch.seconds"] = 60)),
      [
        "dropstack:app.watch.seconds: unknown key; nested keys live inside dropstack:app: set it with pulumi config set --path 'dropstack:app.watch.seconds' <value>",
      ],
    );
    assert.deepEqual(
      problemsAfter((raw) => void (raw.app["port.number"] = 8000)),
      ["dropstack:app.port.number: unknown key; did you mean dropstack:app.port?"],
    );
  });
});

describe("unknownKeyMessage", () => {
  const port = z.strictObject({ port: z.number(), host: z.string() });

  it("looks through records, lists, defaults, optionals, nullables and transforms to the object's keys", () => {
    const schema = z
      .strictObject({
        byName: z.record(z.string(), port),
        list: z.array(port.nullable()).optional(),
        shaped: port.transform((value) => value.port).default(1),
      })
      .prefault({} as never);
    assert.equal(unknownKeyMessage(schema, ["byName", "web"], "prot"), "unknown key; did you mean dropstack:byName.web.port?");
    assert.equal(unknownKeyMessage(schema, ["list", 0], "hots"), "unknown key; did you mean dropstack:list.0.host?");
    assert.equal(unknownKeyMessage(schema, ["shaped"], "prt"), "unknown key; did you mean dropstack:shaped.port?");
    assert.equal(unknownKeyMessage(schema, [], "lists"), "unknown key; did you mean dropstack:list?");
  });

  it("suggests nothing where the schema knows no keys", () => {
    const schema = z.strictObject({ name: z.string(), empty: z.strictObject({}) });
    assert.equal(unknownKeyMessage(schema, ["empty"], "name"), "unknown key");
    assert.equal(unknownKeyMessage(schema, ["name"], "name"), "unknown key", "a string has no keys");
    assert.equal(unknownKeyMessage(schema, ["name", "deeper"], "name"), "unknown key", "nor anything below it");
    assert.equal(unknownKeyMessage(schema, ["missing", "deeper"], "name"), "unknown key", "a key the schema lacks");
  });
});

describe("the edit distance", () => {
  it("charges for every character added or removed at the front of either key", () => {
    for (const key of TOP_LEVEL_KEYS) {
      assert.equal(nearestKey(`zz${key}`, [key, `zz${key}x`]), `zz${key}x`, `zz${key}: two removed at the front cost two`);
      assert.equal(nearestKey(key, [`zz${key}`, `${key}x`]), `${key}x`, `${key}: two added at the front cost two`);
    }
  });
});
