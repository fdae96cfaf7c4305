// Config errors (exit 2) for every class the guardrails close, each tried in many
// generated variants: unknown keys with the nearest known key, ranges stated, values
// repeated, no schema-library wording, line breaks anywhere, health path, proxy bounds,
// promotion, Auth0 URLs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TOP_LEVEL_KEYS, nearestKey, parseStackConfig } from "../../components/config/schema";
import { describeAuth0UrlProblem, insecureUrlReason } from "../../components/identity/urls";
import { MAX_RATE, RESERVED_ROUTE_PREFIXES, describeHealthPathProblem } from "../../components/proxy/settings";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFr0m6wZc1Q3x8mV8m7bQJ0xWcN6iE4p5Yl9oUuKqP2S ops@example.com";
const minimal = (): Record<string, unknown> => ({
  region: "fra1",
  domain: "example.com",
  hosts: { api: "api.example.com" },
  sshPublicKeys: [KEY],
  app: { image: "ghcr.io/acme/api:1.0.0", migrate: "alembic upgrade head" },
  tls: { email: "ops@example.com" },
});
const production = (): Record<string, unknown> => ({
  ...minimal(),
  adminCidrs: ["198.51.100.0/24"],
  backups: { offsite: true, keep: 14 },
  promotion: { stagingStack: "acme/dropstack/staging" },
});

function problems(raw: Record<string, unknown>, stack = "staging"): string[] {
  const result = parseStackConfig(raw, stack);
  return result.ok ? [] : result.problems;
}

/** Typos a hand makes: a dropped, doubled, swapped or changed letter, case, a plural. */
function typos(key: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i < key.length; i++) {
    out.add(key.slice(0, i) + key.slice(i + 1));
    out.add(key.slice(0, i) + key[i] + key.slice(i));
    if (i + 1 < key.length) out.add(key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2));
  }
  out.add(key.toUpperCase());
  out.add(`${key}s`);
  return [...out].filter((t) => t !== key && t.length > 2);
}

describe("unknown keys", () => {
  it("names every unknown top-level key with the nearest known one", () => {
    let tried = 0;
    for (const key of TOP_LEVEL_KEYS) {
      for (const typo of typos(key)) {
        if (TOP_LEVEL_KEYS.includes(typo)) continue;
        const found = problems({ ...minimal(), [typo]: "x" });
        const nearest = nearestKey(typo, TOP_LEVEL_KEYS);
        assert.ok(found.includes(`dropstack:${typo}: unknown key; did you mean dropstack:${nearest}?`), `${typo}: ${found.join("\n")}`);
        tried++;
      }
    }
    assert.ok(tried > 300, `${tried} typos`);
    assert.deepEqual(problems({ ...minimal(), adminCidr: ["198.51.100.0/24"] }), [
      "dropstack:adminCidr: unknown key; did you mean dropstack:adminCidrs?",
    ]);
    assert.deepEqual(problems({ ...minimal(), proxies: { rateLimit: 5 } }), [
      "dropstack:proxies: unknown key; did you mean dropstack:proxy?",
    ]);
  });

  it("suggests the nearest key at every depth", () => {
    const nested: [Record<string, unknown>, string][] = [
      [{ droplet: { sise: "x" } }, "dropstack:droplet.sise: unknown key; did you mean dropstack:droplet.size?"],
      [
        { postgres: { maintenance: { huor: 3 } } },
        "dropstack:postgres.maintenance.huor: unknown key; did you mean dropstack:postgres.maintenance.hour?",
      ],
      [{ app: { ...(minimal().app as object), replica: 2 } }, "dropstack:app.replica: unknown key; did you mean dropstack:app.replicas?"],
      [
        { app: { ...(minimal().app as object), workers: [{ name: "w", command: "c", comand: "c" }] } },
        "dropstack:app.workers.0.comand: unknown key; did you mean dropstack:app.workers.0.command?",
      ],
      [{ proxy: { ratelimit: 5 } }, "dropstack:proxy.ratelimit: unknown key; did you mean dropstack:proxy.rateLimit?"],
      [{ tls: { email: "ops@example.com", stagin: true } }, "dropstack:tls.stagin: unknown key; did you mean dropstack:tls.staging?"],
      [
        { auth0: { apiIdentifier: "https://api.example.com", spa: { callback: [] } } },
        "dropstack:auth0.spa.callback: unknown key; did you mean dropstack:auth0.spa.callbacks?",
      ],
    ];
    for (const [change, expected] of nested) assert.deepEqual(problems({ ...minimal(), ...change }), [expected]);
  });

  it("explains a dotted top-level key: it belongs inside its object", () => {
    assert.deepEqual(problems({ ...minimal(), "app.port": 80 }), [
      "dropstack:app.port: unknown key; nested keys live inside dropstack:app: set it with pulumi config set --path 'dropstack:app.port' <value>",
    ]);
  });
});

describe("messages", () => {
  const ranges: [string, (v: unknown) => Record<string, unknown>, number, number][] = [
    ["postgres.nodes", (v) => ({ postgres: { nodes: v } }), 1, 3],
    ["postgres.maintenance.hour", (v) => ({ postgres: { maintenance: { hour: v } } }), 0, 23],
    ["app.port", (v) => ({ app: { ...(minimal().app as object), port: v } }), 1, 65535],
    ["app.replicas", (v) => ({ app: { ...(minimal().app as object), replicas: v } }), 1, 10],
    ["droplet.volumeGb", (v) => ({ droplet: { volumeGb: v } }), 1, 16384],
    ["backups.keep", (v) => ({ backups: { keep: v, offsite: false } }), 1, 365],
  ];

  it("states the range and repeats the value for every out-of-range or non-integer number", () => {
    for (const [key, set, min, max] of ranges) {
      for (const value of [min - 1, max + 1, max * 1000, -1e9, min + 0.5, "eighty", true, null, [], {}]) {
        assert.deepEqual(
          problems({ ...minimal(), ...set(value) }),
          [`dropstack:${key}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`],
          `${key} = ${JSON.stringify(value)}`,
        );
      }
      for (const value of [min, max]) assert.deepEqual(problems({ ...minimal(), ...set(value) }), [], `${key} = ${value}`);
    }
  });

  it("never shows the schema library's own wording", () => {
    const bad: Record<string, unknown>[] = [
      { hosts: "api.example.com" },
      { hosts: [] },
      { adminCidrs: "198.51.100.0/24" },
      { adminCidrs: [] },
      { sshPublicKeys: [] },
      { sshPublicKeys: "k" },
      { app: "x" },
      { app: { image: 1, migrate: 2, env: [], workers: {} } },
      { tls: { email: 5 } },
      { alerts: { emails: "ops@example.com" } },
      { auth0: { apiIdentifier: "" } },
      { auth0: { apiIdentifier: "a", roles: { r: "read" } } },
      { promotion: { stagingStack: 7 } },
      { manageDns: "yes" },
      { region: 1 },
      { droplet: [] },
      { appSecrets: { A: 1 } },
      { proxy: { maxBodySize: 10 } },
    ];
    for (const change of bad) {
      const found = problems({ ...minimal(), ...change });
      assert.ok(found.length > 0, JSON.stringify(change));
      for (const line of found) {
        assert.match(line, /^dropstack:[\w.:-]+: /);
        assert.doesNotMatch(line, /Invalid input|Too (small|big)|received|expected (string|number|boolean|object|array|record)\b/, line);
      }
    }
  });

  it("repeats bad emails and hostnames", () => {
    for (const value of ["ops", "ops@", "@example.com", "ops@example", "ops example@x.com"]) {
      assert.deepEqual(problems({ ...minimal(), alerts: { emails: [value] } }), [
        `dropstack:alerts.emails.0: expected an email address, got ${JSON.stringify(value)}`,
      ]);
      assert.deepEqual(problems({ ...minimal(), tls: { email: value } }), [
        `dropstack:tls.email: expected an email address, got ${JSON.stringify(value)}`,
      ]);
    }
    assert.deepEqual(problems({ ...minimal(), hosts: { api: "not a host" } }), [
      'dropstack:hosts.api: expected a fully qualified hostname like api.example.com, got "not a host"',
    ]);
  });

  it("never repeats a secret value", () => {
    const found = problems({ ...minimal(), appSecrets: { TOKEN: "hunter2\nsecond-line", OTHER: 12345 } });
    assert.equal(found.length, 2);
    for (const line of found) assert.doesNotMatch(line, /hunter2|second-line|12345/);
  });
});

describe("values that reach a shell, an env file or a config file", () => {
  const controls = ["\n", "\r", "\r\n", "\u0000", "\u001b[31m", "\u000b", "\u000c", "\u007f"];
  const places: [string, (v: string) => Record<string, unknown>][] = [
    ["app.env.FOO", (v) => ({ app: { ...(minimal().app as object), env: { FOO: v } } })],
    ["appSecrets.SECRET_KEY", (v) => ({ appSecrets: { SECRET_KEY: v } })],
    ["app.migrate", (v) => ({ app: { ...(minimal().app as object), migrate: `alembic upgrade head${v}rm -rf /` } })],
    ["app.workers.0.command", (v) => ({ app: { ...(minimal().app as object), workers: [{ name: "w", command: `celery${v}worker` }] } })],
    ["tls.email", (v) => ({ tls: { email: `ops@example.com${v}` } })],
    ["sshPublicKeys.0", (v) => ({ sshPublicKeys: [`${KEY}${v}ssh-ed25519 AAAA attacker`] })],
    ["auth0.apiIdentifier", (v) => ({ auth0: { apiIdentifier: `https://api.example.com${v}x` } })],
    ["alerts.emails.0", (v) => ({ alerts: { emails: [`ops@example.com${v}`] } })],
    ["redis.maxmemory", (v) => ({ redis: { maxmemory: `256mb${v}` } })],
    ["proxy.maxBodySize", (v) => ({ proxy: { maxBodySize: `10m${v}` } })],
  ];

  it("refuses a line break or control character in any of them, naming the key", () => {
    for (const [key, set] of places) {
      for (const control of controls) {
        const found = problems({ ...minimal(), ...set(control) });
        assert.ok(
          found.some((p) => p.startsWith(`dropstack:${key}: contains a line break or control character (U+`)),
          `${key} with ${JSON.stringify(control)}: ${found.join("\n")}`,
        );
      }
    }
  });

  it("keeps tabs and ordinary punctuation, which the hooks and docker's env file pass through literally", () => {
    const result = parseStackConfig(
      { ...minimal(), app: { ...(minimal().app as object), env: { A: "x\ty", B: "$(id) `id` ; | & ' \" \\ *" } } },
      "staging",
    );
    assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
  });
});

describe("the health path", () => {
  it("refuses / and every path under an API or sign-in route, in any case", () => {
    assert.match(describeHealthPathProblem("/") ?? "", /whole site/);
    for (const prefix of RESERVED_ROUTE_PREFIXES) {
      for (const path of [`/${prefix}`, `/${prefix}/health`, `/${prefix.toUpperCase()}/healthz`, `/${prefix}/v1/status`]) {
        assert.match(describeHealthPathProblem(path) ?? "", /API or sign-in routes/, path);
        assert.deepEqual(problems({ ...minimal(), app: { ...(minimal().app as object), healthPath: path } }), [
          `dropstack:app.healthPath: ${describeHealthPathProblem(path)}`,
        ]);
      }
    }
  });

  it("refuses paths nginx would match differently than written", () => {
    for (const path of [
      "health",
      "//health",
      "/health/",
      "/./health",
      "/health/..",
      "/health?x=1",
      "/health#a",
      "/he alth",
      "/health;x",
      "/%2e%2e",
    ]) {
      assert.ok(describeHealthPathProblem(path), path);
    }
  });

  it("accepts dedicated paths", () => {
    for (const path of ["/health", "/healthz", "/_health", "/status/live", "/ping", "/-/ready"])
      assert.equal(describeHealthPathProblem(path), undefined, path);
  });
});

describe("proxy bounds", () => {
  const proxy = (settings: Record<string, unknown>) => problems({ ...minimal(), proxy: settings });
  it("states the range for rateLimit and burst", () => {
    for (const v of [0, -1, MAX_RATE + 1, 2 ** 53, 1.5, "10"]) {
      assert.deepEqual(proxy({ rateLimit: v }), [
        `dropstack:proxy.rateLimit: must be a whole number of requests per second from 1 to ${MAX_RATE}, got ${JSON.stringify(v)}`,
      ]);
    }
    for (const v of [-1, MAX_RATE + 1, 1e12, 0.5]) {
      assert.deepEqual(proxy({ burst: v }), [
        `dropstack:proxy.burst: must be a whole number of requests from 0 to ${MAX_RATE}, got ${JSON.stringify(v)}`,
      ]);
    }
    assert.deepEqual(proxy({ rateLimit: MAX_RATE, burst: MAX_RATE }), []);
  });

  it("refuses body sizes over 1g in every unit, and values nginx cannot parse", () => {
    for (const v of ["1025m", "1048577k", "1073741825", "2g", "2G", "99999999999999999g", "9223372036854775807"]) {
      assert.deepEqual(proxy({ maxBodySize: v }), [`dropstack:proxy.maxBodySize: must be 1 byte to 1g, got ${JSON.stringify(v)}`], v);
    }
    for (const v of ["0", "10mb", "1.5m", "-1m", "", "10 m", "1t"])
      assert.match(proxy({ maxBodySize: v })[0] ?? "", /expected an nginx size/, v);
    for (const v of ["1", "1g", "1024m", "1048576k", "1073741824", "512K"]) assert.deepEqual(proxy({ maxBodySize: v }), [], v);
  });
});

describe("promotion", () => {
  it("requires a fully qualified staging stack that is not this stack", () => {
    for (const value of [
      "staging",
      "dropstack/staging",
      "acme/dropstack/staging/x",
      "acme//staging",
      " acme/dropstack/staging",
      "acme/dropstack/stag ing",
    ]) {
      assert.deepEqual(problems({ ...production(), promotion: { stagingStack: value } }, "production"), [
        `dropstack:promotion.stagingStack: expected the staging stack's fully qualified name, org/project/stack (e.g. acme/dropstack/staging), got ${JSON.stringify(value)}`,
      ]);
    }
    for (const stack of ["production", "prod"]) {
      assert.deepEqual(problems({ ...production(), promotion: { stagingStack: `acme/dropstack/${stack}` } }, stack), [
        `dropstack:promotion.stagingStack: "acme/dropstack/${stack}" is this stack; name the staging stack whose smoke-tested image may ship`,
      ]);
    }
    assert.deepEqual(problems({ ...production(), promotion: { stagingStack: "acme/dropstack/staging-eu" } }, "production"), []);
    assert.deepEqual(problems({ ...production(), promotion: { stagingStack: "acme/other-project/production" } }, "production"), []);
  });
});

describe("Auth0 URLs", () => {
  const spa = (callbacks: string[]) => problems({ ...minimal(), auth0: { apiIdentifier: "https://api.example.com", spa: { callbacks } } });

  it("refuses malformed URLs, non-web schemes and credentials as config errors", () => {
    const bad = [
      "http:/app.example.com",
      "https:/app.example.com",
      "https:app.example.com",
      "http:app.example.com",
      "app.example.com",
      "//app.example.com",
      "javascript:alert(1)",
      "JavaScript:alert(1)",
      "data:text/html,x",
      "file:///etc/passwd",
      "ftp://app.example.com",
      "vbscript:x",
      "blob:https://a.example.com/x",
      "myapp://callback",
      "https://user:pass@app.example.com",
      "https://user@app.example.com",
      "",
      "https://",
    ];
    for (const url of bad) {
      const found = spa([url]);
      assert.equal(found.length, 1, `${url}: ${found.join("\n")}`);
      assert.ok(found[0].startsWith("dropstack:auth0.spa.callbacks.0: ") && found[0].includes(JSON.stringify(url)), found[0]);
    }
  });

  it("refuses wildcards on public suffixes and shared hosting domains", () => {
    const suffixes = [
      "com",
      "co.uk",
      "vercel.app",
      "netlify.app",
      "github.io",
      "herokuapp.com",
      "pages.dev",
      "web.app",
      "firebaseapp.com",
      "azurewebsites.net",
      "s3.amazonaws.com",
      "blogspot.com",
      "com.au",
      "onrender.com",
    ];
    for (const suffix of suffixes) {
      for (const url of [
        `https://*.${suffix}`,
        `https://*.${suffix}/callback`,
        `https://*.${suffix.toUpperCase()}`,
        `https://*.${suffix}.`,
      ]) {
        assert.match(describeAuth0UrlProblem(url) ?? "", /public suffix/, url);
      }
    }
    for (const url of ["https://a.*.example.com", "https://*.*.example.com", "https://app*.example.com", "https://*"])
      assert.ok(describeAuth0UrlProblem(url), url);
    for (const url of ["https://*.example.com", "https://*.acme.vercel.app", "https://*.acme.co.uk/cb"])
      assert.equal(describeAuth0UrlProblem(url), undefined, url);
  });

  it("flags loopback in every spelling and every non-https scheme for the policy", () => {
    const hosts = [
      "localhost",
      "LOCALHOST",
      "localhost.",
      "LocalHost.",
      "app.localhost",
      "app.localhost.",
      "127.0.0.1",
      "127.1",
      "127.0.1",
      "127.255.255.254",
      "0x7f.1",
      "0x7f000001",
      "2130706433",
      "0177.0.0.1",
      "017700000001",
      "[::1]",
      "[0:0:0:0:0:0:0:1]",
      "[0000:0000:0000:0000:0000:0000:0000:0001]",
      "[::ffff:127.0.0.1]",
      "[::ffff:7f00:1]",
      "0.0.0.0",
      "0",
      "[::]",
      "[0:0::0]",
    ];
    for (const host of hosts) {
      for (const url of [`https://${host}`, `https://${host}:3000/callback`, `https://${host}/`])
        assert.match(insecureUrlReason(url) ?? "", /localhost|loopback/, url);
    }
    for (const url of ["http://app.example.com", "HTTP://app.example.com", "ws://app.example.com", "javascript:alert(1)"])
      assert.ok(insecureUrlReason(url), url);
    for (const url of ["https://app.example.com", "https://127.example.com", "https://localhost.example.com", "https://[2001:db8::1]"])
      assert.equal(insecureUrlReason(url), undefined, url);
  });
});
