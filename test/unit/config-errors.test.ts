// What a user sees when the stack's config is refused, and the helpers the schema's messages
// rely on.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidConfigError } from "../../components/config";

describe("the error a stack with invalid config stops with", () => {
  it("names the stack, counts the problems and lists each on its own line", () => {
    assert.equal(
      new InvalidConfigError(["dropstack:domain: required"], "staging").message,
      'invalid config for stack "staging" (1 problem):\n  dropstack:domain: required',
    );
    assert.equal(
      new InvalidConfigError(["dropstack:domain: required", "dropstack:app.port: expected a number"], "production").message,
      'invalid config for stack "production" (2 problems):\n  dropstack:domain: required\n  dropstack:app.port: expected a number',
    );
  });

  it("is named InvalidConfigError, which is how the check tells invalid input (exit 2) from a failure (exit 3)", () => {
    const error = new InvalidConfigError(["dropstack:domain: required"], "staging");
    assert.equal(error.name, "InvalidConfigError");
  });
});
