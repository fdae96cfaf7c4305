// The schema check (verify hook) and the image prune as they run on the droplet, asserted
// whole (every line). The verify cases are the product of the droplet's and test folders
// (one with a space), networks, one to three assertions whose names and queries hold spaces,
// quotes and `$`, and the default or a given statement timeout; the prune cases are
// repositories of several shapes (a registry with a port, Docker Hub, a nested path), image
// IDs, history files and keep counts from the smallest allowed. The expected text is written
// out here, not taken from the renderer.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DROPLET_PATHS,
  type HookPaths,
  renderDeferredUpdate,
  renderPruneImagesCommand,
  renderVerifyCommand,
  type SqlAssertion,
  smokeStdin,
  verifyStdin,
} from "../../components/hooks/commands";

/** POSIX single quoting, restated so the expectation does not lean on the module's helper. */
function sq(value: string): string {
  return `'${value.split("'").join(`'\\''`)}'`;
}

const PATH_SETS: HookPaths[] = [
  DROPLET_PATHS,
  { hooksDir: "/tmp/t/hooks", backupDir: "/tmp/t/backups", runDir: "/tmp/t/run", statusDir: "/tmp/t/status" },
  { hooksDir: "/tmp/my dir/hooks", backupDir: "/tmp/my dir/backups", runDir: "/tmp/my dir/run", statusDir: "/tmp/my dir/status" },
];
const ASSERTION_SETS: SqlAssertion[][] = [
  [{ name: "users", query: "select true" }],
  [
    { name: "users table", query: "select to_regclass('users') is not null" },
    { name: "no $ leaks", query: "select count(*) = 0 from pg_roles where rolname = 'app$x'" },
  ],
  [
    { name: "a", query: "select 1 = 1" },
    { name: 'the "b" index', query: "select exists (select 1 from pg_indexes where indexname = 'b_idx')" },
    { name: "c's column", query: "select true -- a comment" },
  ],
];

function expectedVerify(paths: HookPaths, network: string, assertions: SqlAssertion[], timeout: number): string {
  return [
    `# dropstack verify hook (components/hooks/commands.ts): ${assertions.length} schema assertion(s) as the readonly role before the rollout`,
    "set -euo pipefail",
    "IFS= read -r database_url || true",
    '[[ -n $database_url ]] || { echo "dropstack: the readonly database URL did not arrive on stdin" >&2; exit 1; }',
    "docker run --rm \\",
    `  --network ${sq(network)} \\`,
    '  --user "$(id -u):$(id -g)" \\',
    "  --cap-drop ALL \\",
    "  --security-opt no-new-privileges \\",
    `  -v ${sq(`${paths.hooksDir}:${paths.hooksDir}:ro`)} \\`,
    `  --env-file <(printf 'DATABASE_URL=%s\\n' "$database_url") \\`,
    `  -e ASSERTION_COUNT=${assertions.length} \\`,
    ...assertions.map(({ name, query }, i) => `  -e ${sq(`ASSERTION_${i + 1}=${name}\t${query}`)} \\`),
    `  -e 'STATEMENT_TIMEOUT_MS=${timeout}' \\`,
    "  'postgres:17.2-bookworm' \\",
    `  bash ${sq(`${paths.hooksDir}/verify.sh`)}`,
  ].join("\n");
}

describe("the schema check's script on the droplet", () => {
  it("is exactly the expected script for every folder set, network, assertion list and timeout", () => {
    let count = 0;
    for (const paths of PATH_SETS)
      for (const network of ["app-net", "dropstack_app"])
        for (const assertions of ASSERTION_SETS)
          for (const timeout of [undefined, 1, 5000]) {
            const rendered = renderVerifyCommand({
              network,
              clientImage: "postgres:17.2-bookworm",
              assertions,
              ...(timeout === undefined ? {} : { statementTimeoutMs: timeout }),
              ...(paths === DROPLET_PATHS ? {} : { paths }),
            });
            assert.deepEqual(rendered.split("\n"), expectedVerify(paths, network, assertions, timeout ?? 30000).split("\n"));
            count++;
          }
    assert.equal(count, 3 * 2 * 3 * 3);
  });

  it("reads the readonly role's URI as one stdin line and refuses one that would split", () => {
    assert.equal(verifyStdin("postgresql://readonly:pw@db/app"), "postgresql://readonly:pw@db/app\n");
    for (const bad of ["\n", "\r", "\0"])
      assert.throws(() => verifyStdin(`postgresql://r${bad}@db/app`), {
        message: "the readonly database URL contains a line break or NUL, which cannot be passed to a hook",
      });
  });
});

describe("the smoke test's token credentials on stdin", () => {
  it("are the M2M client ID then its secret, one per line, each refused when it would split", () => {
    assert.equal(smokeStdin("client-1", "s3cr3t/+="), "client-1\ns3cr3t/+=\n");
    for (const bad of ["\n", "\r", "\0"]) {
      assert.throws(() => smokeStdin(`c${bad}1`, "s"), {
        message: "the M2M client ID contains a line break or NUL, which cannot be passed to a hook",
      });
      assert.throws(() => smokeStdin("c", `s${bad}`), {
        message: "the M2M client secret contains a line break or NUL, which cannot be passed to a hook",
      });
    }
  });
});

function expectedPrune(repository: string, imageId: string, history: string, keep: number): string {
  return [
    `# dropstack prune hook (components/hooks/commands.ts): keep the last ${keep} deployed ${repository} images and those in use; remove older ones`,
    "set -euo pipefail",
    `history=${sq(history)} current='${imageId}'`,
    'touch "$history"',
    `if [[ $(tail -n 1 "$history") != "$current" ]]; then printf '%s\\n' "$current" >>"$history"; fi`,
    `mapfile -t deployed < <(tac "$history" | awk -v n=${keep} 'NF && !seen[$0]++ && n-- > 0')`,
    `tac "$history" | awk -v n=20 'NF && !seen[$0]++ && n-- > 0' | tac >"$history.new"`,
    'mv -- "$history.new" "$history"',
    "mapfile -t containers < <(docker ps --all --quiet --no-trunc)",
    "in_use=()",
    `if ((\${#containers[@]} > 0)); then mapfile -t in_use < <(docker inspect --format '{{.Image}}' "\${containers[@]}"); fi`,
    "declare -A keep_ids=()",
    'for id in "${deployed[@]}" "${in_use[@]}"; do keep_ids[$id]=1; done',
    "removed=0 kept=0",
    "while IFS= read -r id; do",
    "  if [[ -n ${keep_ids[$id]:-} ]]; then kept=$((kept + 1)); continue; fi",
    '  if docker image rm --force "$id" >/dev/null; then removed=$((removed + 1)); echo "dropstack: removed old app image $id"',
    '  else echo "dropstack: could not remove $id; left in place" >&2; fi',
    `done < <(docker image ls --no-trunc --quiet '${repository}' | sort -u)`,
    `echo "dropstack: kept $kept app image(s) (the last ${keep} deployed and those in use), removed $removed"`,
  ].join("\n");
}

describe("the image prune's script on the droplet", () => {
  it("is exactly the expected script for every repository, image ID, history file and keep count", () => {
    let count = 0;
    for (const repository of ["ghcr.io/acme/api", "registry.example:5000/team/app", "nginx", "acme/api/worker"])
      for (const imageId of [`sha256:${"ab".repeat(32)}`, `sha256:${"0123456789abcdef".repeat(4)}`])
        for (const history of [undefined, "/tmp/t/deployed images"])
          for (const keep of [undefined, 1, 5]) {
            const rendered = renderPruneImagesCommand({
              repository,
              imageId,
              ...(history === undefined ? {} : { historyFile: history }),
              ...(keep === undefined ? {} : { keep }),
            });
            const expected = expectedPrune(repository, imageId, history ?? "/srv/dropstack/deployed-images", keep ?? 2);
            assert.deepEqual(rendered.split("\n"), expected.split("\n"));
            count++;
          }
    assert.equal(count, 4 * 2 * 2 * 3);
  });

  it("refuses to keep fewer than one deployed image and anything but an image ID, saying what it got", () => {
    const imageId = `sha256:${"ab".repeat(32)}`;
    for (const keep of [0, -1, 1.5, Number.NaN])
      assert.throws(() => renderPruneImagesCommand({ repository: "r", imageId, keep }), {
        message: `the number of deployed images to keep must be at least 1, got ${keep}`,
      });
    for (const bad of [
      "",
      "ab".repeat(32),
      `sha256:${"ab".repeat(31)}`,
      `sha256:${"AB".repeat(32)}`,
      ` sha256:${"ab".repeat(32)}`,
      `sha256:${"ab".repeat(32)}\n`,
    ])
      assert.throws(() => renderPruneImagesCommand({ repository: "r", imageId: bad }), {
        message: `expected an image ID (sha256:<64 hex>), got "${bad}"`,
      });
  });
});

describe("the deferred update of the backup and migrate hooks", () => {
  it("only says the settings apply at the next deploy", () => {
    for (const hook of ["backup", "migrate"] as const)
      assert.equal(
        renderDeferredUpdate(hook),
        `echo "dropstack: ${hook} hook settings changed; they apply at the next deploy (a new image digest or dropstack:app.migrate)"`,
      );
  });
});
