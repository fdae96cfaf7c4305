// Mutants of the hook scripts: each removes or weakens one guard, so a run of the hook
// tests against it shows whether some test needs that guard. Stryker cannot mutate bash,
// and the guards are where the hooks keep data safe (refusing bad input, atomic
// publication, locks, cleanup on failure).

/** Everything that runs backup.sh and the lib.sh it sources, for real or through the hook commands. */
const BACKUP_TESTS = [
  "hooks-backup-restore",
  "hooks-guards",
  "hooks-migrate",
  "backup-lock",
  "hooks-component-commands",
  "hooks-component-rollback",
] as const;

/** The test files that exercise each script, the likeliest killer first. */
export const TESTS_BY_SCRIPT: Readonly<Record<string, readonly string[]>> = {
  "lib.sh": BACKUP_TESTS,
  "backup.sh": BACKUP_TESTS,
  "migrate.sh": ["hooks-migrate", "backup-lock", "hooks-component-commands", "hooks-component-rollback"],
  "restore.sh": ["hooks-backup-restore", "hooks-guards", "hooks-component-rollback", "hooks-component-commands"],
  "handoff.sh": ["hooks-component-commands", "hooks-component-rollback", "hooks-migrate"],
};

export type ShellOperator =
  | "die-removed"
  | "return-failure-removed"
  | "requirement-removed"
  | "errexit-removed"
  | "pipefail-removed"
  | "sync-removed"
  | "mv-to-cp"
  | "trap-removed"
  | "advisory-lock-removed"
  | "exit-failure-removed"
  | "parameter-check-removed";

export interface ShellMutant {
  /** Stable across edits elsewhere in the file: script, operator and the guarded line's text. */
  key: string;
  script: string;
  line: number;
  operator: ShellOperator;
  original: string;
  mutated: string;
  /** The whole script with this one mutation applied. */
  source: string;
}

interface LineMutation {
  operator: ShellOperator;
  mutated: string;
}

const IS_COMMENT = /^\s*#/;
// A call of die as a command (after `||`, `&&`, `then`, or at the start of a line), not
// its definition `die() {` and not a word inside a message.
const DIE_CALL = /(^\s*|\|\|\s*|&&\s*|\bthen\s+|;\s*)die(\s+("[^"]*"|'[^']*'|[^;|&]*))?(?=\s*($|;|\|\||&&|\bfi\b))/g;
const OR_RETURN_FAILURE = /\s*\|\|\s*return\s+[1-9][0-9]*\b/g;
const RETURN_FAILURE_LINE = /^(\s*)return\s+[1-9][0-9]*\s*$/;
const REQUIREMENT = /^(\s*)require_(env|commands|integer)\b.*$/;
const SET_STRICT = /^(\s*)set -euo pipefail\s*$/;
const SYNC_COMMAND = /^(\s*)sync\b.*$/;
const MV_COMMAND = /^(\s*)mv(\s)/;
const TRAP_COMMAND = /^(\s*)trap\s+.*$/;
const ADVISORY_LOCK = /pg_advisory_lock\(/g;
// A failing exit as a command (`|| { …; exit 1; }`, `then exit 1`, a line of its own), not
// inside a trap's quoted handler.
const EXIT_FAILURE = /(^\s*|;\s*|\{\s*|\bthen\s+|\|\|\s*|&&\s*)exit\s+([1-9][0-9]*|"?\$\(\([^)]*\)\)"?)(?=\s*($|;|\}|\bfi\b))/g;
const PARAMETER_CHECK = /^(\s*):\s+"\$\{[A-Za-z_][A-Za-z0-9_]*:\?\}"/;

/** Every single-guard mutation of one line, in a fixed order. */
export function mutateLine(line: string): LineMutation[] {
  if (IS_COMMENT.test(line)) return [];
  const mutations: LineMutation[] = [];
  for (const match of line.matchAll(DIE_CALL)) {
    const start = (match.index ?? 0) + match[1].length;
    const end = (match.index ?? 0) + match[0].length;
    // `true` keeps the line's syntax: `x || true`, `then true; fi`.
    mutations.push({ operator: "die-removed", mutated: line.slice(0, start) + "true" + line.slice(end) });
  }
  for (const match of line.matchAll(OR_RETURN_FAILURE)) {
    const start = match.index ?? 0;
    mutations.push({ operator: "return-failure-removed", mutated: line.slice(0, start) + line.slice(start + match[0].length) });
  }
  const returnLine = RETURN_FAILURE_LINE.exec(line);
  if (returnLine) mutations.push({ operator: "return-failure-removed", mutated: `${returnLine[1]}:` });
  const requirement = REQUIREMENT.exec(line);
  if (requirement) mutations.push({ operator: "requirement-removed", mutated: `${requirement[1]}:` });
  const strict = SET_STRICT.exec(line);
  if (strict) {
    mutations.push({ operator: "errexit-removed", mutated: `${strict[1]}set -uo pipefail` });
    mutations.push({ operator: "pipefail-removed", mutated: `${strict[1]}set -eu` });
  }
  const sync = SYNC_COMMAND.exec(line);
  if (sync) mutations.push({ operator: "sync-removed", mutated: `${sync[1]}:` });
  if (MV_COMMAND.test(line)) mutations.push({ operator: "mv-to-cp", mutated: line.replace(MV_COMMAND, "$1cp$2") });
  const trap = TRAP_COMMAND.exec(line);
  if (trap) mutations.push({ operator: "trap-removed", mutated: `${trap[1]}:` });
  for (const match of line.matchAll(ADVISORY_LOCK)) {
    const start = match.index ?? 0;
    // abs() takes the same bigint key and returns at once: the lock is simply not taken.
    mutations.push({ operator: "advisory-lock-removed", mutated: line.slice(0, start) + "abs(" + line.slice(start + match[0].length) });
  }
  if (!TRAP_COMMAND.test(line)) {
    for (const match of line.matchAll(EXIT_FAILURE)) {
      const start = (match.index ?? 0) + match[1].length;
      const end = (match.index ?? 0) + match[0].length;
      mutations.push({ operator: "exit-failure-removed", mutated: line.slice(0, start) + ":" + line.slice(end) });
    }
  }
  const parameters = PARAMETER_CHECK.exec(line);
  if (parameters) mutations.push({ operator: "parameter-check-removed", mutated: `${parameters[1]}:` });
  return mutations;
}

/** Every mutant of a script, one guard each. */
export function shellMutants(script: string, source: string): ShellMutant[] {
  const lines = source.split("\n");
  const seen = new Map<string, number>();
  return lines.flatMap((original, index) =>
    mutateLine(original).map(({ operator, mutated }) => {
      const base = `${script}|${operator}|${original.trim()}`;
      const occurrence = (seen.get(base) ?? 0) + 1;
      seen.set(base, occurrence);
      const mutatedLines = [...lines];
      mutatedLines[index] = mutated;
      return {
        key: occurrence === 1 ? base : `${base}|#${occurrence}`,
        script,
        line: index + 1,
        operator,
        original,
        mutated,
        source: mutatedLines.join("\n"),
      };
    }),
  );
}
