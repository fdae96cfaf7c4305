// Auth0 tenant policies. They match resources by type token, so the pack does not load the
// whole Auth0 SDK; properties arrive under the SDK's camelCase names.
import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { POST_LOGIN_TRIGGER, readMfaOptInActionCode } from "../components/identity/action";
import {
  CURRENT_ACTION_RUNTIMES,
  ENFORCING_GUARDIAN_POLICIES,
  ESCALATING_MANAGEMENT_SCOPES,
  FORBIDDEN_SPA_GRANTS,
  PERMISSION_TOKEN_DIALECTS,
  PRODUCTION_PASSWORD_FLOOR,
  insecureUrlReason,
  passwordPolicyAtLeast,
} from "../components/identity/settings";
import { Props, asList, asProps, known } from "./util";

export const AUTH0_TYPES = {
  client: "auth0:index/client:Client",
  action: "auth0:index/action:Action",
  resourceServer: "auth0:index/resourceServer:ResourceServer",
  attackProtection: "auth0:index/attackProtection:AttackProtection",
  clientGrant: "auth0:index/clientGrant:ClientGrant",
  connection: "auth0:index/connection:Connection",
  guardian: "auth0:index/guardian:Guardian",
  triggerActions: "auth0:index/triggerActions:TriggerActions",
} as const;

function forType(type: string, check: (props: Props, args: ResourceValidationArgs, report: ReportViolation) => void) {
  return (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type === type) check(args.props, args, report);
  };
}

// Where each client URL list comes from in the stack config, for messages.
const CLIENT_URL_FIELDS: { property: string; source: string }[] = [
  { property: "callbacks", source: "dropstack:auth0.spa.callbacks" },
  { property: "allowedLogoutUrls", source: "dropstack:auth0.spa.logoutUrls" },
  { property: "webOrigins", source: "dropstack:auth0.spa.webOrigins" },
  { property: "allowedOrigins", source: "the client's allowedOrigins" },
];

export const auth0ClientNoInsecureUrls: ResourceValidationPolicy = {
  name: "auth0-client-no-insecure-urls",
  description:
    "Auth0 clients allow no http:// or localhost/loopback callback, logout, web-origin or allowed-origin URLs: tokens would go to a plain-text or local page.",
  validateResource: forType(AUTH0_TYPES.client, (client, args, report) => {
    for (const { property, source } of CLIENT_URL_FIELDS) {
      for (const url of asList<string>(client[property])) {
        const reason = insecureUrlReason(String(url));
        if (reason)
          report(
            `client ${args.name} allows ${property} "${url}", which ${reason}: remove it from ${source} (use https:// on a public host)`,
          );
      }
    }
  }),
};

export const auth0SpaNoPasswordOrImplicitGrant: ResourceValidationPolicy = {
  name: "auth0-spa-no-password-or-implicit-grant",
  description:
    "Single-page apps use only the authorization code flow with PKCE and refresh tokens: no password, password-realm or implicit grant.",
  validateResource: forType(AUTH0_TYPES.client, (client, args, report) => {
    if (client.appType !== "spa") return;
    const grants = client.grantTypes;
    if (grants === undefined) {
      report(
        `SPA client ${args.name} leaves grantTypes unset, and Auth0 then enables the implicit grant: set grantTypes to ["authorization_code", "refresh_token"] in components/identity`,
      );
      return;
    }
    const forbidden = asList<string>(grants).filter((g) => (FORBIDDEN_SPA_GRANTS as readonly string[]).includes(g));
    if (forbidden.length > 0)
      report(
        `SPA client ${args.name} allows the ${forbidden.join(", ")} grant${forbidden.length > 1 ? "s" : ""}: keep grantTypes to ["authorization_code", "refresh_token"] in components/identity`,
      );
  }),
};

export const auth0ActionCurrentRuntime: ResourceValidationPolicy = {
  name: "auth0-action-current-runtime",
  description: `Auth0 Actions run on a supported Node runtime (${CURRENT_ACTION_RUNTIMES.join(", ")}); older runtimes are deprecated and stop receiving fixes.`,
  validateResource: forType(AUTH0_TYPES.action, (action, args, report) => {
    const runtime = action.runtime;
    if (typeof runtime !== "string" || !(CURRENT_ACTION_RUNTIMES as readonly string[]).includes(runtime)) {
      report(
        `Action ${args.name} runs on ${runtime === undefined ? "the provider's default runtime" : `"${String(runtime)}"`}: set runtime to "${CURRENT_ACTION_RUNTIMES[0]}" (POST_LOGIN_RUNTIME in components/identity/action.ts)`,
      );
    }
  }),
};

export const auth0ApiRbacEnforced: ResourceValidationPolicy = {
  name: "auth0-api-rbac-enforced",
  description:
    "The Auth0 API enforces RBAC and puts the user's permissions in the access token, so the app authorizes by permission, not by trusting any token for the audience.",
  validateResource: forType(AUTH0_TYPES.resourceServer, (api, args, report) => {
    if (api.enforcePolicies !== true)
      report(`API ${args.name} has RBAC off: set enforcePolicies: true so only permissions granted through roles reach tokens`);
    const dialect = api.tokenDialect;
    if (typeof dialect !== "string" || !(PERMISSION_TOKEN_DIALECTS as readonly string[]).includes(dialect)) {
      report(
        `API ${args.name} issues tokens without a permissions claim (tokenDialect ${dialect === undefined ? "unset" : `"${String(dialect)}"`}): set tokenDialect to "access_token_authz"`,
      );
    }
  }),
};

const PROTECTIONS: { property: string; label: string }[] = [
  { property: "bruteForceProtection", label: "brute-force protection" },
  { property: "breachedPasswordDetection", label: "breached-password detection" },
  { property: "suspiciousIpThrottling", label: "suspicious-IP throttling" },
];

export const auth0AttackProtectionEnabled: ResourceValidationPolicy = {
  name: "auth0-attack-protection-enabled",
  description: "Auth0 attack protection has brute-force protection, breached-password detection and suspicious-IP throttling all enabled.",
  validateResource: forType(AUTH0_TYPES.attackProtection, (protection, args, report) => {
    for (const { property, label } of PROTECTIONS) {
      if (asProps(protection[property]).enabled !== true)
        report(
          `${args.name} has ${label} off: set ${property}.enabled to true (attackProtectionSettings in components/identity/settings.ts)`,
        );
    }
  }),
};

export const auth0AttackProtectionPresent: StackValidationPolicy = {
  name: "auth0-attack-protection-present",
  description:
    "A stack that manages an Auth0 tenant also manages its attack protection, so it cannot be left at whatever the dashboard says.",
  validateStack: (args, report) => {
    const auth0Resources = args.resources.filter((r) => r.type.startsWith("auth0:"));
    if (auth0Resources.length === 0) return;
    if (!auth0Resources.some((r) => r.type === AUTH0_TYPES.attackProtection)) {
      report(
        `the stack manages ${auth0Resources.length} Auth0 resource(s) but no auth0.AttackProtection: declare one (the Identity component does)`,
      );
    }
  },
};

export const auth0ManagementGrantsLeastPrivilege: ResourceValidationPolicy = {
  name: "auth0-management-grants-least-privilege",
  description:
    "No client's Management API grant holds a wildcard or a scope that widens access (clients, grants, credentials, Actions, connections, MFA, attack protection, APIs, tenant settings).",
  validateResource: forType(AUTH0_TYPES.clientGrant, (grant, args, report) => {
    const audience = grant.audience;
    if (typeof audience !== "string" || !/^https:\/\/[^/]+\/api\/v2\/?$/.test(audience)) return;
    const scopes = asList(grant.scopes).filter((s): s is string => typeof s === "string");
    const wide = scopes.filter((scope) => scope.includes("*") || ESCALATING_MANAGEMENT_SCOPES.includes(scope));
    if (wide.length > 0)
      report(
        `${args.name} grants the Management API ${wide.join(", ")}: a client holding it can widen its own access; grant only the scopes the client's work needs (dropstack:auth0.appManagementScopes for the app)`,
      );
  }),
};

export const auth0DatabasePasswordPolicy: ResourceValidationPolicy = {
  name: "auth0-database-password-policy",
  description: `Database connections ask for passwords Auth0 rates at least "${PRODUCTION_PASSWORD_FLOOR.policy}" and at least ${PRODUCTION_PASSWORD_FLOOR.minLength} characters long (NIST SP 800-63B's floor is 8), with brute-force protection on.`,
  validateResource: forType(AUTH0_TYPES.connection, (connection, args, report) => {
    if (connection.strategy !== "auth0") return;
    const options = asProps(connection.options);
    const key = "dropstack:auth0.connections.database";
    const level = options.passwordPolicy;
    if (!passwordPolicyAtLeast(level, PRODUCTION_PASSWORD_FLOOR.policy))
      report(
        `database connection ${args.name} has password policy ${level === undefined ? "unset" : `"${String(level)}"`}: set ${key}.password.policy to "${PRODUCTION_PASSWORD_FLOOR.policy}" or stronger ("good" is the production default)`,
      );
    const minLength = asProps(options.passwordComplexityOptions).minLength;
    if (typeof minLength !== "number" || minLength < PRODUCTION_PASSWORD_FLOOR.minLength)
      report(
        `database connection ${args.name} accepts passwords ${typeof minLength === "number" ? `of ${minLength} characters` : "of any length its policy allows"}: set ${key}.password.minLength to ${PRODUCTION_PASSWORD_FLOOR.minLength} or more`,
      );
    if (options.bruteForceProtection !== true)
      report(
        `database connection ${args.name} has brute-force protection off: set options.bruteForceProtection to true (databaseConnectionOptions in components/identity/settings.ts)`,
      );
  }),
};

// Factors a user can enrol as their second factor; email and recovery codes are only fallbacks.
const GUARDIAN_PRIMARY_FACTORS: { property: string; label: string }[] = [
  { property: "otp", label: "otp" },
  { property: "webauthnRoaming", label: "webauthn-roaming" },
  { property: "webauthnPlatform", label: "webauthn-platform" },
  { property: "push", label: "push" },
  { property: "phone", label: "phone" },
  { property: "duo", label: "duo" },
];

function factorEnabled(value: unknown): boolean {
  return value === true || asProps(value).enabled === true;
}

export const auth0MfaRequired: StackValidationPolicy = {
  name: "auth0-mfa-required",
  description:
    "A stack that manages an Auth0 tenant offers MFA: an auth0.Guardian with a factor users can enrol, whose policy challenges logins itself or is bound with the MFA opt-in Action (auth0.mfa.policy optional or required).",
  validateStack: (args, report) => {
    const auth0Resources = args.resources.filter((r) => r.type.startsWith("auth0:"));
    if (auth0Resources.length === 0) return;
    const fix = 'set dropstack:auth0.mfa.policy to "optional" or "required"';
    const guardians = auth0Resources.filter((r) => r.type === AUTH0_TYPES.guardian);
    if (guardians.length === 0) {
      report(
        `the stack manages ${auth0Resources.length} Auth0 resource(s) but no auth0.Guardian, so MFA is whatever the dashboard says: ${fix}`,
      );
      return;
    }
    for (const guardian of guardians) {
      const props = guardian.props;
      if (!GUARDIAN_PRIMARY_FACTORS.some(({ property }) => factorEnabled(known(() => props[property]))))
        report(
          `${guardian.name} enables no factor users can enrol (${GUARDIAN_PRIMARY_FACTORS.map((f) => f.label).join(", ")}): ${fix}, with dropstack:auth0.mfa.factors listing one`,
        );
      const policy = known(() => props.policy);
      if ((ENFORCING_GUARDIAN_POLICIES as readonly unknown[]).includes(policy)) continue;
      if (policy !== "never") {
        report(`${guardian.name} has MFA policy ${policy === undefined ? "unset" : `"${String(policy)}"`}: ${fix}`);
        continue;
      }
      if (!mfaOptInBound(auth0Resources))
        report(
          `${guardian.name} has MFA policy "never" and the post-login flow lacks the MFA opt-in Action, so no login is ever asked for a second factor: ${fix}`,
        );
    }
  },
};

/** True when a deployed Action runs mfa-opt-in.js and the post-login flow binds it by name. */
function mfaOptInBound(resources: { type: string; props: Props }[]): boolean {
  const code = readMfaOptInActionCode();
  const names = resources
    .filter((r) => r.type === AUTH0_TYPES.action && known(() => r.props.code) === code && known(() => r.props.deploy) === true)
    .map((r) => known(() => r.props.name))
    .filter((name): name is string => typeof name === "string");
  return resources
    .filter((r) => r.type === AUTH0_TYPES.triggerActions && known(() => r.props.trigger) === POST_LOGIN_TRIGGER.id)
    .some((flow) =>
      asList(known(() => flow.props.actions)).some((bound) => names.includes(String(known(() => asProps(bound).displayName)))),
    );
}

export const identityPolicies = [
  auth0ManagementGrantsLeastPrivilege,
  auth0ClientNoInsecureUrls,
  auth0SpaNoPasswordOrImplicitGrant,
  auth0ActionCurrentRuntime,
  auth0ApiRbacEnforced,
  auth0AttackProtectionEnabled,
  auth0AttackProtectionPresent,
  auth0DatabasePasswordPolicy,
  auth0MfaRequired,
];
