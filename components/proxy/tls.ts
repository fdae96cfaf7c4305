// TLS in nginx.conf: Mozilla's intermediate profile for the http block, and the head of
// every HTTPS server (listen, certificate, optional OCSP stapling).
import { HTTP2_DIRECTIVE_SINCE, nginxVersionAtLeast } from "./versions";
import type { CertificatePaths } from "./paths";

/**
 * TLS 1.2 ciphers of Mozilla's "intermediate" profile, ECDHE only: the profile's DHE suites
 * need an `ssl_dhparam` file, without which nginx never picks them, and every client the
 * profile supports speaks ECDHE. TLS 1.3 suites are OpenSSL's defaults, which are the profile's.
 */
export const INTERMEDIATE_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
] as const;

/** The http block's TLS settings: Mozilla intermediate. */
export function tlsSettings(): string[] {
  return [
    "# Mozilla intermediate TLS.",
    "ssl_protocols TLSv1.2 TLSv1.3;",
    `ssl_ciphers ${INTERMEDIATE_CIPHERS.join(":")};`,
    "ssl_prefer_server_ciphers off;",
    "ssl_ecdh_curve X25519:prime256v1:secp384r1;",
    "ssl_session_cache shared:dropstack_tls:10m;",
    "ssl_session_timeout 1d;",
    "ssl_session_tickets off;",
  ];
}

/** `listen … ssl` for `address:port` (or `port`), with HTTP/2 spelled as `nginxVersion` wants it. */
export function httpsListen(on: string, nginxVersion: string, extra = ""): string[] {
  const http2Directive = nginxVersionAtLeast(nginxVersion, HTTP2_DIRECTIVE_SINCE);
  return [`listen ${on} ssl${http2Directive ? "" : " http2"}${extra};`, ...(http2Directive ? ["http2 on;"] : [])];
}

/** The first lines of an HTTPS server for `host`: listen, name, certificate, OCSP stapling when asked. */
export function tlsServerHead(host: string, listen: string[], { certificate, key }: CertificatePaths, ocspStapling: boolean): string[] {
  return [
    ...listen,
    `server_name ${host};`,
    `ssl_certificate ${certificate};`,
    `ssl_certificate_key ${key};`,
    ...(ocspStapling ? ["ssl_stapling on;", "ssl_stapling_verify on;", `ssl_trusted_certificate ${certificate};`] : []),
  ];
}
