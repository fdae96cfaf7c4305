// The messages of redis-port-not-published, which tell the operator exactly what to remove:
// every published port as external->internal (a random host port when none is set), joined
// in order, and one message each for publishAllPorts and the host network. Port lists are
// generated with one to three entries, with and without an external port.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as docker from "@pulumi/docker";
import { redisPortNotPublished } from "../../policies/cache";
import { FakeResource, stackViolations, typeOf } from "../support/policy";

function redis(props: Record<string, unknown>): FakeResource[] {
  return [
    {
      type: typeOf(docker.Container),
      name: "redis",
      props: { image: "redis:7.4.1-alpine", command: ["redis-server", "--requirepass", "s3cretpassw0rdXYZ"], ...props },
    },
  ];
}

const PORTS = [
  { port: { internal: 6379, external: 6379 }, shown: "6379->6379" },
  { port: { internal: 6379 }, shown: "(random)->6379" },
  { port: { internal: 16379, external: 26379 }, shown: "26379->16379" },
];

describe("redis-port-not-published messages", () => {
  it("lists every published port, a random host port included", async () => {
    for (let count = 1; count <= PORTS.length; count++)
      for (let start = 0; start < PORTS.length; start++) {
        const chosen = Array.from({ length: count }, (_, i) => PORTS[(start + i) % PORTS.length]);
        const shown = chosen.map((p) => p.shown).join(", ");
        assert.deepEqual(await stackViolations(redisPortNotPublished, redis({ ports: chosen.map((p) => p.port) })), [
          `Redis container redis publishes ports ${shown}: remove \`ports\`; the app reaches Redis as "redis" on the dropstack network`,
        ]);
      }
  });

  it("names publishAllPorts and the host network in a message each", async () => {
    assert.deepEqual(await stackViolations(redisPortNotPublished, redis({ publishAllPorts: true, networkMode: "host" })), [
      "Redis container redis sets publishAllPorts: remove it",
      "Redis container redis uses the host network, which puts Redis on the droplet's interfaces: attach it to the dropstack network instead",
    ]);
    assert.deepEqual(await stackViolations(redisPortNotPublished, redis({ publishAllPorts: false, networkMode: "bridge", ports: [] })), []);
  });
});
