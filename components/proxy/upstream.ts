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

// Grafana is one container under its alias: the same per-request resolving lets nginx start,
// and serve the other hosts, while Grafana is not up yet (its host answers 502 meanwhile).
const MONITORING_VARIABLE = "$dropstack_monitoring";
const CONNECTION_UPGRADE_VARIABLE = "$dropstack_connection_upgrade";
const ALIAS = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,252})$/;

/**
 * From this version open-source nginx re-resolves an upstream server's name (`server … resolve`
 * in an upstream block with a shared zone). Only an upstream block keeps idle connections to the
 * app (`keepalive`); older nginx reaches the replicas through a variable, without keepalive.
 */
export const UPSTREAM_RESOLVE_SINCE = "1.27.3";

/** A service nginx proxies to: its Docker network alias and the port it listens on. */
export interface UpstreamService {
  alias: string;
  port: number;
}

/** Idle connections to each service kept open by every worker, and how long one may stay idle. */
export interface UpstreamKeepalive {
  connections: number;
  idleSeconds: number;
}

/**
 * How the replicas are reached: through upstream blocks with `resolve` (nginx ≥
 * UPSTREAM_RESOLVE_SINCE, with keepalive) or through per-request variables (older nginx).
 */
export type UpstreamMode = "group" | "variable";

export function upstreamMode(supportsResolve: boolean): UpstreamMode {
  return supportsResolve ? "group" : "variable";
}

/** The nginx name of a routed service (`api`, `frontend`, `worker:<name>`): an upstream block's name, or a variable's. */
export function upstreamName(service: string): string {
  // The api keeps the variable it always had, so renderings for older nginx do not change.
  return service === "api" ? "dropstack_upstream" : `dropstack_${service.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/**
 * The http block's upstream group of a service, for UpstreamMode "group": the alias re-resolved
 * every `valid` seconds of the resolver, and idle connections kept when `keepalive.connections` > 0.
 */
export function upstreamGroup(service: string, target: UpstreamService, keepalive: UpstreamKeepalive): string[] {
  const name = upstreamName(service);
  return [
    `upstream ${name} {`,
    `    zone ${name} 64k;`,
    // max_fails=0: one slow or refused request must not take the only other replica out of
    // rotation for fail_timeout while one is draining (nginx before 1.27.3, with per-request
    // variables, keeps no such state either); a refused replica is skipped per request instead.
    `    server ${target.alias}:${target.port} resolve max_fails=0;`,
    ...(keepalive.connections > 0 ? [`    keepalive ${keepalive.connections};`, `    keepalive_timeout ${keepalive.idleSeconds}s;`] : []),
    "}",
  ];
}

/** Upstream timeouts in seconds; `webSocketRead` and `webSocketSend` hold for upgraded connections only. */
export interface UpstreamTimeouts {
  connect: number;
  send: number;
  read: number;
  webSocketRead: number;
  webSocketSend: number;
}
export const DEFAULT_UPSTREAM_TIMEOUTS: Readonly<UpstreamTimeouts> = Object.freeze({
  connect: 5,
  send: 60,
  read: 60,
  webSocketRead: 3600,
  webSocketSend: 3600,
});
/**
 * The bounds of each timeout, in seconds. nginx's connect timeout "usually cannot exceed 75
 * seconds" (the kernel's SYN retries end first); an hour bounds a request, a day a WebSocket,
 * beyond which a client reconnects anyway.
 */
export const UPSTREAM_TIMEOUT_BOUNDS: Readonly<Record<keyof UpstreamTimeouts, readonly [number, number]>> = Object.freeze({
  connect: [1, 75],
  send: [1, 3600],
  read: [1, 3600],
  webSocketRead: [1, 86400],
  webSocketSend: [1, 86400],
});
export const DEFAULT_UPSTREAM_KEEPALIVE: Readonly<UpstreamKeepalive> = Object.freeze({ connections: 16, idleSeconds: 2 });
/**
 * Bounds of the keepalive settings. The idle time must stay below the app server's own (uvicorn
 * and Node close idle connections after 5 s, gunicorn after 2 s), or nginx may send a request on a
 * connection the app is closing; the default is gunicorn's.
 */
export const UPSTREAM_KEEPALIVE_BOUNDS: Readonly<Record<keyof UpstreamKeepalive, readonly [number, number]>> = Object.freeze({
  connections: [0, 1024],
  idleSeconds: [1, 300],
});

/** Every problem with timeouts or keepalive settings, as `setting: message`, `setting` like `timeouts.read`. */
export function validateUpstreamTuning(tuning: {
  timeouts?: Partial<Record<string, unknown>>;
  keepalive?: Partial<Record<string, unknown>>;
}): { setting: string; message: string }[] {
  const problems: { setting: string; message: string }[] = [];
  const check = (group: "timeouts" | "keepalive", bounds: Readonly<Record<string, readonly [number, number]>>, values = {}) => {
    for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
      const range = bounds[key];
      if (range === undefined)
        problems.push({ setting: `${group}.${key}`, message: `unknown setting; expected one of ${Object.keys(bounds).join(", ")}` });
      else if (value !== undefined && !(Number.isInteger(value) && (value as number) >= range[0] && (value as number) <= range[1]))
        problems.push({
          setting: `${group}.${key}`,
          message: `must be a whole number from ${range[0]} to ${range[1]}${group === "timeouts" || key === "idleSeconds" ? " (seconds)" : ""}, got ${JSON.stringify(value)}`,
        });
    }
  };
  check("timeouts", UPSTREAM_TIMEOUT_BOUNDS, tuning.timeouts);
  check("keepalive", UPSTREAM_KEEPALIVE_BOUNDS, tuning.keepalive);
  return problems;
}

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

/** The http block's retries on the next address and the upstream timeouts (the WebSocket ones are per location). */
export function retrySettings(timeouts: UpstreamTimeouts): string[] {
  return [
    "# A replica that refuses the connection, does not answer the connect in time (a removed",
    "# replica's address), or answers 502/503/504, is skipped and the request goes to the next",
    "# address. nginx never resends a POST/PATCH/LOCK once the app may have read it, and retries",
    "# stop once the read timeout could have passed, so a slow answer is never asked for twice.",
    "proxy_next_upstream error timeout http_502 http_503 http_504;",
    "proxy_next_upstream_tries 3;",
    `proxy_next_upstream_timeout ${nextUpstreamSeconds(timeouts)}s;`,
    `proxy_connect_timeout ${timeouts.connect}s;`,
    `proxy_send_timeout ${timeouts.send}s;`,
    `proxy_read_timeout ${timeouts.read}s;`,
  ];
}

/**
 * How long after the first try nginx may still pass a request on: 10 s, or the read timeout
 * when shorter. A read timeout comes no sooner than `read` seconds after the try began, when
 * nginx no longer retries (it stops at `>=`), so only connect failures and quick errors are retried.
 */
export function nextUpstreamSeconds(timeouts: Pick<UpstreamTimeouts, "read">): number {
  return Math.min(10, timeouts.read);
}

/** The server's line that names a service for UpstreamMode "variable": its alias and port, resolved per request. */
export function upstreamTarget(service: string, target: UpstreamService): string {
  return `set $${upstreamName(service)} ${target.alias}:${target.port};`;
}

/**
 * The monitoring server's line that names Grafana: its alias and port, resolved per request,
 * or an IPv4 address and port (Grafana published on another droplet's private address), which
 * nginx uses as it is.
 */
export function monitoringTarget(alias: string, port: number): string {
  return `set ${MONITORING_VARIABLE} ${alias}:${port};`;
}

/**
 * The X-Forwarded-Proto nginx sends on: the scheme the request reached nginx with, or `https`
 * behind a load balancer that terminates TLS (every request reached it over HTTPS: it redirects
 * plain HTTP itself), where nginx itself sees plain HTTP only.
 */
export type ForwardedProto = "$scheme" | "https";

/**
 * A location's lines that pass the request to a service. A WebSocket handshake (`webSocket`)
 * passes Upgrade and Connection on: both are hop-by-hop headers, which nginx drops unless set
 * again. Otherwise, in "group" mode, the upstream connection is kept for the next request (an
 * empty Connection header; nginx sends `close` without one).
 */
export function proxyToService(
  service: string,
  mode: UpstreamMode,
  webSocket = false,
  forwardedProto: ForwardedProto = "$scheme",
): string[] {
  const name = upstreamName(service);
  const connection = webSocket
    ? ["proxy_set_header Upgrade $http_upgrade;", 'proxy_set_header Connection "upgrade";']
    : mode === "group"
      ? ['proxy_set_header Connection "";']
      : [];
  return [...proxyThrough(mode === "group" ? `http://${name}` : `http://$${name}`, forwardedProto), ...connection];
}

/** A location's lines that pass the request to Grafana. */
export function proxyToMonitoring(forwardedProto: ForwardedProto = "$scheme"): string[] {
  return proxyThrough(`http://${MONITORING_VARIABLE}`, forwardedProto);
}

/**
 * The http block's map behind webSocketUpgrade: `Connection: upgrade` to the upstream when the
 * client asks for an upgrade, and `close` (what nginx sends without the map) when it does not.
 */
export function connectionUpgradeMap(): string[] {
  return [`map $http_upgrade ${CONNECTION_UPGRADE_VARIABLE} {`, "    default upgrade;", "    '' close;", "}"];
}

/** Grafana's location's extra lines that pass a WebSocket handshake on (connectionUpgradeMap supplies the value). */
export function webSocketUpgrade(): string[] {
  return ["proxy_set_header Upgrade $http_upgrade;", `proxy_set_header Connection ${CONNECTION_UPGRADE_VARIABLE};`];
}

function proxyThrough(target: string, forwardedProto: ForwardedProto): string[] {
  return [
    `proxy_pass ${target};`,
    "proxy_http_version 1.1;",
    "proxy_set_header Host $host;",
    "proxy_set_header X-Real-IP $remote_addr;",
    // nginx is the first hop, so a client-sent X-Forwarded-For is dropped, not extended:
    // the app can take the header as the client address without being spoofed.
    "proxy_set_header X-Forwarded-For $remote_addr;",
    `proxy_set_header X-Forwarded-Proto ${forwardedProto};`,
    "proxy_set_header X-Forwarded-Host $host;",
  ];
}
