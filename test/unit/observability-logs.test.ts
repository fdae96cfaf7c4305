import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { CONTAINER_ROLES, ROLE_LABEL } from "../../components/common/names";
import { controlCharacterAt } from "../../components/config/text";
import {
  ALLOY_METRICS_PREFIX,
  ALLOY_READ_ONLY_MOUNTS,
  ALLOY_STORAGE_PATH,
  JSON_FILE_LOG_OPTIONS,
  LOCAL_LOKI_PUSH_URL,
  NGINX_ACCESS_LOG_PATTERN,
  UNKNOWN_HOST,
  alloyCommand,
  alloyString,
  renderAlloyConfig,
  requestSecondsBuckets,
  validateAlloySettings,
} from "../../components/observability/alloy";
import {
  LOKI_DATA_DIR,
  LOKI_SCHEMA_FROM,
  MAX_LOG_RETENTION_DAYS,
  lokiRetentionPeriod,
  renderLokiConfig,
  validateLokiSettings,
} from "../../components/observability/loki";
import {
  CONFIG_PATHS,
  DEFAULT_ALERT_THRESHOLDS,
  DEPLOY_LOG,
  DOCKER_LOG_DIR,
  LOG_LABELS,
  NGINX_LOG_METRICS,
  SERVICES,
  type ObservabilitySettings,
} from "../../components/observability/settings";
import { observabilitySettings } from "../support/observability";

// ---------------------------------------------------------------------------------------------
// Settings variants

const base: ObservabilitySettings = observabilitySettings({
  name: "shop-production",
  stack: "production",
  nginxContainer: "shop-production-nginx",
  backupProbe: { host: "api.example.com", path: "/.dropstack/backup" },
  backupCheckIntervalMinutes: 60,
});

function settings(overrides: Partial<ObservabilitySettings> = {}): ObservabilitySettings {
  return { ...base, ...overrides };
}

/** Named variants the Alloy tests run over: login on and off, local and remote Loki, other SLOs. */
const VARIANTS: [string, ObservabilitySettings][] = [
  ["defaults, login path, local Loki", settings({ loginPath: "/login" })],
  ["no login path", settings()],
  [
    "login under /api, p95 SLO 123 ms",
    settings({ loginPath: "/api/v1/auth/login", thresholds: { ...DEFAULT_ALERT_THRESHOLDS, p95LatencyMs: 123 } }),
  ],
  [
    "remote Loki with a user, p95 SLO 1.5 s",
    settings({
      loginPath: "/session",
      remoteLoki: { url: "https://logs-prod-012.grafana.net/loki/api/v1/push", username: "123456" },
      thresholds: { ...DEFAULT_ALERT_THRESHOLDS, p95LatencyMs: 1500 },
    }),
  ],
  ["remote Loki without a user", settings({ remoteLoki: { url: "https://loki.example.org:8443/custom/loki/api/v1/push" } })],
  ["only the monitoring host", settings({ tlsHosts: [], loginPath: "/" })],
];

// ---------------------------------------------------------------------------------------------
// Loki

describe("renderLokiConfig", () => {
  for (const days of [1, 7, 14, 30, 90, MAX_LOG_RETENTION_DAYS]) {
    it(`is a single-binary Loki keeping ${days} days of logs on the volume`, () => {
      const config = parse(renderLokiConfig(settings({ logRetentionDays: days })));
      assert.equal(config.auth_enabled, false);
      assert.equal(config.server.http_listen_port, SERVICES.loki.port);
      assert.equal(config.common.replication_factor, 1);
      assert.equal(config.common.ring.kvstore.store, "inmemory");
      assert.equal(config.common.path_prefix, LOKI_DATA_DIR);

      // Retention: on in the compactor, with the delete request store it requires, for the days set.
      assert.equal(config.compactor.retention_enabled, true);
      assert.equal(config.compactor.delete_request_store, "filesystem");
      assert.equal(config.limits_config.retention_period, `${days * 24}h`);
      assert.equal(lokiRetentionPeriod({ logRetentionDays: days }), `${days * 24}h`);
      assert.equal(hoursOf(config.limits_config.retention_period) / 24, days);

      // One tsdb v13 period from a fixed day in the past, with the 24h index retention needs.
      assert.equal(config.schema_config.configs.length, 1);
      const [period] = config.schema_config.configs;
      assert.deepEqual(
        { store: period.store, schema: period.schema, object_store: period.object_store, index: period.index.period },
        { store: "tsdb", schema: "v13", object_store: "filesystem", index: "24h" },
      );
      assert.equal(String(period.from), LOKI_SCHEMA_FROM);
      assert.match(LOKI_SCHEMA_FROM, /^\d{4}-\d{2}-\d{2}$/);
      assert.ok(Date.parse(LOKI_SCHEMA_FROM) < Date.now());
      // The delete requests live in the same store as the chunks.
      assert.equal(config.compactor.delete_request_store, period.object_store);

      assert.equal(config.analytics.reporting_enabled, false);
    });
  }

  it("keeps every path it writes under the container's data folder", () => {
    const config = parse(renderLokiConfig(base));
    const paths = stringsUnder(config).filter(([key]) => /directory|path_prefix/.test(key));
    assert.ok(paths.length >= 4, JSON.stringify(paths));
    for (const [key, path] of paths) assert.ok(path === LOKI_DATA_DIR || path.startsWith(`${LOKI_DATA_DIR}/`), `${key}: ${path}`);
  });

  it("limits ingestion to what one small app sends, with room for one Alloy push", () => {
    const limits = parse(renderLokiConfig(base)).limits_config;
    assert.ok(limits.ingestion_rate_mb > 0 && limits.ingestion_rate_mb <= 4, String(limits.ingestion_rate_mb));
    assert.ok(limits.ingestion_burst_size_mb >= limits.ingestion_rate_mb);
    // Alloy's loki.write batches up to 1 MiB: a burst smaller than one push refuses every push.
    assert.ok(limits.ingestion_burst_size_mb >= 1.05);
    assert.ok(bytesOf(limits.per_stream_rate_limit) <= limits.ingestion_rate_mb * 1e6);
    assert.ok(bytesOf(limits.per_stream_rate_limit_burst) >= bytesOf(limits.per_stream_rate_limit));
    assert.ok(limits.max_global_streams_per_user >= 100 && limits.max_global_streams_per_user <= 5000);
    assert.equal(limits.max_line_size_truncate, true);
    assert.equal(limits.allow_structured_metadata, true);
  });

  it("reads only logRetentionDays: the other settings change nothing", () => {
    const rendered = renderLokiConfig(base);
    for (const [, variant] of VARIANTS) assert.equal(renderLokiConfig(variant), rendered);
  });

  for (const days of [0, -1, 1.5, MAX_LOG_RETENTION_DAYS + 1, 10000, Number.NaN, Number.POSITIVE_INFINITY, "30" as unknown as number]) {
    it(`refuses logRetentionDays ${String(days)}, naming the setting and value`, () => {
      const shown = typeof days === "number" ? String(days) : JSON.stringify(days);
      assert.deepEqual(validateLokiSettings({ logRetentionDays: days }).length, 1);
      assert.throws(
        () => renderLokiConfig(settings({ logRetentionDays: days })),
        (error: Error) => error.message.includes("dropstack:observability.logRetentionDays") && error.message.includes(`got ${shown}`),
      );
    });
  }
});

function hoursOf(duration: string): number {
  const match = /^(\d+)h$/.exec(duration);
  assert.ok(match, duration);
  return Number(match[1]);
}

function bytesOf(size: string): number {
  const match = /^(\d+)(KB|MB)$/.exec(size);
  assert.ok(match, size);
  return Number(match[1]) * (match[2] === "KB" ? 1e3 : 1e6);
}

function stringsUnder(value: unknown, key = ""): [string, string][] {
  if (typeof value === "string") return [[key, value]];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringsUnder(item, `${key}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => stringsUnder(v, key ? `${key}.${k}` : k));
  return [];
}

// ---------------------------------------------------------------------------------------------
// A reader for the part of Alloy's syntax the renderer writes, after Alloy's scanner
// (syntax/scanner) and Go's strconv.Unquote, which Alloy applies to string literals.

type Token = { kind: "string"; value: string; raw: string } | { kind: "punct" | "ident" | "number" | "newline"; raw: string };

/** Tokens of an Alloy file; throws on anything the scanner would refuse. */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === " " || c === "\t" || c === "\r") i++;
    else if (c === "\n") {
      tokens.push({ kind: "newline", raw: c });
      i++;
    } else if (source.startsWith("//", i)) {
      const end = source.indexOf("\n", i);
      i = end === -1 ? source.length : end;
    } else if (c === '"') {
      const { value, end } = readString(source, i);
      tokens.push({ kind: "string", value, raw: source.slice(i, end) });
      i = end;
    } else if ("{}[]()=,.".includes(c)) {
      tokens.push({ kind: "punct", raw: c });
      i++;
    } else {
      const word = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)/.exec(source.slice(i));
      if (!word) throw new Error(`unexpected ${JSON.stringify(c)} at ${i}`);
      tokens.push({ kind: /^[0-9]/.test(word[0]) ? "number" : "ident", raw: word[0] });
      i += word[0].length;
    }
  }
  return tokens;
}

const SIMPLE_ESCAPES: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", '"': '"' };

/** The string literal starting at `start`: its value and where it ends. Octal and \x escapes are bytes in Go, never characters: refused. */
function readString(source: string, start: number): { value: string; end: number } {
  let value = "";
  let i = start + 1;
  for (;;) {
    if (i >= source.length) throw new Error(`string literal at ${start} not terminated`);
    const c = source[i];
    if (c === '"') return { value, end: i + 1 };
    if (c === "\n") throw new Error(`string literal at ${start} not terminated before the line ends`);
    const code = c.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) throw new Error(`raw control character ${code} in the string at ${start}`);
    if (c !== "\\") {
      value += c;
      i++;
      continue;
    }
    const kind = source[i + 1];
    if (kind in SIMPLE_ESCAPES) {
      value += SIMPLE_ESCAPES[kind];
      i += 2;
    } else if (kind === "u" || kind === "U") {
      const digits = kind === "u" ? 4 : 8;
      const hex = source.slice(i + 2, i + 2 + digits);
      if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) throw new Error(`bad \\${kind} escape in the string at ${start}`);
      const codePoint = parseInt(hex, 16);
      if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint < 0xe000)) throw new Error(`invalid code point ${hex} at ${start}`);
      value += String.fromCodePoint(codePoint);
      i += 2 + digits;
    } else throw new Error(`escape \\${kind} in the string at ${start}`);
  }
}

/** Throws unless every (, [ and { closes in order. */
function assertBalanced(tokens: Token[]): void {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  for (const token of tokens) {
    if (token.kind !== "punct") continue;
    if ("([{".includes(token.raw)) stack.push(token.raw);
    else if (token.raw in pairs) assert.equal(stack.pop(), pairs[token.raw], "unbalanced brackets");
  }
  assert.deepEqual(stack, [], "unclosed brackets");
}

type Value = string | number | boolean | { ref: string } | Value[] | { [key: string]: Value };
interface Block {
  name: string;
  label?: string;
  attributes: Map<string, Value>;
  blocks: Block[];
}

/** The file as blocks: attributes evaluated to strings, numbers, lists, objects and references. */
function parseAlloy(source: string): Block {
  const tokens = tokenize(source);
  assertBalanced(tokens);
  let at = 0;
  const peek = () => tokens[at];
  const next = () => tokens[at++];
  const expect = (raw: string) => {
    const token = next();
    assert.equal(token?.raw, raw, `expected ${raw} at token ${at - 1}`);
  };
  const skipNewlines = () => {
    while (peek()?.kind === "newline") at++;
  };
  function value(): Value {
    const token = next();
    if (token.kind === "string") return token.value;
    if (token.kind === "number") return Number(token.raw);
    if (token.raw === "[") {
      const items: Value[] = [];
      while (peek().raw !== "]") {
        items.push(value());
        if (peek().raw === ",") next();
      }
      next();
      return items;
    }
    if (token.raw === "{") {
      const entries: Record<string, Value> = {};
      while (peek().raw !== "}") {
        const key = next();
        assert.ok(key.kind === "string" || key.kind === "ident", `object key ${key.raw}`);
        expect("=");
        entries[key.kind === "string" ? key.value : key.raw] = value();
        if (peek().raw === ",") next();
      }
      next();
      return entries;
    }
    if (token.kind === "ident") {
      if (token.raw === "true" || token.raw === "false") return token.raw === "true";
      let ref = token.raw;
      while (peek().raw === ".") {
        next();
        ref += `.${next().raw}`;
      }
      return { ref };
    }
    throw new Error(`unexpected ${token.raw} in a value`);
  }
  function body(block: Block, closing: string | undefined): Block {
    for (;;) {
      skipNewlines();
      const token = peek();
      if (token === undefined) {
        assert.equal(closing, undefined, "file ended inside a block");
        return block;
      }
      if (token.raw === closing) {
        next();
        return block;
      }
      assert.equal(token.kind, "ident", `statement starting with ${token.raw}`);
      let name = next().raw;
      while (peek().raw === ".") {
        next();
        name += `.${next().raw}`;
      }
      if (peek().raw === "=") {
        next();
        assert.ok(!block.attributes.has(name), `attribute ${name} set twice`);
        block.attributes.set(name, value());
        assert.equal(next()?.kind ?? "newline", "newline", `attribute ${name} must end its line`);
        continue;
      }
      const label = peek().kind === "string" ? (next() as { value: string }).value : undefined;
      if (label !== undefined) assert.match(label, /^[A-Za-z_][A-Za-z0-9_]*$/, "block labels are identifiers");
      expect("{");
      block.blocks.push(body({ name, label, attributes: new Map(), blocks: [] }, "}"));
    }
  }
  return body({ name: "", attributes: new Map(), blocks: [] }, undefined);
}

function component(root: Block, name: string, label: string): Block {
  const found = root.blocks.filter((b) => b.name === name && b.label === label);
  assert.equal(found.length, 1, `${name} "${label}"`);
  return found[0];
}

function stages(block: Block, name: string): Block[] {
  return block.blocks.filter((b) => b.name === name);
}

function only(block: Block, name: string): Block {
  const found = stages(block, name);
  assert.equal(found.length, 1, `one ${name} in ${block.name} ${block.label ?? ""}`);
  return found[0];
}

function attr(block: Block, name: string): Value {
  assert.ok(block.attributes.has(name), `${block.name}.${name} is set`);
  return block.attributes.get(name) as Value;
}

function text(block: Block, name: string): string {
  const v = attr(block, name);
  assert.equal(typeof v, "string", `${block.name}.${name} is a string`);
  return v as string;
}

function allBlocks(block: Block): Block[] {
  return [block, ...block.blocks.flatMap(allBlocks)];
}

// ---------------------------------------------------------------------------------------------
// The quoting helper

const HOSTILE_PIECES = [
  '"',
  "\\",
  "\n",
  "\r\n",
  "\t",
  "${",
  '${env("HOME")}',
  "{{ .Value }}",
  "\u0000",
  "\u001b[31m",
  "\u007f",
  "\u0085",
  "\u2028",
  "\ufeff",
  "é",
  "漢字",
  "😀",
  '"\n}\nlocal.file "x" {',
  '\\"',
  "\\u0041",
  "// not a comment",
  "/* nor this */",
];

/** Every piece alone, every ordered pair, and each inside ordinary text. */
function hostileStrings(): string[] {
  const pairs = HOSTILE_PIECES.flatMap((a) => HOSTILE_PIECES.map((b) => a + b));
  return ["", "plain", ...HOSTILE_PIECES, ...pairs, ...HOSTILE_PIECES.map((p) => `api.example.com${p}/path`)];
}

describe("alloyString", () => {
  it("reads back, as Alloy reads it, as exactly the value, for hostile values", () => {
    const values = hostileStrings();
    assert.ok(values.length > 500);
    for (const value of values) {
      const literal = alloyString(value);
      const { value: decoded, end } = readString(literal, 0);
      assert.equal(end, literal.length, `one literal: ${literal}`);
      assert.equal(decoded, value, literal);
    }
  });

  it("writes only printable ASCII on one line", () => {
    for (const value of hostileStrings()) assert.match(alloyString(value), /^"[\x20-\x7e]*"$/, JSON.stringify(value));
  });

  it("cannot end the attribute it is in or start another statement", () => {
    for (const value of hostileStrings()) {
      const file = `local.file "probe" {\n  filename = ${alloyString(value)}\n}\nafter = 1\n`;
      const root = parseAlloy(file);
      assert.deepEqual(
        root.blocks.map((b) => b.name),
        ["local.file"],
      );
      assert.deepEqual([...root.blocks[0].attributes.keys()], ["filename"]);
      assert.equal(root.blocks[0].attributes.get("filename"), value);
      assert.deepEqual([...root.attributes.keys()], ["after"]);
    }
  });

  it("writes simple escapes where Alloy has them and \\u or \\U for the rest", () => {
    assert.equal(alloyString('a"b\\c'), String.raw`"a\"b\\c"`);
    assert.equal(alloyString("a\nb\rc\td"), String.raw`"a\nb\rc\td"`);
    assert.equal(alloyString("\u0000\u007f\u2028é"), String.raw`"\u0000\u007f\u2028\u00e9"`);
    assert.equal(alloyString("😀"), String.raw`"\U0001f600"`);
    assert.equal(alloyString("${x}"), '"${x}"');
  });

  for (const lone of ["\ud800", "a\udc00b", "😀".slice(0, 1), `x${"😀".slice(1)}`]) {
    it(`refuses a lone surrogate (${JSON.stringify(lone)}), which no Alloy string holds`, () => {
      assert.throws(() => alloyString(lone), /lone surrogate/);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The Alloy config

/** The `dropstack` log_format (components/proxy/nginx-conf.ts ACCESS_LOG_FORMAT, with "$host"). */
const DROPSTACK_LOG_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$host" $request_time';

/** A line nginx writes in `format` for the variables (values already escaped as nginx escapes them). */
function accessLine(format: string, variables: Record<string, string>): string {
  return format.replace(/\$([a-z_]+)/g, (_, name: string) => {
    assert.ok(name in variables, `no value for $${name}`);
    return variables[name];
  });
}

interface Request {
  request: string;
  path: string;
}

// What nginx logs as $request, and the path a reader must find in it. nginx writes `"` and
// bytes outside printable ASCII as \xHH.
const REQUESTS: Request[] = [
  { request: "GET /login HTTP/1.1", path: "/login" },
  { request: "POST /login?next=%2Fhome HTTP/2.0", path: "/login" },
  { request: "POST /loginx HTTP/1.1", path: "/loginx" },
  { request: "GET /api/items/42 HTTP/1.1", path: "/api/items/42" },
  { request: "GET /api/v1/auth/login HTTP/1.1", path: "/api/v1/auth/login" },
  { request: "GET / HTTP/1.0", path: "/" },
  { request: "GET /a b HTTP/1.1", path: "/a" },
  { request: "-", path: "" },
  { request: "", path: "" },
  { request: String.raw`\x16\x03\x01\x00\xA5\x01`, path: "" },
  { request: String.raw`GET /q\x22x HTTP/1.1`, path: String.raw`/q\x22x` },
];
const STATUSES = ["200", "302", "404", "444", "499", "503"];
const REQUEST_TIMES = ["0.000", "0.150", "0.151", "12.345"];
const HOSTS = ["api.example.com", "monitoring.example.com", "203.0.113.9", "", String.raw`evil\x22.example`];
const REMOTES = ["203.0.113.7", "2001:db8::1"];
const USERS = ["-", "alice", "bob smith]"];
const REFERERS = ["-", "https://app.example.com/a b?c=d"];
const AGENTS = ["curl/8.5.0", String.raw`Mozilla/5.0 (X11; Linux x86_64) \x22quoted\x22`];

interface Sample {
  line: string;
  request: Request;
  status: string;
  requestTime: string;
  host: string;
}

/** Access log lines in the new format across the variables' values, with and without Docker's trailing newline. */
function samples(): Sample[] {
  const out: Sample[] = [];
  let i = 0;
  for (const request of REQUESTS)
    for (const status of STATUSES)
      for (const requestTime of REQUEST_TIMES)
        for (const host of HOSTS) {
          i++;
          const line = accessLine(DROPSTACK_LOG_FORMAT, {
            remote_addr: REMOTES[i % REMOTES.length],
            remote_user: USERS[i % USERS.length],
            time_local: "29/Nov/2026:21:58:52 +0000",
            request: request.request,
            status,
            body_bytes_sent: String(i * 7),
            http_referer: REFERERS[i % REFERERS.length],
            http_user_agent: AGENTS[i % AGENTS.length],
            host,
            request_time: requestTime,
          });
          out.push({ line: i % 2 === 0 ? `${line}\n` : line, request, status, requestTime, host });
        }
  return out;
}

const NOT_REQUESTS = [
  // The format before "$host" was added: no host, so no match rather than a wrong one.
  '203.0.113.7 - - [29/Nov/2026:21:58:52 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8.5.0" 0.012',
  "2026/11/29 21:58:52 [notice] 1#1: signal process started",
  '203.0.113.7 - - [29/Nov/2026:21:58:52 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8.5.0" "api.example.com" -',
  '203.0.113.7 - - [29/Nov/2026:21:58:52 +0000] "GET / HTTP/1.1" 2000 12 "-" "curl/8.5.0" "api.example.com" 0.012',
  "",
  '{"log":"x"}',
];

/** The regex as JavaScript runs it: Go's (?P<name>) is JavaScript's (?<name>). */
function javascriptRegex(re2: string): RegExp {
  return new RegExp(re2.replace(/\(\?P</g, "(?<"), "u");
}

/** A Go string literal as the template engine reads it (the renderer writes JSON-compatible ones). */
function goStrings(list: string): string[] {
  return [...list.matchAll(/"(?:[^"\\]|\\.)*"/g)].map((m) => JSON.parse(m[0]) as string);
}

/**
 * The effect of the two templates the renderer writes (host: itself when listed, else the
 * fallback; login: whether the path starts with the prefix), read from their text; any other
 * template fails the test.
 */
function runTemplate(template: string, extracted: Record<string, string>, source: string): string | undefined {
  const known = /^\{\{ if eq \.Value ((?:"[^"]*" ?)+) \}\}\{\{ \.Value \}\}\{\{ else \}\}([a-z]+)\{\{ end \}\}$/.exec(template);
  if (known) {
    const value = extracted[source];
    if (value === undefined) return undefined;
    return goStrings(known[1]).includes(value) ? value : known[2];
  }
  const prefix = /^\{\{ if hasPrefix ("(?:[^"\\]|\\.)*") \.path \}\}true\{\{ else \}\}false\{\{ end \}\}$/.exec(template);
  if (prefix) {
    const path = extracted.path;
    if (path === undefined) return undefined;
    return path.startsWith(JSON.parse(prefix[1]) as string) ? "true" : "false";
  }
  throw new Error(`a template this test cannot run: ${template}`);
}

/** A JMESPath expression of the forms the renderer writes: `name` or `name."quoted key"`. */
function jmespath(expression: string, data: Record<string, unknown>): unknown {
  const match = /^([a-z_]+)(?:\.("(?:[^"\\]|\\.)*"))?$/.exec(expression);
  assert.ok(match, `a JMESPath this test cannot run: ${expression}`);
  const first = data[match[1]];
  if (match[2] === undefined) return first;
  return first && typeof first === "object" ? (first as Record<string, unknown>)[JSON.parse(match[2]) as string] : undefined;
}

/** `{a="b", c="d"}`: the equality matchers of a selector; anything else fails the test. */
function selectorMatchers(selector: string): Record<string, string> {
  const body = /^\{(.*)\}$/.exec(selector);
  assert.ok(body, selector);
  return Object.fromEntries(
    body[1].split(",").map((part) => {
      const m = /^\s*([a-z_]+)="([^"]*)"\s*$/.exec(part);
      assert.ok(m, `matcher ${part}`);
      return [m[1], m[2]];
    }),
  );
}

interface MetricsRun {
  /** Labels per metric name, for each metric the line updated. */
  observed: Map<string, Record<string, string>>;
  extracted: Record<string, string>;
}

/**
 * Runs one Docker json-file line through the nginx_metrics pipeline as Alloy's stages do
 * (json, labels, match, regex, template, labels, label_keep, metrics), reading every name
 * from the rendered config, so the stages must agree with each other.
 */
function runMetricsPipeline(pipeline: Block, dockerLine: string, fileLabels: Record<string, string>): MetricsRun {
  const labels: Record<string, string> = { ...fileLabels };
  const extracted: Record<string, string> = { ...fileLabels };
  const observed = new Map<string, Record<string, string>>();
  function run(stageList: Block[]): void {
    for (const stage of stageList) {
      switch (stage.name) {
        case "stage.json": {
          const data = JSON.parse(dockerLine) as Record<string, unknown>;
          for (const [key, expression] of Object.entries(attr(stage, "expressions") as Record<string, string>)) {
            const found = jmespath(expression, data);
            if (typeof found === "string") extracted[key] = found;
          }
          break;
        }
        case "stage.labels":
          for (const [label, source] of Object.entries(attr(stage, "values") as Record<string, string>))
            if (extracted[source] !== undefined) labels[label] = extracted[source];
          break;
        case "stage.match": {
          const matchers = selectorMatchers(text(stage, "selector"));
          if (Object.entries(matchers).every(([k, v]) => labels[k] === v)) run(stage.blocks);
          break;
        }
        case "stage.regex": {
          const input = extracted[text(stage, "source")];
          const match = input === undefined ? null : javascriptRegex(text(stage, "expression")).exec(input);
          // Go sets a group that took no part in the match to "".
          if (match) for (const [name, v] of Object.entries(match.groups ?? {})) extracted[name] = v ?? "";
          break;
        }
        case "stage.template": {
          const result = runTemplate(text(stage, "template"), extracted, text(stage, "source"));
          if (result !== undefined) extracted[text(stage, "source")] = result;
          break;
        }
        case "stage.label_keep": {
          const keep = attr(stage, "values") as string[];
          for (const label of Object.keys(labels)) if (!keep.includes(label)) delete labels[label];
          break;
        }
        case "stage.metrics":
          for (const metric of stage.blocks)
            if (extracted[text(metric, "source")] !== undefined) observed.set(ALLOY_METRICS_PREFIX + text(metric, "name"), { ...labels });
          break;
        default:
          throw new Error(`a stage this test cannot run: ${stage.name}`);
      }
    }
  }
  run(pipeline.blocks);
  return { observed, extracted };
}

function dockerJsonLine(log: string, role: string | undefined, stream = "stdout"): string {
  return JSON.stringify({
    log,
    stream,
    ...(role === undefined ? {} : { attrs: { [ROLE_LABEL]: role } }),
    time: "2026-11-29T21:58:52.123456789Z",
  });
}

const CONTAINER_LOG = `${DOCKER_LOG_DIR}/${"ab".repeat(32)}/${"ab".repeat(32)}-json.log`;

describe("renderAlloyConfig", () => {
  for (const [name, variant] of VARIANTS) {
    describe(name, () => {
      const source = renderAlloyConfig(variant);
      const root = parseAlloy(source);
      const servedHosts = new Set([variant.monitoringHost, ...variant.tlsHosts]);

      it("is well-formed: balanced, every string literal valid, printable ASCII, each component once", () => {
        assert.match(source, /^[\x20-\x7e\n]*$/);
        assertBalanced(tokenize(source));
        const ids = root.blocks.map((b) => `${b.name}.${b.label}`);
        assert.equal(new Set(ids).size, ids.length, ids.join(" "));
        for (const b of root.blocks) assert.ok(b.label, `${b.name} has a label`);
        assert.equal(root.attributes.size, 0);
      });

      it("refers only to components it defines", () => {
        const defined = new Set(root.blocks.map((b) => `${b.name}.${b.label}`));
        const refs = allBlocks(root).flatMap((b) => [...b.attributes.values()].flatMap(references));
        assert.ok(refs.length >= 7);
        for (const ref of refs) {
          const exported = /^(.+)\.(receiver|targets|content)$/.exec(ref);
          assert.ok(exported && defined.has(exported[1]), `${ref} refers to a defined component`);
        }
      });

      it("tails the engine's json-file logs and labels them job, role and stream, with no Docker socket", () => {
        const match = component(root, "local.file_match", "containers");
        assert.deepEqual(attr(match, "path_targets"), [{ __path__: `${DOCKER_LOG_DIR}/*/*-json.log`, job: LOG_LABELS.containersJob }]);
        assert.doesNotMatch(source, /docker\.sock|discovery\.docker|loki\.source\.docker/);
        const sourceFile = component(root, "loki.source.file", "containers");
        assert.deepEqual(attr(sourceFile, "targets"), { ref: "local.file_match.containers.targets" });
        // The same lines go to the shipping pipeline and to the metrics one.
        assert.deepEqual(attr(sourceFile, "forward_to"), [
          { ref: "loki.process.containers.receiver" },
          { ref: "loki.process.nginx_metrics.receiver" },
        ]);

        const pipeline = component(root, "loki.process", "containers");
        assert.deepEqual(attr(pipeline, "forward_to"), [{ ref: "loki.write.logs.receiver" }]);
        const expressions = attr(only(pipeline, "stage.json"), "expressions") as Record<string, string>;
        const labels = attr(only(pipeline, "stage.labels"), "values") as Record<string, string>;
        assert.deepEqual(Object.keys(labels).sort(), [LOG_LABELS.role, LOG_LABELS.stream].sort());
        assert.equal(expressions[labels[LOG_LABELS.stream]], "stream");
        // The role comes from the attr the json-file driver writes for the `labels` log option.
        assert.equal(JSON_FILE_LOG_OPTIONS.labels, ROLE_LABEL);
        assert.equal(expressions[labels[LOG_LABELS.role]], `attrs.${JSON.stringify(JSON_FILE_LOG_OPTIONS.labels)}`);
        const timestamp = only(pipeline, "stage.timestamp");
        assert.equal(expressions[text(timestamp, "source")], "time");
        assert.equal(text(timestamp, "format"), "RFC3339Nano");
        // The shipped line is Docker's `log`, not the JSON around it.
        assert.equal(expressions[text(only(pipeline, "stage.output"), "source")], "log");
        assert.deepEqual(attr(only(pipeline, "stage.label_drop"), "values"), ["filename"]);
        // Nothing in the shipping pipeline drops or filters lines.
        for (const stage of pipeline.blocks)
          assert.ok(!["stage.match", "stage.drop", "stage.limit", "stage.sampling"].includes(stage.name));
      });

      it("keeps the container's short ID as structured metadata, read from the log file's path", () => {
        const pipeline = component(root, "loki.process", "containers");
        const regex = only(pipeline, "stage.regex");
        assert.equal(text(regex, "source"), "filename");
        const match = javascriptRegex(text(regex, "expression")).exec(CONTAINER_LOG);
        assert.equal(match?.groups?.container, "ab".repeat(6));
        assert.deepEqual(attr(only(pipeline, "stage.structured_metadata"), "values"), { container: "container" });
      });

      it("never puts host, status or login on a Loki stream", () => {
        for (const label of ["containers", "deploys"]) {
          const pipeline = component(root, "loki.process", label);
          for (const stage of allBlocks(pipeline).filter((b) => b.name === "stage.labels" || b.name === "stage.static_labels"))
            for (const key of Object.keys(attr(stage, "values") as object)) assert.ok(!["host", "status", "login"].includes(key), key);
        }
        // The metrics pipeline ships nothing.
        assert.deepEqual(attr(component(root, "loki.process", "nginx_metrics"), "forward_to"), []);
      });

      it("uses only the regex features Go's RE2 and JavaScript share", () => {
        const expression = text(only(only(component(root, "loki.process", "nginx_metrics"), "stage.match"), "stage.regex"), "expression");
        assert.equal(expression, NGINX_ACCESS_LOG_PATTERN);
        assert.doesNotMatch(expression, /\(\?[=!]|\(\?<[=!]|\\[1-9]|\\k</, "no lookaround, no backreference");
        assert.doesNotMatch(expression, /\(\?<(?![=!])/, "named groups in Go's (?P<name>) form");
        assert.doesNotMatch(expression, /\\[pPbBdDwWsSzAZ]|\[\[:|\(\?[a-z]/, "no classes or flags whose meaning differs");
        assert.ok(javascriptRegex(expression));
      });

      it("derives the request metrics from nginx's access log lines in the dropstack format", () => {
        const pipeline = component(root, "loki.process", "nginx_metrics");
        const all = samples();
        assert.ok(all.length > 1000);
        for (const sample of all) {
          const { observed, extracted } = runMetricsPipeline(pipeline, dockerJsonLine(sample.line, CONTAINER_ROLES.proxy), {
            job: LOG_LABELS.containersJob,
            filename: CONTAINER_LOG,
          });
          const what = JSON.stringify(sample.line);
          assert.equal(extracted.path, sample.request.path, what);
          assert.equal(extracted.status, sample.status, what);
          assert.equal(extracted.request_time, sample.requestTime, what);
          const host = servedHosts.has(sample.host) ? sample.host : UNKNOWN_HOST;
          const requestLabels: Record<string, string> = { host, status: sample.status };
          if (variant.loginPath !== undefined) requestLabels.login = String(sample.request.path.startsWith(variant.loginPath));
          assert.deepEqual(observed.get(NGINX_LOG_METRICS.requests), requestLabels, what);
          assert.deepEqual(observed.get(NGINX_LOG_METRICS.requestSeconds), { host }, what);
        }
      });

      it("counts nothing for lines that are not requests, nor for other containers or stderr", () => {
        const pipeline = component(root, "loki.process", "nginx_metrics");
        const labels = { job: LOG_LABELS.containersJob, filename: CONTAINER_LOG };
        for (const line of NOT_REQUESTS)
          assert.equal(runMetricsPipeline(pipeline, dockerJsonLine(line, CONTAINER_ROLES.proxy), labels).observed.size, 0, line);
        const request = samples()[0].line;
        for (const role of [CONTAINER_ROLES.api, CONTAINER_ROLES.worker, CONTAINER_ROLES.certbot, undefined])
          assert.equal(runMetricsPipeline(pipeline, dockerJsonLine(request, role), labels).observed.size, 0, String(role));
        assert.equal(runMetricsPipeline(pipeline, dockerJsonLine(request, CONTAINER_ROLES.proxy, "stderr"), labels).observed.size, 0);
        assert.equal(runMetricsPipeline(pipeline, dockerJsonLine(request, CONTAINER_ROLES.proxy), labels).observed.size, 2);
      });

      it("names the metrics as NGINX_LOG_METRICS says, with buckets at the SLO", () => {
        const match = only(component(root, "loki.process", "nginx_metrics"), "stage.match");
        const metrics = stages(match, "stage.metrics").flatMap((s) => s.blocks);
        const counter = metrics.find((m) => m.name === "metric.counter");
        const histogram = metrics.find((m) => m.name === "metric.histogram");
        assert.ok(counter && histogram);
        // stage.metrics prefixes Alloy's default, as no `prefix` is set.
        for (const metric of metrics) assert.ok(!metric.attributes.has("prefix"));
        assert.equal(ALLOY_METRICS_PREFIX + text(counter, "name"), NGINX_LOG_METRICS.requests);
        assert.equal(ALLOY_METRICS_PREFIX + text(histogram, "name"), NGINX_LOG_METRICS.requestSeconds);
        assert.equal(text(counter, "action"), "inc");
        assert.ok(!counter.attributes.has("match_all"), "counts matched lines only");

        const buckets = attr(histogram, "buckets") as number[];
        assert.deepEqual(buckets, requestSecondsBuckets(variant));
        assert.ok(buckets.includes(0.15), "the default SLO");
        assert.ok(buckets.includes(variant.thresholds.p95LatencyMs / 1000), "the configured SLO");
        for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i] > buckets[i - 1], "strictly increasing");
        assert.ok(buckets[0] > 0 && buckets[buckets.length - 1] >= 10);
        for (const metric of metrics) assert.match(text(metric, "max_idle_duration"), /^\d+h$/);
      });

      it(
        variant.loginPath === undefined ? "has no login label without a login path" : "labels login requests when a login path is set",
        () => {
          const match = only(component(root, "loki.process", "nginx_metrics"), "stage.match");
          const keeps = stages(match, "stage.label_keep").map((s) => attr(s, "values"));
          const expected = variant.loginPath === undefined ? ["host", "status"] : ["host", "status", "login"];
          assert.deepEqual(keeps, [expected, ["host"]]);
          const templates = stages(match, "stage.template").map((s) => text(s, "source"));
          assert.deepEqual(templates, variant.loginPath === undefined ? ["host"] : ["host", "login"]);
          if (variant.loginPath === undefined) assert.doesNotMatch(source, /login/);
        },
      );

      it("ships the deploy log with job deploys, each line at its own time", () => {
        assert.deepEqual(attr(component(root, "local.file_match", "deploys"), "path_targets"), [
          { __path__: DEPLOY_LOG, job: LOG_LABELS.deploysJob },
        ]);
        const pipeline = component(root, "loki.process", "deploys");
        assert.deepEqual(attr(pipeline, "forward_to"), [{ ref: "loki.write.logs.receiver" }]);
        const timestamp = only(pipeline, "stage.timestamp");
        assert.equal((attr(only(pipeline, "stage.json"), "expressions") as Record<string, string>)[text(timestamp, "source")], "at");
        assert.equal(text(timestamp, "action_on_failure"), "skip");
      });

      it("reads files only under the folders mounted read-only into Alloy", () => {
        const paths = allBlocks(root).flatMap((b) => [...b.attributes.values()].flatMap(pathTargets));
        assert.equal(paths.length, 2);
        for (const path of paths)
          assert.ok(
            ALLOY_READ_ONLY_MOUNTS.some((mount) => path.startsWith(`${mount}/`)),
            path,
          );
      });

      it(
        variant.remoteLoki ? "writes to the remote Loki, its password read from a secret file" : "writes to the Loki on the droplet",
        () => {
          const endpoint = only(component(root, "loki.write", "logs"), "endpoint");
          const files = root.blocks.filter((b) => b.name === "local.file");
          if (!variant.remoteLoki) {
            assert.equal(text(endpoint, "url"), `http://${SERVICES.loki.alias}:${SERVICES.loki.port}/loki/api/v1/push`);
            assert.equal(LOCAL_LOKI_PUSH_URL, text(endpoint, "url"));
            assert.equal(endpoint.blocks.length, 0);
            assert.equal(files.length, 0);
            return;
          }
          assert.equal(text(endpoint, "url"), variant.remoteLoki.url);
          assert.deepEqual(attr(component(root, "loki.write", "logs"), "external_labels"), { stack: variant.stack });
          if (variant.remoteLoki.username === undefined) {
            assert.equal(endpoint.blocks.length, 0);
            assert.equal(files.length, 0);
            return;
          }
          const auth = only(endpoint, "basic_auth");
          assert.equal(text(auth, "username"), variant.remoteLoki.username);
          assert.equal(files.length, 1);
          assert.deepEqual(attr(auth, "password"), { ref: `local.file.${files[0].label}.content` });
          assert.equal(text(files[0], "filename"), CONFIG_PATHS.alloyRemoteLokiPasswordFile);
          assert.equal(attr(files[0], "is_secret"), true);
        },
      );

      it("holds no secret: no password, token or credential-bearing URL as a literal", () => {
        for (const block of allBlocks(root))
          for (const [name, v] of block.attributes)
            if (/password|token|secret|key/.test(name)) assert.ok(typeof v === "object" || typeof v === "boolean", `${block.name}.${name}`);
        const urls = allBlocks(root).flatMap((b) => (b.attributes.has("url") ? [text(b, "url")] : []));
        for (const url of urls) assert.equal(new URL(url).username + new URL(url).password + new URL(url).search, "");
      });
    });
  }

  it("keeps hostile remote values inside their string literals", () => {
    for (const username of hostileStrings()
      .filter((u) => u !== "" && !u.includes(":") && controlCharacterAt(u) === -1)
      .slice(0, 200)) {
      const remoteLoki = { url: "https://loki.example.org/loki/api/v1/push", username };
      const root = parseAlloy(renderAlloyConfig(settings({ remoteLoki, stack: username })));
      assert.equal(text(only(only(component(root, "loki.write", "logs"), "endpoint"), "basic_auth"), "username"), username);
      assert.deepEqual(attr(component(root, "loki.write", "logs"), "external_labels"), { stack: username });
    }
  });

  it("counts logins under a path with characters Go templates and Alloy quote", () => {
    const loginPath = "/auth/sign-in;v=1/~me@x$&'()*+,=:%2F";
    const root = parseAlloy(renderAlloyConfig(settings({ loginPath })));
    const pipeline = component(root, "loki.process", "nginx_metrics");
    const line = accessLine(DROPSTACK_LOG_FORMAT, {
      remote_addr: "203.0.113.7",
      remote_user: "-",
      time_local: "29/Nov/2026:21:58:52 +0000",
      request: `POST ${loginPath}?next=/ HTTP/1.1`,
      status: "200",
      body_bytes_sent: "10",
      http_referer: "-",
      http_user_agent: "curl/8.5.0",
      host: "api.example.com",
      request_time: "0.020",
    });
    const { observed } = runMetricsPipeline(pipeline, dockerJsonLine(line, CONTAINER_ROLES.proxy), { job: LOG_LABELS.containersJob });
    assert.deepEqual(observed.get(NGINX_LOG_METRICS.requests), { host: "api.example.com", status: "200", login: "true" });
  });

  it("adds the configured SLO as a bucket only when the defaults lack it", () => {
    const defaults = requestSecondsBuckets(base);
    assert.deepEqual(requestSecondsBuckets(settings({ thresholds: { ...DEFAULT_ALERT_THRESHOLDS, p95LatencyMs: 200 } })), defaults);
    const with123 = requestSecondsBuckets(settings({ thresholds: { ...DEFAULT_ALERT_THRESHOLDS, p95LatencyMs: 123 } }));
    assert.deepEqual(
      with123.filter((b) => !defaults.includes(b)),
      [0.123],
    );
    assert.ok(requestSecondsBuckets(settings({ thresholds: { ...DEFAULT_ALERT_THRESHOLDS, p95LatencyMs: 30000 } })).includes(30));
  });

  const PUSH = "https://loki.example.org/loki/api/v1/push";
  const slo = (p95LatencyMs: number) => ({ thresholds: { ...DEFAULT_ALERT_THRESHOLDS, p95LatencyMs } });
  // What is wrong, the setting the message names, and how the message shows the bad value.
  const BAD: [Partial<ObservabilitySettings>, string, string][] = [
    [{ monitoringHost: "Grafana.Example.com" }, "dropstack:hosts.monitoring", '"Grafana.Example.com"'],
    [{ tlsHosts: ["api.example.com", 'x"y.example.com'] }, "dropstack:hosts", String.raw`"x\"y.example.com"`],
    [{ loginPath: "login" }, "dropstack:observability.loginPath", '"login"'],
    [{ loginPath: '/login"}}' }, "dropstack:observability.loginPath", String.raw`"/login\"}}"`],
    [{ loginPath: "/{{ .Value }}" }, "dropstack:observability.loginPath", '"/{{ .Value }}"'],
    [{ loginPath: "/log in" }, "dropstack:observability.loginPath", '"/log in"'],
    [{ loginPath: "/login?x=1" }, "dropstack:observability.loginPath", '"/login?x=1"'],
    [{ loginPath: "/login\n" }, "dropstack:observability.loginPath", String.raw`"/login\n"`],
    [slo(0), "dropstack:observability.thresholds.p95LatencyMs", "got 0"],
    [slo(-150), "dropstack:observability.thresholds.p95LatencyMs", "got -150"],
    [slo(Number.NaN), "dropstack:observability.thresholds.p95LatencyMs", "got NaN"],
    [slo(Number.POSITIVE_INFINITY), "dropstack:observability.thresholds.p95LatencyMs", "got Infinity"],
    [
      { remoteLoki: { url: "http://loki.example.org/loki/api/v1/push" } },
      "dropstack:observability.remoteLoki.url",
      '"http://loki.example.org/loki/api/v1/push"',
    ],
    [{ remoteLoki: { url: "loki.example.org" } }, "dropstack:observability.remoteLoki.url", '"loki.example.org"'],
    [{ remoteLoki: { url: "https://u:p@loki.example.org/loki/api/v1/push" } }, "dropstack:observability.remoteLoki.url", "https://u:p@"],
    [{ remoteLoki: { url: `${PUSH}?token=s3cret` } }, "dropstack:observability.remoteLoki.url", "?token=s3cret"],
    [{ remoteLoki: { url: `${PUSH}#x` } }, "dropstack:observability.remoteLoki.url", "push#x"],
    [{ remoteLoki: { url: "https://loki.example.org/" } }, "dropstack:observability.remoteLoki.url", '"https://loki.example.org/"'],
    [{ remoteLoki: { url: PUSH, username: "a:b" } }, "dropstack:observability.remoteLoki.username", '"a:b"'],
    [{ remoteLoki: { url: PUSH, username: "" } }, "dropstack:observability.remoteLoki.username", 'got ""'],
    [{ remoteLoki: { url: PUSH, username: "a\nb" } }, "dropstack:observability.remoteLoki.username", String.raw`"a\nb"`],
  ];
  for (const [overrides, setting, shown] of BAD) {
    it(`refuses ${JSON.stringify(overrides)}, naming ${setting} and showing ${shown}`, () => {
      const bad = settings(overrides);
      const problems = validateAlloySettings(bad);
      assert.equal(problems.length, 1, problems.join("; "));
      assert.ok(problems[0].startsWith(`${setting} must`), problems[0]);
      assert.ok(problems[0].includes(shown), problems[0]);
      assert.throws(
        () => renderAlloyConfig(bad),
        (error: Error) => error.message.includes(problems[0]),
      );
    });
  }

  it("lists every problem at once", () => {
    const problems = validateAlloySettings(
      settings({ monitoringHost: "x", loginPath: "x", ...slo(0), remoteLoki: { url: "http://x", username: ":" } }),
    );
    assert.equal(problems.length, 6, problems.join("; "));
  });

  it("accepts every variant it renders", () => {
    for (const [, variant] of VARIANTS) assert.deepEqual(validateAlloySettings(variant), []);
  });
});

function references(value: Value): string[] {
  if (Array.isArray(value)) return value.flatMap(references);
  if (value && typeof value === "object")
    return "ref" in value && typeof value.ref === "string" ? [value.ref] : Object.values(value).flatMap(references);
  return [];
}

function pathTargets(value: Value): string[] {
  if (Array.isArray(value)) return value.flatMap(pathTargets);
  if (value && typeof value === "object" && "__path__" in value) return [value.__path__ as string];
  return [];
}

describe("alloyCommand", () => {
  it("runs the rendered config with the HTTP server on Alloy's port, on the app network, and state on the volume", () => {
    const command = alloyCommand();
    assert.equal(command[0], "run");
    assert.equal(
      command
        .filter((a) => !a.startsWith("--"))
        .slice(1)
        .join(),
      CONFIG_PATHS.alloy,
    );
    assert.ok(command.includes(`--server.http.listen-addr=0.0.0.0:${SERVICES.alloy.port}`));
    assert.ok(command.includes(`--storage.path=${ALLOY_STORAGE_PATH}`));
    assert.ok(command.includes("--disable-reporting"));
  });
});
