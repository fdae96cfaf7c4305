// The app's own Management API access (dropstack:auth0.appManagementScopes): scopes checked one
// by one (no wildcard, nothing that widens access), the policy that holds every Management API
// grant to the same rule, violating and compliant.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ESCALATING_MANAGEMENT_SCOPES, describeAppManagementScopeProblem } from "../../components/identity/settings";
import { auth0ManagementGrantsLeastPrivilege } from "../../policies/identity";
import { resourceViolations } from "../support/policy";
import { problemsAfter } from "../support/config";

const GRANT = "auth0:index/clientGrant:ClientGrant";
const ORDINARY = [
  "read:users",
  "update:users",
  "read:roles",
  "create:role_members",
  "delete:role_members",
  "read:users_app_metadata",
  "update:users_app_metadata",
  "read:logs",
];

test("ordinary scopes pass; wildcards, malformed ones and every escalating scope are refused with a reason", () => {
  for (const scope of ORDINARY) assert.equal(describeAppManagementScopeProblem(scope), undefined, scope);
  for (const scope of ["*", "*:users", "read:*", "read:users*"])
    assert.equal(
      describeAppManagementScopeProblem(scope),
      `${JSON.stringify(scope)} is a wildcard: list each scope the app needs, like read:users`,
    );
  for (const scope of ["users", "READ:users", "read users", "read:users ", "write:users", "read:", ":users"])
    assert.equal(
      describeAppManagementScopeProblem(scope),
      `expected a Management API scope like read:users or create:role_members, got ${JSON.stringify(scope)}`,
    );
  for (const scope of ESCALATING_MANAGEMENT_SCOPES)
    assert.match(describeAppManagementScopeProblem(scope) ?? "", /lets its holder widen its own access/, scope);
});

test("dropstack:auth0.appManagementScopes names each bad scope by index, and repeated ones", () => {
  const withScopes = (scopes: unknown) =>
    problemsAfter((raw) => {
      raw.auth0 = { apiIdentifier: "https://api.example.com", appManagementScopes: scopes };
    });
  assert.deepEqual(withScopes(ORDINARY), []);
  assert.deepEqual(withScopes(["read:users", "*:users", "update:clients"]), [
    'dropstack:auth0.appManagementScopes.1: "*:users" is a wildcard: list each scope the app needs, like read:users',
    'dropstack:auth0.appManagementScopes.2: "update:clients" lets its holder widen its own access (clients, grants, Actions, connections, tenant settings); the app must not hold it',
  ]);
  assert.deepEqual(withScopes(["read:users", "read:users"]), ["dropstack:auth0.appManagementScopes: scopes repeat: read:users"]);
  assert.deepEqual(withScopes("read:users"), [
    'dropstack:auth0.appManagementScopes: expected a list of Management API scopes like read:users, got "read:users"',
  ]);
  // The names it fills in are dropstack's.
  assert.deepEqual(
    problemsAfter((raw) => {
      raw.auth0 = { apiIdentifier: "https://api.example.com" };
      raw.app.env = { AUTH0_MANAGEMENT_CLIENT_SECRET: "x" };
    }),
    ["dropstack:app.env.AUTH0_MANAGEMENT_CLIENT_SECRET: is set by dropstack in the app's environment; remove it"],
  );
});

test("auth0-management-grants-least-privilege: Management API grants with wide scopes are refused, others pass", async () => {
  const grant = (audience: string, scopes: string[]) => ({
    type: GRANT,
    name: "prod-app-management-grant",
    props: { audience, scopes, clientId: "c" },
  });
  for (const audience of ["https://acme.eu.auth0.com/api/v2/", "https://login.example.com/api/v2"]) {
    assert.deepEqual(await resourceViolations(auth0ManagementGrantsLeastPrivilege, grant(audience, ORDINARY)), [], audience);
    for (const wide of [["*"], ["update:client_grants"], ["read:users", "create:clients", "update:actions"]]) {
      const violations = await resourceViolations(auth0ManagementGrantsLeastPrivilege, grant(audience, wide));
      assert.equal(violations.length, 1, `${audience} ${wide.join(" ")}`);
      const named = wide.filter((s) => s === "*" || ESCALATING_MANAGEMENT_SCOPES.includes(s));
      assert.match(
        violations[0],
        new RegExp(`^prod-app-management-grant grants the Management API ${named.join(", ").replace(/\*/g, "\\*")}: `),
      );
    }
  }
  // A grant on the app's own API holds its permissions, whatever they are called.
  assert.deepEqual(await resourceViolations(auth0ManagementGrantsLeastPrivilege, grant("https://api.example.com", ["update:clients"])), []);
});
