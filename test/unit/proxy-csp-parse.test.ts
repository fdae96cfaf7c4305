// Reading Content-Security-Policy headers back from an nginx.conf, and telling whether one lets
// inline scripts run: the parsing nginx-csp-no-unsafe-inline-scripts relies on. Each case is a
// class of inputs (keyword and name case, whitespace, quoting, repeats, what neutralises
// 'unsafe-inline', which directive governs scripts) crossed with the others.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allowsInlineScripts, contentSecurityPoliciesIn } from "../../components/proxy/parse";
import { renderNginxConf } from "../../components/proxy/render";

/** The CSP dropstack sends unless the stack sets its own: it restricts no scripts. */
const DROPSTACK_DEFAULT_CSP = "base-uri 'self'; frame-ancestors 'none'; object-src 'none'";

const UNSAFE_INLINE_SPELLINGS = ["'unsafe-inline'", "'UNSAFE-INLINE'", "'Unsafe-Inline'"];
const NEUTRALISERS = [
  "'nonce-r4nd0m'",
  "'NONCE-AbC+/_-=='",
  "'nonce-YWJj='",
  `'sha256-${"A".repeat(43)}='`,
  `'SHA384-${"b".repeat(64)}'`,
  `'sha512-${"c/".repeat(43)}=='`,
  "'strict-dynamic'",
  "'STRICT-Dynamic'",
];
// Look like a nonce or hash but do not match the grammar, or are other keywords: 'unsafe-inline' stands.
const NOT_NEUTRALISERS = [
  "'nonce-'",
  "nonce-abc",
  "'nonce-a b'",
  "'sha1-abc='",
  "'sha256-'",
  "'sha256-abc'=",
  "'nonce-abc==='",
  "'sha384-ab=c'",
  "'unsafe-hashes'",
  "'unsafe-eval'",
  "strict-dynamic",
  "'self'",
  "https://cdn.example.com",
];
// Not the 'unsafe-inline' keyword, so they allow no inline script.
const NOT_UNSAFE_INLINE = ["unsafe-inline", '"unsafe-inline"', "'unsafe-inline", "'unsafe-inline-x'", "'self'", "'none'", "'unsafe-eval'"];
const SCRIPT_DIRECTIVES = ["script-src", "default-src", "script-src-elem", "script-src-attr"];
const NAME_SPELLINGS = (name: string) => [name, name.toUpperCase(), name[0].toUpperCase() + name.slice(1)];
// Ways a directive may be spaced and terminated.
const LAYOUTS: ((name: string, sources: string[]) => string)[] = [
  (name, sources) => [name, ...sources].join(" "),
  (name, sources) => `  ${[name, ...sources].join("   ")}  ;`,
  (name, sources) => [name, ...sources].join("\t") + ";;",
  (name, sources) => `object-src 'none';\n${[name, ...sources].join("\r\n ")}; base-uri 'self'`,
];

describe("contentSecurityPoliciesIn", () => {
  const render = (contentSecurityPolicy?: string) =>
    renderNginxConf({
      hosts: { api: "api.example.com", app: "app.example.com" },
      upstream: { alias: "api", port: 8000 },
      hsts: true,
      contentSecurityPolicy,
    });

  it("reads the CSP the renderer sends, on every server that sends it, and nothing without one", () => {
    for (const csp of [DROPSTACK_DEFAULT_CSP, "script-src 'self' 'unsafe-inline'; default-src 'none'", "default-src 'self'"]) {
      const found = contentSecurityPoliciesIn(render(csp));
      assert.ok(found.length >= 2, `one per host at least: ${found.length}`);
      assert.deepEqual(new Set(found), new Set([csp]));
    }
    assert.deepEqual(contentSecurityPoliciesIn(render()), []);
  });

  it("matches the header name in any case and the value in any nginx quoting, in file order", () => {
    for (const name of NAME_SPELLINGS("content-security-policy")) {
      const conf = [
        `http { server { add_header ${name} "script-src 'self'" always;`,
        `location / { add_header ${name} 'default-src https:'; }`,
        `add_header ${name} default-src; } }`,
      ].join("\n");
      assert.deepEqual(contentSecurityPoliciesIn(conf), ["script-src 'self'", "default-src https:", "default-src"], name);
    }
  });

  it("leaves out other headers, report-only policies, comments and a header without a value", () => {
    const conf = [
      `add_header Content-Security-Policy-Report-Only "script-src 'unsafe-inline'";`,
      `add_header X-Content-Security-Policy "script-src 'unsafe-inline'";`,
      `proxy_hide_header Content-Security-Policy;`,
      `# add_header Content-Security-Policy "script-src 'unsafe-inline'";`,
      `more_set_headers "Content-Security-Policy: script-src 'unsafe-inline'";`,
      `add_header Content-Security-Policy;`,
    ].join("\n");
    assert.deepEqual(contentSecurityPoliciesIn(conf), []);
  });
});

describe("allowsInlineScripts", () => {
  it("names a script directive that allows 'unsafe-inline', in any spelling and spacing, whitespace collapsed", () => {
    for (const directive of SCRIPT_DIRECTIVES)
      for (const name of NAME_SPELLINGS(directive))
        for (const keyword of UNSAFE_INLINE_SPELLINGS)
          for (const layout of LAYOUTS) {
            const csp = layout(name, ["'self'", keyword]);
            assert.equal(allowsInlineScripts(csp), `${name} 'self' ${keyword}`, JSON.stringify(csp));
          }
  });

  it("accepts 'unsafe-inline' beside a nonce, a hash or 'strict-dynamic', in any position and case", () => {
    for (const directive of SCRIPT_DIRECTIVES)
      for (const neutraliser of NEUTRALISERS)
        for (const sources of [
          ["'unsafe-inline'", neutraliser],
          [neutraliser, "'self'", "'UNSAFE-INLINE'"],
        ]) {
          const csp = `${directive} ${sources.join(" ")}`;
          assert.equal(allowsInlineScripts(csp), undefined, csp);
        }
  });

  it("still reports 'unsafe-inline' beside sources that only look like a nonce or a hash, or are other keywords", () => {
    for (const directive of SCRIPT_DIRECTIVES)
      for (const other of NOT_NEUTRALISERS) {
        const csp = `${directive} 'unsafe-inline' ${other}`;
        assert.equal(allowsInlineScripts(csp), csp, csp);
      }
  });

  it("passes script directives without the 'unsafe-inline' keyword", () => {
    for (const directive of SCRIPT_DIRECTIVES)
      for (const source of NOT_UNSAFE_INLINE)
        for (const layout of LAYOUTS) {
          const csp = layout(directive, [source, "https://cdn.example.com"]);
          assert.equal(allowsInlineScripts(csp), undefined, JSON.stringify(csp));
        }
  });

  it("passes a CSP that restricts no scripts at all, dropstack's default among them", () => {
    for (const csp of [
      DROPSTACK_DEFAULT_CSP,
      "",
      " ; ;",
      "style-src 'self' 'unsafe-inline'; img-src *",
      "xscript-src 'unsafe-inline'; script-src-foo 'unsafe-inline'; default 'unsafe-inline'",
      "script-src-elem 'self'",
      "script-src-attr 'none'",
    ])
      assert.equal(allowsInlineScripts(csp), undefined, csp);
  });

  it("falls back from script-src to default-src only when script-src is absent", () => {
    assert.equal(allowsInlineScripts("default-src 'unsafe-inline'; script-src 'self'"), undefined);
    assert.equal(allowsInlineScripts("script-src 'self'; default-src 'unsafe-inline'"), undefined);
    assert.equal(allowsInlineScripts("default-src 'self'; script-src 'unsafe-inline'"), "script-src 'unsafe-inline'");
    assert.equal(allowsInlineScripts("default-src 'self' 'unsafe-inline'; img-src 'self'"), "default-src 'self' 'unsafe-inline'");
    assert.equal(allowsInlineScripts("default-src 'unsafe-inline'; script-src 'self' 'nonce-abc'"), undefined);
  });

  it("reads script-src-elem for <script> elements and script-src-attr for handlers, which browsers without them skip", () => {
    for (const [csp, offending] of [
      ["script-src 'self'; script-src-elem 'self' 'unsafe-inline'", "script-src-elem 'self' 'unsafe-inline'"],
      ["default-src 'self'; script-src-elem 'unsafe-inline'", "script-src-elem 'unsafe-inline'"],
      ["script-src-elem 'unsafe-inline'", "script-src-elem 'unsafe-inline'"],
      ["script-src 'self'; script-src-attr 'unsafe-inline'", "script-src-attr 'unsafe-inline'"],
      // A browser without script-src-elem (CSP Level 2) reads script-src, and handlers always do here.
      ["script-src 'unsafe-inline'; script-src-elem 'self'", "script-src 'unsafe-inline'"],
      ["default-src 'unsafe-inline'; script-src-elem 'self'; script-src-attr 'none'", "default-src 'unsafe-inline'"],
      ["script-src 'self'; script-src-elem 'self'; script-src-attr 'none'", undefined],
      ["script-src 'self'; script-src-elem 'unsafe-inline' 'nonce-abc'", undefined],
      ["script-src-elem 'unsafe-inline' 'strict-dynamic'; script-src-attr 'unsafe-inline' 'sha256-abc='", undefined],
    ] as const)
      assert.equal(allowsInlineScripts(csp), offending, csp);
  });

  it("keeps the first of a repeated directive, whatever the case of its name", () => {
    for (const directive of SCRIPT_DIRECTIVES)
      for (const [first, second] of [
        [directive, directive],
        [directive.toUpperCase(), directive],
        [directive, directive.toUpperCase()],
      ]) {
        assert.equal(allowsInlineScripts(`${first} 'self'; ${second} 'unsafe-inline'`), undefined, `${first}, ${second}`);
        assert.equal(allowsInlineScripts(`${first} 'unsafe-inline'; ${second} 'self'`), `${first} 'unsafe-inline'`, `${first}, ${second}`);
      }
  });

  it("lets inline scripts run under a list of policies only when none of them blocks them", () => {
    for (const [csp, offending] of [
      ["script-src 'unsafe-inline', script-src 'self'", undefined],
      ["script-src 'self', default-src 'unsafe-inline'", undefined],
      ["script-src 'unsafe-inline' , object-src 'none'", "script-src 'unsafe-inline'"],
      [`${DROPSTACK_DEFAULT_CSP}, default-src 'unsafe-inline'`, "default-src 'unsafe-inline'"],
      ["script-src 'unsafe-inline', default-src * 'unsafe-inline'", "script-src 'unsafe-inline'"],
      // The list blocks handlers but not elements: the first policy still lets <script> run.
      ["script-src-elem 'unsafe-inline'; script-src-attr 'none', script-src-attr 'unsafe-inline'", "script-src-elem 'unsafe-inline'"],
      ["script-src 'unsafe-inline',", "script-src 'unsafe-inline'"],
    ] as const)
      assert.equal(allowsInlineScripts(csp), offending, csp);
  });
});
