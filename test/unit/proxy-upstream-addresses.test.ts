// What nginx.conf accepts for reaching the api replicas: the app's port, its Docker network
// alias and the DNS resolver's address, each of which lands unquoted in a directive. The
// cases are generated per class: ports at and around both ends of 1..65535 and values that
// are not whole numbers; aliases with every character that could end or split a directive
// put first, in the middle and last, and lengths around Docker's 253-character limit;
// resolvers as bare IPv4/IPv6, IPv4 with a port, and bracketed IPv6 with ports at and
// beyond the ends, plus IPv4 in brackets. Also the rollout contract's overlap, which
// NGINX-VERSIONS.md states as a figure.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  DEBIAN_NGINX_VERSION,
  MIN_REPLICA_OVERLAP_SECONDS,
  RESOLVER_VALID_SECONDS,
  isAlias,
  isPort,
  isResolverAddress,
  renderNginxConf,
} from "../../components/proxy/render";

const base = { hosts: { api: "api.example.com" }, upstream: { alias: "app", port: 8000 }, hsts: true };

test("takes every port from 1 to 65535 and refuses 0, 65536, fractions and numbers written as strings", () => {
  for (const port of [1, 2, 53, 80, 443, 8000, 65534, 65535]) assert.equal(isPort(port), true, String(port));
  for (const port of [0, -1, 65536, 70000, 1.5, 0.5, Number.NaN, Number.POSITIVE_INFINITY, "80", null, undefined]) {
    assert.equal(isPort(port), false, String(port));
  }
});

test("renders the app's port 1 and 65535 as the replicas' target, in both forms, and refuses port 0", () => {
  for (const port of [1, 65535]) {
    const group = renderNginxConf({ ...base, upstream: { alias: "app", port } });
    assert.ok(group.includes(`\n        server app:${port} resolve max_fails=0;\n`), `upstream group, ${port}`);
    const variable = renderNginxConf({ ...base, upstream: { alias: "app", port }, nginxVersion: DEBIAN_NGINX_VERSION });
    assert.ok(variable.includes(`\n        set $dropstack_upstream app:${port};\n`), `variable, ${port}`);
  }
  assert.throws(() => renderNginxConf({ ...base, upstream: { alias: "app", port: 0 } }), {
    message: "invalid nginx config input: upstream.port: expected a port from 1 to 65535, got 0",
  });
});

test("takes Docker network aliases of letters, digits, _ . - that start with a letter or digit, up to 253 characters", () => {
  for (const alias of ["app", "a", "A", "7", "app_api", "app.internal", "dropstack-api-0", "x".repeat(253), `a${"-".repeat(252)}`]) {
    assert.equal(isAlias(alias), true, alias);
  }
});

test("refuses aliases that start with _ . - or carry a character that would end or split the set directive, wherever it stands", () => {
  const bad = [" ", ";", "$", "{", "}", '"', "'", "\\", "/", ":", "#", "\t", "\n", "é"];
  const refused: string[] = ["", "-app", "_app", ".app", "x".repeat(254), `a${"b".repeat(253)}`, `-${"b".repeat(10)}`];
  for (const c of bad) refused.push(`${c}app`, `ap${c}p`, `app${c}`, `app${c}x`);
  for (const alias of refused) {
    assert.equal(isAlias(alias), false, JSON.stringify(alias));
    assert.throws(() => renderNginxConf({ ...base, upstream: { alias, port: 8000 } }), {
      message: `invalid nginx config input: upstream.alias: expected a Docker network alias like app, got ${JSON.stringify(alias)}`,
    });
  }
});

test("takes a resolver as a bare IPv4 or IPv6 address, IPv4:port, or [IPv6]:port with a port from 1 to 65535", () => {
  const good = ["127.0.0.11", "10.0.0.2", "::1", "fd00::53", "2001:db8::1", "127.0.0.1:5353", "127.0.0.11:1", "127.0.0.11:65535"];
  for (const v6 of ["::1", "fd00::53", "2001:db8::1", "::ffff:127.0.0.1", "FD00::A"]) {
    for (const port of [1, 53, 5353, 65535]) good.push(`[${v6}]:${port}`);
  }
  for (const address of good) assert.equal(isResolverAddress(address), true, address);
});

test("refuses resolvers with port 0 or past 65535, IPv4 in brackets, text before or after the address, or digits that are no IPv4 address", () => {
  const bad = ["", "localhost", "127.0.0.11:0", "127.0.0.11:65536", "::1:53x", "[::1]", "[::1]:", "127.0.0.11 ", " 127.0.0.11"];
  for (const v6 of ["::1", "fd00::53", "2001:db8::1"]) bad.push(`[${v6}]:0`, `[${v6}]:65536`, `[${v6}]:99999`, `[${v6}]:053x`);
  for (const v4 of ["127.0.0.1", "10.0.0.2", "1.2.3.4"]) bad.push(`[${v4}]:53`, `[${v4}]:5353`);
  bad.push("[1.2.3]:53", "[::g]:53", "[:::]:53", "[1::2::3]:53");
  for (const address of ["[::1]:53", "127.0.0.11:53"]) {
    for (const c of ["x", " ", "[", ":", ".", "1", ";"]) bad.push(`${c}${address}`, `${address}${c === "1" ? "x" : c}`);
  }
  // Digits and dots that are no IPv4 address, with a port.
  bad.push("1.2.3:53", "999.0.0.1:53", "1.2.3.4.5:53", "1..2.3:53", "127.0.0.011:53", ".:53");
  for (const address of bad) assert.equal(isResolverAddress(address), false, JSON.stringify(address));
});

test("the rollout contract's overlap outlasts a resolved answer, counted in whole seconds, and is the figure NGINX-VERSIONS.md gives", () => {
  // nginx may keep an answer up to one second past `valid`; one more covers the workers re-resolving.
  assert.ok(MIN_REPLICA_OVERLAP_SECONDS > RESOLVER_VALID_SECONDS + 1);
  const doc = readFileSync(join(__dirname, "../../components/proxy/NGINX-VERSIONS.md"), "utf8").replace(/\s+/g, " ");
  assert.ok(
    doc.includes(`\`MIN_REPLICA_OVERLAP_SECONDS\` (${MIN_REPLICA_OVERLAP_SECONDS})`),
    "NGINX-VERSIONS.md names a different overlap",
  );
});
