// The MFA opt-in post-login Action (auth0.mfa.policy: optional), run under Node twice:
// loaded with require, and evaluated the way Auth0 runs it, in a fresh VM context with
// nothing but `exports` and `module`. Events and the api double follow Auth0's documented
// post-login objects (event.transaction.protocol and .acr_values, event.user.multifactor,
// event.authentication.methods; api.multifactor.enable(provider, options)). Every
// combination of protocol, enrolment, requested ACR values and the session's completed
// methods is generated, and the expectation is stated once.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MFA_OPT_IN_ACTION_PATH, readMfaOptInActionCode } from "../../components/identity/action";
import { type PostLoginHandler as Handler, exampleUser, loadInFreshContext, loadWithRequire } from "../support/post-login";

const MFA_ACR = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";
const MFA_OPT_IN = { path: MFA_OPT_IN_ACTION_PATH, code: readMfaOptInActionCode };

interface LoginCase {
  protocol: string | undefined;
  multifactor: string[] | undefined;
  acrValues: string[] | undefined;
  methods: { name: string }[] | undefined;
}

/** A post-login event shaped like Auth0's documented one, for the case. */
function loginEvent(c: LoginCase): Record<string, unknown> {
  return {
    ...(c.methods === undefined
      ? {}
      : { authentication: { methods: c.methods.map((m) => ({ ...m, timestamp: "2026-01-01T00:00:00.000Z" })) } }),
    client: { client_id: "spa-client-id", metadata: {}, name: "Example SPA" },
    connection: { id: "con_0000000000000001", name: "dropstack-users", strategy: "auth0" },
    request: { hostname: "example.eu.auth0.com", ip: "203.0.113.10", method: "GET", query: {} },
    secrets: {},
    stats: { logins_count: 3 },
    tenant: { id: "example" },
    transaction: {
      ...(c.protocol === undefined ? {} : { protocol: c.protocol }),
      ...(c.acrValues === undefined ? {} : { acr_values: c.acrValues }),
      requested_scopes: ["openid", "profile"],
    },
    user: { ...exampleUser(), ...(c.multifactor === undefined ? {} : { multifactor: c.multifactor }) },
  };
}

/** An api double recording what the Action asks of Auth0; anything else it calls throws. */
function recordingApi() {
  const enabled: unknown[][] = [];
  const refuse = (name: string) => () => {
    throw new Error(`the Action called api.${name}`);
  };
  const api = {
    multifactor: { enable: (...args: unknown[]) => (enabled.push(JSON.parse(JSON.stringify(args)) as unknown[]), api) },
    access: { deny: refuse("access.deny") },
    authentication: { challengeWith: refuse("authentication.challengeWith"), enrollWith: refuse("authentication.enrollWith") },
    redirect: { sendUserTo: refuse("redirect.sendUserTo") },
  };
  return { api, enabled };
}

function cases(): LoginCase[] {
  const protocols = ["oidc-basic-profile", "oauth2-refresh-token", "oidc-implicit-profile", "samlp", undefined];
  const enrolments = [undefined, [], ["guardian"], ["google-authenticator", "webauthn-roaming"]];
  const acrs = [undefined, [], [MFA_ACR], ["urn:example:loa:1"], ["urn:example:loa:1", MFA_ACR], [`${MFA_ACR}/`]];
  const sessions = [undefined, [], [{ name: "pwd" }], [{ name: "federated" }], [{ name: "pwd" }, { name: "mfa" }]];
  return protocols.flatMap((protocol) =>
    enrolments.flatMap((multifactor) =>
      acrs.flatMap((acrValues) => sessions.map((methods) => ({ protocol, multifactor, acrValues, methods }))),
    ),
  );
}

/** The rule, stated once: challenge enrolled users and requested step-ups, unless already done or refreshing. */
function expectChallenge(c: LoginCase): boolean {
  if (c.protocol === "oauth2-refresh-token") return false;
  if (c.methods?.some((m) => m.name === "mfa")) return false;
  return (c.multifactor?.length ?? 0) > 0 || (c.acrValues ?? []).includes(MFA_ACR);
}

const loaders: [string, () => Handler][] = [
  ["loaded with require", () => loadWithRequire(MFA_OPT_IN)],
  ["evaluated in a fresh VM context with only exports and module", () => loadInFreshContext({ action: MFA_OPT_IN })],
];

for (const [how, load] of loaders) {
  describe(`MFA opt-in Action ${how}`, () => {
    const onExecutePostLogin = load();

    it("asks for any enabled factor, browser not remembered, exactly when the rule says, in every generated case", async () => {
      let challenged = 0;
      for (const c of cases()) {
        const { api, enabled } = recordingApi();
        await onExecutePostLogin(loginEvent(c), api);
        const expected = expectChallenge(c) ? [["any", { allowRememberBrowser: false }]] : [];
        assert.deepEqual(enabled, expected, JSON.stringify(c));
        challenged += enabled.length;
      }
      // Both outcomes occur, so the loop proves the rule and not a constant.
      assert.ok(challenged > 0 && challenged < cases().length);
    });

    it("lets a login through without enrolment or request, whatever else the event lacks", async () => {
      for (const event of [
        {},
        { user: {} },
        { transaction: {} },
        { user: { multifactor: "guardian" } },
        { transaction: { acr_values: MFA_ACR } },
      ]) {
        const { api, enabled } = recordingApi();
        await onExecutePostLogin(event, api);
        assert.deepEqual(enabled, [], JSON.stringify(event));
      }
    });
  });
}

describe("MFA opt-in Action packaging", () => {
  it("is plain code Auth0 runs without dependencies", () => {
    const code = readMfaOptInActionCode();
    assert.match(code, /^exports\.onExecutePostLogin = async \(event, api\) => \{$/m);
    assert.doesNotMatch(code, /\brequire\s*\(/);
  });
});
