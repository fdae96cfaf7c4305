// dropstack: one `pulumi up` takes a containerised web app to production on DigitalOcean.
// This file only wires components together; each lives in components/<name>/, and
// docs/design.md explains how they depend on each other.
import * as pulumi from "@pulumi/pulumi";
import { App, buildAppEnvironment, imageRepository } from "./components/app";
import { Backups } from "./components/backups";
import { ROLE_NAMES } from "./components/database/privileges";
import { Cache } from "./components/cache";
import { loadStackConfig } from "./components/config";
import { Database } from "./components/database";
import { Dns } from "./components/dns";
import { SmokeTest } from "./components/hooks";
import { smokeChecks } from "./components/hooks/commands";
import { Host } from "./components/host";
import { Identity } from "./components/identity";
import { Monitoring } from "./components/monitoring";
import { Network } from "./components/network";
import { Observability } from "./components/observability";
import { monitoringHost, observabilitySettings } from "./components/observability/config";
import { Project } from "./components/project";
import { Proxy, nginxContainerName, proxyEdge } from "./components/proxy";
import { Frontend } from "./components/frontend";
import { PromotionGuard } from "./components/promotion";

const config = loadStackConfig();
const name = `${config.project}-${config.stack}`;
// Grafana's name (hosts.monitoring, else monitoring.<domain>), when observability is on.
const grafanaHost = config.observability.enabled ? monitoringHost(config.domain, config.hosts) : undefined;

// The Auth0 tenant, when dropstack:auth0 is set; its IDs reach the app through these outputs.
// First, because it validates the tenant domain and origins: bad config must stop the
// program before any other resource is registered.
const identity = config.auth0
  ? new Identity(name, {
      auth0: config.auth0,
      hosts: config.hosts,
      alertEmails: config.alerts.emails,
      // Smoke checks that send a token need the M2M client granted on the API.
      ...(config.app.smoke.some((c) => c.token) ? { smokeScopes: config.app.smoke.flatMap((c) => c.scopes) } : {}),
      ...(grafanaHost ? { grafanaHost } : {}),
    })
  : undefined;

// Production ships only what staging smoke-tested; a mismatch fails the preview here.
const promotion =
  config.production && config.promotion.stagingStack
    ? new PromotionGuard(name, {
        image: config.app.image,
        stagingStack: config.promotion.stagingStack,
        allowUnpromoted: config.promotion.allowUnpromoted,
      })
    : undefined;

const network = new Network(name, {
  region: config.region,
  adminCidrs: config.adminCidrs,
  dropletTag: `${name}-app`,
});

const host = new Host(name, {
  region: config.region,
  size: config.droplet.size,
  image: config.droplet.image,
  backups: config.droplet.backups,
  volumeGb: config.droplet.volumeGb,
  sshPublicKeys: config.sshPublicKeys,
  vpcId: network.vpc.id,
  tag: network.dropletTag.name,
  reservedIp: network.reservedIp,
  registryAuth: config.registry && {
    address: config.registry.server,
    username: config.registry.username,
    password: config.registry.password,
  },
});

// Managed PostgreSQL in the VPC; its role URIs (secret) feed the hooks and the app.
const database = new Database(name, {
  region: config.region,
  version: config.postgres.version,
  size: config.postgres.size,
  nodes: config.postgres.nodes,
  database: config.postgres.database,
  maintenance: config.postgres.maintenance,
  vpcId: network.vpc.id,
  dropletTag: network.dropletTag.name,
  adminCidrs: config.adminCidrs,
  tags: [name],
  restore: config.postgres.restore,
});

// Off-site copies of the backups; staging (backups.offsite: false) keeps them on the volume only.
const backups = config.backups.offsite ? new Backups(name, { region: config.region, keep: config.backups.keep }) : undefined;

// Redis on the droplet, reachable only over the private docker network; the app reads cache.redisUrl (secret).
const cache = new Cache(name, {
  image: config.redis.image,
  maxmemory: config.redis.maxmemory,
  evictionPolicy: config.redis.evictionPolicy,
  dockerProvider: host.dockerProvider,
  networkName: host.appNetwork.name,
  hostReady: host.ready,
});

// Uptime check on the API's health endpoint; uptime and droplet alerts go to dropstack:alerts.emails.
const monitoring = new Monitoring(name, {
  region: config.region,
  dropletId: host.droplet.id,
  apiHost: config.hosts.api,
  healthPath: config.app.healthPath,
  alertEmails: config.alerts.emails,
  backupProbe: true,
});

// The deploy: pull the image, back up, migrate, then roll the api replicas one at a time
// behind their healthchecks; workers run from the same image. See components/app.
const app = new App(name, {
  image: promotion ? promotion.approvedImage : config.app.image,
  port: config.app.port,
  replicas: config.app.replicas,
  healthPath: config.app.healthPath,
  command: config.app.command,
  workers: config.app.workers,
  environment: buildAppEnvironment({
    databaseUrl: database.appUri,
    redisUrl: cache.redisUrl,
    identity: identity?.appEnvironment,
    env: config.app.env,
    secrets: config.appSecrets,
  }),
  dockerProvider: host.dockerProvider,
  networkName: host.appNetwork.name,
  hostReady: host.ready,
  hooks: {
    connection: host.connection,
    postgresVersion: config.postgres.version,
    migratorUri: database.migratorUri,
    migrate: config.app.migrate,
    backupKeep: config.backups.keep,
    offsite: backups,
    ...(config.app.verify.sql.length > 0 ? { verify: { assertions: config.app.verify.sql, readonlyUri: database.readonlyUri } } : {}),
    schedule: { intervalHours: config.backups.intervalHours, drill: config.backups.drill, roles: Object.values(ROLE_NAMES) },
    dependsOn: [database],
  },
  dependsOn: [cache],
});

// The static frontend's replicas, rolled after the api's: a new frontend never calls an old api.
const frontend = config.frontend
  ? new Frontend(name, {
      image: config.frontend.image,
      port: config.frontend.port,
      replicas: config.frontend.replicas,
      healthPath: config.frontend.healthPath,
      dockerProvider: host.dockerProvider,
      networkName: host.appNetwork.name,
      ingressNetworkName: app.ingressNetwork.name,
      connection: host.connection,
      hostReady: host.ready,
      dependsOn: [app],
    })
  : undefined;

const hostnames = [config.hosts.api, config.hosts.app, grafanaHost].filter((h): h is string => h !== undefined);
const dns = config.manageDns
  ? new Dns(name, {
      zone: config.domain,
      hosts: hostnames,
      ipv4Address: network.reservedIp.ipAddress,
      ipv6Address: host.droplet.ipv6Address,
    })
  : undefined;

// nginx with TLS in front of the api replicas; certbot renews. HSTS in production only.
const proxy = new Proxy(name, {
  hosts: { ...config.hosts, ...(grafanaHost ? { monitoring: grafanaHost } : {}) },
  appPort: config.app.port,
  healthPath: config.app.healthPath,
  settings: config.proxy,
  edge: proxyEdge(config),
  hsts: config.production,
  tls: config.tls,
  dockerProvider: host.dockerProvider,
  networkName: host.appNetwork.name,
  ingressNetworkName: app.ingressNetwork.name,
  connection: host.connection,
  hostReady: host.ready,
  // Let's Encrypt reaches the droplet by name on port 80.
  issuanceDependsOn: [network.firewall, ...(dns ? [dns] : [])],
});

// What makes a deploy: the app's rollout, and a new frontend alone is one too (the smoke test
// runs again after it, and the dashboards mark it).
const rolloutTriggers = frontend
  ? pulumi.all([app.rolloutTriggers, pulumi.all(frontend.replicas.map((c) => c.id))]).apply(([triggers, ids]) => [...triggers, ...ids])
  : app.rolloutTriggers;

// After the rollout, the API's health path and dropstack:app.smoke must answer through nginx on the droplet.
const smoke = new SmokeTest(name, {
  connection: host.connection,
  checks: smokeChecks(config.hosts.api, config.app.healthPath, config.app.smoke),
  insecure: config.tls.staging,
  token: identity && {
    url: identity.tokenUrl,
    audience: identity.audience,
    clientId: identity.m2mClientId,
    clientSecret: identity.m2mClientSecret,
  },
  image: app.imageReference,
  triggers: rolloutTriggers,
  dependsOn: [app, proxy.ready, ...(frontend ? [frontend] : []), ...(identity?.smokeGrant ? [identity.smokeGrant] : [])],
  // With dropstack:app.watch.seconds, nginx's 5xx share and latency are watched after the smoke test.
  ...(config.app.watch.seconds > 0
    ? {
        watch: {
          nginxContainer: proxy.nginx.name,
          imageId: app.image.imageId,
          windowSeconds: config.app.watch.seconds,
          max5xxPercent: config.app.watch.max5xxPercent,
          p95LatencyMs: config.app.watch.p95LatencyMs,
          minRequests: config.app.watch.minRequests,
          stack: config.stack,
          rollback: config.app.watch.rollback,
          ignoredHosts: grafanaHost ? [grafanaHost] : [],
        },
      }
    : {}),
  // Keeps the running and the previous app image (rollback without a pull), removes older ones.
  pruneImages: { repository: imageRepository(config.app.image), imageId: app.image.imageId },
});

// Prometheus, Alertmanager, Loki, Grafana and Alloy on the droplet; Grafana behind nginx at grafanaHost.
const observability = grafanaHost
  ? new Observability(name, {
      settings: observabilitySettings({ ...config, appPort: config.app.port, alertEmails: config.alerts.emails }, nginxContainerName(name)),
      dockerProvider: host.dockerProvider,
      networkName: host.appNetwork.name,
      ingressNetworkName: app.ingressNetwork.name,
      connection: host.connection,
      hostReady: host.ready,
      // The cluster the app runs on: the restored one after a point-in-time recovery.
      databaseCluster: database.restored?.cluster ?? database.cluster,
      redisPassword: cache.password.result,
      secrets: {
        smtpPassword: config.observability.smtp?.password,
        webhookUrl: config.observability.webhookUrl,
        remoteLokiPassword: config.observability.remoteLoki?.password,
      },
      ...(identity?.grafana
        ? {
            oauth: {
              settings: pulumi.all([identity.grafana.clientId, identity.domain]).apply(([clientId, domain]) => ({
                domain,
                clientId,
                rolesClaim: identity.rolesClaim,
                adminRoles: config.observability.grafanaRoles.admin,
                editorRoles: config.observability.grafanaRoles.editor,
                viewerRoles: config.observability.grafanaRoles.viewer,
              })),
              clientSecret: identity.grafana.clientSecret,
            },
          }
        : {}),
      deploy: { image: app.imageReference, triggers: rolloutTriggers, dependsOn: [smoke] },
    })
  : undefined;

new Project(name, {
  stack: config.stack,
  production: config.production,
  resources: [
    host.droplet.dropletUrn,
    host.volume.volumeUrn,
    network.reservedIp.reservedIpUrn,
    database.cluster.clusterUrn,
    ...(database.restored ? [database.restored.cluster.clusterUrn] : []),
    ...(backups ? [backups.bucket.bucketUrn] : []),
    ...(dns ? [dns.domain.domainUrn] : []),
  ],
});

export const address = network.reservedIp.ipAddress;
export const ipv6Address = host.droplet.ipv6Address;
export const hostPublicKey = host.hostKey.publicKeyOpenssh;
export const apiUrl = `https://${config.hosts.api}`;
export const dnsRecords = config.manageDns
  ? "managed in DigitalOcean"
  : hostnames.map((h) => `${h} A/AAAA → reserved IP and droplet IPv6 (manage them at your DNS provider)`);
// Outputs of parts a stack may not have (Identity, the promotion guard, off-site backups)
// are null there: explicit in `pulumi stack output`, where an undefined export would be
// dropped with a runtime warning in every preview.
export const auth0Domain = identity?.domain ?? null;
export const auth0Audience = identity?.audience ?? null;
export const auth0SpaClientId = identity?.spaClientId ?? null;
export const auth0RolesClaim = identity?.rolesClaim ?? null;
export const auth0M2mClientId = identity?.m2mClientId ?? null;
export const auth0M2mClientSecret = identity?.m2mClientSecret ?? null;
// The users:import tool's --connection-id (dropstack:auth0.connections.database).
export const auth0DatabaseConnectionId = identity?.databaseConnection?.id ?? null;
export const promotionVerdict = promotion?.verdict ?? null;
export const databaseClusterId = database.cluster.id;
// The cluster restored to dropstack:postgres.restore.timestamp, which the app then runs on (docs/rollback.md).
export const restoredDatabaseClusterId = database.restored?.cluster.id ?? null;
// What tools/ci-access opens to a CI runner for one job, and the trusted sources the drift check expects.
export const ciAccess = {
  dropletTag: network.dropletTag.name,
  databaseClusterId: database.cluster.id,
  databaseTrustedSources: database.firewall.rules.apply((rules) => rules.map(({ type, value }) => ({ type, value }))),
  // The drift check previews everything else while CI's temporary trusted source exists.
  databaseFirewallUrn: database.firewall.urn,
};
export const databasePrivateHost = database.privateHost;
export const databaseName = database.databaseName;
// Secret; `pulumi stack output --show-secrets databaseUris` for one-off access from inside the VPC.
export const databaseUris = { migrator: database.migratorUri, app: database.appUri, readonly: database.readonlyUri };
export const backupsBucket = backups?.bucketName ?? null;
export const backupsEndpoint = backups?.endpoint ?? null;
export const redisContainer = cache.container.name;
// Secret; the app and workers get it from cache.redisUrl. `pulumi stack output --show-secrets redisUrl` to debug from the host.
export const redisUrl = cache.redisUrl;
export const healthCheckUrl = monitoring.healthUrl;
export const uptimeCheckId = monitoring.uptimeCheck.id;
export const proxyContainers = { nginx: proxy.nginx.name, certbot: proxy.certbot.name };
export const appImage = app.imageReference;
// Staging's smoke-tested image; production's PromotionGuard reads it (PROMOTED_IMAGE_OUTPUT).
export const promotedImage = smoke.passedImage;
// Grafana (README "Observability"); null when dropstack:observability.enabled is false.
export const grafanaUrl = observability?.grafanaUrl ?? null;
// Secret; the break-glass sign-in as `admin` (`pulumi stack output --show-secrets grafanaAdminPassword`).
export const grafanaAdminPassword = observability?.grafanaAdminPassword ?? null;
