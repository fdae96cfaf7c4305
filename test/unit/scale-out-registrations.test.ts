// scale.droplets > 1 under mocks, with examples/Pulumi.production-scaled.yaml (three droplets,
// two read replicas): the load balancer and what it needs, managed Valkey instead of the
// Redis container, and the rolling deploy across droplets (README "Growing past one droplet").
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { LOAD_BALANCER_HEALTH_PATH } from "../../components/common/names";
import { drainWaitSeconds } from "../../components/network/balancer";
import type { Graph, Registration } from "../../tools/check/harness";
import { deployLevels } from "../../tools/check/report";
import { readStackFile } from "../../tools/check/stack-file";
import { ROOT, runStack } from "../support/program";

const COMMAND = "command:remote:Command";
const CONTAINER = "docker:index/container:Container";
const EXAMPLE = readStackFile(path.join(ROOT, "examples", "Pulumi.production-scaled.yaml"));
const scaled = (key: string) => JSON.parse(EXAMPLE.config[key]) as Record<string, unknown>;
const DROPLETS = (scaled("dropstack:scale") as { droplets: number }).droplets;
const READ_REPLICAS = (scaled("dropstack:postgres") as { readReplicas: number }).readReplicas;
const STACK = "dropstack-production";
const dropletName = (n: number) => (n === 1 ? STACK : `${STACK}-${n}`);

describe("scale-out (examples/Pulumi.production-scaled.yaml, mocks)", () => {
  let graph: Graph;
  let outputs: Record<string, unknown>;
  const named = (type: string, name: string) => {
    const found = graph.ofType(type).filter((r) => r.name === name);
    assert.equal(found.length, 1, `one ${type} named ${name}`);
    return found[0];
  };

  before(async () => {
    ({ graph, outputs } = await runStack({ stack: "production", override: EXAMPLE.config }));
  });

  it("runs the example's number of droplets from the same Host component, all carrying the load balancer's tag", () => {
    assert.ok(DROPLETS >= 3, "the example is past two droplets");
    const droplets = graph.ofType("digitalocean:index/droplet:Droplet");
    assert.deepEqual(
      droplets.map((d) => d.name).sort(),
      Array.from({ length: DROPLETS }, (_, i) => `${dropletName(i + 1)}-droplet`).sort(),
    );
    const lb = graph.one("digitalocean:index/loadBalancer:LoadBalancer");
    for (const droplet of droplets) assert.deepEqual(droplet.inputs.tags, [lb.inputs.dropletTag]);
    assert.equal(
      graph.ofType("digitalocean:index/reservedIpAssignment:ReservedIpAssignment").length,
      1,
      "the first droplet keeps the reserved IP",
    );
    assert.equal(graph.ofType("digitalocean:index/volume:Volume").length, DROPLETS);
  });

  it("puts a load balancer in front: TLS with DigitalOcean's certificate, HTTP redirected, health-checked through nginx", () => {
    const lb = graph.one("digitalocean:index/loadBalancer:LoadBalancer");
    const certificate = graph.one("digitalocean:index/certificate:Certificate");
    assert.equal(certificate.inputs.type, "lets_encrypt");
    assert.deepEqual(certificate.inputs.domains, ["api.example.com", "app.example.com", "monitoring.example.com"]);
    assert.ok(graph.dependsOn(certificate, graph.one("digitalocean:index/domain:Domain")), "issued through the zone, once it exists");
    assert.equal(lb.inputs.redirectHttpToHttps, true);
    assert.deepEqual(lb.inputs.forwardingRules, [
      { entryProtocol: "https", entryPort: 443, targetProtocol: "http", targetPort: 80, certificateName: certificate.outputs.name },
      { entryProtocol: "http", entryPort: 80, targetProtocol: "http", targetPort: 80 },
    ]);
    const check = lb.inputs.healthcheck as Record<string, unknown>;
    assert.equal(check.protocol, "http");
    assert.equal(check.path, LOAD_BALANCER_HEALTH_PATH);
    assert.equal(lb.inputs.vpcUuid, graph.one("digitalocean:index/vpc:Vpc").id);
  });

  it("points every record at the load balancer and opens port 80 to it alone", () => {
    const lb = graph.one("digitalocean:index/loadBalancer:LoadBalancer");
    for (const record of graph.ofType("digitalocean:index/dnsRecord:DnsRecord"))
      assert.equal(record.inputs.value, record.inputs.type === "A" ? lb.outputs.ip : lb.outputs.ipv6, record.name);
    const rules = graph.one("digitalocean:index/firewall:Firewall").inputs.inboundRules as Record<string, unknown>[];
    const web = rules.filter((r) => r.portRange === "80" || r.portRange === "443");
    assert.deepEqual(web, [{ protocol: "tcp", portRange: "80", sourceLoadBalancerUids: [lb.id] }]);
    assert.ok(
      rules.every(
        (r) => r.sourceAddresses === undefined || !(r.sourceAddresses as string[]).some((a) => a === "0.0.0.0/0" || a === "::/0"),
      ),
      "nothing is open to the world",
    );
    assert.equal(outputs.loadBalancerAddress, lb.outputs.ip);
  });

  it("replaces the Redis container with managed Valkey, admitted from the droplets' tag only, reached over TLS", () => {
    assert.equal(graph.ofType(CONTAINER).filter((c) => c.name.endsWith("-redis")).length, 0, "no droplet runs its own cache");
    const valkey = graph.ofType("digitalocean:index/databaseCluster:DatabaseCluster").filter((c) => c.inputs.engine === "valkey");
    assert.equal(valkey.length, 1);
    assert.equal(valkey[0].protect, true, "protected: a broker's queued jobs live there too");
    const api = graph.ofType(CONTAINER).filter((c) => /-api-\d+$/.test(c.name));
    for (const replica of api) {
      assert.ok(replica.secretInputs.includes("envs"), `${replica.name}: the environment is secret`);
      const redis = (replica.inputs.envs as string[]).find((e) => e.startsWith("REDIS_URL="));
      assert.match(String(redis), /^REDIS_URL=rediss:\/\//, `${replica.name} reaches Valkey over TLS`);
    }
  });

  it("gives every api replica DATABASE_READ_URLS: the readonly role on each read replica", () => {
    const replicas = graph.ofType("digitalocean:index/databaseReplica:DatabaseReplica");
    assert.equal(replicas.length, READ_REPLICAS);
    for (const container of graph.ofType(CONTAINER).filter((c) => /-api-\d+$/.test(c.name))) {
      const line = (container.inputs.envs as string[]).find((e) => e.startsWith("DATABASE_READ_URLS="));
      const urls = String(line).slice("DATABASE_READ_URLS=".length).split(",");
      assert.equal(urls.length, READ_REPLICAS, container.name);
      for (const url of urls) assert.match(url, /^postgres(ql)?:\/\/[^:]+:[^@]+@[^/]+\/\w+/);
    }
  });

  it("backs up and migrates once, then rolls one droplet at a time: drain, replicas, frontend, undrain, next droplet, then the smoke test", () => {
    const backups = graph.ofType(COMMAND).filter((c) => c.name.endsWith("-backup"));
    const migrations = graph.ofType(COMMAND).filter((c) => c.name.endsWith("-migrate"));
    assert.deepEqual([backups.length, migrations.length], [1, 1], "the backup and the migration run once per deploy");
    const sequence: Registration[] = [backups[0], migrations[0]];
    for (let n = 1; n <= DROPLETS; n++) {
      const prefix = dropletName(n);
      const api = graph
        .ofType(CONTAINER)
        .filter((c) => new RegExp(`^${prefix}-api-\\d+$`).test(c.name))
        .sort((a, b) => a.name.localeCompare(b.name));
      const frontend = graph
        .ofType(CONTAINER)
        .filter((c) => new RegExp(`^${prefix}-frontend-\\d+$`).test(c.name))
        .sort((a, b) => a.name.localeCompare(b.name));
      assert.ok(api.length > 0 && frontend.length > 0, prefix);
      sequence.push(named(COMMAND, `${prefix}-drain`), ...api, ...frontend, named(COMMAND, `${prefix}-undrain`));
    }
    sequence.push(graph.one(COMMAND, "-smoke"));
    sequence.forEach((step, i) => {
      if (i > 0) assert.ok(graph.dependsOn(step, sequence[i - 1]), `${step.name} waits for ${sequence[i - 1].name}`);
    });
    const level = new Map(deployLevels(graph).flatMap((lvl, i) => lvl.map((r) => [r.urn, i] as const)));
    const levels = sequence.map((r) => level.get(r.urn) as number);
    assert.deepEqual(
      [...levels].sort((a, b) => a - b),
      levels,
      "the check's deploy order lists them in this order",
    );
    assert.equal(new Set(levels).size, levels.length, "each is its own step");
  });

  it("drains a droplet by nginx's health answer and waits out the load balancer's unhealthy threshold", () => {
    for (let n = 1; n <= DROPLETS; n++) {
      const drain = named(COMMAND, `${dropletName(n)}-drain`);
      assert.match(String(drain.inputs.create), new RegExp(`\\b${drainWaitSeconds()}\\b`));
      const host = (drain.inputs.connection as Record<string, unknown>).host;
      const api0 = named(CONTAINER, `${dropletName(n)}-api-0`);
      assert.ok(graph.dependsOn(api0, drain), `${api0.name} is replaced only once its droplet is drained`);
      assert.notEqual(host, undefined);
    }
    const hosts = new Set(
      Array.from(
        { length: DROPLETS },
        (_, i) => (named(COMMAND, `${dropletName(i + 1)}-drain`).inputs.connection as { host: string }).host,
      ),
    );
    assert.equal(hosts.size, DROPLETS, "each droplet's drain runs on that droplet");
  });

  it("runs singleton workers and the scheduled backups and drills on the first droplet only", () => {
    const beats = graph.ofType(CONTAINER).filter((c) => c.name.endsWith("-worker-beat"));
    assert.deepEqual(
      beats.map((b) => b.name),
      [`${STACK}-worker-beat`],
    );
    const workers = graph.ofType(CONTAINER).filter((c) => c.name.endsWith("-worker-worker"));
    assert.equal(workers.length, DROPLETS, "other workers run on every droplet");
    const timers = graph.ofType(COMMAND).filter((c) => c.name.endsWith("-schedule-timers"));
    assert.deepEqual(
      timers.map((t) => t.name),
      [`${STACK}-schedule-timers`],
    );
    assert.equal(graph.ofType(CONTAINER).filter((c) => c.name.endsWith("-certbot")).length, 0, "the load balancer renews the certificate");
  });

  it("smoke-tests through the load balancer's address", () => {
    const lb = graph.one("digitalocean:index/loadBalancer:LoadBalancer");
    assert.ok(String(graph.one(COMMAND, "-smoke").inputs.create).includes(`\nADDRESS='${String(lb.outputs.ip)}'\n`));
  });
});
