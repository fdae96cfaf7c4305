// The edge of the droplet (README "What one `pulumi up` does": "Proxy: nginx (TLS, certbot renewals) in front of the
// app"): an nginx container publishing 80/443 on the app network, and a certbot container
// that renews Let's Encrypt certificates into a directory nginx reads. render.ts gathers the
// pure renderers of every file (one module per concern); commands.ts the host-side steps; NGINX-VERSIONS.md explains the choices.
//
// nginx.conf is not uploaded into the container: a remote Command writes it into a
// bind-mounted directory on /srv, where the entrypoint picks it up with a graceful reload.
// A config change therefore never recreates the container (which would unbind 80/443 for
// a moment); only a new image or new entrypoint (another host list) does.
//
// The first deploy ends with a real certificate: placeholder certificates let nginx start,
// nginx serves the HTTP-01 challenge, and the issuance Command runs certbot once. Where the
// smoke test verifies the certificate (tls.staging off), a failed issuance fails the update
// with what to fix; with the staging CA the update goes on with the placeholder.
//
// Behind a load balancer (`loadBalancer`, more than one droplet) the load balancer holds the
// certificate: nginx publishes port 80 only, serves every host over plain HTTP, answers the
// load balancer's health check, and there is no certbot. The rolling deploy drains each droplet
// around its rollout with renderDrainCommand and renderUndrainCommand (commands.ts).
import { isIP } from "node:net";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { API_ALIAS, CONTAINER_ROLES, FRONTEND_ALIAS, ROLE_LOG_OPTION, componentType, roleLabel, workerAlias } from "../common/names";
import { FRONTEND_SERVICE, type ProxyRoute, workerService } from "./routes";
import type { UpstreamKeepalive, UpstreamService, UpstreamTimeouts } from "./upstream";
import { SERVICES } from "../observability/settings";
import {
  CERTBOT_IMAGE,
  LOAD_BALANCER_HOST_PATHS,
  NGINX_IMAGE,
  PROXY_HOST_PATHS,
  certbotMounts,
  loadBalancerHealthcheckTest,
  nginxHealthcheckTest,
  nginxMounts,
  renderCertbotCommand,
  renderNginxConfCommand,
  renderPrepareCommand,
} from "./commands";
import {
  DOCKER_DNS_RESOLVER,
  DRAIN_FLAG_PATH,
  ProxySettings,
  nginxVersionFromImage,
  renderCertbotScript,
  renderLoadBalancerNginxEntrypoint,
  renderNginxConf,
  renderNginxEntrypoint,
  validateProxySettings,
} from "./render";

export {
  CERTBOT_IMAGE,
  DRAIN_FLAG_HOST_PATH,
  NGINX_IMAGE,
  PROXY_HOST_PATHS,
  nginxConfHostPath,
  renderDrainCommand,
  renderUndrainCommand,
} from "./commands";

/** Where the scripts are uploaded in the containers; each runs as `/bin/sh <file>`. */
export const NGINX_ENTRYPOINT_PATH = "/opt/dropstack/entrypoint.sh";
export const CERTBOT_SCRIPT_PATH = "/opt/dropstack/certbot.sh";

const WEB_PORTS = [80, 443];
// The provider binds 0.0.0.0 unless told otherwise; "::" adds the droplet's IPv6 address,
// where the AAAA records point.
const BIND_ADDRESSES = ["0.0.0.0", "::"];

/** Sorts as Go's netip.Addr.Compare does: IPv4 before IPv6, then by value. */
function addressKey(ip: string): string {
  const version = isIP(ip);
  if (version === 0) throw new Error(`not an IP address: "${ip}"`);
  if (version === 4)
    return `4:${ip
      .split(".")
      .map((o) => Number(o).toString(16).padStart(2, "0"))
      .join("")}`;
  const [head, tail = ""] = ip.split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const [h, t] = [groups(head), groups(tail)];
  return `6:${[...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t].map((g) => g.padStart(4, "0")).join("")}`;
}

export interface PublishedPort {
  internal: number;
  external: number;
  ip: string;
  protocol: "tcp";
}

/**
 * Each port on each address, in the order the Docker provider reads ports back, so the
 * second `pulumi up` sees no change (the provider's `ports` is a ForceNew list compared
 * element by element, and its diff suppression matches only the first entry per internal
 * port: kreuzwerker/terraform-provider-docker#909). Docker keeps a container's bindings
 * sorted by container port, protocol, host port, then host address with IPv4 before IPv6
 * (moby's cmpPortBinding), and the provider lists them by container port
 * (flattenContainerPorts). So: by port, then IPv4 before IPv6. NGINX-VERSIONS.md "Published
 * ports" has the evidence.
 */
export function publishedPorts(ports: number[], addresses: string[]): PublishedPort[] {
  const ordered = [...addresses].sort((a, b) => addressKey(a).localeCompare(addressKey(b)));
  return [...ports]
    .sort((a, b) => a - b)
    .flatMap((port) => ordered.map((ip) => ({ internal: port, external: port, ip, protocol: "tcp" as const })));
}
// nginx opens a new connection to the app per request (NGINX-VERSIONS.md "No keep-alive"):
// reuse TIME_WAIT ports and widen the range, both namespaced sysctls.
const NGINX_SYSCTLS = { "net.ipv4.tcp_tw_reuse": "1", "net.ipv4.ip_local_port_range": "1024 65535" };
/** The nginx container's name: fixed, so the monitoring's probes reach nginx by it on the app network. */
export function nginxContainerName(name: string): string {
  return `${name}-nginx`;
}

const LOG_OPTIONS = { logDriver: "json-file", logOpts: { "max-size": "20m", "max-file": "5", ...ROLE_LOG_OPTION } };

export interface ProxyArgs<LoadBalancer extends ProxyLoadBalancer | undefined = ProxyLoadBalancer | undefined> {
  /** dropstack:hosts; `monitoring` is Grafana's, proxied to the Observability component's Grafana. */
  hosts: { api: string; app?: string; monitoring?: string };
  /** dropstack:app.port, where the api replicas listen. */
  appPort: number;
  /** dropstack:app.healthPath: never rate-limited nor logged. */
  healthPath: string;
  /** dropstack:proxy */
  settings: ProxySettings;
  /** What nginx routes and how it talks to the services: proxyEdge(config). Without it, every path of every host goes to the api. */
  edge?: ProxyEdge;
  /** Strict-Transport-Security on every HTTPS response: on in production. */
  hsts: boolean;
  /** dropstack:tls. With `staging` off a failed issuance fails the update. Unused behind a load balancer. */
  tls: { email: string; staging: boolean };
  dockerProvider: docker.Provider;
  /** Host.appNetwork.name */
  networkName: pulumi.Input<string>;
  /** App.ingressNetwork.name: nginx resolves the api alias there (components/app README). */
  ingressNetworkName: pulumi.Input<string>;
  /** Host.connection */
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** Host.ready */
  hostReady: pulumi.CustomResource;
  /** What Let's Encrypt needs before it can reach the droplet by name: the firewall, DNS records when managed. Unused behind a load balancer. */
  issuanceDependsOn?: pulumi.Input<pulumi.Resource>[];
  /** Load-balancer mode: plain HTTP on port 80 behind a load balancer that terminates TLS; no certbot. */
  loadBalancer?: LoadBalancer;
}

/** The routes, services, CSP and upstream tuning nginx renders (NginxConfInput's names). */
export interface ProxyEdge {
  contentSecurityPolicy: string;
  routes: ProxyRoute[];
  services: Record<string, UpstreamService>;
  timeouts: UpstreamTimeouts;
  keepalive: UpstreamKeepalive;
}

/**
 * The edge from the stack config: routes on hosts.api unless they name a host, the frontend
 * and every worker that serves HTTP as services under their ingress aliases.
 */
export function proxyEdge(config: {
  hosts: { api: string };
  proxy: {
    csp: string;
    routes: { host?: string; path: string; service: string; stripPrefix: boolean }[];
    timeouts: UpstreamTimeouts;
    keepalive: UpstreamKeepalive;
  };
  frontend?: { port: number };
  app: { workers: { name: string; port?: number }[] };
}): ProxyEdge {
  const services: Record<string, UpstreamService> = {};
  if (config.frontend) services[FRONTEND_SERVICE] = { alias: FRONTEND_ALIAS, port: config.frontend.port };
  for (const worker of config.app.workers)
    if (worker.port !== undefined) services[workerService(worker.name)] = { alias: workerAlias(worker.name), port: worker.port };
  return {
    contentSecurityPolicy: config.proxy.csp,
    routes: config.proxy.routes.map((route) => ({ ...route, host: route.host ?? config.hosts.api })),
    services,
    timeouts: config.proxy.timeouts,
    keepalive: config.proxy.keepalive,
  };
}

/** Problems with the proxy settings, each named by its config key. */
export function proxyConfigProblems(settings: Partial<ProxySettings>): string[] {
  return validateProxySettings(settings).map((p) => `dropstack:proxy.${p.setting}: ${p.message}`);
}

/** The hosts nginx serves and certbot certifies: hosts.api, then hosts.app and hosts.monitoring when set. */
export function proxyDomains(hosts: ProxyArgs["hosts"]): string[] {
  return [hosts.api, ...(hosts.app ? [hosts.app] : []), ...(hosts.monitoring ? [hosts.monitoring] : [])];
}

/**
 * Load-balancer mode (more than one droplet): the DigitalOcean Load Balancer terminates TLS and
 * forwards plain HTTP to port 80, which the droplet's firewall opens to it alone.
 */
export interface ProxyLoadBalancer {
  /**
   * Where nginx reaches Grafana for hosts.monitoring when Grafana runs on another droplet: that
   * droplet's private IPv4 address and the port Grafana is published on there. Without it, Grafana's
   * alias on this droplet's app network (the droplet that runs the observability stack).
   */
  monitoringUpstream?: { address: pulumi.Input<string>; port: number };
}

/**
 * A member only TLS mode has: present when the Proxy is typed without a load balancer, possibly
 * undefined when its `loadBalancer` argument may be given (an optional argument may be absent).
 */
export type TlsOnly<LoadBalancer, T> = [LoadBalancer] extends [undefined] ? T : T | undefined;

/** Proxy.nginxConf's type: a string, unless Grafana's address may be an Output (known once deployed). */
export type NginxConfOf<LoadBalancer> = [LoadBalancer] extends [undefined]
  ? string
  : LoadBalancer extends { monitoringUpstream?: infer Upstream }
    ? Upstream extends { address: infer Address }
      ? Address extends string
        ? string
        : string | pulumi.Output<string>
      : string
    : string;

/** A Proxy in either mode, for code that takes both (a bare `Proxy` is one built without a load balancer). */
export type AnyProxy = Proxy<ProxyLoadBalancer | undefined>;

/**
 * nginx in front of the app, with certbot and Let's Encrypt (TLS mode), or plain HTTP behind a
 * load balancer (`loadBalancer`: no certbot, no certificates). The type parameter is the
 * `loadBalancer` argument's type, inferred from it: when it is left out, the members only TLS
 * mode has are typed present and nginxConf a string.
 */
export class Proxy<LoadBalancer extends ProxyLoadBalancer | undefined = undefined> extends pulumi.ComponentResource {
  readonly nginxImage: docker.RemoteImage;
  readonly certbotImage: TlsOnly<LoadBalancer, docker.RemoteImage>;
  /** The rendered nginx.conf, as installed on the droplet. */
  readonly nginxConf: NginxConfOf<LoadBalancer>;
  readonly placeholder: TlsOnly<LoadBalancer, command.remote.Command>;
  /** Installs nginx.conf into the directory the nginx container mounts. */
  readonly config: command.remote.Command;
  readonly nginx: docker.Container;
  /** Runs certbot once after nginx is up: the first real certificate, or a renewal when due. */
  readonly issuance: TlsOnly<LoadBalancer, command.remote.Command>;
  readonly certbot: TlsOnly<LoadBalancer, docker.Container>;
  /**
   * Done when nginx serves HTTPS with the certificate it will keep serving (what the smoke test
   * waits for); behind a load balancer, when the nginx container is healthy.
   */
  readonly ready: pulumi.Resource;

  constructor(name: string, args: ProxyArgs<LoadBalancer>, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("Proxy"), name, {}, opts);
    const problems = proxyConfigProblems(args.settings);
    if (problems.length > 0) throw new pulumi.RunError(`invalid proxy settings:\n  ${problems.join("\n  ")}`);
    const loadBalancer: ProxyLoadBalancer | undefined = args.loadBalancer;
    if (loadBalancer?.monitoringUpstream && !args.hosts.monitoring)
      throw new pulumi.RunError("Proxy loadBalancer.monitoringUpstream: needs hosts.monitoring, the host nginx serves Grafana on");

    const domains = proxyDomains(args.hosts);
    const nginxVersion = nginxVersionFromImage(NGINX_IMAGE);
    const renderConf = (monitoringUpstream: UpstreamService | undefined) =>
      renderNginxConf({
        hosts: args.hosts,
        upstream: { alias: API_ALIAS, port: args.appPort },
        ...(monitoringUpstream ? { monitoringUpstream } : {}),
        hsts: args.hsts,
        settings: args.settings,
        resolver: DOCKER_DNS_RESOLVER,
        healthPath: args.healthPath,
        nginxVersion,
        ...(loadBalancer ? { loadBalancer: { drainFlag: DRAIN_FLAG_PATH } } : {}),
        ...args.edge,
      });
    // Grafana is on the app network, which nginx joins; resolved per request, so nginx starts
    // without it. Behind a load balancer it may be on another droplet, by its private address.
    const grafana = args.hosts.monitoring
      ? (loadBalancer?.monitoringUpstream ?? { address: SERVICES.grafana.alias, port: SERVICES.grafana.port })
      : undefined;
    const nginxConf: pulumi.Input<string> =
      grafana === undefined
        ? renderConf(undefined)
        : typeof grafana.address === "string"
          ? renderConf({ alias: grafana.address, port: grafana.port })
          : pulumi.output(grafana.address).apply((alias) => renderConf({ alias, port: grafana.port }));
    this.nginxConf = nginxConf as NginxConfOf<LoadBalancer>;
    const hostPaths = loadBalancer ? LOAD_BALANCER_HOST_PATHS : PROXY_HOST_PATHS;

    const onDroplet = { parent: this, provider: args.dockerProvider };
    const remote = (triggers: pulumi.Input<unknown>[] = [args.hostReady.id]) => ({
      connection: args.connection,
      triggers,
      logging: "stdoutAndStderr" as const,
      addPreviousOutputInEnv: false,
    });

    // keepLocally: a replaced container's image stays for a quick rollback.
    this.nginxImage = new docker.RemoteImage(
      `${name}-nginx-image`,
      { name: NGINX_IMAGE, keepLocally: true },
      { ...onDroplet, dependsOn: [args.hostReady] },
    );
    // TLS mode only: certbot's script and image, for every host nginx serves.
    const certbotScript = loadBalancer ? undefined : renderCertbotScript({ domains, email: args.tls.email, staging: args.tls.staging });
    const certbotImage =
      certbotScript === undefined
        ? undefined
        : new docker.RemoteImage(
            `${name}-certbot-image`,
            { name: CERTBOT_IMAGE, keepLocally: true },
            { ...onDroplet, dependsOn: [args.hostReady] },
          );

    const prepare = new command.remote.Command(
      `${name}-proxy-dirs`,
      {
        ...remote(),
        create: renderPrepareCommand(hostPaths),
      },
      { parent: this, dependsOn: [args.hostReady] },
    );

    // A host added to dropstack:hosts gets its placeholder before a config naming it is installed.
    const placeholder =
      certbotImage === undefined
        ? undefined
        : new command.remote.Command(
            `${name}-certbot-placeholder`,
            {
              ...remote(),
              create: renderCertbotCommand({ step: "placeholder", image: CERTBOT_IMAGE, domains }),
              stdin: certbotScript,
            },
            { parent: this, dependsOn: [prepare, certbotImage] },
          );

    this.config = new command.remote.Command(
      `${name}-nginx-conf`,
      {
        ...remote(),
        create: renderNginxConfCommand({ image: NGINX_IMAGE, paths: hostPaths }),
        stdin: nginxConf,
      },
      { parent: this, dependsOn: [placeholder ?? prepare, this.nginxImage] },
    );

    this.nginx = new docker.Container(
      `${name}-nginx`,
      {
        name: nginxContainerName(name),
        image: this.nginxImage.imageId,
        entrypoints: ["/bin/sh", NGINX_ENTRYPOINT_PATH],
        uploads: [
          { file: NGINX_ENTRYPOINT_PATH, content: loadBalancer ? renderLoadBalancerNginxEntrypoint() : renderNginxEntrypoint({ domains }) },
        ],
        volumes: nginxMounts(hostPaths),
        // Behind the load balancer, plain HTTP only: it holds the certificates.
        ports: publishedPorts(loadBalancer ? [80] : WEB_PORTS, BIND_ADDRESSES),
        // The ingress network is where the api replicas answer to their alias, once healthy.
        networksAdvanced: [{ name: args.networkName }, { name: args.ingressNetworkName }],
        sysctls: NGINX_SYSCTLS,
        labels: [roleLabel(CONTAINER_ROLES.proxy)],
        healthcheck: {
          tests: loadBalancer ? loadBalancerHealthcheckTest() : nginxHealthcheckTest(args.hosts.api),
          interval: "10s",
          timeout: "5s",
          retries: 3,
          startPeriod: "30s",
        },
        wait: true,
        waitTimeout: 180,
        restart: "unless-stopped",
        securityOpts: ["no-new-privileges:true"],
        // The entrypoint turns SIGTERM into nginx's graceful stop: in-flight requests finish.
        stopTimeout: 30,
        destroyGraceSeconds: 45,
        ...LOG_OPTIONS,
      },
      {
        ...onDroplet,
        dependsOn: [args.hostReady, this.config, ...(placeholder ? [placeholder] : [])],
        // Ports 80/443 (and the fixed name) can belong to one container at a time.
        deleteBeforeReplace: true,
      },
    );

    const issuance =
      certbotScript === undefined
        ? undefined
        : new command.remote.Command(
            `${name}-certbot-issue`,
            {
              ...remote(),
              create: renderCertbotCommand({ step: "issue", image: CERTBOT_IMAGE, domains, requireTrustedCertificate: !args.tls.staging }),
              stdin: certbotScript,
            },
            { parent: this, dependsOn: [this.nginx, ...(args.issuanceDependsOn ?? [])] },
          );

    // After issuance, so the two never run certbot at once; its first pass finds nothing due.
    const certbot =
      certbotImage === undefined || issuance === undefined
        ? undefined
        : new docker.Container(
            `${name}-certbot`,
            {
              name: `${name}-certbot`,
              image: certbotImage.imageId,
              entrypoints: ["/bin/sh", CERTBOT_SCRIPT_PATH],
              command: ["loop"],
              uploads: [{ file: CERTBOT_SCRIPT_PATH, content: certbotScript }],
              volumes: certbotMounts(),
              labels: [roleLabel(CONTAINER_ROLES.certbot)],
              restart: "unless-stopped",
              securityOpts: ["no-new-privileges:true"],
              stopTimeout: 20,
              destroyGraceSeconds: 30,
              ...LOG_OPTIONS,
            },
            { ...onDroplet, dependsOn: [issuance], deleteBeforeReplace: true },
          );

    this.certbotImage = certbotImage as TlsOnly<LoadBalancer, docker.RemoteImage>;
    this.placeholder = placeholder as TlsOnly<LoadBalancer, command.remote.Command>;
    this.issuance = issuance as TlsOnly<LoadBalancer, command.remote.Command>;
    this.certbot = certbot as TlsOnly<LoadBalancer, docker.Container>;
    this.ready = issuance ?? this.nginx;

    this.registerOutputs(
      certbot && issuance
        ? { nginxContainer: this.nginx.name, certbotContainer: certbot.name, ready: issuance.id }
        : { nginxContainer: this.nginx.name, ready: this.nginx.id },
    );
  }
}
