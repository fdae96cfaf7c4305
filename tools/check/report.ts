// Renders a check run for people (a preview-like tree, the deploy order, violations in
// the CLI's wording, one summary line) and for machines (--json).
import type { PolicyRun, Violation } from "./analyzer";
import { Graph, Registration } from "./harness";
import { HOOK_SUFFIX, ROLE_LABEL } from "../../components/common/names";

/** Resources that make up a deploy: hooks and the containers they gate. */
export function isDeployStep(r: Registration): boolean {
  return r.type === "command:remote:Command" || r.type === "docker:index/container:Container";
}

/**
 * The deploy steps in the order the engine must run them: a topological order of the
 * dependency graph restricted to deploy steps (ties keep registration order).
 */
export function deployOrder(graph: Graph): Registration[] {
  const steps = graph.registrations.filter(isDeployStep);
  const before = new Map(steps.map((s) => [s.urn, steps.filter((o) => o !== s && graph.dependsOn(s, o)).map((o) => o.urn)]));
  const done = new Set<string>();
  const order: Registration[] = [];
  while (order.length < steps.length) {
    const next = steps.find((s) => !done.has(s.urn) && (before.get(s.urn) ?? []).every((u) => done.has(u)));
    if (!next) throw new Error("deploy steps form a dependency cycle");
    done.add(next.urn);
    order.push(next);
  }
  return order;
}

/** Deploy steps grouped into levels: everything in one level can run once the previous level is done. */
export function deployLevels(graph: Graph): Registration[][] {
  const order = deployOrder(graph);
  const level = new Map<string, number>();
  for (const step of order) {
    const deps = order.filter((o) => level.has(o.urn) && graph.dependsOn(step, o));
    level.set(step.urn, deps.length === 0 ? 0 : Math.max(...deps.map((d) => level.get(d.urn) as number)) + 1);
  }
  const levels: Registration[][] = [];
  for (const step of order) (levels[level.get(step.urn) as number] ??= []).push(step);
  return levels;
}

function flags(r: Registration): string {
  const marks: string[] = [];
  if (r.protect) marks.push("protected");
  if (r.ignoreChanges.length > 0) marks.push(`ignoreChanges: ${r.ignoreChanges.join(", ")}`);
  if (r.deleteBeforeReplace) marks.push("deleteBeforeReplace");
  if (r.secretInputs.length > 0) marks.push(`secret: ${r.secretInputs.join(", ")}`);
  return marks.length > 0 ? `  [${marks.join("; ")}]` : "";
}

export function renderTree(graph: Graph): string {
  const children = new Map<string | undefined, Registration[]>();
  for (const r of graph.registrations) {
    const key = r.parent && graph.byUrn.has(r.parent) ? r.parent : undefined;
    children.set(key, [...(children.get(key) ?? []), r]);
  }
  const rows: [string, string][] = [];
  const walk = (r: Registration, prefix: string, last: boolean, root: boolean) => {
    const branch = root ? "" : last ? "└─ " : "├─ ";
    rows.push([`+   ${prefix}${branch}${r.type}`, `${r.name}${flags(r)}`]);
    const kids = children.get(r.urn) ?? [];
    kids.forEach((k, i) => walk(k, root ? "" : prefix + (last ? "   " : "│  "), i === kids.length - 1, false));
  };
  for (const root of children.get(undefined) ?? []) walk(root, "", true, true);
  // Names in one column, like the CLI's preview table.
  const width = Math.max(...rows.map(([left]) => [...left].length)) + 2;
  return rows.map(([left, right]) => left + " ".repeat(width - [...left].length) + right).join("\n");
}

function resourceLabel(urn: string, graph: Graph): string {
  const r = graph.byUrn.get(urn);
  return r ? `${r.type}: ${r.name}` : urn || "stack";
}

export function renderViolations(run: PolicyRun, graph: Graph): string {
  if (run.violations.length === 0) return `Policies:\n    ✅ ${run.packName}@v${run.packVersion} (local: policies): no violations`;
  const mark = run.violations.some((v) => v.enforcementLevel === "mandatory") ? "❌" : "⚠️";
  const lines = [`Policies:`, `    ${mark} ${run.packName}@v${run.packVersion} (local: policies)`];
  for (const v of sortViolations(run.violations)) {
    lines.push(`        - [${v.enforcementLevel}]  ${v.policy}  (${resourceLabel(v.urn, graph)})`);
    for (const line of v.message.split("\n")) lines.push(`          ${line}`);
  }
  return lines.join("\n");
}

function sortViolations(violations: Violation[]): Violation[] {
  const rank = (v: Violation) => (v.enforcementLevel === "mandatory" ? 0 : 1);
  return [...violations].sort((a, b) => rank(a) - rank(b) || a.policy.localeCompare(b.policy));
}

/** What a step is for the reader: the hook (by its name's suffix) or its container's dropstack.role label. */
function stepRole(r: Registration): string | undefined {
  if (r.type === "command:remote:Command")
    return (Object.keys(HOOK_SUFFIX) as (keyof typeof HOOK_SUFFIX)[]).find((hook) => r.name.endsWith(HOOK_SUFFIX[hook]));
  const labels = Array.isArray(r.inputs.labels) ? (r.inputs.labels as { label?: unknown; value?: unknown }[]) : [];
  const role = labels.find((l) => l?.label === ROLE_LABEL)?.value;
  return typeof role === "string" ? role : undefined;
}

export function renderDeployOrder(graph: Graph): string {
  const levels = deployLevels(graph);
  if (levels.length === 0) return "Deploy order: (no hooks or containers)";
  const step = (r: Registration) => (stepRole(r) ? `${r.name} [${stepRole(r)}]` : r.name);
  return [
    "Deploy order (a step starts once the steps it depends on, on the lines above, have succeeded):",
    ...levels.map((lvl, i) => `    ${i + 1}. ${lvl.map(step).join(", ")}`),
  ].join("\n");
}

export interface Summary {
  resources: number;
  mandatory: number;
  advisory: number;
}

export function summarise(graph: Graph, run: PolicyRun): Summary {
  return {
    resources: graph.registrations.length,
    mandatory: run.violations.filter((v) => v.enforcementLevel === "mandatory").length,
    advisory: run.violations.filter((v) => v.enforcementLevel === "advisory").length,
  };
}

export function renderSummary(stack: string, s: Summary): string {
  const verdict = s.mandatory > 0 ? "FAILED" : "passed";
  return `Check ${verdict} for stack ${stack}: ${s.resources} resources, ${s.mandatory} mandatory and ${s.advisory} advisory policy violations.`;
}

export function toJson(stack: string, graph: Graph, run: PolicyRun) {
  return {
    stack,
    summary: summarise(graph, run),
    resources: graph.registrations.map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      parent: r.parent,
      protect: r.protect,
      dependencies: graph.directDependencies(r),
      ignoreChanges: r.ignoreChanges,
      deleteBeforeReplace: r.deleteBeforeReplace,
      secretInputs: r.secretInputs,
    })),
    deployOrder: deployLevels(graph).map((lvl) => lvl.map((s) => s.name)),
    policyPack: { name: run.packName, version: run.packVersion, policies: run.policies },
    violations: run.violations,
  };
}
