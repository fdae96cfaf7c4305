// The Auth0 post-login Action (components/identity/post-login.js) as the tests run it: loaded
// with require, or evaluated the way Auth0 runs it, as a script in a fresh VM context, and
// called with event and api doubles that follow Auth0's documented post-login objects
// (auth0.com/docs/customize/actions/explore-triggers/signup-and-login-triggers/login-trigger/
// post-login-event-object and .../post-login-api-object).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { basename } from "node:path";
import vm from "node:vm";
import { CLAIM_NAMESPACE_SECRET, POST_LOGIN_ACTION_PATH, readPostLoginActionCode } from "../../components/identity/action";

export type PostLoginHandler = (event: unknown, api: unknown) => Promise<void>;

/** A post-login Action's file: post-login.js unless told (mfa-opt-in.js is one too). */
export interface ActionFile {
  path: string;
  code: () => string;
}

const POST_LOGIN_ACTION: ActionFile = { path: POST_LOGIN_ACTION_PATH, code: readPostLoginActionCode };

export function loadWithRequire(action: ActionFile = POST_LOGIN_ACTION): PostLoginHandler {
  const load = createRequire(__filename);
  return (load(action.path) as { onExecutePostLogin: PostLoginHandler }).onExecutePostLogin;
}

/**
 * The Action in a fresh VM context that has nothing but `exports`, `module` and `globals`.
 * With `withRuntime`, the context also gets the runtime services Auth0's node22 runtime has
 * and the Action may use, console, fetch and AbortSignal, passed through to this process's at
 * the time of the call, so a test's mock of any of them reaches the Action in both ways of
 * loading.
 */
export function loadInFreshContext(options: { withRuntime?: boolean; action?: ActionFile } = {}): PostLoginHandler {
  const action = options.action ?? POST_LOGIN_ACTION;
  const module = { exports: {} as Record<string, unknown> };
  const runtime = options.withRuntime
    ? {
        console: { log: (...args: unknown[]) => console.log(...args) },
        fetch: (...args: Parameters<typeof fetch>) => globalThis.fetch(...args),
        get AbortSignal() {
          return globalThis.AbortSignal;
        },
      }
    : {};
  const context = vm.createContext({ module, exports: module.exports, ...runtime });
  vm.runInContext(action.code(), context, { filename: basename(action.path) });
  const handler = module.exports.onExecutePostLogin;
  assert.equal(typeof handler, "function", "the Action exports onExecutePostLogin");
  return handler as PostLoginHandler;
}

export const NAMESPACE = "https://api.example.com";

/** event.user of the example events, a fresh copy each time: a verified database user. */
export function exampleUser(): Record<string, unknown> {
  return {
    app_metadata: {},
    email: "ada@example.com",
    email_verified: true,
    user_id: "auth0|0000000000000001",
    user_metadata: {},
  };
}

/** A post-login event shaped like Auth0's documented one. */
export function loginEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    authorization: { roles: ["admin", "editor"] },
    client: { client_id: "spa-client-id", metadata: {}, name: "Example SPA" },
    connection: { id: "con_0000000000000001", name: "Username-Password-Authentication", strategy: "auth0" },
    request: {
      body: {},
      geoip: { countryCode: "DE" },
      hostname: "example.eu.auth0.com",
      ip: "203.0.113.10",
      language: "en",
      method: "GET",
      query: { audience: NAMESPACE, scope: "openid profile" },
      user_agent: "Mozilla/5.0",
    },
    resource_server: { identifier: NAMESPACE },
    secrets: { [CLAIM_NAMESPACE_SECRET]: NAMESPACE },
    stats: { logins_count: 3 },
    tenant: { id: "example" },
    transaction: { protocol: "oidc-basic-profile", requested_scopes: ["openid", "profile"] },
    user: exampleUser(),
    ...overrides,
  };
}

/** Auth0's documented cache limits for Actions: keys up to 64 bytes, string values up to 4 KB, 24 hours at most. */
export const ACTION_CACHE_LIMITS = { keyBytes: 64, valueBytes: 4096, lifetimeMs: 24 * 3600 * 1000 } as const;

/**
 * `api.cache` as documented: `get(key)` gives a record `{value, expires_at}` or undefined,
 * `set(key, value, {ttl | expires_at})` stores a string and answers `{type: "success"}`, or
 * `{type: "error", code}` for what breaks the documented limits; `delete(key)`. The clock is
 * the test's (`now`), so expiry can be tried without waiting.
 */
export class ActionCache {
  readonly records = new Map<string, { value: string; expires_at: number }>();
  readonly writes: { key: string; value: unknown; options: { ttl?: number; expires_at?: number } | undefined }[] = [];
  readonly deletes: string[] = [];
  now = Date.now();

  get(key: string): { value: string; expires_at: number } | undefined {
    const record = this.records.get(key);
    if (record && record.expires_at <= this.now) this.records.delete(key);
    return this.records.get(key);
  }

  set(key: string, value: unknown, options?: { ttl?: number; expires_at?: number }) {
    this.writes.push({ key, value, options });
    if (typeof value !== "string") return { type: "error", code: "INVALID_VALUE" };
    if (Buffer.byteLength(key) > ACTION_CACHE_LIMITS.keyBytes) return { type: "error", code: "KEY_TOO_LARGE" };
    if (Buffer.byteLength(value) > ACTION_CACHE_LIMITS.valueBytes) return { type: "error", code: "VALUE_TOO_LARGE" };
    const lifetime = Math.min(
      options?.ttl ?? ACTION_CACHE_LIMITS.lifetimeMs,
      options?.expires_at !== undefined ? options.expires_at - this.now : Infinity,
      ACTION_CACHE_LIMITS.lifetimeMs,
    );
    this.records.set(key, { value, expires_at: this.now + lifetime });
    return { type: "success" };
  }

  delete(key: string) {
    this.deletes.push(key);
    return this.records.delete(key) ? { type: "success" } : { type: "error", code: "NOT_FOUND" };
  }
}

/**
 * A post-login api double that records what the Action asks for. Claim values go through
 * JSON as they do on their way into a JWT, which also makes values from the VM realm
 * comparable here.
 */
export function recordingApi(cache = new ActionCache()) {
  const idToken: Record<string, unknown> = {};
  const accessToken: Record<string, unknown> = {};
  const denials: string[] = [];
  const toJwtValue = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;
  const api = {
    access: { deny: (reason: string) => (denials.push(reason), api) },
    accessToken: {
      setCustomClaim: (name: string, value: unknown) => ((accessToken[name] = toJwtValue(value)), api),
      addScope: () => api,
      removeScope: () => api,
    },
    cache,
    idToken: { setCustomClaim: (name: string, value: unknown) => ((idToken[name] = toJwtValue(value)), api) },
    user: { setAppMetadata: () => api, setUserMetadata: () => api },
  };
  return { api, idToken, accessToken, denials, cache };
}

export async function runAction(handler: PostLoginHandler, event: Record<string, unknown>, cache?: ActionCache) {
  const recorded = recordingApi(cache);
  await handler(event, recorded.api);
  return recorded;
}
