// Per-client rate limiting (dropstack:proxy.rateLimit and .burst, components/proxy/settings.ts).

const RATE_ZONE = "dropstack_per_ip";

/** The http block's zone: `rateLimit` requests per second per client address; excess answers 429. */
export function rateLimitZone(rateLimit: number): string[] {
  return [`limit_req_zone $binary_remote_addr zone=${RATE_ZONE}:10m rate=${rateLimit}r/s;`, "limit_req_status 429;"];
}

/**
 * The line that applies the zone in a location, allowing `burst` requests above the rate at once.
 * A burst of 0 is the rate alone: nginx refuses `burst=0` ("invalid burst value"), and without a
 * burst there is no queue for `nodelay` to skip.
 */
export function rateLimited(burst: number): string {
  return burst === 0 ? `limit_req zone=${RATE_ZONE};` : `limit_req zone=${RATE_ZONE} burst=${burst} nodelay;`;
}
