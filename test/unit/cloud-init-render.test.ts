import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { authorizedKeysFile, renderCloudInit } from "../../components/host/cloud-init";

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

  it("mounts the data volume at /srv by label, surviving reboots without blocking boot, checked at boot after the root disk", () => {
    assert.deepEqual(doc.mounts, [["LABEL=dropstack-data", "/srv", "ext4", "defaults,nofail,noatime,discard", "0", "2"]]);
    assert.ok(doc.runcmd.some((c: string[]) => c.join(" ") === "/usr/local/sbin/dropstack-mount-data"));
  });

  it("refuses labels ext4 cannot hold and hosts without keys", () => {
    assert.throws(() => renderCloudInit({ sshPublicKeys: [userKey], hostKey, dataLabel: "a-label-longer-than-16" }), /16 bytes/);
    assert.throws(() => renderCloudInit({ sshPublicKeys: [userKey], hostKey, dataLabel: "x".repeat(17) }), /16 bytes/);
    assert.throws(() => renderCloudInit({ sshPublicKeys: [], hostKey }), /at least one SSH public key/);
  });

  it("takes a label of exactly 16 bytes, ext4's limit, and waits for and mounts that label", () => {
    const label = "0123456789abcdef";
    const labelled = parse(renderCloudInit({ sshPublicKeys: [userKey], hostKey, dataLabel: label }));
    assert.equal(labelled.mounts[0][0], `LABEL=${label}`);
    const script = labelled.write_files.find((f: { path: string }) => f.path === "/usr/local/sbin/dropstack-mount-data").content;
    assert.match(script, new RegExp(`^device=/dev/disk/by-label/${label}$`, "m"));
  });

  it("ends the host private key with exactly one newline, however the key generator ends it (OpenSSH refuses a key without)", () => {
    for (const ending of ["", "\n", "\n\n", " \n"]) {
      const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----";
      const rendered = parse(renderCloudInit({ sshPublicKeys: [userKey], hostKey: { ...hostKey, privateOpenssh: key + ending } }));
      assert.equal(rendered.ssh_keys.ed25519_private, `${key}\n`, JSON.stringify(ending));
    }
  });
});

describe("cloud-init's other files, whole", () => {
  const doc = parse(renderCloudInit({ sshPublicKeys: [userKey], hostKey }));
  const content = (path: string) => doc.write_files.find((f: { path: string }) => f.path === path).content;

  it("lets Redis fork for its AOF rewrites under memory pressure", () => {
    assert.equal(content("/etc/sysctl.d/60-dropstack.conf"), "vm.overcommit_memory = 1\n");
  });

  it("refreshes, downloads and installs upgrades daily, and cleans the package cache weekly", () => {
    assert.equal(
      content("/etc/apt/apt.conf.d/20auto-upgrades"),
      [
        'APT::Periodic::Update-Package-Lists "1";',
        'APT::Periodic::Download-Upgradeable-Packages "1";',
        'APT::Periodic::Unattended-Upgrade "1";',
        'APT::Periodic::AutocleanInterval "7";',
        "",
      ].join("\n"),
    );
  });

  it("rotates container logs (5 files of 20 MB) and keeps containers running while Docker restarts", () => {
    const daemon: string = content("/etc/docker/daemon.json");
    assert.deepEqual(JSON.parse(daemon), {
      "log-driver": "json-file",
      "log-opts": { "max-size": "20m", "max-file": "5" },
      "live-restore": true,
    });
    assert.ok(daemon.endsWith("}\n"), "one JSON document, ending in a newline");
  });

  it("mounts the volume once its device appears (10 minutes at most) and creates the data directories", () => {
    assert.equal(
      content("/usr/local/sbin/dropstack-mount-data"),
      [
        "#!/bin/sh",
        "set -eu",
        "device=/dev/disk/by-label/dropstack-data",
        "i=0",
        'while [ ! -e "$device" ]; do',
        "  i=$((i + 1))",
        '  if [ "$i" -gt 300 ]; then echo "dropstack: volume $device did not appear" >&2; exit 1; fi',
        "  sleep 2",
        "done",
        "mountpoint -q /srv || mount /srv",
        "install -d -m 0750 -o deploy -g deploy /srv/backups",
        "install -d -m 0755 /srv/redis /srv/proxy",
        "",
      ].join("\n"),
    );
  });
});

describe("authorizedKeysFile", () => {
  it("is exactly the configured keys, one a line, trimmed, with a final newline", () => {
    assert.equal(authorizedKeysFile([userKey]), `${userKey}\n`);
    assert.equal(authorizedKeysFile([`  ${userKey} \n`, "ssh-ed25519 AAAAb b\n"]), `${userKey}\nssh-ed25519 AAAAb b\n`);
  });
});
