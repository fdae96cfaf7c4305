// `npm run users:import` against a stand-in of Auth0's token and job endpoints on loopback
// (test/support/auth0-jobs.ts, the documented request and response shapes): a first import,
// the re-run that must skip everyone, users Auth0 rejects, a job that fails as a whole, a
// refused client, upsert only when asked, a job that never finishes and a rate limit. The
// report must account for every user and never carry a password hash.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { USERS_FILE_MAX_BYTES } from "../../tools/users-import/batches";
import { runUsersImport } from "../../tools/users-import/cli";
import { LOOPBACK_URL_VARIABLE } from "../../tools/users-import/management-api";
import type { Report } from "../../tools/users-import/report";
import { Auth0JobsStandIn } from "../support/auth0-jobs";
import { ROOT, TS_NODE } from "../support/program";

const DOMAIN = "acme-staging.eu.auth0.com"; // auth0:domain of Pulumi.staging.yaml
const STACK_FILE = join(ROOT, "Pulumi.staging.yaml");
const CLIENT_ID = "Kx3mStandInUserManagement01";
const CLIENT_SECRET = "stand-in-client-secret-Zq8vW2pL9tR4yU6i";
const CONNECTION = "con_Ab12Cd34Ef56Gh78";

/** Users in Auth0's import format, each with a distinct bcrypt hash and `pad` bytes of metadata. */
function makeUsers(count: number, prefix: string, pad = 0): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    email: `${prefix}.${i}@Example.com`,
    email_verified: true,
    user_id: `${prefix}-${i}`,
    given_name: `Given${i}`,
    family_name: prefix,
    name: `Given${i} ${prefix}`,
    blocked: false,
    password_hash: `$2b$10$${`${prefix}${i}`.padEnd(53, "Q").slice(0, 53)}`,
    app_metadata: { roles: ["nurse"] },
    user_metadata: { notes: "n".repeat(pad) },
  }));
}

const hashes = (users: Record<string, unknown>[]) => users.map((u) => String(u.password_hash));

describe("npm run users:import against a stand-in of Auth0's jobs API", () => {
  const standIn = new Auth0JobsStandIn(DOMAIN, CLIENT_ID, CLIENT_SECRET, CONNECTION);
  let url = "";
  let dir = "";

  before(async () => {
    url = await standIn.start();
  });
  after(() => standIn.close());
  beforeEach(() => {
    standIn.reset([]);
    dir = mkdtempSync(join(tmpdir(), "users-import-"));
  });

  const writeUsers = (users: unknown, name = "users.json") => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(users, null, 2));
    return file;
  };

  /** Runs the command in-process with a clock that sleeping moves on (no real waits). */
  async function run(args: string[], env: Record<string, string | undefined> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const sleeps: number[] = [];
    let clock = Date.parse("2026-03-01T12:00:00Z");
    const code = await runUsersImport(args, {
      env: {
        AUTH0_MANAGEMENT_CLIENT_ID: CLIENT_ID,
        AUTH0_MANAGEMENT_CLIENT_SECRET: CLIENT_SECRET,
        [LOOPBACK_URL_VARIABLE]: url,
        ...env,
      },
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      now: () => clock,
    });
    return { code, out: out.join("\n"), err: err.join("\n"), sleeps };
  }

  const importArgs = (file: string, ...more: string[]) => [
    "staging",
    file,
    "--connection-id",
    CONNECTION,
    "--config-file",
    STACK_FILE,
    "--report",
    join(dir, "report.json"),
    ...more,
  ];
  const readReport = (): Report => JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as Report;
  const reportText = () => readFileSync(join(dir, "report.json"), "utf8") + readFileSync(join(dir, "report.txt"), "utf8");

  it("imports every user in jobs under Auth0's size limit, one at a time, and reports each", async () => {
    const users = makeUsers(700, "first", 700);
    assert.ok(JSON.stringify(users).length > USERS_FILE_MAX_BYTES, "the file needs more than one job");
    // A report left readable by an earlier run is made private again.
    writeFileSync(join(dir, "report.json"), "{}", { mode: 0o644 });
    const result = await run(importArgs(writeUsers(users)));
    assert.equal(result.code, 0, result.err + result.out);

    assert.equal(standIn.imports.length, 2, "two jobs");
    for (const request of standIn.imports) {
      assert.ok(request.usersFileBytes <= USERS_FILE_MAX_BYTES, `${request.usersFileBytes} bytes`);
      assert.ok(request.contentLength <= 512_000);
      assert.equal(request.fields.connection_id, CONNECTION);
      assert.equal(request.fields.upsert, "false");
      assert.equal(request.fields.send_completion_email, "false");
      assert.match(request.fields.external_id, /^users-import-staging-\d{8}T\d{6}Z-\d+-of-2$/);
    }
    assert.deepEqual(
      standIn.imports.flatMap((r) => r.users),
      users,
      "every user, once, in file order, as given",
    );
    assert.equal(new Set(standIn.imports.map((r) => r.fields.external_id)).size, 2);
    // One job at a time: the second is created only after the first was read as completed.
    const secondPost = standIn.requests.lastIndexOf("POST /api/v2/jobs/users-imports");
    const firstJobReads = standIn.requests.slice(0, secondPost).filter((r) => /^GET \/api\/v2\/jobs\/job_\w+$/.test(r)).length;
    assert.equal(firstJobReads, standIn.readsToFinish);
    assert.equal(standIn.connectionUsers.size, users.length);

    const report = readReport();
    assert.deepEqual({ ...report.totals }, { users: 700, imported: 700, skipped: 0, failed: 0, unconfirmed: 0, "not-run": 0 });
    assert.equal(report.batches.length, 2);
    assert.deepEqual(
      report.users.map((u) => u.index),
      users.map((_, i) => i),
    );
    assert.ok(report.batches.every((b) => b.jobStatus === "completed" && /^job_/.test(b.jobId ?? "")));
    assert.match(result.out, /batch 1\/2: job job_\w+ pending/);
    assert.match(result.out, /batch 1\/2: job job_\w+ processing \d+%/);
    assert.match(result.out, /total: 700 users: 700 imported, 0 skipped \(already exist\), 0 failed/);
    for (const hash of hashes(users)) assert.ok(!reportText().includes(hash) && !result.out.includes(hash));
    for (const file of ["report.json", "report.txt"]) assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);
    assert.ok(
      result.sleeps.every((ms) => ms >= 1000 && ms <= 30_000),
      "polls back off within bounds",
    );
  });

  it("re-run: users that exist already are skipped, never updated, and only the new ones imported", async () => {
    const existing = makeUsers(40, "old");
    standIn.reset(existing);
    const fresh = makeUsers(5, "new");
    const changed = existing.map((u) => ({ ...u, given_name: "Changed" }));
    const result = await run(importArgs(writeUsers([...changed, ...fresh])));
    assert.equal(result.code, 0, result.err + result.out);
    assert.equal(standIn.imports[0].fields.upsert, "false");
    const report = readReport();
    assert.equal(report.totals.skipped, 40);
    assert.equal(report.totals.imported, 5);
    assert.ok(report.users.filter((u) => u.outcome === "skipped").every((u) => u.reason === "already exists" && u.index! < 40));
    assert.ok(
      [...standIn.connectionUsers.values()].every((u) => u.given_name !== "Changed"),
      "nothing overwritten",
    );
    assert.match(result.out, /5 imported, 40 skipped \(already exist\), 0 failed/);
  });

  it("--upsert, and only --upsert, sends upsert=true and updates the users that exist", async () => {
    const existing = makeUsers(3, "kept");
    standIn.reset(existing);
    const changed = existing.map((u) => ({ ...u, given_name: "Changed" }));
    const result = await run(importArgs(writeUsers(changed), "--upsert"));
    assert.equal(result.code, 0, result.err + result.out);
    assert.deepEqual(
      standIn.imports.map((r) => r.fields.upsert),
      ["true"],
    );
    assert.ok([...standIn.connectionUsers.values()].every((u) => u.given_name === "Changed"));
    assert.equal(readReport().upsert, true);
    assert.match(result.out, /3 imported or updated, 0 failed \[Auth0: 0 inserted, 3 updated, 0 failed\]/);
  });

  it("users Auth0 rejects fail with its reasons (hashes redacted); the rest import; exit 1", async () => {
    const users = makeUsers(30, "mixed");
    const rejected = [3, 17, 29];
    for (const i of rejected)
      standIn.rejects.set(String(users[i].email).toLowerCase(), {
        code: "INVALID_PASSWORD_HASH",
        // Auth0 may echo what it was given: the tool must not pass it on.
        message: `Invalid hash ${String(users[i].password_hash)}`,
        path: "password_hash",
      });
    const result = await run(importArgs(writeUsers(users)));
    assert.equal(result.code, 1);
    const report = readReport();
    assert.deepEqual([report.totals.imported, report.totals.failed, report.totals.skipped], [27, 3, 0]);
    const failed = report.users.filter((u) => u.outcome === "failed");
    assert.deepEqual(
      failed.map((u) => u.index),
      rejected,
    );
    for (const user of failed) assert.match(user.reason ?? "", /^INVALID_PASSWORD_HASH: Invalid hash \[redacted\] \(path password_hash\)$/);
    assert.match(result.out, /failed:\n {2}.*users\.json\[3\] mixed\.3@Example\.com: INVALID_PASSWORD_HASH/);
    assert.match(result.out, /run the same command again/);
    for (const hash of hashes(users)) assert.ok(!reportText().includes(hash) && !result.out.includes(hash), "no hash anywhere");
  });

  it("a job that fails as a whole fails its users with Auth0's details; later jobs still run", async () => {
    const users = makeUsers(700, "whole", 700);
    standIn.failNextJob = "Failed to parse users file JSON when importing users.";
    const result = await run(importArgs(writeUsers(users)));
    assert.equal(result.code, 1);
    const report = readReport();
    assert.equal(report.batches[0].jobStatus, "failed");
    assert.equal(report.batches[0].statusDetails, "Failed to parse users file JSON when importing users.");
    assert.equal(report.batches[1].jobStatus, "completed");
    assert.equal(report.totals.failed, report.batches[0].users);
    assert.equal(report.totals.imported, report.batches[1].users);
    assert.ok(
      report.users
        .filter((u) => u.batch === 1)
        .every((u) => u.reason === `the job failed: ${standIn.jobs.values().next().value?.status_details}`),
    );
    assert.match(result.out, /batch 1\/2 .*: job job_\w+ failed \(Failed to parse users file JSON when importing users\.\)/);
  });

  it("a refused client stops before any job, naming the variables and never the secret", async () => {
    const file = writeUsers(makeUsers(2, "refused"));
    const result = await run(importArgs(file), { AUTH0_MANAGEMENT_CLIENT_SECRET: "a-wrong-secret-value" });
    assert.equal(result.code, 1);
    assert.match(
      result.err,
      /token endpoint of acme-staging\.eu\.auth0\.com refused the user-management client \(POST \/oauth\/token: 401 access_denied: Unauthorized\)/,
    );
    assert.match(result.err, /AUTH0_MANAGEMENT_CLIENT_ID and AUTH0_MANAGEMENT_CLIENT_SECRET/);
    assert.ok(!(result.err + result.out).includes("a-wrong-secret-value"));
    assert.deepEqual(standIn.requests, ["POST /oauth/token"]);
    assert.equal(existsSync(join(dir, "report.json")), false, "no report: nothing ran");
  });

  it("a token without create:users is refused before any job", async () => {
    standIn.scope = "read:users read:roles";
    const result = await run(importArgs(writeUsers(makeUsers(2, "scoped"))));
    assert.equal(result.code, 1);
    assert.match(result.err, /lacks create:users \(it has: read:users read:roles\).*MANAGEMENT_API_SCOPES/);
    assert.deepEqual(standIn.requests, ["POST /oauth/token"]);
  });

  it("a job that does not finish in --job-timeout leaves its users unconfirmed and starts no other", async () => {
    standIn.readsToFinish = Number.POSITIVE_INFINITY;
    const result = await run(importArgs(writeUsers(makeUsers(700, "slow", 700)), "--job-timeout", "60"));
    assert.equal(result.code, 1);
    assert.equal(standIn.imports.length, 1);
    const report = readReport();
    assert.equal(report.totals.unconfirmed, report.batches[0].users);
    assert.equal(report.totals["not-run"], report.batches[1].users);
    assert.match(report.batches[0].problem ?? "", /still processing after 60 s/);
    assert.ok(result.sleeps.reduce((a, b) => a + b, 0) <= 60_000, "waits no longer than the timeout");
  });

  it("waits out a 429 with Auth0's X-RateLimit-Reset and carries on", async () => {
    standIn.rateLimitNext = 2;
    const result = await run(importArgs(writeUsers(makeUsers(4, "limited"))));
    assert.equal(result.code, 0, result.err + result.out);
    assert.equal(readReport().totals.imported, 4);
    assert.equal(standIn.requests.filter((r) => r === "POST /api/v2/jobs/users-imports").length, 3, "two 429s, then accepted");
  });

  it("writes the report beside the input by default, never over it", async () => {
    const file = writeUsers(makeUsers(2, "beside"), "export.json");
    const args = importArgs(file).slice(0, -2);
    const result = await run(args);
    assert.equal(result.code, 0, result.err);
    const written = readdirSync(dir).filter((f) => f.startsWith("export.import-staging-"));
    assert.deepEqual(written.map((f) => f.replace(/\d{8}T\d{6}Z/, "<time>")).sort(), [
      "export.import-staging-<time>.json",
      "export.import-staging-<time>.txt",
    ]);
    for (const file of written) assert.equal(statSync(join(dir, file)).mode & 0o777, 0o600, file);
    const over = await run([...args, "--report", file]);
    assert.equal(over.code, 2);
    assert.match(over.err, /would overwrite the input/);
    assert.equal(standIn.imports.length, 1, "the refused run sent nothing");
    assert.deepEqual(JSON.parse(readFileSync(file, "utf8")).length, 2);
  });

  it("refuses bad input with exit 2 and sends nothing", async () => {
    const valid = writeUsers([{ email: "a@example.com" }], "valid.json");
    const cases: [string[], Record<string, string | undefined>, RegExp][] = [
      [importArgs(writeUsers([{ email: "a@example.com", passwrd: "x" }], "unknown.json")), {}, /unknown\.json\[0\]\.passwrd: not a field/],
      [
        importArgs(writeUsers([{ email: "a@example.com" }, { email: "A@EXAMPLE.COM" }], "twice.json")),
        {},
        /twice\.json\[1\]\.email: "A@EXAMPLE\.COM" duplicates/,
      ],
      [importArgs(join(dir, "missing.json")), {}, /cannot read the users file .*missing\.json/],
      [importArgs(valid), { AUTH0_MANAGEMENT_CLIENT_SECRET: undefined }, /AUTH0_MANAGEMENT_CLIENT_SECRET not set/],
      [
        importArgs(valid),
        { AUTH0_DOMAIN: "acme.eu.auth0.com" },
        /AUTH0_DOMAIN is acme\.eu\.auth0\.com but stack staging's tenant is acme-staging/,
      ],
      [importArgs(valid), { [LOOPBACK_URL_VARIABLE]: "http://auth0.example.com" }, /only a loopback origin/],
      [importArgs(valid).map((a) => (a === CONNECTION ? "con_short" : a)), {}, /--connection-id must be a connection ID: .*"con_short"/],
      [importArgs(valid, "--job-timeout", "soon"), {}, /--job-timeout must be an integer >= 10, got soon/],
    ];
    for (const [args, env, message] of cases) {
      const result = await run(args, env);
      assert.equal(result.code, 2, `${message}: ${result.err}`);
      assert.match(result.err, message);
    }
    assert.deepEqual(standIn.requests, [], "not one request");
  });

  it("runs as a process: exit 0 imported, 2 bad input", async () => {
    const runProcess = (args: string[], env: Record<string, string>) =>
      new Promise<{ code: number | null; out: string; err: string }>((done) => {
        const child = spawn(process.execPath, [...TS_NODE, join("tools", "users-import", "main.ts"), ...args], {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? "", ...env },
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.on("close", (code) => done({ code, out, err }));
      });
    const env = { AUTH0_MANAGEMENT_CLIENT_ID: CLIENT_ID, AUTH0_MANAGEMENT_CLIENT_SECRET: CLIENT_SECRET, [LOOPBACK_URL_VARIABLE]: url };
    // One read finishes a job: the process polls with real waits.
    standIn.readsToFinish = 1;
    const ok = await runProcess(importArgs(writeUsers(makeUsers(3, "process"))), env);
    assert.equal(ok.code, 0, ok.err + ok.out);
    assert.match(ok.out, /total: 3 users: 3 imported/);
    const bad = await runProcess(importArgs(writeUsers({ users: [] })), env);
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /expected a JSON array of users/);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));
});
