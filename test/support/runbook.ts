// The bash blocks of docs/rollback.md marked `<!-- runbook-test: <name> -->`, which tests
// run or apply exactly as written.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const RUNBOOK = readFileSync(join(__dirname, "..", "..", "docs", "rollback.md"), "utf8");

export function runbookBlock(name: string): string {
  const match = new RegExp(`<!-- runbook-test: ${name} -->\\n\`\`\`bash\\n([\\s\\S]*?)\\n\`\`\``).exec(RUNBOOK);
  if (!match) throw new Error(`docs/rollback.md has no bash block marked runbook-test: ${name}`);
  return match[1];
}
