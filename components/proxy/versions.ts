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
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

/**
 * The nginx version in an official image reference: `nginx:1.28.0-alpine@sha256:…` → "1.28.0",
 * `nginx:1.28-alpine` → "1.28". Undefined for tags without a version (`nginx:alpine`).
 */
export function nginxVersionFromImage(image: string): string | undefined {
  const withoutDigest = image.split("@")[0];
  const colon = withoutDigest.lastIndexOf(":");
  if (colon < 0 || withoutDigest.lastIndexOf("/") > colon) return undefined;
  const match = /^(\d+\.\d+(?:\.\d+)?)(?:-|$)/.exec(withoutDigest.slice(colon + 1));
  return match?.[1];
}
