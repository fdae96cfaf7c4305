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

// Connections: where users sign in. Each one is enabled only for the tenant's interactive
// clients (components/identity/index.ts), never the machine-to-machine ones.

/** Auth0's password strength levels, weakest first (`options.passwordPolicy` of a database connection). */
export const PASSWORD_POLICIES = ["none", "low", "fair", "good", "excellent"] as const;
export type PasswordPolicy = (typeof PASSWORD_POLICIES)[number];

/** Default strength: `good` (8+ characters, three of lower, upper, digit, symbol) in production, `fair` elsewhere. */
export const DEFAULT_PASSWORD_POLICY = { production: "good", staging: "fair" } as const satisfies Record<string, PasswordPolicy>;

/** Auth0's bounds for `passwordComplexityOptions.minLength`, and dropstack's default length. */
export const PASSWORD_MIN_LENGTH_BOUNDS = { min: 1, max: 128 } as const;
export const DEFAULT_PASSWORD_MIN_LENGTH = 12;

/** Auth0 remembers at most 24 previous passwords per user; 0 turns the history check off here. */
export const PASSWORD_HISTORY_BOUNDS = { min: 0, max: 24 } as const;
export const DEFAULT_PASSWORD_HISTORY = 5;

/**
 * The weakest database connection production accepts (policy auth0-database-password-policy).
 * NIST SP 800-63B makes 8 characters the floor for any user-chosen password (revision 4 keeps
 * 8 only where the password is one of two factors, and asks 15 where it stands alone); with
 * MFA optional, most production passwords stand alone, so the floor here is 10, Auth0's own
 * minimum for its strongest level, and the default is 12. Below `fair`, Auth0 checks nothing
 * but a length of 1 (`none`) or 6 (`low`).
 */
export const PRODUCTION_PASSWORD_FLOOR = { policy: "fair", minLength: 10 } as const satisfies {
  policy: PasswordPolicy;
  minLength: number;
};

/** True when `level` is at least as strong as `floor` in Auth0's order; false for anything that is not a level. */
export function passwordPolicyAtLeast(level: unknown, floor: PasswordPolicy): boolean {
  const rank = (PASSWORD_POLICIES as readonly unknown[]).indexOf(level);
  return rank >= 0 && rank >= PASSWORD_POLICIES.indexOf(floor);
}

/** Connection names: Auth0 allows letters, digits and inner hyphens, up to 128 characters. */
export const CONNECTION_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,126}[A-Za-z0-9])?$/;
export const DEFAULT_DATABASE_CONNECTION_NAME = "dropstack-users";

/** `auth0.connections.database` as the config schema gives it (every key defaulted). */
export interface DatabaseConnectionSettings {
  name: string;
  password: {
    policy: PasswordPolicy;
    minLength: number;
    history: number;
    noPersonalInfo: boolean;
    dictionary: boolean;
  };
  disableSignup: boolean;
  requiresUsername: boolean;
}

/**
 * The `auth0.Connection` options of the database connection (strategy `auth0`). Every
 * password setting is stated, so Auth0's defaults never decide one. Brute-force protection
 * is always on: it is what makes the tenant's attack-protection lockout apply to this
 * connection. Breached passwords are blocked tenant-wide (attackProtectionSettings).
 */
export function databaseConnectionOptions(database: DatabaseConnectionSettings) {
  const { password } = database;
  return {
    passwordPolicy: password.policy,
    passwordComplexityOptions: { minLength: password.minLength },
    passwordHistories: [{ enable: password.history > 0, size: password.history }],
    passwordNoPersonalInfo: { enable: password.noPersonalInfo },
    passwordDictionary: { enable: password.dictionary },
    bruteForceProtection: true,
    disableSignup: database.disableSignup,
    requiresUsername: database.requiresUsername,
  };
}

/** The social connections dropstack declares: config key to Auth0 strategy (also the connection's name). */
export const SOCIAL_STRATEGIES = { google: "google-oauth2", github: "github" } as const;
export type SocialProvider = keyof typeof SOCIAL_STRATEGIES;

/**
 * What each social connection asks the provider for, unless `scopes` says otherwise: enough
 * to sign in and know the user's email, nothing of their mail, files or repositories.
 * Names are Auth0's attribute names for the strategy (`email`, `profile`, `read_user`, ...).
 */
export const DEFAULT_SOCIAL_SCOPES: Record<SocialProvider, readonly string[]> = {
  google: ["email", "profile"],
  github: ["email"],
};

/** `auth0.connections.google` / `.github` as the config schema gives them; the secret stays out of messages. */
export interface SocialConnectionSettings {
  clientId: string;
  clientSecret: string;
  scopes?: string[];
}

/** The options of a social connection, without its client secret (the component adds it as a secret). */
export function socialConnectionOptions(provider: SocialProvider, social: Omit<SocialConnectionSettings, "clientSecret">) {
  return { clientId: social.clientId, scopes: [...(social.scopes ?? DEFAULT_SOCIAL_SCOPES[provider])] };
}

// Multi-factor authentication: `auth0.mfa`, declared as the tenant's auth0.Guardian.

export const MFA_POLICIES = ["off", "optional", "required"] as const;
export type MfaPolicy = (typeof MFA_POLICIES)[number];

/**
 * Factors Auth0 runs without another provider (no Twilio, Duo or SNS): one-time passwords,
 * security keys, device biometrics, push through the Auth0 Guardian app, and the two fallbacks.
 */
export const MFA_FACTORS = ["otp", "webauthn-roaming", "webauthn-platform", "push", "email", "recovery-code"] as const;
export type MfaFactor = (typeof MFA_FACTORS)[number];

/** Email and recovery codes are fallbacks: Auth0 enables them only beside one of these. */
export const PRIMARY_MFA_FACTORS = ["otp", "webauthn-roaming", "webauthn-platform", "push"] as const satisfies readonly MfaFactor[];

/**
 * Guardian's `policy` per dropstack policy. Auth0 knows `all-applications` (every login),
 * `confidence-score` (Adaptive MFA, an Enterprise add-on) and `never`. `optional` is `never`
 * plus the MFA opt-in Action (mfa-opt-in.js beside this file): users who enrolled a factor
 * are challenged at every login, and the app enrols a user by asking for MFA (`acr_values`).
 * Without that Action, `never` would leave every factor unused.
 */
export const GUARDIAN_POLICY: Record<MfaPolicy, "never" | "all-applications"> = {
  off: "never",
  optional: "never",
  required: "all-applications",
};

/** Guardian policies that challenge logins on their own, without the opt-in Action. */
export const ENFORCING_GUARDIAN_POLICIES = ["all-applications", "confidence-score"] as const;

/** `auth0.mfa` when unset: optional, with authenticator-app codes. */
export const DEFAULT_MFA: { policy: MfaPolicy; factors: MfaFactor[] } = { policy: "optional", factors: ["otp"] };

export interface MfaSettings {
  policy?: MfaPolicy;
  factors?: MfaFactor[];
}

/** `auth0.mfa` with its defaults: optional with otp; factors default to none when the policy is off, otp otherwise. */
export function resolveMfa(mfa: MfaSettings | undefined): { policy: MfaPolicy; factors: MfaFactor[] } {
  const policy = mfa?.policy ?? DEFAULT_MFA.policy;
  const factors = mfa?.factors ?? (policy === "off" ? [] : DEFAULT_MFA.factors);
  return { policy, factors: [...factors] };
}

/** What is wrong with `auth0.mfa`, as [key under auth0.mfa, message] pairs (none when it is usable). */
export function mfaProblems(mfa: MfaSettings): { key: "factors"; message: string }[] {
  const { policy, factors } = resolveMfa(mfa);
  const problems: { key: "factors"; message: string }[] = [];
  const repeated = [...new Set(factors.filter((f, i) => factors.indexOf(f) !== i))];
  if (repeated.length > 0) problems.push({ key: "factors", message: `lists ${repeated.join(", ")} more than once` });
  if (policy === "off") {
    if (factors.length > 0)
      problems.push({
        key: "factors",
        message: `policy "off" uses no factor, got ${[...new Set(factors)].join(", ")}: remove factors, or set policy to "optional" or "required"`,
      });
  } else if (!factors.some((f) => (PRIMARY_MFA_FACTORS as readonly string[]).includes(f))) {
    problems.push({
      key: "factors",
      message: `policy "${policy}" needs one of ${PRIMARY_MFA_FACTORS.join(", ")}${factors.length > 0 ? `: Auth0 offers ${factors.join(" and ")} only beside one of them` : ""}`,
    });
  }
  return problems;
}

/**
 * The auth0.Guardian arguments for `auth0.mfa`. Every factor is stated, phone and Duo as off:
 * the provider keeps a factor block that is left out as it is in the tenant, so a factor
 * removed from the config, or turned on in the dashboard, would stay on.
 */
export function guardianSettings(mfa: MfaSettings | undefined) {
  const { policy, factors } = resolveMfa(mfa);
  const on = (factor: MfaFactor) => factors.includes(factor);
  return {
    policy: GUARDIAN_POLICY[policy],
    otp: on("otp"),
    email: on("email"),
    recoveryCode: on("recovery-code"),
    webauthnRoaming: { enabled: on("webauthn-roaming") },
    webauthnPlatform: { enabled: on("webauthn-platform") },
    // Push through the Auth0 Guardian app, which needs no SNS or FCM account.
    push: on("push") ? { enabled: true, provider: "guardian" } : { enabled: false },
    phone: { enabled: false },
    duo: { enabled: false },
  };
}

/** True when `auth0.mfa` needs the opt-in Action: only `optional` does. */
export function needsMfaOptInAction(mfa: MfaSettings | undefined): boolean {
  return resolveMfa(mfa).policy === "optional";
}
