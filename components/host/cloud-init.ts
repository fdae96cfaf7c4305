// cloud-init user-data for the dropstack droplet, rendered as a pure function so the
// exact bytes that reach the server can be checked by `cloud-init schema` in tests.
import { stringify } from "yaml";
import { DATA_DIRS, DATA_MOUNT, DEPLOY_USER } from "../common/names";

export { DATA_MOUNT, DEPLOY_USER };
/** ext4 labels hold at most 16 bytes. */
export const DATA_LABEL = "dropstack-data";
/** Written last by cloud-init; the host's readiness check waits for it. */
export const READY_MARKER = "/var/lib/dropstack/ready";

export interface CloudInitInput {
  sshPublicKeys: string[];
  /** Host key pair generated in the graph, so every connection can pin it. */
  hostKey: { privateOpenssh: string; publicOpenssh: string };
  dataLabel?: string;
}

/**
 * Every rejected key an ssh-agent offers counts as one authentication attempt, and sshd
 * drops the connection at MaxAuthTries (exit 255, and fail2ban counts the drop). Keys are
 * the only method, so more tries give an attacker nothing to guess: an agent may hold up to
 * SSH_MAX_AUTH_TRIES - 1 other keys before the deploy key. See README.md.
 */
export const SSH_MAX_AUTH_TRIES = 16;
/**
 * Unauthenticated connections sshd accepts at once before it starts dropping new ones
 * (default 10:30:100). A deploy opens one connection per remote command and per Docker
 * operation, many in parallel; port 22 is open to the admin CIDRs only.
 */
export const SSH_MAX_STARTUPS = "50:30:150";

export const SSHD_CONFIG_PATH = "/etc/ssh/sshd_config.d/10-dropstack.conf";

const SSHD_HARDENING = [
  "# Managed by dropstack (cloud-init). Keys only, no root, deploy user only.",
  "PasswordAuthentication no",
  "KbdInteractiveAuthentication no",
  "PermitRootLogin no",
  "PermitEmptyPasswords no",
  `AllowUsers ${DEPLOY_USER}`,
  `MaxAuthTries ${SSH_MAX_AUTH_TRIES}`,
  `MaxStartups ${SSH_MAX_STARTUPS}`,
  "X11Forwarding no",
  "AllowAgentForwarding no",
  "HostKey /etc/ssh/ssh_host_ed25519_key",
  "",
].join("\n");

/** DigitalOcean's metadata service: it serves user-data, host private key included, to anyone on the droplet. */
export const METADATA_ADDRESS = "169.254.169.254";
export const METADATA_BLOCK_RULES_PATH = "/etc/dropstack/metadata-block.rules";
export const METADATA_BLOCK_UNIT = "dropstack-metadata-block.service";

/**
 * iptables-restore input for Docker's DOCKER-USER chain, which Docker jumps to first from
 * FORWARD and never edits. Containers' traffic is forwarded, the host's own is not, so
 * cloud-init and the droplet agent still reach the metadata service. Loaded with --noflush:
 * the chain line flushes DOCKER-USER alone, so reloading it never duplicates the rule and
 * leaves Docker's other chains alone.
 */
export function renderMetadataBlockRules(): string {
  return [
    "# Managed by dropstack (cloud-init): containers may not reach the metadata service.",
    "*filter",
    ":DOCKER-USER - [0:0]",
    `-A DOCKER-USER -d ${METADATA_ADDRESS}/32 -j REJECT --reject-with icmp-admin-prohibited`,
    "COMMIT",
    "",
  ].join("\n");
}

/**
 * Loads the rules at every boot before Docker starts, so no container ever runs without
 * them. RequiredBy: if they cannot be loaded, Docker does not start either (fail closed).
 */
export function renderMetadataBlockUnit(): string {
  return [
    "[Unit]",
    "Description=dropstack: keep containers away from the metadata service",
    "Before=docker.service",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `ExecStart=/usr/sbin/iptables-restore --noflush ${METADATA_BLOCK_RULES_PATH}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "RequiredBy=docker.service",
    "",
  ].join("\n");
}

// Redis forks for AOF rewrites; without overcommit the fork can fail under memory pressure.
const SYSCTL = ["vm.overcommit_memory = 1", ""].join("\n");

const UNATTENDED_UPGRADES = [
  'APT::Periodic::Update-Package-Lists "1";',
  'APT::Periodic::Download-Upgradeable-Packages "1";',
  'APT::Periodic::Unattended-Upgrade "1";',
  'APT::Periodic::AutocleanInterval "7";',
  "",
].join("\n");

// Container logs rotate so a chatty app cannot fill the root disk.
const DOCKER_DAEMON =
  JSON.stringify({ "log-driver": "json-file", "log-opts": { "max-size": "20m", "max-file": "5" }, "live-restore": true }, null, 2) + "\n";

/**
 * The volume is attached after the droplet boots, so fstab alone cannot be trusted on
 * first boot: wait for the labelled device, then mount. `nofail` keeps later reboots
 * from hanging if the volume is ever detached.
 */
function mountScript(label: string): string {
  return [
    "#!/bin/sh",
    "set -eu",
    `device=/dev/disk/by-label/${label}`,
    "i=0",
    'while [ ! -e "$device" ]; do',
    "  i=$((i + 1))",
    '  if [ "$i" -gt 300 ]; then echo "dropstack: volume $device did not appear" >&2; exit 1; fi',
    "  sleep 2",
    "done",
    `mountpoint -q ${DATA_MOUNT} || mount ${DATA_MOUNT}`,
    `install -d -m 0750 -o ${DEPLOY_USER} -g ${DEPLOY_USER} ${DATA_DIRS.backups}`,
    `install -d -m 0755 ${DATA_DIRS.redis} ${DATA_DIRS.proxy}`,
    "",
  ].join("\n");
}

export function renderCloudInit(input: CloudInitInput): string {
  const label = input.dataLabel ?? DATA_LABEL;
  if (label.length > 16) throw new Error(`volume label "${label}" is longer than ext4's 16 bytes`);
  if (input.sshPublicKeys.length === 0) throw new Error("at least one SSH public key is needed for the deploy user");
  const document = {
    groups: ["docker"],
    users: [
      {
        name: DEPLOY_USER,
        gecos: "dropstack deploy user",
        groups: ["docker"],
        shell: "/bin/bash",
        lock_passwd: true,
        // Docker group membership is root-equivalent already; sudo keeps host upkeep auditable.
        sudo: "ALL=(ALL) NOPASSWD:ALL",
        ssh_authorized_keys: input.sshPublicKeys,
      },
    ],
    disable_root: true,
    ssh_pwauth: false,
    ssh_deletekeys: true,
    // Only the pinned ed25519 key: cloud-init generates nothing it was not given.
    ssh_genkeytypes: ["ed25519"],
    ssh_keys: {
      ed25519_private: input.hostKey.privateOpenssh.trimEnd() + "\n",
      ed25519_public: input.hostKey.publicOpenssh.trim(),
    },
    package_update: true,
    package_upgrade: true,
    packages: ["unattended-upgrades", "docker.io", "fail2ban", "iptables"],
    mounts: [[`LABEL=${label}`, DATA_MOUNT, "ext4", "defaults,nofail,noatime,discard", "0", "2"]],
    write_files: [
      { path: SSHD_CONFIG_PATH, permissions: "0644", content: SSHD_HARDENING },
      { path: "/etc/sysctl.d/60-dropstack.conf", permissions: "0644", content: SYSCTL },
      { path: "/etc/apt/apt.conf.d/20auto-upgrades", permissions: "0644", content: UNATTENDED_UPGRADES },
      { path: "/etc/docker/daemon.json", permissions: "0644", content: DOCKER_DAEMON },
      { path: "/usr/local/sbin/dropstack-mount-data", permissions: "0755", content: mountScript(label) },
      { path: METADATA_BLOCK_RULES_PATH, permissions: "0644", content: renderMetadataBlockRules() },
      { path: `/etc/systemd/system/${METADATA_BLOCK_UNIT}`, permissions: "0644", content: renderMetadataBlockUnit() },
    ],
    runcmd: [
      // A droplet created without DigitalOcean SSH keys gets a root password by email; SSH
      // refuses it already (no passwords, no root), and locking it closes the web console too.
      ["passwd", "--lock", "root"],
      ["systemctl", "restart", "ssh"],
      ["sysctl", "--system"],
      // Docker is already running on first boot (the package starts it): load the rules now,
      // before any container exists; on later boots the unit runs before Docker.
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", METADATA_BLOCK_UNIT],
      ["systemctl", "enable", "--now", "unattended-upgrades", "docker", "fail2ban"],
      ["/usr/local/sbin/dropstack-mount-data"],
      ["sh", "-c", `install -d /var/lib/dropstack && date -u +%FT%TZ > ${READY_MARKER}`],
    ],
  };
  return "#cloud-config\n" + stringify(document, { lineWidth: 0 });
}

/**
 * The host's readiness check, run over SSH before anything uses the droplet. `cloud-init
 * status --wait` exits 0 when done, 1 on an error and, since cloud-init 23.4, 2 when done
 * with recoverable errors (a deprecated key in DigitalOcean's vendor-data is enough). Exit 2
 * is a warning, shown in the deploy log; anything else fails. The marker (written by the last
 * runcmd), the mounted volume and a running Docker are what the rest of the deploy needs.
 */
export function renderReadinessCommand(marker = READY_MARKER, mount = DATA_MOUNT): string {
  return [
    "set -eu",
    "status=0",
    "cloud-init status --wait >/dev/null || status=$?",
    'case "$status" in',
    "  0) ;;",
    '  2) echo "dropstack: cloud-init finished with recoverable errors; continuing:" >&2',
    "     cloud-init status --long >&2 || true ;;",
    '  *) echo "dropstack: cloud-init failed (exit $status):" >&2',
    "     cloud-init status --long >&2 || true",
    "     exit 1 ;;",
    "esac",
    `test -f ${marker} || { echo "dropstack: ${marker} missing: cloud-init did not finish its runcmd" >&2; exit 1; }`,
    `mountpoint -q ${mount} || { echo "dropstack: the data volume is not mounted at ${mount}" >&2; exit 1; }`,
    "docker info --format '{{.ServerVersion}}'",
  ].join("\n");
}

/**
 * Runs on a droplet that is being replaced (or removed) before its data volume is detached:
 * stops every container, then Docker itself (so no restart policy or timer starts one again),
 * flushes and unmounts the volume. A busy mount fails the step, naming the processes, and the
 * volume stays attached: detaching under a live mount can lose Redis's AOF or a backup.
 */
export function renderDataReleaseCommand(mount = DATA_MOUNT): string {
  return [
    "set -eu",
    "containers=$(docker ps -q)",
    'if [ -n "$containers" ]; then',
    `  echo "dropstack: stopping $(echo "$containers" | wc -l) container(s) before ${mount} is detached" >&2`,
    "  # Each container's own stop timeout applies; Redis writes its AOF on SIGTERM.",
    "  # shellcheck disable=SC2086",
    "  docker stop $containers >/dev/null",
    "fi",
    "sudo -n systemctl stop docker.socket docker.service",
    "sync",
    `if mountpoint -q ${mount}; then`,
    `  if ! sudo -n umount ${mount}; then`,
    `    echo "dropstack: ${mount} is busy, not detaching it; these processes still use it:" >&2`,
    `    sudo -n fuser -vm ${mount} >&2 || true`,
    "    exit 1",
    "  fi",
    "fi",
    `echo "dropstack: ${mount} released; the volume can be detached"`,
  ].join("\n");
}

/** The deploy user's authorized_keys, exactly the configured keys. */
export function authorizedKeysFile(sshPublicKeys: string[]): string {
  return sshPublicKeys.map((k) => k.trim()).join("\n") + "\n";
}

/** Replaces ~/.ssh/authorized_keys atomically with the file on stdin; refuses an empty one. */
export function renderAuthorizedKeysCommand(): string {
  return [
    "set -eu",
    "umask 077",
    'mkdir -p "$HOME/.ssh"',
    'tmp=$(mktemp "$HOME/.ssh/authorized_keys.XXXXXX")',
    'cat > "$tmp"',
    'if ! grep -q "^ssh-\\|^ecdsa-\\|^sk-" "$tmp"; then rm -f "$tmp"; echo "dropstack: refusing an authorized_keys without keys" >&2; exit 1; fi',
    'mv "$tmp" "$HOME/.ssh/authorized_keys"',
    'echo "dropstack: authorized_keys has $(wc -l < "$HOME/.ssh/authorized_keys") key(s)"',
  ].join("\n");
}
