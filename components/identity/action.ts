// What the Identity component needs to create the post-login Action (post-login.js beside this file): its code,
// runtime, trigger and secret name. The behaviour itself lives in post-login.js, which is
// uploaded unchanged.
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The Auth0 Actions runtime the code is written for (`auth0.Action` `runtime`). */
export const POST_LOGIN_RUNTIME = "node22";

/** `auth0.Action` `supportedTriggers`: v3 is the post-login trigger version that runs node22. */
export const POST_LOGIN_TRIGGER = { id: "post-login", version: "v3" } as const;

/**
 * Name of the Action secret holding the claim namespace: `auth0.claimNamespace`, or
 * `auth0.apiIdentifier` when that is not set. Without it the Action adds no roles claim.
 */
export const CLAIM_NAMESPACE_SECRET = "CLAIM_NAMESPACE";

export const POST_LOGIN_ACTION_PATH = join(__dirname, "post-login.js");

/** The Action's source, for `auth0.Action` `code`. */
export function readPostLoginActionCode(): string {
  return readFileSync(POST_LOGIN_ACTION_PATH, "utf8");
}

/**
 * The claim the Action puts the roles in, e.g. `https://api.example.com/roles`, for the app
 * (or a stack output) to read them from. A trailing slash on the namespace is dropped, as
 * the Action does.
 */
export function rolesClaimName(namespace: string): string {
  const base = namespace.trim().replace(/\/+$/, "");
  if (base === "") throw new Error("the claim namespace is empty");
  return `${base}/roles`;
}
