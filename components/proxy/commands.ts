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
import { posix } from "node:path";
import { CONTAINER_ROLES, DATA_DIRS, DEPLOY_USER, ROLE_LABEL } from "../common/names";
import { shellQuote } from "../common/shell";
import { ACME_WEBROOT, CERT_DIR, LETSENCRYPT_DIR, NGINX_CONF_PATH } from "./paths";

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
}

export const PROXY_HOST_PATHS: ProxyHostPaths = {
  confDir: `${PROXY_HOST_DIR}/conf`,
  certs: `${PROXY_HOST_DIR}/certs`,
  acme: `${PROXY_HOST_DIR}/acme`,
  letsencrypt: `${PROXY_HOST_DIR}/letsencrypt`,
};

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

/** nginx only reads: its config, the certificates and the challenge files. */
export function nginxMounts(paths: ProxyHostPaths = PROXY_HOST_PATHS): ProxyMount[] {
  return [
    { hostPath: paths.confDir, containerPath: posix.dirname(NGINX_CONF_PATH), readOnly: true },
    { hostPath: paths.certs, containerPath: CERT_DIR, readOnly: true },
    { hostPath: paths.acme, containerPath: ACME_WEBROOT, readOnly: true },
  ];
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
 * root-only) and the healthcheck's probe file. Idempotent.
 */
export function renderPrepareCommand(paths: ProxyHostPaths = PROXY_HOST_PATHS): string {
  const challengeDir = `${paths.acme}${posix.dirname(HEALTH_PROBE.path)}`;
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
