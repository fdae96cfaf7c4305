// The rehearsal's droplet: this machine, seen through a private mount namespace. Inside it
// /srv is a temp folder (the data volume), /etc/passwd, /etc/group, /etc/shadow,
// /etc/ssh, /etc/sudoers.d and /home carry what the program's cloud-init user-data asks
// for (the deploy user, its keys and sudo rule, sshd's hardening, the pinned host key),
// and /run is private. Docker's engine and sshd both run inside it, so a bind mount such
// as `-v /srv/proxy/certs:…` in a hook means the same folder to the engine as to the
// shell that wrote it, exactly as on the droplet. Nothing outside the namespace changes
// but an empty /srv and /var/lib/dropstack used as mount points.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  cpSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { type Finished, runAsync } from "../lib/system";

/** What the rehearsal applies from the rendered user-data, in cloud-init's own keys. */
export interface UserData {
  users: { name: string; groups?: string[]; shell?: string; sudo?: string; ssh_authorized_keys?: string[] }[];
  ssh_keys?: Record<string, string>;
  write_files?: { path: string; content: string; permissions?: string }[];
  runcmd?: (string | string[])[];
}

export function parseUserData(text: string): UserData {
  if (!text.startsWith("#cloud-config\n")) throw new Error("user-data is not a #cloud-config document");
  return parse(text) as UserData;
}

/** Files in /etc the namespace overlays; they must exist on the host to be mounted over. */
const OVERLAID_FILES = ["/etc/passwd", "/etc/group", "/etc/shadow"];
const STORAGE_DRIVERS = (process.env.DROPSTACK_REHEARSE_STORAGE_DRIVER ?? "overlay2,vfs").split(",");
// /etc/systemd/system takes the units the program installs, away from this machine's own.
const OVERLAID_DIRS = ["/etc/ssh", "/etc/sudoers.d", "/home", "/srv", "/var/lib/dropstack", "/etc/systemd/system"];
/**
 * Programs a booted droplet has and this namespace cannot run as they are (systemctl without
 * systemd): each is mounted over /usr/bin/<name> inside the namespace, for root and the
 * deploy user alike.
 */
const STAND_IN_BIN = join(__dirname, "droplet-bin");
const STAND_INS_IN_FS = "/stand-ins";

export interface DropletOptions {
  /** The program's rendered cloud-init (Host.userData). */
  userData: string;
  /** The engine's data root, suffixed with the storage driver: persistent, so built images survive between runs. */
  dataRoot: string;
  /** Loopback port sshd listens on (the droplet's port 22). */
  sshPort: number;
  log?: (line: string) => void;
}

export class Droplet {
  readonly dockerHost: string;
  private sshd?: ChildProcess;
  private lock?: string;
  /** sshd's log lines (-e): what a failed login looks like from the server side. */
  readonly sshdLog: string[] = [];
  private constructor(
    readonly root: string,
    private readonly engine: ChildProcess,
    readonly sshPort: number,
    readonly deployUid: number,
    readonly deployGid: number,
  ) {
    this.dockerHost = `unix://${join(root, "docker.sock")}`;
  }

  /** The data volume as seen from outside the namespace. */
  get srv(): string {
    return join(this.root, "fs", "srv");
  }

  static async start(options: DropletOptions): Promise<Droplet> {
    const log = options.log ?? (() => undefined);
    // One rehearsal per machine: the engine's data root, ports 80/443 and the mount points are shared.
    const lock = await acquireLock(`${options.dataRoot}.lock`, log);
    const userData = parseUserData(options.userData);
    const root = mkdtempSync(join(tmpdir(), "dropstack-rehearse-"));
    chmodSync(root, 0o755);
    const fs = join(root, "fs");
    const { uid, gid, user } = writeOverlay(fs, userData);
    const daemonJson = userData.write_files?.find((f) => f.path === "/etc/docker/daemon.json");
    const daemonConfig = join(root, "daemon.json");
    writeFileSync(daemonConfig, daemonJson?.content ?? "{}\n");

    for (const dir of OVERLAID_DIRS) mkdirSync(dir, { recursive: true });
    const mounts = [
      "mount -t tmpfs -o mode=0755 tmpfs /run",
      "mkdir -p /run/sshd /run/lock /run/cloud-init /run/sudo",
      ...[...OVERLAID_FILES, ...OVERLAID_DIRS].map((p) => `mount --bind ${fs}${p} ${p}`),
      ...readdirSync(STAND_IN_BIN).map((program) => `mount --bind ${fs}${STAND_INS_IN_FS}/${program} /usr/bin/${program}`),
      // The stand-ins' record of their calls, written by root and the deploy user alike.
      "install -m 0666 /dev/null /run/rehearsal-systemctl.log",
      cloudInitDone(),
    ];
    // overlay2 where the kernel and file system allow it (fast: layers are not copied);
    // vfs otherwise, which works everywhere but copies a whole root filesystem per layer.
    let droplet: Droplet | undefined;
    let failure = "";
    for (const driver of STORAGE_DRIVERS) {
      const dataRoot = `${options.dataRoot}-${driver}`;
      const dockerd = [
        "dockerd",
        `--storage-driver=${driver}`,
        `--data-root=${dataRoot}`,
        "--exec-root=/run/docker",
        "--pidfile=/run/docker.pid",
        "-H",
        "unix:///run/docker.sock",
        "-H",
        `unix://${root}/docker.sock`,
        "--group=docker",
        `--config-file=${daemonConfig}`,
      ];
      const engine = spawn(
        "unshare",
        ["--mount", "--propagation", "private", "--", "/bin/sh", "-ec", `${mounts.join("\n")}\nexec ${dockerd.join(" ")}`],
        {
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      const stderr: string[] = [];
      engine.stderr?.on("data", (d: Buffer) => {
        stderr.push(d.toString());
        if (stderr.length > 200) stderr.shift();
      });
      const candidate = new Droplet(root, engine, options.sshPort, uid, gid);
      try {
        await candidate.waitForEngine(() => stderr.join(""));
        droplet = candidate;
        log(`droplet: engine (${driver}) in a private mount namespace, data root ${dataRoot}`);
        break;
      } catch (e) {
        failure += `${driver}: ${(e as Error).message}\n`;
        if (engine.exitCode === null) engine.kill("SIGTERM");
        await waitFor(
          () => engine.exitCode !== null || engine.signalCode !== null,
          30_000,
          () => "dockerd did not stop",
        );
      }
    }
    if (!droplet) {
      rmSync(lock, { recursive: true, force: true });
      rmSync(root, { recursive: true, force: true });
      throw new Error(`dockerd did not start with any storage driver:\n${failure}`);
    }
    droplet.lock = lock;
    // A run that was killed leaves containers in the persistent data root; restart policies bring them back.
    droplet.reset();

    // What cloud-init's runcmd does besides starting services (the rehearsal starts them):
    // the data folders of the mount script, and the readiness marker.
    const mountScript = userData.write_files?.find((f) => f.path.endsWith("dropstack-mount-data"))?.content ?? "";
    const installs = mountScript.split("\n").filter((l) => l.startsWith("install -d "));
    const shellRuncmd = (userData.runcmd ?? []).filter((c): c is string[] => Array.isArray(c) && c[0] === "sh").map((c) => c[2]);
    droplet.exec(["/bin/sh", "-ec", [...installs, ...shellRuncmd].join("\n")]);

    droplet.sshd = droplet.spawnInside([
      "/usr/sbin/sshd",
      "-D",
      "-e",
      "-f",
      "/etc/ssh/sshd_config",
      "-o",
      `Port=${options.sshPort}`,
      "-o",
      "ListenAddress=127.0.0.1",
      "-o",
      "PidFile=/run/sshd.pid",
    ]);
    const sshdLog = droplet.sshdLog;
    droplet.sshd.stderr?.on("data", (d: Buffer) => {
      sshdLog.push(d.toString());
      if (sshdLog.length > 500) sshdLog.shift();
    });
    await waitFor(
      () => spawnSync("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${options.sshPort}`]).status === 0,
      10_000,
      () => `sshd did not listen on ${options.sshPort}: ${sshdLog.join("")}`,
    );
    log(`droplet: sshd on 127.0.0.1:${options.sshPort} for ${user} (uid ${uid}), host key from the user-data`);
    return droplet;
  }

  private async waitForEngine(stderr: () => string): Promise<void> {
    await waitFor(
      () => {
        if (this.engine.exitCode !== null) throw new Error(`dockerd exited (${this.engine.exitCode}):\n${stderr().slice(-3000)}`);
        return this.docker(["version", "--format", "{{.Server.Version}}"], { check: false }).status === 0;
      },
      60_000,
      () => `dockerd did not answer on ${this.dockerHost}:\n${stderr().slice(-3000)}`,
    );
  }

  /** Runs a command inside the droplet's mount namespace, as root. */
  exec(argv: string[], input?: string): string {
    const r = spawnSync("nsenter", ["--target", String(this.engine.pid), "--mount", "--", ...argv], { input, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`droplet: ${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  }

  private spawnInside(argv: string[]): ChildProcess {
    return spawn("nsenter", ["--target", String(this.engine.pid), "--mount", "--", ...argv], { stdio: ["ignore", "ignore", "pipe"] });
  }

  docker(args: string[], options: { check?: boolean; input?: string; env?: NodeJS.ProcessEnv } = {}) {
    const r = spawnSync("docker", args, {
      env: { ...process.env, ...options.env, DOCKER_HOST: this.dockerHost },
      encoding: "utf8",
      input: options.input,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (options.check !== false && r.status !== 0) throw new Error(`docker ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
    return r;
  }

  /**
   * `docker` without blocking the event loop, for a command that runs while this process
   * also measures something (the load client keeps sending while replicas restart).
   */
  dockerInBackground(args: string[]): Promise<Finished> {
    return runAsync(["docker", ...args], { env: { ...process.env, DOCKER_HOST: this.dockerHost } });
  }

  /** Removes every container and user network; images stay. */
  reset(): void {
    const ids = this.docker(["ps", "-aq"], { check: false }).stdout.split("\n").filter(Boolean);
    if (ids.length > 0) this.docker(["rm", "-f", "-v", ...ids], { check: false });
    const networks = this.docker(["network", "ls", "-q", "--filter", "type=custom"], { check: false }).stdout.split("\n").filter(Boolean);
    if (networks.length > 0) this.docker(["network", "rm", ...networks], { check: false });
  }

  /** Stops sshd and every container, then the engine; the data root (images) stays. */
  async stop(): Promise<void> {
    if (this.sshd && this.sshd.exitCode === null) this.sshd.kill("SIGTERM");
    if (this.engine.exitCode === null) {
      this.reset();
      this.engine.kill("SIGTERM");
      await waitFor(
        () => this.engine.exitCode !== null || this.engine.signalCode !== null,
        30_000,
        () => "dockerd did not stop",
      );
    }
    rmSync(this.root, { recursive: true, force: true });
    if (this.lock) rmSync(this.lock, { recursive: true, force: true });
  }
}

/**
 * A lock directory holding the owner's pid: mkdir is atomic, and a lock whose owner is gone
 * (a killed run) is taken over. Waits up to an hour for a running rehearsal to finish.
 */
async function acquireLock(dir: string, log: (line: string) => void): Promise<string> {
  const deadline = Date.now() + 3600_000;
  let told = false;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, "pid"), String(process.pid));
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(dir, "pid"), "utf8"));
    } catch {
      /* being written */
    }
    const alive =
      Number.isInteger(owner) &&
      (() => {
        try {
          process.kill(owner, 0);
          return true;
        } catch {
          return false;
        }
      })();
    if (Number.isInteger(owner) && !alive) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (!told) {
      log(`droplet: another rehearsal (pid ${owner}) holds ${dir}; waiting for it`);
      told = true;
    }
    if (Date.now() > deadline) throw new Error(`another rehearsal (pid ${owner}) held ${dir} for an hour`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** The files cloud-init would have written, under `fs`; returns the deploy user's ids. */
function writeOverlay(fs: string, userData: UserData): { uid: number; gid: number; user: string } {
  if (userData.users.length !== 1)
    throw new Error(`the rehearsal applies exactly one user from the user-data, found ${userData.users.length}`);
  const account = userData.users[0];
  const passwd = readFileSync("/etc/passwd", "utf8");
  const groups = readFileSync("/etc/group", "utf8");
  const used = new Set([...passwd.split("\n"), ...groups.split("\n")].map((l) => Number(l.split(":")[2])).filter(Number.isFinite));
  let uid = 2001;
  while (used.has(uid)) uid++;
  const gid = uid;

  const etc = join(fs, "etc");
  mkdirSync(join(etc, "sudoers.d"), { recursive: true });
  writeFileSync(
    join(etc, "passwd"),
    `${passwd.trimEnd()}\n${account.name}:x:${uid}:${gid}:dropstack deploy user:/home/${account.name}:${account.shell ?? "/bin/sh"}\n`,
  );
  const groupLines = groups
    .trimEnd()
    .split("\n")
    .filter((l) => !l.startsWith(`${account.name}:`));
  for (const group of account.groups ?? []) {
    const i = groupLines.findIndex((l) => l.startsWith(`${group}:`));
    if (i < 0) throw new Error(`group ${group} does not exist on this machine (install docker.io)`);
    const members = groupLines[i].split(":")[3];
    groupLines[i] = `${groupLines[i].replace(/:[^:]*$/, "")}:${members ? `${members},` : ""}${account.name}`;
  }
  groupLines.push(`${account.name}:x:${gid}:`);
  writeFileSync(join(etc, "group"), groupLines.join("\n") + "\n");
  // lock_passwd: keys only; "!" is what cloud-init writes for a locked password.
  writeFileSync(join(etc, "shadow"), `${readFileSync("/etc/shadow", "utf8").trimEnd()}\n${account.name}:!:20000:0:99999:7:::\n`, {
    mode: 0o640,
  });
  if (account.sudo) writeFileSync(join(etc, "sudoers.d", "90-cloud-init-users"), `${account.name} ${account.sudo}\n`, { mode: 0o440 });

  // /etc/ssh: Debian's defaults, no host keys but the user-data's, its write_files under /etc/ssh.
  const ssh = join(etc, "ssh");
  cpSync("/etc/ssh", ssh, { recursive: true });
  for (const f of readdirSync(ssh)) if (f.startsWith("ssh_host_")) rmSync(join(ssh, f));
  mkdirSync(join(ssh, "sshd_config.d"), { recursive: true });
  for (const [name, content] of Object.entries(userData.ssh_keys ?? {})) {
    const m = /^(\w+)_(private|public)$/.exec(name);
    if (!m) continue;
    const file = join(ssh, `ssh_host_${m[1]}_key${m[2] === "public" ? ".pub" : ""}`);
    writeFileSync(file, content.endsWith("\n") ? content : content + "\n", { mode: m[2] === "private" ? 0o600 : 0o644 });
  }
  for (const file of userData.write_files ?? []) {
    if (!file.path.startsWith("/etc/ssh/")) continue;
    writeFileSync(join(fs, file.path), file.content, { mode: parseInt(file.permissions ?? "0644", 8) });
  }

  const home = join(fs, "home", account.name);
  mkdirSync(home, { recursive: true, mode: 0o755 });
  mkdirSync(join(home, ".ssh"), { mode: 0o700 });
  writeFileSync(join(home, ".ssh", "authorized_keys"), (account.ssh_authorized_keys ?? []).join("\n") + "\n", { mode: 0o600 });
  for (const p of [home, join(home, ".ssh"), join(home, ".ssh", "authorized_keys")]) chownSync(p, uid, gid);
  chmodSync(join(home, ".ssh"), 0o700);
  mkdirSync(join(fs, "srv"), { recursive: true });
  mkdirSync(join(fs, "var", "lib", "dropstack"), { recursive: true });
  mkdirSync(join(fs, "etc", "systemd", "system"), { recursive: true });
  mkdirSync(join(fs, STAND_INS_IN_FS), { recursive: true });
  for (const program of readdirSync(STAND_IN_BIN)) {
    copyFileSync(join(STAND_IN_BIN, program), join(fs, STAND_INS_IN_FS, program));
    chmodSync(join(fs, STAND_INS_IN_FS, program), 0o755);
  }
  if (!existsSync(join(ssh, "ssh_host_ed25519_key")))
    throw new Error("the user-data carries no ed25519 host key (ssh_keys.ed25519_private)");
  return { uid, gid, user: account.name };
}

/**
 * `cloud-init status --wait` reads /run/cloud-init/status.json and result.json. The
 * rehearsal applied the user-data itself, so it reports it done, with no errors.
 */
function cloudInitDone(): string {
  const now = Math.floor(Date.now() / 1000);
  const stage = { start: now, finished: now, errors: [] };
  const status = {
    v1: {
      datasource: "DataSourceNone [rehearsal: user-data applied by tools/rehearse]",
      stage: null,
      init: stage,
      "modules-config": stage,
      "modules-final": stage,
    },
  };
  const result = { v1: { datasource: "DataSourceNone", errors: [] } };
  return [
    `cat > /run/cloud-init/status.json <<'EOF'`,
    JSON.stringify(status),
    "EOF",
    `cat > /run/cloud-init/result.json <<'EOF'`,
    JSON.stringify(result),
    "EOF",
  ].join("\n");
}

export async function waitFor(ready: () => boolean, timeoutMs: number, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (ready()) return;
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((r) => setTimeout(r, 200));
  }
}
