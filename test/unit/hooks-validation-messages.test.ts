// The messages a deploy shows when a hook setting is refused, asserted whole, and the edges
// that are still accepted. Cases are generated per setting: for numbers, zero, negatives,
// fractions, NaN and the smallest accepted value; for texts, empty, blank, control
// characters and the allowed punctuation; for smoke checks, a bad value in a later check so
// the message names the right check.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WATCH_COMMAND_INPUT } from "../support/watch-command";
import {
  migrateStdin,
  postgresClientImage,
  renderBackupCommand,
  renderMigrateCommand,
  renderOffsitePrune,
  renderSmokeCommand,
  renderVerifyCommand,
  renderWatchCommand,
  type SmokeCheck,
} from "../../components/hooks/commands";

const IMAGE_ID = `sha256:${"ab".repeat(32)}`;
const BAD_COUNTS = [0, -1, 1.5, Number.NaN];

describe("numbers the hooks refuse, with the value they got", () => {
  it("a local retention under one backup", () => {
    for (const keep of BAD_COUNTS)
      assert.throws(() => renderBackupCommand({ network: "n", clientImage: "c", label: "l", keep }), {
        message: `dropstack:backups.keep must be a positive integer, got ${keep}`,
      });
  });

  it("an off-site retention under one copy or one day, and accepts one of each", () => {
    for (const keep of BAD_COUNTS)
      assert.throws(() => renderOffsitePrune("offsite:b/p/", { keep, days: 7 }), {
        message: `off-site retention must keep at least 1 copy, got ${keep}`,
      });
    for (const days of BAD_COUNTS)
      assert.throws(() => renderOffsitePrune("offsite:b/p/", { keep: 3, days }), {
        message: `off-site retention days must be at least 1, got ${days}`,
      });
    assert.ok(
      renderOffsitePrune("offsite:b/p/", { keep: 1, days: 1 }).includes(
        "  local keep=1 days=1 listing object key oldest_kept cutoff epoch",
      ),
    );
  });

  it("a migration lock timeout that is not a whole number of seconds, and accepts none at all", () => {
    const input = { network: "n", clientImage: "c", image: "i", migrate: "m" };
    for (const lockTimeoutSeconds of [-1, 0.5, Number.NaN])
      assert.throws(() => renderMigrateCommand({ ...input, lockTimeoutSeconds }), {
        message: `the migration lock timeout must be a whole number of seconds, got ${lockTimeoutSeconds}`,
      });
    assert.match(renderMigrateCommand({ ...input, lockTimeoutSeconds: 0 }), /^MIGRATE_LOCK_TIMEOUT_S='0'$/m);
  });

  it("a schema check timeout under a millisecond", () => {
    for (const statementTimeoutMs of BAD_COUNTS)
      assert.throws(
        () =>
          renderVerifyCommand({ network: "n", clientImage: "c", assertions: [{ name: "a", query: "select true" }], statementTimeoutMs }),
        { message: `the assertion timeout must be a positive number of ms, got ${statementTimeoutMs}` },
      );
  });

  it("watch limits that are not positive whole numbers, a 5xx share outside 0-100 or finer than hundredths, and an image that is not an ID", () => {
    const ok = WATCH_COMMAND_INPUT;
    for (const [key, what] of [
      ["windowSeconds", "window"],
      ["p95LatencyMs", "latency limit"],
      ["minRequests", "minimum of requests"],
    ] as const) {
      for (const value of BAD_COUNTS)
        assert.throws(() => renderWatchCommand({ ...ok, [key]: value }), {
          message: `the watch's ${what} must be a positive whole number, got ${value}`,
        });
      renderWatchCommand({ ...ok, [key]: 1 });
    }
    for (const max5xxPercent of [-0.01, 100.01, 0.125, 0.001, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      assert.throws(() => renderWatchCommand({ ...ok, max5xxPercent }), {
        message: `the watch's 5xx limit must be a percentage from 0 to 100 with at most two decimals, got ${max5xxPercent}`,
      });
    for (const currentImage of ["sha256:abc", "ghcr.io/acme/api:1", `sha256:${"AB".repeat(32)}`, ` ${IMAGE_ID}`, `${IMAGE_ID}\n`])
      assert.throws(() => renderWatchCommand({ ...ok, currentImage }), {
        message: `expected an image ID (sha256:<64 hex>), got "${currentImage}"`,
      });
  });
});

describe("schema assertions the check refuses", () => {
  const ok = { network: "n", clientImage: "c" };

  it("an empty list, a name that is blank, too long or holds a control character, and a query that is blank or not one line", () => {
    assert.throws(() => renderVerifyCommand({ ...ok, assertions: [] }), { message: "the schema check needs at least one assertion" });
    for (const name of ["", " ", "\t", "a\tb", "a\nb", "a\u007fb", "x".repeat(101)])
      assert.throws(
        () =>
          renderVerifyCommand({
            ...ok,
            assertions: [
              { name: "first", query: "select true" },
              { name, query: "select true" },
            ],
          }),
        {
          message: "assertion 2: the name must be text without tabs or control characters",
        },
      );
    renderVerifyCommand({ ...ok, assertions: [{ name: "x".repeat(100), query: "select true" }] });
    for (const query of ["", "  ", "\t", "select\ntrue", "select true\r", "select\0"])
      assert.throws(() => renderVerifyCommand({ ...ok, assertions: [{ name: "it's b", query }] }), {
        message: `assertion "it's b": the query must be one line of SQL`,
      });
  });
});

describe("smoke checks the smoke test refuses, naming the check", () => {
  const first: SmokeCheck = { method: "GET", host: "api.example.com", path: "/api/health", status: "2xx" };
  const render = (second: Partial<SmokeCheck>, token?: { url: string; audience: string }) =>
    renderSmokeCommand({ checks: [first, { ...first, ...second }], insecure: false, ...(token ? { token } : {}) });

  it("no checks at all", () => {
    assert.throws(() => renderSmokeCommand({ checks: [], insecure: false }), { message: "the smoke test needs at least one check" });
  });

  it("a method it does not know", () => {
    for (const method of ["TRACE", "get", "", "CONNECT"])
      assert.throws(() => render({ method: method as never }), { message: `smoke check 2: unknown method "${method}"` });
  });

  it("a path that is not an absolute request path of RFC 3986 characters", () => {
    for (const path of ["", "api", " /a", "/a b", "/a\tb", "/a\n", '/a"b', "/a<b>", "/a{b}", "/a\\b", "/a#frag"])
      assert.throws(() => render({ path }), { message: `smoke check 2: expected a path like /api/health, got "${path}"` });
    for (const path of ["/", "/a-b._~!$&'()*+,;=:@%20/c?d=e"]) render({ path });
  });

  it("a host that is not a lower-case hostname", () => {
    for (const host of ["", "API.example.com", "api example.com", "api_1.example.com", "api.example.com/", " api.example.com"])
      assert.throws(() => render({ host }), { message: `smoke check 2: not a hostname: "${host}"` });
  });

  it("a status that is neither a code from 100 to 599 nor a class 1xx to 5xx", () => {
    for (const status of [99, 600, 200.5, Number.NaN, "6xx", "0xx", "2XX", "20x", " 2xx", "2xx "] as never[])
      assert.throws(() => render({ status }), { message: `smoke check 2: expected an HTTP status like 200 or 2xx, got ${String(status)}` });
    for (const status of [100, 599, "1xx", "5xx"] as never[]) render({ status });
  });

  it("a body match that is blank or holds a tab or another control character", () => {
    for (const bodyContains of ["", " ", "a\tb", "a\nb", "a\u0000b", "a\u007fb"])
      assert.throws(() => render({ bodyContains }), {
        message: "smoke check 2: the body match must be text without tabs or other control characters",
      });
    render({ bodyContains: ` it's "ok" ` });
  });

  it("a check that sends a token when no token endpoint is given", () => {
    assert.throws(() => render({ token: true }), { message: "smoke check 2 sends a bearer token, but no token endpoint is given" });
    render({ token: true }, { url: "https://auth.example.com/oauth/token", audience: "api" });
    render({ token: false });
  });
});

describe("other values the hooks refuse or pin", () => {
  it("an environment variable name that is not one, quoting it", () => {
    for (const name of ["", "1A", "A-B", "A B", "A=B", "a.b"])
      assert.throws(() => migrateStdin("postgresql://m@db/app", { [name]: "v" }), {
        message: `"${name}" is not an environment variable name`,
      });
  });

  it("the PostgreSQL client image: an exact release for supported majors, the major's tag otherwise", () => {
    assert.equal(postgresClientImage("15"), "postgres:15.10-bookworm");
    assert.equal(postgresClientImage("16"), "postgres:16.6-bookworm");
    assert.equal(postgresClientImage("17"), "postgres:17.2-bookworm");
    assert.equal(postgresClientImage("14"), "postgres:14-bookworm");
    assert.equal(postgresClientImage("18"), "postgres:18-bookworm");
  });
});

describe("the watch's 5xx limit", () => {
  it("takes every percentage from 0 to 100 in hundredths as its basis points, whatever the float error of times 100", () => {
    const ok = { ...WATCH_COMMAND_INPUT, stack: "s" };
    for (let n = 0; n <= 10000; n += n < 300 ? 1 : 37) {
      const max5xxPercent = Number(`${Math.floor(n / 100)}.${String(n % 100).padStart(2, "0")}`);
      assert.match(renderWatchCommand({ ...ok, max5xxPercent }), new RegExp(`^MAX_5XX_BASIS_POINTS='${n}'$`, "m"), String(max5xxPercent));
    }
  });

  it("refuses a share finer than hundredths, however small the excess", () => {
    const ok = { ...WATCH_COMMAND_INPUT, stack: "s" };
    for (const max5xxPercent of [1e-8, 0.00001, 0.29000001, 99.999999, 1.005])
      assert.throws(() => renderWatchCommand({ ...ok, max5xxPercent }), {
        message: `the watch's 5xx limit must be a percentage from 0 to 100 with at most two decimals, got ${max5xxPercent}`,
      });
  });
});
