import * as auth0 from "@pulumi/auth0";
import { componentType } from "../common/names";
import * as pulumi from "@pulumi/pulumi";
import { InvalidConfigError, StackConfig } from "../config";
import {
  POST_LOGIN_RUNTIME,
  POST_LOGIN_TRIGGER,
  postLoginSecrets,
  readMfaOptInActionCode,
  readPostLoginActionCode,
  rolesClaimName,
} from "./action";
import {
  API_TOKEN_LIFETIME_FOR_WEB_S,
  API_TOKEN_LIFETIME_S,
  MANAGEMENT_API_SCOPES,
  POST_LOGIN_MANAGEMENT_SCOPES,
  SIGNING_ALG,
  SOCIAL_STRATEGIES,
  SPA_GRANT_TYPES,
  SPA_REFRESH_TOKEN,
  type SocialProvider,
  apiScopes,
  attackProtectionSettings,
  claimNamespace,
  databaseConnectionOptions,
  grafanaClientUrls,
  guardianSettings,
  managementApiAudience,
  needsMfaOptInAction,
  resolveTenantDomain,
  rolesHolding,
  spaUrls,
  socialConnectionOptions,
  webOriginProblems,
} from "./settings";

type ParsedAuth0 = NonNullable<StackConfig["auth0"]>;
/** dropstack:auth0 as parsed; keys the schema defaults may be left out by callers that build it by hand. */
export type Auth0Settings = Omit<ParsedAuth0, "appManagementScopes"> & Partial<Pick<ParsedAuth0, "appManagementScopes">>;

export interface IdentityArgs {
  auth0: Auth0Settings;
  hosts: { api: string; app?: string };
  /** `alerts.emails`: when set, attack protection also notifies the tenant's admins. */
  alertEmails: string[];
  /** The tenant domain; defaults to provider config `auth0:domain`, then `AUTH0_DOMAIN`. */
  domain?: string;
  /**
   * Set when a smoke check (dropstack:app.smoke) sends a token: the M2M client is granted
   * the API with these permissions, so the client-credentials grant issues a token for it.
   */
  smokeScopes?: string[];
  /** Grafana's FQDN (dropstack:hosts.monitoring), when observability is on: Grafana signs in through this tenant. */
  grafanaHost?: string;
}

/**
 * The Auth0 tenant as code: the API with RBAC, its roles and permissions, the SPA and the
 * user-management (M2M) clients, the post-login Action that puts roles in tokens, attack
 * protection, MFA, and the connections users sign in with. Its outputs replace the IDs people
 * used to paste into env files.
 */
export class Identity extends pulumi.ComponentResource {
  readonly api: auth0.ResourceServer;
  /** Absent when no role has a permission. */
  readonly scopes?: auth0.ResourceServerScopes;
  readonly roles: Record<string, auth0.Role>;
  /** Per role that has permissions (a role like guest has none). */
  readonly rolePermissions: Record<string, auth0.RolePermissions>;
  readonly spa: auth0.Client;
  readonly m2m: auth0.Client;
  readonly m2mGrant: auth0.ClientGrant;
  /** The M2M client's grant on the API, for the smoke checks' bearer token; only with `smokeScopes`. */
  readonly smokeGrant?: auth0.ClientGrant;
  /** The tenant's token endpoint (client-credentials grant). */
  readonly tokenUrl: pulumi.Output<string>;
  readonly postLogin: auth0.Action;
  /**
   * The post-login Action's own Management API client, which assigns `auth0.defaultRole`;
   * only with `auth0.assignDefaultRole`. Its secret goes to the Action's secrets, nowhere else.
   */
  readonly postLoginManagement?: { client: auth0.Client; grant: auth0.ClientGrant };
  readonly postLoginBinding: auth0.TriggerActions;
  readonly attackProtection: auth0.AttackProtection;
  /** The tenant's MFA (`auth0.mfa`): policy and factors. */
  readonly guardian: auth0.Guardian;
  /** Bound after the post-login Action when `auth0.mfa.policy` is optional (mfa-opt-in.js). */
  readonly mfaOptIn?: auth0.Action;
  /** `auth0.connections.database`: the users' email-and-password connection (strategy auth0). */
  readonly databaseConnection?: auth0.Connection;
  /** `auth0.connections.google` / `.github`. */
  readonly socialConnections: Partial<Record<SocialProvider, auth0.Connection>>;
  /** Per connection, the one owner of its enabled clients: the SPA, and Grafana's client when it signs in here. */
  readonly connectionClients: auth0.ConnectionClients[];

  readonly domain: pulumi.Output<string>;
  readonly audience: pulumi.Output<string>;
  readonly spaClientId: pulumi.Output<string>;
  /** The claim holding the user's roles in ID and access tokens, e.g. `https://api.example.com/roles`. */
  readonly rolesClaim: string;
  /**
   * For the app: AUTH0_DOMAIN, AUTH0_AUDIENCE, AUTH0_CLIENT_ID (the SPA's) and AUTH0_ROLES_CLAIM; with
   * auth0.appManagementScopes also AUTH0_MANAGEMENT_CLIENT_ID and _SECRET (then the whole map is secret).
   */
  readonly appEnvironment: pulumi.Output<Record<string, string>>;
  readonly m2mClientId: pulumi.Output<string>;
  readonly m2mClientSecret: pulumi.Output<string>;
  /** Secret, for the user migration: AUTH0_DOMAIN, AUTH0_MANAGEMENT_CLIENT_ID, AUTH0_MANAGEMENT_CLIENT_SECRET. */
  readonly managementEnvironment: pulumi.Output<Record<string, string>>;
  /** The app's own Management API client, with auth0.appManagementScopes: exactly those scopes. */
  readonly appManagement?: { client: auth0.Client; grant: auth0.ClientGrant };
  /** Grafana's sign-in client (a regular web app), with args.grafanaHost. */
  readonly grafana?: { client: auth0.Client; clientId: pulumi.Output<string>; clientSecret: pulumi.Output<string> };

  constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    // Config problems surface before the component registers anything.
    const domain = tenantDomain(args.domain);
    const problems = webOriginProblems(args.auth0.spa.webOrigins ?? []);
    if (problems.length > 0) throw new InvalidConfigError(problems, pulumi.getStack());
    super(componentType("Identity"), name, {}, opts);
    const settings = args.auth0;
    const urls = spaUrls(settings.spa, args.hosts);

    this.api = new auth0.ResourceServer(
      `${name}-api`,
      {
        name: `${name}-api`,
        identifier: settings.apiIdentifier,
        signingAlg: SIGNING_ALG,
        enforcePolicies: true,
        tokenDialect: "access_token_authz",
        tokenLifetime: API_TOKEN_LIFETIME_S,
        tokenLifetimeForWeb: API_TOKEN_LIFETIME_FOR_WEB_S,
        skipConsentForVerifiableFirstPartyClients: true,
        allowOfflineAccess: true,
      },
      { parent: this },
    );

    // One resource owns every scope of the API, so scopes from several roles never fight.
    const scopes = apiScopes(settings.roles);
    this.scopes =
      scopes.length === 0
        ? undefined
        : new auth0.ResourceServerScopes(
            `${name}-api-scopes`,
            {
              resourceServerIdentifier: this.api.identifier,
              scopes: scopes.map((scope) => ({ name: scope, description: `Held by ${rolesHolding(settings.roles, scope).join(", ")}` })),
            },
            { parent: this },
          );

    this.roles = {};
    this.rolePermissions = {};
    for (const [role, permissions] of Object.entries(settings.roles)) {
      const created = new auth0.Role(
        `${name}-role-${role}`,
        { name: role, description: `${role} (managed by dropstack)` },
        { parent: this },
      );
      this.roles[role] = created;
      // A role without permissions (e.g. guest) is only a name; RolePermissions needs at least one.
      if (permissions.length === 0) continue;
      this.rolePermissions[role] = new auth0.RolePermissions(
        `${name}-role-${role}-permissions`,
        {
          roleId: created.id,
          permissions: permissions.map((permission) => ({ name: permission, resourceServerIdentifier: this.api.identifier })),
        },
        { parent: this, dependsOn: this.scopes ? [this.scopes] : [] },
      );
    }

    this.spa = new auth0.Client(
      `${name}-spa`,
      {
        name: `${name}-spa`,
        description: "Browser app: Universal Login with the authorization code flow and PKCE",
        appType: "spa",
        isFirstParty: true,
        oidcConformant: true,
        grantTypes: [...SPA_GRANT_TYPES],
        callbacks: urls.callbacks,
        allowedLogoutUrls: urls.logoutUrls,
        webOrigins: urls.webOrigins,
        crossOriginAuth: false,
        jwtConfiguration: { alg: SIGNING_ALG },
        refreshToken: { ...SPA_REFRESH_TOKEN },
      },
      { parent: this },
    );
    // In this provider version the token endpoint auth method lives here: `none` makes the SPA
    // a public client, so it must use PKCE and holds no secret.
    new auth0.ClientCredentials(`${name}-spa-credentials`, { clientId: this.spa.clientId, authenticationMethod: "none" }, { parent: this });

    const userManagement = this.managementClient(
      `${name}-user-management`,
      "Server-side user management (user migration, role assignment) through the Management API",
      domain,
      [...MANAGEMENT_API_SCOPES],
    );
    this.m2m = userManagement.client;
    this.m2mGrant = userManagement.grant;

    if (args.smokeScopes) {
      this.smokeGrant = new auth0.ClientGrant(
        `${name}-smoke-grant`,
        { clientId: this.m2m.clientId, audience: this.api.identifier, scopes: [...new Set(args.smokeScopes)].sort() },
        { parent: this, dependsOn: this.scopes ? [this.scopes] : [] },
      );
    }

    const namespace = claimNamespace(settings);
    this.rolesClaim = rolesClaimName(namespace);
    let management: { domain: string; clientId: pulumi.Output<string>; clientSecret: pulumi.Output<string> } | undefined;
    if (settings.defaultRole !== undefined && settings.assignDefaultRole) {
      // A client of its own, not the user-management one: the Action holds only what assigning
      // a role needs, and its secret can be rotated without touching the app's.
      const { client, grant, clientSecret } = this.managementClient(
        `${name}-post-login-management`,
        "The post-login Action: assigns the default role to users who hold none, through the Management API",
        domain,
        [...POST_LOGIN_MANAGEMENT_SCOPES],
      );
      this.postLoginManagement = { client, grant };
      management = { domain, clientId: client.clientId, clientSecret };
    }
    this.postLogin = new auth0.Action(
      `${name}-post-login`,
      {
        name: `${name}-post-login`,
        code: readPostLoginActionCode(),
        runtime: POST_LOGIN_RUNTIME,
        deploy: true,
        supportedTriggers: { ...POST_LOGIN_TRIGGER },
        secrets: postLoginSecrets({ namespace, defaultRole: settings.defaultRole, management }),
      },
      // The grant first, so the first logins after a deploy are not refused by the Management API.
      { parent: this, dependsOn: this.postLoginManagement ? [this.postLoginManagement.grant] : [] },
    );
    // auth0.mfa optional: the Guardian policy is `never`, and this Action asks enrolled users
    // (and users the app asks MFA of) for their second factor.
    this.mfaOptIn = needsMfaOptInAction(settings.mfa)
      ? new auth0.Action(
          `${name}-mfa-opt-in`,
          {
            name: `${name}-mfa-opt-in`,
            code: readMfaOptInActionCode(),
            runtime: POST_LOGIN_RUNTIME,
            deploy: true,
            supportedTriggers: { ...POST_LOGIN_TRIGGER },
          },
          { parent: this },
        )
      : undefined;
    // TriggerActions owns the whole post-login flow: an Action bound by hand is removed, so
    // what runs at login is exactly what is reviewed here.
    this.postLoginBinding = new auth0.TriggerActions(
      `${name}-post-login-flow`,
      {
        trigger: POST_LOGIN_TRIGGER.id,
        actions: [this.postLogin, ...(this.mfaOptIn ? [this.mfaOptIn] : [])].map((action) => ({
          id: action.id,
          displayName: action.name,
        })),
      },
      { parent: this },
    );

    const appManagementScopes = [...new Set(settings.appManagementScopes ?? [])].sort();
    let appManagementSecret: pulumi.Output<string> | undefined;
    if (appManagementScopes.length > 0) {
      const { client, grant, clientSecret } = this.managementClient(
        `${name}-app-management`,
        "The app's own Management API access: exactly dropstack:auth0.appManagementScopes",
        domain,
        appManagementScopes,
      );
      this.appManagement = { client, grant };
      appManagementSecret = clientSecret;
    }

    if (args.grafanaHost) {
      const grafanaUrls = grafanaClientUrls(args.grafanaHost);
      const client = new auth0.Client(
        `${name}-grafana`,
        {
          name: `${name}-grafana`,
          description: "Grafana at hosts.monitoring: sign-in with the authorization code flow; roles map to Grafana roles",
          appType: "regular_web",
          isFirstParty: true,
          oidcConformant: true,
          grantTypes: ["authorization_code"],
          callbacks: grafanaUrls.callbacks,
          allowedLogoutUrls: grafanaUrls.logoutUrls,
          crossOriginAuth: false,
          jwtConfiguration: { alg: SIGNING_ALG },
        },
        { parent: this },
      );
      const credentials = new auth0.ClientCredentials(
        `${name}-grafana-credentials`,
        { clientId: client.clientId, authenticationMethod: "client_secret_post" },
        { parent: this, additionalSecretOutputs: ["clientSecret"] },
      );
      this.grafana = { client, clientId: client.clientId, clientSecret: pulumi.secret(credentials.clientSecret) };
    }

    this.attackProtection = new auth0.AttackProtection(`${name}-attack-protection`, attackProtectionSettings(args.alertEmails), {
      parent: this,
    });

    this.guardian = new auth0.Guardian(`${name}-mfa`, guardianSettings(settings.mfa), { parent: this });

    // Users sign in through these connections from the SPA (and Grafana, which shares the
    // tenant's users); the machine-to-machine clients get none.
    const signInClients = [this.spa.clientId, ...(this.grafana ? [this.grafana.clientId] : [])];
    this.connectionClients = [];
    const enableForSignInClients = (key: string, connection: auth0.Connection) => {
      // One ConnectionClients per connection owns the whole list, so previews do not churn
      // and a client enabled by hand is removed again.
      this.connectionClients.push(
        new auth0.ConnectionClients(
          `${name}-connection-${key}-clients`,
          { connectionId: connection.id, enabledClients: signInClients },
          { parent: this },
        ),
      );
    };
    const database = settings.connections?.database;
    if (database) {
      this.databaseConnection = new auth0.Connection(
        `${name}-connection-database`,
        { name: database.name, strategy: "auth0", options: databaseConnectionOptions(database) },
        // Deleting a database connection deletes its users and their password hashes, and the
        // name cannot change in place: a rename would do exactly that.
        { parent: this, protect: true },
      );
      enableForSignInClients("database", this.databaseConnection);
    }
    this.socialConnections = {};
    for (const provider of Object.keys(SOCIAL_STRATEGIES) as SocialProvider[]) {
      const social = settings.connections?.[provider];
      if (!social) continue;
      const strategy = SOCIAL_STRATEGIES[provider];
      const connection = new auth0.Connection(
        `${name}-connection-${provider}`,
        {
          // Auth0's dashboard shows one connection per social provider, under the strategy's name.
          name: strategy,
          strategy,
          options: { ...socialConnectionOptions(provider, social), clientSecret: pulumi.secret(social.clientSecret) },
        },
        { parent: this, additionalSecretOutputs: ["options"] },
      );
      this.socialConnections[provider] = connection;
      enableForSignInClients(provider, connection);
    }

    this.domain = pulumi.output(domain);
    this.tokenUrl = pulumi.output(`https://${domain}/oauth/token`);
    this.audience = this.api.identifier;
    this.spaClientId = this.spa.clientId;
    const appManagementClientId = this.appManagement?.client.clientId;
    this.appEnvironment = pulumi
      .all([this.audience, this.spaClientId, appManagementClientId, appManagementSecret])
      .apply(([audience, clientId, managementClientId, managementSecret]): Record<string, string> => ({
        AUTH0_DOMAIN: domain,
        AUTH0_AUDIENCE: audience,
        AUTH0_CLIENT_ID: clientId,
        AUTH0_ROLES_CLAIM: this.rolesClaim,
        ...(managementClientId !== undefined && managementSecret !== undefined
          ? { AUTH0_MANAGEMENT_CLIENT_ID: managementClientId, AUTH0_MANAGEMENT_CLIENT_SECRET: managementSecret }
          : {}),
      }));
    this.m2mClientId = pulumi.secret(this.m2m.clientId);
    this.m2mClientSecret = userManagement.clientSecret;
    this.managementEnvironment = pulumi.secret(
      pulumi.all([this.m2m.clientId, userManagement.clientSecret]).apply(([clientId, clientSecret]): Record<string, string> => ({
        AUTH0_DOMAIN: domain,
        AUTH0_MANAGEMENT_CLIENT_ID: clientId,
        AUTH0_MANAGEMENT_CLIENT_SECRET: clientSecret,
      })),
    );

    this.registerOutputs({
      domain: this.domain,
      audience: this.audience,
      spaClientId: this.spaClientId,
      rolesClaim: this.rolesClaim,
      m2mClientId: this.m2mClientId,
      m2mClientSecret: this.m2mClientSecret,
    });
  }

  /**
   * A client-credentials client for the Management API: its secret kept secret, and a grant of
   * exactly `scopes` on the tenant's Management API.
   */
  private managementClient(name: string, description: string, domain: string, scopes: string[]) {
    const client = new auth0.Client(
      name,
      {
        name,
        description,
        appType: "non_interactive",
        isFirstParty: true,
        oidcConformant: true,
        grantTypes: ["client_credentials"],
        jwtConfiguration: { alg: SIGNING_ALG },
      },
      { parent: this },
    );
    const credentials = new auth0.ClientCredentials(
      `${name}-credentials`,
      { clientId: client.clientId, authenticationMethod: "client_secret_post" },
      { parent: this, additionalSecretOutputs: ["clientSecret"] },
    );
    const grant = new auth0.ClientGrant(
      `${name}-grant`,
      { clientId: client.clientId, audience: managementApiAudience(domain), scopes },
      { parent: this },
    );
    return { client, grant, clientSecret: pulumi.secret(credentials.clientSecret) };
  }
}

/** The tenant domain, or an InvalidConfigError naming `auth0:domain` (the check exits 2). */
function tenantDomain(explicit: string | undefined): string {
  const resolved = resolveTenantDomain(explicit ?? new pulumi.Config("auth0").get("domain"), process.env.AUTH0_DOMAIN);
  if (!resolved.ok) throw new InvalidConfigError([resolved.problem], pulumi.getStack());
  return resolved.domain;
}
