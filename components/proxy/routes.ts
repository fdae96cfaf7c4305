// Which service answers which path on which host (dropstack:proxy.routes), and the locations
// that pass the requests on: the api and HTTP workers proxied, WebSockets included; the
// frontend with the caching and the client-side-route fallback of a single-page app.
import { WORKER_NAME } from "../common/patterns";
import { block } from "./block";
import { rateLimited } from "./rate-limit";
import { type ForwardedProto, type UpstreamMode, type UpstreamTimeouts, proxyToService } from "./upstream";

export const API_SERVICE = "api";
export const FRONTEND_SERVICE = "frontend";
const WORKER_PREFIX = "worker:";

/** The route service of an app worker that serves HTTP (dropstack:app.workers[].port). */
export function workerService(name: string): string {
  return `${WORKER_PREFIX}${name}`;
}

/** A service a route may name: `api`, `frontend` or `worker:<name>`. */
export function isRouteService(service: string): boolean {
  return service === API_SERVICE || service === FRONTEND_SERVICE || WORKER_NAME.test(workerOfService(service) ?? "");
}

/** The worker's name in a `worker:<name>` service, or undefined for another service. */
export function workerOfService(service: string): string | undefined {
  return service.startsWith(WORKER_PREFIX) ? service.slice(WORKER_PREFIX.length) : undefined;
}

/** A path prefix on a host, answered by a service. */
export interface ProxyRoute {
  host: string;
  /** `/`, or a prefix like `/api`: it matches `/api` and everything under `/api/`, never `/apiary`. */
  path: string;
  /** `api`, `frontend`, or `worker:<name>`. */
  service: string;
  /** Pass `/api/users` on as `/users`: for a service that does not know its prefix. */
  stripPrefix?: boolean;
}

const SEGMENT = "[A-Za-z0-9._~-]+";
const ROUTE_PATH = new RegExp(`^/(?:${SEGMENT}(?:/${SEGMENT})*)?$`);

/** Why `path` cannot be a route's prefix, or undefined when it can. */
export function describeRoutePathProblem(path: unknown): string | undefined {
  const shown = JSON.stringify(path);
  if (typeof path !== "string" || !ROUTE_PATH.test(path))
    return `expected / or a path prefix like /api (segments of letters, digits and ._~-, no trailing slash), got ${shown}`;
  if (path.split("/").some((segment) => segment === "." || segment === ".."))
    return `${shown} has a . or .. segment; nginx would match a different path`;
  return undefined;
}

/**
 * The host's routes, longest prefix first, ending with `/` → `fallback` when no route claims `/`:
 * a host always answers every path.
 */
export function routesOfHost(routes: readonly ProxyRoute[], host: string, fallback: string): ProxyRoute[] {
  const own = routes.filter((route) => route.host === host);
  const all = own.some((route) => route.path === "/") ? own : [...own, { host, path: "/", service: fallback }];
  return [...all].sort((a, b) => b.path.length - a.path.length || a.path.localeCompare(b.path));
}

export interface LocationContext {
  mode: UpstreamMode;
  burst: number;
  /** The server's add_header lines: a location with an add_header of its own must repeat them. */
  securityHeaders: string[];
  timeouts: UpstreamTimeouts;
  /** X-Forwarded-Proto for the services. Default `$scheme`. */
  forwardedProto?: ForwardedProto;
}

/** Text types worth compressing; nginx always compresses text/html once gzip is on. */
export const GZIP_TYPES = [
  "text/css",
  "text/plain",
  "text/xml",
  "application/javascript",
  "text/javascript",
  "application/json",
  "application/manifest+json",
  "application/xml",
  "image/svg+xml",
];
/** Content-hashed files never change: the year browsers cap max-age at, and no revalidation. */
export const IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable";
/** index.html and other unhashed files: kept, but revalidated on every use, so a deploy shows at once. */
export const REVALIDATE_CACHE_CONTROL = "no-cache";

/** The location blocks of route number `index` on its server. */
export function routeLocations(route: ProxyRoute, index: number, context: LocationContext): string[] {
  const prefix = route.path;
  const stripped = route.stripPrefix === true && prefix !== "/";
  const strip = stripped ? [`rewrite ^${regexLiteral(prefix)}/?(.*)$ /$1 break;`] : [];
  const matches = prefix === "/" ? ["/"] : [`= ${prefix}`, `^~ ${prefix}/`];
  if (route.service === FRONTEND_SERVICE) return frontendLocations(route, index, context, matches, strip, stripped);

  const webSocket = `@websocket_${index}`;
  const proxied = [rateLimited(context.burst), ...strip, ...proxyToService(route.service, context.mode, false, context.forwardedProto)];
  return [
    ...matches.map((match) =>
      block(`location ${match}`, [
        // `if` with `return` is the one safe use of `if` in a location: an upgrade request goes
        // to the named location, the one place with WebSocket headers and long timeouts.
        'if ($http_upgrade ~* "^websocket$") {',
        "    return 418;",
        "}",
        `error_page 418 = ${webSocket};`,
        ...proxied,
      ]),
    ),
    block(`location ${webSocket}`, [
      rateLimited(context.burst),
      ...strip,
      ...proxyToService(route.service, context.mode, true, context.forwardedProto),
      `proxy_read_timeout ${context.timeouts.webSocketRead}s;`,
      `proxy_send_timeout ${context.timeouts.webSocketSend}s;`,
    ]),
  ];
}

function frontendLocations(
  route: ProxyRoute,
  index: number,
  context: LocationContext,
  matches: string[],
  strip: string[],
  stripped: boolean,
): string[] {
  const fallback = `@spa_${index}`;
  const base = route.path === "/" ? "" : route.path;
  // The upstream's own caching headers give way to the two rules here.
  // `always` only for no-cache: a year-long immutable 404 for a missing hashed file would outlive its fix.
  const cached = (cacheControl: string) => [
    ...proxyToService(FRONTEND_SERVICE, context.mode, false, context.forwardedProto),
    "proxy_hide_header Cache-Control;",
    "proxy_hide_header Expires;",
    ...context.securityHeaders,
    `add_header Cache-Control "${cacheControl}"${cacheControl === IMMUTABLE_CACHE_CONTROL ? "" : " always"};`,
  ];
  const hashed = (match: string) =>
    block(`location ${match}`, [
      ...strip,
      // A missing hashed file is a 404, never index.html: the HTML would be cached for a year as the asset.
      "proxy_intercept_errors off;",
      ...cached(IMMUTABLE_CACHE_CONTROL),
    ]);
  const gzip = ["gzip on;", "gzip_vary on;", "gzip_proxied any;", `gzip_types ${GZIP_TYPES.join(" ")};`];
  return [
    ...matches.map((match) =>
      block(`location ${match}`, [
        // No rate limit: a page load fetches dozens of files, and serving them is cheap.
        ...gzip,
        ...strip,
        ...cached(REVALIDATE_CACHE_CONTROL),
        "# A path the frontend has no file for is a client-side route: the app's index.html answers it.",
        "proxy_intercept_errors on;",
        `error_page 404 = ${fallback};`,
        ...(match.startsWith("=")
          ? []
          : [
              "# Content-hashed files: /assets/ (Vite) and name.<hex hash>.ext (webpack).",
              hashed(`^~ ${base}/assets/`),
              hashed('~ "\\.[0-9a-f]{8,}\\.[A-Za-z0-9]+$"'),
            ]),
      ]),
    ),
    block(`location ${fallback}`, [...gzip, `rewrite ^ ${stripped ? "" : base}/index.html break;`, ...cached(REVALIDATE_CACHE_CONTROL)]),
  ];
}

/** `path` as a PCRE literal: route paths hold no regex syntax but `.`. */
function regexLiteral(path: string): string {
  return path.replace(/\./g, "\\.");
}
