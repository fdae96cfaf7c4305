// The api healthcheck runs inside an app image we do not know, so it must work with
// whichever HTTP client the image has. Each case runs the rendered CMD-SHELL with /bin/sh,
// as docker does, with a PATH that holds only one client, against a real HTTP server.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { healthcheckTest } from "../../components/app/render";
import { freePort, makeTempDir, requireTools } from "../../tools/lib/system";

/** Runs the healthcheck like docker: `/bin/sh -c <script>`, with only `bin` on PATH. */
function runHealthcheck(test: string[], bin: string): Promise<{ status: number | null; stderr: string }> {
  assert.equal(test[0], "CMD-SHELL");
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", test[1]], { env: { PATH: bin }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stderr }));
  });
}

describe("api healthcheck with each HTTP client an image may have", () => {
  let server: Server;
  let port: number;
  let status = 200;
  let root: string;
  const clients: Record<string, string> = {};

  before(async () => {
    const tools = requireTools([
      { command: "curl", debianPackage: "curl" },
      { command: "wget", debianPackage: "wget" },
      { command: "busybox", debianPackage: "busybox" },
      // Debian's, not a version manager's shim on PATH, which needs more than one directory.
      { command: "/usr/bin/python3", debianPackage: "python3" },
    ]);
    root = makeTempDir("healthcheck");
    const only = (name: string, target: string, as = name) => {
      const dir = join(root, name);
      mkdirSync(dir);
      symlinkSync(target, join(dir, as));
      clients[name] = dir;
    };
    only("curl", tools.curl);
    only("wget", tools.wget);
    only("busybox-wget", tools.busybox, "wget");
    only("python3", tools["/usr/bin/python3"], "python3");
    only("node", process.execPath, "node");
    mkdirSync(join(root, "none"));
    clients.none = join(root, "none");

    port = await freePort();
    server = createServer((req, res) => {
      res.statusCode = req.url === "/health" ? status : 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  });
  after(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  for (const client of ["curl", "wget", "busybox-wget", "python3", "node"]) {
    test(`${client}: healthy on 200, unhealthy on 503, on a wrong path and with nothing listening`, async () => {
      status = 200;
      assert.equal((await runHealthcheck(healthcheckTest(port, "/health"), clients[client])).status, 0);
      status = 503;
      assert.notEqual((await runHealthcheck(healthcheckTest(port, "/health"), clients[client])).status, 0);
      status = 200;
      assert.notEqual((await runHealthcheck(healthcheckTest(port, "/other"), clients[client])).status, 0);
      const closed = await freePort();
      assert.notEqual((await runHealthcheck(healthcheckTest(closed, "/health"), clients[client])).status, 0);
    });
  }

  test("an image with none of them is unhealthy, and says why", async () => {
    status = 200;
    const result = await runHealthcheck(healthcheckTest(port, "/health"), clients.none);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /none of curl, wget, python3 or node/);
  });
});
