// Calls policies directly, the way the analyzer would, for violating/compliant tests.
// Modelled on pulumi/pulumi-policy-aws src/tests/util.ts. Type checks answer as the
// analyzer's do (by the class's Pulumi type token), so a policy bound to the wrong
// resource class finds nothing to check and its violating test fails.
import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";

/** A resource class as policies name it: SDK classes carry their type token. */
export interface ResourceClass {
  readonly name: string;
  isInstance?(obj: unknown): boolean;
}

function pulumiTypeOf(resourceClass: unknown): string | undefined {
  const token = (resourceClass as { __pulumiType?: unknown } | undefined)?.__pulumiType;
  return typeof token === "string" ? token : undefined;
}

/** The type token of a resource class, for FakeResource.type: tests name classes, not strings. */
export function typeOf(resourceClass: ResourceClass): string {
  const token = pulumiTypeOf(resourceClass);
  if (!token) throw new Error(`${resourceClass.name} has no Pulumi type token`);
  return token;
}

/** What @pulumi/policy's analyzer answers for `isType(resourceClass)` on a resource of `type`. */
export function isTypeOf(type: string, resourceClass: ResourceClass): boolean {
  const token = pulumiTypeOf(resourceClass);
  if (token) return type === token;
  return typeof resourceClass.isInstance === "function" && resourceClass.isInstance({ __pulumiType: type }) === true;
}

class NotApplicable extends Error {}
const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason);
};

export interface FakeResource {
  type: string;
  name?: string;
  props: Record<string, unknown>;
  protect?: boolean;
  ignoreChanges?: string[];
  /** Names of resources (in the same list) this one depends on. */
  dependsOn?: string[];
  parent?: string;
}

const urnOf = (r: FakeResource) => `urn:pulumi:test::dropstack::${r.type}::${r.name ?? "r"}`;

function options(r: FakeResource) {
  return {
    protect: r.protect ?? false,
    ignoreChanges: r.ignoreChanges ?? [],
    aliases: [],
    additionalSecretOutputs: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    deleteBeforeReplace: false,
  };
}

export async function resourceViolations(
  policy: ResourceValidationPolicy,
  r: FakeResource,
  config: Record<string, unknown> = {},
): Promise<string[]> {
  const violations: string[] = [];
  const args: ResourceValidationArgs = {
    type: r.type,
    props: r.props,
    urn: urnOf(r),
    name: r.name ?? "r",
    opts: options(r) as ResourceValidationArgs["opts"],
    stackTags: new Map(),
    isType: (c: ResourceClass) => isTypeOf(r.type, c),
    asType: (c: ResourceClass) => (isTypeOf(r.type, c) ? r.props : undefined) as never,
    getConfig: <T>() => config as T,
    notApplicable,
  } as unknown as ResourceValidationArgs;
  // The analyzer skips a single validation bound (validateResourceOfType) to another type.
  const bound = Array.isArray(policy.validateResource) ? undefined : pulumiTypeOf(policy.validateResource);
  if (bound && bound !== r.type) return violations;
  const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  for (const validate of validations) {
    if (!validate) continue;
    try {
      await validate(args, (message: string) => violations.push(message));
    } catch (e) {
      if (!(e instanceof NotApplicable)) throw e;
    }
  }
  return violations;
}

export async function stackViolations(
  policy: StackValidationPolicy,
  resources: FakeResource[],
  config: Record<string, unknown> = {},
): Promise<string[]> {
  const byName = new Map<string, PolicyResource>();
  const policyResources: PolicyResource[] = resources.map((r) => {
    const pr = {
      type: r.type,
      props: r.props,
      urn: urnOf(r),
      name: r.name ?? "r",
      opts: options(r),
      dependencies: [],
      propertyDependencies: {},
      isType: (c: ResourceClass) => isTypeOf(r.type, c),
      asType: (c: ResourceClass) => (isTypeOf(r.type, c) ? r.props : undefined),
    } as unknown as PolicyResource;
    byName.set(r.name ?? "r", pr);
    return pr;
  });
  resources.forEach((r, i) => {
    const pr = policyResources[i] as { dependencies: PolicyResource[]; parent?: PolicyResource };
    pr.dependencies = (r.dependsOn ?? []).map((n) => byName.get(n)).filter((x): x is PolicyResource => x !== undefined);
    if (r.parent) pr.parent = byName.get(r.parent);
  });
  const violations: string[] = [];
  const args = {
    resources: policyResources,
    getConfig: <T>() => config as T,
    stackTags: new Map(),
    notApplicable,
  } as unknown as StackValidationArgs;
  try {
    await policy.validateStack(args, (message: string) => violations.push(message));
  } catch (e) {
    if (!(e instanceof NotApplicable)) throw e;
  }
  return violations;
}
