// The Auth0 post-login Action, run under Node twice: loaded with require, and evaluated the
// way Auth0 runs it, as a script in a fresh VM context that has nothing but `exports` and
// `module` (test/support/post-login.ts). The default role and its assignment are in
// post-login-default-role.test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  POST_LOGIN_RUNTIME,
  POST_LOGIN_TRIGGER,
  postLoginSecrets,
  readPostLoginActionCode,
  rolesClaimName,
} from "../../components/identity/action";
import { NAMESPACE, PostLoginHandler, loadInFreshContext, loadWithRequire, loginEvent, runAction } from "../support/post-login";

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

  it("gives the Action the namespace, the default role only when set, and management credentials only to assign it", () => {
    const management = { domain: "acme.eu.auth0.com", clientId: "action-client", clientSecret: "action-secret" };
    assert.deepEqual(postLoginSecrets({ namespace: NAMESPACE }), [{ name: "CLAIM_NAMESPACE", value: NAMESPACE }]);
    assert.deepEqual(postLoginSecrets({ namespace: NAMESPACE, defaultRole: "guest" }), [
      { name: "CLAIM_NAMESPACE", value: NAMESPACE },
      { name: "DEFAULT_ROLE", value: "guest" },
    ]);
    assert.deepEqual(postLoginSecrets({ namespace: NAMESPACE, defaultRole: "guest", management }), [
      { name: "CLAIM_NAMESPACE", value: NAMESPACE },
      { name: "DEFAULT_ROLE", value: "guest" },
      { name: "AUTH0_DOMAIN", value: "acme.eu.auth0.com" },
      { name: "MANAGEMENT_CLIENT_ID", value: "action-client" },
      { name: "MANAGEMENT_CLIENT_SECRET", value: "action-secret" },
    ]);
    assert.throws(() => postLoginSecrets({ namespace: NAMESPACE, management }), /needs a default role/);
  });

  it("reads exactly the secrets the component gives it", () => {
    const code = readPostLoginActionCode();
    const read = [...code.matchAll(/secretText\(secrets, "(\w+)"\)/g)].map((m) => m[1]).sort();
    const given = postLoginSecrets({
      namespace: NAMESPACE,
      defaultRole: "guest",
      management: { domain: "d", clientId: "i", clientSecret: "s" },
    }).map((secret) => secret.name);
    assert.deepEqual(read, [...given].sort());
  });

  it("refuses an empty namespace when naming the claim", () => {
    assert.equal(rolesClaimName("https://api.example.com/"), "https://api.example.com/roles");
    assert.throws(() => rolesClaimName(" / "), /empty/);
  });
});
