// CI access rules as pure functions: which runner addresses may be admitted, what the
// firewall request and the database rule sets look like, what closing removes, and the
// stack output the tool reads (under mocks, from the committed stacks).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  STALE_AFTER_MS,
  TrustedSource,
  agreeOnAddress,
  closeDatabaseRules,
  firewallName,
  firewallRequest,
  isStaleFirewall,
  openDatabaseRules,
  targetsFromOutputs,
  trustedSourceDrift,
  validateRunnerAddress,
} from "../../tools/ci-access/access";
import { apiBase } from "../../tools/ci-access/do-api";
import { committedValue, runStack } from "../support/program";

const NOW = Date.parse("2026-11-28T12:00:00Z");
const RUNNER = "203.0.113.7";
const ADMIN: TrustedSource = {
  uuid: "u-admin",
  cluster_uuid: "c1",
  type: "ip_addr",
  value: "198.51.100.0/24",
  created_at: "2026-01-01T00:00:00Z",
};
const TAG: TrustedSource = {
  uuid: "u-tag",
  cluster_uuid: "c1",
  type: "tag",
  value: "dropstack-production-app",
  created_at: "2026-01-01T00:00:00Z",
};

describe("runner address", () => {
  it("accepts exactly one public IPv4 address", () => {
    for (const ok of ["203.0.113.7", "8.8.8.8", " 52.1.2.3\n", "172.32.0.1", "100.128.0.1"])
      assert.equal(validateRunnerAddress(ok), ok.trim());
  });

  it("refuses private, loopback, link-local, CGNAT, multicast, IPv6, CIDRs and garbage", () => {
    const refused = [
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "127.0.0.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "2001:db8::1",
      "203.0.113.0/24",
      "203.0.113.7/32",
      "",
      "<html>",
      "1.2.3",
    ];
    for (const bad of refused) assert.throws(() => validateRunnerAddress(bad), /not/, bad);
  });

  it("needs every lookup to agree", () => {
    assert.equal(agreeOnAddress([RUNNER, `${RUNNER}\n`]), RUNNER);
    assert.throws(() => agreeOnAddress([RUNNER, "203.0.113.8"]), /disagree/);
    assert.throws(() => agreeOnAddress([]), /no address lookup/);
    assert.throws(() => agreeOnAddress([RUNNER, "10.0.0.1"]), /not a public address/);
  });
});

describe("droplet firewall", () => {
  it("opens only SSH, only to the runner's /32, only on the stack's tag, and adds no egress", () => {
    const request = firewallRequest("1234-1-plan", "dropstack-staging-app", RUNNER);
    assert.deepEqual(request, {
      name: "dropstack-ci-1234-1-plan",
      inbound_rules: [{ protocol: "tcp", ports: "22", sources: { addresses: [`${RUNNER}/32`] } }],
      outbound_rules: [],
      tags: ["dropstack-staging-app"],
    });
  });

  it("names firewalls as DigitalOcean accepts them, and never with an empty run id", () => {
    for (const id of ["1-2", "run id/with spaces", "ü-42", "x".repeat(400)]) {
      const name = firewallName(id);
      assert.match(name, /^dropstack-ci-[A-Za-z0-9.-]+$/);
      assert.ok(name.length <= 255);
    }
    assert.throws(() => firewallName("///"), /empty/);
  });

  it("sweeps only CI firewalls of this stack that outlived any job", () => {
    const old = new Date(NOW - STALE_AFTER_MS - 1000).toISOString();
    const fresh = new Date(NOW - 60_000).toISOString();
    const tag = "dropstack-staging-app";
    assert.equal(isStaleFirewall({ id: "1", name: "dropstack-ci-9", created_at: old, tags: [tag] }, tag, NOW), true);
    assert.equal(isStaleFirewall({ id: "2", name: "dropstack-ci-9", created_at: fresh, tags: [tag] }, tag, NOW), false, "a running job's");
    assert.equal(
      isStaleFirewall({ id: "3", name: "dropstack-staging-droplet", created_at: old, tags: [tag] }, tag, NOW),
      false,
      "Pulumi's own",
    );
    assert.equal(
      isStaleFirewall({ id: "4", name: "dropstack-ci-9", created_at: old, tags: ["dropstack-production-app"] }, tag, NOW),
      false,
      "another stack's",
    );
    assert.equal(isStaleFirewall({ id: "5", name: "dropstack-ci-9", tags: [tag] }, tag, NOW), false, "no creation time");
  });
});

describe("database trusted sources", () => {
  it("adds the runner, keeping every current rule with its uuid and dropping read-only fields", () => {
    const { rules, added } = openDatabaseRules([TAG, ADMIN], RUNNER, "77-1", NOW);
    assert.equal(added, true);
    assert.deepEqual(rules, [
      { uuid: "u-tag", type: "tag", value: "dropstack-production-app" },
      { uuid: "u-admin", type: "ip_addr", value: "198.51.100.0/24" },
      { type: "ip_addr", value: RUNNER, description: "dropstack-ci 77-1" },
    ]);
  });

  it("does not add, and so never removes, an address that is already trusted", () => {
    for (const value of [RUNNER, `${RUNNER}/32`]) {
      const { rules, added } = openDatabaseRules([TAG, { ...ADMIN, value }], RUNNER, "77-1", NOW);
      assert.equal(added, false, value);
      assert.equal(rules.length, 2);
    }
  });

  it("drops CI sources older than any job, keeps recent ones and everything else", () => {
    const stale: TrustedSource = {
      uuid: "s",
      type: "ip_addr",
      value: "192.0.2.9",
      description: "dropstack-ci 1-1",
      created_at: new Date(NOW - STALE_AFTER_MS - 1).toISOString(),
    };
    const running: TrustedSource = {
      uuid: "r",
      type: "ip_addr",
      value: "192.0.2.10",
      description: "dropstack-ci 2-1",
      created_at: new Date(NOW - 1000).toISOString(),
    };
    const { rules } = openDatabaseRules([TAG, ADMIN, stale, running], RUNNER, "3-1", NOW);
    assert.deepEqual(
      rules.map((r) => r.value),
      ["dropstack-production-app", "198.51.100.0/24", "192.0.2.10", RUNNER],
    );
  });

  it("closing removes the runner's address and nothing else; nothing to do when it is gone", () => {
    const runner: TrustedSource = { uuid: "x", type: "ip_addr", value: RUNNER };
    assert.deepEqual(closeDatabaseRules([TAG, runner, ADMIN], RUNNER), [
      { uuid: "u-tag", type: "tag", value: "dropstack-production-app" },
      { uuid: "u-admin", type: "ip_addr", value: "198.51.100.0/24" },
    ]);
    assert.equal(closeDatabaseRules([TAG, ADMIN], RUNNER), undefined);
    assert.equal(closeDatabaseRules([TAG, { ...runner, type: "tag" }], RUNNER), undefined, "a tag that happens to look like the address");
  });

  it("reports live trusted sources that differ from what the stack applied, both ways", () => {
    const expected = [
      { type: "tag", value: "dropstack-production-app" },
      { type: "ip_addr", value: "198.51.100.0/24" },
    ];
    assert.deepEqual(trustedSourceDrift(expected, [ADMIN, TAG]), { missing: [], unexpected: [] });
    assert.deepEqual(trustedSourceDrift(expected, [TAG, ADMIN, { type: "ip_addr", value: RUNNER }]), {
      missing: [],
      unexpected: [`ip_addr:${RUNNER}`],
    });
    assert.deepEqual(trustedSourceDrift(expected, [TAG]), { missing: ["ip_addr:198.51.100.0/24"], unexpected: [] });
  });
});

describe("API endpoint", () => {
  it("sends the token only over https, or plain http to loopback", () => {
    assert.equal(apiBase("https://api.digitalocean.com/"), "https://api.digitalocean.com");
    assert.equal(apiBase("http://127.0.0.1:4010"), "http://127.0.0.1:4010");
    for (const bad of ["http://api.digitalocean.com", "http://10.0.0.5:80", "ftp://127.0.0.1"])
      assert.throws(() => apiBase(bad), /must be https/, bad);
  });
});

describe("the ciAccess stack output", () => {
  // One program run per file (Pulumi's runtime is process-global): production, whose
  // adminCidrs hold an IPv6 range that database trusted sources cannot take.
  const stack = "production";
  let outputs: Record<string, unknown>;
  before(async () => {
    ({ outputs } = await runStack({ stack }));
  });

  {
    it(`${stack}: names the droplet tag, the cluster and the trusted sources the tool reads`, () => {
      const targets = targetsFromOutputs(outputs);
      assert.equal(targets.dropletTag, `dropstack-${stack}-app`);
      assert.equal(targets.databaseClusterId, outputs.databaseClusterId);
      const adminCidrs = committedValue<string[]>(stack, "dropstack:adminCidrs");
      assert.deepEqual(
        targets.databaseTrustedSources.map((s) => `${s.type}:${s.value}`).sort(),
        [`tag:dropstack-${stack}-app`, ...adminCidrs.filter((c) => !c.includes(":")).map((c) => `ip_addr:${c}`)].sort(),
      );
    });
  }

  it("refuses outputs without it (a stack never deployed) with exit code 2", () => {
    for (const outputs of [{}, null, { ciAccess: { dropletTag: "t" } }]) {
      assert.throws(
        () => targetsFromOutputs(outputs),
        (error: Error & { exitCode?: number }) => error.exitCode === 2 && /first deploy/.test(error.message),
      );
    }
  });
});
