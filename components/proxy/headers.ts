// The security headers every HTTPS answer carries.

/**
 * dropstack:proxy.csp's default: what no page needs (plugins, a <base> elsewhere, being framed),
 * so it breaks no app while the app's own script and connect sources are unknown.
 */
export const DEFAULT_CONTENT_SECURITY_POLICY = "base-uri 'self'; frame-ancestors 'none'; object-src 'none'";

/** A year, as browsers and the HSTS preload list expect. */
export const HSTS_MAX_AGE_SECONDS = 31536000;

// Header values go inside double quotes: printable ASCII without `"`, `\` or `$`.
const HEADER_VALUE = /^[ !#%-[\]-~]+$/;

/** True when `value` can stand inside nginx's double quotes as a header value. */
export function isHeaderValue(value: string): boolean {
  return HEADER_VALUE.test(value);
}

/**
 * add_header lines for every response of a server or location: HSTS (production), framing,
 * sniffing, referrer, and the Content-Security-Policy when there is one. A location with its
 * own add_header drops every add_header of the server, so such a location repeats these.
 */
export function securityHeaders(hsts: boolean, csp: string | undefined): string[] {
  return [
    ...(hsts ? [`add_header Strict-Transport-Security "max-age=${HSTS_MAX_AGE_SECONDS}; includeSubDomains" always;`] : []),
    'add_header X-Frame-Options "DENY" always;',
    'add_header X-Content-Type-Options "nosniff" always;',
    // "0", not the once-common "1; mode=block": browsers removed the XSS auditor, and in the ones
    // that kept it, block mode could be abused to leak page content (OWASP's advice is 0).
    'add_header X-XSS-Protection "0" always;',
    'add_header Referrer-Policy "strict-origin-when-cross-origin" always;',
    ...(csp ? [`add_header Content-Security-Policy "${csp}" always;`] : []),
  ];
}

// Every header securityHeaders may set but the Content-Security-Policy, which a proxied
// service may set itself when nginx sets none.
const SECURITY_HEADER_NAMES = [
  "Strict-Transport-Security",
  "X-Frame-Options",
  "X-Content-Type-Options",
  "X-XSS-Protection",
  "Referrer-Policy",
];

/**
 * proxy_hide_header lines for a proxied service that sends its own security headers (Grafana
 * sends X-Frame-Options, X-Content-Type-Options and X-XSS-Protection "1; mode=block"), so the
 * browser gets nginx's value alone and never two that disagree.
 */
export function hideUpstreamSecurityHeaders(): string[] {
  return SECURITY_HEADER_NAMES.map((name) => `proxy_hide_header ${name};`);
}
