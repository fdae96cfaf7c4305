// Where the proxy's files live inside its containers: nginx reads them, certbot writes them,
// the Proxy component bind-mounts the droplet's folders (components/proxy/commands.ts) there.

/**
 * Where nginx reads its config in the container. Its own directory, so the droplet can
 * bind-mount a directory there: a single-file bind mount keeps showing the old file once
 * the host file is replaced by a rename, and the entrypoint would never see the change.
 */
export const NGINX_CONF_PATH = "/etc/dropstack/nginx/nginx.conf";
/** Certificates nginx serves: CERT_DIR/<host>/fullchain.pem and privkey.pem. Shared volume. */
export const CERT_DIR = "/etc/dropstack/certs";
/** HTTP-01 challenge files: certbot writes, nginx serves. Shared volume. */
export const ACME_WEBROOT = "/var/www/acme";
/** certbot's own state (account, lineages, renewal config). certbot container only. */
export const LETSENCRYPT_DIR = "/etc/letsencrypt";
/** Load-balancer mode: the directory of the drain flag in the nginx container, bind-mounted read-only. */
export const DRAIN_DIR = "/etc/dropstack/drain";
/**
 * Load-balancer mode: while this file exists, nginx answers the load balancer's health check
 * with 503, so the load balancer stops sending the droplet new requests (the drain command sets it).
 */
export const DRAIN_FLAG_PATH = `${DRAIN_DIR}/draining`;

// Absolute paths nginx and sh read verbatim: no whitespace, quotes, `;`, braces or `$` (variables).
const CONF_PATH = /^\/[A-Za-z0-9._@+/-]*$/;

/** True for an absolute path that can stand unquoted in nginx.conf and in a shell word. */
export function isConfPath(path: string): boolean {
  return CONF_PATH.test(path);
}

export interface CertificatePaths {
  /** PEM chain, leaf first (certbot's fullchain.pem). */
  certificate: string;
  key: string;
}

/** Where the certbot script installs (and nginx reads) the certificate of `host`. */
export function certificatePathsFor(host: string, certDir: string = CERT_DIR): CertificatePaths {
  return { certificate: `${certDir}/${host}/fullchain.pem`, key: `${certDir}/${host}/privkey.pem` };
}
