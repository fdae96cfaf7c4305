// The managed Valkey rules: which of Redis's eviction policies pass to DigitalOcean, which
// node counts and sizes it takes, and the rediss:// URL the app gets.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { REDIS_EVICTION_POLICIES } from "../../components/cache/render";
import {
  VALKEY_EVICTION_POLICIES,
  VALKEY_MAX_NODES,
  valkeyClusterProblems,
  valkeyEvictionPolicyProblem,
  valkeyExporterAddress,
  valkeyMaxmemoryPolicy,
  valkeyUrl,
} from "../../components/valkey/settings";

describe("Valkey eviction policies", () => {
  it("passes every Redis policy Valkey takes unchanged", () => {
    for (const policy of VALKEY_EVICTION_POLICIES) {
      assert.ok((REDIS_EVICTION_POLICIES as readonly string[]).includes(policy), `${policy} is a Redis policy the config accepts`);
      assert.equal(valkeyEvictionPolicyProblem(policy), undefined, policy);
      assert.equal(valkeyMaxmemoryPolicy(policy), policy);
    }
  });

  it("refuses the LFU policies, naming the key and the LRU policy with the same key scope", () => {
    const lfu = REDIS_EVICTION_POLICIES.filter((p) => !(VALKEY_EVICTION_POLICIES as readonly string[]).includes(p));
    assert.deepEqual(lfu, ["allkeys-lfu", "volatile-lfu"]);
    for (const policy of lfu) {
      const instead = policy.replace("lfu", "lru");
      assert.match(
        valkeyEvictionPolicyProblem(policy) ?? "",
        new RegExp(`^${policy} is not one DigitalOcean's managed Valkey takes .*; ${instead} `),
      );
      assert.throws(() => valkeyMaxmemoryPolicy(policy), new RegExp(`^Error: dropstack:redis\\.evictionPolicy: ${policy} is not one`));
    }
  });

  it("refuses what is no policy at all, listing the ones the config takes", () => {
    for (const policy of ["", "lru", "ALLKEYS-LRU", "allkeys_lru", "noeviction "]) {
      assert.equal(
        valkeyEvictionPolicyProblem(policy),
        `expected one of ${REDIS_EVICTION_POLICIES.join(", ")}, got ${JSON.stringify(policy)}`,
      );
      assert.throws(() => valkeyMaxmemoryPolicy(policy), /^Error: dropstack:redis\.evictionPolicy: expected one of/);
    }
  });
});

describe("Valkey cluster shape", () => {
  it("takes one node of any size, and a standby on 2 GB plans and larger", () => {
    for (const size of ["db-s-1vcpu-1gb", "db-s-1vcpu-2gb", "db-s-2vcpu-4gb", "db-s-4vcpu-8gb"])
      assert.deepEqual(valkeyClusterProblems({ size, nodes: 1 }), [], size);
    for (const size of ["db-s-1vcpu-2gb", "db-s-2vcpu-4gb", "gd-8vcpu-32gb"])
      assert.deepEqual(valkeyClusterProblems({ size, nodes: 2 }), [], size);
  });

  it("refuses a standby on a 1 GB plan (or one whose RAM it cannot read), on the size key", () => {
    for (const size of ["db-s-1vcpu-1gb", "db-s-custom"]) {
      const problems = valkeyClusterProblems({ size, nodes: 2 });
      assert.equal(problems.length, 1, size);
      assert.equal(problems[0].key, "size");
      assert.match(problems[0].message, new RegExp(`^${size} cannot have a standby node: .*2 GB of RAM or more`));
    }
  });

  it("refuses more nodes than a primary and one standby, and no node at all, on the nodes key", () => {
    for (const nodes of [0, VALKEY_MAX_NODES + 1, 5, 1.5, -1]) {
      const problems = valkeyClusterProblems({ size: "db-s-2vcpu-4gb", nodes });
      assert.deepEqual(
        problems.map((p) => p.key),
        ["nodes"],
        String(nodes),
      );
      assert.match(problems[0].message, new RegExp(`^must be 1 or 2 .*, got ${nodes}$`));
    }
  });
});

describe("the Valkey URL", () => {
  it("is rediss:// with the cluster's user and password, its private host and port, database 0", () => {
    for (const [user, password, host, port] of [
      ["default", "AVNS_abc123", "private-dropstack-production-valkey-do-user-1-0.b.db.ondigitalocean.com", 25061],
      ["default", "p@ss:w/rd?#%", "10.110.0.7", 25061],
      ["ops user", "x", "valkey.internal", 6380],
    ] as const) {
      const url = valkeyUrl({ user, password, host, port });
      const parsed = new URL(url);
      assert.equal(parsed.protocol, "rediss:", url);
      assert.equal(decodeURIComponent(parsed.username), user);
      assert.equal(decodeURIComponent(parsed.password), password);
      assert.equal(parsed.hostname, host);
      assert.equal(parsed.port, String(port));
      assert.equal(parsed.pathname, "/0");
    }
    assert.equal(valkeyUrl({ user: "default", password: "pw", host: "h.example", port: 25061 }), "rediss://default:pw@h.example:25061/0");
  });

  it("refuses a missing host, a bad port or an empty user instead of writing an unusable URL", () => {
    assert.throws(() => valkeyUrl({ user: "default", password: "pw", host: "", port: 25061 }), /host/);
    assert.throws(() => valkeyUrl({ user: "default", password: "pw", host: "h", port: 0 }), /port/);
    assert.throws(() => valkeyUrl({ user: "", password: "pw", host: "h", port: 25061 }), /user/);
  });
});

describe("redis_exporter's address for the Valkey cluster", () => {
  it("is rediss://host:port, with no user, password or database, IPv6 in brackets", () => {
    for (const [host, port, expected] of [
      [
        "private-dropstack-production-valkey-do-user-1-0.b.db.ondigitalocean.com",
        25061,
        "rediss://private-dropstack-production-valkey-do-user-1-0.b.db.ondigitalocean.com:25061",
      ],
      ["10.110.0.7", 25061, "rediss://10.110.0.7:25061"],
      ["fd00::7", 6380, "rediss://[fd00::7]:6380"],
    ] as const)
      assert.equal(valkeyExporterAddress(host, port), expected);
  });

  it("refuses a missing host or a bad port", () => {
    assert.throws(() => valkeyExporterAddress("", 25061), /host/);
    assert.throws(() => valkeyExporterAddress("h", 70000), /port/);
  });
});
