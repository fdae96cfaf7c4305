// Which stacks get production's rules (no silent defaults for the safety-relevant keys, safer
// defaults once they are set): the two names teams use for it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isProductionStack, parseStackConfig } from "../../components/config/schema";
import { minimalConfig } from "../support/config";

const PRODUCTION_REQUIRED = ["dropstack:adminCidrs: required", "dropstack:backups: required", "dropstack:tls.email: required"];

/** The problems of staging's smallest config without its tls settings, on the stack. */
function problems(stack: string, withTls = false): string[] {
  const raw: Record<string, unknown> = { ...minimalConfig() };
  if (!withTls) delete raw.tls;
  const result = parseStackConfig(raw, stack);
  return result.ok ? [] : [...result.problems].sort();
}

describe("production stacks", () => {
  it("are the stacks named production and prod, and they get production's rules", () => {
    for (const stack of ["production", "prod"]) {
      assert.ok(isProductionStack(stack), stack);
      assert.deepEqual(problems(stack), PRODUCTION_REQUIRED, stack);
    }
  });

  it("are no other stacks, which keep the staging defaults", () => {
    for (const stack of ["staging", "dev", "review-42"]) {
      assert.ok(!isProductionStack(stack), stack);
      assert.deepEqual(problems(stack, true), [], stack);
    }
  });
});
