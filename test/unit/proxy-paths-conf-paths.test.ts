// The container paths that stand unquoted in nginx.conf and in the certbot/entrypoint shell
// scripts, and where each host's certificate is read. Paths are generated per class:
// absolute paths of every allowed character, and every character that would end a
// directive, split a shell word or expand a variable, placed at the start, inside a
// component and at the end, plus relative paths; certificate paths for several hosts and
// certificate directories.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ACME_WEBROOT, CERT_DIR, LETSENCRYPT_DIR, NGINX_CONF_PATH, certificatePathsFor, isConfPath } from "../../components/proxy/render";

test("takes absolute paths of letters, digits and ._@+-/", () => {
  const good = ["/", "/srv", "/srv/frontend/", "/a.b_c@d+e-f/G9", "//double", CERT_DIR, ACME_WEBROOT, LETSENCRYPT_DIR, NGINX_CONF_PATH];
  for (const path of good) assert.equal(isConfPath(path), true, path);
});

test("refuses relative paths and paths with whitespace, quotes, ; braces $ or other characters anywhere", () => {
  const refused = ["", "srv", "srv/frontend", "./srv", "../srv", "~/srv", "a/b"];
  for (const c of [" ", "\t", "\n", ";", "{", "}", "$", '"', "'", "`", "\\", "*", "?", "#", "&", "|", "(", "é"]) {
    refused.push(`${c}/srv`, `/${c}srv`, `/sr${c}v/frontend`, `/srv${c}/frontend`, `/srv/frontend${c}`, `rel${c}/srv`);
  }
  for (const path of refused) assert.equal(isConfPath(path), false, JSON.stringify(path));
});

test("a host's certificate is <certDir>/<host>/fullchain.pem and its key <certDir>/<host>/privkey.pem", () => {
  for (const host of ["api.example.com", "app.example.com", "example.org", "a-b.c.example.co.uk"]) {
    assert.deepEqual(certificatePathsFor(host), {
      certificate: `/etc/dropstack/certs/${host}/fullchain.pem`,
      key: `/etc/dropstack/certs/${host}/privkey.pem`,
    });
    for (const certDir of ["/tmp/certs", "/etc/ssl/dropstack", "/"]) {
      assert.deepEqual(certificatePathsFor(host, certDir), {
        certificate: `${certDir}/${host}/fullchain.pem`,
        key: `${certDir}/${host}/privkey.pem`,
      });
    }
  }
});
