// The post-login Action's default role (auth0.defaultRole): users who hold no role get it in
// their tokens, and with the Action's own management client they are assigned it through
// the Management API, here a local stand-in of the tenant on 127.0.0.1
// (test/support/auth0-stand-in.ts). The Action runs loaded with require and in a fresh VM
// context that has only exports, module and the runtime's console, fetch and AbortSignal.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it, type TestContext } from "node:test";
import { Auth0StandIn, StandInStep } from "../support/auth0-stand-in";
import {
  ACTION_CACHE_LIMITS,
  ActionCache,
  NAMESPACE,
  PostLoginHandler,
  loadInFreshContext,
  loadWithRequire,
  loginEvent,
  runAction,
} from "../support/post-login";
import { seededRandom } from "../support/random";

const CLAIM = `${NAMESPACE}/roles`;
const CLIENT_ID = "PostLoginManagementClientId00001";
const CLIENT_SECRET = "post-login-management-client-secret-0123456789abcdefghijklmnopqrs";
// name_filter matches any part of a name in any case, so the lookup sees all of these for "guest".
const TENANT_ROLES = [
  { id: "rol_Guest000000000001", name: "guest", description: "guest (managed by dropstack)" },
  { id: "rol_Guestbook00000001", name: "guestbook" },
  { id: "rol_GuestUpper0000001", name: "Guest" },
  { id: "rol_Admin000000000001", name: "super_admin" },
];
const GUEST_ID = "rol_Guest000000000001";

const loaders: [string, () => PostLoginHandler][] = [
  ["loaded with require", loadWithRequire],
  ["in a fresh VM context with only exports, module, console, fetch and AbortSignal", () => loadInFreshContext({ withRuntime: true })],
];

let standIn: Auth0StandIn;
before(async () => {
  standIn = await Auth0StandIn.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, roles: TENANT_ROLES });
});
after(() => standIn.close());
beforeEach(() => standIn.reset());

/** The Action's secrets with its management client pointed at the stand-in. */
function assigning(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    CLAIM_NAMESPACE: NAMESPACE,
    DEFAULT_ROLE: "guest",
    AUTH0_DOMAIN: standIn.domain,
    MANAGEMENT_CLIENT_ID: CLIENT_ID,
    MANAGEMENT_CLIENT_SECRET: CLIENT_SECRET,
    ...overrides,
  };
}

/** A login of a user without roles. */
function roleless(secrets: Record<string, unknown>, userId = "auth0|0000000000000001"): Record<string, unknown> {
  const base = loginEvent();
  return loginEvent({ authorization: { roles: [] }, secrets, user: { ...(base.user as object), user_id: userId } });
}

/** What the Action logs, line by line. */
function captureLog(t: TestContext): () => string[] {
  const log = t.mock.method(console, "log", () => undefined);
  return () => log.mock.calls.map((call) => String(call.arguments[0]));
}

function randomRoles(random: (n: number) => number): string[] {
  const names = ["super_admin", "doctor", "nurse", "pharmacist", "guest", "viewer", "billing-clerk", "r2"];
  return names.filter(() => random(3) === 0).slice(0, 1 + random(3));
}

for (const [how, load] of loaders) {
  describe(`default role, Action ${how}`, () => {
    const onExecutePostLogin = load();

    it("keeps the roles of a user who holds any, adds no default and calls nothing", async (t) => {
      const lines = captureLog(t);
      const random = seededRandom(18);
      const cases = [["admin"], ["guest"], ["nurse", "doctor"], ...Array.from({ length: 20 }, () => randomRoles(random))].filter(
        (roles) => roles.length > 0,
      );
      for (const roles of cases) {
        const { idToken, accessToken, denials } = await runAction(
          onExecutePostLogin,
          loginEvent({ authorization: { roles }, secrets: assigning() }),
        );
        assert.deepEqual(idToken, { [CLAIM]: roles }, JSON.stringify(roles));
        assert.deepEqual(accessToken, { [CLAIM]: roles });
        assert.deepEqual(denials, []);
      }
      assert.deepEqual(standIn.requests, [], "a user with roles costs no Management API call");
      assert.deepEqual(lines(), []);
    });

    it("gives a user without roles the default role in both tokens, without a management client calling nothing", async (t) => {
      const lines = captureLog(t);
      const fetchMock = t.mock.method(globalThis, "fetch", () => Promise.reject(new Error("no request expected")));
      for (const defaultRole of ["guest", "viewer", "read-only_1", " guest "]) {
        for (const authorization of [{ roles: [] }, undefined, null, {}, { roles: "admin" }]) {
          const event = loginEvent({ authorization, secrets: { CLAIM_NAMESPACE: NAMESPACE, DEFAULT_ROLE: defaultRole } });
          const { idToken, accessToken, denials } = await runAction(onExecutePostLogin, event);
          const expected = { [CLAIM]: [defaultRole.trim()] };
          assert.deepEqual(idToken, expected, `${JSON.stringify(defaultRole)}, authorization ${JSON.stringify(authorization)}`);
          assert.deepEqual(accessToken, expected);
          assert.deepEqual(denials, []);
        }
      }
      assert.equal(fetchMock.mock.callCount(), 0);
      assert.deepEqual(lines(), [], "the token-only default role is not worth a log line");
    });

    it("gives a user without roles an empty list when no default role is set", async () => {
      for (const secrets of [
        { CLAIM_NAMESPACE: NAMESPACE },
        { CLAIM_NAMESPACE: NAMESPACE, DEFAULT_ROLE: "" },
        { CLAIM_NAMESPACE: NAMESPACE, DEFAULT_ROLE: "  " },
        { CLAIM_NAMESPACE: NAMESPACE, DEFAULT_ROLE: 7 },
      ]) {
        const { idToken, accessToken } = await runAction(onExecutePostLogin, loginEvent({ authorization: { roles: [] }, secrets }));
        assert.deepEqual(idToken, { [CLAIM]: [] }, JSON.stringify(secrets));
        assert.deepEqual(accessToken, { [CLAIM]: [] });
      }
      assert.deepEqual(standIn.requests, []);
    });

    it("assigns the default role with exactly the documented token, lookup and assignment requests", async (t) => {
      const lines = captureLog(t);
      const userIds = [
        "auth0|0000000000000001",
        "google-oauth2|104567890123456789012",
        "samlp|acme-sso|ada lovelace@example.com",
        "email|5f7c8ec7c33c6c004bbafe82",
      ];
      for (const userId of userIds) {
        standIn.reset();
        const { idToken, accessToken, denials } = await runAction(onExecutePostLogin, roleless(assigning(), userId));
        assert.deepEqual(idToken, { [CLAIM]: ["guest"] });
        assert.deepEqual(accessToken, { [CLAIM]: ["guest"] });
        assert.deepEqual(denials, []);

        const [token, lookup, assignment, ...rest] = standIn.requests;
        assert.deepEqual(rest, [], userId);
        assert.equal(token.method, "POST");
        assert.equal(token.path, "/oauth/token");
        assert.match(String(token.headers["content-type"]), /^application\/json/);
        assert.equal(token.headers.authorization, undefined);
        assert.deepEqual(token.body, {
          grant_type: "client_credentials",
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          // The Management API's identifier is https even when the transport is not.
          audience: `https://${standIn.domain}/api/v2/`,
        });

        assert.equal(lookup.method, "GET");
        assert.equal(lookup.path, "/api/v2/roles?name_filter=guest");
        assert.equal(lookup.headers.authorization, `Bearer ${standIn.accessToken}`);
        assert.equal(lookup.body, undefined);

        assert.equal(assignment.method, "POST");
        assert.equal(assignment.path, `/api/v2/users/${encodeURIComponent(userId)}/roles`);
        assert.equal(assignment.headers.authorization, `Bearer ${standIn.accessToken}`);
        assert.match(String(assignment.headers["content-type"]), /^application\/json/);
        assert.deepEqual(assignment.body, { roles: [GUEST_ID] }, "the role named exactly guest, not guestbook or Guest");

        assert.deepEqual([...standIn.assignments], [[userId, [GUEST_ID]]]);
      }
      assert.deepEqual(
        lines(),
        userIds.map((id) => `dropstack post-login: assigned default role "guest" to ${id}`),
      );
    });

    it("caches the Management API token within Auth0's cache limits, and asks again once it expired", async (t) => {
      captureLog(t);
      const cache = new ActionCache();
      await runAction(onExecutePostLogin, roleless(assigning(), "auth0|first"), cache);
      assert.equal(cache.writes.length, 1);
      const [write] = cache.writes;
      assert.equal(write.value, standIn.accessToken);
      assert.ok(Buffer.byteLength(write.key) <= ACTION_CACHE_LIMITS.keyBytes, write.key);
      const ttl = write.options?.ttl ?? 0;
      assert.ok(ttl > 0 && ttl < 86400 * 1000 && ttl <= ACTION_CACHE_LIMITS.lifetimeMs, `ttl ${ttl} is under the token's own lifetime`);
      assert.ok(!write.key.includes(CLIENT_SECRET) && !write.key.includes(standIn.accessToken));

      standIn.reset();
      await runAction(onExecutePostLogin, roleless(assigning(), "auth0|second"), cache);
      assert.deepEqual(
        standIn.requests.map((r) => `${r.method} ${r.path}`),
        ["GET /api/v2/roles?name_filter=guest", "POST /api/v2/users/auth0%7Csecond/roles"],
        "the second login reuses the token",
      );

      standIn.reset();
      cache.now += ttl;
      await runAction(onExecutePostLogin, roleless(assigning(), "auth0|third"), cache);
      assert.deepEqual(standIn.requests[0].path, "/oauth/token", "an expired entry is not used");
      assert.deepEqual([...standIn.assignments], [["auth0|third", [GUEST_ID]]]);
    });

    it("caches no token that expires within the margin", async (t) => {
      captureLog(t);
      const shortLived = await Auth0StandIn.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, roles: TENANT_ROLES, expiresIn: 60 });
      try {
        const cache = new ActionCache();
        await runAction(onExecutePostLogin, roleless(assigning({ AUTH0_DOMAIN: shortLived.domain })), cache);
        assert.deepEqual(cache.writes, []);
        assert.equal(shortLived.assignments.size, 1);
      } finally {
        await shortLived.close();
      }
    });

    it("forgets a cached token the Management API rejects, and the next login gets a fresh one", async (t) => {
      const lines = captureLog(t);
      const cache = new ActionCache();
      const key = `dropstack-management-token:${CLIENT_ID}`;
      cache.set(key, "revoked-token", { ttl: 3600_000 });
      const { idToken } = await runAction(onExecutePostLogin, roleless(assigning()), cache);
      assert.deepEqual(idToken, { [CLAIM]: ["guest"] });
      assert.deepEqual(cache.deletes, [key]);
      assert.match(lines()[0], /the lookup of role "guest" failed \(HTTP 401\)/);

      standIn.reset();
      await runAction(onExecutePostLogin, roleless(assigning()), cache);
      assert.equal(standIn.requests[0].path, "/oauth/token");
      assert.deepEqual([...standIn.assignments.values()], [[GUEST_ID]]);
    });

    it("lets the login through with the default role when a Management API step fails", async (t) => {
      const lines = captureLog(t);
      const steps: [StandInStep, string][] = [
        ["token", "the Management API token request"],
        ["roles", 'the lookup of role "guest"'],
        ["assign", "the role assignment"],
      ];
      for (const [step, named] of steps) {
        for (const status of [400, 401, 403, 404, 429, 500, 503]) {
          standIn.reset();
          standIn.failing.set(step, status);
          const { idToken, accessToken, denials } = await runAction(onExecutePostLogin, roleless(assigning()));
          assert.deepEqual(idToken, { [CLAIM]: ["guest"] }, `${step} ${status}`);
          assert.deepEqual(accessToken, { [CLAIM]: ["guest"] });
          assert.deepEqual(denials, []);
          assert.equal(standIn.assignments.size, 0);
          const line = lines().at(-1) ?? "";
          assert.equal(
            line,
            `dropstack post-login: default role "guest" not assigned: ${named} failed (HTTP ${status}); the tokens carry it, and the next login tries again`,
          );
        }
      }
      for (const line of lines()) assert.ok(!line.includes(CLIENT_SECRET) && !line.includes(standIn.accessToken), line);
    });

    it("lets the login through when the client's secret is wrong or the tenant has no such role", async (t) => {
      const lines = captureLog(t);
      const wrong = await runAction(onExecutePostLogin, roleless(assigning({ MANAGEMENT_CLIENT_SECRET: "rotated-away" })));
      assert.deepEqual(wrong.idToken, { [CLAIM]: ["guest"] });
      assert.match(lines()[0], /the Management API token request failed \(HTTP 401\)/);
      assert.ok(!lines()[0].includes("rotated-away"));

      standIn.reset();
      const missing = await runAction(onExecutePostLogin, roleless(assigning({ DEFAULT_ROLE: "gues" })));
      assert.deepEqual(missing.idToken, { [CLAIM]: ["gues"] });
      assert.match(lines()[1], /the lookup of role "gues" failed \(the tenant has no role named "gues"\)/);
      assert.deepEqual(
        standIn.requests.map((r) => r.path),
        ["/oauth/token", "/api/v2/roles?name_filter=gues"],
        "no assignment without an exact match, although name_filter matched guest and guestbook",
      );
    });

    it("gives up on a Management API that does not answer within its deadline, and the login goes on", async (t) => {
      const lines = captureLog(t);
      const realTimeout = AbortSignal.timeout.bind(AbortSignal);
      const asked: number[] = [];
      // The Action's deadline, shortened so the test does not wait for it.
      t.mock.method(AbortSignal, "timeout", (ms: number) => (asked.push(ms), realTimeout(300)));
      for (const step of ["token", "roles", "assign"] as StandInStep[]) {
        standIn.reset();
        standIn.failing.set(step, "hang");
        const started = performance.now();
        const { idToken, accessToken, denials } = await runAction(onExecutePostLogin, roleless(assigning()));
        assert.ok(performance.now() - started < 5000, `${step}: the Action waited for the hanging request`);
        assert.deepEqual(idToken, { [CLAIM]: ["guest"] }, step);
        assert.deepEqual(accessToken, { [CLAIM]: ["guest"] });
        assert.deepEqual(denials, []);
        assert.match(lines().at(-1) ?? "", /failed \(no answer within 5000 ms\)/);
      }
      assert.equal(asked.length, 3, "one deadline per login, shared by its requests");
      // Auth0 ends a flow after 20 s; the deadline leaves the rest of the login room.
      for (const ms of asked) assert.ok(ms > 0 && ms <= 10_000, `deadline ${ms} ms`);
    });

    it("assigns nothing, naming the missing secrets, when only some management secrets are set", async (t) => {
      const lines = captureLog(t);
      const names = ["AUTH0_DOMAIN", "MANAGEMENT_CLIENT_ID", "MANAGEMENT_CLIENT_SECRET"];
      for (let mask = 1; mask < 7; mask++) {
        const missing = names.filter((_, i) => (mask & (1 << i)) !== 0);
        const secrets = assigning(Object.fromEntries(missing.map((name, i) => [name, i % 2 === 0 ? undefined : " "])));
        const { idToken } = await runAction(onExecutePostLogin, roleless(secrets));
        assert.deepEqual(idToken, { [CLAIM]: ["guest"] });
        assert.equal(
          lines().at(-1),
          `dropstack post-login: default role "guest" not assigned: the ${missing.join(", ")} secret(s) are not set`,
        );
      }
      assert.deepEqual(standIn.requests, []);
      for (const line of lines()) assert.ok(!line.includes(CLIENT_SECRET) && !line.includes(CLIENT_ID), line);
    });

    it("assigns nothing to an event without a user_id", async (t) => {
      const lines = captureLog(t);
      for (const user of [undefined, {}, { user_id: "" }, { user_id: 42 }]) {
        const { idToken } = await runAction(onExecutePostLogin, loginEvent({ authorization: { roles: [] }, secrets: assigning(), user }));
        assert.deepEqual(idToken, { [CLAIM]: ["guest"] });
      }
      assert.deepEqual(standIn.requests, []);
      assert.ok(lines().every((line) => line.endsWith("not assigned: the event has no user_id")));
    });
  });
}

describe("default role assignment, Action in a VM context without fetch", () => {
  it("skips the assignment and keeps the default role in the tokens", async (t) => {
    const lines = captureLog(t);
    const onExecutePostLogin = loadInFreshContext();
    const { idToken, accessToken, denials } = await runAction(onExecutePostLogin, roleless(assigning()));
    assert.deepEqual(idToken, { [CLAIM]: ["guest"] });
    assert.deepEqual(accessToken, { [CLAIM]: ["guest"] });
    assert.deepEqual(denials, []);
    assert.deepEqual(standIn.requests, []);
    // The VM's own console is not this process's, so nothing is captured here.
    assert.deepEqual(lines(), []);
  });
});

describe("the Management API's scheme", () => {
  /** The URLs the Action asks fetch for, for an AUTH0_DOMAIN, without any network. */
  async function requestedUrls(t: TestContext, load: () => PostLoginHandler, domain: string): Promise<string[]> {
    const urls: string[] = [];
    const fetchMock = t.mock.method(globalThis, "fetch", (url: unknown) => (urls.push(String(url)), Promise.reject(new Error("offline"))));
    await runAction(load(), roleless(assigning({ AUTH0_DOMAIN: domain })));
    fetchMock.mock.restore();
    return urls;
  }

  function randomHost(random: (n: number) => number): string {
    const label = () => Array.from({ length: 1 + random(10) }, () => "abcdefghijklmnopqrstuvwxyz0123456789"[random(36)]).join("");
    const host = Array.from({ length: 2 + random(3) }, label).join(".");
    return random(4) === 0 ? `${host}:${1 + random(65535)}` : host;
  }

  for (const [how, load] of loaders) {
    it(`is https for every host that is not a loopback address (${how})`, async (t) => {
      captureLog(t);
      const random = seededRandom(443);
      const domains = [
        "acme.eu.auth0.com",
        "ACME.EU.AUTH0.COM",
        "login.example.com:8443",
        "localhost",
        "localhost:3000",
        "127.0.0.1.nip.io",
        "127-0-0-1.example.com",
        "128.0.0.1",
        "10.0.0.1:80",
        "0.0.0.0",
        "127.0.0.256",
        "[::2]:443",
        "[::ffff:127.0.0.1]",
        ...Array.from({ length: 30 }, () => randomHost(random)),
      ];
      for (const domain of domains) {
        const urls = await requestedUrls(t, load, domain);
        assert.deepEqual(urls, [`https://${domain.toLowerCase()}/oauth/token`], domain);
      }
    });

    it(`is http only for a loopback address, where the tests run the stand-in (${how})`, async (t) => {
      captureLog(t);
      const random = seededRandom(80);
      const loopbacks = ["127.0.0.1", "127.0.0.1:8080", "[::1]", "[::1]:9000"];
      for (let i = 0; i < 20; i++) loopbacks.push(`127.${random(256)}.${random(256)}.${random(256)}:${1 + random(65535)}`);
      for (const domain of loopbacks) assert.deepEqual(await requestedUrls(t, load, domain), [`http://${domain}/oauth/token`], domain);
    });

    it(`refuses a domain that is more than a host and port (${how})`, async (t) => {
      const lines = captureLog(t);
      const refused = [
        "https://acme.eu.auth0.com",
        "acme.eu.auth0.com/evil",
        "attacker.example@acme.eu.auth0.com",
        "acme.eu.auth0.com#",
        "acme.eu.auth0.com?x=1",
        "acme .eu.auth0.com",
        "-acme.eu.auth0.com",
        "acme.eu.auth0.com.",
        "127.0.0.1:80/x",
        "[::1",
      ];
      for (const domain of refused) assert.deepEqual(await requestedUrls(t, load, domain), [], domain);
      assert.ok(lines().every((line) => line.endsWith("not assigned: AUTH0_DOMAIN is not a host name like acme.eu.auth0.com")));
    });
  }
});
