// What the Identity component needs to create the post-login Action (post-login.js beside this file): its code,
// runtime, trigger and secrets. The behaviour itself lives in post-login.js, which is
// uploaded unchanged.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type * as pulumi from "@pulumi/pulumi";

/** The Auth0 Actions runtime the code is written for (`auth0.Action` `runtime`). */
export const POST_LOGIN_RUNTIME = "node22";

/** `auth0.Action` `supportedTriggers`: v3 is the post-login trigger version that runs node22. */
export const POST_LOGIN_TRIGGER = { id: "post-login", version: "v3" } as const;

/**
 * Name of the Action secret holding the claim namespace: `auth0.claimNamespace`, or
 * `auth0.apiIdentifier` when that is not set. Without it the Action adds no roles claim.
 */
export const CLAIM_NAMESPACE_SECRET = "CLAIM_NAMESPACE";

/** Name of the Action secret holding `auth0.defaultRole`, the role of users who hold none. */
export const DEFAULT_ROLE_SECRET = "DEFAULT_ROLE";

/**
 * Names of the Action secrets of its own Management API client, set with
 * `auth0.assignDefaultRole`: the tenant domain and the client's ID and secret.
 */
export const MANAGEMENT_SECRETS = {
  domain: "AUTH0_DOMAIN",
  clientId: "MANAGEMENT_CLIENT_ID",
  clientSecret: "MANAGEMENT_CLIENT_SECRET",
} as const;

export interface ActionSecret {
  name: string;
  value: pulumi.Input<string>;
}

export interface PostLoginSecretSettings {
  namespace: string;
  defaultRole?: string;
  /** The Action's own Management API client, when it assigns the default role. */
  management?: { domain: string; clientId: pulumi.Input<string>; clientSecret: pulumi.Input<string> };
}

/**
 * The Action's secrets (`auth0.Action` `secrets`): the claim namespace always, the default
 * role when there is one, and the management client's credentials only to assign it.
 */
export function postLoginSecrets(settings: PostLoginSecretSettings): ActionSecret[] {
  const secrets: ActionSecret[] = [{ name: CLAIM_NAMESPACE_SECRET, value: settings.namespace }];
  if (settings.defaultRole === undefined) {
    if (settings.management) throw new Error("a management client for the Action needs a default role to assign");
    return secrets;
  }
  secrets.push({ name: DEFAULT_ROLE_SECRET, value: settings.defaultRole });
  if (settings.management) {
    secrets.push(
      { name: MANAGEMENT_SECRETS.domain, value: settings.management.domain },
      { name: MANAGEMENT_SECRETS.clientId, value: settings.management.clientId },
      { name: MANAGEMENT_SECRETS.clientSecret, value: settings.management.clientSecret },
    );
  }
  return secrets;
}

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

/** The MFA opt-in Action (mfa-opt-in.js beside this file), bound with `auth0.mfa.policy: optional`. */
export const MFA_OPT_IN_ACTION_PATH = join(__dirname, "mfa-opt-in.js");

/** The MFA opt-in Action's source, for `auth0.Action` `code` and for policy auth0-mfa-required to recognise it. */
export function readMfaOptInActionCode(): string {
  return readFileSync(MFA_OPT_IN_ACTION_PATH, "utf8");
}
