// The workflow security linter (tools/workflow-lint): every rule flags its violating
// fixture and passes its compliant one, variants of each mistake are caught, and the
// repository's own workflows pass every rule.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { RULES, lintWorkflow } from "../../tools/workflow-lint/rules";

const ROOT = join(__dirname, "..", "..");
const FIXTURES = join(ROOT, "test", "fixtures", "workflows");
const WORKFLOWS = join(ROOT, ".github", "workflows");
const fixture = (name: string) => readFileSync(join(FIXTURES, name), "utf8");
const rulesFound = (text: string) => [...new Set(lintWorkflow(text, "x.yml").map((f) => f.rule))].sort();

/** How many findings each violating fixture holds: one per distinct mistake in it. */
const EXPECTED_FINDINGS: Record<(typeof RULES)[number], number> = {
  "unpinned-action": 3,
  "persisted-credentials": 2,
  "secret-outside-environment": 3,
  "template-injection": 3,
  "npm-cache-with-secrets": 2,
};

const job = (steps: string, extra = "") => `on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n${extra}    steps:\n${steps}`;

describe("workflow security linter", () => {
  for (const rule of RULES) {
    it(`${rule}: flags each mistake in the violating fixture and nothing else`, () => {
      const findings = lintWorkflow(fixture(`${rule}.violating.yml`), `${rule}.violating.yml`);
      assert.deepEqual([...new Set(findings.map((f) => f.rule))], [rule], JSON.stringify(findings, null, 2));
      assert.equal(findings.length, EXPECTED_FINDINGS[rule], JSON.stringify(findings, null, 2));
    });

    it(`${rule}: passes the compliant fixture`, () => {
      assert.deepEqual(lintWorkflow(fixture(`${rule}.compliant.yml`), `${rule}.compliant.yml`), []);
    });
  }

  it("has a fixture pair for every rule and no fixture without a rule", () => {
    const files = readdirSync(FIXTURES).sort();
    assert.deepEqual(files, RULES.flatMap((r) => [`${r}.compliant.yml`, `${r}.violating.yml`]).sort());
  });

  it("unpinned-action: tags, branches, short SHAs and missing version comments, however the line is written", () => {
    const sha = "3d3c42e5aac5ba805825da76410c181273ba90b1";
    const bad = [
      "pulumi/actions@v7",
      "pulumi/actions@main",
      `pulumi/actions@${sha.slice(0, 12)}`,
      `pulumi/actions@${sha.toUpperCase()}`,
      "docker://alpine:3.20",
    ];
    for (const ref of bad) {
      for (const line of [`      - uses: ${ref}`, `      - uses: "${ref}" # v7`, `      -   uses: ${ref}   # v7.0.1`]) {
        assert.deepEqual(rulesFound(job(line)), ["unpinned-action"], line);
      }
    }
    for (const comment of ["", "# latest", "# 7.0.1", "#v7 and more"]) {
      assert.deepEqual(
        rulesFound(job(`      - uses: actions/checkout@${sha} ${comment}\n        with:\n          persist-credentials: false`)),
        ["unpinned-action"],
        comment,
      );
    }
    for (const comment of ["# v7", "#v7.0", "# v7.0.1"]) {
      assert.deepEqual(
        rulesFound(job(`      - uses: actions/checkout@${sha} ${comment}\n        with:\n          persist-credentials: false`)),
        [],
        comment,
      );
    }
    assert.deepEqual(
      rulesFound(`on: push\njobs:\n  call:\n    uses: acme/workflows/.github/workflows/x.yml@v1\n`),
      ["unpinned-action"],
      "a reusable workflow is an action too",
    );
  });

  it("template-injection: any expression in a script, whatever context it reads", () => {
    for (const expr of ["github.event.issue.title", "inputs.allow", "github.head_ref", "steps.x.outputs.y", "matrix.stack", "env.X"]) {
      assert.deepEqual(
        rulesFound(job(`      - run: |\n          echo start\n          echo \${{ ${expr} }}`)),
        ["template-injection"],
        expr,
      );
      assert.deepEqual(rulesFound(job(`      - run: echo "$V"\n        env:\n          V: \${{ ${expr} }}`)), [], expr);
    }
  });

  it("secret-outside-environment: secrets in a step, a job env, a with:, or passed to a called workflow need an environment", () => {
    const placements = [
      job("      - run: x\n        env:\n          T: ${{ secrets.T }}"),
      job("      - run: x", "    env:\n      T: ${{ secrets.T }}\n"),
      job(
        "      - uses: webfactory/ssh-agent@a6f90b1f127823b31d4d4a8d96047790581349bd # v0.9.1\n        with:\n          ssh-private-key: ${{ secrets.KEY }}",
      ),
      `on: push\njobs:\n  call:\n    uses: ./.github/workflows/deploy.yml\n    with:\n      token: \${{ secrets.T }}\n`,
    ];
    for (const text of placements) assert.deepEqual(rulesFound(text), ["secret-outside-environment"], text);
    for (const env of ["    environment: production\n", "    environment:\n      name: staging-preview\n"]) {
      assert.deepEqual(rulesFound(job("      - run: x\n        env:\n          T: ${{ secrets.T }}", env)), [], env);
    }
  });

  for (const file of readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml"))) {
    it(`the repository's ${file} passes every rule`, () => {
      assert.deepEqual(lintWorkflow(readFileSync(join(WORKFLOWS, file), "utf8"), file), []);
    });
  }
});
