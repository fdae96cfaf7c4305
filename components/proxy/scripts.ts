// The proxy's container entrypoints. Each body lives beside this file as a POSIX sh script
// that reads its parameters from the environment (so it can be shellchecked and run on its
// own); rendering pins the parameters by assigning them at the top (renderScriptFile).
import { join } from "node:path";
import { EMAIL } from "../common/patterns";
import { renderScriptFile } from "../common/shell";
import { isHostname } from "../config/hostname";
import { ACME_WEBROOT, CERT_DIR, LETSENCRYPT_DIR, NGINX_CONF_PATH, isConfPath } from "./paths";

function renderScript(file: string, header: string[], parameters: [string, string | number][]): string {
  return renderScriptFile(join(__dirname, file), { shebang: "#!/bin/sh", header, source: `components/proxy/${file}`, parameters });
}

function checkDomains(domains: string[], problems: string[]): void {
  if (!Array.isArray(domains) || domains.length === 0) problems.push("domains: expected at least one hostname");
  else {
    for (const domain of domains)
      if (!isHostname(domain)) problems.push(`domains: expected fully qualified hostnames, got ${JSON.stringify(domain)}`);
    if (new Set(domains).size !== domains.length) problems.push("domains: listed twice");
  }
}

function checkSeconds(field: string, value: number | undefined, problems: string[]): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1))
    problems.push(`${field}: expected a whole number of seconds, at least 1, got ${JSON.stringify(value)}`);
}

function checkPath(field: string, value: string | undefined, problems: string[]): void {
  if (value !== undefined && !isConfPath(value))
    problems.push(`${field}: expected an absolute path of letters, digits and ._@+-/, got ${JSON.stringify(value)}`);
}

export interface CertbotScriptInput {
  /** One certificate per domain (hosts.api, hosts.app). */
  domains: string[];
  /** ACME account email (`tls.email`); without it the account has no contact. */
  email?: string;
  /** Use Let's Encrypt's staging CA (`tls.staging`): untrusted certificates, generous rate limits. */
  staging: boolean;
  /** Default ACME_WEBROOT. */
  webroot?: string;
  /** Default CERT_DIR. */
  certDir?: string;
  /** certbot's --config-dir. Default LETSENCRYPT_DIR. */
  configDir?: string;
  /** Pause between renewal checks once every certificate is in place. Default 43200 (12 h). */
  renewIntervalSeconds?: number;
  /** First pause after a failed attempt; doubles up to an hour. Default 300. */
  retryIntervalSeconds?: number;
}

/**
 * The certbot container's entrypoint (`/bin/sh <file>` in the certbot/certbot image):
 * placeholder certificates first, then issuance and renewal for ever. `<file> once` makes a
 * single pass and `<file> placeholder` only writes missing placeholders.
 */
export function renderCertbotScript(input: CertbotScriptInput): string {
  const problems: string[] = [];
  checkDomains(input.domains, problems);
  if (input.email !== undefined && input.email !== "" && !EMAIL.test(input.email))
    problems.push(`email: expected an email address, got ${JSON.stringify(input.email)}`);
  checkPath("webroot", input.webroot, problems);
  checkPath("certDir", input.certDir, problems);
  checkPath("configDir", input.configDir, problems);
  checkSeconds("renewIntervalSeconds", input.renewIntervalSeconds, problems);
  checkSeconds("retryIntervalSeconds", input.retryIntervalSeconds, problems);
  if (problems.length > 0) throw new Error(`invalid certbot script input: ${problems.join("; ")}`);
  return renderScript(
    "certbot.sh",
    [`Obtains and renews Let's Encrypt${input.staging ? " (staging CA)" : ""} certificates for ${input.domains.join(", ")}.`],
    [
      ["DOMAINS", input.domains.join(" ")],
      ["ACME_EMAIL", input.email ?? ""],
      ["ACME_STAGING", input.staging ? 1 : 0],
      ["WEBROOT", input.webroot ?? ACME_WEBROOT],
      ["CERT_DIR", input.certDir ?? CERT_DIR],
      ["CERTBOT_CONFIG_DIR", input.configDir ?? LETSENCRYPT_DIR],
      ["RENEW_INTERVAL", input.renewIntervalSeconds ?? 43200],
      ["RETRY_INTERVAL", input.retryIntervalSeconds ?? 300],
    ],
  );
}

/** True when a rendered certbot script asks Let's Encrypt's staging CA (tls.staging): untrusted certificates. */
export function certbotUsesStagingCa(script: string): boolean {
  return /^ACME_STAGING='1'$/m.test(script);
}

export interface NginxEntrypointInput {
  /** The hosts whose certificates nginx needs before it can start. */
  domains: string[];
  /** Default NGINX_CONF_PATH. */
  confPath?: string;
  /** Default CERT_DIR. */
  certDir?: string;
  /** How often to look for changed certificates or config. Default 60. */
  checkIntervalSeconds?: number;
  /** How long to wait for the first certificates before giving up (Docker restarts the container). Default 300. */
  certWaitSeconds?: number;
}

/**
 * The nginx container's entrypoint (`/bin/sh <file>` in the nginx image): waits for a
 * certificate per domain, runs nginx in the foreground, and reloads it (after `nginx -t`)
 * whenever a certificate file or the config file changes. SIGTERM or SIGQUIT stop nginx
 * gracefully.
 */
export function renderNginxEntrypoint(input: NginxEntrypointInput): string {
  const problems: string[] = [];
  checkDomains(input.domains, problems);
  checkPath("confPath", input.confPath, problems);
  checkPath("certDir", input.certDir, problems);
  checkSeconds("checkIntervalSeconds", input.checkIntervalSeconds, problems);
  checkSeconds("certWaitSeconds", input.certWaitSeconds, problems);
  if (problems.length > 0) throw new Error(`invalid nginx entrypoint input: ${problems.join("; ")}`);
  return renderScript(
    "nginx-entrypoint.sh",
    [`Runs nginx for ${input.domains.join(", ")} and reloads it when their certificates change.`],
    [
      ["DOMAINS", input.domains.join(" ")],
      ["NGINX_CONF", input.confPath ?? NGINX_CONF_PATH],
      ["CERT_DIR", input.certDir ?? CERT_DIR],
      ["CERT_CHECK_INTERVAL", input.checkIntervalSeconds ?? 60],
      ["CERT_WAIT", input.certWaitSeconds ?? 300],
    ],
  );
}

export interface LoadBalancerNginxEntrypointInput {
  /** Default NGINX_CONF_PATH. */
  confPath?: string;
  /** How often to look for a changed config. Default 60. */
  checkIntervalSeconds?: number;
}

/**
 * The nginx container's entrypoint in load-balancer mode (`/bin/sh <file>` in the nginx image):
 * nginx serves plain HTTP behind the load balancer, so it starts at once, with no certificate to
 * wait for, and reloads (after `nginx -t`) whenever the config file changes. SIGTERM or SIGQUIT
 * stop nginx gracefully.
 */
export function renderLoadBalancerNginxEntrypoint(input: LoadBalancerNginxEntrypointInput = {}): string {
  const problems: string[] = [];
  checkPath("confPath", input.confPath, problems);
  checkSeconds("checkIntervalSeconds", input.checkIntervalSeconds, problems);
  if (problems.length > 0) throw new Error(`invalid nginx entrypoint input: ${problems.join("; ")}`);
  return renderScript(
    "nginx-lb-entrypoint.sh",
    ["Runs nginx behind the load balancer and reloads it when its config changes."],
    [
      ["NGINX_CONF", input.confPath ?? NGINX_CONF_PATH],
      ["CONF_CHECK_INTERVAL", input.checkIntervalSeconds ?? 60],
    ],
  );
}
