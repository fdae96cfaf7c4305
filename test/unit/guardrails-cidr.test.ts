// Address ranges are judged by what they cover: every spelling and every split of "a large
// part of the internet" is refused by both firewall policies, and every non-canonical
// spelling is a config error that names the canonical form.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ADMIN_SOURCE_LIMIT, addressSpace, describeCidrProblem, describeTooWideSources, parseRange } from "../../components/network/cidr";
import { parseStackConfig } from "../../components/config/schema";
import { trustedSources } from "../../components/database/settings";
import { dropletInboundRules } from "../../components/network/rules";
import { databaseFirewallNoPublicSources } from "../../policies/database";
import { firewallNoPublicAdminPorts } from "../../policies/network";
import { resourceViolations } from "../support/policy";
import { minimalConfig } from "../support/config";
import { seededRandom } from "../support/random";

const rand = seededRandom(20261128);
const ipv4 = () => Array.from({ length: 4 }, () => rand(256)).join(".");
const hex = () => rand(0x10000).toString(16);
const ipv6Expanded = () => Array.from({ length: 8 }, () => hex().padStart(4, "0")).join(":");
const ipv6 = () => Array.from({ length: 8 }, hex).join(":");

/** Sets of sources that together cover more than the limit, in many spellings. */
function worldVariants(): string[][] {
  const sets: string[][] = [
    ["0.0.0.0/0"],
    ["0.0.0.0/00"],
    ["0.0.0.0/000"],
    ["::/0"],
    ["::/00"],
    ["::0/0"],
    ["0::/0"],
    ["0:0:0:0:0:0:0:0/0"],
    ["0000:0000:0000:0000:0000:0000:0000:0000/0"],
    ["::ffff:0.0.0.0/96"],
    ["::ffff:0:0/96"],
    ["0:0:0:0:0:ffff:0:0/96"],
    ["0:0:0:0:0:FFFF:0000:0000/96"],
    ["2000::/3"],
    ["2000:0000::/3"],
    ["0.0.0.0/1", "128.0.0.0/1"],
    ["::/1", "8000::/1"],
    ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
    ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2"],
    Array.from({ length: 256 }, (_, i) => `${i}.0.0.0/8`),
    ["10.0.0.0/8"],
    ["10.0.0.0/15"],
    ["198.51.100.0/24", "0.0.0.0/0"],
    ["::ffff:10.0.0.0/104"],
    ["2001:db8::/32"],
    ["2001:db8::/47"],
    ["fe80::/10"],
    // Two ranges within the limit each, over it together.
    ["10.0.0.0/16", "10.1.0.0/16"],
    ["2001:db8::/48", "2001:db8:1::/48"],
  ];
  for (let i = 0; i < 40; i++) {
    sets.push([`${ipv4()}/${rand(16)}`]); // host bits set, prefix wider than /16
    sets.push([`${ipv6()}/${rand(48)}`]);
    sets.push([`${ipv6Expanded()}/${rand(48)}`]);
    sets.push([`::ffff:${ipv4()}/${96 + rand(16)}`]);
    sets.push([`${ipv4()}/0${rand(10)}`]); // leading-zero prefixes: /00 … /09
  }
  return sets;
}

/** Sets that stay within the limit. */
function narrowVariants(): string[][] {
  const sets: string[][] = [
    ["198.51.100.0/24"],
    ["203.0.113.7/32"],
    ["10.0.0.0/16"],
    ["2001:db8:100::/48"],
    ["2001:db8::1/128"],
    ["10.0.0.0/17", "10.0.128.0/17"],
    ["10.0.0.0/16", "10.0.0.0/16", "10.0.128.0/17"],
    ["198.51.100.0/24", "2001:db8:100::/48"],
  ];
  for (let i = 0; i < 40; i++) {
    const v4 = parseRange(`${ipv4()}/${16 + rand(17)}`);
    const v6 = parseRange(`${ipv6()}/${48 + rand(81)}`);
    if (v4 && v6) sets.push([v4.canonical, v6.canonical]);
  }
  return sets;
}

describe("address ranges by meaning", () => {
  it("counts the union of ranges, overlaps once, IPv4-mapped IPv6 as IPv4", () => {
    const ranges = ["10.0.0.0/24", "10.0.0.128/25", "::ffff:10.0.1.0/120", "2001:db8::/127"].map((t) => parseRange(t)!);
    assert.deepEqual(addressSpace(ranges), { 4: 512n, 6: 2n });
    assert.equal(ADMIN_SOURCE_LIMIT[4].addresses, 65536n);
  });

  it("refuses every wide set in both firewall policies, and names the limit", async () => {
    for (const sources of worldVariants()) {
      const reason = describeTooWideSources(sources);
      assert.ok(reason, `${sources.join(", ")} passed`);
      assert.match(reason, /the limit is (65,536|2\^80)/);
      const droplet = await resourceViolations(firewallNoPublicAdminPorts, {
        type: "digitalocean:index/firewall:Firewall",
        props: { inboundRules: dropletInboundRules(sources) },
      });
      assert.equal(droplet.length, 1, `droplet firewall let ${sources.join(", ")} through`);
      assert.match(droplet[0], /tcp port 22/);
      // Every source as a rule, IPv6 too: the policy judges whatever reaches the firewall.
      const rules = [{ type: "tag", value: "app" }, ...sources.map((value) => ({ type: "ip_addr", value }))];
      const database = await resourceViolations(databaseFirewallNoPublicSources, {
        type: "digitalocean:index/databaseFirewall:DatabaseFirewall",
        props: { clusterId: "c", rules },
      });
      assert.equal(database.length, 1, `database firewall let ${sources.join(", ")} through`);
    }
  });

  it("accepts admin networks within the limit in both firewall policies", async () => {
    for (const sources of narrowVariants()) {
      assert.equal(describeTooWideSources(sources), undefined, sources.join(", "));
      assert.deepEqual(
        await resourceViolations(firewallNoPublicAdminPorts, {
          type: "digitalocean:index/firewall:Firewall",
          props: { inboundRules: dropletInboundRules(sources) },
        }),
        [],
      );
      assert.deepEqual(
        await resourceViolations(databaseFirewallNoPublicSources, {
          type: "digitalocean:index/databaseFirewall:DatabaseFirewall",
          props: { clusterId: "c", rules: trustedSources("app", sources) },
        }),
        [],
      );
    }
  });

  it("judges a split across several rules for the same port as one", async () => {
    const inboundRules = [
      { protocol: "tcp", portRange: "22", sourceAddresses: ["0.0.0.0/1"] },
      { protocol: "tcp", portRange: "22", sourceAddresses: ["128.0.0.0/1"] },
      { protocol: "tcp", portRange: "443", sourceAddresses: ["0.0.0.0/0", "::/0"] },
    ];
    const found = await resourceViolations(firewallNoPublicAdminPorts, {
      type: "digitalocean:index/firewall:Firewall",
      props: { inboundRules },
    });
    assert.equal(found.length, 1);
    assert.match(found[0], /0\.0\.0\.0\/1, 128\.0\.0\.0\/1 together cover 4,294,967,296 IPv4 addresses \(100% of the IPv4 internet/);
  });

  it("refuses non-canonical spellings in config with exit-2 wording and the canonical form", () => {
    const spellings: [string, string][] = [
      ["0.0.0.0/00", "0.0.0.0/0"],
      ["198.51.100.7/24", "198.51.100.0/24"],
      ["::ffff:198.51.100.0/120", "198.51.100.0/24"],
      ["0:0:0:0:0:0:0:0/0", "::/0"],
      ["2001:DB8::/32", "2001:db8::/32"],
      ["2001:0db8:0000::/48", "2001:db8::/48"],
      ["203.0.113.7", "203.0.113.7/32"],
      ["2001:db8::1", "2001:db8::1/128"],
      ["127.1/32", "127.0.0.1/32"],
      ["010.0.0.0/8", "8.0.0.0/8"],
    ];
    for (let i = 0; i < 30; i++) {
      const raw = `${ipv4()}/${rand(33)}`;
      spellings.push([raw, parseRange(raw)!.canonical]);
      const raw6 = `${ipv6Expanded()}/${rand(129)}`;
      spellings.push([raw6, parseRange(raw6)!.canonical]);
    }
    for (const [spelling, canonical] of spellings) {
      const problem = describeCidrProblem(spelling);
      if (spelling === canonical) {
        assert.equal(problem, undefined, spelling);
        continue;
      }
      assert.ok(problem?.endsWith(`write ${canonical}`), `${spelling}: ${problem}`);
      assert.ok(problem?.includes(JSON.stringify(spelling)), `the message repeats the bad value: ${problem}`);
      const result = parseStackConfig({ ...minimalConfig(), adminCidrs: [canonicalOk, spelling] }, "staging");
      assert.ok(!result.ok);
      assert.deepEqual(result.problems, [`dropstack:adminCidrs.1: ${problem ?? ""}`]);
    }
    for (const bad of [
      "10.0.0.0/33",
      "2001:db8::/129",
      "300.0.0.0/8",
      "fe80::1%eth0/64",
      "example.com/24",
      "10.0.0.0/8/8",
      "10.0.0.0/-1",
      "",
    ]) {
      const problem = describeCidrProblem(bad) ?? "";
      assert.ok(problem.startsWith("expected a CIDR") && problem.endsWith(`got ${JSON.stringify(bad)}`), `${bad}: ${problem}`);
    }
  });
});

const canonicalOk = "198.51.100.0/24";
