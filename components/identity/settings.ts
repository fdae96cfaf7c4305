// Pure decisions behind the Auth0 tenant (the Identity component) and its policies:
// URL defaults, the API's scopes, the Management API grant, token lifetimes and attack
// protection. Values use the Auth0 Management API spelling (`access_token_authz`,
// `count_per_identifier_and_ip`), which is what the provider sends; the provider's generated
// docs show some of them camelCased, and Auth0 rejects those.
import { isHostname } from "../config/hostname";

/** RS256: tokens are verified with the tenant's public JWKS; nothing shared has to leak. */
export const SIGNING_ALG = "RS256";

/** Access tokens for the API from the token endpoint (the SPA's code flow): one hour. */
export const API_TOKEN_LIFETIME_S = 3600;
/** Implicit/hybrid flows get less; the SPA cannot use them, but Auth0 requires it ≤ the above. */
export const API_TOKEN_LIFETIME_FOR_WEB_S = 900;

/** SPA refresh tokens rotate; a stolen one dies after a day idle or a week at most. */
export const SPA_REFRESH_TOKEN = {
  rotationType: "rotating",
  expirationType: "expiring",
  leeway: 0,
  tokenLifetime: 7 * 24 * 3600,
  infiniteTokenLifetime: false,
  idleTokenLifetime: 24 * 3600,
  infiniteIdleTokenLifetime: false,
} as const;

/** The SPA's only grants: the code flow (with PKCE, as a public client) and refresh tokens. */
export const SPA_GRANT_TYPES = ["authorization_code", "refresh_token"] as const;

/** Grants a browser app must never have: they hand tokens or passwords to the page. */
export const FORBIDDEN_SPA_GRANTS = ["password", "implicit", "http://auth0.com/oauth/grant-type/password-realm"] as const;

/** Action runtimes Auth0 still supports and patches; older ones are deprecated. */
export const CURRENT_ACTION_RUNTIMES = ["node22"] as const;

/** Token dialects that put the user's RBAC permissions in the access token. */
export const PERMISSION_TOKEN_DIALECTS = ["access_token_authz", "rfc9068_profile_authz"] as const;

/**
 * The Management API scopes of the user-management (M2M) client: the fewest the user
 * migration needs (create the users, give them their roles, re-run safely).
 */
export const MANAGEMENT_API_SCOPES = [
  // Re-runs look users up by email, so a user created before a failed batch is found, not duplicated.
  "read:users",
  // The migration creates every existing user with a temporary password.
  "create:users",
  // A re-run corrects a user that was created with incomplete data instead of failing on "user exists".
  "update:users",
  // Roles are assigned by name (super_admin, pharmacist, ...); their IDs are looked up first.
  "read:roles",
  // Assigning each migrated user its role(s).
  "create:role_members",
] as const;

/**
 * The Management API scopes of the post-login Action's own client, which assigns
 * `auth0.defaultRole`: Auth0 documents `read:roles` for GET /api/v2/roles and either
 * `update:users` or `create:role_members` for POST /api/v2/users/{id}/roles. `update:users`
 * would also let it change any user's profile, email or password, so it gets the narrower one.
 */
export const POST_LOGIN_MANAGEMENT_SCOPES = [
  // The default role is looked up by name (GET /api/v2/roles?name_filter=…) for its ID.
  "read:roles",
  // Assigning it (POST /api/v2/users/{id}/roles).
  "create:role_members",
] as const;

export interface SpaUrlSettings {
  callbacks?: string[];
  logoutUrls?: string[];
  webOrigins?: string[];
}

export interface SpaUrls {
  callbacks: string[];
  logoutUrls: string[];
  webOrigins: string[];
}

/**
 * The SPA's allowed URLs: each list from `auth0.spa.*` when set, otherwise the app's
 * origin, `https://<hosts.app>`, or `https://<hosts.api>` when the API serves the app.
 */
export function spaUrls(spa: SpaUrlSettings, hosts: { api: string; app?: string }): SpaUrls {
  const origin = `https://${hosts.app ?? hosts.api}`;
  return {
    callbacks: spa.callbacks ?? [origin],
    logoutUrls: spa.logoutUrls ?? [origin],
    webOrigins: spa.webOrigins ?? [origin],
  };
}

/** Auth0 accepts web origins only as scheme://host[:port]; a path there fails `pulumi up`. */
export function webOriginProblems(webOrigins: string[]): string[] {
  return webOrigins.flatMap((value, i) => {
    const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+\/?$/i.exec(value);
    return match
      ? []
      : [`dropstack:auth0.spa.webOrigins.${i}: "${value}" is not an origin; give scheme and host only, e.g. https://app.example.com`];
  });
}

/** Every permission some role holds, once each, sorted: the API's scopes. */
export function apiScopes(roles: Record<string, string[]>): string[] {
  return [...new Set(Object.values(roles).flat())].sort();
}

/** The roles that hold a permission, for the scope's description in the dashboard. */
export function rolesHolding(roles: Record<string, string[]>, permission: string): string[] {
  return Object.keys(roles)
    .filter((role) => roles[role].includes(permission))
    .sort();
}

/** The namespace of the roles claim (post-login.js beside this file): `auth0.claimNamespace`, else the API identifier. */
export function claimNamespace(auth0: { apiIdentifier: string; claimNamespace?: string }): string {
  return auth0.claimNamespace ?? auth0.apiIdentifier;
}

/** The Management API audience of a tenant: `https://<tenant domain>/api/v2/`. */
/**
 * Management API scopes that let their holder widen access: give a client (itself included)
 * new grants, credentials or clients, change what runs at login, the connections, MFA, attack
 * protection, the API's definition or the tenant. The app never gets them
 * (dropstack:auth0.appManagementScopes) and no client's Management API grant may hold them
 * (policy auth0-management-grants-least-privilege).
 */
export const ESCALATING_MANAGEMENT_SCOPES: readonly string[] = [
  "create:client_grants",
  "update:client_grants",
  "delete:client_grants",
  "create:clients",
  "update:clients",
  "delete:clients",
  "update:client_keys",
  "create:client_credentials",
  "update:client_credentials",
  "delete:client_credentials",
  "create:actions",
  "update:actions",
  "delete:actions",
  "update:triggers",
  "create:connections",
  "update:connections",
  "delete:connections",
  "update:guardian_factors",
  "delete:guardian_enrollments",
  "update:attack_protection",
  "create:resource_servers",
  "update:resource_servers",
  "delete:resource_servers",
  "update:tenant_settings",
  "create:custom_domains",
  "update:custom_domains",
  "create:hooks",
  "update:hooks",
  "create:rules",
  "update:rules",
];

const MANAGEMENT_SCOPE = /^(read|create|update|delete):[a-z_]+$/;

/** Why `scope` cannot be one of the app's Management API scopes, or undefined when it can. */
export function describeAppManagementScopeProblem(scope: string): string | undefined {
  const shown = JSON.stringify(scope);
  if (scope.includes("*")) return `${shown} is a wildcard: list each scope the app needs, like read:users`;
  if (!MANAGEMENT_SCOPE.test(scope)) return `expected a Management API scope like read:users or create:role_members, got ${shown}`;
  if (ESCALATING_MANAGEMENT_SCOPES.includes(scope))
    return `${shown} lets its holder widen its own access (clients, grants, Actions, connections, tenant settings); the app must not hold it`;
  return undefined;
}

export function managementApiAudience(domain: string): string {
  return `https://${domain}/api/v2/`;
}

export type TenantDomain = { ok: true; domain: string } | { ok: false; problem: string };

/**
 * The tenant domain the Auth0 provider talks to: provider config `auth0:domain`, else the
 * provider's own environment variable `AUTH0_DOMAIN`. It must be a bare hostname because the
 * Management API audience is built from it.
 */
export function resolveTenantDomain(configured: string | undefined, environment: string | undefined): TenantDomain {
  // A blank value counts as unset, as it does for the provider.
  const value = configured?.trim() || environment?.trim() || "";
  if (value === "") {
    return {
      ok: false,
      problem:
        "auth0:domain: required when dropstack:auth0 is set; run `pulumi config set auth0:domain <tenant>.<region>.auth0.com` or export AUTH0_DOMAIN",
    };
  }
  if (!isHostname(value.toLowerCase())) {
    return {
      ok: false,
      problem: `auth0:domain: expected the tenant's hostname like acme.eu.auth0.com (no scheme or path), got "${value}"`,
    };
  }
  return { ok: true, domain: value.toLowerCase() };
}

export { insecureUrlReason } from "./urls";

/**
 * Attack protection for the tenant: brute-force lockout, breached-password blocking and
 * suspicious-IP throttling. With alert emails configured, Auth0 also notifies the tenant's
 * dashboard admins (Auth0 sends these to its admins; it has no separate recipient list).
 */
export function attackProtectionSettings(alertEmails: string[]) {
  const notifyAdmins = alertEmails.length > 0;
  return {
    bruteForceProtection: {
      enabled: true,
      // Counting per account and IP locks out the attacker's IP, not the real user everywhere.
      mode: "count_per_identifier_and_ip",
      maxAttempts: 10,
      shields: ["block", "user_notification"],
    },
    breachedPasswordDetection: {
      enabled: true,
      method: "standard",
      shields: ["block", "user_notification", ...(notifyAdmins ? ["admin_notification"] : [])],
      ...(notifyAdmins ? { adminNotificationFrequencies: ["daily"] } : {}),
      preUserRegistration: { shields: ["block"] },
    },
    suspiciousIpThrottling: {
      enabled: true,
      shields: ["block", ...(notifyAdmins ? ["admin_notification"] : [])],
      // Per IP, a bucket of `maxAttempts` refilled one attempt every `rate` ms: 100 failed logins
      // a day and about 50 signups a minute (the values of Auth0's own example).
      preLogin: { maxAttempts: 100, rate: 864000 },
      preUserRegistration: { maxAttempts: 50, rate: 1200 },
    },
  };
}

/** Grafana's generic OAuth callback and where it sends users after signing out. */
export function grafanaClientUrls(host: string): { callbacks: string[]; logoutUrls: string[] } {
  return { callbacks: [`https://${host}/login/generic_oauth`], logoutUrls: [`https://${host}/login`] };
}
