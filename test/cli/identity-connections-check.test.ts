// `npm run check` on variants of the committed stacks with weak sign-in: a low password policy
// on a short minimum and MFA off. Through the real analyzer, production refuses both
// (auth0-database-password-policy, auth0-mfa-required) and staging only warns.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCheck, writeStackVariant } from "../support/check";

/** The committed stack with the database connection weakened and MFA off. */
function weakSignIn(stack: string): string {
  return writeStackVariant(stack, (config) => {
    const auth0 = config["dropstack:auth0"] as Record<string, unknown>;
    auth0.connections = { database: { name: "dropstack-users", password: { policy: "low", minLength: 6 } } };
    auth0.mfa = { policy: "off" };
  });
}

describe("npm run check (sign-in policies)", () => {
  for (const [stack, status, level] of [
    ["production", 1, "mandatory"],
    ["staging", 0, "advisory"],
  ] as const) {
    it(`${status === 1 ? "refuses" : "warns about"} a weak database connection and MFA off on ${stack}`, () => {
      const report = runCheck(stack, { configFile: weakSignIn(stack) });
      assert.equal(report.status, status, report.stderr);
      const violations = report.json?.violations ?? [];
      const password = violations.filter((v) => v.policy === "auth0-database-password-policy");
      assert.equal(password.length, 2, JSON.stringify(violations, null, 2));
      assert.match(password.map((v) => v.message).join("\n"), /password policy "low"[\s\S]*passwords of 6 characters/);
      assert.match(password[0].urn, new RegExp(`auth0:index/connection:Connection::dropstack-${stack}-connection-database$`));
      const mfa = violations.filter((v) => v.policy === "auth0-mfa-required");
      assert.equal(mfa.length, 2, JSON.stringify(violations, null, 2));
      assert.match(mfa.map((v) => v.message).join("\n"), /enables no factor[\s\S]*lacks the MFA opt-in Action/);
      for (const v of [...password, ...mfa]) assert.equal(v.enforcementLevel, level);
    });
  }
});
