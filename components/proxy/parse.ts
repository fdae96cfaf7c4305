// Reading a rendered (or hand-written) nginx.conf back, for policies and tests.

export interface NginxDirective {
  name: string;
  args: string[];
  /** Enclosing blocks, outermost first, each as its name and arguments (`location = /health`). */
  context: string[];
  /** True for a block directive (`server`, `location …`), false for a simple one. */
  block: boolean;
}

/**
 * Every directive of an nginx config in file order, with comments dropped and quotes
 * removed from arguments. Follows nginx's own tokenizer closely enough for policies:
 * `#` starts a comment only where a new token could start, and quoted strings may
 * contain `;`, `{`, `}` and `#`. `include` is listed, not followed.
 */
export function nginxDirectives(conf: string): NginxDirective[] {
  const directives: NginxDirective[] = [];
  const context: string[] = [];
  let words: string[] = [];
  let i = 0;
  const flush = (isBlock: boolean) => {
    if (words.length > 0) directives.push({ name: words[0], args: words.slice(1), context: [...context], block: isBlock });
  };
  while (i < conf.length) {
    const ch = conf[i];
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "#") {
      while (i < conf.length && conf[i] !== "\n") i++;
    } else if (ch === ";") {
      flush(false);
      words = [];
      i++;
    } else if (ch === "{") {
      flush(true);
      context.push(words.join(" "));
      words = [];
      i++;
    } else if (ch === "}") {
      context.pop();
      words = [];
      i++;
    } else if (ch === '"' || ch === "'") {
      let word = "";
      i++;
      while (i < conf.length && conf[i] !== ch) {
        if (conf[i] === "\\" && i + 1 < conf.length) {
          word += conf[i + 1] === ch ? ch : conf[i] + conf[i + 1];
          i += 2;
        } else word += conf[i++];
      }
      i++;
      words.push(word);
    } else {
      let word = "";
      while (i < conf.length && !/[\s;{}]/.test(conf[i])) word += conf[i++];
      words.push(word);
    }
  }
  return directives;
}

/**
 * Every protocol named by an `ssl_protocols` directive anywhere in the config, in order,
 * without repeats (e.g. ["TLSv1.2", "TLSv1.3"]). Empty when no directive names any: nginx
 * then uses its compiled-in default, which before 1.23.4 includes TLSv1 and TLSv1.1.
 */
export function tlsProtocolsIn(conf: string): string[] {
  const protocols = nginxDirectives(conf)
    .filter((d) => d.name === "ssl_protocols")
    .flatMap((d) => d.args);
  return [...new Set(protocols)];
}

/**
 * True when some `listen` takes TLS (`listen 443 ssl`). A config without one serves plain HTTP
 * only, as nginx behind a load balancer that terminates TLS does.
 */
export function listensWithTls(conf: string): boolean {
  return nginxDirectives(conf).some((d) => d.name === "listen" && d.args.slice(1).includes("ssl"));
}

/** True when the protocol is older than TLS 1.2 (SSLv2, SSLv3, TLSv1, TLSv1.1). */
export function isBelowTls12(protocol: string): boolean {
  return ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1"].includes(protocol);
}

/**
 * True when the config sends Strict-Transport-Security with a max-age above zero
 * (`add_header Strict-Transport-Security "max-age=…"`) somewhere.
 */
export function hasHsts(conf: string): boolean {
  return nginxDirectives(conf).some((d) => {
    if (d.name !== "add_header" || d.args[0]?.toLowerCase() !== "strict-transport-security") return false;
    const maxAge = /max-age=(\d+)/i.exec(d.args[1] ?? "");
    return maxAge !== null && Number(maxAge[1]) > 0;
  });
}

/**
 * The value of every `add_header Content-Security-Policy` in the config, in file order. The
 * header name is case-insensitive, as in HTTP; Content-Security-Policy-Report-Only is left
 * out, since it blocks nothing.
 */
export function contentSecurityPoliciesIn(conf: string): string[] {
  return nginxDirectives(conf)
    .filter((d) => d.name === "add_header" && d.args[0]?.toLowerCase() === "content-security-policy" && d.args[1] !== undefined)
    .map((d) => d.args[1]);
}

// CSP's ASCII whitespace (tab, LF, FF, CR, space), which separates a directive's name and values.
const CSP_WHITESPACE = /[\t\n\f\r ]+/;
// nonce-source and hash-source (CSP Level 3 §2.3.1): a quoted prefix and a non-empty base64 value.
// ABNF literals are case-insensitive, so `'NONCE-…'` and `'SHA256-…'` count too.
const NONCE_OR_HASH_SOURCE = /^'(?:nonce|sha256|sha384|sha512)-[A-Za-z0-9+/_-]+={0,2}'$/i;
// Where a browser looks up the sources of inline scripts: script-src-elem for <script> elements
// and script-src-attr for event-handler attributes (CSP Level 3), each falling back to
// script-src, then default-src; a CSP Level 2 browser knows only the last two.
const SCRIPT_DIRECTIVE_FALLBACKS = [
  ["script-src", "default-src"],
  ["script-src-elem", "script-src", "default-src"],
  ["script-src-attr", "script-src", "default-src"],
];

interface CspDirective {
  /** As written, with its whitespace collapsed, for messages. */
  text: string;
  /** The source expressions, lower-cased (keywords are case-insensitive). */
  sources: string[];
}

/** One policy's directives by lower-cased name; the first of a repeated name wins, as in the CSP spec. */
function cspDirectives(policy: string): Map<string, CspDirective> {
  const directives = new Map<string, CspDirective>();
  for (const part of policy.split(";")) {
    const [name, ...sources] = part.split(CSP_WHITESPACE).filter((token) => token !== "");
    if (name === undefined || directives.has(name.toLowerCase())) continue;
    directives.set(name.toLowerCase(), { text: [name, ...sources].join(" "), sources: sources.map((s) => s.toLowerCase()) });
  }
  return directives;
}

/**
 * Whether a directive's sources let any inline script run: 'unsafe-inline' without a nonce, a
 * hash or 'strict-dynamic', each of which makes CSP Level 2+ browsers ignore 'unsafe-inline'.
 */
function allowsAllInline(sources: string[]): boolean {
  return (
    sources.includes("'unsafe-inline'") &&
    !sources.includes("'strict-dynamic'") &&
    !sources.some((source) => NONCE_OR_HASH_SOURCE.test(source))
  );
}

/**
 * The directive of a Content-Security-Policy header value that lets inline scripts run (e.g.
 * `script-src 'self' 'unsafe-inline'`), or undefined when none does. The value may list several
 * policies separated by commas: the browser enforces them all, so an inline script runs only
 * where none of them blocks it. A policy without any script directive or default-src restricts
 * no scripts, but names no directive to change either: it is not reported.
 */
export function allowsInlineScripts(csp: string): string | undefined {
  const policies = csp.split(",").map(cspDirectives);
  for (const fallbacks of SCRIPT_DIRECTIVE_FALLBACKS) {
    const effective = policies.map((directives) => fallbacks.map((name) => directives.get(name)).find((d) => d !== undefined));
    if (effective.some((d) => d !== undefined && !allowsAllInline(d.sources))) continue;
    const allowing = effective.find((d) => d !== undefined);
    if (allowing !== undefined) return allowing.text;
  }
  return undefined;
}
