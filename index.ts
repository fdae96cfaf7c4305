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
import { type AnyProxy, Proxy, nginxContainerName, proxyEdge } from "./components/proxy";
import { Frontend } from "./components/frontend";
import { PromotionGuard } from "./components/promotion";
import { Rotation } from "./components/rotation";
import { Valkey } from "./components/valkey";
import { UNDRAIN_TIMEOUT_SECONDS, drainWaitSeconds, undrainWaitSeconds } from "./components/network/balancer";
import { renderDrainCommand, renderUndrainCommand } from "./components/proxy/commands";
import { SERVICES } from "./components/observability/settings";

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

const hostnames = [config.hosts.api, config.hosts.app, grafanaHost].filter((h): h is string => h !== undefined);
const newDns = (ipv4Address: pulumi.Input<string>, ipv6Address: pulumi.Input<string>) =>
  new Dns(name, { zone: config.domain, hosts: hostnames, ipv4Address, ipv6Address });

// scale.droplets > 1 (README "Growing past one droplet"): the droplets stand behind a load
// balancer, whose certificate DigitalOcean issues through the zone, and the records point at
// the load balancer. So the zone comes first, with the records' addresses filled in once the
// load balancer exists.
const balanced = config.scale.droplets > 1;
const balancerAddress = balanced ? pulumi.deferredOutput<{ ipv4: string; ipv6: string }>() : undefined;
const balancedDns = balancerAddress
  ? newDns(
      balancerAddress[0].apply((a) => a.ipv4),
      balancerAddress[0].apply((a) => a.ipv6),
    )
  : undefined;

const network = new Network(name, {
  region: config.region,
  adminCidrs: config.adminCidrs,
  dropletTag: `${name}-app`,
  ...(balancedDns
    ? {
        loadBalancer: {
          hosts: hostnames,
          sizeUnit: config.scale.loadBalancer.sizeUnit,
          zone: balancedDns.domain,
          // Every droplet's nginx proxies Grafana's host to the first droplet.
          peerPorts: grafanaHost ? [String(SERVICES.grafana.port)] : [],
        },
      }
    : {}),
});
const loadBalancer = network.loadBalancer;
if (balancerAddress && loadBalancer)
  balancerAddress[1](pulumi.all([loadBalancer.ip, loadBalancer.ipv6]).apply(([ipv4, ipv6]) => ({ ipv4, ipv6 })));

const hostArgs = {
  region: config.region,
  size: config.droplet.size,
  image: config.droplet.image,
  backups: config.droplet.backups,
  volumeGb: config.droplet.volumeGb,
  sshPublicKeys: config.sshPublicKeys,
  vpcId: network.vpc.id,
  tag: network.dropletTag.name,
  registryAuth: config.registry && {
    address: config.registry.server,
    username: config.registry.username,
    password: config.registry.password,
  },
};
// The first droplet keeps the names and the reserved IP (SSH reaches it there) it had alone,
// so growing from one droplet replaces nothing; the others are named by their number.
const host = new Host(name, { ...hostArgs, reservedIp: network.reservedIp });
const dropletName = (n: number) => (n === 1 ? name : `${name}-${n}`);
const followers = Array.from({ length: config.scale.droplets - 1 }, (_, i) => new Host(dropletName(i + 2), hostArgs));

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
  ...(config.postgres.readReplicas > 0
    ? { readReplicas: { count: config.postgres.readReplicas, size: config.postgres.readReplicaSize ?? config.postgres.size } }
    : {}),
});

// Off-site copies of the backups; staging (backups.offsite: false) keeps them on the volume only.
const backups = config.backups.offsite ? new Backups(name, { region: config.region, keep: config.backups.keep }) : undefined;

// Redis on the droplet, reachable only over the private docker network; the app reads cache.redisUrl (secret).
// Behind a load balancer every droplet must see the same cache: managed Valkey instead.
const cache = balanced
  ? undefined
  : new Cache(name, {
      image: config.redis.image,
      maxmemory: config.redis.maxmemory,
      evictionPolicy: config.redis.evictionPolicy,
      dockerProvider: host.dockerProvider,
      networkName: host.appNetwork.name,
      hostReady: host.ready,
    });
const valkey = balanced
  ? new Valkey(name, {
      region: config.region,
      version: config.scale.valkey.version,
      size: config.scale.valkey.size,
      nodes: config.scale.valkey.nodes,
      vpcId: network.vpc.id,
      dropletTag: network.dropletTag.name,
      evictionPolicy: config.redis.evictionPolicy,
      maintenance: config.postgres.maintenance,
      tags: [name],
    })
  : undefined;
const cacheUrl = valkey ? valkey.redisUrl : (cache as Cache).redisUrl;

// Uptime check on the API's health endpoint; uptime and droplet alerts go to dropstack:alerts.emails.
const monitoring = new Monitoring(name, {
  region: config.region,
  dropletIds: [host, ...followers].map((h) => h.droplet.id),
  apiHost: config.hosts.api,
  healthPath: config.app.healthPath,
  alertEmails: config.alerts.emails,
  // The freshness file is on the first droplet, and the load balancer answers from any: behind
  // it, stale backups alert through the observability stack's rule only.
  backupProbe: !balanced,
});

// The deploy: pull the image, back up, migrate, then roll the api replicas one at a time
// behind their healthchecks; workers run from the same image. See components/app.
const approvedImage = promotion ? promotion.approvedImage : config.app.image;
const appEnvironment = buildAppEnvironment({
  databaseUrl: database.appUri,
  ...(config.postgres.readReplicas > 0 ? { databaseReadUrls: database.readUris } : {}),
  redisUrl: cacheUrl,
  identity: identity?.appEnvironment,
  env: config.app.env,
  secrets: config.appSecrets,
});
const appSettings = {
  image: approvedImage,
  port: config.app.port,
  replicas: config.app.replicas,
  healthPath: config.app.healthPath,
  command: config.app.command,
  environment: appEnvironment,
};
// Behind a load balancer each droplet leaves it before its replicas are replaced: whenever
// what the replicas run changes (image, environment, command) or the frontend's image does.
const drain = balanced
  ? {
      create: renderDrainCommand({ waitSeconds: drainWaitSeconds() }),
      triggers: [approvedImage, appEnvironment, JSON.stringify(config.app.command ?? null), config.frontend?.image ?? null],
    }
  : undefined;
const app = new App(name, {
  ...appSettings,
  workers: config.app.workers,
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
  ...(drain ? { drain } : {}),
  dependsOn: [cache ?? (valkey as Valkey)],
});

// The static frontend's replicas, rolled after the api's: a new frontend never calls an old api.
const newFrontend = (droplet: Host, dropletApp: App, n: number) =>
  config.frontend
    ? new Frontend(dropletName(n), {
        image: config.frontend.image,
        port: config.frontend.port,
        replicas: config.frontend.replicas,
        healthPath: config.frontend.healthPath,
        dockerProvider: droplet.dockerProvider,
        networkName: droplet.appNetwork.name,
        ingressNetworkName: dropletApp.ingressNetwork.name,
        connection: droplet.connection,
        hostReady: droplet.ready,
        dependsOn: [dropletApp],
      })
    : undefined;
const frontend = newFrontend(host, app, 1);

const dns = balancedDns ?? (config.manageDns ? newDns(network.reservedIp.ipAddress, host.droplet.ipv6Address) : undefined);

// nginx with TLS in front of the api replicas; certbot renews. HSTS in production only.
// Behind the load balancer, which ends TLS, nginx serves plain HTTP to it (README "Growing past one droplet").
const newProxy = (droplet: Host, dropletApp: App, n: number) =>
  new Proxy(dropletName(n), {
    hosts: { ...config.hosts, ...(grafanaHost ? { monitoring: grafanaHost } : {}) },
    appPort: config.app.port,
    healthPath: config.app.healthPath,
    settings: config.proxy,
    edge: proxyEdge(config),
    hsts: config.production,
    tls: config.tls,
    dockerProvider: droplet.dockerProvider,
    networkName: droplet.appNetwork.name,
    ingressNetworkName: dropletApp.ingressNetwork.name,
    connection: droplet.connection,
    hostReady: droplet.ready,
    // Let's Encrypt reaches the droplet by name on port 80.
    issuanceDependsOn: [network.firewall, ...(dns ? [dns] : [])],
    ...(balanced
      ? {
          loadBalancer: {
            // Grafana runs on the first droplet; the others reach it at its private address.
            ...(grafanaHost && n > 1
              ? { monitoringUpstream: { address: host.droplet.ipv4AddressPrivate, port: SERVICES.grafana.port } }
              : {}),
          },
        }
      : {}),
  });
const proxy = newProxy(host, app, 1);

// Behind the load balancer: the first droplet returns to it, then each other droplet in turn
// leaves it, rolls (App.drain, the replicas, the frontend) and returns; the backup and the
// migration ran once, on the first droplet, before any of this.
const rotate = (droplet: Host, dropletApp: App, dropletFrontend: Frontend | undefined, dropletProxy: AnyProxy, n: number) =>
  new Rotation(dropletName(n), {
    connection: droplet.connection,
    create: renderUndrainCommand({ waitSeconds: undrainWaitSeconds(), timeoutSeconds: UNDRAIN_TIMEOUT_SECONDS }),
    triggers: pulumi
      .all([dropletApp.drain?.id, dropletApp.rolloutTriggers, pulumi.all((dropletFrontend?.replicas ?? []).map((c) => c.id))])
      .apply(([drainId, triggers, frontendIds]) => [drainId, ...triggers, ...frontendIds]),
    dependsOn: [dropletApp, dropletProxy.ready, ...(dropletFrontend ? [dropletFrontend] : [])],
    ...(n > 1 ? { pruneImages: { repository: imageRepository(config.app.image), imageId: dropletApp.image.imageId } } : {}),
  });
const rotations = balanced ? [rotate(host, app, frontend, proxy, 1)] : [];
followers.forEach((droplet, i) => {
  const n = i + 2;
  const dropletApp = new App(dropletName(n), {
    ...appSettings,
    // A singleton worker (Celery beat) runs on the first droplet only, as the scheduled backups do.
    workers: config.app.workers.filter((w) => !w.singleton),
    dockerProvider: droplet.dockerProvider,
    networkName: droplet.appNetwork.name,
    hostReady: droplet.ready,
    hooks: { ranOnFirstDroplet: app.hooks, connection: droplet.connection },
    ...(drain ? { drain } : {}),
    dependsOn: [valkey as Valkey, rotations[rotations.length - 1].undrain],
  });
  const dropletFrontend = newFrontend(droplet, dropletApp, n);
  const dropletProxy = newProxy(droplet, dropletApp, n);
  rotations.push(rotate(droplet, dropletApp, dropletFrontend, dropletProxy, n));
});

// What makes a deploy: the app's rollout, and a new frontend alone is one too (the smoke test
// runs again after it, and the dashboards mark it).
// Behind the load balancer, any droplet's return to it after a rollout is one.
const firstDropletTriggers = frontend
  ? pulumi.all([app.rolloutTriggers, pulumi.all(frontend.replicas.map((c) => c.id))]).apply(([triggers, ids]) => [...triggers, ...ids])
  : app.rolloutTriggers;
const rolloutTriggers = balanced
  ? pulumi.all([firstDropletTriggers, pulumi.all(rotations.map((r) => r.undrain.id))]).apply(([triggers, ids]) => [...triggers, ...ids])
  : firstDropletTriggers;

// After the rollout, the API's health path and dropstack:app.smoke must answer through nginx on the droplet.
const smoke = new SmokeTest(name, {
  connection: host.connection,
  checks: smokeChecks(config.hosts.api, config.app.healthPath, config.app.smoke),
  // Behind a load balancer the certificate is DigitalOcean's Let's Encrypt one, whatever tls.staging says.
  insecure: config.tls.staging && !balanced,
  token: identity && {
    url: identity.tokenUrl,
    audience: identity.audience,
    clientId: identity.m2mClientId,
    clientSecret: identity.m2mClientSecret,
  },
  image: app.imageReference,
  triggers: rolloutTriggers,
  dependsOn: [
    app,
    proxy.ready,
    ...(frontend ? [frontend] : []),
    ...(identity?.smokeGrant ? [identity.smokeGrant] : []),
    // Behind the load balancer: every droplet rolled and back in it, and the checks go through it.
    ...rotations.map((r) => r.undrain),
  ],
  ...(loadBalancer ? { address: loadBalancer.ip } : {}),
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
      redisPassword: valkey ? valkey.password : (cache as Cache).password.result,
      ...(valkey ? { managedValkey: { address: valkey.exporterAddress, clusterId: valkey.cluster.id } } : {}),
      ...(balanced ? { grafanaPrivateAddress: host.droplet.ipv4AddressPrivate } : {}),
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
    ...followers.flatMap((f) => [f.droplet.dropletUrn, f.volume.volumeUrn]),
    ...(loadBalancer ? [loadBalancer.loadBalancerUrn] : []),
    ...(valkey ? [valkey.cluster.clusterUrn] : []),
  ],
});

export const address = network.reservedIp.ipAddress;
export const ipv6Address = host.droplet.ipv6Address;
export const hostPublicKey = host.hostKey.publicKeyOpenssh;
// scale.droplets > 1: where the records point, and each droplet's SSH address and host key
// (the first droplet's are `address` and `hostPublicKey`); null with one droplet.
export const loadBalancerAddress = loadBalancer?.ip ?? null;
export const followerDroplets = balanced
  ? followers.map((f, i) => ({ name: dropletName(i + 2), address: f.address, hostPublicKey: f.hostKey.publicKeyOpenssh }))
  : null;
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
export const databaseUris = {
  migrator: database.migratorUri,
  app: database.appUri,
  readonly: database.readonlyUri,
  // The readonly role on each read replica (postgres.readReplicas), as the app's DATABASE_READ_URLS.
  ...(config.postgres.readReplicas > 0 ? { readReplicas: database.readUris } : {}),
};
export const backupsBucket = backups?.bucketName ?? null;
export const backupsEndpoint = backups?.endpoint ?? null;
// null behind a load balancer, where managed Valkey replaces the container.
export const redisContainer = cache?.container.name ?? null;
// Secret; the app and workers get it from cache.redisUrl (or the managed Valkey's). `pulumi stack output --show-secrets redisUrl` to debug from the host.
export const redisUrl = cacheUrl;
export const healthCheckUrl = monitoring.healthUrl;
export const uptimeCheckId = monitoring.uptimeCheck.id;
export const proxyContainers = { nginx: proxy.nginx.name, certbot: proxy.certbot?.name ?? null };
export const appImage = app.imageReference;
// Staging's smoke-tested image; production's PromotionGuard reads it (PROMOTED_IMAGE_OUTPUT).
export const promotedImage = smoke.passedImage;
// Grafana (README "Observability"); null when dropstack:observability.enabled is false.
export const grafanaUrl = observability?.grafanaUrl ?? null;
// Secret; the break-glass sign-in as `admin` (`pulumi stack output --show-secrets grafanaAdminPassword`).
export const grafanaAdminPassword = observability?.grafanaAdminPassword ?? null;
