// Small readers over untyped resource properties, shared by every policy area.
import type { PolicyResource, ResourceValidationArgs } from "@pulumi/policy";

export type Props = Record<string, unknown>;

export function asList<T = unknown>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

export function asProps(value: unknown): Props {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Props) : {};
}

/** A short, stable resource label for messages: the logical name. */
export function label(resource: Pick<ResourceValidationArgs | PolicyResource, "name">): string {
  return resource.name;
}

/** True when `from` waits for `to`, directly, through other resources, or through a component parent. */
export function dependsOnTransitively(from: PolicyResource, to: PolicyResource, all: PolicyResource[]): boolean {
  const seen = new Set<string>();
  const queue: PolicyResource[] = [...directDependencies(from)];
  while (queue.length > 0) {
    const next = queue.pop() as PolicyResource;
    if (next.urn === to.urn) return true;
    if (seen.has(next.urn)) continue;
    seen.add(next.urn);
    queue.push(...directDependencies(next));
    // Depending on a component waits for all of its children.
    queue.push(...all.filter((c) => c.parent?.urn === next.urn));
  }
  return false;
}

function directDependencies(r: PolicyResource): PolicyResource[] {
  return [...r.dependencies, ...Object.values(r.propertyDependencies).flat()];
}

/**
 * Reads a property that may be unknown during preview. The analyzer's props proxy throws
 * UnknownValueError on unknowns; a stack policy looks past those instead of giving up.
 */
export function known<T>(read: () => T): T | undefined {
  const value = knownOr(read);
  return value === NOT_YET_KNOWN ? undefined : value;
}

/** What knownOr answers for a value unknown until the update. */
export const NOT_YET_KNOWN: unique symbol = Symbol("not yet known");

/** known() for a policy that must tell a property left unset from one not known yet. */
export function knownOr<T>(read: () => T): T | typeof NOT_YET_KNOWN {
  try {
    return read();
  } catch (e) {
    if ((e as Error)?.constructor?.name === "UnknownValueError") return NOT_YET_KNOWN;
    throw e;
  }
}
