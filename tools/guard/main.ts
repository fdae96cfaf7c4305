// `npm run guard -- <preview.json | -> [--allow <urn-or-type>]...`
// Blocks a deploy whose `pulumi preview --json` (or `npm run -s check -- <stack> --json`)
// would delete or replace a protected resource: CrossGuard policies cannot see operations
// (pulumi/pulumi-policy#154), the preview can. Exit codes: 0 clean, 1 blocked, 2 bad
// arguments, unusable input (a failed preview, a possibly corrupt state) or a guard bug
// (never 1, so "blocked" always means a finding).
// The decisions live in ./guard.ts; this file only does I/O.
import { readFileSync } from "node:fs";
import {
  HELP,
  PreviewInputError,
  USAGE,
  evaluatePreview,
  exitCodeFor,
  failureFor,
  formatReport,
  isHelpRequest,
  parseGuardArgs,
  parsePreview,
} from "./guard";

function readInput(preview: string): { text: string; source: string } {
  const source = preview === "-" ? "<stdin>" : preview;
  try {
    // fd 0 reads stdin to its end, which is what a piped `pulumi preview --json` needs.
    return { text: readFileSync(preview === "-" ? 0 : preview, "utf8"), source };
  } catch (error) {
    throw new PreviewInputError(`${source}: cannot read (${(error as Error).message})`);
  }
}

function main(argv: readonly string[]): number {
  try {
    if (isHelpRequest(argv)) {
      process.stdout.write(`${USAGE}\n${HELP}\n`);
      return 0;
    }
    const args = parseGuardArgs(argv);
    const { text, source } = readInput(args.preview);
    const report = evaluatePreview(parsePreview(text, source), args.allow);
    process.stdout.write(formatReport(report, source));
    return exitCodeFor(report);
  } catch (error) {
    const failure = failureFor(error);
    process.stderr.write(failure.stderr);
    return failure.exitCode;
  }
}

process.exitCode = main(process.argv.slice(2));
