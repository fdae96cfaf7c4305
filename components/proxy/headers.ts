// The security headers every HTTPS answer carries.

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
