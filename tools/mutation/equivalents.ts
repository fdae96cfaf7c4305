// The committed list of mutants that survive because the mutation changes nothing users can
// observe, each with its reason; shared by the shell-hook runner (shell.ts) and the Stryker
// runner (stryker.ts). A survivor missing from the list needs a test; a listed entry that
// matches no survivor any more is stale (its mutant is gone or now killed), and a stale
// reason would hide the next mutant that happens to get the same key.
import { readFileSync } from "node:fs";

export interface Equivalent {
  key: string;
  reason: string;
}

/** Reads a list of {key, reason}; throws on a malformed entry or a reason too short to explain anything. */
export function readEquivalents(file: string): Equivalent[] {
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
  return parseEquivalents(parsed, file);
}

export function parseEquivalents(parsed: unknown, source: string): Equivalent[] {
  if (!Array.isArray(parsed)) throw new Error(`${source}: expected an array of {key, reason}`);
  const seen = new Set<string>();
  return parsed.map((entry, index) => {
    const { key, reason } = (entry ?? {}) as Partial<Equivalent>;
    if (typeof key !== "string" || typeof reason !== "string" || reason.trim().length < 20) {
      throw new Error(`${source}[${index}]: needs a "key" and a "reason" of at least 20 characters`);
    }
    if (seen.has(key)) throw new Error(`${source}[${index}]: ${key} is listed twice`);
    seen.add(key);
    return { key, reason };
  });
}

/**
 * Splits the survivors into those the list explains and those it does not, and finds the
 * stale entries among `inScope` (the entries the run could have judged: a run of one module
 * says nothing about another module's entries). An entry whose mutant timed out is neither:
 * a timeout shows no test kills it, only that the tests ran out of time (a loaded machine),
 * so it is reported apart as `timedOut`.
 */
export function judgeSurvivors(
  survivorKeys: readonly string[],
  equivalents: readonly Equivalent[],
  inScope: (key: string) => boolean,
  timedOutKeys: readonly string[] = [],
): { explained: string[]; unexplained: string[]; stale: Equivalent[]; timedOut: Equivalent[] } {
  const listed = new Set(equivalents.map((entry) => entry.key));
  const surviving = new Set(survivorKeys);
  const timedOut = new Set(timedOutKeys);
  const unjudged = equivalents.filter((entry) => inScope(entry.key) && !surviving.has(entry.key));
  return {
    explained: survivorKeys.filter((key) => listed.has(key)),
    unexplained: survivorKeys.filter((key) => !listed.has(key)),
    stale: unjudged.filter((entry) => !timedOut.has(entry.key)),
    timedOut: unjudged.filter((entry) => timedOut.has(entry.key)),
  };
}
