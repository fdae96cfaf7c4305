// The registrations of one program run and the lookups over them. Plain data and no
// Pulumi: a test can read a run another process made (test/support/program.ts) without
// loading the runtime.

export interface Registration {
  urn: string;
  /** The provider id the mock assigned (empty for components). */
  id: string;
  type: string;
  name: string;
  custom: boolean;
  parent?: string;
  provider?: string;
  /** The provider package version the SDK asked for (names the default provider); absent for reads. */
  version?: string;
  protect: boolean;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  deleteBeforeReplace: boolean;
  /** Whether the program set deleteBeforeReplace at all: `false` alone is also what leaving it out gives. */
  deleteBeforeReplaceDefined: boolean;
  ignoreChanges: string[];
  replaceOnChanges: string[];
  additionalSecretOutputs: string[];
  /** Inputs in wire form (secrets wrapped in sig objects), as the engine would hand them to the analyzer. */
  wireInputs: Record<string, unknown>;
  /** Inputs with secrets unwrapped, for assertions. */
  inputs: Record<string, unknown>;
  /** Top-level input names whose value is (or contains) a secret. */
  secretInputs: string[];
  /** Outputs the mock returned, merged over the inputs. */
  outputs: Record<string, unknown>;
}

export interface ProgramRun {
  registrations: Registration[];
  stackOutputs: Record<string, unknown>;
}

/** Child-first lookups tests and the check tool both need. */
export class Graph {
  readonly byUrn: Map<string, Registration>;
  constructor(readonly registrations: Registration[]) {
    this.byUrn = new Map(registrations.map((r) => [r.urn, r]));
  }
  ofType(type: string): Registration[] {
    return this.registrations.filter((r) => r.type === type);
  }
  one(type: string, nameIncludes = ""): Registration {
    const found = this.ofType(type).filter((r) => r.name.includes(nameIncludes));
    if (found.length !== 1)
      throw new Error(`expected one ${type} named like "${nameIncludes}", found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
    return found[0];
  }
  /** Every URN this resource waits for: explicit dependsOn, property dependencies and parents' dependencies. */
  directDependencies(r: Registration): string[] {
    return [...new Set([...r.dependencies, ...Object.values(r.propertyDependencies).flat()])];
  }
  /**
   * What waiting for a resource means, per URN: its direct dependencies and, for a
   * component, its children (waiting for a component means waiting for all of them).
   * Built once: the report asks dependsOn for every pair of deploy steps.
   */
  private waitsFor?: Map<string, string[]>;
  private edges(urn: string): string[] {
    if (!this.waitsFor) {
      this.waitsFor = new Map(this.registrations.map((r) => [r.urn, this.directDependencies(r)]));
      for (const r of this.registrations) {
        const parent = r.parent === undefined ? undefined : this.byUrn.get(r.parent);
        if (parent && !parent.custom) this.waitsFor.get(parent.urn)?.push(r.urn);
      }
    }
    return this.waitsFor.get(urn) ?? [];
  }
  /** True when `from` waits, directly or through other resources, for `to`. */
  dependsOn(from: Registration, to: Registration): boolean {
    const seen = new Set<string>();
    const queue = [...this.directDependencies(from)];
    while (queue.length > 0) {
      const urn = queue.pop() as string;
      if (urn === to.urn) return true;
      if (seen.has(urn)) continue;
      seen.add(urn);
      queue.push(...this.edges(urn));
    }
    return false;
  }
}
