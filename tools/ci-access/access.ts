// What CI opens and closes, as pure functions over the DigitalOcean API's own shapes, so
// the rules about which addresses may be admitted and which rules may be removed are
// tested without a network.
import { isIP } from "node:net";

/** Every CI firewall's name starts with this; the sweep only ever deletes such firewalls. */
export const CI_FIREWALL_PREFIX = "dropstack-ci-";
/** The description the tool puts on the database trusted source it adds. */
export const CI_SOURCE_DESCRIPTION_PREFIX = "dropstack-ci ";
/** Longer than any job's timeout: older CI rules belong to a runner that died without closing. */
export const STALE_AFTER_MS = 6 * 60 * 60 * 1000;

/** A rule of `GET/PUT /v2/databases/{uuid}/firewall` ("trusted sources"). */
export interface TrustedSource {
  uuid?: string;
  cluster_uuid?: string;
  type: "droplet" | "k8s" | "ip_addr" | "tag" | "app";
  value: string;
  description?: string;
  created_at?: string;
}

/** The parts of `/v2/firewalls` objects the tool reads. */
export interface CloudFirewall {
  id: string;
  name: string;
  status?: "waiting" | "succeeded" | "failed";
  created_at?: string;
  tags?: string[];
}

/** The stack output (`ciAccess`) that tells the tool what to open. */
export interface CiAccessTargets {
  dropletTag: string;
  databaseClusterId: string;
  databaseTrustedSources: { type: string; value: string }[];
}

export class CiAccessError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = "CiAccessError";
  }
}

const PRIVATE_V4 = [
  ["10.0.0.0", 8],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["100.64.0.0", 10],
  ["0.0.0.0", 8],
  ["224.0.0.0", 3],
] as const;

function v4ToInt(address: string): number {
  return address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/**
 * The runner's address as the droplet and the database will see it: one public IPv4
 * address. Database trusted sources take no IPv6, and a private or loopback address
 * means the lookup saw the wrong side of a NAT.
 */
export function validateRunnerAddress(candidate: string): string {
  const address = candidate.trim();
  if (isIP(address) !== 4) throw new CiAccessError(`runner address "${candidate}" is not a single IPv4 address`);
  const value = v4ToInt(address);
  for (const [base, bits] of PRIVATE_V4) {
    const mask = (0xffffffff << (32 - bits)) >>> 0;
    if ((value & mask) >>> 0 === (v4ToInt(base) & mask) >>> 0) {
      throw new CiAccessError(`runner address ${address} is not a public address (${base}/${bits})`);
    }
  }
  return address;
}

/** Two lookups must agree: one lying or misrouted service must not pick the admitted address. */
export function agreeOnAddress(answers: readonly string[]): string {
  if (answers.length === 0) throw new CiAccessError("no address lookup configured");
  const addresses = answers.map(validateRunnerAddress);
  const distinct = [...new Set(addresses)];
  if (distinct.length !== 1) throw new CiAccessError(`address lookups disagree: ${distinct.join(", ")}`);
  return distinct[0];
}

/** A firewall name DigitalOcean accepts (letters, digits, `.`, `-`; at most 255 chars), unique per job. */
export function firewallName(runId: string): string {
  const safe = runId.replace(/[^A-Za-z0-9.-]+/g, "-").replace(/^-+|-+$/g, "");
  if (safe === "") throw new CiAccessError("--run-id is empty");
  return `${CI_FIREWALL_PREFIX}${safe}`.slice(0, 255);
}

/**
 * `POST /v2/firewalls`: SSH from the runner's single address to the droplets carrying the
 * stack's tag. DigitalOcean applies the union of every firewall on a droplet, so this one
 * adds the runner without touching the firewall Pulumi manages (which keeps its state,
 * and the drift check, clean). No outbound rules: the managed firewall allows egress.
 */
export function firewallRequest(runId: string, dropletTag: string, address: string) {
  return {
    name: firewallName(runId),
    inbound_rules: [{ protocol: "tcp", ports: "22", sources: { addresses: [`${address}/32`] } }],
    outbound_rules: [],
    tags: [dropletTag],
  };
}

/** A CI firewall left behind by a job that never closed (runner lost), safe to delete. */
export function isStaleFirewall(firewall: CloudFirewall, dropletTag: string, now: number): boolean {
  if (!firewall.name.startsWith(CI_FIREWALL_PREFIX)) return false;
  if (!(firewall.tags ?? []).includes(dropletTag)) return false;
  const created = Date.parse(firewall.created_at ?? "");
  return Number.isFinite(created) && now - created > STALE_AFTER_MS;
}

function isCiSource(rule: TrustedSource): boolean {
  return rule.type === "ip_addr" && (rule.description ?? "").startsWith(CI_SOURCE_DESCRIPTION_PREFIX);
}

/**
 * The rule set to PUT so the runner may connect: every current rule kept as DigitalOcean
 * returned it (uuid included, so the rules Pulumi manages keep their identity), stale CI
 * sources dropped, and the runner's address added unless a rule already admits exactly it.
 * `added` says whether closing must remove it again: an address that was already
 * trusted (an admin address) is never removed by CI.
 */
export function openDatabaseRules(
  current: readonly TrustedSource[],
  address: string,
  runId: string,
  now: number,
): { rules: TrustedSource[]; added: boolean } {
  const kept = current.filter((rule) => {
    if (!isCiSource(rule)) return true;
    const created = Date.parse(rule.created_at ?? "");
    return !(Number.isFinite(created) && now - created > STALE_AFTER_MS);
  });
  const present = kept.some((rule) => rule.type === "ip_addr" && (rule.value === address || rule.value === `${address}/32`));
  if (present) return { rules: kept.map(requestRule), added: false };
  return {
    rules: [...kept.map(requestRule), { type: "ip_addr", value: address, description: `${CI_SOURCE_DESCRIPTION_PREFIX}${runId}` }],
    added: true,
  };
}

/**
 * The rule set without the runner's address; `undefined` when there is nothing to remove.
 * Called only when opening added the address (the state file says so), so it matches by
 * address alone and does not rely on DigitalOcean echoing the description back.
 */
export function closeDatabaseRules(current: readonly TrustedSource[], address: string): TrustedSource[] | undefined {
  const remaining = current.filter((rule) => !(rule.type === "ip_addr" && (rule.value === address || rule.value === `${address}/32`)));
  return remaining.length === current.length ? undefined : remaining.map(requestRule);
}

/** A rule as PUT accepts it: read-only fields (cluster_uuid, created_at) left out. */
function requestRule(rule: TrustedSource): TrustedSource {
  const { uuid, type, value, description } = rule;
  return { ...(uuid ? { uuid } : {}), type, value, ...(description ? { description } : {}) };
}

/** Differences between the trusted sources the stack last applied and the live ones. */
export function trustedSourceDrift(
  expected: readonly { type: string; value: string }[],
  live: readonly TrustedSource[],
): { missing: string[]; unexpected: string[] } {
  const key = (r: { type: string; value: string }) => `${r.type}:${r.value}`;
  const want = new Set(expected.map(key));
  const have = new Set(live.map(key));
  return {
    missing: [...want].filter((k) => !have.has(k)).sort(),
    unexpected: [...have].filter((k) => !want.has(k)).sort(),
  };
}

/** The `ciAccess` stack output out of `pulumi stack output --json`. */
export function targetsFromOutputs(outputs: unknown): CiAccessTargets {
  const ciAccess = (outputs as { ciAccess?: unknown } | null)?.ciAccess as Partial<CiAccessTargets> | undefined;
  if (
    !ciAccess ||
    typeof ciAccess.dropletTag !== "string" ||
    typeof ciAccess.databaseClusterId !== "string" ||
    !Array.isArray(ciAccess.databaseTrustedSources)
  ) {
    throw new CiAccessError(
      "the stack has no complete ciAccess output yet: a stack's first deploy runs from an address in adminCidrs (docs/operations.md, First deploy)",
      2,
    );
  }
  return {
    dropletTag: ciAccess.dropletTag,
    databaseClusterId: ciAccess.databaseClusterId,
    databaseTrustedSources: ciAccess.databaseTrustedSources,
  };
}
