// How nginx reaches the api replicas, and Grafana for the monitoring host.
//
// Through a variable in proxy_pass and Docker's DNS instead of an `upstream` block: the
// replicas are containers that come and go under one network alias during a rollout. With a
// variable, nginx re-resolves the alias every `valid` seconds and spreads requests over all
// the addresses it gets; a replica that refuses the connection (draining, or not listening
// yet) is skipped by proxy_next_upstream. An upstream block would resolve once at startup
// (nginx < 1.27.3 has no `resolve` parameter), so the same rendering could not run on
// Debian's nginx 1.22 and on the official image.
import { isIP } from "node:net";

/** Where Docker's embedded DNS answers inside containers on a user-defined network. */
export const DOCKER_DNS_RESOLVER = "127.0.0.11";
/** How long nginx trusts an answer for the app alias before asking Docker's DNS again. */
export const RESOLVER_VALID_SECONDS = 5;
/**
 * The rollout contract this config relies on: a new app replica must have been in the
 * network alias this long before the old one gets SIGTERM. nginx keeps a resolved answer
 * for `valid` seconds, counted in whole seconds (so up to one more); until every worker has
 * re-resolved, the old replica may be the only address it knows, and a draining one refuses.
 * A Docker healthcheck whose first probe comes later than this (interval, and start_interval
 * if set, at least this long) gives it for free with `wait: true` + create-before-replace.
 */
export const MIN_REPLICA_OVERLAP_SECONDS = RESOLVER_VALID_SECONDS + 2;

const UPSTREAM_VARIABLE = "$dropstack_upstream";
// Grafana is one container under its alias: the same per-request resolving lets nginx start,
// and serve the other hosts, while Grafana is not up yet (its host answers 502 meanwhile).
const MONITORING_VARIABLE = "$dropstack_monitoring";
const CONNECTION_UPGRADE_VARIABLE = "$dropstack_connection_upgrade";
const ALIAS = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,252})$/;

/** Upstream timeouts in seconds. */
export interface UpstreamTimeouts {
  connect: number;
  send: number;
  read: number;
}
export const DEFAULT_UPSTREAM_TIMEOUTS: UpstreamTimeouts = { connect: 5, send: 60, read: 60 };

export function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
}

/** True for a Docker network alias nginx can resolve. */
export function isAlias(value: string): boolean {
  return ALIAS.test(value);
}

/** `ip`, `ip:port` or `[ipv6]:port`: what nginx's `resolver` takes. */
export function isResolverAddress(value: string): boolean {
  if (isIP(value) !== 0) return true;
  const bracketed = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(value);
  if (bracketed) return isIP(bracketed[1]) === 6 && isPort(Number(bracketed[2]));
  const withPort = /^([0-9.]+):(\d+)$/.exec(value);
  return withPort !== null && isIP(withPort[1]) === 4 && isPort(Number(withPort[2]));
}

/** The http block's resolver for the replicas' alias. */
export function resolverSettings(resolver: string, validSeconds: number): string[] {
  return [
    "# The app's alias is re-resolved every few seconds, so replicas that join or leave",
    "# during a rollout are picked up without a reload.",
    `resolver ${resolver} valid=${validSeconds}s ipv6=off;`,
    "resolver_timeout 5s;",
  ];
}

/** The http block's retries on the next address and the upstream timeouts. */
export function retrySettings(timeouts: UpstreamTimeouts): string[] {
  return [
    "# A replica that refuses or drops the connection is skipped and the request goes to the",
    "# next address. nginx never resends a POST/PATCH/LOCK once the app may have read it.",
    "proxy_next_upstream error timeout http_502 http_503 http_504;",
    "proxy_next_upstream_tries 3;",
    "proxy_next_upstream_timeout 10s;",
    `proxy_connect_timeout ${timeouts.connect}s;`,
    `proxy_send_timeout ${timeouts.send}s;`,
    `proxy_read_timeout ${timeouts.read}s;`,
  ];
}

/** The server's line that names the replicas: their alias and port, resolved per request. */
export function upstreamTarget(alias: string, port: number): string {
  return `set ${UPSTREAM_VARIABLE} ${alias}:${port};`;
}

/** The monitoring server's line that names Grafana: its alias and port, resolved per request. */
export function monitoringTarget(alias: string, port: number): string {
  return `set ${MONITORING_VARIABLE} ${alias}:${port};`;
}

/** A location's lines that pass the request to the replicas. */
export function proxyToApp(): string[] {
  return proxyThrough(UPSTREAM_VARIABLE);
}

/** A location's lines that pass the request to Grafana. */
export function proxyToMonitoring(): string[] {
  return proxyThrough(MONITORING_VARIABLE);
}

/**
 * The http block's map behind webSocketUpgrade: `Connection: upgrade` to the upstream when the
 * client asks for an upgrade, and `close` (what nginx sends without the map) when it does not.
 */
export function connectionUpgradeMap(): string[] {
  return [`map $http_upgrade ${CONNECTION_UPGRADE_VARIABLE} {`, "    default upgrade;", "    '' close;", "}"];
}

/**
 * A location's extra lines that pass a WebSocket handshake on: Upgrade and Connection are
 * hop-by-hop headers, which nginx drops unless set again (connectionUpgradeMap supplies the value).
 */
export function webSocketUpgrade(): string[] {
  return ["proxy_set_header Upgrade $http_upgrade;", `proxy_set_header Connection ${CONNECTION_UPGRADE_VARIABLE};`];
}

function proxyThrough(variable: string): string[] {
  return [
    `proxy_pass http://${variable};`,
    "proxy_http_version 1.1;",
    "proxy_set_header Host $host;",
    "proxy_set_header X-Real-IP $remote_addr;",
    // nginx is the first hop, so a client-sent X-Forwarded-For is dropped, not extended:
    // the app can take the header as the client address without being spoofed.
    "proxy_set_header X-Forwarded-For $remote_addr;",
    "proxy_set_header X-Forwarded-Proto $scheme;",
    "proxy_set_header X-Forwarded-Host $host;",
  ];
}
