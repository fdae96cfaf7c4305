// Auth0 client URLs (callbacks, logout URLs, web origins), read as a browser reads them:
// the WHATWG URL parser (Node's URL), so `127.1`, `0x7f.0.0.1`, `[0:0::1]` and `LOCALHOST.`
// are recognised as what they are. Wildcards are judged against the public-suffix list
// (tldts, private section included), so `*.vercel.app` counts as "every Vercel app".
import * as ipaddr from "ipaddr.js";
import { getPublicSuffix } from "tldts";

const WEB_SCHEMES = ["https:", "http:"];

/** `scheme://` spelled out: WHATWG repairs `http:/host` and `http:host` silently, Auth0 does not. */
const EXPLICIT_AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]/;

/** The hostname with a leading `*.` (Auth0's subdomain wildcard) and a trailing dot removed. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
}

/**
 * Why a URL can never be a valid Auth0 client URL, or undefined: malformed, a scheme other
 * than http(s), credentials, or a wildcard that spans a public suffix or sits anywhere but
 * the leftmost label. These are config errors in every stack.
 */
export function describeAuth0UrlProblem(text: string): string | undefined {
  const shown = JSON.stringify(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `expected an https:// URL, got ${shown}`;
  }
  if (!WEB_SCHEMES.includes(url.protocol)) return `${shown} uses the ${url.protocol} scheme; Auth0 client URLs are https:// pages`;
  if (!EXPLICIT_AUTHORITY.test(text)) return `${shown} is malformed: write ${url.protocol}//<host>/…`;
  if (url.username !== "" || url.password !== "") return `${shown} carries credentials; remove the user:password@ part`;
  const host = bareHost(url);
  if (host.includes("*")) {
    if (!host.startsWith("*.") || host.slice(2).includes("*"))
      return `${shown}: a wildcard may only be the leftmost label (https://*.example.com)`;
    const rest = host.slice(2);
    const suffix = getPublicSuffix(rest, { allowPrivateDomains: true });
    if (suffix === null || suffix === rest || ipaddr.isValid(rest)) {
      return `${shown} matches every site under the public suffix "${rest}" (anyone can register one); name your own domain`;
    }
  }
  return undefined;
}

/** True for addresses on the developer's own machine: loopback, unspecified, or IPv4-mapped loopback. */
function isLocalAddress(host: string): boolean {
  if (!ipaddr.isValid(host)) return false;
  let address = ipaddr.parse(host);
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  return ["loopback", "unspecified"].includes(address.range());
}

/**
 * Why a client URL is unfit for production, or undefined when it is fine: not https://,
 * or a host on the developer's machine (localhost and *.localhost with or without the
 * trailing dot, 127.0.0.0/8 and ::1 in any spelling, 0.0.0.0 and ::).
 */
export function insecureUrlReason(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return "is not a URL";
  }
  if (url.protocol === "http:") return "uses plain http://";
  if (url.protocol !== "https:") return `uses the ${url.protocol} scheme`;
  const host = bareHost(url);
  if (host === "localhost" || host.endsWith(".localhost")) return "points at localhost";
  if (isLocalAddress(host)) return "points at a loopback address";
  return undefined;
}
