// The Auth0 post-login Action, run under Node twice: loaded with require, and evaluated the
// way Auth0 runs it, as a script in a fresh VM context that has nothing but `exports` and
// `module`. The event and api doubles follow Auth0's documented post-login objects
// (auth0.com/docs/customize/actions/reference/post-login/post-login-event-object and
// .../post-login-api-object).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import vm from "node:vm";
import {
  CLAIM_NAMESPACE_SECRET,
  POST_LOGIN_ACTION_PATH,
  POST_LOGIN_RUNTIME,
  POST_LOGIN_TRIGGER,
  readPostLoginActionCode,
  rolesClaimName,
} from "../../components/identity/action";

type PostLoginHandler = (event: unknown, api: unknown) => Promise<void>;

function loadWithRequire(): PostLoginHandler {
  const load = createRequire(__filename);
  return (load(POST_LOGIN_ACTION_PATH) as { onExecutePostLogin: PostLoginHandler }).onExecutePostLogin;
}

function loadInFreshContext(): PostLoginHandler {
  const module = { exports: {} as Record<string, unknown> };
  const context = vm.createContext({ module, exports: module.exports });
  vm.runInContext(readPostLoginActionCode(), context, { filename: "post-login.js" });
  const handler = module.exports.onExecutePostLogin;
  assert.equal(typeof handler, "function", "the Action exports onExecutePostLogin");
  return handler as PostLoginHandler;
}

const NAMESPACE = "https://api.example.com";

/** A post-login event shaped like Auth0's documented one. */
function loginEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
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
    user: {
      app_metadata: {},
      email: "ada@example.com",
      email_verified: true,
      user_id: "auth0|0000000000000001",
      user_metadata: {},
    },
    ...overrides,
  };
}

/**
 * A post-login api double that records what the Action asks for. Claim values go through
 * JSON as they do on their way into a JWT, which also makes values from the VM realm
 * comparable here.
 */
function recordingApi() {
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
    idToken: { setCustomClaim: (name: string, value: unknown) => ((idToken[name] = toJwtValue(value)), api) },
    user: { setAppMetadata: () => api, setUserMetadata: () => api },
  };
  return { api, idToken, accessToken, denials };
}

async function runAction(handler: PostLoginHandler, event: Record<string, unknown>) {
  const recorded = recordingApi();
  await handler(event, recorded.api);
  return recorded;
}

const loaders: [string, () => PostLoginHandler][] = [
  ["loaded with require", loadWithRequire],
  ["evaluated in a fresh VM context with only exports and module", loadInFreshContext],
];

for (const [how, load] of loaders) {
  describe(`post-login Action ${how}`, () => {
    const onExecutePostLogin = load();

    it("puts the roles in both the ID and the access token under the namespace", async () => {
      const { idToken, accessToken, denials } = await runAction(onExecutePostLogin, loginEvent());
      assert.deepEqual(idToken, { "https://api.example.com/roles": ["admin", "editor"] });
      assert.deepEqual(accessToken, { "https://api.example.com/roles": ["admin", "editor"] });
      assert.deepEqual(denials, []);
    });

    it("gives an empty list to a user without roles", async () => {
      const { idToken, accessToken } = await runAction(onExecutePostLogin, loginEvent({ authorization: { roles: [] } }));
      assert.deepEqual(idToken, { "https://api.example.com/roles": [] });
      assert.deepEqual(accessToken, { "https://api.example.com/roles": [] });
    });

    it("does not throw when authorization is absent, and gives an empty list", async () => {
      for (const authorization of [undefined, null, {}]) {
        const { idToken, accessToken } = await runAction(onExecutePostLogin, loginEvent({ authorization }));
        assert.deepEqual(idToken, { "https://api.example.com/roles": [] }, `authorization: ${JSON.stringify(authorization)}`);
        assert.deepEqual(accessToken, { "https://api.example.com/roles": [] });
      }
    });

    it("does not double the slash when the namespace ends with one", async () => {
      for (const namespace of ["https://api.example.com/", "https://api.example.com//", " https://api.example.com/\n"]) {
        const { idToken, accessToken } = await runAction(onExecutePostLogin, loginEvent({ secrets: { CLAIM_NAMESPACE: namespace } }));
        assert.deepEqual(Object.keys(idToken), ["https://api.example.com/roles"], JSON.stringify(namespace));
        assert.deepEqual(Object.keys(accessToken), ["https://api.example.com/roles"]);
      }
    });

    it("uses the namespace it is given, e.g. a claim namespace distinct from the API identifier", async () => {
      const secrets = { CLAIM_NAMESPACE: "https://claims.example.org/app" };
      const { idToken } = await runAction(onExecutePostLogin, loginEvent({ secrets }));
      assert.deepEqual(idToken, { "https://claims.example.org/app/roles": ["admin", "editor"] });
    });

    it("sets no claim and lets the login proceed when the namespace secret is missing", async (t) => {
      t.mock.method(console, "log", () => undefined);
      for (const secrets of [{}, undefined, { CLAIM_NAMESPACE: "" }, { CLAIM_NAMESPACE: "  " }, { CLAIM_NAMESPACE: "/" }]) {
        const { idToken, accessToken, denials } = await runAction(onExecutePostLogin, loginEvent({ secrets }));
        assert.deepEqual(idToken, {}, `secrets: ${JSON.stringify(secrets)}`);
        assert.deepEqual(accessToken, {});
        assert.deepEqual(denials, []);
      }
    });

    it("names the claim exactly as rolesClaimName does", async () => {
      for (const namespace of ["https://api.example.com", "https://api.example.com/", "urn:example:api", "my-api"]) {
        const { accessToken } = await runAction(onExecutePostLogin, loginEvent({ secrets: { CLAIM_NAMESPACE: namespace } }));
        assert.deepEqual(Object.keys(accessToken), [rolesClaimName(namespace)]);
      }
    });
  });
}

describe("post-login Action logging", () => {
  it("says in the Action log why the roles claim is missing", async (t) => {
    const log = t.mock.method(console, "log", () => undefined);
    await runAction(loadWithRequire(), loginEvent({ secrets: {} }));
    assert.equal(log.mock.callCount(), 1);
    assert.match(String(log.mock.calls[0].arguments[0]), /CLAIM_NAMESPACE secret is not set/);
    await runAction(loadWithRequire(), loginEvent());
    assert.equal(log.mock.callCount(), 1, "a configured Action logs nothing");
  });
});

describe("post-login Action packaging", () => {
  it("hands the component the Action source and the node22 post-login trigger", () => {
    const code = readPostLoginActionCode();
    assert.match(code, /^exports\.onExecutePostLogin = async \(event, api\) => \{$/m);
    assert.doesNotMatch(code, /\brequire\s*\(/, "Auth0 runs the code without installed dependencies");
    assert.equal(POST_LOGIN_RUNTIME, "node22");
    assert.deepEqual(POST_LOGIN_TRIGGER, { id: "post-login", version: "v3" });
  });

  it("refuses an empty namespace when naming the claim", () => {
    assert.equal(rolesClaimName("https://api.example.com/"), "https://api.example.com/roles");
    assert.throws(() => rolesClaimName(" / "), /empty/);
  });
});
