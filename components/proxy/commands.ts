// The host side of the Proxy component, as pure functions: where its files live on the
// droplet, the shell the remote Commands run over SSH (as the deploy user, who is in the
// docker group and has sudo), and the nginx container's healthcheck.
//
// Order on every deploy (components/proxy/index.ts wires it with dependsOn):
//   prepare dirs → placeholder certificates → nginx.conf (checked by the image's own
//   `nginx -t`) → nginx container (healthy) → certificate issuance → certbot container.
// The placeholder step runs before nginx because nginx refuses to start on a config whose
// certificate files are missing; issuance runs after it because Let's Encrypt validates
// over HTTP-01, which nginx serves from the shared webroot.
//
// Behind a load balancer (LOAD_BALANCER_HOST_PATHS) there is no certificate: prepare dirs →
// nginx.conf → nginx container. The rolling deploy takes each droplet out of the load
// balancer around its rollout with the drain and undrain commands at the end of this file.
import { posix } from "node:path";
import { CONTAINER_ROLES, DATA_DIRS, DEPLOY_USER, LOAD_BALANCER_HEALTH_PATH, ROLE_LABEL } from "../common/names";
import { shellQuote } from "../common/shell";
import { NGINX_PROBE_PORT } from "./nginx-conf";
import { ACME_WEBROOT, CERT_DIR, DRAIN_DIR, DRAIN_FLAG_PATH, LETSENCRYPT_DIR, NGINX_CONF_PATH } from "./paths";

/** Exact release tags (policies/proxy.ts requires them); the version must be one NGINX-VERSIONS.md covers. */
export const NGINX_IMAGE = "nginx:1.28.0-alpine";
/** certbot 3.0.1 on Alpine; the image ships openssl, which certbot.sh's placeholder mode needs. */
export const CERTBOT_IMAGE = "certbot/certbot:v3.0.1";

/** Everything the proxy keeps on the droplet, on the data volume so a rebuilt droplet keeps its certificates. */
export const PROXY_HOST_DIR = DATA_DIRS.proxy;

export interface ProxyHostPaths {
  /** Bind-mounted (read-only) on the directory of NGINX_CONF_PATH: a directory, so a renamed-in file is seen. */
  confDir: string;
  /** CERT_DIR: certbot writes, nginx reads. */
  certs: string;
  /** ACME_WEBROOT: certbot writes challenges, nginx serves them. */
  acme: string;
  /** LETSENCRYPT_DIR: certbot's account and lineages, so renewals survive a new container. */
  letsencrypt: string;
  /**
   * Load-balancer mode only (LOAD_BALANCER_HOST_PATHS): the drain flag's directory, mounted
   * read-only at DRAIN_DIR. With it nginx mounts this instead of the certificates and the webroot.
   */
  drain?: string;
}

export const PROXY_HOST_PATHS: ProxyHostPaths = {
  confDir: `${PROXY_HOST_DIR}/conf`,
  certs: `${PROXY_HOST_DIR}/certs`,
  acme: `${PROXY_HOST_DIR}/acme`,
  letsencrypt: `${PROXY_HOST_DIR}/letsencrypt`,
};

/** The droplet's proxy paths in load-balancer mode: nginx.conf as always, and the drain flag's directory. */
export const LOAD_BALANCER_HOST_PATHS: ProxyHostPaths = { ...PROXY_HOST_PATHS, drain: `${PROXY_HOST_DIR}/drain` };

/** The drain flag on the droplet (nginx sees it at DRAIN_FLAG_PATH): renderDrainCommand sets it, renderUndrainCommand removes it. */
export const DRAIN_FLAG_HOST_PATH = `${LOAD_BALANCER_HOST_PATHS.drain}/${posix.basename(DRAIN_FLAG_PATH)}`;

/** Where nginx.conf is written on the droplet; the container sees it at NGINX_CONF_PATH. */
export function nginxConfHostPath(paths: ProxyHostPaths = PROXY_HOST_PATHS): string {
  return `${paths.confDir}/${posix.basename(NGINX_CONF_PATH)}`;
}

/**
 * A file in the ACME webroot that the nginx healthcheck fetches over port 80. It proves what
 * issuance needs: nginx is up and serves the challenge directory for the configured hosts.
 */
export const HEALTH_PROBE = { path: "/.well-known/acme-challenge/dropstack-health", content: "ok\n" } as const;

export interface ProxyMount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

/** nginx only reads: its config, the certificates and the challenge files; behind a load balancer, the drain flag's directory instead of the certificates. */
export function nginxMounts(paths: ProxyHostPaths = PROXY_HOST_PATHS): ProxyMount[] {
  const conf = { hostPath: paths.confDir, containerPath: posix.dirname(NGINX_CONF_PATH), readOnly: true };
  const webroot = { hostPath: paths.acme, containerPath: ACME_WEBROOT, readOnly: true };
  // Behind a load balancer the webroot holds only the backup freshness file nginx serves.
  if (paths.drain !== undefined) return [conf, { hostPath: paths.drain, containerPath: DRAIN_DIR, readOnly: true }, webroot];
  return [conf, { hostPath: paths.certs, containerPath: CERT_DIR, readOnly: true }, webroot];
}

/** certbot writes certificates, challenges and its own state. */
export function certbotMounts(paths: ProxyHostPaths = PROXY_HOST_PATHS): ProxyMount[] {
  return [
    { hostPath: paths.certs, containerPath: CERT_DIR, readOnly: false },
    { hostPath: paths.acme, containerPath: ACME_WEBROOT, readOnly: false },
    { hostPath: paths.letsencrypt, containerPath: LETSENCRYPT_DIR, readOnly: false },
  ];
}

function volumeFlags(mounts: ProxyMount[]): string[] {
  return mounts.map((m) => `-v ${shellQuote(`${m.hostPath}:${m.containerPath}${m.readOnly ? ":ro" : ""}`)}`);
}

function header(step: string, purpose: string): string[] {
  return [`# dropstack proxy ${step} (components/proxy/commands.ts): ${purpose}`, "set -eu"];
}

/**
 * Creates the proxy's directories with the owners the containers need (the deploy user
 * writes nginx.conf; root in the certbot container writes the rest; private keys stay
 * root-only) and the healthcheck's probe file. Behind a load balancer: the config's directory
 * and the drain flag's, both the deploy user's (the drain commands run as it), and the webroot
 * the backup freshness check writes its file into. Idempotent.
 */
export function renderPrepareCommand(paths: ProxyHostPaths = PROXY_HOST_PATHS): string {
  const challengeDir = `${paths.acme}${posix.dirname(HEALTH_PROBE.path)}`;
  if (paths.drain !== undefined) {
    return [
      ...header("prepare", "directories for nginx.conf, the drain flag and the backup freshness file"),
      `sudo install -d -m 0755 -o ${DEPLOY_USER} -g ${DEPLOY_USER} ${shellQuote(paths.confDir)} ${shellQuote(paths.drain)}`,
      `sudo install -d -m 0755 ${shellQuote(paths.acme)} ${shellQuote(posix.dirname(challengeDir))} ${shellQuote(challengeDir)}`,
    ].join("\n");
  }
  const probe = `${paths.acme}${HEALTH_PROBE.path}`;
  return [
    ...header("prepare", "directories for nginx.conf, certificates and ACME challenges"),
    `sudo install -d -m 0755 -o ${DEPLOY_USER} -g ${DEPLOY_USER} ${shellQuote(paths.confDir)}`,
    `sudo install -d -m 0700 ${shellQuote(paths.certs)} ${shellQuote(paths.letsencrypt)}`,
    `sudo install -d -m 0755 ${shellQuote(paths.acme)} ${shellQuote(posix.dirname(challengeDir))} ${shellQuote(challengeDir)}`,
    `printf '%s' ${shellQuote(HEALTH_PROBE.content)} | sudo tee ${shellQuote(probe)} >/dev/null`,
    `sudo chmod 0644 ${shellQuote(probe)}`,
  ].join("\n");
}

/** The first line of renderNginxConfCommand; tools/check/emit.ts and policies/proxy.ts find the config by it. */
export const INSTALLS_STDIN_MARKER = "# dropstack: installs stdin as ";

/** The path a Command installs its stdin at, from the marker line; undefined for any other command. */
export function stdinInstallPath(create: unknown): string | undefined {
  if (typeof create !== "string") return undefined;
  const first = create.split("\n", 1)[0];
  return first.startsWith(INSTALLS_STDIN_MARKER) ? first.slice(INSTALLS_STDIN_MARKER.length) : undefined;
}

export interface NginxConfCommandInput {
  /** The image that will read the config; its `nginx -t` checks the file before it is installed. */
  image: string;
  paths?: ProxyHostPaths;
}

/**
 * Writes nginx.conf (stdin) into the bind-mounted directory: to a temp file beside it, checked
 * by `nginx -t` of the image that will run it (with the real certificates mounted), then
 * renamed into place, so the running nginx never sees a partial or rejected file. The
 * container's entrypoint notices the new file within a minute and reloads nginx gracefully.
 */
export function renderNginxConfCommand(input: NginxConfCommandInput): string {
  const paths = input.paths ?? PROXY_HOST_PATHS;
  const target = nginxConfHostPath(paths);
  return [
    `${INSTALLS_STDIN_MARKER}${target}`,
    ...header("nginx.conf", "install the rendered config once the image's nginx -t accepts it"),
    `target=${shellQuote(target)}`,
    `tmp=$(mktemp ${shellQuote(`${paths.confDir}/.${posix.basename(target)}.XXXXXX`)})`,
    `trap 'rm -f "$tmp"' EXIT`,
    `cat >"$tmp"`,
    `chmod 0644 "$tmp"`,
    [
      // Root inside (nginx -t creates and chowns its temp paths), but never more than that.
      "if ! docker run --rm --network none --security-opt no-new-privileges",
      `-v "$tmp:${NGINX_CONF_PATH}:ro"`,
      ...volumeFlags(nginxMounts(paths).filter((m) => m.containerPath !== posix.dirname(NGINX_CONF_PATH))),
      `--entrypoint nginx ${shellQuote(input.image)} -t -q -c ${shellQuote(NGINX_CONF_PATH)}; then`,
    ].join(" \\\n  "),
    `  echo "dropstack: nginx in ${input.image} rejects the rendered nginx.conf (above); the running proxy keeps its current config" >&2`,
    "  exit 1",
    "fi",
    `mv -f "$tmp" "$target"`,
    "trap - EXIT",
    `echo "dropstack: installed $target; nginx reloads it within a minute"`,
  ].join("\n");
}

export type CertbotStep = "placeholder" | "issue";

export interface CertbotCommandInput {
  step: CertbotStep;
  image: string;
  domains: string[];
  /**
   * For `issue`: fail the update when Let's Encrypt issues nothing, and wait until nginx
   * serves a certificate that verifies (what the smoke test checks). Otherwise a failure is
   * reported and the update goes on with the placeholder while the certbot container retries.
   */
  requireTrustedCertificate?: boolean;
  /** How long `issue` waits for nginx to serve the new certificate. Default 150 s (its entrypoint looks every 60 s). */
  servedWithinSeconds?: number;
  paths?: ProxyHostPaths;
}

/**
 * Runs the rendered certbot.sh (stdin) once in the certbot image: `placeholder` writes
 * self-signed certificates for hosts that have none, `issue` obtains or renews the real ones
 * (certbot.sh `once`). The script travels on stdin and is saved inside the container first,
 * so nothing the script runs can read it as its own input.
 */
export function renderCertbotCommand(input: CertbotCommandInput): string {
  const paths = input.paths ?? PROXY_HOST_PATHS;
  if (input.domains.length === 0) throw new Error("the certbot command needs at least one domain");
  const mode = input.step === "issue" ? "once" : "placeholder";
  const run = [
    "docker run --rm -i --security-opt no-new-privileges",
    ...volumeFlags(certbotMounts(paths)),
    `--entrypoint /bin/sh ${shellQuote(input.image)}`,
    `-c ${shellQuote(`cat >/tmp/certbot.sh && exec /bin/sh /tmp/certbot.sh ${mode}`)}`,
  ].join(" \\\n  ");
  const hosts = input.domains.join(", ");
  if (input.step === "placeholder") {
    return [...header("placeholder", `self-signed certificates for ${hosts} until Let's Encrypt issues real ones`), run].join("\n");
  }

  const strict = input.requireTrustedCertificate === true;
  const within = input.servedWithinSeconds ?? 150;
  if (!Number.isInteger(within) || within < 1) throw new Error(`servedWithinSeconds must be a whole number of seconds, got ${within}`);
  const advice = `check that the A/AAAA records of ${hosts} point at this droplet and that port 80 is open, then run pulumi up again`;
  const lines = [
    ...header("issue", `Let's Encrypt certificates for ${hosts}`),
    // Two certbot runs on one config dir collide on its lock: pause the renewal loop
    // (replaced later in this update when its settings changed) and start it again after.
    `running=$(docker ps -q --filter ${shellQuote(`label=${ROLE_LABEL}=${CONTAINER_ROLES.certbot}`)})`,
    `# shellcheck disable=SC2086 # one word per container ID`,
    `if [ -n "$running" ]; then docker stop --time 20 $running >/dev/null; fi`,
    `trap 'if [ -n "$running" ]; then docker start $running >/dev/null || true; fi' EXIT`,
    `status=0`,
    `${run} || status=$?`,
  ];
  if (!strict) {
    lines.push(
      `if [ "$status" -ne 0 ]; then`,
      `  echo "dropstack: WARNING: no certificate from Let's Encrypt yet (certbot exit $status; its log is above). nginx serves the self-signed placeholder and the certbot container keeps retrying: ${advice}." >&2`,
      "fi",
      "exit 0",
    );
    return lines.join("\n");
  }
  lines.push(
    `if [ "$status" -ne 0 ]; then`,
    `  echo "dropstack: Let's Encrypt issued no certificate (certbot exit $status; its log is above), so HTTPS clients would get the self-signed placeholder: ${advice}." >&2`,
    `  exit "$status"`,
    "fi",
    // The entrypoint reloads on its next look; wait until every host verifies as the smoke test will.
    `deadline=$(($(date +%s) + ${within}))`,
    `for host in ${input.domains.map(shellQuote).join(" ")}; do`,
    `  until curl --silent --output /dev/null --max-time 10 --resolve "$host:443:127.0.0.1" "https://$host/"; do`,
    `    if [ "$(date +%s)" -ge "$deadline" ]; then`,
    `      echo "dropstack: nginx still serves no trusted certificate for $host ${within}s after issuance: see docker logs of the nginx container" >&2`,
    "      exit 1",
    "    fi",
    "    sleep 5",
    "  done",
    "done",
    `echo "dropstack: nginx serves trusted certificates for ${hosts}"`,
  );
  return lines.join("\n");
}

/**
 * The nginx container's healthcheck: the probe file over port 80 with a served host name,
 * through busybox wget (the Alpine image's; it honours a Host header). Independent of the
 * app, so nginx turns healthy before the first api replica exists.
 */
export function nginxHealthcheckTest(host: string, port = 80): string[] {
  const authority = port === 80 ? "127.0.0.1" : `127.0.0.1:${port}`;
  return ["CMD", "wget", "-q", "-O", "/dev/null", "--header", `Host: ${host}`, `http://${authority}${HEALTH_PROBE.path}`];
}

/**
 * The nginx container's healthcheck in load-balancer mode: nginx's own answer on its loopback
 * probe port (renderNginxConf's NGINX_PROBE_PORT), over plain HTTP with busybox wget. Independent
 * of the app and of the drain flag, so nginx turns healthy before the first api replica exists
 * and stays healthy while the droplet is drained.
 */
export function loadBalancerHealthcheckTest(port = NGINX_PROBE_PORT): string[] {
  return ["CMD", "wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${port}/`];
}

function checkWholeSeconds(field: string, value: number, least: number): void {
  if (!Number.isInteger(value) || value < least)
    throw new Error(`${field} must be a whole number of seconds, at least ${least}, got ${value}`);
}

/** sh lines that sleep `seconds` in steps of at most 10 s, printing `what` and the time waited after each. */
function sleepWithProgress(seconds: number, what: string): string[] {
  return [
    "waited=0",
    `while [ "$waited" -lt ${seconds} ]; do`,
    `  step=$((${seconds} - waited))`,
    `  if [ "$step" -gt 10 ]; then step=10; fi`,
    `  sleep "$step"`,
    "  waited=$((waited + step))",
    `  echo "dropstack: ${what}: \${waited}s of ${seconds}s"`,
    "done",
  ];
}

export interface DrainCommandInput {
  /**
   * How long to wait once the flag is set: at least what the load balancer's health check takes
   * to mark the droplet down (interval × unhealthy threshold), plus the longest request in flight.
   */
  waitSeconds: number;
  /** Default DRAIN_FLAG_HOST_PATH. */
  flag?: string;
}

/**
 * Takes the droplet out of the load balancer before its replicas are replaced: sets the drain
 * flag, so nginx answers the load balancer's health check (LOAD_BALANCER_HEALTH_PATH) with 503,
 * then waits `waitSeconds` for the load balancer to mark the droplet down. Idempotent.
 */
export function renderDrainCommand(input: DrainCommandInput): string {
  checkWholeSeconds("waitSeconds", input.waitSeconds, 0);
  const flag = input.flag ?? DRAIN_FLAG_HOST_PATH;
  return [
    ...header("drain", "take this droplet out of the load balancer before its replicas are replaced"),
    `flag=${shellQuote(flag)}`,
    `if ! touch "$flag"; then`,
    `  echo "dropstack: cannot set the drain flag $flag, so the load balancer would keep sending requests to replicas about to be replaced" >&2`,
    "  exit 1",
    "fi",
    `echo "dropstack: drain flag $flag set: nginx answers ${LOAD_BALANCER_HEALTH_PATH} with 503; waiting ${input.waitSeconds}s for the load balancer to mark this droplet down"`,
    ...sleepWithProgress(input.waitSeconds, "draining"),
    `echo "dropstack: drained: the load balancer sends this droplet no new requests"`,
  ].join("\n");
}

export interface UndrainCommandInput {
  /** How long to wait once nginx answers 200: at least what the load balancer's health check takes to mark the droplet up (interval × healthy threshold). */
  waitSeconds: number;
  /** How long nginx's health location may take to answer 200 once the flag is gone (the api replicas' health) before the command fails. */
  timeoutSeconds: number;
  /** Default DRAIN_FLAG_HOST_PATH. */
  flag?: string;
  /** Where nginx listens for the load balancer on the droplet. Default 80; tests use a loopback port of their own. */
  port?: number;
}

/**
 * Puts the droplet back into the load balancer after its rollout: removes the drain flag, waits
 * (at most `timeoutSeconds`) until nginx's LOAD_BALANCER_HEALTH_PATH answers 200, asked as the
 * load balancer asks it (by address, a Host nginx serves no site for), then waits `waitSeconds`
 * for the load balancer to mark the droplet up. Fails, naming the last answer, when nginx never
 * answers 200.
 */
export function renderUndrainCommand(input: UndrainCommandInput): string {
  checkWholeSeconds("waitSeconds", input.waitSeconds, 0);
  checkWholeSeconds("timeoutSeconds", input.timeoutSeconds, 1);
  const port = input.port ?? 80;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`port must be from 1 to 65535, got ${port}`);
  const url = `http://127.0.0.1${port === 80 ? "" : `:${port}`}${LOAD_BALANCER_HEALTH_PATH}`;
  return [
    ...header("undrain", "put this droplet back into the load balancer once nginx reports the api healthy"),
    `flag=${shellQuote(input.flag ?? DRAIN_FLAG_HOST_PATH)}`,
    `url=${shellQuote(url)}`,
    `rm -f "$flag"`,
    `echo "dropstack: drain flag $flag removed; waiting up to ${input.timeoutSeconds}s for $url to answer 200"`,
    `deadline=$(($(date +%s) + ${input.timeoutSeconds}))`,
    "while :; do",
    // An IP address is never a host nginx serves: this reaches the default server, as the load balancer's check does.
    `  status=$(curl --silent --output /dev/null --write-out '%{http_code}' --max-time 5 --header 'Host: 127.0.0.1' "$url" || true)`,
    `  if [ "$status" = 200 ]; then break; fi`,
    `  if [ "$(date +%s)" -ge "$deadline" ]; then`,
    // curl's 000: no HTTP answer at all (nginx down, or closed the connection).
    `    if [ "$status" = 000 ]; then answer="no answer"; else answer="HTTP $status"; fi`,
    `    echo "dropstack: $url still gives $answer ${input.timeoutSeconds}s after the drain flag was removed, so the load balancer keeps this droplet out: check the api replicas (docker ps) and the nginx container's log" >&2`,
    "    exit 1",
    "  fi",
    "  sleep 2",
    "done",
    `echo "dropstack: nginx reports the api healthy; waiting ${input.waitSeconds}s for the load balancer to mark this droplet up"`,
    ...sleepWithProgress(input.waitSeconds, "undraining"),
    `echo "dropstack: undrained: the load balancer sends this droplet requests again"`,
  ].join("\n");
}
