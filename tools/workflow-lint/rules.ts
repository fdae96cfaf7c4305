// The project's GitHub Actions security rules, for what actionlint does not check and no
// packaged linter checks offline. Each rule reads a workflow's text (the `# vX` comment
// beside a pin exists only there) and its parsed YAML.
import { parse } from "yaml";

export const RULES = [
  "unpinned-action",
  "persisted-credentials",
  "secret-outside-environment",
  "template-injection",
  "npm-cache-with-secrets",
] as const;
export type Rule = (typeof RULES)[number];

export interface Finding {
  rule: Rule;
  where: string;
  message: string;
}

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}

interface Job {
  environment?: unknown;
  env?: Record<string, unknown>;
  steps?: Step[];
  uses?: string;
  secrets?: unknown;
  with?: Record<string, unknown>;
}

/** `owner/repo[/path]@<40 hex>`; local actions and digest-pinned images need no SHA. */
const PINNED = /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/;
const VERSION_COMMENT = /^#\s*v\d+(\.\d+){0,2}\s*$/;
/** `secrets.X` except the run's own GITHUB_TOKEN, which environments do not hold. */
const SECRET = /secrets\.(?!GITHUB_TOKEN\b)[A-Za-z_][A-Za-z0-9_]*|secrets\[/;

function stepLabel(jobName: string, step: Step, index: number): string {
  return `${jobName}: step ${index + 1} (${step.name ?? step.uses ?? (step.run ?? "").split("\n")[0]})`;
}

function mentionsSecret(value: unknown): boolean {
  return SECRET.test(JSON.stringify(value ?? null));
}

/** `uses:` lines as written: the value and the comment after it. */
function usesLines(text: string): { line: number; value: string; comment: string }[] {
  return text.split("\n").flatMap((line, index) => {
    const match = /^\s*(?:-\s+)?uses:\s*(["']?)([^\s"'#]+)\1\s*(#.*)?$/.exec(line);
    return match ? [{ line: index + 1, value: match[2], comment: (match[3] ?? "").trim() }] : [];
  });
}

export function lintWorkflow(text: string, file: string): Finding[] {
  const findings: Finding[] = [];
  const workflow = parse(text) as { env?: Record<string, unknown>; jobs?: Record<string, Job> };

  for (const { line, value, comment } of usesLines(text)) {
    if (value.startsWith("./") || /^docker:\/\/.+@sha256:[0-9a-f]{64}$/.test(value)) continue;
    if (!PINNED.test(value)) {
      findings.push({
        rule: "unpinned-action",
        where: `${file}:${line}`,
        message: `${value} is not pinned to a full commit SHA: a moved tag would run other code with this job's permissions`,
      });
    } else if (!VERSION_COMMENT.test(comment)) {
      findings.push({
        rule: "unpinned-action",
        where: `${file}:${line}`,
        message: `${value} needs a "# vX" comment naming the release the SHA is (Dependabot keeps both current)`,
      });
    }
  }

  if (mentionsSecret(workflow.env)) {
    findings.push({
      rule: "secret-outside-environment",
      where: `${file}: env`,
      message: "secrets in the workflow-level env reach every job, environment or not",
    });
  }

  for (const [jobName, job] of Object.entries(workflow.jobs ?? {})) {
    const steps = job.steps ?? [];
    const holdsSecrets = mentionsSecret({ env: job.env, steps, secrets: job.secrets, with: job.with });
    if (holdsSecrets && job.environment === undefined) {
      findings.push({
        rule: "secret-outside-environment",
        where: `${file}: ${jobName}`,
        message:
          "reads secrets without an environment: they must be environment secrets (main only, reviewers for write access), not repository secrets every branch's code can use",
      });
    }
    steps.forEach((step, index) => {
      const where = `${file}: ${stepLabel(jobName, step, index)}`;
      const action = step.uses?.split("@")[0] ?? "";
      if (action === "actions/checkout" && step.with?.["persist-credentials"] !== false) {
        findings.push({
          rule: "persisted-credentials",
          where,
          message:
            "actions/checkout keeps the job's token in .git/config unless persist-credentials: false; every later step could read it",
        });
      }
      const scripts = [step.run, action === "actions/github-script" ? step.with?.script : undefined];
      for (const script of scripts) {
        if (typeof script === "string" && script.includes("${{")) {
          findings.push({
            rule: "template-injection",
            where,
            message: 'an expression inside a script is pasted into the shell before it runs; pass the value through env and quote "$VAR"',
          });
        }
      }
      if (
        holdsSecrets &&
        action === "actions/setup-node" &&
        (step.with?.cache !== undefined || step.with?.["package-manager-cache"] !== false)
      ) {
        findings.push({
          rule: "npm-cache-with-secrets",
          where,
          message:
            "a job holding secrets restores a dependency cache any branch could have written: set package-manager-cache: false and no cache",
        });
      }
    });
  }
  return findings;
}
