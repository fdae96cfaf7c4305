// Proxy policies: the nginx.conf dropstack ships allows nothing older than TLS 1.2, sends no
// Content-Security-Policy that lets inline scripts run and, in production, sends HSTS; the nginx
// and certbot images cannot change under the same name.
//
// The config is read where the Proxy component hands it to the droplet: the stdin of the
// remote Command that installs it (components/proxy/commands.ts marks that Command's first
// line), or a docker upload of a file named nginx.conf. Both are plain config text that is
// known during preview. staging.json disables nginx-hsts-enabled: staging renders without
// HSTS on purpose, since with includeSubDomains a year-long pin on the staging zone would bind
// every other service under it too (and browsers ignore the header anyway while staging's
// ACME staging certificates are untrusted, RFC 6797 §8.1). It disables
// nginx-csp-no-unsafe-inline-scripts too, so that staging can try a CSP out before production.
import * as docker from "@pulumi/docker";
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { stdinInstallPath } from "../components/proxy/commands";
import {
  allowsInlineScripts,
  contentSecurityPoliciesIn,
  hasHsts,
  isBelowTls12,
  listensWithTls,
  tlsProtocolsIn,
} from "../components/proxy/parse";
import { certbotUsesStagingCa } from "../components/proxy/scripts";
import { CONTAINER_ROLES, ROLE_LABEL } from "../components/common/names";
import { isPinnedImage, parseImageReference } from "./cache";
import { stackConfig } from "./stack-config";
import { asList, asProps, known, label } from "./util";

/** The proxy's containers by their role label (components/common/names.ts). */
const PROXY_ROLES = { nginx: CONTAINER_ROLES.proxy, certbot: CONTAINER_ROLES.certbot } as const;
/**
 * The proxy's roles by the repository of the image each runs. A Map, not an object literal:
 * an object answers for the properties it inherits too, and `constructor` is a valid image name.
 */
const PROXY_REPOSITORIES = new Map<string, string>([
  ["nginx", PROXY_ROLES.nginx],
  ["certbot/certbot", PROXY_ROLES.certbot],
]);

const COMMAND = "command:remote:Command";
const CONTAINER = "docker:index/container:Container";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const CONF_SUFFIX = "/nginx.conf";
const RENDERER = "components/proxy/render.ts";

/** The nginx.conf texts a resource carries to the droplet: install-Command stdin, or container uploads. */
export function nginxConfsOf(type: string, props: Record<string, unknown>): string[] {
  if (type === COMMAND) {
    const stdin = known(() => props.stdin);
    const target = stdinInstallPath(known(() => props.create));
    return typeof stdin === "string" && target?.endsWith(CONF_SUFFIX) ? [stdin] : [];
  }
  if (type === CONTAINER) {
    return asList(known(() => props.uploads))
      .map(asProps)
      .filter((u) => typeof u.file === "string" && u.file.endsWith(CONF_SUFFIX) && typeof u.content === "string")
      .map((u) => u.content as string);
  }
  return [];
}

export const nginxTlsMinimum: ResourceValidationPolicy = {
  name: "nginx-tls-minimum-1.2",
  description:
    "The nginx.conf shipped to the droplet names its TLS protocols and allows none older than TLS 1.2 (one that listens with TLS nowhere, behind a load balancer that terminates it, need not name them).",
  validateResource: (args, reportViolation) => {
    for (const conf of nginxConfsOf(args.type, args.props)) {
      const protocols = tlsProtocolsIn(conf);
      if (protocols.length === 0) {
        // Plain HTTP only (behind the load balancer, which holds the certificate): no TLS to pin.
        if (!listensWithTls(conf)) continue;
        reportViolation(
          `the nginx.conf of ${label(args)} sets no ssl_protocols, so nginx uses its compiled-in default (TLSv1 and TLSv1.1 before nginx 1.23.4): render \`ssl_protocols TLSv1.2 TLSv1.3;\` (${RENDERER})`,
        );
        continue;
      }
      const old = protocols.filter(isBelowTls12);
      if (old.length > 0) {
        reportViolation(
          `the nginx.conf of ${label(args)} allows ${old.join(", ")}: ssl_protocols must list only TLSv1.2 and TLSv1.3 (${RENDERER})`,
        );
      }
    }
  },
};

export const nginxHstsEnabled: ResourceValidationPolicy = {
  name: "nginx-hsts-enabled",
  description:
    "The nginx.conf shipped to the droplet sends Strict-Transport-Security (production; staging disables this policy because it renders without HSTS).",
  validateResource: (args, reportViolation) => {
    for (const conf of nginxConfsOf(args.type, args.props)) {
      if (!hasHsts(conf)) {
        reportViolation(
          `the nginx.conf of ${label(args)} sends no Strict-Transport-Security header: production renders it with hsts on (ProxyArgs.hsts = config.production in index.ts); do not turn it off`,
        );
      }
    }
  },
};

const UNSAFE_INLINE_OVERRIDE = "dropstack:proxy.allowUnsafeInlineScripts";

/** Whether the stack accepts inline scripts on purpose: `allowUnsafeInlineScripts: true` in dropstack:proxy. */
function unsafeInlineScriptsAccepted(): boolean {
  // Until the engine sends the config (older CLIs never do) it is empty: the override is off.
  try {
    const proxy = JSON.parse(stackConfig().config["dropstack:proxy"] ?? "{}") as { allowUnsafeInlineScripts?: unknown } | null;
    return proxy?.allowUnsafeInlineScripts === true;
  } catch {
    // Not JSON: the config checks report that, and the override stays off.
    return false;
  }
}

export const nginxCspNoUnsafeInlineScripts: ResourceValidationPolicy = {
  name: "nginx-csp-no-unsafe-inline-scripts",
  description: `The nginx.conf shipped to the droplet sends no Content-Security-Policy whose script directives allow 'unsafe-inline' without a nonce, a hash or 'strict-dynamic' (off with ${UNSAFE_INLINE_OVERRIDE}: true; disabled in staging).`,
  validateResource: (args, reportViolation) => {
    if (unsafeInlineScriptsAccepted()) return;
    for (const conf of nginxConfsOf(args.type, args.props)) {
      // Every host's server repeats the same header: one message per directive.
      const offending = new Set(contentSecurityPoliciesIn(conf).map(allowsInlineScripts));
      for (const directive of offending) {
        if (directive === undefined) continue;
        reportViolation(
          `the nginx.conf of ${label(args)} lets inline scripts run (${directive}): remove 'unsafe-inline' from dropstack:proxy.csp (use nonces or hashes), or set ${UNSAFE_INLINE_OVERRIDE}: true to accept the risk`,
        );
      }
    }
  },
};

/** The role of a proxy container from its `dropstack.role` label, or of an image from its repository. */
function roleOfContainer(resource: PolicyResource): string | undefined {
  const role = asList(known(() => resource.props.labels))
    .map(asProps)
    .find((l) => l.label === ROLE_LABEL)?.value;
  return Object.values(PROXY_ROLES).find((r) => r === role);
}

function roleOfImage(reference: unknown): string | undefined {
  const repository = typeof reference === "string" ? parseImageReference(reference)?.repository : undefined;
  return repository === undefined ? undefined : PROXY_REPOSITORIES.get(repository);
}

function pinHint(role: string): string {
  const constant = role === PROXY_ROLES.nginx ? "NGINX_IMAGE" : "CERTBOT_IMAGE";
  const example = role === PROXY_ROLES.nginx ? "nginx:1.28.0-alpine" : "certbot/certbot:v3.0.1";
  return `set ${constant} in components/proxy/commands.ts to an exact release like ${example}, or add @sha256:<digest>`;
}

export const proxyImagesPinned: StackValidationPolicy = {
  name: "proxy-images-pinned",
  description:
    "The nginx and certbot images are pinned to an exact version tag or an @sha256: digest, so no deploy changes the edge by surprise.",
  validateStack: (args, reportViolation) => {
    const check = (reference: string, role: string, urn: string) => {
      if (!isPinnedImage(reference)) {
        reportViolation(
          `the ${role === PROXY_ROLES.nginx ? "nginx" : "certbot"} image "${reference}" can change under the same name: ${pinHint(role)}`,
          urn,
        );
      }
    };
    for (const resource of args.resources) {
      if (resource.type === REMOTE_IMAGE) {
        const name = known(() => resource.asType(docker.RemoteImage)?.name);
        const role = roleOfImage(name);
        if (role && typeof name === "string") check(name, role, resource.urn);
        continue;
      }
      if (resource.type !== CONTAINER) continue;
      const ownImage = known(() => resource.props.image);
      const ownReference = typeof ownImage === "string" && parseImageReference(ownImage) ? ownImage : undefined;
      const role = roleOfContainer(resource) ?? roleOfImage(ownReference);
      if (!role) continue;
      if (ownReference !== undefined) {
        check(ownReference, role, resource.urn);
        continue;
      }
      // asType answers only for a RemoteImage: other dependencies give no name.
      const pulled = resource.dependencies
        .map((d) => known(() => d.asType(docker.RemoteImage)?.name))
        .filter((n): n is string => typeof n === "string");
      // An nginx or certbot RemoteImage is checked above, where the message points at it.
      if (pulled.some((n) => roleOfImage(n) === role)) continue;
      if (pulled.length > 0) check(pulled[0], role, resource.urn);
      else
        reportViolation(
          `cannot tell which image the ${role} container ${label(resource)} runs: pull it with a docker.RemoteImage (${pinHint(role)})`,
          resource.urn,
        );
    }
  },
};

const isStagingCaScript = (text: unknown) => typeof text === "string" && certbotUsesStagingCa(text);

/** Whether a resource carries a certbot script that asks the staging CA: an issuing Command's stdin, or a container's upload. */
function carriesStagingCaScript(type: string, props: Record<string, unknown>): boolean {
  if (type === COMMAND) return isStagingCaScript(known(() => props.stdin));
  if (type === CONTAINER) return asList(known(() => props.uploads)).some((u) => isStagingCaScript(asProps(u).content));
  return false;
}

export const proxyTrustedCertificates: ResourceValidationPolicy = {
  name: "proxy-trusted-certificates",
  description:
    "Production certificates come from Let's Encrypt's real CA: tls.staging ships untrusted certificates, and the smoke test then has to ignore them.",
  validateResource: (args, reportViolation) => {
    if (carriesStagingCaScript(args.type, args.props)) {
      reportViolation(
        `${label(args)} issues certificates from Let's Encrypt's staging CA, which browsers do not trust: set dropstack:tls.staging to false`,
      );
    }
  },
};

export const proxyPolicies = [
  nginxTlsMinimum,
  nginxHstsEnabled,
  nginxCspNoUnsafeInlineScripts,
  proxyImagesPinned,
  proxyTrustedCertificates,
];
