// `npm run guard -- <preview.json | -> [--allow <urn-or-type>]...`
// Blocks a deploy whose `pulumi preview --json` (or `npm run -s check -- <stack> --json`)
// would delete or replace a protected resource: CrossGuard policies cannot see operations
// (pulumi/pulumi-policy#154), the preview can. Exit codes: 0 clean, 1 blocked, 2 bad
// arguments, unusable input (a failed preview, a possibly corrupt state) or a guard bug
// (never 1, so "blocked" always means a finding).
// The decisions live in ./guard.ts; this file only does I/O.
import { readFileSync } from "node:fs";
import {
  EXIT_BAD_INPUT,
  HELP,
  PreviewInputError,
  USAGE,
  UsageError,
  evaluatePreview,
  exitCodeFor,
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
    if (error instanceof UsageError) {
      process.stderr.write(`guard: ${error.message}\n${USAGE}\n`);
      return EXIT_BAD_INPUT;
    }
    if (error instanceof PreviewInputError) {
      process.stderr.write(`guard: ${error.message}\n`);
      return EXIT_BAD_INPUT;
    }
    // Anything else is a bug in the guard; it must still stop the pipeline, and must not
    // read as exit 1 ("blocked by a finding") to whoever reads the log.
    process.stderr.write(`guard: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT_BAD_INPUT;
  }
}

process.exitCode = main(process.argv.slice(2));
