// The README, the runbooks and docs/design.md must agree with the code: every npm script,
// stack output, policy and repository path they name exists, and the runbook covers every
// policy. Comments in code name files too; those must resolve, and nothing may point
// outside the repository.
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import { policies } from "../../policies/all";
import { ROOT } from "../support/program";

const DOCS = ["README.md", "docs/operations.md", "docs/rollback.md", "docs/design.md"];
const read = (file: string) => readFileSync(join(ROOT, file), "utf8");
const scripts = Object.keys((JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts);
const stackOutputs = [...read("index.ts").matchAll(/^export const (\w+)/gm)].map((m) => m[1]);

describe("docs agree with the code", () => {
  for (const doc of DOCS) {
    const text = read(doc);

    it(`${doc}: every npm script it runs exists`, () => {
      const named = [...text.matchAll(/npm run (?:--?\w+\s+)*([\w:][\w:-]*)/g)].map((m) => m[1]);
      for (const script of named)
        assert.ok(scripts.includes(script), `${doc} runs "npm run ${script}", which package.json does not define`);
    });

    it(`${doc}: every stack output it reads exists`, () => {
      const named = [...text.matchAll(/pulumi stack output (?:--show-secrets )?(\w+)/g)].map((m) => m[1]);
      for (const output of named)
        assert.ok(stackOutputs.includes(output), `${doc} reads stack output "${output}", which index.ts does not export`);
    });

    it(`${doc}: every repository path it names exists`, () => {
      const paths = [...text.matchAll(/`((?:components|policies|tools|docs|test|\.github|\.ci)\/[\w./-]+)`/g)].map((m) => m[1]);
      for (const path of paths) assert.ok(existsSync(join(ROOT, path)), `${doc} names ${path}, which does not exist`);
    });

    it(`${doc}: every policy it names is in the pack`, () => {
      const names = policies.map((p) => p.name);
      const named = [...text.matchAll(/`([a-z0-9]+(?:-[a-z0-9.]+)+)`/g)]
        .map((m) => m[1])
        .filter((n) => /^(firewall|volume|droplet|database|backups|redis|deploy|app|container|nginx|proxy|auth0|monitoring)-/.test(n));
      for (const name of named) assert.ok(names.includes(name), `${doc} names policy ${name}, which the pack does not have`);
    });
  }

  it("the runbook's policy table covers every policy in the pack", () => {
    const runbook = read("docs/operations.md");
    for (const p of policies) assert.ok(runbook.includes(`| \`${p.name}\` |`), `docs/operations.md does not explain ${p.name}`);
  });
});

/** Every file of the repository (not node_modules, .git, build output or mutation-testing sandboxes and reports), relative to ROOT. */
function repositoryFiles(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (["node_modules", ".git", "out", ".emit", ".stryker-tmp", "reports"].includes(entry.name)) return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? repositoryFiles(path) : [relative(ROOT, path)];
  });
}

const FILES = repositoryFiles();
const TOP_LEVEL = "(?:components|policies|tools|docs|test|\\.github|\\.ci)";
// A repository path in prose: starts at a word boundary (not inside a URL or ../ path),
// may end in a glob (`test/system/nginx*.test.ts`).
const PATH_IN_TEXT = new RegExp(`(?<![\\w./@-])${TOP_LEVEL}/[\\w./*-]*[\\w*/]`, "g");

/** The named path exists: as a file or folder, as a module without its extension, or a glob that matches. */
function resolves(path: string): boolean {
  const clean = path.replace(/\/$/, "");
  if (clean.includes("*")) {
    const pattern = new RegExp(
      `^${clean
        .split("*")
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^/]*")}$`,
    );
    return FILES.some((file) => pattern.test(file));
  }
  return ["", ".ts", ".mjs", ".js", ".sh"].some((ext) => existsSync(join(ROOT, clean + ext)));
}

/** The comment text of a source file: `//` and block comments for JS/TS, `#` lines for shell. */
function commentsOf(file: string, text: string): string {
  if (file.endsWith(".sh") || file === ".ci/run")
    return text
      .split("\n")
      .filter((l) => /^\s*#/.test(l))
      .join("\n");
  const comments = [...text.matchAll(/\/\*[\s\S]*?\*\/|(?<![:"'`\\])\/\/.*$/gm)].map((m) => m[0]);
  return comments.join("\n");
}

describe("every path the repository names resolves", () => {
  const sources = FILES.filter((f) => /\.(ts|mjs|cjs|js|sh)$/.test(f) || f === ".ci/run").filter((f) => !f.startsWith("test/fixtures/"));
  const markdown = FILES.filter((f) => f.endsWith(".md"));

  it("finds the files to read", () => {
    assert.ok(
      sources.includes("components/proxy/render.ts") && sources.includes("components/hooks/backup.sh"),
      "source files were not found",
    );
    assert.ok(markdown.includes("README.md") && markdown.includes("docs/design.md"), "markdown files were not found");
  });

  it("comments in code name only paths that exist", () => {
    const broken = sources.flatMap((file) =>
      [...commentsOf(file, read(file)).matchAll(PATH_IN_TEXT)]
        .map((m) => m[0])
        .filter((path) => !resolves(path))
        .map((path) => `${file}: ${path}`),
    );
    assert.deepEqual(broken, []);
  });

  it("markdown names only paths that exist, in backticks and in relative links", () => {
    const broken = markdown.flatMap((file) => {
      const text = read(file);
      const quoted = [...text.matchAll(/`([^`\s]+)`/g)]
        .map((m) => m[1])
        .filter((p) => new RegExp(`^${TOP_LEVEL}/`).test(p) && !p.includes("<"));
      const linked = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
        .map((m) => m[1].split("#")[0])
        .filter((p) => p !== "" && !/^[a-z]+:/i.test(p))
        .map((p) => relative(ROOT, join(ROOT, dirname(file), p)));
      return [...quoted, ...linked].filter((path) => !resolves(path)).map((path) => `${file}: ${path}`);
    });
    assert.deepEqual(broken, []);
  });

  it("nothing points at files outside the repository", () => {
    // Built from parts, so that this file does not itself name what it refuses.
    const outside = new RegExp(["\\.\\./" + "shared", "DESIGN" + "\\.md", "DESIGN" + " §", "\\bseeds\\b"].join("|"));
    const texts = FILES.filter((f) => /\.(ts|mjs|cjs|js|sh|md|ya?ml|json)$/.test(f) || f === ".ci/run").filter(
      (f) => f !== "package-lock.json" && f !== "test/unit/docs.test.ts",
    );
    const found = texts.filter((file) => outside.test(read(file)));
    assert.deepEqual(found, []);
  });

  it("the checks can fail: a broken path, a glob with no match and an outside reference are caught", () => {
    assert.equal(resolves("components/proxy/no-such-file.ts"), false);
    assert.equal(resolves("test/system/no-such-*.test.ts"), false);
    assert.equal(resolves("test/system/nginx*.test.ts"), true);
    assert.equal(resolves("tools/check/harness"), true);
    assert.deepEqual(
      [..."see components/app/render.ts, and https://x.org/docs/a or ../tools/x".matchAll(PATH_IN_TEXT)].map((m) => m[0]),
      ["components/app/render.ts"],
    );
  });
});
