// Grafana as code: the datasources and the dashboard provider it is provisioned with, the
// dashboards themselves (typed by Grafana's published schema, see dashboards/panels.ts), and
// the GF_* environment of its container. Grafana is served by nginx on hosts.monitoring;
// every secret it needs is read from a file under CONFIG_PATHS, never from a value here.
import type { Dashboard } from "@grafana/schema";
import { stringify } from "yaml";
import { controlCharacterAt } from "../config/text";
import { isHostname } from "../config/hostname";
import { DATASOURCE_UIDS } from "./dashboards/datasources";
import { databaseDashboard } from "./dashboards/database";
import { overviewDashboard } from "./dashboards/overview";
import { CONFIG_PATHS, PERCENT_THRESHOLDS, SERVICES, type ObservabilitySettings } from "./settings";

export { DATASOURCE_UIDS } from "./dashboards/datasources";

/** GF_SECURITY_ADMIN_PASSWORD__FILE: the admin user's password. */
export const GRAFANA_ADMIN_PASSWORD_FILE = CONFIG_PATHS.grafanaAdminPasswordFile;
/** GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET__FILE: the Auth0 client's secret. */
export const GRAFANA_OAUTH_CLIENT_SECRET_FILE = CONFIG_PATHS.grafanaOauthClientSecretFile;

/** Where the rendered provisioning files go inside the container. */
export const GRAFANA_PROVISIONING_FILES = {
  datasources: `${CONFIG_PATHS.grafanaProvisioning}/datasources/dropstack.yaml`,
  dashboards: `${CONFIG_PATHS.grafanaProvisioning}/dashboards/dropstack.yaml`,
} as const;

/** The Grafana folder the provisioned dashboards appear in. */
export const DASHBOARD_FOLDER = "dropstack";

/** The path of a rendered dashboard (renderDashboard) inside the container, by its key in dashboards(). */
export function dashboardPath(key: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(key))
    throw new Error(`dashboard key must be lowercase letters, digits and dashes, got ${JSON.stringify(key)}`);
  return `${CONFIG_PATHS.grafanaDashboards}/${key}.json`;
}

/** Where Loki's push API lives under its base URL; Grafana queries the base. */
const LOKI_PUSH_PATH = "/loki/api/v1/push";

function validateDashboardSettings(settings: ObservabilitySettings): void {
  for (const key of PERCENT_THRESHOLDS) {
    const value = settings.thresholds[key];
    if (!Number.isFinite(value) || value <= 0 || value > 100) {
      throw new Error(`dropstack:observability.thresholds.${key} must be a percentage above 0 and at most 100, got ${value}`);
    }
  }
  const latency = settings.thresholds.p95LatencyMs;
  if (!Number.isFinite(latency) || latency <= 0)
    throw new Error(`dropstack:observability.thresholds.p95LatencyMs must be a positive number of milliseconds, got ${latency}`);
  const maxConnections = settings.databaseConnectionLimit;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new Error(
      `databaseConnectionLimit (the database size's backend connections) must be a positive whole number, got ${maxConnections}`,
    );
  }
}

/**
 * The URL Grafana queries Loki at: the Loki on the droplet, or the remote one Alloy pushes
 * to (settings.remoteLoki, whose push URL ends in /loki/api/v1/push). Querying a remote Loki
 * that wants credentials needs them provisioned too, which this does not do: they are out
 * of scope here, and Grafana's Loki panels then answer 401 until they are added.
 */
export function lokiQueryUrl(settings: ObservabilitySettings): string {
  if (settings.remoteLoki === undefined) return `http://${SERVICES.loki.alias}:${SERVICES.loki.port}`;
  const setting = "dropstack:observability.remoteLoki.url";
  const text = settings.remoteLoki.url;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${setting} must be an https URL ending in ${LOKI_PUSH_PATH}, got ${JSON.stringify(text)}`);
  }
  // Checked first, and the URL left out of the message: its user:password part is a secret.
  if (url.username !== "" || url.password !== "") throw new Error(`${setting} must not carry credentials (user:password@${url.host})`);
  // Log lines travel to it: never in clear text (alloy.ts refuses the same URL).
  if (url.protocol !== "https:") throw new Error(`${setting} must use https, got ${JSON.stringify(text)}`);
  if (url.search !== "" || url.hash !== "") throw new Error(`${setting} must have no query or fragment, got ${JSON.stringify(text)}`);
  if (!url.pathname.endsWith(LOKI_PUSH_PATH)) {
    throw new Error(`${setting} must be Loki's push URL, ending in ${LOKI_PUSH_PATH}, got ${JSON.stringify(text)}`);
  }
  return `${url.origin}${url.pathname.slice(0, -LOKI_PUSH_PATH.length)}`;
}

/**
 * provisioning/datasources: Prometheus (the default), Loki and Alertmanager, each with the
 * fixed uid the dashboards name. Not editable in the UI, and `prune` removes a datasource
 * from Grafana once it is gone from this file, so the repository stays the source of truth.
 */
export function renderGrafanaDatasources(settings: ObservabilitySettings): string {
  const service = (name: "prometheus" | "alertmanager") => `http://${SERVICES[name].alias}:${SERVICES[name].port}`;
  return stringify({
    apiVersion: 1,
    prune: true,
    datasources: [
      {
        name: "Prometheus",
        type: "prometheus",
        uid: DATASOURCE_UIDS.prometheus,
        access: "proxy",
        url: service("prometheus"),
        isDefault: true,
        editable: false,
        jsonData: { httpMethod: "POST", prometheusType: "Prometheus", alertmanagerUid: DATASOURCE_UIDS.alertmanager },
      },
      {
        name: "Loki",
        type: "loki",
        uid: DATASOURCE_UIDS.loki,
        access: "proxy",
        url: lokiQueryUrl(settings),
        editable: false,
        // The Loki on the droplet runs no ruler, so there are no Loki rules to list.
        jsonData: { maxLines: 1000, manageAlerts: false },
      },
      {
        name: "Alertmanager",
        type: "alertmanager",
        uid: DATASOURCE_UIDS.alertmanager,
        access: "proxy",
        url: service("alertmanager"),
        editable: false,
        // Alerts are Prometheus rules routed by this Alertmanager; Grafana shows and silences
        // them, and sends it nothing of its own.
        jsonData: { implementation: "prometheus", handleGrafanaManagedAlerts: false },
      },
    ],
  });
}

/**
 * provisioning/dashboards: one file provider reading CONFIG_PATHS.grafanaDashboards. UI
 * saves are refused and a dashboard whose file is gone is deleted, so what Grafana shows is
 * what the repository holds.
 */
export function renderDashboardProvider(): string {
  return stringify({
    apiVersion: 1,
    providers: [
      {
        name: "dropstack",
        orgId: 1,
        folder: DASHBOARD_FOLDER,
        type: "file",
        disableDeletion: false,
        allowUiUpdates: false,
        updateIntervalSeconds: 60,
        options: { path: CONFIG_PATHS.grafanaDashboards, foldersFromFilesStructure: false },
      },
    ],
  });
}

/** The dashboards' keys, which name their files (dashboardPath). */
export const DASHBOARD_KEYS = ["overview", "database"] as const;

/** The dashboards, by the key their file is named after (dashboardPath). */
export function dashboards(settings: ObservabilitySettings): Record<(typeof DASHBOARD_KEYS)[number], Dashboard> {
  validateDashboardSettings(settings);
  return { overview: overviewDashboard(settings), database: databaseDashboard(settings) };
}

/** The queries a dashboard runs, by the language they are written in. */
export interface DashboardQueries {
  promql: string[];
  logql: string[];
}

/**
 * Every query a dashboard runs, its panels' and its annotations', sorted by the datasource
 * that runs them: for checking each with that language's own tools. A query naming a
 * datasource that is not provisioned is an error.
 */
export function dashboardQueries(dashboard: Dashboard): DashboardQueries {
  const found: DashboardQueries = { promql: [], logql: [] };
  const add = (uid: string | undefined, expr: unknown, where: string) => {
    if (typeof expr !== "string") throw new Error(`${where} has no query expression`);
    if (uid === DATASOURCE_UIDS.prometheus) found.promql.push(expr);
    else if (uid === DATASOURCE_UIDS.loki) found.logql.push(expr);
    else throw new Error(`${where} queries datasource ${JSON.stringify(uid)}, which is not provisioned`);
  };
  const panels = (dashboard.panels ?? []).flatMap((panel) =>
    panel.type === "row" && "panels" in panel ? [panel, ...panel.panels] : [panel],
  );
  for (const panel of panels) {
    if (!("targets" in panel)) continue;
    for (const target of panel.targets ?? []) {
      const ref = target.datasource ?? panel.datasource;
      const uid = typeof ref === "object" && ref !== null && "uid" in ref && typeof ref.uid === "string" ? ref.uid : undefined;
      add(uid, target.expr, `panel "${panel.title}"`);
    }
  }
  for (const annotation of dashboard.annotations?.list ?? []) {
    add(annotation.datasource?.uid, "expr" in annotation ? annotation.expr : undefined, `annotation "${annotation.name}"`);
  }
  return found;
}

/** A dashboard as the JSON file the provider reads. */
export function renderDashboard(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

/** The config key the Auth0 roles that map to Grafana roles come from. */
const GRAFANA_ROLES_SETTING = "dropstack:observability.grafanaRoles";

/** Signing in to Grafana with the Auth0 tenant (Grafana's generic OAuth). */
export interface GrafanaOAuth {
  /** The tenant's domain, e.g. `example.eu.auth0.com` or a custom domain. */
  domain: string;
  /** The Auth0 application Grafana signs in as (its secret is in GRAFANA_OAUTH_CLIENT_SECRET_FILE). */
  clientId: string;
  /** The ID token claim holding the user's roles (components/identity rolesClaim). */
  rolesClaim: string;
  /** Roles that make a user a Grafana Admin (dropstack:observability.grafanaRoles.admin). */
  adminRoles: string[];
  /** Roles that make a user an Editor (grafanaRoles.editor; Admin wins when a user holds both kinds). */
  editorRoles: string[];
  /** Roles that make a user a Viewer (grafanaRoles.viewer); a user with none of the three is refused. */
  viewerRoles: string[];
}

function validateRoles(setting: string, roles: readonly string[]): void {
  for (const role of roles) {
    // Grafana's go-jmespath and other implementations disagree on backslashes inside a
    // raw string, and a quote would end it: roles are plain names, so both are refused.
    if (role === "" || /['\\]/.test(role) || controlCharacterAt(role) !== -1) {
      throw new Error(`${setting} must hold role names without quotes, backslashes or control characters, got ${JSON.stringify(role)}`);
    }
  }
}

/**
 * Grafana's role_attribute_path: a JMESPath over the ID token's claims giving Admin to a
 * holder of an admin role, else Editor to a holder of an editor role, else Viewer to a holder
 * of a viewer role, else nothing, which strict mode refuses: the tenant also holds the app's
 * own users, who must not read the dashboards and their logs. The roles
 * claim is an array the post-login Action sets; when it is missing or not an array, the
 * expression reads it as no roles (contains() on null would be an error, and Grafana would
 * log it on every login).
 */
export function grafanaRoleAttributePath(
  rolesClaim: string,
  adminRoles: readonly string[],
  editorRoles: readonly string[],
  viewerRoles: readonly string[],
): string {
  if (rolesClaim === "" || controlCharacterAt(rolesClaim) !== -1)
    throw new Error(`the roles claim must be a claim name, got ${JSON.stringify(rolesClaim)}`);
  validateRoles(`${GRAFANA_ROLES_SETTING}.admin`, adminRoles);
  validateRoles(`${GRAFANA_ROLES_SETTING}.editor`, editorRoles);
  validateRoles(`${GRAFANA_ROLES_SETTING}.viewer`, viewerRoles);
  const lists = { admin: adminRoles, editor: editorRoles, viewer: viewerRoles };
  for (const [a, b] of [
    ["admin", "editor"],
    ["admin", "viewer"],
    ["editor", "viewer"],
  ] as const) {
    const both = lists[a].filter((role) => lists[b].includes(role));
    if (both.length > 0)
      throw new Error(`${GRAFANA_ROLES_SETTING}.${a} and .${b} both name ${JSON.stringify(both[0])}; a role maps to one Grafana role`);
  }
  // A quoted identifier is a JSON string: the claim is a URL, which a bare identifier cannot be.
  const roles = `(${JSON.stringify(rolesClaim)}[*] || \`[]\`)`;
  const holdsAny = (names: readonly string[]) => `(${names.map((name) => `contains(${roles}, '${name}')`).join(" || ")})`;
  const clauses: string[] = [];
  if (adminRoles.length > 0) clauses.push(`${holdsAny(adminRoles)} && 'Admin'`);
  if (editorRoles.length > 0) clauses.push(`${holdsAny(editorRoles)} && 'Editor'`);
  if (viewerRoles.length > 0) clauses.push(`${holdsAny(viewerRoles)} && 'Viewer'`);
  clauses.push("''");
  return clauses.join(" || ");
}

function oauthEnvironment(settings: ObservabilitySettings, oauth: GrafanaOAuth): Record<string, string> {
  if (!isHostname(oauth.domain))
    throw new Error(`the Auth0 tenant domain (auth0:domain) must be a hostname, got ${JSON.stringify(oauth.domain)}`);
  if (!/^[A-Za-z0-9_-]+$/.test(oauth.clientId))
    throw new Error(`Grafana's Auth0 client ID must be one, got ${JSON.stringify(oauth.clientId)}`);
  const tenant = `https://${oauth.domain}`;
  const logout = new URL(`${tenant}/v2/logout`);
  logout.searchParams.set("client_id", oauth.clientId);
  logout.searchParams.set("returnTo", `https://${settings.monitoringHost}/login`);
  return {
    GF_AUTH_GENERIC_OAUTH_ENABLED: "true",
    GF_AUTH_GENERIC_OAUTH_NAME: "Auth0",
    GF_AUTH_GENERIC_OAUTH_CLIENT_ID: oauth.clientId,
    GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET__FILE: GRAFANA_OAUTH_CLIENT_SECRET_FILE,
    GF_AUTH_GENERIC_OAUTH_SCOPES: "openid profile email",
    GF_AUTH_GENERIC_OAUTH_AUTH_URL: `${tenant}/authorize`,
    GF_AUTH_GENERIC_OAUTH_TOKEN_URL: `${tenant}/oauth/token`,
    GF_AUTH_GENERIC_OAUTH_API_URL: `${tenant}/userinfo`,
    GF_AUTH_GENERIC_OAUTH_USE_PKCE: "true",
    // Identity's Grafana client authenticates with client_secret_post; Grafana's default
    // (auto-detect) would send the secret in a header first and fail once per start.
    GF_AUTH_GENERIC_OAUTH_AUTH_STYLE: "InParams",
    // Creates the Grafana user at a first Auth0 sign-in; users.allow_sign_up (off) is the
    // sign-up form, a different door.
    GF_AUTH_GENERIC_OAUTH_ALLOW_SIGN_UP: "true",
    GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_PATH: grafanaRoleAttributePath(
      oauth.rolesClaim,
      oauth.adminRoles,
      oauth.editorRoles,
      oauth.viewerRoles,
    ),
    // Anyone the path maps to nothing is refused. Should the roles claim go missing (the
    // post-login Action without its namespace secret), the generated admin still signs in
    // with the login form, kept for that: /login?disableAutoLogin.
    GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_STRICT: "true",
    GF_AUTH_OAUTH_AUTO_LOGIN: "true",
    // The role is set again at each sign-in, so a role removed in Auth0 is removed here.
    GF_AUTH_GENERIC_OAUTH_SKIP_ORG_ROLE_SYNC: "false",
    // Signing out of Grafana also ends the Auth0 session; otherwise "Sign in" would let the
    // same user straight back in.
    GF_AUTH_SIGNOUT_REDIRECT_URL: logout.toString(),
  };
}

/**
 * Grafana's environment: served by nginx at https://<monitoringHost>/, nothing sent to
 * grafana.com, no anonymous access and no sign-up form, the admin password from its file.
 * With `oauth`, users sign in with the Auth0 tenant and the login form is gone. The admin
 * password is only read when Grafana first creates its database: changing the file later
 * does not change the password (`grafana cli admin reset-admin-password` does).
 */
export function grafanaEnvironment(settings: ObservabilitySettings, oauth?: GrafanaOAuth): Record<string, string> {
  if (!isHostname(settings.monitoringHost))
    throw new Error(`dropstack:hosts.monitoring must be a hostname, got ${JSON.stringify(settings.monitoringHost)}`);
  return {
    GF_SERVER_PROTOCOL: "http",
    GF_SERVER_HTTP_PORT: String(SERVICES.grafana.port),
    GF_SERVER_DOMAIN: settings.monitoringHost,
    GF_SERVER_ROOT_URL: `https://${settings.monitoringHost}/`,
    GF_SERVER_SERVE_FROM_SUB_PATH: "false",
    GF_PATHS_PROVISIONING: CONFIG_PATHS.grafanaProvisioning,
    GF_SECURITY_ADMIN_USER: "admin",
    GF_SECURITY_ADMIN_PASSWORD__FILE: GRAFANA_ADMIN_PASSWORD_FILE,
    // Browsers only reach Grafana over https (nginx), so its cookies never need plain http.
    GF_SECURITY_COOKIE_SECURE: "true",
    // Gravatar would learn a hash of every user's email address.
    GF_SECURITY_DISABLE_GRAVATAR: "true",
    GF_ANALYTICS_REPORTING_ENABLED: "false",
    GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
    GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: "false",
    GF_NEWS_NEWS_FEED_ENABLED: "false",
    // An external snapshot would publish a dashboard's data on a third-party server.
    GF_SNAPSHOTS_EXTERNAL_ENABLED: "false",
    GF_AUTH_ANONYMOUS_ENABLED: "false",
    GF_USERS_ALLOW_SIGN_UP: "false",
    GF_USERS_ALLOW_ORG_CREATE: "false",
    GF_USERS_AUTO_ASSIGN_ORG_ROLE: "Viewer",
    GF_LOG_MODE: "console",
    ...(oauth === undefined ? {} : oauthEnvironment(settings, oauth)),
  };
}
