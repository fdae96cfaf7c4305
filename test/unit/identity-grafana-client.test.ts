// With observability on, Grafana signs in through the stack's tenant: a confidential client
// for the authorization code flow only, whose callback is Grafana's on hosts.monitoring.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { Identity } from "../../components/identity";
import { grafanaClientUrls } from "../../components/identity/settings";
import { outputValue, recordResources } from "../support/pulumi-mocks";

const created = recordResources();

function identity(name: string, grafanaHost?: string): Identity {
  return new Identity(name, {
    auth0: { apiIdentifier: "https://api.example.com", roles: { ops: ["read:all"] }, spa: {} },
    hosts: { api: "api.example.com" },
    alertEmails: [],
    domain: "acme.eu.auth0.com",
    ...(grafanaHost ? { grafanaHost } : {}),
  });
}

describe("Identity's Grafana client", () => {
  it("is a regular web app with the code flow only, called back at Grafana's generic OAuth path", async () => {
    for (const host of ["monitoring.example.com", "grafana.ops.example.org"]) {
      const tenant = identity(`with-${host.split(".")[0]}`, host);
      assert.ok(tenant.grafana);
      await outputValue(tenant.grafana.clientSecret);
      const client = created.get(`with-${host.split(".")[0]}-grafana`);
      assert.ok(client, "the client is registered");
      assert.equal(client.type, "auth0:index/client:Client");
      assert.equal(client.inputs.appType, "regular_web");
      assert.deepEqual(client.inputs.grantTypes, ["authorization_code"]);
      assert.deepEqual(client.inputs.callbacks, [`https://${host}/login/generic_oauth`]);
      assert.deepEqual(client.inputs.allowedLogoutUrls, [`https://${host}/login`]);
      assert.deepEqual(grafanaClientUrls(host), { callbacks: client.inputs.callbacks, logoutUrls: client.inputs.allowedLogoutUrls });
      const credentials = created.get(`with-${host.split(".")[0]}-grafana-credentials`);
      assert.equal(credentials?.inputs.authenticationMethod, "client_secret_post");
      assert.equal(await pulumi.isSecret(tenant.grafana.clientSecret), true);
      assert.match(await outputValue(tenant.grafana.clientSecret), /^mock-client-secret-/);
    }
  });

  it("is not created when observability is off", async () => {
    const tenant = identity("without");
    await outputValue(tenant.spaClientId);
    assert.equal(tenant.grafana, undefined);
    assert.equal(created.has("without-grafana"), false);
  });
});
