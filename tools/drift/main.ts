// npm run drift -- <preview.json> <pulumi preview's exit status>
// Prints the verdict (first line) and each changed resource; exits 0 no changes, 1 changes
// found, 3 the program failed, 2 bad arguments.
import { readFileSync } from "node:fs";
import { UsageError, commandLine } from "../cli";
import { driftVerdict } from "./verdict";

const COMMAND = {
  usage: "npm run drift -- <preview.json> <pulumi preview exit status>",
  help: `
The drift job's verdict on \`pulumi preview --refresh --json\`: prints
"verdict: …" and a DRIFT line for each resource the live state no longer matches.
The preview's exit status decides when its JSON is missing (a preview that failed).

Exit: 0 no changes, 1 changes found, 3 the preview itself failed, 2 bad arguments.`,
  options: {},
  positionals: { min: 2, max: 2, name: "arguments (the preview file and its exit status)" },
} as const;

const { file, status } = commandLine(process.argv.slice(2), COMMAND, ({ positionals: [file, status] }) => {
  if (!/^\d+$/.test(status)) throw new UsageError(`the exit status must be a number, got ${status}`);
  return { file, status: Number(status) };
});
let text = "";
try {
  text = readFileSync(file, "utf8");
} catch {
  // A preview that failed may not have written the file; the exit status decides.
}
const result = driftVerdict(text, status, file);
console.log(`verdict: ${result.verdict}`);
for (const change of result.changes) console.log(`DRIFT ${change}`);
process.exitCode = result.exitCode;
