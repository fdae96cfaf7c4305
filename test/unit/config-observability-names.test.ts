// dropstack:observability's user names and Grafana role names: a relay or Loki user name is one
// word (no space before, inside or after it), and a malformed Grafana role name under each
// Grafana role is refused with the message that says what is expected. Cases are generated over
// whitespace at each edge and every Grafana role; the relay's smarthost is host:port with nothing
// before or after, and a one-character host is a host.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type MinimalConfig, problemsAfter } from "../support/config";

const SMTP = { smarthost: "smtp.example.com:587", from: "alerts@example.com" };
const LOKI = { url: "https://logs.example.com/loki/api/v1/push" };
const withObservability = (observability: Record<string, unknown>) => (raw: MinimalConfig) => Object.assign(raw, { observability });
const SPACED = ["alerts ", " alerts", "alerts x", "alerts\t", "\talerts", " "];

describe("observability user names are one word", () => {
  for (const username of SPACED) {
    it(`refuses the relay user name ${JSON.stringify(username)}`, () => {
      assert.deepEqual(problemsAfter(withObservability({ smtp: { ...SMTP, username, password: "p" } })), [
        `dropstack:observability.smtp.username: expected the relay's user name, got ${JSON.stringify(username)}`,
      ]);
    });
    it(`refuses the Loki user name ${JSON.stringify(username)}`, () => {
      assert.deepEqual(problemsAfter(withObservability({ remoteLoki: { ...LOKI, username, password: "p" } })), [
        `dropstack:observability.remoteLoki.username: expected the Loki user or tenant, got ${JSON.stringify(username)}`,
      ]);
    });
  }
});

describe("observability.grafanaRoles names", () => {
  for (const grafanaRole of ["admin", "editor", "viewer"])
    for (const role of ["Support", "1ops", "ops team", "ops:read"])
      it(`refuses ${JSON.stringify(role)} under ${grafanaRole}, saying a role name from auth0.roles is expected`, () => {
        assert.deepEqual(problemsAfter(withObservability({ grafanaRoles: { [grafanaRole]: ["ops", role] } })), [
          `dropstack:observability.grafanaRoles.${grafanaRole}.1: expected a role name from auth0.roles, got ${JSON.stringify(role)}`,
          `dropstack:observability.grafanaRoles.${grafanaRole}: needs dropstack:auth0: Grafana's roles come from its tenant`,
        ]);
      });
});

describe("observability.smtp.smarthost is host:port and nothing else", () => {
  const SMARTHOST = "expected host:port of the mail relay, e.g. smtp.example.com:587";
  for (const smarthost of [
    " smtp.example.com:587",
    "-smtp.example.com:587",
    "smtp.example.com:587 ",
    "smtp.example.com:587x",
    "smtp.example.com:587/",
  ])
    it(`refuses ${JSON.stringify(smarthost)}`, () => {
      assert.deepEqual(problemsAfter(withObservability({ smtp: { ...SMTP, smarthost } })), [
        `dropstack:observability.smtp.smarthost: ${SMARTHOST}, got ${JSON.stringify(smarthost)}`,
      ]);
    });
  for (const smarthost of ["s:25", "1:587", "SMTP.example.com:465", "10.0.0.5:2525"])
    it(`takes ${smarthost}`, () => {
      assert.deepEqual(problemsAfter(withObservability({ smtp: { ...SMTP, smarthost } })), []);
    });
});
