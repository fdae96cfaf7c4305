// The pure parts of `npm run users:import`: the users file's validation (generated bad files:
// each message names the index and the field, never a hash), the batching at Auth0's byte
// limit, what each job's answer means for each user, the report and its exit code, and where
// the tool may send the client secret.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MANAGEMENT_API_SCOPES } from "../../components/identity/settings";
import { USERS_FILE_MAX_BYTES, planBatches, type Batch } from "../../tools/users-import/batches";
import { IMPORT_SCOPES, ImportError, apiBase } from "../../tools/users-import/management-api";
import {
  OUTCOMES,
  buildReport,
  classifyBatch,
  exitCodeFor,
  formatSummary,
  redact,
  type BatchAnswer,
  type JobUserErrors,
} from "../../tools/users-import/report";
import { pollDelay } from "../../tools/users-import/run";
import { USER_FIELDS, parseUsersFile, secretStrings, type ImportUser } from "../../tools/users-import/users-file";
import { seededRandom } from "../support/random";

const SOURCE = "users.json";
const BCRYPT = (n: number) => `$2b$10$${String(n).padStart(53, "k")}`;

/** A user with every documented field set to a valid value. */
function fullUser(i: number): ImportUser {
  return {
    email: `user${i}@example.com`,
    email_verified: true,
    phone_number: "+12125550001",
    phone_verified: false,
    user_id: `legacy-${i}`,
    username: `user${i}`,
    given_name: "Ada",
    family_name: "Lovelace",
    name: "Ada Lovelace",
    nickname: "ada",
    picture: "https://example.com/ada.png",
    blocked: false,
    password_hash: BCRYPT(i),
    app_metadata: { roles: ["doctor"] },
    user_metadata: { ward: "3b" },
    mfa_factors: [{ totp: { secret: "JBTWY3DPEHPK3PNP" } }, { phone: { value: "+12125550001" } }],
  };
}

const problemsOf = (value: unknown): string[] => {
  const parsed = parseUsersFile(JSON.stringify(value), SOURCE);
  return parsed.ok ? [] : parsed.problems;
};

const VALUES_OF_KIND: Record<string, unknown[]> = {
  string: ["x", ""],
  boolean: [true, false],
  object: [{}, { a: 1 }],
  array: [[], [1]],
};
const ALL_VALUES = [null, 0, 3.5, "text", true, {}, []];
const kindOf = (value: unknown) => (value === null ? "null" : Array.isArray(value) ? "array" : typeof value);

describe("the users file", () => {
  it("accepts users with every documented field, or only an email", () => {
    const users = [fullUser(0), { email: "only@example.com" }, { ...fullUser(2), password_hash: undefined }].map((u) =>
      JSON.parse(JSON.stringify(u)),
    );
    users[2].custom_password_hash = { algorithm: "md5", hash: { value: "5f4dcc3b5aa765d61d8327deb882cf99", encoding: "hex" } };
    const parsed = parseUsersFile(JSON.stringify(users), SOURCE);
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.problems.join("\n"));
    assert.equal(parsed.users.length, 3);
  });

  it("refuses a file that is not a non-empty JSON array of objects, saying what it got", () => {
    assert.match(
      parseUsersFile("[{", SOURCE).ok ? "" : (parseUsersFile("[{", SOURCE) as { problems: string[] }).problems[0],
      /^users\.json: not valid JSON/,
    );
    for (const [value, got] of [
      [{ users: [] }, "object"],
      ["users", "string"],
      [null, "null"],
      [3, "number"],
    ] as const)
      assert.deepEqual(problemsOf(value), [`users.json: expected a JSON array of users (Auth0's bulk import format), got ${got}`]);
    assert.deepEqual(problemsOf([]), ["users.json: the array is empty; there are no users to import"]);
    for (const value of ALL_VALUES.filter((v) => kindOf(v) !== "object"))
      assert.ok(problemsOf([{ email: "a@example.com" }, value]).includes(`users.json[1]: expected a user object, got ${kindOf(value)}`));
  });

  it("names the index and the field of every value of the wrong type, for each documented field", () => {
    const random = seededRandom(18);
    for (const [field, kind] of Object.entries(USER_FIELDS)) {
      for (const wrong of ALL_VALUES.filter((v) => kindOf(v) !== kind)) {
        const users = Array.from({ length: 5 }, (_, i) => ({ email: `u${i}@example.com` }));
        const at = random(users.length);
        (users[at] as Record<string, unknown>)[field] = wrong;
        const problems = problemsOf(users);
        const expected = `users.json[${at}].${field}: expected ${kind === "array" ? "an" : "a"} ${kind}, got ${kindOf(wrong)}`;
        assert.ok(problems.includes(expected), `${expected}\n${problems.join("\n")}`);
      }
      for (const right of VALUES_OF_KIND[kind])
        assert.ok(
          !problemsOf([{ email: "a@example.com", [field]: right }]).some((p) =>
            p.includes(`expected a${kind === "array" ? "n" : ""} ${kind}`),
          ),
        );
    }
  });

  it("refuses every field outside the documented ones, naming index and field", () => {
    const random = seededRandom(5);
    const undocumented = [
      "passwrd",
      "Email",
      "emailVerified",
      "roles",
      "password",
      "phone",
      "id",
      "created_at",
      "identities",
      "app_meta_data",
    ];
    for (const field of undocumented) {
      const users = Array.from({ length: 1 + random(8) }, (_, i) => fullUser(i)) as Record<string, unknown>[];
      const at = random(users.length);
      users[at][field] = "value";
      const problems = problemsOf(users);
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.match(
        problems[0],
        new RegExp(`^users\\.json\\[${at}\\]\\.${field}: not a field of Auth0's user import format \\(documented: email, `),
      );
    }
  });

  it("requires an email address in each user", () => {
    assert.deepEqual(problemsOf([{ email: "a@example.com" }, { name: "No Email" }]), [
      "users.json[1].email: required (Auth0 imports users by email)",
    ]);
    for (const bad of ["", "plain", "two@@example.com", "no spaces@example.com", "a@b", "@example.com", "a@example.com "])
      assert.deepEqual(problemsOf([{ email: bad }]), [`users.json[0].email: expected an email address, got ${JSON.stringify(bad)}`], bad);
  });

  it("finds duplicate emails whatever their case, and duplicate user_ids, naming both indexes", () => {
    const random = seededRandom(7);
    const variants = (email: string) => [email, email.toUpperCase(), email[0].toUpperCase() + email.slice(1)];
    for (let round = 0; round < 20; round++) {
      const users = Array.from({ length: 6 + random(20) }, (_, i) => ({ email: `person${i}@example.com`, user_id: `id-${i}` }));
      const first = random(users.length - 1);
      const second = first + 1 + random(users.length - first - 1);
      users[second].email = variants(users[first].email)[random(3)];
      assert.deepEqual(problemsOf(users), [
        `users.json[${second}].email: ${JSON.stringify(users[second].email)} duplicates users.json[${first}] (emails compare case-insensitively)`,
      ]);
      users[second].email = `unique${round}@example.com`;
      users[second].user_id = users[first].user_id;
      assert.deepEqual(problemsOf(users), [`users.json[${second}].user_id: "id-${first}" duplicates users.json[${first}]`]);
    }
  });

  it("checks the password fields without ever printing them", () => {
    const hashes = ["$1$md5crypt", "{SSHA}abcdefgh", "$2y$10$abcdefghijklmnopqrstuv", "5f4dcc3b5aa765d61d8327deb882cf99"];
    for (const hash of hashes) {
      const problems = problemsOf([{ email: "a@example.com", password_hash: hash }]);
      assert.deepEqual(problems, [
        "users.json[0].password_hash: expected a bcrypt hash starting $2a$ or $2b$; give other algorithms as custom_password_hash",
      ]);
      assert.ok(!problems.join("").includes(hash));
    }
    const custom = { algorithm: "sha256", hash: { value: "c2VjcmV0LWhhc2gtdmFsdWU=", encoding: "base64" } };
    assert.deepEqual(problemsOf([{ email: "a@example.com", password_hash: BCRYPT(1), custom_password_hash: custom }]), [
      "users.json[0]: password_hash and custom_password_hash are mutually exclusive; keep one",
    ]);
    const bad = problemsOf([
      { email: "a@example.com", custom_password_hash: { algorithm: "rot13", hash: "c2VjcmV0LWhhc2gtdmFsdWU=", iterations: 3 } },
    ]);
    assert.deepEqual(bad, [
      "users.json[0].custom_password_hash.iterations: not a field of custom_password_hash (documented: algorithm, hash, salt, password, keylen, cost, blockSize, parallelization)",
      "users.json[0].custom_password_hash.algorithm: expected one of argon2, bcrypt, hmac, ldap, md4, md5, sha1, sha256, sha512, pbkdf2, scrypt",
      'users.json[0].custom_password_hash.hash: expected an object with the hash in "value"',
    ]);
    assert.ok(!bad.join("").includes("c2VjcmV0"));
  });

  it("refuses app_metadata keys Auth0 reserves and MFA factors outside the schema", () => {
    for (const key of ["email", "user_id", "blocked", "identities", "loginsCount"])
      assert.deepEqual(problemsOf([{ email: "a@example.com", app_metadata: { roles: [], [key]: 1 } }]), [
        `users.json[0].app_metadata.${key}: reserved by Auth0 (a user attribute of its own); move it out of app_metadata`,
      ]);
    const factors: [unknown[], string][] = [
      [[], "users.json[0].mfa_factors: expected 1 to 10 factors, got 0"],
      [
        Array.from({ length: 11 }, () => ({ email: { value: "a@example.com" } })),
        "users.json[0].mfa_factors: expected 1 to 10 factors, got 11",
      ],
      [[{ sms: { value: "+1" } }], "users.json[0].mfa_factors.0: expected an object with exactly one of totp, phone, email"],
      [
        [{ totp: { secret: "A" } }, { totp: {}, phone: {} }],
        "users.json[0].mfa_factors.1: expected an object with exactly one of totp, phone, email",
      ],
    ];
    for (const [value, message] of factors) assert.deepEqual(problemsOf([{ email: "a@example.com", mfa_factors: value }]), [message]);
  });

  it("reports every problem of the file at once", () => {
    const users: Record<string, unknown>[] = Array.from({ length: 10 }, (_, i) => ({ email: `u${i}@example.com` }));
    users[2].blocked = "no";
    users[5].extra = 1;
    delete users[7].email;
    users[9].email = "U0@example.com";
    const problems = problemsOf(users);
    assert.deepEqual(
      problems.map((p) => /^users\.json\[(\d+)\]\.(\w+)/.exec(p)?.slice(1).join(".")),
      ["2.blocked", "5.extra", "7.email", "9.email"],
    );
  });

  it("secretStrings finds the hashes and TOTP secrets to redact, not names or phone numbers", () => {
    const user = fullUser(3);
    user.custom_password_hash = { algorithm: "hmac", hash: { value: "hmac-hash-value-1", key: { value: "hmac-key-value-2" } } };
    const secrets = secretStrings(user);
    assert.deepEqual(secrets.sort(), [BCRYPT(3), "JBTWY3DPEHPK3PNP", "hmac-hash-value-1", "hmac-key-value-2"].sort());
    assert.equal(redact(`bad ${BCRYPT(3)} and JBTWY3DPEHPK3PNP`, secrets), "bad [redacted] and [redacted]");
  });
});

describe("batches under Auth0's users file limit", () => {
  /** Users whose compact JSON is exactly `size` bytes. */
  const sized = (i: number, size: number): ImportUser => {
    const base = JSON.stringify({ email: `u${i}@example.com`, name: "" }).length;
    return { email: `u${i}@example.com`, name: "x".repeat(size - base) };
  };

  it("fills a job up to exactly the limit, and one byte more starts another", () => {
    // [a,b]: 2 brackets + 1 comma; users of a and limit - 3 - a bytes fill it exactly.
    const limit = USERS_FILE_MAX_BYTES;
    const first = Math.floor((limit - 3) / 2);
    const exact = planBatches([sized(0, first), sized(1, limit - 3 - first)], SOURCE);
    assert.ok(exact.ok);
    assert.deepEqual(
      exact.batches.map((b) => [b.indexes, b.bytes]),
      [[[0, 1], limit]],
    );
    const over = planBatches([sized(0, first), sized(1, limit - 2 - first)], SOURCE);
    assert.ok(over.ok);
    assert.deepEqual(
      over.batches.map((b) => [b.indexes, b.bytes]),
      [
        [[0], first + 2],
        [[1], limit - first],
      ],
    );
  });

  it("keeps every user once, in order, each job at most the limit and its body the users as JSON", () => {
    const random = seededRandom(42);
    for (let round = 0; round < 200; round++) {
      const limit = 100 + random(400);
      const users = Array.from({ length: 1 + random(40) }, (_, i) => sized(i, 45 + random(limit - 46)));
      const plan = planBatches(users, SOURCE, limit);
      assert.ok(plan.ok, `round ${round}`);
      assert.deepEqual(
        plan.batches.flatMap((b) => b.indexes),
        users.map((_, i) => i),
      );
      plan.batches.forEach((batch, n) => {
        assert.equal(batch.number, n + 1);
        assert.equal(Buffer.byteLength(batch.body), batch.bytes);
        assert.ok(batch.bytes <= limit, `round ${round}: ${batch.bytes} > ${limit}`);
        assert.deepEqual(
          JSON.parse(batch.body),
          batch.indexes.map((i) => users[i]),
        );
        // Greedy: the next user would not have fitted.
        const next = plan.batches[n + 1];
        if (next) assert.ok(batch.bytes + 1 + Buffer.byteLength(JSON.stringify(users[next.indexes[0]])) > limit);
      });
    }
  });

  it("counts bytes, not characters", () => {
    const users = [0, 1].map((i) => ({ email: `u${i}@example.com`, name: "é".repeat(100) }));
    const size = Buffer.byteLength(JSON.stringify(users));
    const plan = planBatches(users, SOURCE, size - 1);
    assert.ok(plan.ok);
    assert.equal(plan.batches.length, 2);
  });

  it("refuses a user too large for any job, naming its index", () => {
    const users = [sized(0, 50), sized(1, 200), sized(2, 50)];
    assert.deepEqual(planBatches(users, SOURCE, 150), {
      ok: false,
      problems: ["users.json[1]: 202 bytes as a users file alone, more than the 150 one import job takes"],
    });
  });
});

describe("what a job's answer means for each user", () => {
  const users: ImportUser[] = Array.from({ length: 8 }, (_, i) => ({
    email: `User${i}@Example.com`,
    user_id: `legacy-${i}`,
    password_hash: BCRYPT(i),
  }));
  const batch: Batch = { number: 2, indexes: [2, 3, 4, 5, 6], body: "[]", bytes: 2 };
  const errorFor = (i: number, ...codes: string[]): JobUserErrors => ({
    // Auth0 echoes the user as provided, hash included, with emails as given.
    user: { ...users[i], email: users[i].email.toLowerCase() },
    errors: codes.map((code) => ({ code, message: `${code} for ${users[i].password_hash}`, path: "email" })),
  });
  const completed = (errors: JobUserErrors[]): BatchAnswer => ({ job: { id: "job_Aaaaaaaaaaaaaaaa", status: "completed" }, errors });

  it("imported without an error; skipped when every error is DUPLICATED_USER and upsert is off; failed otherwise", () => {
    const answer = completed([
      errorFor(3, "DUPLICATED_USER"),
      errorFor(4, "DUPLICATED_USER", "INVALID_FORMAT"),
      errorFor(6, "INVALID_FORMAT"),
    ]);
    const off = classifyBatch(batch, users, answer, false);
    assert.deepEqual(
      off.outcomes.map((o) => [o.index, o.outcome]),
      [
        [2, "imported"],
        [3, "skipped"],
        [4, "failed"],
        [5, "imported"],
        [6, "failed"],
      ],
    );
    assert.deepEqual({ ...off.result.counts }, { imported: 2, skipped: 1, failed: 2, unconfirmed: 0, "not-run": 0 });
    assert.equal(
      off.outcomes[2].reason,
      "DUPLICATED_USER: DUPLICATED_USER for [redacted] (path email); INVALID_FORMAT: INVALID_FORMAT for [redacted] (path email)",
    );
    // With upsert, DUPLICATED_USER means Auth0 could not update the user: a failure.
    const on = classifyBatch(batch, users, answer, true);
    assert.equal(on.outcomes[1].outcome, "failed");
    assert.deepEqual([on.result.counts.skipped, on.result.counts.failed], [0, 3]);
  });

  it("matches errors to users by email whatever the case, else by user_id; reports errors it cannot match", () => {
    const byUserId: JobUserErrors = { user: { user_id: "legacy-5" }, errors: [{ code: "X" }] };
    const stranger: JobUserErrors = {
      user: { email: "stranger@example.com", password_hash: BCRYPT(99) },
      errors: [{ code: "Y", message: `m ${BCRYPT(99)}` }],
    };
    const { outcomes, result } = classifyBatch(batch, users, completed([byUserId, stranger]), false);
    assert.equal(outcomes.find((o) => o.index === 5)?.outcome, "failed");
    const unmatched = outcomes.find((o) => o.index === null);
    assert.equal(unmatched?.email, "stranger@example.com");
    assert.match(unmatched?.reason ?? "", /^reported for a user not in this batch: Y: m \[redacted\]$/);
    assert.equal(result.counts.failed, 2);
  });

  it("a failed job fails its users with Auth0's details; an unfinished job leaves them unconfirmed; no job, not run", () => {
    const failed = classifyBatch(batch, users, { job: { id: "job_B", status: "failed", status_details: "bad file" }, errors: [] }, false);
    assert.ok(failed.outcomes.every((o) => o.outcome === "failed" && o.reason === "the job failed: bad file"));
    assert.equal(failed.result.statusDetails, "bad file");
    for (const status of ["pending", "processing"]) {
      const open = classifyBatch(batch, users, { job: { id: "job_C", status }, problem: "still processing after 900 s" }, false);
      assert.ok(open.outcomes.every((o) => o.outcome === "unconfirmed" && o.reason === "still processing after 900 s"));
    }
    const none = classifyBatch(batch, users, { problem: "not started" }, false);
    assert.ok(none.outcomes.every((o) => o.outcome === "not-run"));
    assert.equal(none.result.jobId, undefined);
    assert.deepEqual([none.result.firstIndex, none.result.lastIndex, none.result.users], [2, 6, 5]);
  });
});

describe("the report", () => {
  const users: ImportUser[] = Array.from({ length: 120 }, (_, i) => ({ email: `u${i}@example.com`, password_hash: BCRYPT(i) }));
  const meta = {
    stack: "staging",
    tenant: "acme-staging.eu.auth0.com",
    connectionId: "con_Ab12Cd34Ef56Gh78",
    input: "users.json",
    upsert: false,
    startedAt: "2026-03-01T12:00:00.000Z",
    finishedAt: "2026-03-01T12:05:00.000Z",
  };
  const plan = planBatches(users, "users.json", 1500);
  assert.ok(plan.ok);
  const batches = plan.batches;

  it("counts every user once, by outcome, per batch and in total; exit 1 unless all imported or skipped", () => {
    const random = seededRandom(3);
    for (let round = 0; round < 30; round++) {
      const results = batches.map((batch) => {
        const kind = random(4);
        const answer: BatchAnswer =
          kind === 0
            ? { problem: "not started" }
            : kind === 1
              ? { job: { id: "job_X", status: "processing" }, problem: "timeout" }
              : {
                  job: { id: "job_Y", status: "completed" },
                  errors: batch.indexes
                    .filter(() => random(3) === 0)
                    .map((i) => ({ user: users[i], errors: [{ code: random(2) === 0 ? "DUPLICATED_USER" : "INVALID_FORMAT" }] })),
                };
        return classifyBatch(batch, users, answer, false);
      });
      const report = buildReport(meta, users.length, results);
      const sum = OUTCOMES.reduce((total, o) => total + report.totals[o], 0);
      assert.equal(sum, users.length);
      for (const outcome of OUTCOMES) {
        assert.equal(report.totals[outcome], report.users.filter((u) => u.outcome === outcome).length);
        assert.equal(
          report.totals[outcome],
          report.batches.reduce((total, b) => total + b.counts[outcome], 0),
        );
      }
      const bad = report.totals.failed + report.totals.unconfirmed + report.totals["not-run"];
      assert.equal(exitCodeFor(report), bad > 0 ? 1 : 0);
    }
  });

  it("never carries a password hash, in the JSON or the summary", () => {
    const results = batches.map((batch) =>
      classifyBatch(
        batch,
        users,
        {
          job: { id: "job_Z", status: "completed" },
          errors: batch.indexes.map((i) => ({ user: users[i], errors: [{ code: "E", message: `hash ${users[i].password_hash}` }] })),
        },
        false,
      ),
    );
    const report = buildReport(meta, users.length, results);
    const text = JSON.stringify(report) + formatSummary(report);
    for (const user of users) assert.ok(!text.includes(String(user.password_hash)));
    assert.ok(
      report.users.every((u) => Object.keys(u).every((k) => ["index", "email", "userId", "batch", "outcome", "reason"].includes(k))),
    );
  });

  it("summarises per batch and lists the users that need attention, at most 50 of each kind", () => {
    const results = batches.map((batch, n) =>
      classifyBatch(
        batch,
        users,
        n === 0
          ? { job: { id: "job_F", status: "failed", status_details: "boom" }, errors: [] }
          : {
              job: { id: "job_G", status: "completed" },
              errors: batch.indexes.map((i) => ({ user: users[i], errors: [{ code: "DUPLICATED_USER" }] })),
            },
        false,
      ),
    );
    const report = buildReport(meta, users.length, results);
    const summary = formatSummary(report);
    assert.match(
      summary,
      /^users:import staging: users\.json into acme-staging\.eu\.auth0\.com, connection con_Ab12Cd34Ef56Gh78, upsert off\n/,
    );
    assert.match(
      summary,
      new RegExp(
        `batch 1/${batches.length} \\(users\\.json\\[0\\.\\.\\d+\\], \\d+ users, \\d+ bytes\\): job job_F failed \\(boom\\): 0 imported, 0 skipped \\(already exist\\), \\d+ failed`,
      ),
    );
    assert.match(
      summary,
      new RegExp(`total: 120 users: 0 imported, ${report.totals.skipped} skipped \\(already exist\\), ${report.totals.failed} failed`),
    );
    assert.match(summary, /\nfailed:\n {2}users\.json\[0\] u0@example\.com: the job failed: boom\n/);
    assert.equal((summary.match(/^ {2}users\.json\[\d+\]/gm) ?? []).length, Math.min(report.totals.failed, 50));
    assert.match(summary, /run the same command again/);
    const clean = buildReport(
      meta,
      users.length,
      batches.map((b) => classifyBatch(b, users, { job: { id: "job_H", status: "completed" }, errors: [] }, false)),
    );
    assert.doesNotMatch(formatSummary(clean), /failed:|run the same command again/);
    assert.equal(exitCodeFor(clean), 0);
  });
});

describe("where the requests go, how they wait, and the grant they need", () => {
  it("production is https://<tenant>; the override takes only a loopback origin", () => {
    assert.equal(apiBase("acme.eu.auth0.com", undefined), "https://acme.eu.auth0.com");
    assert.equal(apiBase("acme.eu.auth0.com", ""), "https://acme.eu.auth0.com");
    for (const url of ["http://127.0.0.1:4000", "http://localhost:9", "http://[::1]:8080/", "https://127.0.0.1:8443"])
      assert.equal(apiBase("acme.eu.auth0.com", url), new URL(url).origin, url);
    for (const url of [
      "http://acme.eu.auth0.com",
      "https://auth0.example.com",
      "http://127.0.0.2:80",
      "http://10.0.0.1",
      "http://127.0.0.1.example.com",
      "ftp://127.0.0.1",
      "http://127.0.0.1:4000/api",
      "http://127.0.0.1:4000/?x=1",
      "not a url",
    ])
      assert.throws(
        () => apiBase("acme.eu.auth0.com", url),
        (e: unknown) => e instanceof ImportError && e.exitCode === 2 && e.message.startsWith("USERS_IMPORT_LOOPBACK_URL"),
        url,
      );
  });

  it("polls at 1 s, doubling, never more than 30 s apart", () => {
    const delays = Array.from({ length: 12 }, (_, i) => pollDelay(i));
    assert.deepEqual(delays.slice(0, 5), [1000, 2000, 4000, 8000, 16000]);
    assert.ok(delays.every((d, i) => d <= 30_000 && (i === 0 || d >= delays[i - 1])));
    assert.equal(delays[11], 30_000);
  });

  it("the user-management client's grant holds every scope the import job endpoints need", () => {
    for (const scope of IMPORT_SCOPES) assert.ok((MANAGEMENT_API_SCOPES as readonly string[]).includes(scope), scope);
  });
});
