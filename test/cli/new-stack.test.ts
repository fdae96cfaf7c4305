// A stack beyond staging and production: `npm run check` says what is missing and how to
// create it, `npm run new-stack` creates both files from staging's without overwriting
// anything, and the new stack passes the check.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { STACK_NAME, deriveStackFile } from "../../tools/new-stack/derive";
import { parseStackFile } from "../../tools/check/stack-file";
import { runCheck } from "../support/check";
import { ROOT, TS_NODE } from "../support/program";

const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

/** Every scalar under `config`, by its path, from a stack file's text. */
function leaves(text: string): Map<string, unknown> {
  const found = new Map<string, unknown>();
  const walk = (value: unknown, at: string) => {
    if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, `${at}/${k}`);
    else found.set(at, value);
  };
  walk((parse(text) as { config: unknown }).config, "");
  return found;
}

describe("deriveStackFile", () => {
  for (const from of ["staging", "production"]) {
    for (const to of ["dev", "qa-2", "eu.test", "prod_b"]) {
      it(`Pulumi.${from}.yaml → ${to}: the same keys, "${from}" replaced by "${to}" in values only, secrets help kept`, () => {
        const source = read(`Pulumi.${from}.yaml`);
        const derived = deriveStackFile(source, from, to);
        const before = leaves(source);
        const after = leaves(derived);
        assert.deepEqual([...after.keys()], [...before.keys()], "same keys, same order");
        let replaced = 0;
        for (const [key, value] of before) {
          const expected = typeof value === "string" ? value.replace(new RegExp(`(?<!\\w)${from}(?!\\w)`, "g"), to) : value;
          assert.deepEqual(after.get(key), expected, key);
          if (expected !== value) replaced++;
        }
        assert.ok(replaced >= 1, "some value named the source stack");
        assert.ok(derived.startsWith(`# ${to}: created from Pulumi.${from}.yaml`), derived.slice(0, 200));
        assert.ok(derived.includes("pulumi config set --secret digitalocean:token"), "how to set secrets is kept");
        assert.deepEqual(parseStackFile(derived).secretKeys, parseStackFile(source).secretKeys);
      });
    }
  }

  it("replaces the name only as a whole word, never in keys", () => {
    const source =
      "# one\nconfig:\n  dropstack:tls:\n    staging: true\n  dropstack:app:\n    env:\n      A: stagingish\n      B: pre-staging\n      C: staging_x\n    list:\n      - staging\n";
    const derived = parse(deriveStackFile(source, "staging", "dev")) as { config: Record<string, Record<string, unknown>> };
    assert.deepEqual(derived.config["dropstack:tls"], { staging: true });
    assert.deepEqual(derived.config["dropstack:app"], { env: { A: "stagingish", B: "pre-dev", C: "staging_x" }, list: ["dev"] });
  });

  it("STACK_NAME accepts stack names and refuses paths and blanks", () => {
    for (const name of ["dev", "qa-2", "eu.test", "prod_b"]) assert.match(name, STACK_NAME);
    for (const name of ["", "a/b", "../x", "a b", "x;y"]) assert.doesNotMatch(name, STACK_NAME);
  });
});

describe("npm run new-stack and npm run check on a new stack", () => {
  const stack = `newstack${process.pid}`;
  const stackFile = `Pulumi.${stack}.yaml`;
  const policyConfig = join("policies", `${stack}.json`);
  const cleanup = () => {
    for (const file of [stackFile, policyConfig]) rmSync(join(ROOT, file), { force: true });
  };
  after(cleanup);

  const newStack = (...args: string[]) =>
    spawnSync(process.execPath, [...TS_NODE, join("tools", "new-stack", "main.ts"), ...args], { cwd: ROOT, encoding: "utf8" });

  it("check explains that a stack needs a policy config and how to create it (exit 2)", () => {
    const report = runCheck(stack, { configFile: join(ROOT, "Pulumi.staging.yaml"), json: false });
    assert.equal(report.status, 2, report.stdout + report.stderr);
    assert.match(report.stderr, new RegExp(`unknown stack "${stack}" \\(no Pulumi\\.${stack}\\.yaml or policies/${stack}\\.json\\)`));
    assert.match(
      report.stderr,
      new RegExp(
        `no policy config for stack "${stack}": each stack runs the policy pack with its own enforcement levels, from policies/${stack}\\.json`,
      ),
    );
    assert.ok(report.stderr.includes(`npm run new-stack -- ${stack}`), report.stderr);
    assert.ok(report.stderr.includes(`cp policies/staging.json policies/${stack}.json`), report.stderr);
    assert.equal(report.stdout, "", "nothing previewed");
  });

  it("new-stack creates both files from staging's; the new stack passes the check", () => {
    const created = newStack(stack);
    assert.equal(created.status, 0, created.stderr);
    assert.equal(read(stackFile), deriveStackFile(read("Pulumi.staging.yaml"), "staging", stack));
    assert.equal(read(policyConfig), read(join("policies", "staging.json")));
    assert.match(created.stdout, new RegExp(`next: review ${stackFile.replace(/\./g, "\\.")}, then npm run check -- ${stack}`));

    const report = runCheck(stack, { json: false });
    assert.equal(report.status, 0, report.stdout + report.stderr);
    assert.match(report.stdout, new RegExp(`Check passed for stack ${stack}`));
  });

  it("refuses to overwrite: both files exist → exit 2, nothing changed; one exists → only the other is created", () => {
    writeFileSync(join(ROOT, stackFile), read(stackFile) + "# edited by hand\n");
    const edited = read(stackFile);
    const policy = read(policyConfig);
    const refused = newStack(stack);
    assert.equal(refused.status, 2, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /both exist; refusing to overwrite them/);
    assert.equal(read(stackFile), edited);
    assert.equal(read(policyConfig), policy);

    rmSync(join(ROOT, policyConfig));
    const partial = newStack(stack);
    assert.equal(partial.status, 0, partial.stderr);
    assert.match(partial.stdout, new RegExp(`kept ${stackFile.replace(/\./g, "\\.")}`));
    assert.equal(read(stackFile), edited, "the hand-edited stack file is kept");
    assert.equal(read(policyConfig), read(join("policies", "staging.json")));
  });

  it("refuses a bad name or a --from stack without files (exit 2), creating nothing", () => {
    cleanup();
    for (const args of [["../x"], [stack, "--from", "nosuchstack"], [stack, "--from", "a/b"]]) {
      const run = newStack(...args);
      assert.equal(run.status, 2, `${args.join(" ")}: ${run.stdout}${run.stderr}`);
    }
    assert.equal(existsSync(join(ROOT, stackFile)) || existsSync(join(ROOT, policyConfig)), false);
  });
});
