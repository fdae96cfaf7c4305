// The nginx versions dropstack renders for, and the one directive whose spelling depends on
// the version (NGINX-VERSIONS.md beside this file says why each directive is valid on all of them).

/** nginx in Debian 12, which the system tests run. */
export const DEBIAN_NGINX_VERSION = "1.22.1";
/** nginx of the official image the Proxy component runs (`nginx:1.28.0-alpine`, pinned by digest there). */
export const IMAGE_NGINX_VERSION = "1.28.0";
/** The oldest nginx the rendering is checked against (NGINX-VERSIONS.md). */
export const MIN_NGINX_VERSION = "1.22.0";
/** From this version HTTP/2 is the `http2 on;` directive; `listen … http2` is deprecated and warns. */
export const HTTP2_DIRECTIVE_SINCE = "1.25.1";

/** [major, minor, patch] of "1.28.0" or "1.28"; undefined when it is not a version. */
export function parseNginxVersion(version: string): [number, number, number] | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(version);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/** True when nginx `version` is `since` or newer. Throws on malformed versions. */
export function nginxVersionAtLeast(version: string, since: string): boolean {
  const a = parseNginxVersion(version);
  const b = parseNginxVersion(since);
  if (!a || !b) throw new Error(`expected nginx versions like 1.28.0, got ${JSON.stringify(version)} and ${JSON.stringify(since)}`);
  // The first part that differs decides; equal versions count as "at least".
  const difference = a.map((part, i) => part - b[i]).find((d) => d !== 0) ?? 0;
  return difference >= 0;
}

/**
 * The nginx version in an official image reference: `nginx:1.28.0-alpine@sha256:…` → "1.28.0",
 * `nginx:1.28-alpine` → "1.28". Undefined for tags without a version (`nginx:alpine`).
 */
export function nginxVersionFromImage(image: string): string | undefined {
  // Only the tag's colon can be followed by a version: a registry's port has no dot, a digest is hex.
  return /:(\d+\.\d+(?:\.\d+)?)(?:[-@]|$)/.exec(image)?.[1];
}
