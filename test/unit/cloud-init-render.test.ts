import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { DATA_LABEL, renderCloudInit } from "../../components/host/cloud-init";

const hostKey = {
  privateOpenssh: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----",
  publicOpenssh: "ssh-ed25519 AAAAhost host\n",
};
const userKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFr0m6wZc1Q3x8mV8m7bQJ0xWcN6iE4p5Yl9oUuKqP2S ops@example.com";

describe("cloud-init rendering", () => {
  const text = renderCloudInit({ sshPublicKeys: [userKey], hostKey });
  const doc = parse(text);

  it("starts with the #cloud-config header", () => {
    assert.ok(text.startsWith("#cloud-config\n"));
  });

  it("creates a non-root deploy user in the docker group with only the given keys", () => {
    const [user] = doc.users;
    assert.equal(user.name, "deploy");
    assert.deepEqual(user.groups, ["docker"]);
    assert.equal(user.lock_passwd, true);
    assert.deepEqual(user.ssh_authorized_keys, [userKey]);
  });

  it("turns off passwords and root login in sshd", () => {
    assert.equal(doc.ssh_pwauth, false);
    assert.equal(doc.disable_root, true);
    const sshd = doc.write_files.find((f: { path: string }) => f.path.startsWith("/etc/ssh/sshd_config.d/")).content;
    assert.match(sshd, /^PasswordAuthentication no$/m);
    assert.match(sshd, /^PermitRootLogin no$/m);
    assert.match(sshd, /^AllowUsers deploy$/m);
  });

  it("locks root's password, which DigitalOcean emails for droplets created without its SSH keys", () => {
    const commands = doc.runcmd.map((c: string[]) => c.join(" "));
    assert.ok(commands.includes("passwd --lock root"));
  });

  it("installs the pinned host key and nothing else", () => {
    assert.equal(doc.ssh_keys.ed25519_public, "ssh-ed25519 AAAAhost host");
    assert.match(doc.ssh_keys.ed25519_private, /BEGIN OPENSSH PRIVATE KEY/);
    assert.equal(doc.ssh_deletekeys, true);
  });

  it("enables unattended security upgrades and installs Docker", () => {
    assert.ok(doc.packages.includes("unattended-upgrades"));
    assert.ok(doc.packages.includes("docker.io"));
    const auto = doc.write_files.find((f: { path: string }) => f.path === "/etc/apt/apt.conf.d/20auto-upgrades").content;
    assert.match(auto, /Unattended-Upgrade "1"/);
  });

  it("mounts the data volume at /srv by label, surviving reboots without blocking boot", () => {
    const [mount] = doc.mounts;
    assert.deepEqual(mount.slice(0, 3), [`LABEL=${DATA_LABEL}`, "/srv", "ext4"]);
    assert.match(mount[3], /nofail/);
    assert.ok(doc.runcmd.some((c: string[]) => c.join(" ") === "/usr/local/sbin/dropstack-mount-data"));
  });

  it("refuses labels ext4 cannot hold and hosts without keys", () => {
    assert.throws(() => renderCloudInit({ sshPublicKeys: [userKey], hostKey, dataLabel: "a-label-longer-than-16" }), /16 bytes/);
    assert.throws(() => renderCloudInit({ sshPublicKeys: [], hostKey }), /at least one SSH public key/);
  });
});
