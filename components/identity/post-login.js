// Auth0 post-login Action, uploaded unchanged as the Action's code for the
// node22 runtime. It adds the user's roles to the ID token and the access token under the
// namespaced claim `<CLAIM_NAMESPACE>/roles`. A user who holds no role gets the DEFAULT_ROLE
// secret's role there instead and, when the Action has a Management API client of its own
// (AUTH0_DOMAIN, MANAGEMENT_CLIENT_ID, MANAGEMENT_CLIENT_SECRET), is also assigned that role
// once, so the tenant's records match the tokens.
//
// Plain JavaScript with no require and no globals beyond `exports`: Auth0 runs it as-is, and
// test/unit/post-login.test.ts evaluates it in an empty VM context to prove that. The only
// runtime services it uses, fetch and AbortSignal (for the requests' deadline), are read from
// `globalThis` where the assignment needs them, so a runtime without them skips the
// assignment instead of failing the login.
//
// When the CLAIM_NAMESPACE secret is missing or blank, no claim is set and the login goes
// on: an un-namespaced `roles` claim is one Auth0 rejects or strips, and a token without
// roles grants the least privilege, whereas denying the login would lock every user out
// over a deployment mistake. The Action log says why the roles are missing.

// Auth0 ends a flow after 20 s. The token request, the role lookup and the assignment share
// this budget, so a slow Management API delays a first login by at most this much.
const MANAGEMENT_API_BUDGET_MS = 5000;
// A cached Management API token is dropped this long before it expires, so it is never sent
// in its last seconds; Auth0 keeps cache entries for 24 hours at most.
const TOKEN_EXPIRY_MARGIN_S = 60;
const CACHE_MAX_LIFETIME_MS = 24 * 3600 * 1000;
// Auth0's cache keys are at most 64 bytes; a client ID is 32 characters.
const TOKEN_CACHE_PREFIX = "dropstack-management-token:";

/**
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
  const secrets = (event && event.secrets) || {};
  // event.authorization is documented as optional.
  const authorization = event && event.authorization;
  const held = authorization && Array.isArray(authorization.roles) ? authorization.roles.slice() : [];
  const defaultRole = secretText(secrets, "DEFAULT_ROLE");
  const needsDefault = held.length === 0 && defaultRole !== "";
  const roles = needsDefault ? [defaultRole] : held;

  // A namespace given as `https://api.example.com/` must not yield `…com//roles`.
  const namespace = secretText(secrets, "CLAIM_NAMESPACE").replace(/\/+$/, "");
  if (namespace === "") {
    console.log("dropstack post-login: the CLAIM_NAMESPACE secret is not set; no roles claim added");
  } else {
    const claim = `${namespace}/roles`;
    api.idToken.setCustomClaim(claim, roles);
    api.accessToken.setCustomClaim(claim, roles);
  }

  // Only a user without roles is assigned one: a user who holds any role (the default one
  // included, from an earlier login) causes no Management API call at all.
  if (needsDefault) await assignDefaultRole(event, api, secrets, defaultRole);
};

/** A secret's value, trimmed; "" when it is missing or not text. */
function secretText(secrets, name) {
  return typeof secrets[name] === "string" ? secrets[name].trim() : "";
}

/**
 * Assigns `role` to the user through the Management API, when the Action has a client for it.
 *
 * It never throws and never denies the login: the tokens already carry the default role, and
 * an unassigned user is tried again at the next login (assigning a role the user already
 * holds is harmless on Auth0's side), whereas failing the login would lock new users out
 * whenever the Management API is slow, down or rate-limited. The failure goes to the Action log.
 */
async function assignDefaultRole(event, api, secrets, role) {
  const domain = secretText(secrets, "AUTH0_DOMAIN");
  const clientId = secretText(secrets, "MANAGEMENT_CLIENT_ID");
  const clientSecret = secretText(secrets, "MANAGEMENT_CLIENT_SECRET");
  const given = { AUTH0_DOMAIN: domain, MANAGEMENT_CLIENT_ID: clientId, MANAGEMENT_CLIENT_SECRET: clientSecret };
  const missing = Object.keys(given).filter((name) => given[name] === "");
  // None of them: the default role lives in the tokens only, by design.
  if (missing.length === 3) return;
  const skip = (why) => console.log(`dropstack post-login: default role "${role}" not assigned: ${why}`);
  if (missing.length > 0) return skip(`the ${missing.join(", ")} secret(s) are not set`);
  const origin = managementOrigin(domain);
  if (origin === undefined) return skip("AUTH0_DOMAIN is not a host name like acme.eu.auth0.com");
  const userId = event && event.user && typeof event.user.user_id === "string" ? event.user.user_id : "";
  if (userId === "") return skip("the event has no user_id");
  const fetch = globalThis.fetch;
  if (typeof fetch !== "function") return skip("this runtime has no fetch");
  // Without a deadline a hanging request would outlast the flow's 20 s and fail the login.
  const abortSignal = globalThis.AbortSignal;
  if (!abortSignal || typeof abortSignal.timeout !== "function") return skip("this runtime has no AbortSignal.timeout");
  const signal = abortSignal.timeout(MANAGEMENT_API_BUDGET_MS);

  const client = { fetch, origin, signal, api, cacheKey: (TOKEN_CACHE_PREFIX + clientId).slice(0, 64) };
  let step = "the Management API token request";
  try {
    const token = await managementToken(client, { domain, clientId, clientSecret });
    step = `the lookup of role "${role}"`;
    const roleId = await roleIdByName(client, token, role);
    step = "the role assignment";
    await call(client, token, "POST", `/api/v2/users/${encodeURIComponent(userId)}/roles`, { roles: [roleId] });
    console.log(`dropstack post-login: assigned default role "${role}" to ${userId}`);
  } catch (error) {
    skip(`${step} failed (${describeFailure(error)}); the tokens carry it, and the next login tries again`);
  }
}

/**
 * The scheme and host of the tenant's endpoints. Always https, except for a loopback address
 * (127.0.0.0/8 or [::1], with an optional port), which never leaves the machine it runs on:
 * only tests point the Action there. Anything but a bare host[:port] is refused, so a secret
 * cannot smuggle a path, credentials or another scheme into the URLs.
 */
function managementOrigin(domain) {
  const host = domain.toLowerCase();
  const named = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?::\d{1,5})?$/;
  const bracketed = /^\[[0-9a-f:.]+\](?::\d{1,5})?$/;
  if (!named.test(host) && !bracketed.test(host)) return undefined;
  const address = host.replace(/:\d{1,5}$/, "");
  const loopback = /^127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(address) || address === "[::1]";
  return `${loopback ? "http" : "https"}://${host}`;
}

/** A Management API access token: from the Action's cache, else by the client-credentials grant. */
async function managementToken(client, credentials) {
  const cached = cacheRead(client.api, client.cacheKey);
  if (cached !== undefined) return cached;
  const response = await client.fetch(`${client.origin}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      grant_type: "client_credentials",
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
      // The audience names the tenant's Management API; it is https whatever the transport.
      audience: `https://${credentials.domain.toLowerCase()}/api/v2/`,
    }),
    signal: client.signal,
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const body = await response.json();
  if (!body || typeof body.access_token !== "string" || body.access_token === "") throw new Error("no access_token in the answer");
  cacheWrite(client.api, client.cacheKey, body.access_token, body.expires_in);
  return body.access_token;
}

/** The ID of the role named exactly `role`: name_filter is a case-insensitive filter, not an exact match. */
async function roleIdByName(client, token, role) {
  const found = await call(client, token, "GET", `/api/v2/roles?name_filter=${encodeURIComponent(role)}`);
  const roles = Array.isArray(found) ? found : found && Array.isArray(found.roles) ? found.roles : [];
  const match = roles.find((candidate) => candidate && candidate.name === role && typeof candidate.id === "string");
  if (!match) throw new Error(`the tenant has no role named "${role}"`);
  return match.id;
}

/** One Management API request with the bearer token; the parsed JSON answer, if any. */
async function call(client, token, method, path, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await client.fetch(`${client.origin}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: client.signal,
  });
  if (!response.ok) {
    // A rejected token (expired early, or its client's grant changed) is not offered again.
    if (response.status === 401) cacheDelete(client.api, client.cacheKey);
    throw new Error(`HTTP ${response.status}`);
  }
  const text = await response.text();
  return text === "" ? undefined : JSON.parse(text);
}

/** The cache holds only an optimisation: any trouble with it means a fresh token, never a failed login. */
function cacheRead(api, key) {
  try {
    const record = api && api.cache && typeof api.cache.get === "function" ? api.cache.get(key) : undefined;
    return record && typeof record.value === "string" && record.value !== "" ? record.value : undefined;
  } catch {
    return undefined;
  }
}

function cacheWrite(api, key, token, expiresInSeconds) {
  if (!(api && api.cache && typeof api.cache.set === "function")) return;
  if (typeof expiresInSeconds !== "number" || !(expiresInSeconds > TOKEN_EXPIRY_MARGIN_S)) return;
  const ttl = Math.min((expiresInSeconds - TOKEN_EXPIRY_MARGIN_S) * 1000, CACHE_MAX_LIFETIME_MS);
  try {
    api.cache.set(key, token, { ttl });
  } catch {
    // Not cached: the next login asks for a token again.
  }
}

function cacheDelete(api, key) {
  try {
    if (api && api.cache && typeof api.cache.delete === "function") api.cache.delete(key);
  } catch {
    // Nothing cached to forget.
  }
}

/** Why a request failed, without the request itself (its body holds the client secret). */
function describeFailure(error) {
  if (error && (error.name === "TimeoutError" || error.name === "AbortError")) return `no answer within ${MANAGEMENT_API_BUDGET_MS} ms`;
  return error && typeof error.message === "string" ? error.message : String(error);
}
