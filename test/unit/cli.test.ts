// Every `npm run` command answers --help with its usage (exit 0) and refuses a flag it
// does not know with exit 2 before doing any work: a benchmark that ignored a typo, or
// took --help for a run, would cost minutes. The scripts come from package.json, so a new
// one is covered (or must be listed as someone else's CLI) from the day it is added.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { UsageError, asksForHelp, integerOption, parseCommand } from "../../tools/cli";
import { ROOT } from "../support/program";

const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
/**
 * Scripts that are other programs' command lines (ESLint, tsc), with their own --help; and
 * the CI-only tools that still parse their own arguments (subcommands; their usage is not
 * yet `npm run …` and --help is an unknown command there): to be moved onto tools/cli.ts.
 */
const EXTERNAL = ["lint", "typecheck", "ci-access", "drift"];
/** Arguments each tool accepts, to show an unknown flag is refused even after valid ones; read-only tools only. */
const VALID_ARGS: Record<string, string[]> = { check: ["staging"], guard: [join("test", "fixtures", "preview", "clean.json")] };

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs an npm script's program the way `npm run <name> -- <args>` does, without npm's own start-up. */
async function runScript(name: string, args: string[]): Promise<Run> {
  const [runner, file] = scripts[name].split(/\s+/);
  const argv = runner === "tsx" ? ["--import", "tsx", file, ...args] : [file, ...args];
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, argv, { cwd: ROOT, encoding: "utf8", timeout: 240_000 });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout: string; stderr: string };
    if (typeof e.code !== "number") throw error;
    return { status: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("every npm run command", () => {
  const own = Object.keys(scripts).filter((name) => !EXTERNAL.includes(name));

  it("is one of the project's tools (tsx/node on a file under tools/) or listed as an external CLI", () => {
    for (const name of own) assert.match(scripts[name], /^(tsx|node) tools\/[\w/.-]+\.(ts|mjs)$/, `${name}: ${scripts[name]}`);
    assert.ok(own.includes("check") && own.includes("bench:backup") && own.includes("new-stack"), own.join(" "));
  });

  for (const name of own) {
    it(`${name}: --help and -h print the usage and exit 0; an unknown flag exits 2 with nothing done`, async () => {
      const synopsis = name === "test" ? "usage: npm test" : `usage: npm run ${name}`;
      const runs = await Promise.all([
        runScript(name, ["--help"]),
        runScript(name, ["-h"]),
        runScript(name, ["--no-such-flag"]),
        ...(VALID_ARGS[name] ? [runScript(name, [...VALID_ARGS[name], "--no-such-flag"])] : []),
      ]);
      const [help, short, ...refused] = runs;
      for (const run of [help, short]) {
        assert.equal(run.status, 0, run.stderr);
        assert.ok(run.stdout.startsWith(synopsis), run.stdout);
      }
      for (const run of refused) {
        assert.equal(run.status, 2, run.stdout + run.stderr);
        assert.match(run.stderr, /--no-such-flag/);
        assert.match(run.stderr, /usage: npm /);
        assert.equal(run.stdout, "", "nothing ran");
      }
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
      assert.throws(() => parseCommand(argv, spec), (e: unknown) => e instanceof UsageError && message.test((e as Error).message));
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
    for (const bad of ["15", "-1", "1.5", "", "1e3", "ten"]) assert.throws(() => integerOption(bad, "size-mb", 16, 1024), /--size-mb must be an integer >= 16/, bad);
  });
});
