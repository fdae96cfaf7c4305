// npm run drift -- <preview.json> <pulumi preview's exit status>
// Prints the verdict (first line) and each changed resource; exits 0 no changes, 1 changes
// found, 3 the program failed, 2 bad arguments.
import { readFileSync } from "node:fs";
import { driftVerdict } from "./verdict";

const [file, status] = process.argv.slice(2);
if (!file || status === undefined || !/^\d+$/.test(status)) {
  console.error("usage: npm run drift -- <preview.json> <pulumi preview exit status>");
  process.exit(2);
}
let text = "";
try {
  text = readFileSync(file, "utf8");
} catch {
  // A preview that failed may not have written the file; the exit status decides.
}
const result = driftVerdict(text, Number(status), file);
console.log(`verdict: ${result.verdict}`);
for (const change of result.changes) console.log(`DRIFT ${change}`);
process.exitCode = result.exitCode;
