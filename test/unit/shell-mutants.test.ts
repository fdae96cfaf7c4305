import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { mutateLine, shellMutants, TESTS_BY_SCRIPT } from "../../tools/mutation/shell-mutants";

const HOOKS = join(__dirname, "..", "..", "components", "hooks");

describe("shell guard mutants", () => {
  test("a die call is replaced by true wherever it stands", () => {
    const cases: Array<[string, string]> = [
      [`mkdir -p -- "$d" || die "cannot create $d"`, `mkdir -p -- "$d" || true`],
      [`  die "pg_dump failed (its reason is above); nothing was kept"`, `  true`],
      [`[[ -n $x ]] && die 'x is set'`, `[[ -n $x ]] && true`],
      [`if bad; then die "bad"; fi`, `if bad; then true; fi`],
      [`(($# == 1)) || die "usage: restore.sh <file>"`, `(($# == 1)) || true`],
      [`  die`, `  true`],
    ];
    for (const [line, expected] of cases) {
      const mutations = mutateLine(line).filter((m) => m.operator === "die-removed");
      assert.deepEqual(
        mutations.map((m) => m.mutated),
        [expected],
        line,
      );
    }
  });

  test("die's definition, comments and words inside messages are not guards", () => {
    for (const line of ["die() {", "# die when the dump is empty", `log "we die here"`, `  diet=1`, `undie "x"`]) {
      assert.deepEqual(
        mutateLine(line).filter((m) => m.operator === "die-removed"),
        [],
        line,
      );
    }
  });

  test("each guard operator weakens exactly its guard", () => {
    const expectations: Array<[string, string, string]> = [
      ["set -euo pipefail", "errexit-removed", "set -uo pipefail"],
      ["set -euo pipefail", "pipefail-removed", "set -eu"],
      [`digest=$(sha256sum) || return 1`, "return-failure-removed", `digest=$(sha256sum)`],
      [`    return 1`, "return-failure-removed", `    :`],
      [`require_env DATABASE_URL BACKUP_DIR`, "requirement-removed", `:`],
      [`  require_integer BACKUP_KEEP "$keep" 1`, "requirement-removed", `  :`],
      [`sync -- "$a" "$b"`, "sync-removed", `:`],
      [`mv -T -- "$partial" "$final"`, "mv-to-cp", `cp -T -- "$partial" "$final"`],
      [`trap remove_unpublished EXIT`, "trap-removed", `:`],
      [`  "SELECT 'x' FROM pg_advisory_lock($KEY);" 1>&"$fd"`, "advisory-lock-removed", `  "SELECT 'x' FROM abs($KEY);" 1>&"$fd"`],
      [`[[ -n $u ]] || { echo "no URL" >&2; exit 1; }`, "exit-failure-removed", `[[ -n $u ]] || { echo "no URL" >&2; :; }`],
      [`  exit $((status == 0 ? 1 : status))`, "exit-failure-removed", `  :`],
      [`if bad; then exit 2; fi`, "exit-failure-removed", `if bad; then :; fi`],
      [`: "\${NETWORK:?}" "\${CLIENT_IMAGE:?}"`, "parameter-check-removed", `:`],
    ];
    for (const [line, operator, mutated] of expectations) {
      const found = mutateLine(line).filter((m) => m.operator === operator);
      assert.deepEqual(
        found.map((m) => m.mutated),
        [mutated],
        `${operator} on ${line}`,
      );
    }
  });

  test("lines without guards give no mutants", () => {
    for (const line of [
      "",
      "local digest",
      `printf '%s\\n' "$x"`,
      "return 0",
      "return",
      `x || true`,
      `   # sync later`,
      "synchronise=1",
      "mvp=1",
    ]) {
      assert.deepEqual(mutateLine(line), [], line);
    }
  });

  test("a mutant changes one line of the script and keys survive edits elsewhere", () => {
    const script = ["set -euo pipefail", "a || die 'a'", "b || die 'b'", "a || die 'a'"].join("\n");
    const mutants = shellMutants("x.sh", script);
    assert.equal(mutants.length, 5);
    for (const mutant of mutants) {
      const changed = script.split("\n").filter((line, i) => line !== mutant.source.split("\n")[i]);
      assert.deepEqual(changed, [mutant.original]);
    }
    // The same guarded line twice gets two distinct keys.
    assert.equal(new Set(mutants.map((m) => m.key)).size, mutants.length);
    const shifted = shellMutants("x.sh", `# a comment\n${script}`);
    assert.deepEqual(
      shifted.map((m) => m.key),
      mutants.map((m) => m.key),
    );
    assert.deepEqual(
      shifted.map((m) => m.line),
      mutants.map((m) => m.line + 1),
    );
  });

  test("every hook script has mutants, a test list, and every operator appears somewhere", () => {
    const operators = new Set<string>();
    for (const script of ["lib.sh", "backup.sh", "migrate.sh", "restore.sh", "handoff.sh"]) {
      const mutants = shellMutants(script, readFileSync(join(HOOKS, script), "utf8"));
      assert.ok(mutants.length >= 5, `${script} has ${mutants.length} mutants`);
      assert.ok((TESTS_BY_SCRIPT[script] ?? []).length > 0, `${script} has tests to run`);
      for (const mutant of mutants) operators.add(mutant.operator);
    }
    assert.deepEqual([...operators].sort(), [
      "advisory-lock-removed",
      "die-removed",
      "errexit-removed",
      "exit-failure-removed",
      "mv-to-cp",
      "parameter-check-removed",
      "pipefail-removed",
      "requirement-removed",
      "return-failure-removed",
      "sync-removed",
      "trap-removed",
    ]);
  });
});
