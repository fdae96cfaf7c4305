// Address ranges judged by what they cover, not by how they are spelled: `0.0.0.0/00`,
// `1.2.3.4/0`, `0:0:0:0:0:0:0:0/0`, `::ffff:0:0/96` and two `/1`s all admit the whole IPv4 or
// IPv6 internet. Parsing is ipaddr.js's; the union of a set of ranges is measured in
// addresses and compared with a stated limit, for the droplet firewall and the database's
// trusted sources alike.
import * as ipaddr from "ipaddr.js";

export type Family = 4 | 6;

export interface Range {
  family: Family;
  /** First and last address, as integers. */
  first: bigint;
  last: bigint;
  /** The canonical spelling: network address, RFC 5952 for IPv6, IPv4 for IPv4-mapped IPv6. */
  canonical: string;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

/**
 * How much address space the admin sources (SSH, the database's admin endpoint) may cover
 * together: 65,536 IPv4 addresses (one /16) and 2^80 IPv6 addresses (one /48, a whole site).
 * Anything wider is a sizable part of the internet, not "our admin networks".
 */
export const ADMIN_SOURCE_LIMIT: Record<Family, { addresses: bigint; prefix: number }> = {
  4: { addresses: 2n ** 16n, prefix: 16 },
  6: { addresses: 2n ** 80n, prefix: 48 },
};

function toBigInt(bytes: number[]): bigint {
  return bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
}

function rangeOf(address: ipaddr.IPv4 | ipaddr.IPv6, prefix: number): Range {
  // An IPv4-mapped IPv6 range (::ffff:a.b.c.d/96+n) reaches IPv4 hosts: count it as IPv4.
  if (address.kind() === "ipv6" && prefix >= 96 && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    return rangeOf((address as ipaddr.IPv6).toIPv4Address(), prefix - 96);
  }
  const family: Family = address.kind() === "ipv4" ? 4 : 6;
  const hostBits = BigInt(BITS[family] - prefix);
  const first = (toBigInt(address.toByteArray()) >> hostBits) << hostBits;
  const last = first + (1n << hostBits) - 1n;
  const network = fromBigInt(first, family);
  return { family, first, last, canonical: `${network}/${prefix}` };
}

function fromBigInt(value: bigint, family: Family): string {
  const bytes: number[] = [];
  for (let i = BITS[family] / 8 - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  const address = ipaddr.fromByteArray(bytes);
  return address.kind() === "ipv6" ? (address as ipaddr.IPv6).toRFC5952String() : address.toString();
}

/**
 * Reads `address/prefix` leniently (any spelling ipaddr.js accepts, host bits set, a bare
 * address as a single host) into the range it covers; undefined when it is no address at all.
 */
export function parseRange(text: string): Range | undefined {
  const [address, prefixText, ...rest] = text.trim().split("/");
  if (rest.length > 0 || !ipaddr.isValid(address)) return undefined;
  const parsed = ipaddr.parse(address);
  if ((parsed as ipaddr.IPv6).zoneId !== undefined) return undefined;
  const max = parsed.kind() === "ipv4" ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  return rangeOf(parsed, prefix);
}

/**
 * Why a CIDR in config is not written the one way dropstack accepts, with the canonical
 * form to use; undefined when it is canonical. Non-canonical spellings are refused because
 * they hide what they admit (`10.0.0.1/0` reads like a host, admits everyone).
 */
export function describeCidrProblem(text: string): string | undefined {
  const shown = JSON.stringify(text);
  const parts = text.split("/");
  const range = parseRange(text);
  if (!range || parts.length !== 2) {
    if (range && parts.length === 1) return `expected a CIDR with a prefix length, got ${shown}: write ${range.canonical}`;
    return `expected a CIDR like 203.0.113.7/32 or 2001:db8::/48, got ${shown}`;
  }
  if (text === range.canonical) return undefined;
  const [address, prefix] = parts;
  const parsed = ipaddr.parse(address);
  let why = "is not written canonically";
  if (parsed.kind() === "ipv4" && !ipaddr.IPv4.isValidFourPartDecimal(address))
    why = "is not four plain decimal numbers (shortened, octal or hex forms are read differently by different tools)";
  else if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress() && Number(prefix) >= 96)
    why = "is an IPv4-mapped IPv6 range, which the firewall would not match against IPv4 clients";
  else if (prefix !== String(Number(prefix))) why = "has leading zeros in its prefix length";
  else if (
    fromBigInt(range.first, range.family) !== (parsed.kind() === "ipv6" ? (parsed as ipaddr.IPv6).toRFC5952String() : parsed.toString())
  )
    why = `has host bits set, so it admits the whole network ${range.canonical}`;
  else if (parsed.kind() === "ipv6") why = "is not in RFC 5952 form (lowercase, zeros compressed)";
  return `${shown} ${why}: write ${range.canonical}`;
}

/** The union of the ranges, per family, in addresses (overlaps counted once). */
export function addressSpace(ranges: Range[]): Record<Family, bigint> {
  const total: Record<Family, bigint> = { 4: 0n, 6: 0n };
  for (const family of [4, 6] as const) {
    const sorted = ranges.filter((r) => r.family === family).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    let current: { first: bigint; last: bigint } | undefined;
    for (const r of sorted) {
      if (current && r.first <= current.last + 1n) {
        if (r.last > current.last) current.last = r.last;
        continue;
      }
      if (current) total[family] += current.last - current.first + 1n;
      current = { first: r.first, last: r.last };
    }
    if (current) total[family] += current.last - current.first + 1n;
  }
  return total;
}

/** Address counts as people read them: 65,536; 2^80 once they no longer fit in a sentence. */
export function formatCount(count: bigint): string {
  if (count <= 2n ** 32n) return count.toLocaleString("en-US");
  const bits = count.toString(2).length - 1;
  return `${count === 2n ** BigInt(bits) ? "" : "over "}2^${bits}`;
}

function percentOf(count: bigint, family: Family): string {
  const share = Number((count * 1_000_000n) / 2n ** BigInt(BITS[family])) / 10_000;
  return share >= 0.01 ? `${share}% of the IPv${family} internet` : `under 0.01% of the IPv${family} internet`;
}

/**
 * Why a set of source addresses admits too much, or undefined when it stays within
 * ADMIN_SOURCE_LIMIT. Entries that are no address at all are reported too: a firewall
 * rule nobody can read is not a safe one.
 */
export function describeTooWideSources(addresses: readonly string[]): string | undefined {
  const ranges: Range[] = [];
  for (const text of addresses) {
    const range = parseRange(text);
    if (!range) return `source ${JSON.stringify(text)} is not an address range`;
    ranges.push(range);
  }
  const space = addressSpace(ranges);
  const problems = ([4, 6] as const)
    .filter((family) => space[family] > ADMIN_SOURCE_LIMIT[family].addresses)
    .map(
      (family) =>
        `${formatCount(space[family])} IPv${family} addresses (${percentOf(space[family], family)}; the limit is ${formatCount(ADMIN_SOURCE_LIMIT[family].addresses)}, one /${ADMIN_SOURCE_LIMIT[family].prefix})`,
    );
  return problems.length > 0 ? `together cover ${problems.join(" and ")}` : undefined;
}
