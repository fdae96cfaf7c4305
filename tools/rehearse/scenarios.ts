// The rehearsal's scenarios: each drives `pulumi up`s of the droplet side (Rehearsal.apply)
// and measures what a user of the stack would see. Each returns its figures; the system
// tests assert on them and `npm run rehearse -- --scenario NAME` prints them.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { HOOK_SUFFIX } from "../../components/common/names";
import { DEPLOYED_IMAGES_FILE, type SqlAssertion } from "../../components/hooks/commands";
import { PROMOTED_IMAGE_OUTPUT } from "../../components/promotion/evaluate";
import { shellQuote } from "../../components/common/shell";
import { readStackFile } from "../check/stack-file";
import { databaseQuery } from "./database";
import { LoadReport, percentile, startLoad } from "./load";
import type { ProgramRun } from "../check/harness";
import type { ReplayResult, Step } from "./replay";
import { isRoot, requireTools, type RequiredTool } from "../lib/system";
import { imageId } from "./images";
import { freePort } from "./net";
import { DEFAULT_APP_CONTEXT, Rehearsal } from "./rehearsal";
import { connectionFrom, runRemote } from "./ssh";

export const SCENARIOS = [
  "first-deploy",
  "no-op",
  "rollout",
  "broken-release",
  "failed-migration",
  "failed-backup",
  "failed-verification",
  "restore",
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** The app versions the built-in app context provides (test/rehearsal-app). */
export const APP_VERSIONS = ["v1", "v2", "v3", "never-healthy", "failing-migration"] as const;

export type Figures = Record<string, string | number | boolean>;

export interface ScenarioContext {
  rehearsal: Rehearsal;
  configFile: string;
  /** True for the built-in app: its worker command replaces the config's. */
  builtInApp: boolean;
}

/** The programs a rehearsal runs, and the Debian packages that provide them (`.ci/run` installs them). */
export const REHEARSAL_TOOLS: RequiredTool[] = [
  { command: "dockerd", debianPackage: "docker.io" },
  { command: "docker", debianPackage: "docker.io" },
  { command: "debootstrap", debianPackage: "debootstrap" },
  { command: "sshd", debianPackage: "openssh-server" },
  { command: "ssh", debianPackage: "openssh-client" },
  { command: "ssh-agent", debianPackage: "openssh-client" },
  { command: "unshare", debianPackage: "util-linux" },
  { command: "nsenter", debianPackage: "util-linux" },
  { command: "sudo", debianPackage: "sudo" },
  { command: "curl", debianPackage: "curl" },
  { command: "openssl", debianPackage: "openssl" },
  // The rehearsal mounts its stand-in over /usr/bin/systemctl: the mount point must exist.
  { command: "/usr/bin/systemctl", debianPackage: "systemd" },
];

/** Why this machine cannot rehearse (a missing program, not root), or nothing. */
export function rehearsalPrerequisites(): void {
  requireTools(REHEARSAL_TOOLS);
  if (!isRoot) throw new Error("the rehearsal starts dockerd and sshd in a mount namespace: run it as root");
}

/**
 * A rehearsal ready for its scenarios: the program evaluated, the droplet up (sshd on a free
 * loopback port, the engine behind it) and every image built or found in the cache. The
 * built-in app gets all its versions; another app context only the one it is.
 */
export async function openRehearsal(options: {
  stack: string;
  configFile: string;
  appContext?: string;
  log?: (line: string) => void;
  /** Called as soon as the rehearsal exists, so an interrupt can close what it started. */
  started?: (rehearsal: Rehearsal) => void;
}): Promise<ScenarioContext & { program: ProgramRun }> {
  rehearsalPrerequisites();
  const appContext = options.appContext ?? DEFAULT_APP_CONTEXT;
  const builtInApp = appContext === DEFAULT_APP_CONTEXT;
  const rehearsal = new Rehearsal({ stack: options.stack, configFile: options.configFile, log: options.log });
  options.started?.(rehearsal);
  try {
    const program = await rehearsal.evaluate();
    await rehearsal.startDroplet(program, await freePort());
    await rehearsal.prepare(program, appContext, builtInApp ? [...APP_VERSIONS] : ["v1"]);
    return { rehearsal, configFile: options.configFile, builtInApp, program };
  } catch (e) {
    await rehearsal.close();
    throw e;
  }
}

/** The config overrides that deploy `version` of the app. */
export function appOverrides(ctx: ScenarioContext, version: string): Record<string, unknown> {
  const file = readStackFile(ctx.configFile);
  const app = JSON.parse(file.config["dropstack:app"] ?? "{}") as Record<string, unknown>;
  const image = ctx.rehearsal.appReference(String(app.image), version);
  return {
    "dropstack:app": {
      ...app,
      image,
      ...(ctx.builtInApp ? { workers: [{ name: "worker", command: "python3 -m app.worker" }] } : {}),
    },
  };
}

export function summarise(result: ReplayResult): Figures {
  const count = (op: Step["op"]) => result.steps.filter((s) => s.op === op && !s.error).length;
  return {
    created: count("create"),
    updated: count("update"),
    replaced: count("replace"),
    unchanged: count("same"),
    deleted: count("delete"),
    failed: result.error ? (result.error.urn.split("::").at(-1) ?? result.error.urn) : "",
  };
}

export function printFigures(name: string, figures: Figures, out: (line: string) => void = console.log): void {
  out(`rehearse ${name}:`);
  for (const [k, v] of Object.entries(figures)) out(`  ${k.padEnd(28)} ${String(v)}`);
}

export class ScenarioFailure extends Error {}

function check(condition: boolean, message: string): void {
  if (!condition) throw new ScenarioFailure(message);
}

function deployed(result: ReplayResult, what: string): void {
  if (result.error) throw new ScenarioFailure(`${what} failed at ${result.error.urn}:\n${result.error.message}`);
}

const CONTAINER = "docker:index/container:Container";
const COMMAND = "command:remote:Command";

/** The api replicas' container IDs, by logical name, from the recorded state. */
function apiContainers(ctx: ScenarioContext): Record<string, string> {
  return Object.fromEntries(
    Object.values(ctx.rehearsal.recordedState.resources)
      .filter((r) => r.type === CONTAINER && /-api-\d+$/.test(r.name) && !r.initError)
      .map((r) => [r.name, r.id]),
  );
}

/**
 * What nginx logged at warn level or above lately (its error log): why it answered
 * 502 itself, e.g. a refused upstream or an alias it could not resolve. Added to a
 * scenario's failure, which would otherwise say only that requests failed.
 */
function nginxErrors(ctx: ScenarioContext, lines = 15): string {
  const nginx = Object.values(ctx.rehearsal.recordedState.resources).find(
    (r) => r.type === CONTAINER && /-nginx$/.test(r.name) && !r.initError,
  );
  if (!nginx) return "(no nginx container in the recorded state)";
  const droplet = ctx.rehearsal.droplet!;
  // The official image links error.log to stderr; the stand-in keeps Debian's file.
  const file = droplet.docker(["exec", nginx.id, "tail", "-n", "400", "/var/log/nginx/error.log"], { check: false }).stdout;
  const stderr = droplet.docker(["logs", "--tail", "400", nginx.id], { check: false }).stderr;
  const errors = `${file}\n${stderr}`
    .split("\n")
    .filter((l) => /\[(warn|error|crit|alert|emerg)\]/.test(l))
    .slice(-lines);
  return errors.length > 0 ? errors.join("\n") : "(nothing at warn level or above)";
}

/** Fails the scenario when requests failed, with nginx's own account of why. */
function checkNoFailedRequests(ctx: ScenarioContext, report: LoadReport, during: string): void {
  check(
    report.failed === 0,
    `${report.failed} of ${report.requests} requests failed ${during}: ${report.failures.join("; ")}\nnginx's error log:\n${nginxErrors(ctx)}`,
  );
}

function stackConfig(ctx: ScenarioContext): Record<string, unknown> {
  const file = readStackFile(ctx.configFile);
  return Object.fromEntries(
    Object.entries(file.config).map(([k, v]) => {
      try {
        return [k, JSON.parse(v)];
      } catch {
        return [k, v];
      }
    }),
  );
}

function apiHost(ctx: ScenarioContext): string {
  return String((stackConfig(ctx)["dropstack:hosts"] as Record<string, string>).api);
}

function appDatabase(ctx: ScenarioContext): string {
  return Object.keys(ctx.rehearsal.database.databaseSql)[0];
}

/** Alembic's revision and the users table's columns: what a migration changes. */
function schema(ctx: ScenarioContext): string {
  return databaseQuery(
    ctx.rehearsal.droplet!,
    ctx.rehearsal.database,
    appDatabase(ctx),
    "SELECT (SELECT string_agg(version_num, ',') FROM app.alembic_version) || ' ' || (SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'users')",
  );
}

function loadThroughNginx(ctx: ScenarioContext) {
  // The health path: nginx proxies it to the app (which checks PostgreSQL and Redis) without
  // the per-client rate limit, so one client can load it hard; other paths answer 429 past 10/s.
  const config = stackConfig(ctx)["dropstack:app"] as { healthPath?: string };
  return startLoad({ host: apiHost(ctx), port: ctx.rehearsal.publishedPort(443), paths: [config.healthPath ?? "/health"], concurrency: 4 });
}

function loadFigures(prefix: string, report: LoadReport): Figures {
  return {
    [`${prefix}requests`]: report.requests,
    [`${prefix}failed requests`]: report.failed,
    [`${prefix}answered by`]: Object.entries(report.versions)
      .map(([v, n]) => `${v}=${n}`)
      .join(" "),
    [`${prefix}p50 ms`]: percentile(report.latenciesMs, 50),
    [`${prefix}p99 ms`]: percentile(report.latenciesMs, 99),
    [`${prefix}slowest answer ms`]: report.slowestMs,
    [`${prefix}answers slower than 1 s`]: report.slowerThan1s,
    ...(report.failures.length > 0 ? { [`${prefix}first failure`]: report.failures[0] } : {}),
  };
}

/** From nothing to a smoke-tested app over HTTPS with a certificate from the ACME server. */
export async function firstDeploy(ctx: ScenarioContext): Promise<Figures> {
  const result = await ctx.rehearsal.apply(appOverrides(ctx, "v1"));
  deployed(result, "the first deploy");
  const smoke = result.steps.find((s) => s.type === COMMAND && s.name.endsWith(HOOK_SUFFIX.smoke));
  check(smoke?.op === "create", "the smoke test ran");
  const host = apiHost(ctx);
  const root = ctx.rehearsal.acmeServer.issuerRoot();
  const rootFile = join(ctx.rehearsal.dir, "acme-root.pem");
  writeFileSync(rootFile, root);
  const port = ctx.rehearsal.publishedPort(443);
  // The certificate must verify against the ACME server's root: issued, installed, reloaded.
  let verified = "";
  for (let i = 0; i < 90 && !verified; i++) {
    const r = spawnSync(
      "curl",
      [
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{ssl_verify_result}",
        "--cacert",
        rootFile,
        "--resolve",
        `${host}:${port}:127.0.0.1`,
        `https://${host}:${port}/health`,
      ],
      { encoding: "utf8" },
    );
    if (r.status === 0) verified = r.stdout;
    else await new Promise((res) => setTimeout(res, 2000));
  }
  check(verified.startsWith("200"), `https://${host}/health never answered with a certificate issued by the ACME server`);
  return {
    ...summarise(result),
    seconds: result.seconds,
    "https verified against ACME root": verified.startsWith("200"),
    smoke: (smoke?.output ?? "").trim().split("\n").at(-1) ?? "",
  };
}

/** A second apply with the same config: nothing replaced, no command re-run. */
export async function noOp(ctx: ScenarioContext): Promise<Figures> {
  const result = await ctx.rehearsal.apply(appOverrides(ctx, "v1"));
  deployed(result, "the unchanged apply");
  const touched = result.steps.filter((s) => s.op !== "same" && s.op !== "kept");
  check(touched.length === 0, `an unchanged apply touched: ${touched.map((s) => `${s.op} ${s.name}`).join(", ")}`);
  return { ...summarise(result), seconds: result.seconds };
}

/** The backup fails (its folder is read-only): the migration must not run, nothing is replaced. */
export async function failedBackup(ctx: ScenarioContext): Promise<Figures> {
  const droplet = ctx.rehearsal.droplet!;
  const before = { containers: apiContainers(ctx), schema: schema(ctx) };
  droplet.exec(["sh", "-c", "chown root:root /srv/backups && chmod 0555 /srv/backups"]);
  let result;
  try {
    result = await ctx.rehearsal.apply(appOverrides(ctx, "v2"));
  } finally {
    droplet.exec(["sh", "-c", `chown ${droplet.deployUid}:${droplet.deployGid} /srv/backups && chmod 0750 /srv/backups`]);
  }
  check(
    Boolean(result.error?.urn.endsWith(HOOK_SUFFIX.backup)),
    `the deploy had to fail at the backup, got ${result.error?.urn ?? "success"}`,
  );
  const migrate = result.steps.find((s) => s.type === COMMAND && s.name.endsWith(HOOK_SUFFIX.migrate) && s.op !== "same");
  const after = { containers: apiContainers(ctx), schema: schema(ctx) };
  check(!migrate, "no migration may run after a failed backup");
  check(after.schema === before.schema, `the schema changed: ${before.schema} → ${after.schema}`);
  check(JSON.stringify(after.containers) === JSON.stringify(before.containers), "no replica may be replaced");
  return {
    "failed at": "backup",
    "migration ran": Boolean(migrate),
    "schema unchanged": after.schema === before.schema,
    "replicas replaced": 0,
  };
}

/** What a rollout to v2 under load, and a naive restart after it, looked like to clients. */
export interface RolloutMeasurement {
  result: ReplayResult & { seconds: number };
  rollout: LoadReport;
  naiveRestart: LoadReport;
}

/**
 * Deploys v2 under steady HTTPS load through nginx until at least `minimumRequests` were
 * answered, then restarts every replica at once under the same load (what `docker restart`
 * of the old containers does), for contrast. Measures only: the rollout scenario and
 * `npm run bench:rollout` judge the figures.
 */
export async function measureRollout(ctx: ScenarioContext, minimumRequests: number): Promise<RolloutMeasurement> {
  const droplet = ctx.rehearsal.droplet!;
  const load = loadThroughNginx(ctx);
  await load.reach(200);
  const result = await ctx.rehearsal.apply(appOverrides(ctx, "v2"));
  await load.reach(minimumRequests);
  const rolloutReport = await load.stop();
  deployed(result, "the v2 rollout");
  const naive = loadThroughNginx(ctx);
  await naive.reach(200);
  const replicas = Object.values(apiContainers(ctx));
  // In the background: a blocking call would freeze the load client for the whole restart.
  const restarted = droplet.dockerInBackground(["restart", "-t", "30", ...replicas]);
  await naive.reach(naive.report.requests + 1000);
  const restart = await restarted;
  const naiveRestart = await naive.stop();
  if (restart.status !== 0) throw new ScenarioFailure(`docker restart of the replicas failed (${restart.status}): ${restart.stderr}`);
  // The restarted replicas boot for a few seconds after the contrast's requests are counted;
  // the next scenario's load must not start against a stack that is still down.
  await untilHealthy(ctx, replicas);
  return { result, rollout: rolloutReport, naiveRestart };
}

/** Waits until every container in `ids` reports healthy (Docker's healthcheck), at most two minutes. */
async function untilHealthy(ctx: ScenarioContext, ids: string[]): Promise<void> {
  const health = () =>
    ctx.rehearsal
      .droplet!.docker(["inspect", "--format", "{{.State.Health.Status}}", ...ids], { check: false })
      .stdout.trim()
      .split("\n");
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 1000))) {
    if (health().every((status) => status === "healthy")) return;
  }
  throw new ScenarioFailure(`the api replicas did not turn healthy again within 2 minutes: ${health().join(", ")}`);
}

/** v2 under steady HTTPS load: zero failed requests; then a naive restart in the same run for contrast. */
export async function rollout(ctx: ScenarioContext, minimumRequests = 5000): Promise<Figures> {
  const measured = await measureRollout(ctx, minimumRequests);
  const report = measured.rollout;
  check(schema(ctx).startsWith("0002 "), `v2's migration did not run: ${schema(ctx)}`);
  checkNoFailedRequests(ctx, report, "during the rollout");
  check(report.requests >= minimumRequests, `only ${report.requests} requests`);
  return {
    ...summarise(measured.result),
    "rollout seconds": measured.result.seconds,
    ...loadFigures("rollout ", report),
    ...loadFigures("naive restart ", measured.naiveRestart),
  };
}

/** An image that never turns healthy: the update fails, no request fails, and none reaches it. */
export async function brokenRelease(ctx: ScenarioContext): Promise<Figures> {
  const before = apiContainers(ctx);
  const load = loadThroughNginx(ctx);
  await load.reach(100);
  const result = await ctx.rehearsal.apply(appOverrides(ctx, "never-healthy"));
  const report = await load.stop();
  check(Boolean(result.error?.urn.includes("-api-")), `the deploy had to fail at an api replica, got ${result.error?.urn ?? "success"}`);
  const running = (id: string) =>
    ctx.rehearsal.droplet!.docker(["inspect", "--format", "{{.State.Running}}", id], { check: false }).stdout.trim() === "true";
  const still = Object.values(before).filter(running);
  const reachedBroken = report.versions["never-healthy"] ?? 0;
  // Recover: v2 again replaces the broken replica.
  const recovery = await ctx.rehearsal.apply(appOverrides(ctx, "v2"));
  deployed(recovery, "the recovery to v2");
  checkNoFailedRequests(ctx, report, "while the broken release was deployed");
  check(reachedBroken === 0, `${reachedBroken} requests reached the broken container`);
  check(still.length === Object.keys(before).length, `only ${still.length} of the ${Object.keys(before).length} v2 replicas kept running`);
  return {
    "failed at": result.error?.urn.split("::").at(-1) ?? "",
    "apply seconds": result.seconds,
    ...loadFigures("", report),
    "requests to broken": reachedBroken,
    "v2 replicas kept": still.length,
    "recovery seconds": recovery.seconds,
  };
}

/** A migration that fails: no replica replaced, schema unchanged, the backup taken for it exists and verifies. */
export async function failedMigration(ctx: ScenarioContext): Promise<Figures> {
  const droplet = ctx.rehearsal.droplet!;
  const before = { containers: apiContainers(ctx), schema: schema(ctx), backups: droplet.exec(["sh", "-c", "ls /srv/backups"]) };
  const result = await ctx.rehearsal.apply(appOverrides(ctx, "failing-migration"));
  check(
    Boolean(result.error?.urn.endsWith(HOOK_SUFFIX.migrate)),
    `the deploy had to fail at the migration, got ${result.error?.urn ?? "success"}`,
  );
  const after = { containers: apiContainers(ctx), schema: schema(ctx) };
  check(after.schema === before.schema, `the schema changed: ${before.schema} → ${after.schema}`);
  check(JSON.stringify(after.containers) === JSON.stringify(before.containers), "no replica may be replaced");
  const newest = droplet.exec(["sh", "-c", "ls -t /srv/backups/*.dump | head -1"]).trim();
  check(!before.backups.includes(newest.split("/").at(-1) ?? "?"), "a backup was taken for this deploy");
  const verify = droplet.docker(
    [
      "run",
      "--rm",
      "-v",
      "/srv/backups:/srv/backups:ro",
      "postgres:" + postgresTag(ctx),
      "sh",
      "-c",
      `cd /srv/backups && f=$(basename ${newest}) && test "$(sha256sum "$f" | cut -d' ' -f1)" = "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256"])' "$f.json")" && pg_restore --list "$f" >/dev/null && echo verified`,
    ],
    { check: false },
  );
  check(verify.stdout.includes("verified"), `the backup ${newest} does not verify: ${verify.stderr}`);
  return { "failed at": "migrate", "schema unchanged": true, "replicas replaced": 0, backup: newest, "backup verifies": true };
}

/** The release after v2 (test/rehearsal-app): its migration adds users.local_id, 'guest' unless set. */
const RELEASE = "v3";

/** dropstack:app.verify.sql for the release: one assertion that holds once its migration ran. */
const HOLDING_ASSERTION: SqlAssertion = {
  name: "users.local_id defaults to guest",
  query:
    "SELECT column_default = '''guest''::text' FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 'users' AND column_name = 'local_id'",
};

/** Two that are false on the real schema: another app's table count, the column as the API spells it. */
const FALSE_ASSERTIONS: SqlAssertion[] = [
  { name: "43 tables in schema app", query: "SELECT count(*) = 43 FROM information_schema.tables WHERE table_schema = 'app'" },
  {
    name: "users.localId exists",
    query:
      "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 'users' AND column_name = 'localId')",
  },
];

/** dropstack:app.smoke: one check the release passes, and two it fails (a status, a body match). */
const PASSING_SMOKE = { path: "/users", status: 200, bodyContains: `"version":"${RELEASE}"` };
const FAILING_SMOKE = [
  { path: "/admin/stats", status: 200 },
  { path: "/health", status: 200, bodyContains: '"schema":"0004"' },
];

/** appOverrides for the release, with its schema assertions and smoke checks. */
function releaseOverrides(ctx: ScenarioContext, verify: SqlAssertion[], smoke: object[]): Record<string, unknown> {
  const overrides = appOverrides(ctx, RELEASE);
  const app = overrides["dropstack:app"] as Record<string, unknown>;
  return { ...overrides, "dropstack:app": { ...app, verify: { sql: verify }, smoke } };
}

/** Which image passed, as a deploy leaves it: the stack output, and the last line of the droplet's deployed-images list. */
function promoted(ctx: ScenarioContext): { output: string; history: string } {
  const history = ctx.rehearsal.droplet!.exec(["sh", "-c", `tail -n 1 ${shellQuote(DEPLOYED_IMAGES_FILE)} 2>/dev/null || true`]);
  return { output: String(ctx.rehearsal.stackOutputs[PROMOTED_IMAGE_OUTPUT] ?? ""), history: history.trim() };
}

/** The lines of a failed hook's output that list its failures (indented under its summary). */
function failureLines(message: string): string[] {
  return message.split("\n").filter((l) => /^\s+(check \d+ \(|")/.test(l));
}

/** What a failure line names: the assertion in quotes, or the check with its request. */
function named(line: string): string {
  return line.trim().replace(/^(".*?"|check \d+ \(.*?\)):.*$/, "$1");
}

/**
 * The release's schema assertions do not hold: the update stops after the migration and
 * before any replica, naming each false one. Then its smoke checks fail after the rollout:
 * the update fails at the smoke test naming each failed check, and the release is not
 * promoted. Then the release with checks that pass deploys and is promoted.
 */
export async function failedVerification(ctx: ScenarioContext): Promise<Figures> {
  const droplet = ctx.rehearsal.droplet!;
  const reference = String((appOverrides(ctx, RELEASE)["dropstack:app"] as { image: string }).image);
  const releaseImage = imageId(droplet, reference);
  const before = { containers: apiContainers(ctx), promoted: promoted(ctx) };
  check(
    before.promoted.output !== "" && before.promoted.output !== releaseImage,
    `before the release, another image must be promoted; got "${before.promoted.output}"`,
  );

  // 1. False assertions: the update stops after the migration, before any replica.
  const verify = await ctx.rehearsal.apply(releaseOverrides(ctx, [HOLDING_ASSERTION, ...FALSE_ASSERTIONS], []));
  const verifyOutput = verify.error?.message ?? "";
  check(
    Boolean(verify.error?.urn.endsWith(HOOK_SUFFIX.verify)),
    `the deploy had to fail at the schema assertions, got ${verify.error?.urn ?? "success"}:\n${verifyOutput}`,
  );
  const afterVerify = { containers: apiContainers(ctx), promoted: promoted(ctx), schema: schema(ctx) };
  const assertionsNamed = failureLines(verifyOutput).map(named);
  check(
    JSON.stringify(assertionsNamed) === JSON.stringify(FALSE_ASSERTIONS.map((a) => `"${a.name}"`)),
    `the failure must name exactly the false assertions, it names ${assertionsNamed.join(", ") || "none"}:\n${verifyOutput}`,
  );
  check(
    verifyOutput.includes(`assertion "${HOLDING_ASSERTION.name}" holds`),
    `the assertion that holds was not reported so:\n${verifyOutput}`,
  );
  // They ran on the migrated schema: the one that holds needs the release's column.
  check(
    /^0003 .*\blocal_id\b/.test(afterVerify.schema),
    `the release's migration did not run before the assertions: ${afterVerify.schema}`,
  );
  check(JSON.stringify(afterVerify.containers) === JSON.stringify(before.containers), "no replica may be replaced after a false assertion");
  check(
    JSON.stringify(afterVerify.promoted) === JSON.stringify(before.promoted),
    `the promoted image moved after a false assertion: ${JSON.stringify(before.promoted)} → ${JSON.stringify(afterVerify.promoted)}`,
  );

  // 2. Assertions that hold, smoke checks that fail: the rollout happens, the promotion does not.
  const smoke = await ctx.rehearsal.apply(releaseOverrides(ctx, [HOLDING_ASSERTION], [PASSING_SMOKE, ...FAILING_SMOKE]));
  const smokeOutput = smoke.error?.message ?? "";
  check(
    Boolean(smoke.error?.urn.endsWith(HOOK_SUFFIX.smoke)),
    `the deploy had to fail at the smoke test, got ${smoke.error?.urn ?? "success"}:\n${smokeOutput}`,
  );
  const afterSmoke = { containers: apiContainers(ctx), promoted: promoted(ctx) };
  const checksNamed = failureLines(smokeOutput).map(named);
  // The health path is check 1, then dropstack:app.smoke in order.
  const failingNumbers = FAILING_SMOKE.map((_, i) => i + 3);
  check(
    checksNamed.length === FAILING_SMOKE.length &&
      checksNamed.every((n, i) => n.startsWith(`check ${failingNumbers[i]} (GET `) && n.endsWith(`${FAILING_SMOKE[i].path})`)),
    `the failure must name exactly the failed checks, it names ${checksNamed.join(", ") || "none"}:\n${smokeOutput}`,
  );
  const total = FAILING_SMOKE.length + 2;
  check(
    smokeOutput.includes(`${FAILING_SMOKE.length} of ${total} smoke checks failed`),
    `the summary does not count ${FAILING_SMOKE.length} of ${total}:\n${smokeOutput}`,
  );
  const replaced = Object.keys(afterSmoke.containers).filter((k) => afterSmoke.containers[k] !== before.containers[k]).length;
  check(replaced === Object.keys(before.containers).length, `the rollout before the smoke test replaced ${replaced} replicas`);
  check(
    JSON.stringify(afterSmoke.promoted) === JSON.stringify(before.promoted),
    `the promoted image moved after a failed smoke test: ${JSON.stringify(before.promoted)} → ${JSON.stringify(afterSmoke.promoted)}`,
  );

  // 3. Recovery: the same release with checks that pass is promoted.
  const recovery = await ctx.rehearsal.apply(releaseOverrides(ctx, [HOLDING_ASSERTION], [PASSING_SMOKE]));
  deployed(recovery, "the release with checks that pass");
  const afterRecovery = promoted(ctx);
  check(
    afterRecovery.output === releaseImage && afterRecovery.history === releaseImage,
    `the release ${releaseImage} was not promoted: ${JSON.stringify(afterRecovery)}`,
  );
  return {
    "assertions failed at": verify.error?.urn.split("::").at(-1) ?? "",
    "assertions named": assertionsNamed.join(", "),
    "schema then": afterVerify.schema,
    "replicas replaced (assertions)": 0,
    "smoke failed at": smoke.error?.urn.split("::").at(-1) ?? "",
    "checks named": checksNamed.join(", "),
    "replicas replaced (smoke)": replaced,
    "promoted image after both": afterSmoke.promoted.output === before.promoted.output ? "unchanged" : afterSmoke.promoted.output,
    "promoted after recovery": `${RELEASE} (${releaseImage.slice(0, 19)})`,
    "seconds (3 applies)": [verify, smoke, recovery].map((r) => r.seconds.toFixed(0)).join(", "),
  };
}

function postgresTag(ctx: ScenarioContext): string {
  const image = Object.values(ctx.rehearsal.recordedState.resources).find((r) => r.type === COMMAND && r.name.endsWith(HOOK_SUFFIX.backup));
  const m = /postgres:([\w.-]+)/.exec(String(image?.inputs.create ?? ""));
  return m ? m[1] : "17";
}

/** docs/rollback.md "Restore into a fresh database first", run as written on the droplet. */
export async function restore(ctx: ScenarioContext): Promise<Figures> {
  const rehearsal = ctx.rehearsal;
  const droplet = rehearsal.droplet!;
  const runbook = readFileSync(resolve(__dirname, "..", "..", "docs", "rollback.md"), "utf8");
  const block = /<!-- runbook-test: fresh-database -->\n```bash\n([\s\S]*?)\n```/.exec(runbook);
  check(Boolean(block), "docs/rollback.md has the fresh-database runbook block");
  const latest = droplet.exec(["sh", "-c", "ls -t /srv/backups/*.dump | head -1"]).trim();
  const plan = rehearsal.database;
  const migrator = String((rehearsal.lastRun?.stackOutputs.databaseUris as Record<string, string>).migrator);
  const target = migrator.replace(/\/([^/?]+)\?/, "/app_restore?");
  const admin = `postgresql://postgres:rehearsal-superuser@${plan.host}:${plan.port}/postgres?sslmode=require`;
  const connection = connectionFrom(Object.values(rehearsal.recordedState.resources).find((r) => r.type === COMMAND)!.inputs.connection);
  const script = `BACKUP=${latest}\nCLIENT=postgres:${postgresTag(ctx)}\n${block![1]}`;
  const started = Date.now();
  const r = await runRemote(
    connection,
    { address: connection.host, sshPort: droplet.sshPort },
    `bash -c ${shellQuote(script)}`,
    `${admin}\n${target}\n`,
  );
  check(r.status === 0, `the runbook failed (${r.status}):\n${r.stdout}${r.stderr}`);
  const db = appDatabase(ctx);
  const live = databaseQuery(droplet, plan, db, "SELECT count(*) FROM app.users");
  const restored = databaseQuery(droplet, plan, "app_restore", "SELECT count(*) FROM app.users");
  const revision = databaseQuery(droplet, plan, "app_restore", "SELECT version_num FROM app.alembic_version");
  check(restored === live, `the restored database has ${restored} users, the live one ${live}`);
  return {
    backup: latest,
    "restore seconds": (Date.now() - started) / 1000,
    "users live": live,
    "users restored": restored,
    "restored revision": revision,
  };
}

/** Each scenario with the ones it needs run first, in the order the rehearsal runs them all. */
export const PLAN: { name: ScenarioName; run: (ctx: ScenarioContext) => Promise<Figures>; needs: ScenarioName[] }[] = [
  { name: "first-deploy", run: firstDeploy, needs: [] },
  { name: "no-op", run: noOp, needs: ["first-deploy"] },
  { name: "failed-backup", run: failedBackup, needs: ["first-deploy"] },
  { name: "rollout", run: (ctx) => rollout(ctx), needs: ["first-deploy"] },
  { name: "broken-release", run: brokenRelease, needs: ["first-deploy", "rollout"] },
  { name: "failed-migration", run: failedMigration, needs: ["first-deploy", "rollout"] },
  { name: "failed-verification", run: failedVerification, needs: ["first-deploy", "rollout"] },
  { name: "restore", run: restore, needs: ["first-deploy"] },
];
