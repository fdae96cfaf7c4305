// nginx's published ports must read back from the Docker provider exactly as declared, or
// every `pulumi up` replaces nginx (its `ports` list is ForceNew). This models the read-back
// from the provider's and Docker's source, and the provider's diff on that list:
// - Docker keeps a container's bindings sorted by container port, protocol, host port, then
//   host address, IPv4 before IPv6 (moby libnetwork bridge port_mapping: sortAndNormPBs,
//   cmpPortBinding), and inspect groups them per "port/proto" in that order;
// - the provider lists those groups by container port (flattenContainerPorts in
//   kreuzwerker/terraform-provider-docker resource_docker_container_structures.go);
// - a list that differs element-wise goes through suppressIfPortsDidNotChangeForMigrationV0ToV1,
//   which compares each old entry with the FIRST new entry of the same internal port, so two
//   addresses on one port in another order always count as a change (issue #909).
import assert from "node:assert/strict";
import { isIP } from "node:net";
import { test } from "node:test";
import { PublishedPort, publishedPorts } from "../../components/proxy";

type Port = Pick<PublishedPort, "internal" | "external" | "ip" | "protocol">;

function addressOrder(a: string, b: string): number {
  const family = (ip: string) => (isIP(ip) === 6 ? 1 : 0);
  if (family(a) !== family(b)) return family(a) - family(b);
  const bytes = (ip: string) => (isIP(ip) === 4 ? ip.split(".").map(Number) : expandIPv6(ip));
  const [x, y] = [bytes(a), bytes(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

function expandIPv6(ip: string): number[] {
  const [head, tail = ""] = ip.split("::");
  const parts = (s: string) => (s === "" ? [] : s.split(":").map((h) => parseInt(h, 16)));
  const [h, t] = [parts(head), parts(tail)];
  return [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
}

/** What the provider stores after reading the container back from Docker. */
function readBack(declared: Port[]): Port[] {
  const sorted = [...declared].sort(
    (a, b) => a.internal - b.internal || a.protocol.localeCompare(b.protocol) || a.external - b.external || addressOrder(a.ip, b.ip),
  );
  const groups = new Map<string, Port[]>();
  for (const p of sorted) groups.set(`${p.internal}/${p.protocol}`, [...(groups.get(`${p.internal}/${p.protocol}`) ?? []), p]);
  return [...groups.keys()].sort((a, b) => parseInt(a, 10) - parseInt(b, 10)).flatMap((key) => groups.get(key) as Port[]);
}

/** True when the provider's plan for `ports` (state `old`, program `declared`) is a change, hence a replacement. */
function plansReplacement(old: Port[], declared: Port[]): boolean {
  if (JSON.stringify(old) === JSON.stringify(declared)) return false;
  if (old.length !== declared.length) return true;
  return !old.every((o) => {
    const first = declared.find((n) => n.internal === o.internal);
    return first !== undefined && first.protocol === o.protocol && first.external === o.external && first.ip === o.ip;
  });
}

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

test("nginx's ports (80 and 443 on 0.0.0.0 and ::) read back exactly as declared, so a second up plans no replacement", () => {
  const declared = publishedPorts([80, 443], ["0.0.0.0", "::"]);
  assert.deepEqual(readBack(declared), declared);
  assert.equal(plansReplacement(readBack(declared), declared), false);
});

test("the address-major order the stack used to declare reads back differently and is replaced on every up", () => {
  const addressMajor: Port[] = ["0.0.0.0", "::"].flatMap((ip) =>
    [80, 443].map((port) => ({ internal: port, external: port, ip, protocol: "tcp" as const })),
  );
  assert.notDeepEqual(readBack(addressMajor), addressMajor);
  assert.equal(plansReplacement(readBack(addressMajor), addressMajor), true);
});

test("any set of ports and addresses, given in any order, is declared in read-back order", () => {
  const portSets = [[80], [443, 80], [8443, 80, 443], [25, 587, 465, 993]];
  const addressSets = [
    ["0.0.0.0"],
    ["::"],
    ["::", "0.0.0.0"],
    ["0.0.0.0", "::", "127.0.0.1"],
    ["2001:db8::1", "192.0.2.1", "::", "0.0.0.0"],
  ];
  let seed = 1;
  for (const ports of portSets) {
    for (const addresses of addressSets) {
      const declared = publishedPorts(shuffled(ports, seed++), shuffled(addresses, seed++));
      assert.equal(declared.length, ports.length * addresses.length);
      assert.deepEqual(readBack(declared), declared, `${ports.join(",")} on ${addresses.join(",")}`);
      assert.equal(plansReplacement(readBack(declared), declared), false);
    }
  }
});
