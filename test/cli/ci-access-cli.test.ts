// `npm run ci-access` as a CI job runs it, against a stub of the DigitalOcean API on
// loopback that serves the documented /v2/firewalls and /v2/databases/{uuid}/firewall
// request and response shapes. Whatever open does, close must leave the account as it
// found it: on success, after a half-finished open, and after a lost response.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { runCiAccess } from "../../tools/ci-access/cli";
import { TS_NODE } from "../support/program";

const ROOT = join(__dirname, "..", "..");
const TOKEN = "dop_v1_stub_token";
const CLUSTER = "9cc10173-e9ea-4176-9dbc-a4cee4c4ff30";
const TAG = "dropstack-staging-app";
const RUNNER = "203.0.113.7";

interface Rule {
  uuid: string;
  cluster_uuid: string;
  type: string;
  value: string;
  description?: string;
  created_at: string;
}
interface Firewall {
  id: string;
  name: string;
  status: string;
  created_at: string;
  tags: string[];
  inbound_rules: unknown[];
  outbound_rules: unknown[];
  droplet_ids: number[];
  pending_changes: unknown[];
}

/** The DigitalOcean API as far as the tool uses it, with hooks to misbehave. */
class StubApi {
  firewalls = new Map<string, Firewall>();
  rules: Rule[] = [];
  requests: { method: string; path: string; body?: unknown }[] = [];
  lookups: Record<string, string> = {};
  /** Status to answer the next database PUTs with (a failing API). */
  failDatabasePut: number | undefined;
  /** Another job's write racing ours: after our next PUT, drop this address again. */
  raceDropAddress: string | undefined;
  private nextId = 1;
  server: Server = createServer((req, res) => void this.handle(req, res));

  reset(rules: Omit<Rule, "cluster_uuid" | "created_at">[]): void {
    this.firewalls.clear();
    this.rules = rules.map((r) => ({ ...r, cluster_uuid: CLUSTER, created_at: "2026-01-01T00:00:00Z" }));
    this.requests = [];
    this.failDatabasePut = undefined;
    this.raceDropAddress = undefined;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  writes(): string[] {
    return this.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://stub");
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, body === undefined ? {} : { "Content-Type": "application/json" });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const body = text === "" ? undefined : JSON.parse(text);
    this.requests.push({ method: req.method ?? "", path: url.pathname, body });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { id: "unauthorized", message: "Unable to authenticate you" });

    const firewallId = /^\/v2\/firewalls\/([^/]+)$/.exec(url.pathname)?.[1];
    if (req.method === "GET" && url.pathname === "/v2/firewalls") {
      return send(200, { firewalls: [...this.firewalls.values()], links: {}, meta: { total: this.firewalls.size } });
    }
    if (req.method === "POST" && url.pathname === "/v2/firewalls") {
      const b = body as Partial<Firewall> & { name?: string };
      if (!b.name || !/^[A-Za-z0-9.-]+$/.test(b.name) || !Array.isArray(b.inbound_rules))
        return send(422, { id: "unprocessable_entity", message: "invalid firewall" });
      const firewall: Firewall = {
        id: `fw-${this.nextId++}`,
        name: b.name,
        status: "waiting",
        created_at: new Date().toISOString(),
        tags: b.tags ?? [],
        inbound_rules: b.inbound_rules,
        outbound_rules: b.outbound_rules ?? [],
        droplet_ids: [],
        pending_changes: [],
      };
      this.firewalls.set(firewall.id, firewall);
      return send(202, { firewall });
    }
    if (firewallId && req.method === "GET") {
      const firewall = this.firewalls.get(firewallId);
      if (!firewall) return send(404, { id: "not_found", message: "The resource you were accessing could not be found." });
      const answer = { ...firewall };
      firewall.status = "succeeded"; // applied by the time of the next read
      return send(200, { firewall: answer });
    }
    if (firewallId && req.method === "DELETE") {
      if (!this.firewalls.delete(firewallId))
        return send(404, { id: "not_found", message: "The resource you were accessing could not be found." });
      return send(204);
    }
    if (url.pathname === `/v2/databases/${CLUSTER}/firewall`) {
      if (req.method === "GET") return send(200, { rules: this.rules });
      if (req.method === "PUT") {
        if (this.failDatabasePut) return send(this.failDatabasePut, { id: "server_error", message: "stub failure" });
        const incoming = (body as { rules?: Partial<Rule>[] }).rules ?? [];
        for (const r of incoming) {
          if (!["droplet", "k8s", "ip_addr", "tag", "app"].includes(r.type ?? "") || !r.value)
            return send(422, { id: "unprocessable_entity", message: "invalid rule" });
          if ("cluster_uuid" in r || "created_at" in r)
            return send(422, { id: "unprocessable_entity", message: "read-only field in request" });
        }
        const previous = new Map(this.rules.map((r) => [r.uuid, r]));
        this.rules = incoming.map(
          (r) =>
            previous.get(r.uuid ?? "") ?? {
              uuid: `r-${this.nextId++}`,
              cluster_uuid: CLUSTER,
              type: r.type ?? "",
              value: r.value ?? "",
              created_at: new Date().toISOString(),
              ...(r.description ? { description: r.description } : {}),
            },
        );
        if (this.raceDropAddress) {
          this.rules = this.rules.filter((r) => r.value !== this.raceDropAddress);
          this.raceDropAddress = undefined;
        }
        return send(204);
      }
    }
    return send(404, { id: "not_found", message: `no stub for ${req.method} ${url.pathname}` });
  }
}

const stub = new StubApi();
// Address lookups are plain-text services; these answer on their own server.
const lookupServer = createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/plain" });
  res.end(`${stub.lookups[req.url ?? ""] ?? ""}\n`);
});
let dir: string;

function outputsFile(
  rules: { type: string; value: string }[] = [
    { type: "tag", value: TAG },
    { type: "ip_addr", value: "198.51.100.0/24" },
  ],
): string {
  const file = join(dir, "outputs.json");
  writeFileSync(
    file,
    JSON.stringify({
      databaseClusterId: CLUSTER,
      ciAccess: { dropletTag: TAG, databaseClusterId: CLUSTER, databaseTrustedSources: rules },
    }),
  );
  return file;
}

type Run = { status: number | null; stdout: string; stderr: string };

/** In-process, for speed: the same entry point main.ts runs, with this process's stub. */
async function ciAccess(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const status = await runCiAccess(args, {
    env: { DIGITALOCEAN_TOKEN: TOKEN, DIGITALOCEAN_API_URL: stub.url, ...env },
    out: (line) => (stdout += `${line}\n`),
    err: (line) => (stderr += `${line}\n`),
  });
  return { status, stdout, stderr };
}

/** As CI runs it: `npm run ci-access` is this process. */
function ciAccessProcess(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE, join("tools", "ci-access", "main.ts"), ...args], {
      cwd: ROOT,
      env: { ...process.env, DIGITALOCEAN_TOKEN: TOKEN, DIGITALOCEAN_API_URL: stub.url },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const initialRules = () => [
  { uuid: "u-tag", type: "tag", value: TAG },
  { uuid: "u-admin", type: "ip_addr", value: "198.51.100.0/24" },
];
const ruleValues = () => stub.rules.map((r) => `${r.uuid}:${r.value}`).sort();

describe("ci-access against a stub DigitalOcean API", () => {
  before(async () => {
    await new Promise<void>((resolve) => stub.server.listen(0, "127.0.0.1", resolve));
    await new Promise<void>((resolve) => lookupServer.listen(0, "127.0.0.1", resolve));
  });
  after(() => {
    stub.server.close();
    lookupServer.close();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "ci-access-"));
    stub.reset(initialRules());
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const state = () => join(dir, "state.json");
  const open = (extra: string[] = ["--address", RUNNER]) =>
    ciAccess(["open", "--outputs", outputsFile(), "--state", state(), "--run-id", "4242-1-staging-plan", ...extra]);
  const close = () => ciAccess(["close", "--state", state()]);

  it("opens SSH and the database to the runner, then closes both, leaving the account as it was", async () => {
    const before = ruleValues();
    const opened = await open();
    assert.equal(opened.status, 0, opened.stderr);
    const [firewall] = [...stub.firewalls.values()];
    assert.equal(firewall.name, "dropstack-ci-4242-1-staging-plan");
    assert.deepEqual(firewall.tags, [TAG]);
    assert.deepEqual(firewall.inbound_rules, [{ protocol: "tcp", ports: "22", sources: { addresses: [`${RUNNER}/32`] } }]);
    assert.ok(
      stub.requests.some((r) => r.method === "GET" && r.path === `/v2/firewalls/${firewall.id}`),
      "waits for the firewall to apply",
    );
    assert.deepEqual(
      ruleValues(),
      [...before, `${stub.rules.find((r) => r.value === RUNNER)?.uuid}:${RUNNER}`].sort(),
      "Pulumi's rules keep their uuids",
    );
    assert.equal(stub.rules.find((r) => r.value === RUNNER)?.description, "dropstack-ci 4242-1-staging-plan");
    assert.equal(JSON.parse(readFileSync(state(), "utf8")).databaseSourceAdded, true);

    const closed = await close();
    assert.equal(closed.status, 0, closed.stderr);
    assert.equal(stub.firewalls.size, 0);
    assert.deepEqual(ruleValues(), before);
  });

  it("finds the runner's address through lookups that must agree", async () => {
    stub.lookups = { "/a": RUNNER, "/b": RUNNER };
    const lookup = (p: string) => `http://127.0.0.1:${(lookupServer.address() as AddressInfo).port}${p}`;
    const agreed = await open(["--address-lookup", lookup("/a"), "--address-lookup", lookup("/b")]);
    assert.equal(agreed.status, 0, agreed.stderr);
    assert.ok(stub.rules.some((r) => r.value === RUNNER));
    assert.equal((await close()).status, 0);

    stub.reset(initialRules());
    stub.lookups = { "/a": RUNNER, "/b": "203.0.113.99" };
    const disagreed = await open(["--address-lookup", lookup("/a"), "--address-lookup", lookup("/b")]);
    assert.equal(disagreed.status, 1);
    assert.match(disagreed.stderr, /disagree/);
    assert.deepEqual(stub.writes(), [], "nothing opened");
  });

  it("closes what a failed open left behind: the firewall, and a database source it meant to add", async () => {
    stub.failDatabasePut = 403;
    const opened = await open();
    assert.equal(opened.status, 1);
    assert.match(opened.stderr, /403 stub failure/);
    assert.equal(stub.firewalls.size, 1, "the firewall was created before the failure");
    stub.failDatabasePut = undefined;
    const closed = await close();
    assert.equal(closed.status, 0, closed.stderr);
    assert.equal(stub.firewalls.size, 0);
    assert.deepEqual(ruleValues(), ["u-admin:198.51.100.0/24", `u-tag:${TAG}`]);
  });

  it("deletes the job's firewall by name when its id never reached the state file", async () => {
    assert.equal((await open()).status, 0);
    const saved = JSON.parse(readFileSync(state(), "utf8"));
    delete saved.firewallId;
    writeFileSync(state(), JSON.stringify(saved));
    assert.equal((await close()).status, 0);
    assert.equal(stub.firewalls.size, 0);
  });

  it("never removes an address that was trusted before the job", async () => {
    stub.reset([...initialRules(), { uuid: "u-runner", type: "ip_addr", value: RUNNER }]);
    assert.equal((await open()).status, 0);
    assert.equal(stub.rules.length, 3);
    assert.equal((await close()).status, 0);
    assert.ok(stub.rules.some((r) => r.uuid === "u-runner"));
    assert.equal(stub.writes().filter((w) => w.startsWith("PUT")).length, 0);
  });

  it("re-applies its source when another job's write drops it, and verifies removal the same way", async () => {
    stub.raceDropAddress = RUNNER;
    const opened = await open();
    assert.equal(opened.status, 0, opened.stderr);
    assert.ok(stub.rules.some((r) => r.value === RUNNER));
    assert.equal(stub.writes().filter((w) => w.startsWith("PUT")).length, 2);
    assert.equal((await close()).status, 0);
    assert.ok(!stub.rules.some((r) => r.value === RUNNER));
  });

  it("sweeps a CI firewall a lost runner left behind hours ago, and only that one", async () => {
    const old = new Date(Date.now() - 7 * 3600_000).toISOString();
    stub.firewalls.set("fw-old", {
      id: "fw-old",
      name: "dropstack-ci-1-1-lost",
      status: "succeeded",
      created_at: old,
      tags: [TAG],
      inbound_rules: [],
      outbound_rules: [],
      droplet_ids: [],
      pending_changes: [],
    });
    stub.firewalls.set("fw-pulumi", {
      id: "fw-pulumi",
      name: "dropstack-staging-droplet",
      status: "succeeded",
      created_at: old,
      tags: [TAG],
      inbound_rules: [],
      outbound_rules: [],
      droplet_ids: [],
      pending_changes: [],
    });
    assert.equal((await open()).status, 0);
    assert.ok(!stub.firewalls.has("fw-old"));
    assert.ok(stub.firewalls.has("fw-pulumi"));
    assert.equal((await close()).status, 0);
    assert.deepEqual([...stub.firewalls.keys()], ["fw-pulumi"]);
  });

  it("close without a state file has nothing to do; bad arguments and missing outputs exit 2", async () => {
    const closed = await close();
    assert.equal(closed.status, 0);
    assert.match(closed.stdout, /nothing to close/);
    assert.equal((await ciAccess(["open", "--state", state()])).status, 2);
    assert.equal((await ciAccess(["frobnicate"])).status, 2);
    assert.equal(
      (await ciAccess(["open", "--outputs", outputsFile(), "--state", state(), "--run-id", "1", "--address", "10.0.0.8"])).status,
      1,
    );
    writeFileSync(join(dir, "empty.json"), "{}");
    const fresh = await ciAccess(["open", "--outputs", join(dir, "empty.json"), "--state", state(), "--run-id", "1", "--address", RUNNER]);
    assert.equal(fresh.status, 2);
    assert.match(fresh.stderr, /first deploy/);
    assert.equal(
      (await ciAccess(["close", "--state", state()], { DIGITALOCEAN_API_URL: "http://api.digitalocean.com" })).status,
      0,
      "no state: no request at all",
    );
    assert.ok(!existsSync(state()));
    assert.deepEqual(stub.writes(), []);
  });

  it("runs as a process with the exit codes CI gates on (0 opened and closed, 2 bad arguments)", async () => {
    const opened = await ciAccessProcess(["open", "--outputs", outputsFile(), "--state", state(), "--run-id", "p-1", "--address", RUNNER]);
    assert.equal(opened.status, 0, opened.stderr);
    assert.match(opened.stdout, /SSH open to 203\.0\.113\.7\/32/);
    assert.equal((await ciAccessProcess(["close", "--state", state()])).status, 0);
    assert.equal(stub.firewalls.size, 0);
    const bad = await ciAccessProcess(["open"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /usage: npm run ci-access -- open/);
  });

  it("verify-database: 0 when the live sources are the stack's, 1 naming each difference", async () => {
    const clean = await ciAccess(["verify-database", "--outputs", outputsFile()]);
    assert.equal(clean.status, 0, clean.stderr);
    stub.rules.push({ uuid: "leak", cluster_uuid: CLUSTER, type: "ip_addr", value: RUNNER, created_at: "2026-11-01T00:00:00Z" });
    const drifted = await ciAccess(["verify-database", "--outputs", outputsFile()]);
    assert.equal(drifted.status, 1);
    assert.match(drifted.stdout, new RegExp(`DRIFT unexpected trusted source ip_addr:${RUNNER.replace(/\./g, "\\.")}`));
  });

  it("sends the token to DigitalOcean only: a wrong token is refused by the API, a non-https URL by the tool", async () => {
    const wrong = await ciAccess(["verify-database", "--outputs", outputsFile()], { DIGITALOCEAN_TOKEN: "other" });
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /401/);
    const plain = await ciAccess(["verify-database", "--outputs", outputsFile()], { DIGITALOCEAN_API_URL: "http://api.example.com" });
    assert.equal(plain.status, 2);
  });
});
