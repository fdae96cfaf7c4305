// The proxy's tunable limits and their stated bounds, shared by the config schema (exit 2
// naming the key) and the renderer, so a value nginx cannot represent never reaches a deploy.

/** `proxy.*` stack config. */
export interface ProxySettings {
  /** Sustained requests per second allowed per client IP (nginx `limit_req_zone … rate=`). */
  rateLimit: number;
  /** Requests above the rate let through at once before answering 429 (`limit_req … burst=`). */
  burst: number;
  /** Largest request body, in nginx size syntax: `10m`, `512k`, `1g`, bytes. */
  maxBodySize: string;
}

export const DEFAULT_PROXY_SETTINGS: Readonly<ProxySettings> = Object.freeze({ rateLimit: 10, burst: 20, maxBodySize: "10m" });

export interface ProxySettingsProblem {
  setting: keyof ProxySettings;
  message: string;
}

/** `client_max_body_size` syntax; 0 (nginx's "no limit") is refused on purpose. */
const NGINX_SIZE = /^([1-9][0-9]*)([kKmMgG]?)$/;
/** Upper bound of rateLimit (requests/s per client IP) and burst (requests). */
export const MAX_RATE = 100000;
/** Upper bound of maxBodySize: 1g. Larger uploads belong in object storage, not through the proxy. */
export const MAX_BODY_BYTES = 1024 ** 3;
const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Bytes of an nginx size like `10m`, or undefined when it is not one. */
export function nginxSizeBytes(value: string): number | undefined {
  const match = NGINX_SIZE.exec(value);
  return match ? Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()] : undefined;
}

/**
 * Every problem with proxy settings, each naming its setting (prefix `dropstack:proxy.` for
 * a config error). An empty list means renderNginxConf accepts them.
 */
export function validateProxySettings(settings: Partial<ProxySettings>): ProxySettingsProblem[] {
  const problems: ProxySettingsProblem[] = [];
  const { rateLimit, burst, maxBodySize } = settings;
  if (rateLimit !== undefined && !(Number.isInteger(rateLimit) && rateLimit >= 1 && rateLimit <= MAX_RATE)) {
    problems.push({
      setting: "rateLimit",
      message: `must be a whole number of requests per second from 1 to ${MAX_RATE}, got ${JSON.stringify(rateLimit)}`,
    });
  }
  if (burst !== undefined && !(Number.isInteger(burst) && burst >= 0 && burst <= MAX_RATE)) {
    problems.push({ setting: "burst", message: `must be a whole number of requests from 0 to ${MAX_RATE}, got ${JSON.stringify(burst)}` });
  }
  if (maxBodySize !== undefined) {
    const bytes = typeof maxBodySize === "string" ? nginxSizeBytes(maxBodySize) : undefined;
    if (bytes === undefined)
      problems.push({
        setting: "maxBodySize",
        message: `expected an nginx size like 10m, 512k or 1g (not 0), got ${JSON.stringify(maxBodySize)}`,
      });
    else if (bytes > MAX_BODY_BYTES)
      problems.push({ setting: "maxBodySize", message: `must be 1 byte to 1g, got ${JSON.stringify(maxBodySize)}` });
  }
  return problems;
}

/**
 * First path segments that belong to the app's API or its sign-in flow. The health path
 * is exempt from rate limiting and access logs (an exact `location =`), so it must not
 * be one of those routes: exempting `/` or `/auth/login` would open them to brute force.
 */
export const RESERVED_ROUTE_PREFIXES = [
  "api",
  "auth",
  "oauth",
  "oauth2",
  "login",
  "logout",
  "signin",
  "signout",
  "signup",
  "callback",
  "token",
  "admin",
  "graphql",
  "v1",
  "v2",
  "v3",
  ".well-known",
  "static",
  "assets",
] as const;

/** Why a health path is not a dedicated path, or undefined when it is. */
export function describeHealthPathProblem(path: string): string | undefined {
  const shown = JSON.stringify(path);
  if (path === "/") return `"/" is the whole site; the health path skips rate limiting and logging, so use a dedicated path like /health`;
  if (!/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(path)) {
    return `expected a path like /health (segments of letters, digits and ._~-, no trailing slash), got ${shown}`;
  }
  const segments = path.slice(1).split("/");
  if (segments.some((s) => s === "." || s === "..")) return `${shown} has a . or .. segment; nginx would match a different path`;
  const first = segments[0].toLowerCase();
  if ((RESERVED_ROUTE_PREFIXES as readonly string[]).includes(first)) {
    return `${shown} is under /${first}, one of the app's API or sign-in routes; the health path skips rate limiting and logging, so use a dedicated path like /health`;
  }
  return undefined;
}
