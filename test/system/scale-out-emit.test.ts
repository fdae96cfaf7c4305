// `npm run check -- production --config-file examples/Pulumi.production-scaled.yaml --emit`:
// the files a droplet behind the load balancer gets pass `npm run validate-emitted` (nginx,
// Prometheus, the blackbox exporter, cloud-init, systemd), and the emitted nginx.conf, run by
// real nginx, answers the load balancer's health check as the rolling deploy needs it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import { LOAD_BALANCER_HEALTH_PATH } from "../../components/common/names";
import { DRAIN_FLAG_PATH } from "../../components/proxy/paths";
import { runCheck } from "../support/check";
import { ROOT, TS_NODE } from "../support/program";
import {
  type LocalNginxCopy,
  type RunningNginx,
  httpRequest,
  localNginxCopy,
  localNginxSite,
  localNginxVersion,
  requireNginxTools,
  startNginx,
} from "../../tools/lib/nginx-harness";

const EXAMPLE = path.join(ROOT, "examples", "Pulumi.production-scaled.yaml");
const VALIDATED = ["nginx.conf", "prometheus.yml", "blackbox.yml", "dropstack-alerts.yml", "alertmanager.yml", "cloud-init.yaml"];

describe("the scaled example's emitted files", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "dropstack-emit-scaled-"));
  const tools = requireNginxTools();
  let local: LocalNginxCopy;
  let nginx: RunningNginx | undefined;

  before(async () => {
    const report = runCheck("production", { configFile: EXAMPLE, extraArgs: ["--emit", dir] });
    assert.equal(report.status, 0, report.stderr);
    local = await localNginxCopy(readFileSync(path.join(dir, "nginx.conf"), "utf8"), localNginxVersion(tools.nginx));
    nginx = await startNginx(tools.nginx, localNginxSite(local));
  });

  after(async () => {
    await nginx?.stop();
    if (local) rmSync(local.dir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  test("pass npm run validate-emitted, each with its own reader", () => {
    const result = spawnSync(
      process.execPath,
      [...TS_NODE, path.join(ROOT, "tools", "validate-emitted", "main.ts"), ...VALIDATED.map((f) => path.join(dir, f))],
      {
        encoding: "utf8",
        cwd: ROOT,
        timeout: 120_000,
      },
    );
    assert.equal(result.status, 0, result.stdout + result.stderr);
    for (const file of VALIDATED)
      assert.match(result.stdout, new RegExp(`^valid ${path.join(dir, file).replace(/[.]/g, "\\.")}: `, "m"), file);
  });

  test("nginx.conf is the load balancer's: no TLS anywhere, every host on port 80", () => {
    const conf = readFileSync(path.join(dir, "nginx.conf"), "utf8");
    assert.doesNotMatch(conf, /listen 443|ssl_certificate/);
    assert.ok(local.loadBalancer, "localNginxCopy saw the load-balancer rendering");
    assert.deepEqual(local.hosts.sort(), ["api.example.com", "app.example.com", "monitoring.example.com"]);
  });

  test("answers the load balancer's health check 503 while the drain flag exists, and the api's answer otherwise", async () => {
    const flag = path.join(local.loadBalancer!.drainDir, path.posix.basename(DRAIN_FLAG_PATH));
    const health = () => httpRequest({ port: local.httpPort, host: "10.110.0.2", path: LOAD_BALANCER_HEALTH_PATH });
    for (let round = 0; round < 2; round++) {
      writeFileSync(flag, "");
      assert.equal((await health()).status, 503, `round ${round}: drained`);
      rmSync(flag);
      // No api replica runs here: nginx answers what the api does not (502/504), never 503.
      assert.ok([502, 504].includes((await health()).status), `round ${round}: undrained`);
    }
    const probe = await httpRequest({ port: local.loadBalancer!.probePort, host: "127.0.0.1", path: "/" });
    assert.equal(probe.status, 200, "the container's healthcheck answers whatever the api does");
  });
});
