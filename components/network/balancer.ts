// The load balancer in front of the app droplets (scale.droplets > 1), as data: what it
// forwards, how it decides a droplet takes traffic, and how long a rolling deploy waits for it
// to notice a drained or restored droplet.
import { LOAD_BALANCER_HEALTH_PATH } from "../common/names";
import { BALANCED_PORT } from "./rules";

/**
 * Checked every 5 s; two failures take a droplet out, two successes put it back. The path is
 * nginx's on the droplet: the api's health through nginx, 503 while the droplet is drained.
 */
export const LOAD_BALANCER_HEALTHCHECK = {
  protocol: "http",
  port: Number(BALANCED_PORT),
  path: LOAD_BALANCER_HEALTH_PATH,
  checkIntervalSeconds: 5,
  responseTimeoutSeconds: 3,
  unhealthyThreshold: 2,
  healthyThreshold: 2,
} as const;

/** The health check's timing, as DigitalOcean's load balancer takes it. */
export interface HealthCheckTiming {
  checkIntervalSeconds: number;
  responseTimeoutSeconds: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
}

/** Extra time beyond the thresholds: a check may have started just before the change. */
const SETTLE_SECONDS = 5;

/** How long after a drain the load balancer has surely stopped sending new requests to the droplet. */
export function drainWaitSeconds(check: HealthCheckTiming = LOAD_BALANCER_HEALTHCHECK): number {
  return check.unhealthyThreshold * check.checkIntervalSeconds + check.responseTimeoutSeconds + SETTLE_SECONDS;
}

/** How long after nginx answers healthy again the load balancer has surely put the droplet back. */
export function undrainWaitSeconds(check: HealthCheckTiming = LOAD_BALANCER_HEALTHCHECK): number {
  return check.healthyThreshold * check.checkIntervalSeconds + SETTLE_SECONDS;
}

/**
 * How long the undrain waits for nginx to answer the health check again. The replicas are
 * healthy by then and nginx needs only its resolver's next answer, so this is generous; past
 * it the deploy fails with the droplet still out of the load balancer rather than hanging.
 */
export const UNDRAIN_TIMEOUT_SECONDS = 300;

export interface ForwardingRule<Name> {
  entryProtocol: "http" | "https";
  entryPort: number;
  targetProtocol: "http";
  targetPort: number;
  certificateName?: Name;
}

/**
 * HTTPS ends at the load balancer with DigitalOcean's Let's Encrypt certificate and reaches
 * nginx as HTTP on port 80 inside the VPC; plain HTTP is redirected by the load balancer
 * (redirectHttpToHttps), so the second rule only exists for that redirect.
 */
export function loadBalancerForwardingRules<Name>(certificateName: Name): ForwardingRule<Name>[] {
  const target = { targetProtocol: "http" as const, targetPort: Number(BALANCED_PORT) };
  return [
    { entryProtocol: "https", entryPort: 443, ...target, certificateName },
    { entryProtocol: "http", entryPort: 80, ...target },
  ];
}

/** The hosts the certificate covers: every host nginx serves, each once. */
export function certificateDomains(hosts: string[]): string[] {
  if (hosts.length === 0) throw new Error("the load balancer's certificate needs at least one host");
  return [...new Set(hosts)];
}
