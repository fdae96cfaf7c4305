// The connections and MFA of the production stack under mocks, with Google and GitHub added to
// its committed auth0 settings: each connection is registered with the configured options,
// social client secrets reach the engine only as secrets, every connection is enabled for the
// sign-in clients (the SPA and Grafana's) by one ConnectionClients each and never for the M2M
// client, and auth0.mfa becomes the Guardian plus the opt-in Action bound after post-login.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { readMfaOptInActionCode } from "../../components/identity/action";
import { databaseConnectionOptions, guardianSettings } from "../../components/identity/settings";
import { parseStackConfig, rawNamespaceConfig } from "../../components/config/schema";
import type { Graph } from "../../tools/check/harness";
import { readStackFile } from "../../tools/check/stack-file";
import { ROOT, committedValue, runStack } from "../support/program";
import * as path from "node:path";

const T = {
  connection: "auth0:index/connection:Connection",
  connectionClients: "auth0:index/connectionClients:ConnectionClients",
  client: "auth0:index/client:Client",
  guardian: "auth0:index/guardian:Guardian",
  action: "auth0:index/action:Action",
  triggerActions: "auth0:index/triggerActions:TriggerActions",
};

const SOCIAL = {
  google: { clientId: "1234-abc.apps.googleusercontent.com", clientSecret: "GOCSPX-google-secret-value" },
  github: { clientId: "Iv1.0123456789abcdef", clientSecret: "github-secret-value-0123456789", scopes: ["email", "read_user"] },
};

const committed = committedValue<Record<string, unknown>>("production", "dropstack:auth0");
const auth0 = { ...committed, connections: { ...(committed.connections as object), ...SOCIAL } };

let graph: Graph;

before(async () => {
  const promotion = { ...committedValue("production", "dropstack:promotion"), allowUnpromoted: true };
  ({ graph } = await runStack({ stack: "production", override: { "dropstack:auth0": auth0, "dropstack:promotion": promotion } }));
});

/** The committed production auth0 settings as the schema gives them to the component. */
function parsedCommittedAuth0() {
  const file = readStackFile(path.join(ROOT, "Pulumi.production.yaml"));
  const result = parseStackConfig(rawNamespaceConfig(file.config), "production");
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  assert.ok(result.config.auth0);
  return result.config.auth0;
}

describe("Identity connections (production with social connections, mocks)", () => {
  it("declares the database connection with the committed password settings and brute-force protection", () => {
    const database = graph.one(T.connection, "-connection-database");
    const settings = parsedCommittedAuth0().connections?.database;
    assert.ok(settings);
    assert.equal(database.inputs.name, "dropstack-users");
    assert.equal(database.inputs.strategy, "auth0");
    assert.deepEqual(database.inputs.options, databaseConnectionOptions(settings));
    const options = database.inputs.options as Record<string, unknown>;
    assert.equal(options.passwordPolicy, "good");
    assert.deepEqual(options.passwordComplexityOptions, { minLength: 12 });
    assert.equal(options.bruteForceProtection, true);
    assert.deepEqual(database.secretInputs, []);
    assert.equal(database.protect, true, "deleting it would delete the users");
    for (const provider of ["google", "github"]) assert.equal(graph.one(T.connection, `-connection-${provider}`).protect, false);
  });

  it("declares google-oauth2 and github under their strategy names, with the configured or default scopes", () => {
    const google = graph.one(T.connection, "-connection-google");
    assert.equal(google.inputs.name, "google-oauth2");
    assert.equal(google.inputs.strategy, "google-oauth2");
    assert.deepEqual(google.inputs.options, { ...SOCIAL.google, scopes: ["email", "profile"] });
    const github = graph.one(T.connection, "-connection-github");
    assert.equal(github.inputs.name, "github");
    assert.equal(github.inputs.strategy, "github");
    assert.deepEqual(github.inputs.options, SOCIAL.github);
  });

  it("hands the engine the social client secrets only as secrets, also in the state", () => {
    for (const provider of ["google", "github"] as const) {
      const connection = graph.one(T.connection, `-connection-${provider}`);
      assert.deepEqual(connection.secretInputs, ["options"], provider);
      assert.ok(connection.additionalSecretOutputs.includes("options"), `${provider} options are secret in the state`);
      assert.ok(!JSON.stringify(connection.wireInputs).includes(`"clientSecret":"${SOCIAL[provider].clientSecret}"`));
    }
    // Nothing else the stack registers carries a social secret in the clear.
    for (const r of graph.registrations) {
      if (r.type === T.connection) continue;
      for (const { clientSecret } of Object.values(SOCIAL)) assert.ok(!JSON.stringify(r.wireInputs).includes(clientSecret), r.name);
    }
  });

  it("enables every connection for the SPA and Grafana's client only, through one ConnectionClients each", () => {
    const spa = graph.one(T.client, "-spa");
    const grafana = graph.one(T.client, "-grafana");
    const m2m = graph.one(T.client, "-user-management");
    const connections = graph.ofType(T.connection);
    assert.equal(connections.length, 3);
    const owners = graph.ofType(T.connectionClients);
    assert.equal(owners.length, connections.length, "one owner per connection");
    for (const connection of connections) {
      const found = owners.filter((o) => o.inputs.connectionId === connection.id);
      assert.equal(found.length, 1, `${connection.name} has exactly one owner of its enabled clients`);
      assert.deepEqual(found[0].inputs.enabledClients, [spa.outputs.clientId, grafana.outputs.clientId]);
      assert.ok(!(found[0].inputs.enabledClients as string[]).includes(m2m.outputs.clientId as string));
      assert.ok(graph.dependsOn(found[0], connection) && graph.dependsOn(found[0], spa) && graph.dependsOn(found[0], grafana));
    }
  });

  it("parents every connection, owner and the Guardian to the Identity component", () => {
    const identity = graph.one("dropstack:index:Identity");
    for (const type of [T.connection, T.connectionClients, T.guardian])
      for (const r of graph.ofType(type)) assert.equal(r.parent, identity.urn, r.name);
  });

  it("declares auth0.mfa (optional with otp) as the Guardian and binds the opt-in Action after post-login", () => {
    const guardian = graph.one(T.guardian);
    assert.deepEqual(guardian.inputs, guardianSettings({ policy: "optional", factors: ["otp"] }));
    assert.equal(guardian.inputs.policy, "never");
    const optIn = graph.one(T.action, "-mfa-opt-in");
    assert.equal(optIn.inputs.code, readMfaOptInActionCode());
    assert.equal(optIn.inputs.runtime, "node22");
    assert.equal(optIn.inputs.deploy, true);
    assert.deepEqual(optIn.inputs.supportedTriggers, { id: "post-login", version: "v3" });
    const postLogin = graph.one(T.action, "-post-login");
    const flow = graph.one(T.triggerActions);
    assert.deepEqual(flow.inputs.actions, [
      { id: postLogin.id, displayName: postLogin.name },
      { id: optIn.id, displayName: optIn.name },
    ]);
    assert.ok(graph.dependsOn(flow, optIn));
  });
});
