// Auth0 tenant policies. They match resources by type token, so the pack does not load the
// whole Auth0 SDK; properties arrive under the SDK's camelCase names.
import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
  CURRENT_ACTION_RUNTIMES,
  ESCALATING_MANAGEMENT_SCOPES,
  FORBIDDEN_SPA_GRANTS,
  PERMISSION_TOKEN_DIALECTS,
  insecureUrlReason,
} from "../components/identity/settings";
import { Props, asList, asProps } from "./util";

export const AUTH0_TYPES = {
  client: "auth0:index/client:Client",
  action: "auth0:index/action:Action",
  resourceServer: "auth0:index/resourceServer:ResourceServer",
  attackProtection: "auth0:index/attackProtection:AttackProtection",
  clientGrant: "auth0:index/clientGrant:ClientGrant",
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

export const identityPolicies = [
  auth0ManagementGrantsLeastPrivilege,
  auth0ClientNoInsecureUrls,
  auth0SpaNoPasswordOrImplicitGrant,
  auth0ActionCurrentRuntime,
  auth0ApiRbacEnforced,
  auth0AttackProtectionEnabled,
  auth0AttackProtectionPresent,
];
