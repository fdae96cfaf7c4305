// auth0.defaultRole and auth0.assignDefaultRole: the role must be one the stack declares, and
// assigning it needs it. Every message names the key.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig } from "../../components/config/schema";
import { type MinimalConfig, minimalConfig, problemsAfter } from "../support/config";
import { seededRandom } from "../support/random";

const ROLES = { super_admin: ["write:all"], nurse: ["read:records"], guest: [] as string[] };

function withAuth0(settings: Record<string, unknown>) {
  return (raw: MinimalConfig) => void (raw.auth0 = { apiIdentifier: "https://api.example.com", roles: ROLES, ...settings });
}

function parsedAuth0(settings: Record<string, unknown>) {
  const raw = minimalConfig();
  withAuth0(settings)(raw);
  const result = parseStackConfig(raw, "staging");
  assert.ok(result.ok, JSON.stringify(result));
  return result.config.auth0;
}

describe("auth0.defaultRole", () => {
  it("is any role of auth0.roles, and unset by default", () => {
    for (const role of Object.keys(ROLES)) assert.equal(parsedAuth0({ defaultRole: role })?.defaultRole, role);
    assert.equal(parsedAuth0({})?.defaultRole, undefined);
  });

  it("names the key, the value and the declared roles when the role is not declared", () => {
    const random = seededRandom(3);
    const undeclared = ["admin", "guests", "nurse_", "super-admin", "viewer"];
    for (let i = 0; i < 10; i++) undeclared.push(`role_${"abcdefghij"[random(10)]}${random(1000)}`);
    for (const role of undeclared)
      assert.deepEqual(problemsAfter(withAuth0({ defaultRole: role })), [
        `dropstack:auth0.defaultRole: "${role}" is not a role in auth0.roles (roles: super_admin, nurse, guest)`,
      ]);
    assert.deepEqual(
      problemsAfter((raw) => void (raw.auth0 = { apiIdentifier: "https://api.example.com", defaultRole: "guest" })),
      ['dropstack:auth0.defaultRole: "guest" is not a role in auth0.roles (it has none)'],
    );
  });

  it("refuses a value that is no role name with the format message alone", () => {
    for (const value of ["Guest", "1guest", "guest role", ""])
      assert.deepEqual(problemsAfter(withAuth0({ defaultRole: value })), [
        `dropstack:auth0.defaultRole: expected a role name from auth0.roles, got ${JSON.stringify(value)}`,
      ]);
    assert.deepEqual(problemsAfter(withAuth0({ defaultRole: 7 })), ["dropstack:auth0.defaultRole: expected text, got 7"]);
  });
});

describe("auth0.assignDefaultRole", () => {
  it("is off unless set, and takes true or false with a default role", () => {
    assert.equal(parsedAuth0({ defaultRole: "guest" })?.assignDefaultRole, undefined);
    assert.equal(parsedAuth0({ defaultRole: "guest", assignDefaultRole: true })?.assignDefaultRole, true);
    assert.equal(parsedAuth0({ defaultRole: "guest", assignDefaultRole: false })?.assignDefaultRole, false);
    assert.equal(parsedAuth0({ assignDefaultRole: false })?.assignDefaultRole, false);
  });

  it("needs auth0.defaultRole when true", () => {
    assert.deepEqual(problemsAfter(withAuth0({ assignDefaultRole: true })), [
      "dropstack:auth0.assignDefaultRole: assigns auth0.defaultRole, which is not set: set auth0.defaultRole too, or remove assignDefaultRole",
    ]);
  });

  it("is a boolean", () => {
    for (const value of ["yes", "true", 1, null])
      assert.deepEqual(problemsAfter(withAuth0({ defaultRole: "guest", assignDefaultRole: value })), [
        `dropstack:auth0.assignDefaultRole: expected true or false, got ${value === null ? "null" : JSON.stringify(value)}`,
      ]);
  });
});
