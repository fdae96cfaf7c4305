// Typos in config keys: the suggestion is the known key fewest edits away (an insertion, a
// deletion, a substitution or a swap of two neighbours each count one, case ignored, the
// first listed winning a tie), tried on every top-level key against a decoy two edits away
// that is listed first; a dotted key is explained only at the top level; and control
// characters are named by their code point wherever they sit.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nearestKey, TOP_LEVEL_KEYS } from "../../components/config/schema";
import { problemsAfter } from "../support/config";

const problems = problemsAfter;

/** Every single edit of `key` of one kind. */
function edits(key: string): { kind: string; typo: string }[] {
  const found: { kind: string; typo: string }[] = [];
  for (let i = 0; i < key.length; i++) {
    found.push({ kind: "deletion", typo: key.slice(0, i) + key.slice(i + 1) });
    found.push({ kind: "substitution", typo: `${key.slice(0, i)}q${key.slice(i + 1)}` });
    found.push({ kind: "insertion", typo: `${key.slice(0, i)}q${key.slice(i)}` });
    if (i + 1 < key.length && key[i] !== key[i + 1])
      found.push({ kind: "swap", typo: key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2) });
  }
  return found.filter(({ typo }) => typo !== key && typo.length > 0);
}

describe("nearestKey", () => {
  it("counts each kind of single edit as one, anywhere in the key, ahead of a decoy two edits away listed first", () => {
    let tried = 0;
    for (const key of TOP_LEVEL_KEYS) {
      for (const { kind, typo } of edits(key)) {
        const decoy = `${typo}zz`;
        assert.equal(nearestKey(typo, [decoy, key]), key, `${kind} ${typo} of ${key}`);
        assert.equal(nearestKey(typo.toUpperCase(), [decoy, key]), key, `${kind} ${typo.toUpperCase()} of ${key}`);
        tried++;
      }
    }
    assert.ok(tried > 400, `${tried} typos`);
  });

  it("takes the first listed of keys as near, and an exact match over any other", () => {
    assert.equal(nearestKey("ab", ["ax", "ay"]), "ax");
    assert.equal(nearestKey("ab", ["ay", "ax"]), "ay");
    assert.equal(nearestKey("region", ["regions", "region"]), "region");
    assert.equal(nearestKey("x", []), undefined);
  });

  it("counts a swap of neighbours once but two swaps twice", () => {
    assert.equal(nearestKey("rgeoin", ["rgeoinzz", "region"]), "rgeoinzz", "two swaps are two edits, a tie the first listed wins");
    assert.equal(nearestKey("rgeoin", ["rgeoinzzz", "region"]), "region");
  });
});

describe("an unknown key's message", () => {
  it("explains a dotted key at the top level when its first part is a key", () => {
    assert.deepEqual(
      problems((raw) => void ((raw as Record<string, unknown>)["droplet.size"] = "s-1vcpu-1gb")),
      [
        "dropstack:droplet.size: unknown key; nested keys live inside dropstack:droplet: set it with pulumi config set --path 'dropstack:droplet.size' <value>",
      ],
    );
  });

  it("suggests a key for a dotted key whose first part is no key", () => {
    const found = problems((raw) => void ((raw as Record<string, unknown>)["nosuch.size"] = 1));
    assert.equal(found.length, 1);
    assert.match(found[0], /^dropstack:nosuch\.size: unknown key; did you mean dropstack:[a-zA-Z0-9]+\?$/);
  });

  it("does not explain a dotted key below the top level, where --path does not apply the same way", () => {
    const found = problems((raw) => void (raw.app = { ...raw.app, "watch.seconds": 60 }));
    assert.equal(found.length, 1);
    assert.match(found[0], /^dropstack:app\.watch\.seconds: unknown key; did you mean dropstack:app\.[a-zA-Z]+\?$/);
  });
});

describe("a control character", () => {
  it("is named by its code point, in capitals, with its position and the full key, at any depth", () => {
    const tail = "values reach the droplet's shell, env and config files as single lines";
    for (const [code, character] of [
      ["U+001B", "\u001b"],
      ["U+000A", "\n"],
      ["U+007F", "\u007f"],
      ["U+000D", "\r"],
    ]) {
      assert.deepEqual(
        problems((raw) => void (raw.app.env = { LOG_LEVEL: `abc${character}def` })),
        [`dropstack:app.env.LOG_LEVEL: contains a line break or control character (${code} at position 3); ${tail}`],
        code,
      );
      assert.deepEqual(
        problems((raw) => void (raw.app.workers = [{ name: "w", command: `${character}run` }])),
        [`dropstack:app.workers.0.command: contains a line break or control character (${code} at position 0); ${tail}`],
        code,
      );
    }
  });
});
