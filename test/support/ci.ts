// What `.ci/run` installs, read from the script itself, so the README and the PR workflow
// can be held to it without a second copy of the package list.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ROOT } from "./program";

const ciRun = () => readFileSync(path.join(ROOT, ".ci", "run"), "utf8");

/** The DEBIAN_PACKAGES array of `.ci/run`, in order, without its comments. */
export function ciDebianPackages(text = ciRun()): string[] {
  const block = /DEBIAN_PACKAGES=\(([\s\S]*?)\n\)/.exec(text)?.[1] ?? "";
  return block
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .join(" ")
    .split(/\s+/)
    .filter(Boolean);
}

/**
 * The apt-get commands a shell script runs, as argument lists; continuation lines are
 * joined, `"${missing[@]}"` stands for `.ci/run`'s packages (on a fresh machine every one
 * is missing), and an `export DEBIAN_FRONTEND=…` before them becomes their prefix. Reads
 * `.ci/run` by default, and the README's install block the same way.
 */
export function aptCommands(text = ciRun()): string[][] {
  const packages = ciDebianPackages(ciRun());
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim());
  const frontend = lines.map((line) => /^export (DEBIAN_FRONTEND=\S+)$/.exec(line)?.[1]).find(Boolean);
  return lines
    .filter((line) => line.startsWith("apt-get "))
    .map((line) => [
      ...(frontend ? [frontend] : []),
      ...line.split(/\s+/).flatMap((word) => (word === '"${missing[@]}"' ? packages : [word])),
    ]);
}
