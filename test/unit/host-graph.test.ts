// The foundation's resource graph under mocks: options and secrets users rely on.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Graph } from "../../tools/check/harness";
import { parse } from "yaml";
import { renderDataReleaseCommand, renderReadinessCommand } from "../../components/host/cloud-init";
import { committedValue, runStack } from "../support/program";

describe("foundation resource graph (production, mocks)", () => {
  let graph: Graph;
  before(async () => {
    ({ graph } = await runStack({ stack: "production" }));
  });

  it("protects the data volume and the reserved IP", () => {
    assert.equal(graph.one("digitalocean:index/volume:Volume").protect, true);
    assert.equal(graph.one("digitalocean:index/reservedIp:ReservedIp").protect, true);
  });

  it("uploads no DigitalOcean SSH key (a duplicate is refused with 422); keys reach the deploy user through cloud-init", () => {
    assert.deepEqual(
      graph.ofType("digitalocean:index/sshKey:SshKey").map((r) => r.name),
      [],
    );
    const droplet = graph.one("digitalocean:index/droplet:Droplet");
    assert.equal(droplet.inputs.sshKeys, undefined);
    const userData = parse(String(droplet.inputs.userData)) as { users: { name: string; ssh_authorized_keys: string[] }[] };
    const deploy = userData.users.find((u) => u.name === "deploy");
    assert.deepEqual(deploy?.ssh_authorized_keys, committedValue<string[]>("production", "dropstack:sshPublicKeys"));
  });

  it("keeps cloud-init edits from replacing the droplet", () => {
    assert.deepEqual(graph.one("digitalocean:index/droplet:Droplet").ignoreChanges, ["userData"]);
  });

  it("puts the droplet in the VPC with monitoring, IPv6, backups and the firewall tag", () => {
    const droplet = graph.one("digitalocean:index/droplet:Droplet");
    const vpc = graph.one("digitalocean:index/vpc:Vpc");
    assert.ok(vpc.id, "the mock gave the VPC an id");
    assert.equal(droplet.inputs.vpcUuid, vpc.id);
    assert.equal(droplet.inputs.monitoring, true);
    assert.equal(droplet.inputs.ipv6, true);
    assert.equal(droplet.inputs.backups, true);
    const firewall = graph.one("digitalocean:index/firewall:Firewall");
    assert.deepEqual(firewall.inputs.tags, droplet.inputs.tags);
  });

  it("opens 80/443 to the world and SSH to the admin CIDRs only", () => {
    const rules = graph.one("digitalocean:index/firewall:Firewall").inputs.inboundRules as {
      portRange: string;
      sourceAddresses: string[];
    }[];
    assert.deepEqual(
      rules.map((r) => r.portRange),
      ["80", "443", "22"],
    );
    assert.deepEqual(rules[2].sourceAddresses, ["198.51.100.0/24", "2001:db8:100::/48"]);
  });

  it("keeps user-data (it carries the host private key) secret", () => {
    const droplet = graph.one("digitalocean:index/droplet:Droplet");
    assert.ok(droplet.secretInputs.includes("userData"));
    assert.match(String(droplet.inputs.userData), /ed25519_private/);
    const hostKey = graph.one("tls:index/privateKey:PrivateKey", "host-key");
    assert.ok(hostKey.additionalSecretOutputs.includes("privateKeyOpenssh"));
  });

  it("pins the generated host key on every remote command and on the docker provider", () => {
    const publicKey = String(graph.one("tls:index/privateKey:PrivateKey", "host-key").outputs.publicKeyOpenssh);
    const commands = graph.ofType("command:remote:Command");
    assert.ok(commands.length > 0);
    for (const c of commands) {
      const connection = c.inputs.connection as Record<string, unknown>;
      assert.equal(connection.hostKey, publicKey, `${c.name} pins the host key`);
      assert.equal(connection.user, "deploy");
    }
    const docker = graph.one("pulumi:providers:docker");
    const sshOpts = JSON.parse(String(docker.inputs.sshOpts)) as string[];
    assert.ok(sshOpts.includes("StrictHostKeyChecking=yes"));
    assert.ok(sshOpts.includes(`KnownHostsCommand=/bin/echo %H ${publicKey}`));
    assert.match(String(docker.inputs.host), /^ssh:\/\/deploy@203\.0\.113\.20$/);
  });

  it("waits for cloud-init and the volume before using docker on the host", () => {
    const ready = graph.one("command:remote:Command", "-ready");
    assert.equal(ready.inputs.create, renderReadinessCommand());
    const attachment = graph.one("digitalocean:index/volumeAttachment:VolumeAttachment");
    assert.ok(graph.dependsOn(ready, attachment));
    assert.ok(graph.dependsOn(graph.one("pulumi:providers:docker"), ready));
  });

  it("releases /srv on the old droplet before the volume is detached from it", () => {
    const release = graph.one("command:remote:Command", "-data-release");
    const attachment = graph.one("digitalocean:index/volumeAttachment:VolumeAttachment");
    const droplet = graph.one("digitalocean:index/droplet:Droplet");
    assert.equal(release.inputs.delete, renderDataReleaseCommand());
    // A property dependency on the (delete-before-replace) attachment: the engine deletes
    // the dependents it replaces first, so this delete runs before the detach.
    assert.ok(release.propertyDependencies.triggers.includes(attachment.urn));
    assert.ok(release.propertyDependencies.triggers.includes(droplet.urn));
    assert.equal(attachment.deleteBeforeReplace, true);
    assert.equal(release.deleteBeforeReplace, true);
    assert.ok(graph.dependsOn(release, graph.one("command:remote:Command", "-ready")));
  });

  it("manages DNS records for every host nginx serves when manageDns is on, Grafana's monitoring.<domain> included", () => {
    const records = graph
      .ofType("digitalocean:index/dnsRecord:DnsRecord")
      .map((r) => `${r.inputs.type} ${r.inputs.name}`)
      .sort();
    assert.deepEqual(records, ["A api", "A app", "A monitoring", "AAAA api", "AAAA app", "AAAA monitoring"]);
  });
});
