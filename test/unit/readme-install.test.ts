// A newcomer copies the README's install commands; CI runs .ci/run. They must be the same
// commands (apt-get update, flags, packages in order), or the README's line is untested.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { aptCommands, ciDebianPackages } from "../support/ci";
import { ROOT } from "../support/program";
import { REHEARSAL_TOOLS } from "../../tools/rehearse/scenarios";

/** The README's block that installs the Debian packages and runs `npm test`. */
function readmeTestBlock(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes("apt-get install"));
  assert.ok(block, "README has no ```sh block with apt-get install");
  return block;
}

describe("README install commands", () => {
  const ci = aptCommands();

  it(".ci/run updates the package lists, then installs every DEBIAN_PACKAGES entry", () => {
    assert.equal(ci.length, 2, JSON.stringify(ci));
    assert.deepEqual(ci[0].slice(-2), ["update", "-qq"]);
    const packages = ciDebianPackages();
    assert.ok(packages.length >= 10, packages.join(" "));
    assert.deepEqual(ci[1].slice(-packages.length), packages);
  });

  it(".ci/run installs every package the rehearsal needs (it fails, never skips, without one)", () => {
    const packages = new Set(ciDebianPackages());
    const missing = REHEARSAL_TOOLS.filter((tool) => !packages.has(tool.debianPackage));
    assert.deepEqual(missing, []);
  });

  it("are exactly what .ci/run runs, followed by npm test", () => {
    const block = readmeTestBlock();
    assert.deepEqual(aptCommands(block), ci);
    assert.ok(block.indexOf("npm test") > block.lastIndexOf("apt-get"), "npm test runs after the install");
  });

  it("a README that drifts from .ci/run in any line, flag or package is told apart", () => {
    const block = readmeTestBlock();
    // The install lines (not comments, not the npm commands): drop each, each word, or swap two packages.
    const lines = block.split("\n").filter((line) => !/^\s*(#|npm |$)/.test(line));
    const words = [
      ...new Set(
        lines
          .join(" ")
          .split(/\s+/)
          .filter((w) => w !== "" && w !== "\\" && w !== "apt-get"),
      ),
    ];
    const mutants = [
      ...lines.map((line) => block.replace(`${line}\n`, "")),
      ...words.map((word) => block.replace(new RegExp(`(^|\\s)${word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?=\\s)`), "$1")),
      block.replace("postgresql postgresql-client", "postgresql-client postgresql"),
    ].filter((mutant) => mutant !== block && mutant.includes("apt-get install"));
    assert.ok(mutants.length > 15, `${mutants.length} mutants`);
    for (const mutant of mutants) assert.notDeepEqual(aptCommands(mutant), ci, mutant);
  });
});
