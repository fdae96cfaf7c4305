// dropstack:app.command, the api replicas' command: which values the config takes (text, run
// with sh -c, or a list, the exact argv), every refusal naming the key or the list item, and
// the same rule where the App turns it into the container's command.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apiCommandProblems, apiContainerCommand } from "../../components/app/render";
import { parseStackConfig } from "../../components/config/schema";
import { minimalConfig } from "../support/config";
import { seededRandom } from "../support/random";

const rand = seededRandom(20261130);
const withCommand = (command: unknown) => ({ ...minimalConfig(), app: { ...minimalConfig().app, command } });
const parsed = (command: unknown) => parseStackConfig(withCommand(command), "staging");
const problems = (command: unknown) => {
  const result = parsed(command);
  return result.ok ? [] : result.problems;
};

const TEXT_COMMANDS = [
  "uvicorn backend.app:app --host 0.0.0.0 --port 8000 --workers 4",
  "exec gunicorn -w 4 -b 0.0.0.0:$PORT app:app",
  "python -m app && echo never",
  "  uvicorn app:app  ",
  "node server.js --title 'héllo wörld'",
  "x",
];
const ARGV_COMMANDS = [
  ["uvicorn", "backend.app:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"],
  ["/usr/local/bin/server"],
  // Kept as given: no shell splits, expands or trims them.
  ["echo", "$HOME", "a && b", " ", "'quoted'", "two words"],
];
// Values that are neither text nor a list, at the top.
const NOT_A_COMMAND: unknown[] = [5, 0, true, false, null, { run: "uvicorn" }, {}];
// Values that are not an argument, inside a list.
const NOT_AN_ARGUMENT: unknown[] = [8000, 0, true, null, ["nested"], { arg: "x" }];

describe("dropstack:app.command", () => {
  it("is unset by default: the api replicas run the image's own CMD", () => {
    const result = parseStackConfig(minimalConfig(), "staging");
    assert.ok(result.ok);
    assert.equal(result.config.app.command, undefined);
    assert.ok(!("command" in result.config.app));
  });

  it("takes text, run with sh -c as the workers' commands are, and keeps it as given", () => {
    for (const command of TEXT_COMMANDS) {
      const result = parsed(command);
      assert.ok(result.ok, `${command}: ${result.ok ? "" : result.problems.join("; ")}`);
      assert.equal(result.config.app.command, command);
      assert.deepEqual(apiContainerCommand(command), ["sh", "-c", command]);
    }
  });

  it("takes a list of arguments, the exact argv without a shell", () => {
    const generated = Array.from({ length: 30 }, () =>
      Array.from({ length: 1 + rand(8) }, () => Array.from({ length: 1 + rand(12) }, () => String.fromCharCode(0x20 + rand(95))).join("")),
    );
    for (const argv of [...ARGV_COMMANDS, ...generated]) {
      const result = parsed(argv);
      assert.ok(result.ok, `${JSON.stringify(argv)}: ${result.ok ? "" : result.problems.join("; ")}`);
      assert.deepEqual(result.config.app.command, argv);
      assert.deepEqual(apiContainerCommand(argv), argv);
    }
  });

  it("refuses empty or blank text, naming the key and repeating the value", () => {
    for (const blank of ["", " ", "   ", "\u00a0"])
      assert.deepEqual(problems(blank), [
        `dropstack:app.command: expected the api's command, e.g. uvicorn app.main:app --host 0.0.0.0 --port 8000, got ${JSON.stringify(blank)}`,
      ]);
  });

  it("refuses an empty list, saying how to run the image's own CMD instead", () => {
    assert.deepEqual(problems([]), [
      "dropstack:app.command: expected at least the program to run, got an empty list; leave app.command unset to run the image's own CMD",
    ]);
  });

  it("refuses what is neither text nor a list, repeating it", () => {
    for (const value of NOT_A_COMMAND)
      assert.deepEqual(
        problems(value),
        [
          `dropstack:app.command: expected the api's command as text (run with sh -c) or as a list of arguments (run as given), got ${JSON.stringify(value)}`,
        ],
        JSON.stringify(value),
      );
  });

  it("names each list item that is not a non-empty string by its index", () => {
    for (const bad of [...NOT_AN_ARGUMENT, ""]) {
      for (let length = 1; length <= 4; length++) {
        for (let at = 0; at < length; at++) {
          const argv: unknown[] = Array.from({ length }, (_, i) => (i === at ? bad : `arg${i}`));
          const message = bad === "" ? 'expected an argument, got ""' : `expected an argument as text, got ${JSON.stringify(bad)}`;
          assert.deepEqual(problems(argv), [`dropstack:app.command.${at}: ${message}`], JSON.stringify(argv));
        }
      }
    }
    assert.deepEqual(problems(["uvicorn", 8000, "", true]), [
      "dropstack:app.command.1: expected an argument as text, got 8000",
      'dropstack:app.command.2: expected an argument, got ""',
      "dropstack:app.command.3: expected an argument as text, got true",
    ]);
  });

  it("refuses a line break in text or in an argument, like every config value", () => {
    assert.deepEqual(
      problems("uvicorn app:app\nrm -rf /").map((p) => p.split(" (")[0]),
      ["dropstack:app.command: contains a line break or control character"],
    );
    assert.deepEqual(
      problems(["uvicorn", "app:app\n"]).map((p) => p.split(" (")[0]),
      ["dropstack:app.command.1: contains a line break or control character"],
    );
  });

  it("is refused by the App by the same rule, naming the key, should a value get past the config", () => {
    const refused: unknown[] = ["", " ", [], ["uvicorn", ""], ["uvicorn", 8000], ...NOT_A_COMMAND];
    for (const value of refused) {
      const expected = apiCommandProblems(value)
        .map(({ index, message }) => `dropstack:app.command${index === undefined ? "" : `.${index}`}: ${message}`)
        .join("\n");
      assert.ok(expected.length > 0, JSON.stringify(value));
      assert.throws(() => apiContainerCommand(value as string), { message: expected }, JSON.stringify(value));
      assert.deepEqual(problems(value), expected.split("\n"), JSON.stringify(value));
    }
  });
});
