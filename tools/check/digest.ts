// `npm run check -- <stack> --json` in the shape of `pulumi preview --json`, so whatever reads
// a real preview (the diff guard, a reviewer's jq) reads the offline check the same way.
//
// The CLI's digest (pkg/backend/display/json.go in pulumi/pulumi): `steps[]` of
// {op, urn, provider, oldState, newState, diffReasons, replaceReasons, detailedDiff}, each
// state an apitype.ResourceV3 with secret values as "[secret]"; `diagnostics[]`;
// `duration` (nanoseconds); `changeSummary` (op → count). The CLI leaves policy violations
// out of that digest; the engine's event stream carries them as apitype.PolicyEvent, and
// that is the shape they take here, under `policyEvents`.
//
// Offline there is no prior state, so every resource is a `create`, like the first preview
// of a new stack. Two fields beyond ResourceV3 say what the engine would do on a later
// replacement: `deleteBeforeReplace` and `replaceOnChanges`.
import type { PolicyRun } from "./analyzer";
import { Graph, Registration, isSecretWire } from "./harness";

/** The value the CLI prints in place of a secret. */
export const SECRET_MASK = "[secret]";
/** The id the engine gives a resource (or provider) a preview has not created yet. */
export const UNKNOWN_ID = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Replaces every secret in a wire-format value with "[secret]", as the CLI's MassageSecrets does. */
export function maskSecrets(value: unknown): unknown {
  if (isSecretWire(value)) return SECRET_MASK;
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, maskSecrets(inner)]));
  }
  return value;
}

/**
 * The provider reference the engine would record: the explicit one, or the package's
 * default provider (`default_<version>` with dots as underscores), not yet created.
 */
export function providerReference(r: Registration, stack: string, project: string): string | undefined {
  if (r.provider) return r.provider;
  const pkg = r.type.split(":")[0];
  if (!r.custom || pkg === "pulumi" || r.type.startsWith("pulumi:providers:")) return undefined;
  const name = r.version ? `default_${r.version.replace(/[.+-]/g, "_")}` : "default";
  return `urn:pulumi:${stack}::${project}::pulumi:providers:${pkg}::${name}::${UNKNOWN_ID}`;
}

export interface DigestStep {
  op: "create";
  urn: string;
  /** not in the CLI's steps (it keeps the type in the states); here for readers and the guard */
  type: string;
  provider?: string;
  newState: Record<string, unknown>;
  detailedDiff: null;
}

function newState(r: Registration, graph: Graph, provider: string | undefined): Record<string, unknown> {
  const state: Record<string, unknown> = { urn: r.urn, custom: r.custom, type: r.type };
  const inputs = maskSecrets(r.wireInputs) as Record<string, unknown>;
  if (Object.keys(inputs).length > 0) state.inputs = inputs;
  if (r.parent) state.parent = r.parent;
  state.protect = r.protect;
  const dependencies = graph.directDependencies(r);
  if (dependencies.length > 0) state.dependencies = dependencies;
  if (provider) state.provider = provider;
  if (Object.keys(r.propertyDependencies).length > 0) state.propertyDependencies = r.propertyDependencies;
  if (r.additionalSecretOutputs.length > 0) state.additionalSecretOutputs = r.additionalSecretOutputs;
  state.ignoreChanges = r.ignoreChanges;
  state.deleteBeforeReplace = r.deleteBeforeReplace;
  if (r.replaceOnChanges.length > 0) state.replaceOnChanges = r.replaceOnChanges;
  return state;
}

export function previewSteps(graph: Graph, stack: string, project: string): DigestStep[] {
  return graph.registrations.map((r) => {
    const provider = providerReference(r, stack, project);
    return {
      op: "create",
      urn: r.urn,
      type: r.type,
      ...(provider ? { provider } : {}),
      newState: newState(r, graph, provider),
      detailedDiff: null,
    };
  });
}

/** apitype.PolicyEvent, one per violation, in the order the analyzer reported them. */
export function policyEvents(run: PolicyRun) {
  return run.violations.map((v) => ({
    ...(v.urn ? { resourceUrn: v.urn } : {}),
    message: v.message,
    color: "never",
    policyName: v.policy,
    policyPackName: run.packName,
    policyPackVersion: run.packVersion,
    policyPackVersionTag: run.packVersion,
    enforcementLevel: v.enforcementLevel,
  }));
}

export interface DigestOptions {
  stack: string;
  project: string;
  graph: Graph;
  run: PolicyRun;
  /** how long the check took, in milliseconds */
  durationMs: number;
}

/** The `pulumi preview --json` part of the check's JSON document. */
export function previewDigest(options: DigestOptions) {
  const steps = previewSteps(options.graph, options.stack, options.project);
  const changeSummary: Record<string, number> = {};
  for (const step of steps) changeSummary[step.op] = (changeSummary[step.op] ?? 0) + 1;
  return {
    steps,
    policyEvents: policyEvents(options.run),
    // Go's time.Duration marshals as integer nanoseconds.
    duration: Math.round(options.durationMs * 1e6),
    changeSummary,
  };
}
