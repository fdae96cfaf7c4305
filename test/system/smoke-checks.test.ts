// The smoke hook (components/hooks/smoke.sh, rendered by renderSmokeCommand) run by bash as
// sshd runs it, against the rendered nginx.conf served by real nginx on loopback, an app
// stand-in behind it, the frontend (a static-file server) at the app host, and a stub of
// Auth0's token endpoint (the client-credentials grant) on loopback. Every check runs, all
// failures are reported together, and neither the client secret nor the token ever shows in
// the output.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { renderSmokeCommand, smokeStdin, type SmokeCheck } from "../../components/hooks/commands";
import { freePort, requireTools, runAsync, type Finished } from "../../tools/lib/system";
import {
  API_HOST,
  APP_ALIAS,
  APP_HOST,
  FRONTEND_ALIAS,
  freeUpstreamPort,
  localNginxVersion,
  prepareNginxSite,
  requireNginxTools,
  startLoopbackDns,
  startNginx,
  startStaticBackend,
  type LoopbackDns,
  type NginxSite,
  type RunningNginx,
  type StaticBackend,
} from "../../tools/lib/nginx-harness";

const CLIENT_ID = "smoke-client-id";
const CLIENT_SECRET = "s3cret-value-never-printed";
const TOKEN = "tok-ABCdef.0123456789-never-printed";
const AUDIENCE = "https://api.dropstack.test";
const REPLICA = "127.0.0.2";
const FRONTEND = "127.0.0.5";

describe("smoke checks through real nginx on loopback", () => {
  const tools = requireNginxTools();
  requireTools([{ command: "curl", debianPackage: "curl" }]);
  let site: NginxSite;
  let dns: LoopbackDns;
  let nginx: RunningNginx;
  let app: http.Server;
  let frontend: StaticBackend | undefined;
  let tokenServer: http.Server;
  let tokenPort: number;
  let closedPort: number;
  const seen: string[] = [];
  const tokenRequests: Record<string, string>[] = [];

  before(async () => {
    dns = await startLoopbackDns();
    const upstreamPort = await freeUpstreamPort([REPLICA, FRONTEND]);
    // The app stand-in: /status/<code> answers that code; /api/me wants the bearer token.
    app = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const url = req.url ?? "/";
      const status = /^\/status\/(\d{3})$/.exec(url);
      if (url === "/health") res.end("ok");
      else if (status) {
        res.statusCode = Number(status[1]);
        res.end(`answered ${status[1]}`);
      } else if (url === "/api/me") {
        const authorised = req.headers.authorization === `Bearer ${TOKEN}`;
        res.statusCode = authorised ? 200 : 401;
        res.end(authorised ? '{"sub":"smoke@clients"}' : '{"error":"unauthorized"}');
      } else if (url === "/api/items") res.end('{"items":[1,2]}');
      else if (url === "/api/items/new" && req.method === "POST") {
        res.statusCode = 201;
        res.end("created");
      } else {
        res.statusCode = 404;
        res.end("not found");
      }
    });
    await new Promise<void>((resolve) => app.listen(upstreamPort, REPLICA, resolve));
    dns.set(APP_ALIAS, [REPLICA]);
    dns.set(FRONTEND_ALIAS, [FRONTEND]);
    site = await prepareNginxSite(localNginxVersion(tools.nginx), {
      resolver: dns.address,
      upstreamPort,
      services: { frontend: { alias: FRONTEND_ALIAS, port: upstreamPort } },
      settings: { rateLimit: 10000, burst: 10000, maxBodySize: "1m" },
    });
    frontend = await startStaticBackend(FRONTEND, upstreamPort, site.staticRoot);
    nginx = await startNginx(tools.nginx, site);

    // Auth0's /oauth/token as the client-credentials grant uses it (form-encoded, client_secret_post).
    tokenServer = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        const form = Object.fromEntries(new URLSearchParams(body));
        tokenRequests.push(form);
        res.setHeader("content-type", "application/json");
        const ok =
          req.method === "POST" &&
          form.grant_type === "client_credentials" &&
          form.client_id === CLIENT_ID &&
          form.client_secret === CLIENT_SECRET &&
          form.audience === AUDIENCE;
        res.statusCode = ok ? 200 : 401;
        res.end(
          ok
            ? JSON.stringify({ access_token: TOKEN, token_type: "Bearer", expires_in: 86400 })
            : JSON.stringify({ error: "access_denied", error_description: "Unauthorized" }),
        );
      });
    });
    tokenPort = await freePort();
    await new Promise<void>((resolve) => tokenServer.listen(tokenPort, "127.0.0.1", resolve));
    closedPort = await freePort();
  });

  after(async () => {
    await nginx?.stop();
    await new Promise<void>((resolve) => (app ? app.close(() => resolve()) : resolve()));
    await frontend?.close();
    await new Promise<void>((resolve) => (tokenServer ? tokenServer.close(() => resolve()) : resolve()));
    await dns?.close();
  });

  const check = (path: string, more: Partial<SmokeCheck> = {}): SmokeCheck => ({
    method: "GET",
    host: API_HOST,
    path,
    status: 200,
    ...more,
  });

  /** Runs the rendered hook with bash -c, as the remote Command does over SSH. */
  function smoke(checks: SmokeCheck[], options: { stdin?: string; tokenPort?: number; insecure?: boolean } = {}): Promise<Finished> {
    const script = renderSmokeCommand({
      checks,
      insecure: options.insecure ?? true,
      port: site.httpsPort,
      retries: 2,
      retryDelaySeconds: 0,
      maxTimeSeconds: 5,
      token: { url: `http://127.0.0.1:${options.tokenPort ?? tokenPort}/oauth/token`, audience: AUDIENCE },
    });
    return runAsync(["bash", "-c", script], { input: options.stdin ?? "" });
  }

  const failureLines = (result: Finished) => result.stderr.split("\n").filter((l) => /^ {2}check \d+ /.test(l));

  test("passes when every check answers as expected: health, body match, POST, HEAD, the app host, and a token-protected endpoint", async () => {
    tokenRequests.length = 0;
    const result = await smoke(
      [
        check("/health", { status: "2xx" }),
        check("/api/items", { bodyContains: '"items":[1,2]' }),
        check("/api/items/new", { method: "POST", status: 201 }),
        check("/api/items", { method: "HEAD" }),
        check("/api/me", { token: true, bodyContains: "smoke@clients" }),
        { method: "GET", host: APP_HOST, path: "/", status: 200, bodyContains: "<!doctype html>" },
      ],
      { stdin: smokeStdin(CLIENT_ID, CLIENT_SECRET) },
    );
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /all 6 smoke checks passed/);
    assert.equal((result.stdout.match(/^dropstack: smoke check \d+ .* answered HTTP \d{3} in /gm) ?? []).length, 6, result.stdout);
    assert.equal(tokenRequests.length, 1, "one token for every check that needs it");
    for (const secret of [CLIENT_SECRET, TOKEN]) assert.ok(!(result.stdout + result.stderr).includes(secret), "a secret was printed");
  });

  test("runs every check after a failure and reports all failures together", async () => {
    seen.length = 0;
    const result = await smoke([
      check("/status/500"),
      check("/api/items", { bodyContains: "not in the body" }),
      check("/missing"),
      check("/health"),
      check("/status/503", { status: "2xx" }),
      check("/api/items"),
    ]);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /dropstack: 4 of 6 smoke checks failed:/);
    assert.deepEqual(
      failureLines(result).map((l) => /check (\d+)/.exec(l)?.[1]),
      ["1", "2", "3", "5"],
    );
    assert.match(result.stderr, /check 1 \(GET https:\/\/api\.dropstack\.test:\d+\/status\/500\): expected HTTP 200, got 500/);
    assert.match(result.stderr, /check 2 .*answered HTTP 200, but the body does not contain "not in the body"/);
    assert.match(result.stderr, /check 3 .*expected HTTP 200, got 404/);
    assert.match(result.stdout, /smoke check 6 .* answered HTTP 200/, "the last check ran after the failures");
    assert.equal(seen.filter((r) => r === "GET /status/500").length, 3, "a 5xx is retried (retries: 2)");
    assert.equal(seen.filter((r) => r === "GET /missing").length, 1, "a 404 is final at once");
  });

  test("expected statuses: an exact code matches only itself, a class any code in it (generated over codes and classes)", async () => {
    const codes = [200, 201, 204, 301, 302, 400, 403, 404, 409, 500, 502];
    const cases = codes.flatMap((code) => [
      { code, expected: code, pass: true },
      { code, expected: `${String(code)[0]}xx` as SmokeCheck["status"], pass: true },
      { code, expected: code === 200 ? 204 : 200, pass: false },
      { code, expected: `${String(code)[0] === "2" ? 4 : 2}xx` as SmokeCheck["status"], pass: false },
    ]);
    const result = await smoke(cases.map(({ code, expected }) => check(`/status/${code}`, { status: expected })));
    const failed = new Set(failureLines(result).map((l) => Number(/check (\d+)/.exec(l)?.[1])));
    cases.forEach(({ code, expected, pass }, i) =>
      assert.equal(!failed.has(i + 1), pass, `HTTP ${code} against expected ${String(expected)}: ${result.stderr}`),
    );
    assert.equal(result.status, 1);
  });

  test("a refused client secret fails every check that needs the token, says why, and the others still run", async () => {
    const result = await smoke([check("/api/me", { token: true }), check("/health"), check("/api/me", { token: true })], {
      stdin: smokeStdin(CLIENT_ID, "wrong-secret"),
    });
    assert.equal(result.status, 1);
    const failures = failureLines(result);
    assert.equal(failures.length, 2, result.stderr);
    for (const line of failures)
      assert.match(
        line,
        /no bearer token: the token endpoint http:\/\/127\.0\.0\.1:\d+\/oauth\/token answered HTTP 401 without a token: "error":"access_denied"/,
      );
    assert.match(result.stdout, /smoke check 2 .* answered HTTP 200/);
    assert.ok(!(result.stdout + result.stderr).includes("wrong-secret"));
  });

  test("a token endpoint that does not answer, or no credentials on stdin, fail the token checks with the reason", async () => {
    const down = await smoke([check("/api/me", { token: true })], { stdin: smokeStdin(CLIENT_ID, CLIENT_SECRET), tokenPort: closedPort });
    assert.equal(down.status, 1);
    assert.match(down.stderr, /check 1 .*no bearer token: the token endpoint http:\/\/127\.0\.0\.1:\d+\/oauth\/token did not answer/);
    const missing = await smoke([check("/api/me", { token: true })], { stdin: "" });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no bearer token: the M2M client ID and secret did not arrive on stdin/);
  });

  test("without the token an endpoint that wants it answers 401, which the check reports", async () => {
    const result = await smoke([check("/api/me")]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /check 1 .*expected HTTP 200, got 401/);
  });

  test("verifies the certificate unless tls.staging: the self-signed placeholder fails a production smoke test", async () => {
    const result = await smoke([check("/health")], { insecure: false });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /check 1 .*got no answer: .*certificate/i);
  });
});
