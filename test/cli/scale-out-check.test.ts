// `npm run check` on stacks past one droplet, as users run it: the example passes the whole
// policy pack, and the deploy order it prints takes the droplets one at a time, whatever their
// number, after one backup and one migration.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { ROOT } from "../support/program";
import { assertPrintedInOrder, runCheck, writeStackVariant } from "../support/check";

const EXAMPLE = path.join(ROOT, "examples", "Pulumi.production-scaled.yaml");
const STACK = "dropstack-production";
const dropletName = (n: number) => (n === 1 ? STACK : `${STACK}-${n}`);

function exampleWith(edit: (config: Record<string, unknown>) => void): string {
  return writeStackVariant("production", edit, EXAMPLE);
}

/** Where each step's level is in the printed order; -1 when it is missing. */
function levelsOf(order: string[][], names: string[]): number[] {
  return names.map((name) => order.findIndex((level) => level.includes(name)));
}

/** The rolling deploy's steps that must come one after another, for `droplets` droplets. */
function rollingSteps(droplets: number, replicas: number): string[] {
  const steps = [`${STACK}-backup`, `${STACK}-migrate`];
  for (let n = 1; n <= droplets; n++)
    steps.push(
      `${dropletName(n)}-drain`,
      ...Array.from({ length: replicas }, (_, i) => `${dropletName(n)}-api-${i}`),
      `${dropletName(n)}-undrain`,
    );
  return [...steps, `${STACK}-smoke`];
}

function assertRollingOrder(order: string[][], droplets: number, replicas: number): void {
  const steps = rollingSteps(droplets, replicas);
  const levels = levelsOf(order, steps);
  assert.ok(
    levels.every((l) => l >= 0),
    `every step is listed: ${steps.filter((_, i) => levels[i] < 0).join(", ")}`,
  );
  levels.forEach((level, i) => {
    if (i > 0) assert.ok(level > levels[i - 1], `${steps[i]} comes after ${steps[i - 1]}`);
  });
  const all = order.flat();
  assert.equal(all.filter((n) => n.endsWith("-backup")).length, 1, "one backup per deploy");
  assert.equal(all.filter((n) => n.endsWith("-migrate")).length, 1, "one migration per deploy");
}

describe("npm run check: past one droplet", () => {
  it("the example (three droplets) passes every policy and prints the droplets' rollout one at a time", () => {
    const report = runCheck("production", { configFile: EXAMPLE });
    assert.equal(report.status, 0, report.stderr + JSON.stringify(report.json?.violations, null, 2));
    assert.deepEqual(report.json?.violations, []);
    const config = parse(readFileSync(EXAMPLE, "utf8")) as { config: Record<string, { droplets?: number; replicas?: number }> };
    assertRollingOrder(
      report.json?.deployOrder ?? [],
      Number(config.config["dropstack:scale"].droplets),
      Number(config.config["dropstack:app"].replicas),
    );

    const text = runCheck("production", { configFile: EXAMPLE, json: false });
    assert.equal(text.status, 0);
    // Each whole name: after the level's number or the comma before it.
    assertPrintedInOrder(
      text.stdout,
      [`${STACK}-migrate`, `${STACK}-undrain`, `${STACK}-2-drain`, `${STACK}-2-undrain`, `${STACK}-3-drain`, `${STACK}-smoke`].map(
        (name) => `[ .,]${name}`,
      ),
    );
  });

  for (const [droplets, replicas] of [
    [2, 1],
    [4, 2],
    [10, 1],
  ] as const) {
    it(`${droplets} droplets with ${replicas} replica(s) each: one backup and migration, then droplet after droplet`, () => {
      const file = exampleWith((c) => {
        (c["dropstack:scale"] as { droplets: number }).droplets = droplets;
        (c["dropstack:app"] as { replicas: number }).replicas = replicas;
      });
      const report = runCheck("production", { configFile: file });
      // Ten droplets cost more than production's budget; nothing else may be refused.
      const violations = (report.json?.violations ?? []).filter((v) => v.policy !== "budget-monthly");
      assert.deepEqual(violations, []);
      assertRollingOrder(report.json?.deployOrder ?? [], droplets, replicas);
    });
  }

  it("refuses scale.droplets past one without manageDns, naming the key", () => {
    const file = exampleWith((c) => void (c["dropstack:manageDns"] = false));
    const report = runCheck("production", { configFile: file, json: false });
    assert.equal(report.status, 2);
    assert.match(report.stderr + report.stdout, /dropstack:manageDns: must be true with scale\.droplets > 1/);
  });
});
