// Calls policies directly, the way the analyzer would, for violating/compliant tests.
// Modelled on pulumi/pulumi-policy-aws src/tests/util.ts.
import type {
  PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy,
} from "@pulumi/policy";

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
  return { protect: r.protect ?? false, ignoreChanges: r.ignoreChanges ?? [], aliases: [], additionalSecretOutputs: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, deleteBeforeReplace: false };
}

export async function resourceViolations(policy: ResourceValidationPolicy, r: FakeResource, config: Record<string, unknown> = {}): Promise<string[]> {
  const violations: string[] = [];
  const args: ResourceValidationArgs = {
    type: r.type,
    props: r.props,
    urn: urnOf(r),
    name: r.name ?? "r",
    opts: options(r) as ResourceValidationArgs["opts"],
    stackTags: new Map(),
    isType: () => true,
    asType: () => r.props as never,
    getConfig: <T>() => config as T,
    notApplicable: () => { throw new Error("not applicable"); },
  } as unknown as ResourceValidationArgs;
  const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  for (const validate of validations) {
    if (!validate) continue;
    await validate(args, (message: string) => violations.push(message));
  }
  return violations;
}

export async function stackViolations(policy: StackValidationPolicy, resources: FakeResource[], config: Record<string, unknown> = {}): Promise<string[]> {
  const byName = new Map<string, PolicyResource>();
  const policyResources: PolicyResource[] = resources.map((r) => {
    const pr = {
      type: r.type, props: r.props, urn: urnOf(r), name: r.name ?? "r", opts: options(r),
      dependencies: [], propertyDependencies: {},
      isType: () => true, asType: () => r.props,
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
  const args = { resources: policyResources, getConfig: <T>() => config as T, stackTags: new Map(), notApplicable: () => { throw new Error("not applicable"); } } as unknown as StackValidationArgs;
  await policy.validateStack(args, (message: string) => violations.push(message));
  return violations;
}
