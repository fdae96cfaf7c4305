// The security-relevant parts of the rendered cloud-config, asserted whole: adding, changing
// or dropping any sshd line, file mode, login setting, metadata-service block, package or
// first-boot command fails here (the rendering tests beside this one check single lines and
// would let the others drift; test/system runs the rules and the commands for real).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { renderAuthorizedKeysCommand, renderCloudInit } from "../../components/host/cloud-init";

const hostKey = {
  privateOpenssh: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----",
  publicOpenssh: "ssh-ed25519 AAAAhost host",
};
const keys = [
  ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFr0m6wZc1Q3x8mV8m7bQJ0xWcN6iE4p5Yl9oUuKqP2S ops@example.com"],
  [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFr0m6wZc1Q3x8mV8m7bQJ0xWcN6iE4p5Yl9oUuKqP2S a",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK9mV8m7bQJ0xWcN6iE4p5Yl9oUuKqP2SFr0m6wZc1Q3 b",
  ],
];

const SSHD = [
  "# Managed by dropstack (cloud-init). Keys only, no root, deploy user only.",
  "PasswordAuthentication no",
  "KbdInteractiveAuthentication no",
  "PermitRootLogin no",
  "PermitEmptyPasswords no",
  "AllowUsers deploy",
  "MaxAuthTries 16",
  "MaxStartups 50:30:150",
  "X11Forwarding no",
  "AllowAgentForwarding no",
  "HostKey /etc/ssh/ssh_host_ed25519_key",
  "",
].join("\n");

const FILE_MODES = {
  "/etc/ssh/sshd_config.d/10-dropstack.conf": "0644",
  "/etc/sysctl.d/60-dropstack.conf": "0644",
  "/etc/apt/apt.conf.d/20auto-upgrades": "0644",
  "/etc/docker/daemon.json": "0644",
  "/usr/local/sbin/dropstack-mount-data": "0755",
  "/etc/dropstack/metadata-block.rules": "0644",
  "/etc/systemd/system/dropstack-metadata-block.service": "0644",
};

/** Containers may not reach the metadata service, which serves user-data with the host's private key. */
const METADATA_BLOCK_RULES = [
  "# Managed by dropstack (cloud-init): containers may not reach the metadata service.",
  "*filter",
  ":DOCKER-USER - [0:0]",
  "-A DOCKER-USER -d 169.254.169.254/32 -j REJECT --reject-with icmp-admin-prohibited",
  "COMMIT",
  "",
].join("\n");

/** Loaded before Docker at every boot; Docker does not start without it. */
const METADATA_BLOCK_UNIT = [
  "[Unit]",
  "Description=dropstack: keep containers away from the metadata service",
  "Before=docker.service",
  "",
  "[Service]",
  "Type=oneshot",
  "RemainAfterExit=yes",
  "ExecStart=/usr/sbin/iptables-restore --noflush /etc/dropstack/metadata-block.rules",
  "",
  "[Install]",
  "WantedBy=multi-user.target",
  "RequiredBy=docker.service",
  "",
].join("\n");

/** First boot, in order: root's password locked, sshd on its new settings, the block before any container. */
const RUNCMD = [
  ["passwd", "--lock", "root"],
  ["systemctl", "restart", "ssh"],
  ["sysctl", "--system"],
  ["systemctl", "daemon-reload"],
  ["systemctl", "enable", "--now", "dropstack-metadata-block.service"],
  ["systemctl", "enable", "--now", "unattended-upgrades", "docker", "fail2ban"],
  ["/usr/local/sbin/dropstack-mount-data"],
  ["sh", "-c", "install -d /var/lib/dropstack && date -u +%FT%TZ > /var/lib/dropstack/ready"],
];

/** The deploy user's keys are replaced atomically, private to the user, never with an empty list. */
const AUTHORIZED_KEYS_COMMAND = [
  "set -eu",
  "umask 077",
  'mkdir -p "$HOME/.ssh"',
  'tmp=$(mktemp "$HOME/.ssh/authorized_keys.XXXXXX")',
  'cat > "$tmp"',
  'if ! grep -q "^ssh-\\|^ecdsa-\\|^sk-" "$tmp"; then rm -f "$tmp"; echo "dropstack: refusing an authorized_keys without keys" >&2; exit 1; fi',
  'mv "$tmp" "$HOME/.ssh/authorized_keys"',
  'echo "dropstack: authorized_keys has $(wc -l < "$HOME/.ssh/authorized_keys") key(s)"',
].join("\n");

interface CloudConfig {
  users: Record<string, unknown>[];
  write_files: { path: string; permissions: string; content: string }[];
  runcmd: string[][];
  packages: string[];
  [key: string]: unknown;
}

describe("cloud-init hardening, whole", () => {
  for (const [i, sshPublicKeys] of keys.entries()) {
    for (const dataLabel of [undefined, "dropstack-data"]) {
      const doc = parse(renderCloudInit({ sshPublicKeys, hostKey, dataLabel })) as CloudConfig;

      it(`renders exactly the sshd hardening block (keys #${i}, label ${String(dataLabel)})`, () => {
        const sshd = doc.write_files.filter((f) => f.path.startsWith("/etc/ssh/"));
        assert.deepEqual(
          sshd.map((f) => f.content),
          [SSHD],
        );
      });

      it(`writes exactly these files with these modes (keys #${i}, label ${String(dataLabel)})`, () => {
        assert.deepEqual(Object.fromEntries(doc.write_files.map((f) => [f.path, f.permissions])), FILE_MODES);
        assert.equal(doc.write_files.length, Object.keys(FILE_MODES).length, "no path written twice");
      });

      it(`creates the data directories with exactly these owners and modes (keys #${i}, label ${String(dataLabel)})`, () => {
        const script = doc.write_files.find((f) => f.path === "/usr/local/sbin/dropstack-mount-data")?.content ?? "";
        assert.deepEqual(
          script.split("\n").filter((l) => /\b(install|chmod|chown|umask)\b/.test(l)),
          ["install -d -m 0750 -o deploy -g deploy /srv/backups", "install -d -m 0755 /srv/redis /srv/proxy"],
        );
      });

      it(`blocks the metadata service for containers with exactly these rules and unit (keys #${i}, label ${String(dataLabel)})`, () => {
        const content = (path: string) => doc.write_files.find((f) => f.path === path)?.content;
        assert.equal(content("/etc/dropstack/metadata-block.rules"), METADATA_BLOCK_RULES);
        assert.equal(content("/etc/systemd/system/dropstack-metadata-block.service"), METADATA_BLOCK_UNIT);
      });

      it(`installs exactly these packages and runs exactly these first-boot commands (keys #${i}, label ${String(dataLabel)})`, () => {
        assert.deepEqual(doc.packages, ["unattended-upgrades", "docker.io", "fail2ban", "iptables"]);
        assert.equal(doc.package_update, true, "fresh package lists, so the first boot installs today's security fixes");
        assert.equal(doc.package_upgrade, true);
        assert.deepEqual(doc.runcmd, RUNCMD);
      });

      it(`sets exactly these login and host-key settings (keys #${i}, label ${String(dataLabel)})`, () => {
        assert.deepEqual(doc.groups, ["docker"], "the deploy user's group exists before the user");
        assert.deepEqual(doc.users, [
          {
            name: "deploy",
            gecos: "dropstack deploy user",
            groups: ["docker"],
            shell: "/bin/bash",
            lock_passwd: true,
            sudo: "ALL=(ALL) NOPASSWD:ALL",
            ssh_authorized_keys: sshPublicKeys,
          },
        ]);
        const login = Object.fromEntries(Object.entries(doc).filter(([k]) => k.startsWith("ssh") || k === "disable_root"));
        assert.deepEqual(login, {
          disable_root: true,
          ssh_pwauth: false,
          ssh_deletekeys: true,
          ssh_genkeytypes: ["ed25519"],
          ssh_keys: { ed25519_private: hostKey.privateOpenssh + "\n", ed25519_public: hostKey.publicOpenssh },
        });
      });
    }
  }
});

describe("the deploy user's authorized_keys command, whole", () => {
  it("is exactly the atomic, private, never-empty replacement", () => {
    assert.equal(renderAuthorizedKeysCommand(), AUTHORIZED_KEYS_COMMAND);
  });
});
