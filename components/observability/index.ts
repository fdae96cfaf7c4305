// Metrics, alerts, logs and dashboards on the droplet (README "Observability"): each service
// one container on the private app network, configured from files the pure renderers beside
// this file produce, its data on the protected volume. Grafana is the only one people reach,
// through nginx at hosts.monitoring.
import * as command from "@pulumi/command";
import * as digitalocean from "@pulumi/digitalocean";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { CONTAINER_ROLES, componentType, roleLabel } from "../common/names";
import { renderAlertmanagerConfig } from "./alertmanager";
import { ALLOY_READ_ONLY_MOUNTS, ALLOY_STORAGE_PATH, JSON_FILE_LOG_OPTIONS, alloyCommand, renderAlloyConfig } from "./alloy";
import { MEMORY_LIMITS_MB, renderDeployMarkerCommand, renderPrepareCommand, serviceUsers } from "./droplet";
import {
  GRAFANA_ADMIN_PASSWORD_FILE,
  GRAFANA_OAUTH_CLIENT_SECRET_FILE,
  GRAFANA_PROVISIONING_FILES,
  type GrafanaOAuth,
  dashboardPath,
  dashboards,
  grafanaEnvironment,
  renderDashboard,
  renderDashboardProvider,
  renderGrafanaDatasources,
} from "./grafana";
import { LOKI_DATA_DIR, renderLokiConfig } from "./loki";
import {
  PROMETHEUS_STORAGE_PATH,
  metricsEndpointTargets,
  prometheusCommand,
  renderBlackboxConfig,
  renderPrometheusConfig,
} from "./prometheus";
import { ALERT_RULES_FILE, renderAlertRules } from "./rules";
import { CONFIG_PATHS, SERVICES, SERVICE_DATA_DIRS, type ObservabilitySettings, type ServiceName } from "./settings";

export interface ObservabilityArgs {
  settings: ObservabilitySettings;
  /** Docker on the droplet (Host.dockerProvider). */
  dockerProvider: docker.Provider;
  /** The private network every service joins (Host.appNetwork.name). */
  networkName: pulumi.Input<string>;
  /** The network the api replicas answer on (App.ingressNetwork.name): Prometheus joins it for the app's own metrics. */
  ingressNetworkName: pulumi.Input<string>;
  /** SSH to the droplet (Host.connection): the data folders and the deploy markers. */
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** Nothing runs before the droplet is provisioned and /srv is mounted (Host.ready). */
  hostReady: pulumi.Resource;
  /** The managed PostgreSQL cluster whose metrics endpoints Prometheus scrapes (Database.cluster). */
  databaseCluster: { id: pulumi.Input<string>; metricsEndpoints: pulumi.Input<string[]> };
  /** The Redis password (secret), for redis_exporter's password file. */
  redisPassword: pulumi.Input<string>;
  /**
   * scale.droplets > 1: redis_exporter watches the managed Valkey over TLS (its private
   * `rediss://host:port`, verified with the cluster's CA) instead of the Redis container.
   */
  managedValkey?: { address: pulumi.Input<string>; clusterId: pulumi.Input<string> };
  /**
   * scale.droplets > 1: the droplet's private address, where Grafana is published for the
   * other droplets' nginx (the load balancer may send its host's requests to any droplet).
   */
  grafanaPrivateAddress?: pulumi.Input<string>;
  /** Secret values from config. */
  secrets: {
    smtpPassword?: pulumi.Input<string>;
    webhookUrl?: pulumi.Input<string>;
    remoteLokiPassword?: pulumi.Input<string>;
  };
  /** Sign-in to Grafana through the stack's Auth0 tenant (Identity.grafana), when Identity is on. */
  oauth?: { settings: pulumi.Input<GrafanaOAuth>; clientSecret: pulumi.Input<string> };
  /** Marks each deploy once its smoke test passed (App.imageReference, App.rolloutTriggers, the SmokeTest). */
  deploy: { image: pulumi.Input<string>; triggers: pulumi.Input<unknown[]>; dependsOn: pulumi.Input<pulumi.Resource>[] };
}

interface ServiceSpec {
  command?: pulumi.Input<string>[];
  envs?: pulumi.Input<pulumi.Input<string>[]>;
  uploads?: docker.types.input.ContainerUpload[];
  volumes?: docker.types.input.ContainerVolume[];
  /** Networks besides the app network. */
  networks?: pulumi.Input<string>[];
  /** Published on this address of the droplet, at the service's own port. */
  publishedOn?: pulumi.Input<string>;
}

export class Observability extends pulumi.ComponentResource {
  /** Creates the data folders on the volume. */
  readonly prepare: command.remote.Command;
  readonly containers: Record<ServiceName, docker.Container>;
  /** Secret: the generated Grafana admin's password (user `admin`). */
  readonly grafanaAdminPassword: pulumi.Output<string>;
  readonly deployMarker: command.remote.Command;
  readonly grafanaUrl: string;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("Observability"), name, {}, opts);
    const settings = args.settings;
    this.grafanaUrl = `https://${settings.monitoringHost}/`;

    this.prepare = new command.remote.Command(
      `${name}-observability-dirs`,
      {
        connection: args.connection,
        create: renderPrepareCommand(),
        triggers: [args.hostReady.urn],
        logging: "stdoutAndStderr",
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [args.hostReady] },
    );

    // Account-wide credentials for every cluster's metrics endpoint; its certificate is the cluster's CA.
    const credentials = digitalocean.getDatabaseMetricsCredentialsOutput({ parent: this });
    const databaseCa = digitalocean.getDatabaseCaOutput({ clusterId: args.databaseCluster.id }, { parent: this });
    const prometheusConfig = pulumi
      .all([args.databaseCluster.metricsEndpoints, credentials.username])
      .apply(([endpoints, username]) =>
        renderPrometheusConfig(settings, endpoints.length > 0 ? { targets: metricsEndpointTargets(endpoints), username } : undefined),
      );
    const adminPassword = new random.RandomPassword(`${name}-grafana-admin`, { length: 32, special: false }, { parent: this });
    this.grafanaAdminPassword = pulumi.secret(adminPassword.result);

    const grafanaFiles: docker.types.input.ContainerUpload[] = [
      { file: GRAFANA_PROVISIONING_FILES.datasources, content: renderGrafanaDatasources(settings) },
      { file: GRAFANA_PROVISIONING_FILES.dashboards, content: renderDashboardProvider() },
      ...Object.entries(dashboards(settings)).map(([key, dashboard]) => ({
        file: dashboardPath(key),
        content: renderDashboard(dashboard),
      })),
      secretFile(GRAFANA_ADMIN_PASSWORD_FILE, this.grafanaAdminPassword),
      ...(args.oauth ? [secretFile(GRAFANA_OAUTH_CLIENT_SECRET_FILE, args.oauth.clientSecret)] : []),
    ];
    const data = (service: keyof typeof SERVICE_DATA_DIRS, containerPath: string): docker.types.input.ContainerVolume => ({
      hostPath: SERVICE_DATA_DIRS[service],
      containerPath,
    });
    const readOnly = (hostPath: string, containerPath = hostPath): docker.types.input.ContainerVolume => ({
      hostPath,
      containerPath,
      readOnly: true,
    });
    const optionalSecret = (file: string, value: pulumi.Input<string> | undefined) =>
      value === undefined ? [] : [secretFile(file, value)];

    const specs: Record<ServiceName, ServiceSpec> = {
      prometheus: {
        command: prometheusCommand(settings),
        uploads: [
          { file: CONFIG_PATHS.prometheus, content: prometheusConfig },
          { file: `${CONFIG_PATHS.prometheusRulesDir}/${ALERT_RULES_FILE}`, content: renderAlertRules(settings) },
          secretFile(CONFIG_PATHS.prometheusDatabasePasswordFile, credentials.password),
          { file: CONFIG_PATHS.prometheusDatabaseCaFile, content: databaseCa.certificate },
        ],
        volumes: [data("prometheus", PROMETHEUS_STORAGE_PATH)],
        // The api replicas answer on the ingress network only.
        networks: [args.ingressNetworkName],
      },
      alertmanager: {
        command: [`--config.file=${CONFIG_PATHS.alertmanager}`, "--storage.path=/alertmanager"],
        uploads: [
          { file: CONFIG_PATHS.alertmanager, content: renderAlertmanagerConfig(settings) },
          ...optionalSecret(CONFIG_PATHS.alertmanagerSmtpPasswordFile, args.secrets.smtpPassword),
          ...optionalSecret(CONFIG_PATHS.alertmanagerWebhookUrlFile, args.secrets.webhookUrl),
        ],
        volumes: [data("alertmanager", "/alertmanager")],
      },
      loki: {
        command: [`-config.file=${CONFIG_PATHS.loki}`],
        uploads: [{ file: CONFIG_PATHS.loki, content: renderLokiConfig(settings) }],
        volumes: [data("loki", LOKI_DATA_DIR)],
      },
      grafana: {
        envs: pulumi
          .output(args.oauth?.settings)
          .apply((oauth) => Object.entries(grafanaEnvironment(settings, oauth)).map(([key, value]) => `${key}=${value}`)),
        uploads: grafanaFiles,
        volumes: [data("grafana", "/var/lib/grafana")],
        ...(args.grafanaPrivateAddress ? { publishedOn: args.grafanaPrivateAddress } : {}),
      },
      alloy: {
        command: alloyCommand(),
        uploads: [
          { file: CONFIG_PATHS.alloy, content: renderAlloyConfig(settings) },
          ...optionalSecret(CONFIG_PATHS.alloyRemoteLokiPasswordFile, args.secrets.remoteLokiPassword),
        ],
        // The engine's json-file logs and the deploy markers, read-only; never the Docker socket.
        volumes: [data("alloy", ALLOY_STORAGE_PATH), ...ALLOY_READ_ONLY_MOUNTS.map((path) => readOnly(path))],
      },
      nodeExporter: {
        // No host PID or network namespace (container-isolated): the host's /proc and /sys are
        // read where node-exporter is told to look, and the container's own / is on the
        // droplet's root disk, with /srv bound below, so "/" and "/srv" are the host's.
        command: [
          "--path.procfs=/host/proc",
          "--path.sysfs=/host/sys",
          "--collector.filesystem.mount-points-exclude=^/(dev|proc|run|sys|boot|snap|var/lib/docker/.+)($|/)",
        ],
        volumes: [readOnly("/proc", "/host/proc"), readOnly("/sys", "/host/sys"), readOnly("/srv")],
      },
      cadvisor: {
        // Without the Docker socket cAdvisor reads the cgroups alone: containers appear by
        // their cgroup (docker-<id>.scope), not by name.
        command: ["--docker_only=false", "--housekeeping_interval=30s", "--store_container_labels=false"],
        volumes: [readOnly("/sys")],
      },
      redisExporter: args.managedValkey
        ? managedValkeyExporter(args.managedValkey, args.redisPassword, this)
        : {
            command: [
              `--redis.addr=redis://${settings.redis.alias}:${settings.redis.port}`,
              `--redis.password-file=${CONFIG_PATHS.redisExporterPasswordFile}`,
            ],
            uploads: [
              secretFile(
                CONFIG_PATHS.redisExporterPasswordFile,
                pulumi.output(args.redisPassword).apply((password) => redisPasswordFile(settings, password)),
              ),
            ],
          },
      blackbox: {
        command: [`--config.file=${CONFIG_PATHS.blackbox}`],
        uploads: [{ file: CONFIG_PATHS.blackbox, content: renderBlackboxConfig(settings) }],
      },
    };
    this.containers = Object.fromEntries(
      (Object.keys(specs) as ServiceName[]).map((service) => [service, this.service(name, service, specs[service], args)]),
    ) as Record<ServiceName, docker.Container>;

    this.deployMarker = new command.remote.Command(
      `${name}-deploy-marker`,
      {
        connection: args.connection,
        create: pulumi.output(args.deploy.image).apply((image) => renderDeployMarkerCommand({ image, stack: settings.stack })),
        triggers: args.deploy.triggers,
        logging: "stdoutAndStderr",
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [this.prepare, ...args.deploy.dependsOn] },
    );

    this.registerOutputs({
      grafanaUrl: this.grafanaUrl,
      grafanaAdminPassword: this.grafanaAdminPassword,
      containers: Object.fromEntries(Object.entries(this.containers).map(([service, container]) => [service, container.name])),
    });
  }

  private service(name: string, service: ServiceName, spec: ServiceSpec, args: ObservabilityArgs): docker.Container {
    const { alias, image } = SERVICES[service];
    const pulled = new docker.RemoteImage(
      `${name}-${alias}-image`,
      // Another container may still use the image while this one is replaced.
      { name: image, keepLocally: true },
      { parent: this, provider: args.dockerProvider, dependsOn: [args.hostReady] },
    );
    const user = serviceUsers[service];
    return new docker.Container(
      `${name}-${alias}`,
      {
        name: `${name}-${alias}`,
        image: pulled.imageId,
        ...(spec.command ? { command: spec.command } : {}),
        ...(spec.envs ? { envs: spec.envs } : {}),
        ...(spec.uploads ? { uploads: spec.uploads } : {}),
        ...(spec.volumes ? { volumes: spec.volumes } : {}),
        ...(user ? { user } : {}),
        networksAdvanced: [{ name: args.networkName, aliases: [alias] }, ...(spec.networks ?? []).map((network) => ({ name: network }))],
        ...(spec.publishedOn
          ? { ports: [{ internal: SERVICES[service].port, external: SERVICES[service].port, ip: spec.publishedOn }] }
          : {}),
        labels: [roleLabel(CONTAINER_ROLES.monitoring)],
        memory: MEMORY_LIMITS_MB[service],
        restart: "unless-stopped",
        securityOpts: ["no-new-privileges:true"],
        logDriver: "json-file",
        // labels=dropstack.role: the engine writes each line's role into the log, where Alloy reads it.
        logOpts: { "max-size": "10m", "max-file": "3", ...JSON_FILE_LOG_OPTIONS },
        destroyGraceSeconds: 30,
      },
      { parent: this, provider: args.dockerProvider, dependsOn: [this.prepare] },
    );
  }
}

/** An upload whose content is a secret (a password file). */
function secretFile(file: string, value: pulumi.Input<string>): docker.types.input.ContainerUpload {
  return { file, content: pulumi.secret(value) };
}

/** Where redis_exporter finds the managed Valkey's CA certificate. */
export const VALKEY_CA_FILE = "/etc/redis-exporter/valkey-ca.pem";

function managedValkeyExporter(
  valkey: NonNullable<ObservabilityArgs["managedValkey"]>,
  password: pulumi.Input<string>,
  parent: pulumi.Resource,
): ServiceSpec {
  const ca = digitalocean.getDatabaseCaOutput({ clusterId: valkey.clusterId }, { parent });
  return {
    command: [
      pulumi.interpolate`--redis.addr=${valkey.address}`,
      `--redis.password-file=${CONFIG_PATHS.redisExporterPasswordFile}`,
      `--tls-ca-cert-file=${VALKEY_CA_FILE}`,
    ],
    uploads: [
      secretFile(
        CONFIG_PATHS.redisExporterPasswordFile,
        pulumi.all([valkey.address, password]).apply(([address, secret]) => JSON.stringify({ [address]: secret })),
      ),
      { file: VALKEY_CA_FILE, content: ca.certificate },
    ],
  };
}

/** redis_exporter's --redis.password-file: a JSON map of the Redis URI to its password. */
export function redisPasswordFile(settings: Pick<ObservabilitySettings, "redis">, password: string): string {
  return JSON.stringify({ [`redis://${settings.redis.alias}:${settings.redis.port}`]: password });
}
