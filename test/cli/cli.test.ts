// Every `npm run` command answers --help with its usage (exit 0) and refuses a flag it
// does not know with exit 2 before doing any work: a benchmark that ignored a typo, or
// took --help for a run, would cost minutes. The scripts come from package.json, so a new
// one is covered from the day it is added: it must be a node program under tools/
// that keeps this contract.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { UsageError, asksForHelp, integerOption, parseCommand } from "../../tools/cli";
import { ROOT } from "../support/program";
import { SCRIPT, SCRIPTS, scriptArgv } from "../support/scripts";

/**
 * Arguments each tool accepts, to show an unknown flag is refused even after valid ones
 * (and before the tool acts on them: none of these may write or start anything).
 */
const VALID_ARGS: Record<string, string[]> = {
  check: ["staging"],
  guard: [join("test", "fixtures", "preview", "clean.json")],
  "ci-access": ["close", "--state", "no-such-state.json"],
  drift: ["no-such-preview.json", "0"],
  rollback: ["staging", "no-such-up.log"],
  "users:import": ["staging", "no-such-users.json", "--connection-id", "con_0123456789abcdef"],
  "new-stack": ["cli-test-stack"],
  "validate-emitted": ["nginx.conf"],
  "bench:backup": ["--rounds", "1"],
  "bench:check": ["--rounds", "1", "staging"],
  test: ["no-such-test-file"],
  "test:quick": ["no-such-test-file"],
  "test:repeat": ["1", "no-such-test-file"],
};
/**
 * The guard takes only a lone `--help` as help, never `-h`: its arguments can come from a
 * workflow input, which must never turn it into a no-op that exits 0 (tools/guard/guard.ts).
 */
const SHORT_HELP_REFUSED = ["guard"];

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

async function run(command: string, argv: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, argv, { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout: string; stderr: string };
    if (typeof e.code !== "number") throw error;
    return { status: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Runs an npm script's program the way `npm run <name> -- <args>` does, without npm's own start-up. */
function runScript(name: string, args: string[]): Promise<Run> {
  return run(process.execPath, scriptArgv(name, args));
}

const synopsis = (name: string) => (name === "test" ? "npm test" : `npm run ${name}`);

function assertHelp(name: string, help: Run): void {
  assert.equal(help.status, 0, help.stderr);
  const [first, ...rest] = help.stdout.split("\n");
  assert.match(first, /^usage: /, help.stdout);
  assert.ok(
    first.split(" | ").some((usage) => usage.replace(/^usage: /, "").startsWith(synopsis(name))),
    first,
  );
  assert.ok(rest.join("\n").trim().length > 0, "more than the synopsis: what it does");
  assert.equal(help.stderr, "", "nothing else ran");
}

function assertRefused(run: Run, flag: string): void {
  assert.equal(run.status, 2, run.stdout + run.stderr);
  assert.ok(run.stderr.includes(flag), run.stderr);
  assert.match(run.stderr, /usage: npm /);
  assert.equal(run.stdout, "", "nothing ran");
}

describe("every npm run command", () => {
  const names = Object.keys(SCRIPTS);

  it("is a node program under tools/ (which this test can run), the benchmarks and npm test among them", () => {
    for (const name of names) assert.match(SCRIPTS[name], SCRIPT, `${name}: ${SCRIPTS[name]}`);
    for (const name of [
      "check",
      "test",
      "test:quick",
      "test:repeat",
      "lint",
      "bench:backup",
      "bench:rollout",
      "bench:check",
      "guard",
      "ci-access",
      "drift",
      "new-stack",
      "validate-emitted",
    ]) {
      assert.ok(names.includes(name), name);
    }
  });

  for (const name of names) {
    const short = SHORT_HELP_REFUSED.includes(name) ? "refused" : "help";
    it(`${name}: --help prints the usage and exits 0; -h is ${short}; an unknown flag exits 2 with nothing done`, async () => {
      const [help, shortHelp, ...refused] = await Promise.all([
        runScript(name, ["--help"]),
        runScript(name, ["-h"]),
        runScript(name, ["--no-such-flag"]),
        ...(VALID_ARGS[name] ? [runScript(name, [...VALID_ARGS[name], "--no-such-flag"])] : []),
      ]);
      assertHelp(name, help);
      if (short === "help") assertHelp(name, shortHelp);
      else assertRefused(shortHelp, "-h");
      for (const run of refused) assertRefused(run, "--no-such-flag");
    });
  }

  // Through npm itself, as the README runs them: npm hands everything after `--` to the script.
  for (const [name, command] of [
    ["test", ["test"]],
    ["bench:rollout", ["run", "bench:rollout"]],
  ] as const) {
    it(`${synopsis(name)} -- --help prints the usage without running anything; -- --no-such-flag exits 2`, async () => {
      const [help, unknown] = await Promise.all([
        run("npm", ["--silent", ...command, "--", "--help"]),
        run("npm", ["--silent", ...command, "--", "--no-such-flag"]),
      ]);
      assertHelp(name, help);
      assertRefused(unknown, "--no-such-flag");
    });
  }
});

describe("tools/cli.ts parseCommand", () => {
  const spec = {
    usage: "npm run x -- <a> [--n N] [--on]",
    help: "x",
    options: { n: { type: "string" }, on: { type: "boolean" } },
    positionals: { min: 1, max: 2, name: "names" },
  } as const;

  it("parses flags in any position, = or separate values", () => {
    assert.deepEqual({ ...parseCommand(["a", "--n", "3", "--on"], spec).values }, { n: "3", on: true });
    assert.deepEqual(parseCommand(["--n=3", "a", "b"], spec).positionals, ["a", "b"]);
  });

  const refused: [string[], RegExp][] = [
    ...["--bogus", "-x", "--N", "--on=yes", "--help2"].map((flag): [string[], RegExp] => [["a", flag], /option|Unknown|value/i]),
    [["a", "--n"], /argument missing/],
    [["--n", "--on", "a"], /ambiguous|missing/],
    [[], /expected 1 to 2 names, got 0/],
    [["a", "b", "c"], /expected 1 to 2 names, got 3: a b c/],
  ];
  for (const [argv, message] of refused) {
    it(`refuses ${JSON.stringify(argv)} with a UsageError`, () => {
      assert.throws(
        () => parseCommand(argv, spec),
        (e: unknown) => e instanceof UsageError && message.test((e as Error).message),
      );
    });
  }

  it("refuses any positional when a tool takes none", () => {
    assert.throws(() => parseCommand(["x"], { usage: "u", help: "h", options: {} }), /unexpected argument: x/);
  });

  it("asks for help with --help or -h anywhere before --, not after it", () => {
    for (const argv of [["--help"], ["-h"], ["a", "--help"], ["--n", "1", "-h"]]) assert.equal(asksForHelp(argv), true, argv.join(" "));
    for (const argv of [[], ["a"], ["--", "--help"], ["--helpme"], ["-hx"]]) assert.equal(asksForHelp(argv), false, argv.join(" "));
  });

  it("integerOption takes whole numbers at or above the minimum, the fallback when absent", () => {
    assert.equal(integerOption(undefined, "rounds", 1, 7), 7);
    assert.equal(integerOption("16", "size-mb", 16, 1024), 16);
    for (const bad of ["15", "-1", "1.5", "", "1e3", "ten"])
      assert.throws(() => integerOption(bad, "size-mb", 16, 1024), /--size-mb must be an integer >= 16/, bad);
  });
});
