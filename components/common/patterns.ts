// The rules more than one layer checks (the config schema, the renderers, the policies, the
// tools), written once so they cannot drift apart.

/** An image content digest: `sha256:` and 64 lowercase hex digits. */
export const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** An image reference pinned by digest: `registry/app:1.2.3@sha256:<64 hex>` or `registry/app@sha256:<64 hex>`. */
const DIGEST_PINNED = /@(sha256:[a-f0-9]{64})$/;

/** True for a reference that ends in `@sha256:<64 hex>`. */
export function isDigestPinned(reference: string): boolean {
  return DIGEST_PINNED.test(reference);
}

/** The `sha256:…` digest a reference is pinned to, if it is. */
export function imageDigest(reference: string): string | undefined {
  return DIGEST_PINNED.exec(reference)?.[1];
}

/** The reference without its `@sha256:…` pin. */
export function withoutDigest(reference: string): string {
  return reference.replace(DIGEST_PINNED, "");
}

/** A POSIX environment variable name: letters, digits and _, not starting with a digit. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An email address as far as a config check can tell: something@domain.tld, no spaces. */
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** A worker's name (dropstack:app.workers[].name): also its container's and its ingress alias's suffix. */
export const WORKER_NAME = /^[a-z][a-z0-9-]{0,30}$/;
