// Grafana Alloy's configuration, in Alloy's own syntax: it ships every container's log lines
// and the deploy markers to Loki, and turns nginx's access log into the request metrics
// (NGINX_LOG_METRICS) that Prometheus scrapes from Alloy's HTTP server.
//
// Alloy reads the Docker engine's json-file logs from the host folder, mounted read-only: it
// gets no Docker socket (the container-isolated policy refuses one), so a container's role
// reaches Alloy only through the log line itself, as the json-file driver's `attrs`.
import { posix } from "node:path";
import { CONTAINER_ROLES, ROLE_LABEL, ROLE_LOG_OPTION } from "../common/names";
import { isHostname } from "../config/hostname";
import { controlCharacterAt } from "../config/text";
import { CONFIG_PATHS, DEPLOY_LOG, DOCKER_LOG_DIR, LOG_LABELS, NGINX_LOG_METRICS, SERVICES, type ObservabilitySettings } from "./settings";

/** The json-file log options that put each line's role where Alloy reads it (common/names.ts). */
export const JSON_FILE_LOG_OPTIONS = ROLE_LOG_OPTION;

/**
 * The host folders Alloy reads, each mounted read-only at the same path in its container:
 * the engine's container logs and the deploy log's folder (a folder, so a rewritten file is
 * seen, not the inode that was mounted).
 */
export const ALLOY_READ_ONLY_MOUNTS: readonly string[] = [DOCKER_LOG_DIR, posix.dirname(DEPLOY_LOG)];

/**
 * Alloy's data folder in its container (the grafana/alloy image's own): the read positions of
 * every tailed file, so a restart neither re-ships nor skips lines. SERVICE_DATA_DIRS.alloy is
 * mounted here.
 */
export const ALLOY_STORAGE_PATH = "/var/lib/alloy/data";

/** The prefix stage.metrics puts before every metric name it defines (Alloy's default). */
export const ALLOY_METRICS_PREFIX = "loki_process_custom_";

/**
 * The `host` label of requests for a host nginx does not serve: $host is whatever the client
 * sent, and one series per made-up Host header would grow Prometheus without bound.
 */
export const UNKNOWN_HOST = "other";

/**
 * The `dropstack` access log format (components/proxy/nginx-conf.ts ACCESS_LOG_FORMAT):
 *   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
 *   "$http_referer" "$http_user_agent" "$host" $request_time
 * in Go RE2 syntax, kept to what JavaScript reads the same way (the unit tests run it).
 * nginx escapes `"` inside variables (as \x22), so each quoted field ends at the next quote;
 * $remote_user is unquoted and may hold spaces, so everything up to the request's quote is
 * skipped rather than split. `path` is the request target without its query, and empty when
 * the request line is not `METHOD target ...` (a bad request still counts). Docker's json-file
 * keeps the line's newline, hence the optional \n before the end.
 */
export const NGINX_ACCESS_LOG_PATTERN =
  String.raw`^(?P<remote_addr>[^ ]+) - [^"]*\] "(?:(?P<method>[A-Z]+) (?P<path>[^ ?"]*)[^"]*|[^"]*)" ` +
  String.raw`(?P<status>[0-9]{3}) (?P<body_bytes_sent>[0-9]+) "(?P<http_referer>[^"]*)" "(?P<http_user_agent>[^"]*)" ` +
  String.raw`"(?P<host>[^"]*)" (?P<request_time>[0-9]+(?:\.[0-9]+)?)\n?$`;

/** Request time buckets, seconds: dense around the default 150 ms SLO, then sparse up to 10 s. */
const BASE_REQUEST_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10];

/**
 * The histogram's buckets: the base ones and the configured p95 SLO exactly, so "requests
 * within the SLO" is a bucket's count and the alert needs no interpolation to decide.
 */
export function requestSecondsBuckets(settings: Pick<ObservabilitySettings, "thresholds">): number[] {
  const slo = settings.thresholds.p95LatencyMs / 1000;
  return [...new Set([...BASE_REQUEST_SECONDS_BUCKETS, slo])].sort((a, b) => a - b);
}

/**
 * `value` as an Alloy string literal that reads back as exactly `value`, whatever it holds:
 * quote and backslash escaped, every character outside printable ASCII written as a \u or
 * \U escape (Alloy's escapes are Go's), so no line break, control character, byte order mark
 * or encoding question reaches the file. Alloy strings interpolate nothing, so `${` is plain text.
 * Throws on a lone UTF-16 surrogate, which no Alloy string can hold.
 */
export function alloyString(value: string): string {
  let literal = '"';
  for (let index = 0; index < value.length;) {
    const codePoint = value.codePointAt(index) as number;
    if (codePoint >= 0xd800 && codePoint <= 0xdfff)
      throw new Error(`cannot write ${JSON.stringify(value)} as an Alloy string: a lone surrogate at index ${index} is not Unicode`);
    literal += escapedCodePoint(codePoint);
    index += codePoint > 0xffff ? 2 : 1;
  }
  return `${literal}"`;
}

const SHORT_ESCAPES: Record<number, string> = { 0x22: '\\"', 0x5c: "\\\\", 0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t" };

function escapedCodePoint(codePoint: number): string {
  const short = SHORT_ESCAPES[codePoint];
  if (short !== undefined) return short;
  if (codePoint >= 0x20 && codePoint <= 0x7e) return String.fromCodePoint(codePoint);
  const hex = codePoint.toString(16).padStart(codePoint > 0xffff ? 8 : 4, "0");
  return codePoint > 0xffff ? `\\U${hex}` : `\\u${hex}`;
}

// RFC 3986 path characters: nothing that ends a Go template string or an Alloy string, no
// space (nginx's $request splits on it), no query.
const LOGIN_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
const PUSH_PATH_SUFFIX = "/loki/api/v1/push";

/** The problems with the settings Alloy's config reads, each naming its setting; empty when there are none. */
export function validateAlloySettings(settings: ObservabilitySettings): string[] {
  const problems: string[] = [];
  // JSON would show NaN and Infinity as null.
  const shown = (value: unknown) => (typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value)));
  if (!isHostname(settings.monitoringHost))
    problems.push(`dropstack:hosts.monitoring must be a hostname, got ${shown(settings.monitoringHost)}`);
  for (const host of settings.tlsHosts)
    if (!isHostname(host)) problems.push(`dropstack:hosts must hold only hostnames (nginx serves each), got ${shown(host)}`);
  if (settings.loginPath !== undefined && !LOGIN_PATH.test(settings.loginPath))
    problems.push(
      `dropstack:observability.loginPath must be a URL path starting with / (letters, digits and -._~!$&'()*+,;=:@%/ only, no query), got ${shown(settings.loginPath)}`,
    );
  const p95 = settings.thresholds.p95LatencyMs;
  if (!(typeof p95 === "number" && Number.isFinite(p95) && p95 > 0))
    problems.push(`dropstack:observability.thresholds.p95LatencyMs must be a positive number of milliseconds, got ${shown(p95)}`);
  if (settings.remoteLoki) problems.push(...remoteLokiProblems(settings.remoteLoki));
  return problems;
}

function remoteLokiProblems(remote: NonNullable<ObservabilitySettings["remoteLoki"]>): string[] {
  const problems: string[] = [];
  const setting = "dropstack:observability.remoteLoki";
  let url: URL | undefined;
  try {
    url = new URL(remote.url);
  } catch {
    problems.push(`${setting}.url must be a URL, got ${JSON.stringify(remote.url)}`);
  }
  if (url) {
    // Log lines and the password leave the droplet: never in clear text.
    if (url.protocol !== "https:") problems.push(`${setting}.url must use https, got ${JSON.stringify(remote.url)}`);
    // The rendered config is not secret; credentials belong in the password file.
    if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "")
      problems.push(
        `${setting}.url must not carry credentials, a query or a fragment (the password goes in its secret file), got ${JSON.stringify(remote.url)}`,
      );
    if (!url.pathname.endsWith(PUSH_PATH_SUFFIX))
      problems.push(`${setting}.url must be Loki's push endpoint, ending in ${PUSH_PATH_SUFFIX}, got ${JSON.stringify(remote.url)}`);
  }
  const username = remote.username;
  // RFC 7617: the user-id of basic auth cannot contain a colon.
  if (username !== undefined && (username === "" || username.includes(":") || controlCharacterAt(username) !== -1))
    problems.push(`${setting}.username must be a non-empty name without colons or control characters, got ${JSON.stringify(username)}`);
  return problems;
}

// A tiny model of Alloy's syntax: blocks hold attributes (already rendered values), nested
// blocks and comments, rendered one statement a line.
type Statement = { attribute: string; value: string } | Block | { comment: string };
interface Block {
  block: string;
  label?: string;
  body: Statement[];
}

const attribute = (name: string, value: string): Statement => ({ attribute: name, value });
const block = (name: string, body: Statement[], label?: string): Block => ({ block: name, label, body });
const comment = (text: string): Statement => ({ comment: text });
const list = (items: string[]) => `[${items.join(", ")}]`;
const stringObject = (entries: Record<string, string>) =>
  `{ ${Object.entries(entries)
    .map(([key, value]) => `${alloyString(key)} = ${alloyString(value)}`)
    .join(", ")} }`;

function renderStatements(statements: Statement[], depth: number): string[] {
  const indent = "  ".repeat(depth);
  return statements.flatMap((statement) => {
    if ("comment" in statement) return [`${indent}// ${statement.comment}`];
    if ("attribute" in statement) return [`${indent}${statement.attribute} = ${statement.value}`];
    const label = statement.label === undefined ? "" : ` ${alloyString(statement.label)}`;
    return [`${indent}${statement.block}${label} {`, ...renderStatements(statement.body, depth + 1), `${indent}}`];
  });
}

// The names this config gives its own components and extracted fields.
const WRITER = "loki.write.logs.receiver";
const REMOTE_PASSWORD = "remote_loki_password";
// A Go template string literal for a value the validation has kept to printable ASCII
// without quotes or backslashes, where JSON's quoting is Go's.
const goString = (value: string) => JSON.stringify(value);

/** The json stage that decodes a Docker json-file line: its text, stream and the container's role. */
function dockerJsonStage(withTime: boolean): Block {
  return block("stage.json", [
    attribute(
      "expressions",
      stringObject({
        line: "log",
        stream: "stream",
        role: `attrs.${JSON.stringify(ROLE_LABEL)}`,
        ...(withTime ? { time: "time" } : {}),
      }),
    ),
  ]);
}

function containerLogs(): Statement[] {
  return [
    comment("Every container's log lines, from the engine's json-file logs (no Docker socket)."),
    block(
      "local.file_match",
      [attribute("path_targets", list([stringObject({ __path__: `${DOCKER_LOG_DIR}/*/*-json.log`, job: LOG_LABELS.containersJob })]))],
      "containers",
    ),
    block(
      "loki.source.file",
      [
        attribute("targets", "local.file_match.containers.targets"),
        attribute("forward_to", list(["loki.process.containers.receiver", "loki.process.nginx_metrics.receiver"])),
      ],
      "containers",
    ),
    block(
      "loki.process",
      [
        attribute("forward_to", list([WRITER])),
        dockerJsonStage(true),
        block("stage.labels", [attribute("values", stringObject({ [LOG_LABELS.role]: "role", [LOG_LABELS.stream]: "stream" }))]),
        block("stage.timestamp", [attribute("source", alloyString("time")), attribute("format", alloyString("RFC3339Nano"))]),
        comment("The file's path names the container: kept as structured metadata (its short ID), not as a"),
        comment("label, so a redeployed container continues its role's stream instead of starting one."),
        block("stage.regex", [
          attribute("source", alloyString("filename")),
          attribute("expression", alloyString("/(?P<container>[0-9a-f]{12})[0-9a-f]{52}/[^/]+$")),
        ]),
        block("stage.structured_metadata", [attribute("values", stringObject({ container: "container" }))]),
        block("stage.label_drop", [attribute("values", list([alloyString("filename")]))]),
        block("stage.output", [attribute("source", alloyString("line"))]),
      ],
      "containers",
    ),
  ];
}

/** `{{ ... }}` setting `host` to itself when nginx serves it, else UNKNOWN_HOST. */
function knownHostTemplate(settings: ObservabilitySettings): string {
  const hosts = [...new Set([settings.monitoringHost, ...settings.tlsHosts])].map(goString).join(" ");
  return `{{ if eq .Value ${hosts} }}{{ .Value }}{{ else }}${UNKNOWN_HOST}{{ end }}`;
}

function metricName(fullName: string): string {
  if (!fullName.startsWith(ALLOY_METRICS_PREFIX)) throw new Error(`${fullName} must start with ${ALLOY_METRICS_PREFIX}, which Alloy adds`);
  return fullName.slice(ALLOY_METRICS_PREFIX.length);
}

function nginxMetrics(settings: ObservabilitySettings): Statement[] {
  const login = settings.loginPath !== undefined;
  const requestLabels = ["host", "status", ...(login ? ["login"] : [])];
  const proxyStdout = `{${LOG_LABELS.role}=${goString(CONTAINER_ROLES.proxy)}, ${LOG_LABELS.stream}="stdout"}`;
  // Series live as long as a day without requests: a series dropped sooner would come back at
  // 1, and Prometheus's rate() never counts a series' first sample.
  const maxIdle = attribute("max_idle_duration", alloyString("24h"));
  return [
    comment("Request metrics from nginx's access log (the proxy container's stdout). The lines are shipped"),
    comment("by loki.process.containers; this pipeline only counts them, forwards nothing, and skips lines"),
    comment("that are not requests. Metric labels are the entry's labels when stage.metrics runs: host and"),
    comment("status are labels here only, never on Loki streams."),
    block(
      "loki.process",
      [
        attribute("forward_to", "[]"),
        dockerJsonStage(false),
        block("stage.labels", [attribute("values", stringObject({ [LOG_LABELS.role]: "role", [LOG_LABELS.stream]: "stream" }))]),
        block("stage.match", [
          attribute("selector", alloyString(proxyStdout)),
          block("stage.regex", [attribute("source", alloyString("line")), attribute("expression", alloyString(NGINX_ACCESS_LOG_PATTERN))]),
          block("stage.template", [
            attribute("source", alloyString("host")),
            attribute("template", alloyString(knownHostTemplate(settings))),
          ]),
          ...(login
            ? [
                block("stage.template", [
                  attribute("source", alloyString("login")),
                  attribute(
                    "template",
                    alloyString(`{{ if hasPrefix ${goString(settings.loginPath as string)} .path }}true{{ else }}false{{ end }}`),
                  ),
                ]),
              ]
            : []),
          block("stage.labels", [attribute("values", stringObject(Object.fromEntries(requestLabels.map((label) => [label, label]))))]),
          block("stage.label_keep", [attribute("values", list(requestLabels.map(alloyString)))]),
          block("stage.metrics", [
            block("metric.counter", [
              attribute("name", alloyString(metricName(NGINX_LOG_METRICS.requests))),
              attribute("description", alloyString("Requests nginx answered, from its access log.")),
              // Counted when the line matched: only then is there a status.
              attribute("source", alloyString("status")),
              attribute("action", alloyString("inc")),
              maxIdle,
            ]),
          ]),
          block("stage.label_keep", [attribute("values", list([alloyString("host")]))]),
          block("stage.metrics", [
            block("metric.histogram", [
              attribute("name", alloyString(metricName(NGINX_LOG_METRICS.requestSeconds))),
              attribute("description", alloyString("nginx's $request_time, seconds.")),
              attribute("source", alloyString("request_time")),
              attribute("buckets", list(requestSecondsBuckets(settings).map(String))),
              maxIdle,
            ]),
          ]),
        ]),
      ],
      "nginx_metrics",
    ),
  ];
}

function deployMarkers(): Statement[] {
  return [
    comment("One JSON line per finished deploy, each stamped with its own `at`."),
    block(
      "local.file_match",
      [attribute("path_targets", list([stringObject({ __path__: DEPLOY_LOG, job: LOG_LABELS.deploysJob })]))],
      "deploys",
    ),
    block(
      "loki.source.file",
      [attribute("targets", "local.file_match.deploys.targets"), attribute("forward_to", list(["loki.process.deploys.receiver"]))],
      "deploys",
    ),
    block(
      "loki.process",
      [
        attribute("forward_to", list([WRITER])),
        block("stage.json", [attribute("expressions", stringObject({ at: "at" }))]),
        // A line whose `at` does not parse keeps the time Alloy read it.
        block("stage.timestamp", [
          attribute("source", alloyString("at")),
          attribute("format", alloyString("RFC3339")),
          attribute("action_on_failure", alloyString("skip")),
        ]),
        block("stage.label_drop", [attribute("values", list([alloyString("filename")]))]),
      ],
      "deploys",
    ),
  ];
}

/** The local Loki's push endpoint on the app network. */
export const LOCAL_LOKI_PUSH_URL = `http://${SERVICES.loki.alias}:${SERVICES.loki.port}${PUSH_PATH_SUFFIX}`;

function writer(settings: ObservabilitySettings): Statement[] {
  const remote = settings.remoteLoki;
  if (!remote) return [block("loki.write", [block("endpoint", [attribute("url", alloyString(LOCAL_LOKI_PUSH_URL))])], "logs")];
  const auth =
    remote.username === undefined
      ? []
      : [
          block("basic_auth", [
            attribute("username", alloyString(remote.username)),
            attribute("password", `local.file.${REMOTE_PASSWORD}.content`),
          ]),
        ];
  return [
    ...(remote.username === undefined
      ? []
      : [
          comment("The remote Loki's password, read from its own file and kept secret in Alloy's UI and logs."),
          block(
            "local.file",
            [attribute("filename", alloyString(CONFIG_PATHS.alloyRemoteLokiPasswordFile)), attribute("is_secret", "true")],
            REMOTE_PASSWORD,
          ),
        ]),
    comment("Logs leave the droplet for the remote Loki; `stack` tells this stack's streams from others' there."),
    block(
      "loki.write",
      [
        block("endpoint", [attribute("url", alloyString(remote.url)), ...auth]),
        attribute("external_labels", stringObject({ stack: settings.stack })),
      ],
      "logs",
    ),
  ];
}

/**
 * config.alloy for the Alloy container (CONFIG_PATHS.alloy). Throws, listing every problem,
 * on invalid settings.
 */
export function renderAlloyConfig(settings: ObservabilitySettings): string {
  const problems = validateAlloySettings(settings);
  if (problems.length > 0) throw new Error(`invalid Alloy settings: ${problems.join("; ")}`);
  const sections: Statement[][] = [containerLogs(), nginxMetrics(settings), deployMarkers(), writer(settings)];
  const header = [
    "// Rendered by dropstack (components/observability/alloy.ts).",
    "// Alloy's HTTP server (its UI, and /metrics with the request metrics Prometheus scrapes) listens",
    "// where the --server.http.listen-addr flag of the container's command says, not in this file.",
  ];
  return [...header, ...sections.flatMap((section) => ["", ...renderStatements(section, 0)])].join("\n") + "\n";
}

/**
 * The Alloy container's command (the image's entrypoint is the alloy binary). The HTTP
 * server's listen address is a flag of `alloy run`, not part of config.alloy: all interfaces
 * of the container, which only the private app network reaches.
 */
export function alloyCommand(): string[] {
  return [
    "run",
    CONFIG_PATHS.alloy,
    `--server.http.listen-addr=0.0.0.0:${SERVICES.alloy.port}`,
    `--storage.path=${ALLOY_STORAGE_PATH}`,
    "--disable-reporting",
  ];
}
