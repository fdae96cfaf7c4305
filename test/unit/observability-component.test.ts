// The Observability component as the production stack registers it under mocks: every service
// runs its pinned image with the files the renderers produce, secrets only in secret uploads,
// each container bounded in memory on the private network, Grafana signing in through the
// stack's Auth0 tenant, and a deploy marker after each passing smoke test.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parse } from "yaml";
import { CONTAINER_ROLES, ROLE_LABEL, componentType } from "../../components/common/names";
import { MEMORY_LIMITS_MB } from "../../components/observability/droplet";
import { CONFIG_PATHS, SERVICES, type ServiceName } from "../../components/observability/settings";
import { type Graph, type Registration, isSecretWire } from "../../tools/check/harness";
import { runStack } from "../support/program";

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker:index/remoteImage:RemoteImage";
const COMMAND = "command:remote:Command";
type Upload = { file: string; content: string };

/** True when the upload's content reaches the engine as a secret (the content, the item or the whole list). */
function uploadIsSecret(container: Registration, file: string): boolean {
  const wire = container.wireInputs.uploads;
  if (isSecretWire(wire)) return true;
  const items = wire as Record<string, unknown>[];
  const index = (container.inputs.uploads as Upload[]).findIndex((u) => u.file === file);
  assert.ok(index >= 0, `${container.name} uploads ${file}`);
  return isSecretWire(items[index]) || isSecretWire(items[index].content);
}

describe("Observability (production, mocks)", () => {
  let graph: Graph;
  let outputs: Record<string, unknown>;
  let containers: Map<ServiceName, Registration>;
  const uploaded = (service: ServiceName, file: string) =>
    (containers.get(service)?.inputs.uploads as Upload[] | undefined)?.find((u) => u.file === file)?.content;

  before(async () => {
    ({ graph, outputs } = await runStack({ stack: "production" }));
    containers = new Map(
      (Object.keys(SERVICES) as ServiceName[]).map((service) => [service, graph.one(CONTAINER, `-${SERVICES[service].alias}`)]),
    );
  });

  it("runs every service from its pinned image, on the app network under its alias, in the monitoring role", () => {
    const component = graph.one(componentType("Observability"));
    for (const [service, container] of containers) {
      const { alias, image } = SERVICES[service];
      const pulled = graph.one(IMAGE, `-${alias}-image`);
      assert.equal(pulled.inputs.name, image);
      assert.equal(pulled.inputs.keepLocally, true);
      assert.equal(container.inputs.image, pulled.outputs.imageId, service);
      assert.equal(container.parent, component.urn);
      const networks = container.inputs.networksAdvanced as { name: string; aliases?: string[] }[];
      assert.deepEqual(networks[0].aliases, [alias], service);
      assert.deepEqual(container.inputs.labels, [{ label: ROLE_LABEL, value: CONTAINER_ROLES.monitoring }]);
      assert.equal(container.inputs.ports, undefined, `${service} publishes no port: nginx serves Grafana`);
      assert.equal(container.inputs.memory, MEMORY_LIMITS_MB[service]);
      assert.equal(container.inputs.restart, "unless-stopped");
      assert.deepEqual(container.inputs.logOpts, { "max-size": "10m", "max-file": "3", labels: ROLE_LABEL });
    }
    assert.equal(graph.ofType(CONTAINER).filter((c) => c.parent === component.urn).length, Object.keys(SERVICES).length);
  });

  it("lets Prometheus reach the api replicas on the ingress network, and scrape the database's endpoints with the cluster's CA", () => {
    const prometheus = containers.get("prometheus") as Registration;
    assert.equal((prometheus.inputs.networksAdvanced as unknown[]).length, 2);
    const config = parse(String(uploaded("prometheus", CONFIG_PATHS.prometheus))) as { scrape_configs: Record<string, unknown>[] };
    const database = config.scrape_configs.find((job) => job.job_name === "database") as Record<string, unknown>;
    assert.deepEqual(database.static_configs, [{ targets: ["dropstack-production-pg.db.example.com:9273"] }]);
    assert.deepEqual(database.basic_auth, { username: "mock-metrics-user", password_file: CONFIG_PATHS.prometheusDatabasePasswordFile });
    assert.match(String(uploaded("prometheus", CONFIG_PATHS.prometheusDatabaseCaFile)), /BEGIN CERTIFICATE/);
    assert.equal(uploaded("prometheus", CONFIG_PATHS.prometheusDatabasePasswordFile), "mock-metrics-password");
    assert.match(String(uploaded("prometheus", `${CONFIG_PATHS.prometheusRulesDir}/dropstack-alerts.yml`)), /alert: HttpErrorRatioHigh/);
  });

  it("keeps every password and the redis_exporter's password map in secret uploads, and out of every other input", () => {
    const secrets: [ServiceName, string][] = [
      ["prometheus", CONFIG_PATHS.prometheusDatabasePasswordFile],
      ["grafana", CONFIG_PATHS.grafanaAdminPasswordFile],
      ["grafana", CONFIG_PATHS.grafanaOauthClientSecretFile],
      ["redisExporter", CONFIG_PATHS.redisExporterPasswordFile],
    ];
    for (const [service, file] of secrets) assert.ok(uploadIsSecret(containers.get(service) as Registration, file), `${service} ${file}`);
    const redisPassword = String(graph.one("random:index/randomPassword:RandomPassword", "-redis-password").outputs.result);
    assert.deepEqual(JSON.parse(String(uploaded("redisExporter", CONFIG_PATHS.redisExporterPasswordFile))), {
      "redis://redis:6379": redisPassword,
    });
    const grafanaPassword = String(graph.one("random:index/randomPassword:RandomPassword", "-grafana-admin").outputs.result);
    for (const container of containers.values()) {
      const plain = JSON.stringify({ ...container.inputs, uploads: undefined });
      for (const secret of [redisPassword, grafanaPassword, "mock-metrics-password", "mock-client-secret-"])
        assert.ok(!plain.includes(secret), `${container.name} carries a secret outside its uploads`);
    }
  });

  it("signs in to Grafana through the tenant's Grafana client, at monitoring.<domain>", () => {
    const grafana = containers.get("grafana") as Registration;
    const env = Object.fromEntries((grafana.inputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    assert.equal(env.GF_SERVER_ROOT_URL, "https://monitoring.example.com/");
    assert.equal(env.GF_AUTH_GENERIC_OAUTH_CLIENT_ID, "mock-client-id-dropstack-production-grafana");
    assert.equal(env.GF_AUTH_GENERIC_OAUTH_AUTH_URL, "https://acme.eu.auth0.com/authorize");
    assert.equal(env.GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_STRICT, "true");
    // The committed stack maps no Auth0 role to Grafana: only the generated admin signs in.
    assert.equal(env.GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_PATH, "''");
    const client = graph.one("auth0:index/client:Client", "-grafana");
    assert.deepEqual(client.inputs.callbacks, ["https://monitoring.example.com/login/generic_oauth"]);
    assert.equal(outputs.grafanaUrl, "https://monitoring.example.com/");
    assert.match(String(outputs.grafanaAdminPassword), /\S{8,}/);
  });

  it("marks each deploy after its smoke test, and prepares the data folders once the droplet is ready", () => {
    const marker = graph.one(COMMAND, "-deploy-marker");
    const smoke = graph.one(COMMAND, "-smoke");
    assert.ok(graph.dependsOn(marker, smoke), "the marker waits for the smoke test");
    assert.deepEqual(marker.inputs.triggers, smoke.inputs.triggers, "one marker per deploy: the smoke test's triggers");
    assert.match(String(marker.inputs.create), /deploys\.log'$/m);
    const prepare = graph.one(COMMAND, "-observability-dirs");
    for (const container of containers.values()) assert.ok(container.dependencies.includes(prepare.urn), container.name);
  });
});
