// The README and the runbooks must agree with the code: every npm script, stack output,
// policy and repository path they name exists, and the runbook covers every policy.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { policies } from "../../policies/all";
import { ROOT } from "../support/program";

const DOCS = ["README.md", "docs/operations.md", "docs/rollback.md"];
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");
const scripts = Object.keys((JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts);
const stackOutputs = [...read("index.ts").matchAll(/^export const (\w+)/gm)].map((m) => m[1]);

describe("docs agree with the code", () => {
  for (const doc of DOCS) {
    const text = read(doc);

    it(`${doc}: every npm script it runs exists`, () => {
      const named = [...text.matchAll(/npm run (?:--?\w+\s+)*([\w:][\w:-]*)/g)].map((m) => m[1]);
      for (const script of named) assert.ok(scripts.includes(script), `${doc} runs "npm run ${script}", which package.json does not define`);
    });

    it(`${doc}: every stack output it reads exists`, () => {
      const named = [...text.matchAll(/pulumi stack output (?:--show-secrets )?(\w+)/g)].map((m) => m[1]);
      for (const output of named) assert.ok(stackOutputs.includes(output), `${doc} reads stack output "${output}", which index.ts does not export`);
    });

    it(`${doc}: every repository path it names exists`, () => {
      const paths = [...text.matchAll(/`((?:components|policies|tools|docs|test|\.github|\.ci)\/[\w./-]+)`/g)].map((m) => m[1]);
      for (const path of paths) assert.ok(existsSync(join(ROOT, path)), `${doc} names ${path}, which does not exist`);
    });

    it(`${doc}: every policy it names is in the pack`, () => {
      const names = policies.map((p) => p.name);
      const named = [...text.matchAll(/`([a-z0-9]+(?:-[a-z0-9.]+)+)`/g)].map((m) => m[1]).filter((n) => /^(firewall|volume|droplet|database|backups|redis|deploy|app|container|nginx|proxy|auth0|monitoring)-/.test(n));
      for (const name of named) assert.ok(names.includes(name), `${doc} names policy ${name}, which the pack does not have`);
    });
  }

  it("the runbook's policy table covers every policy in the pack", () => {
    const runbook = read("docs/operations.md");
    for (const p of policies) assert.ok(runbook.includes(`| \`${p.name}\` |`), `docs/operations.md does not explain ${p.name}`);
  });
});
