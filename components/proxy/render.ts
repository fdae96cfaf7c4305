// The edge of a dropstack droplet (README "What one `pulumi up` does": "Proxy: nginx (TLS,
// certbot renewals) in front of the app"), as pure functions, one module per concern:
// - nginx-conf.ts: the nginx.conf, composed from tls.ts, headers.ts, upstream.ts and
//   rate-limit.ts, for the nginx versions in versions.ts and the container paths in paths.ts;
// - parse.ts: reading an nginx.conf back, for the policies;
// - scripts.ts: the container entrypoints that obtain, install and pick up certificates, and
//   nginx's behind a load balancer;
// This module gathers them for callers that take the whole edge. test/system/nginx*.test.ts
// feeds all of it to a real nginx, openssl and shellcheck; NGINX-VERSIONS.md beside this file
// says why each directive is valid on every nginx we target.
//
// How the pieces fit on the droplet (the Proxy component wires them):
// - nginx container: runs renderNginxEntrypoint() with renderNginxConf() at NGINX_CONF_PATH.
//   It waits for a certificate per host in CERT_DIR, runs nginx, and reloads nginx whenever
//   those files or the config change.
// - certbot container (certbot/certbot image, which ships openssl): runs renderCertbotScript().
//   It writes a self-signed placeholder for each host that has no certificate yet (so nginx
//   can start and answer the HTTP-01 challenge), then obtains and renews the real one through
//   the shared ACME_WEBROOT and copies it into CERT_DIR.
// - Volumes shared by both: CERT_DIR and ACME_WEBROOT; certbot alone keeps LETSENCRYPT_DIR.
export * from "./headers";
export * from "./nginx-conf";
export * from "./parse";
export * from "./paths";
export * from "./rate-limit";
export * from "./scripts";
export * from "./tls";
export * from "./upstream";
export * from "./versions";
export { DEFAULT_PROXY_SETTINGS, MAX_BODY_BYTES, MAX_RATE, validateProxySettings } from "./settings";
export type { ProxySettings, ProxySettingsProblem } from "./settings";
