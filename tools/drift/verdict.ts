// The drift check's verdict on `pulumi preview --refresh --json`: "no changes", "changes
// found" (someone changed the cloud outside Pulumi) or "the program failed" (the check
// itself is broken: a crash, a provider that cannot connect). The last two need different
// people, so they are told apart.
import { PreviewInputError, parsePreview } from "../guard/guard";

export const EXIT_NO_CHANGES = 0;
export const EXIT_CHANGES_FOUND = 1;
export const EXIT_PROGRAM_FAILED = 3;

export interface DriftVerdict {
  exitCode: number;
  /** One line for the run summary and the issue. */
  verdict: string;
  /** `<op> <urn>` per changed resource. */
  changes: string[];
}

/** `previewExit` is pulumi preview's own exit status; its JSON goes unread when that failed. */
export function driftVerdict(previewJson: string, previewExit: number, source: string): DriftVerdict {
  if (previewExit !== 0) {
    return { exitCode: EXIT_PROGRAM_FAILED, verdict: `the program failed: pulumi preview exited ${previewExit}`, changes: [] };
  }
  let digest;
  try {
    digest = parsePreview(previewJson, source);
  } catch (error) {
    if (error instanceof PreviewInputError)
      return { exitCode: EXIT_PROGRAM_FAILED, verdict: `the program failed: ${error.message}`, changes: [] };
    throw error;
  }
  const changes = (digest.steps ?? []).filter((s) => s.op !== "same" && s.op !== "read").map((s) => `${s.op} ${s.urn}`);
  if (changes.length === 0) return { exitCode: EXIT_NO_CHANGES, verdict: "no changes", changes };
  return { exitCode: EXIT_CHANGES_FOUND, verdict: `changes found: ${changes.length} resource(s) differ from the stack's state`, changes };
}
