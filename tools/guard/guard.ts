// The preview diff guard: reads `pulumi preview --json` and refuses a deploy that would
// delete or replace a resource holding data or identity (database, schema, volumes and
// their attachment, backups bucket, droplet, its SSH host key, reserved IP, DNS zone,
// Auth0 tenant objects) or delete a firewall.
//
// Why this exists next to the CrossGuard pack: policies only ever see the desired state
// of each resource, never the operation the engine plans for it, so no policy can say
// "this would replace the database" (pulumi/pulumi-policy#154). The preview's step list
// does carry the operation, so this guard closes that gap in CI, in front of `pulumi up`.
// `protect: true` on the program's side is the second line of defence, not a substitute:
// it is removed by the same kind of change this guard exists to review.
//
// Input format (pkg/backend/display/json.go in pulumi/pulumi): a digest object with
// `steps[]` ({op, urn, provider?, oldState?, newState?, diffReasons?, replaceReasons?,
// detailedDiff}), `diagnostics[]`, `changeSummary` (op → count), `duration`, `config`
// and `maybeCorrupt`. Empty fields are omitted. `npm run check -- <stack> --json` writes
// the same digest plus `policyEvents[]` (apitype.PolicyEvent). By default the CLI folds a replacement
// into one `replace` step; `--show-replacement-steps` also lists its
// `create-replacement` and `delete-replaced` halves.
import { z } from "zod";
import { UsageError } from "../cli";

/** Every step operation the Pulumi engine reports (pkg/resource/deploy/step.go). */
export const KNOWN_STEP_OPS = [
  "same",
  "create",
  "update",
  "delete",
  "replace",
  "create-replacement",
  "delete-replaced",
  "read",
  "read-replacement",
  "refresh",
  "discard",
  "discard-replaced",
  "remove-pending-replace",
  "import",
  "import-replacement",
] as const;

/**
 * Operations that destroy the cloud object behind a resource or swap it for another one.
 * Left out on purpose: `discard`/`discard-replaced`/`read-replacement` only touch resources
 * read with `.get()`, which Pulumi never owns, and `remove-pending-replace` only drops the
 * state entry of an object a delete-before-replace already deleted.
 * An op missing from KNOWN_STEP_OPS (a newer engine) also counts as disruptive: the
 * guard fails closed rather than waving through what it cannot classify.
 */
export const DISRUPTIVE_STEP_OPS: readonly string[] = ["delete", "replace", "create-replacement", "delete-replaced", "import-replacement"];

export interface ProtectedResourceType {
  /** Pulumi type token, e.g. `digitalocean:index/volume:Volume` */
  type: string;
  /** what is lost or broken when the resource is deleted or replaced */
  why: string;
  /**
   * The ops the guard blocks on this type; every disruptive op when absent. An op the
   * guard does not know is blocked on every protected type regardless.
   */
  ops?: readonly string[];
}

export interface ProtectedResourcePackage {
  /** Pulumi package name: every type token starting with `<package>:` is protected */
  package: string;
  why: string;
}

/** Resource types the guard will not let be deleted or replaced without an explicit --allow. */
export const PROTECTED_RESOURCE_TYPES: readonly ProtectedResourceType[] = [
  {
    type: "digitalocean:index/databaseCluster:DatabaseCluster",
    why: "holds the application's PostgreSQL data (or, past one droplet, Valkey's cache and queued jobs); a new cluster starts empty",
  },
  {
    type: "digitalocean:index/databaseDb:DatabaseDb",
    why: "dropping the logical database drops every table in it",
  },
  {
    type: "postgresql:index/database:Database",
    why: "dropping the logical database drops every table in it",
  },
  {
    type: "postgresql:index/role:Role",
    why:
      "the app logs in as this role; re-creating it drops its grants and the objects it owns are " +
      "reassigned, so the running app loses access mid-deploy",
  },
  {
    type: "digitalocean:index/databaseUser:DatabaseUser",
    why:
      "the app role, which the connection pool logs in as; re-creating it drops its grants and " +
      "changes its password, so the running app loses access mid-deploy",
  },
  {
    type: "digitalocean:index/volume:Volume",
    why: "the droplet's data volume; a new volume is blank",
  },
  {
    type: "docker:index/volume:Volume",
    why: "container data on the host (Redis append-only file); a new volume is empty",
  },
  {
    type: "digitalocean:index/spacesBucket:SpacesBucket",
    why: "holds the off-site backups; deleting the bucket deletes them",
  },
  {
    type: "digitalocean:index/droplet:Droplet",
    why:
      "the host running nginx, the app and Redis: replacing it means downtime, a new SSH host key " +
      "and losing everything not on the data volume",
  },
  {
    type: "digitalocean:index/reservedIp:ReservedIp",
    why: "the public address DNS points at; a new address breaks DNS until records and caches catch up",
  },
  {
    type: "digitalocean:index/domain:Domain",
    why: "the DNS zone; deleting it deletes every record in it",
  },
  {
    type: "digitalocean:index/volumeAttachment:VolumeAttachment",
    why:
      "attaches the data volume at /srv (backups, Redis data, certificates, hook scripts); replacing it " +
      "detaches the volume from the running droplet",
  },
  {
    type: "postgresql:index/schema:Schema",
    why: "the app's tables live in this schema; replacing it drops the schema and every table in it",
  },
  {
    type: "tls:index/privateKey:PrivateKey",
    why:
      "the droplet's pinned SSH host key: cloud-init installed the old key and is never re-run, so a new key " +
      "makes every remote command and the Docker provider refuse the host",
  },
  {
    type: "digitalocean:index/reservedIpAssignment:ReservedIpAssignment",
    why: "binds the public address to the droplet; replacing it detaches the address and the site goes dark until it is reattached",
  },
  {
    // A replacement creates the new firewall before it deletes the old one; only a
    // delete leaves the droplet without one.
    type: "digitalocean:index/firewall:Firewall",
    why: "the droplet's firewall; deleting it leaves SSH and every port of the droplet open to the internet",
    ops: ["delete"],
  },
  {
    type: "digitalocean:index/databaseFirewall:DatabaseFirewall",
    why: "the database's trusted sources; deleting it lets connections to the cluster come from any address",
    ops: ["delete"],
  },
];

/** Packages protected as a whole. */
export const PROTECTED_RESOURCE_PACKAGES: readonly ProtectedResourcePackage[] = [
  {
    package: "auth0",
    why:
      "Auth0 tenant objects are referenced by id from outside the stack (users' role assignments, " +
      "issued tokens, the SPA's client id, API audiences); a re-created object gets a new id and " +
      "loses those links",
  },
];

/** Why a resource type is protected, or undefined when the guard lets it change freely. */
export function protectionReason(type: string): string | undefined {
  return protectionEntry(type)?.why;
}

function protectionEntry(type: string): { why: string; ops?: readonly string[] } | undefined {
  const exact = PROTECTED_RESOURCE_TYPES.find((entry) => entry.type === type);
  if (exact) return exact;
  return PROTECTED_RESOURCE_PACKAGES.find((entry) => type.startsWith(`${entry.package}:`));
}

/** Why `op` on a resource of `type` is blocked, or undefined when the guard lets it through. */
export function blockReason(type: string, op: string): string | undefined {
  const entry = protectionEntry(type);
  if (entry === undefined || !isDisruptiveOp(op)) return undefined;
  if (!isKnownOp(op)) return entry.why;
  return (entry.ops ?? DISRUPTIVE_STEP_OPS).includes(op) ? entry.why : undefined;
}

export interface ParsedUrn {
  stack: string;
  project: string;
  /** the resource's own type, without its parents' types */
  type: string;
  name: string;
}

/** Splits `urn:pulumi:<stack>::<project>::<parent$…$type>::<name>`; undefined when it is not a URN. */
export function parseUrn(urn: string): ParsedUrn | undefined {
  const prefix = "urn:pulumi:";
  if (!urn.startsWith(prefix)) return undefined;
  const parts = urn.slice(prefix.length).split("::");
  if (parts.length < 4) return undefined;
  const [stack, project, qualifiedType] = parts;
  // The name is everything after the type: names may themselves contain "::".
  const name = parts.slice(3).join("::");
  const type = qualifiedType.split("$").pop() ?? "";
  if (stack === "" || project === "" || type === "" || name === "") return undefined;
  return { stack, project, type, name };
}

const resourceStateSchema = z.object({ type: z.string().min(1) });

const previewStepSchema = z.object({
  op: z.string().min(1),
  // Not in the CLI's steps (it keeps the type in the states); `npm run check --json` adds it.
  type: z.string().min(1).nullish(),
  urn: z.string().refine((urn) => parseUrn(urn) !== undefined, {
    message: "expected a Pulumi URN (urn:pulumi:<stack>::<project>::<type>::<name>)",
  }),
  oldState: resourceStateSchema.nullish(),
  newState: resourceStateSchema.nullish(),
  diffReasons: z.array(z.string()).nullish(),
  replaceReasons: z.array(z.string()).nullish(),
});

const previewDiagnosticSchema = z.object({
  urn: z.string().optional(),
  prefix: z.string().optional(),
  message: z.string().optional(),
  severity: z.string().optional(),
});

// The engine's policy event (apitype.PolicyEvent). `pulumi preview --json` leaves policy
// events out of its digest; `npm run check -- <stack> --json` writes them under this key.
const policyEventSchema = z.object({
  resourceUrn: z.string().optional(),
  message: z.string(),
  policyName: z.string().min(1),
  policyPackName: z.string().optional(),
  policyPackVersion: z.string().optional(),
  enforcementLevel: z.string().min(1),
});

const previewDigestSchema = z.object({
  steps: z.array(previewStepSchema).nullish(),
  diagnostics: z.array(previewDiagnosticSchema).nullish(),
  policyEvents: z.array(policyEventSchema).nullish(),
  changeSummary: z.record(z.string(), z.number().int().nonnegative()).nullish(),
  maybeCorrupt: z.boolean().nullish(),
});

export type PreviewStep = z.infer<typeof previewStepSchema>;
export type PreviewDigest = z.infer<typeof previewDigestSchema>;

/** The input is not a usable preview; the message names the source and what is wrong. */
export class PreviewInputError extends Error {
  override name = "PreviewInputError";
}

/**
 * Parses and validates `pulumi preview --json` output. `source` names the input in errors
 * (a path, or `<stdin>`). Throws PreviewInputError for bad JSON, a wrong shape, a preview
 * without steps (a real one always lists at least the stack) or one that recorded errors
 * (its step list stops where the program failed, so it proves nothing).
 */
export function parsePreview(text: string, source: string): PreviewDigest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // `npm run check` without -s prints npm's "> dropstack@… check" banner ahead of the JSON.
    const hint = /^\s*> /.test(text) ? "; it starts with npm's banner: produce it with `npm run -s`" : "";
    throw new PreviewInputError(`${source}: not valid JSON (${(error as Error).message})${hint}`);
  }
  const result = previewDigestSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
    throw new PreviewInputError(`${source}: not the output of \`pulumi preview --json\`:\n  ${problems.join("\n  ")}`);
  }
  const digest = result.data;
  const errors = (digest.diagnostics ?? []).filter((d) => d.severity === "error");
  if (errors.length > 0) {
    const messages = errors.map((d) => (d.message ?? "").trim()).filter((m) => m !== "");
    throw new PreviewInputError(
      `${source}: the preview failed (${errors.length} error${errors.length === 1 ? "" : "s"}), so its ` +
        `step list is incomplete:\n  ${messages.join("\n  ")}`,
    );
  }
  if (!digest.steps || digest.steps.length === 0) {
    throw new PreviewInputError(`${source}: the preview lists no steps; even an unchanged stack lists the stack resource itself`);
  }
  return digest;
}

function formatPath(path: PropertyKey[]): string {
  if (path.length === 0) return "(document)";
  return path.map((key, index) => (typeof key === "number" ? `[${key}]` : `${index === 0 ? "" : "."}${String(key)}`)).join("");
}

/** One protected resource; a replacement listed as several steps is one finding with several ops. */
export interface GuardFinding {
  /** the disruptive ops planned for it, in preview order, e.g. ["replace"] or ["delete"] */
  ops: string[];
  urn: string;
  /** the protected type (the first, when old and new state name different protected types) */
  type: string;
  /** every protected type the step names; an --allow by type must cover all of them */
  types: string[];
  /** why this type is protected */
  why: string;
  replaceReasons: string[];
  diffReasons: string[];
  /** the --allow value that let this change through, when one did */
  allowedBy?: string;
}

/** A policy violation carried by the document (`npm run check -- <stack> --json` writes them). */
export interface GuardPolicyViolation {
  policy: string;
  enforcementLevel: string;
  urn: string;
  message: string;
}

export interface GuardReport {
  /** protected resources that would be deleted or replaced and no --allow covers */
  blocked: GuardFinding[];
  /** the same, let through by --allow */
  allowed: GuardFinding[];
  /** step count per op, in the order ops first appear */
  stepCounts: Record<string, number>;
  /** the engine's own per-op summary, when the preview has one */
  changeSummary: Record<string, number>;
  /** --allow values that matched no finding: usually a typo or a stale URN */
  unusedAllows: string[];
  /** policy violations in the document; mandatory ones block like a finding */
  policyViolations: GuardPolicyViolation[];
  maybeCorrupt: boolean;
}

export function isKnownOp(op: string): boolean {
  return (KNOWN_STEP_OPS as readonly string[]).includes(op);
}

export function isDisruptiveOp(op: string): boolean {
  return DISRUPTIVE_STEP_OPS.includes(op) || !isKnownOp(op);
}

/**
 * Every type the step could be: old and new state differ when an alias changed the type,
 * and the URN's own type is what the engine keys the resource by.
 */
function stepTypes(step: PreviewStep): string[] {
  const candidates = [step.type, step.newState?.type, step.oldState?.type, parseUrn(step.urn)?.type];
  return [...new Set(candidates.filter((type): type is string => typeof type === "string"))];
}

/**
 * Decides which steps the guard blocks. `allow` holds URNs or type tokens. A finding is
 * allowed when its own URN is listed, or when every protected type it has is: a type that
 * merely appears in the step (a parent's in the URN, the other side of a type change, the
 * provider's) lets nothing through.
 */
export function evaluatePreview(digest: PreviewDigest, allow: readonly string[] = []): GuardReport {
  const report: GuardReport = {
    blocked: [],
    allowed: [],
    stepCounts: {},
    changeSummary: { ...(digest.changeSummary ?? {}) },
    unusedAllows: [],
    policyViolations: (digest.policyEvents ?? []).map((event) => ({
      policy: event.policyName,
      enforcementLevel: event.enforcementLevel,
      urn: event.resourceUrn ?? "",
      message: event.message,
    })),
    maybeCorrupt: digest.maybeCorrupt === true,
  };
  const findings = new Map<string, GuardFinding>();
  for (const step of digest.steps ?? []) {
    report.stepCounts[step.op] = (report.stepCounts[step.op] ?? 0) + 1;
    const hits = stepTypes(step).filter((type) => blockReason(type, step.op) !== undefined);
    if (hits.length === 0) continue;
    const finding = findings.get(step.urn) ?? {
      ops: [],
      urn: step.urn,
      type: hits[0],
      types: [],
      why: "",
      replaceReasons: [],
      diffReasons: [],
    };
    finding.ops = union(finding.ops, [step.op]);
    finding.types = union(finding.types, hits);
    finding.why = union(
      [],
      finding.types.map((type) => protectionReason(type) ?? ""),
    ).join("; ");
    finding.replaceReasons = union(finding.replaceReasons, step.replaceReasons ?? []);
    finding.diffReasons = union(finding.diffReasons, step.diffReasons ?? []);
    findings.set(step.urn, finding);
  }
  const used = new Set<string>();
  for (const finding of findings.values()) {
    const byUrn = allow.includes(finding.urn);
    const byType = finding.types.every((type) => allow.includes(type));
    if (byUrn) used.add(finding.urn);
    if (byType) finding.types.forEach((type) => used.add(type));
    if (byUrn || byType) {
      finding.allowedBy = byUrn ? finding.urn : finding.types.join(" and --allow ");
      report.allowed.push(finding);
    } else {
      report.blocked.push(finding);
    }
  }
  report.unusedAllows = [...new Set(allow)].filter((value) => !used.has(value));
  return report;
}

function union(first: readonly string[], second: readonly string[]): string[] {
  return [...new Set([...first, ...second])];
}

function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  if (entries.length === 0) return "none";
  return entries.map(([op, count]) => `${count} ${op}`).join(", ");
}

function formatFinding(label: string, finding: GuardFinding): string[] {
  const lines = [`${label} ${finding.ops.join(" + ")} ${finding.type}`, `  urn: ${finding.urn}`];
  if (finding.replaceReasons.length > 0) lines.push(`  replace reasons: ${finding.replaceReasons.join(", ")}`);
  if (finding.diffReasons.length > 0) lines.push(`  diff reasons: ${finding.diffReasons.join(", ")}`);
  lines.push(`  protected because: ${finding.why}`);
  if (finding.allowedBy !== undefined) lines.push(`  allowed by: --allow ${finding.allowedBy}`);
  return lines;
}

function formatViolation(violation: GuardPolicyViolation): string[] {
  const label = violation.enforcementLevel === "mandatory" ? "BLOCKED" : violation.enforcementLevel;
  const lines = [`${label} policy ${violation.policy} [${violation.enforcementLevel}]`];
  if (violation.urn !== "") lines.push(`  urn: ${violation.urn}`);
  for (const line of violation.message.split("\n")) lines.push(`  ${line}`);
  return lines;
}

function mandatoryViolations(report: GuardReport): GuardPolicyViolation[] {
  return report.policyViolations.filter((violation) => violation.enforcementLevel === "mandatory");
}

/** The guard's printout: findings first, then the summary line and the verdict. */
export function formatReport(report: GuardReport, source: string): string {
  const lines: string[] = [];
  for (const finding of report.blocked) lines.push(...formatFinding("BLOCKED", finding));
  for (const finding of report.allowed) lines.push(...formatFinding("allowed", finding));
  for (const violation of report.policyViolations) lines.push(...formatViolation(violation));
  for (const value of report.unusedAllows) {
    lines.push(`warning: --allow ${value} matched no protected resource that would be deleted or replaced`);
  }
  lines.push(`${source}: steps by op: ${formatCounts(report.stepCounts)}`);
  if (Object.keys(report.changeSummary).length > 0) {
    lines.push(`${source}: engine change summary: ${formatCounts(report.changeSummary)}`);
  }
  const mandatory = mandatoryViolations(report).length;
  if (report.maybeCorrupt) {
    lines.push(
      "guard: refused: the preview says the stack's state may be corrupt (maybeCorrupt), so its steps cannot be " +
        "trusted. Repair the state first (`pulumi refresh`, `pulumi stack export`), then preview again.",
    );
  } else if (report.blocked.length > 0 || mandatory > 0) {
    const count = report.blocked.length;
    if (count > 0) {
      lines.push(
        `guard: blocked: ${count} protected resource${count === 1 ? "" : "s"} would be deleted or replaced. ` +
          "Once reviewed, let it through with --allow <urn> (one resource) or --allow <type> (every resource of that type).",
      );
    }
    if (mandatory > 0) {
      lines.push(
        `guard: blocked: ${mandatory} mandatory policy violation${mandatory === 1 ? "" : "s"}; --allow does not ` +
          "cover policies (their levels are in policies/<stack>.json).",
      );
    }
  } else {
    const allowedNote = report.allowed.length > 0 ? ` (${report.allowed.length} allowed by --allow)` : "";
    lines.push(`guard: no protected resource would be deleted or replaced${allowedNote}`);
  }
  return `${lines.join("\n")}\n`;
}

export const EXIT_CLEAN = 0;
export const EXIT_BLOCKED = 1;
export const EXIT_BAD_INPUT = 2;

/** A possibly corrupt state is exit 2 (unusable input), ahead of any finding. */
export function exitCodeFor(report: GuardReport): number {
  if (report.maybeCorrupt) return EXIT_BAD_INPUT;
  return report.blocked.length > 0 || mandatoryViolations(report).length > 0 ? EXIT_BLOCKED : EXIT_CLEAN;
}

/**
 * What the CLI prints on stderr, and exits with, for an error thrown while guarding: bad
 * arguments get the usage, unusable input its message. Anything else is a bug in the guard,
 * which must still stop the pipeline and must not read as exit 1 ("blocked by a finding") to
 * whoever reads the log; its stack says where. Whatever was thrown, this never throws itself.
 */
export function failureFor(error: unknown): { stderr: string; exitCode: number } {
  if (error instanceof UsageError) return { stderr: `guard: ${error.message}\n${USAGE}\n`, exitCode: EXIT_BAD_INPUT };
  if (error instanceof PreviewInputError) return { stderr: `guard: ${error.message}\n`, exitCode: EXIT_BAD_INPUT };
  const detail = error instanceof Error && error.stack !== undefined ? error.stack : String(error);
  return { stderr: `guard: internal error: ${detail}\n`, exitCode: EXIT_BAD_INPUT };
}

export interface GuardArgs {
  /** a file path, or "-" for stdin */
  preview: string;
  allow: string[];
}

export { UsageError };

export const USAGE = "usage: npm run guard -- <preview.json | -> [--allow <urn-or-type>]...";

/** What a lone --help prints under the usage. */
export const HELP = `
Blocks a deploy whose preview (\`pulumi preview --json\`, or \`npm run -s check -- <stack> --json\`;
- reads stdin) would delete or replace a resource holding data or identity (database,
schema, volumes and their attachment, backups bucket, droplet, its SSH host key, reserved
IP, DNS zone, Auth0 tenant objects) or delete a firewall; or that has a mandatory policy
violation, failed, or may be corrupt.

  --allow <urn-or-type>   let this one protected resource (its URN) or every resource of this
                          type (package:module:Type) be deleted or replaced (repeatable)

Only a lone --help is help: -h and a --help among other arguments are refused, so nothing
that reaches the arguments from a workflow input turns the guard into a no-op.
Exit: 0 clean, 1 blocked, 2 bad arguments or unusable input.`;

/**
 * Help is only ever a lone `--help`: anything that can reach the arguments from a workflow
 * input (an `allow` of `-h`) must never turn the guard into a no-op that exits 0.
 */
export function isHelpRequest(argv: readonly string[]): boolean {
  return argv.length === 1 && argv[0] === "--help";
}

/** `package:module:Type`, e.g. `digitalocean:index/volume:Volume` or `pulumi:providers:auth0`. */
const TYPE_TOKEN = /^[A-Za-z][\w.-]*:[\w./-]*:[\w.-]+$/;

function allowValue(value: string | undefined): string {
  if (value === undefined || value === "") throw new UsageError("--allow needs a URN or a resource type");
  if (value.startsWith("-")) {
    throw new UsageError(`--allow ${value}: an allow entry is a URN or a resource type and never starts with "-"`);
  }
  const isUrn = parseUrn(value) !== undefined;
  if (!isUrn && (value.startsWith("urn:") || !TYPE_TOKEN.test(value))) {
    throw new UsageError(
      `--allow ${value}: neither a URN (urn:pulumi:<stack>::<project>::<type>::<name>) nor a resource type (package:module:Type)`,
    );
  }
  return value;
}

/** Parses the CLI arguments (without node and script). Throws UsageError. */
export function parseGuardArgs(argv: readonly string[]): GuardArgs {
  const allow: string[] = [];
  const positional: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === "--allow") {
      allow.push(allowValue(argv[index + 1]));
      index++;
    } else if (arg.startsWith("--allow=")) {
      allow.push(allowValue(arg.slice("--allow=".length)));
    } else if (arg === "--help") {
      throw new UsageError("--help is help only on its own");
    } else if (arg.startsWith("-") && arg !== "-") {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 1) {
    throw new UsageError(
      positional.length === 0
        ? "missing the preview file (the output of `pulumi preview --json` or `npm run -s check -- <stack> --json`, or - for stdin)"
        : `expected one preview file, got ${positional.length}: ${positional.join(" ")}`,
    );
  }
  return { preview: positional[0], allow };
}
