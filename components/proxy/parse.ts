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
