// SSH as @pulumi/command's remote resources and the docker provider connect, done with
// OpenSSH against the rehearsal's sshd. The program's connection decides everything but
// where the bytes go: the droplet's address maps to the loopback port sshd listens on,
// and HostKeyAlias keeps that address as the name the pinned host key is checked under.
//
// remote.Command (pulumi/pulumi-command provider/pkg/provider/remote/connection.go,
// command.go): user defaults to root, port to 22; keys come from `privateKey`, else from
// the agent at `agentSocketPath`, else SSH_AUTH_SOCK; with `hostKey` set the server must
// present exactly that key (without it any key is accepted); the command string runs as
// one session (the login shell's `-c`), stdin only when non-empty.
import { spawn } from "node:child_process";
import { runAsync } from "../lib/system";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Connection {
  host: string;
  port?: number;
  user?: string;
  privateKey?: string;
  agentSocketPath?: string;
  hostKey?: string;
  dialErrorLimit?: number;
}

export interface Route {
  /** The droplet's address as the program knows it (the reserved IP). */
  address: string;
  /** Where its sshd really listens. */
  sshPort: number;
}

export interface RemoteResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function connectionFrom(value: unknown): Connection {
  const c = value as Record<string, unknown>;
  if (typeof c?.host !== "string") throw new Error("remote connection without a host");
  return {
    host: c.host,
    port: typeof c.port === "number" ? c.port : undefined,
    user: typeof c.user === "string" ? c.user : undefined,
    privateKey: typeof c.privateKey === "string" ? c.privateKey : undefined,
    agentSocketPath: typeof c.agentSocketPath === "string" ? c.agentSocketPath : undefined,
    hostKey: typeof c.hostKey === "string" ? c.hostKey : undefined,
    dialErrorLimit: typeof c.dialErrorLimit === "number" ? c.dialErrorLimit : undefined,
  };
}

/** OpenSSH arguments for one connection; `cleanup` removes the key file when one was written. */
export function sshArgs(connection: Connection, route: Route): { args: string[]; env: NodeJS.ProcessEnv; cleanup: () => void } {
  if (connection.host !== route.address)
    throw new Error(`the connection goes to ${connection.host}, but the rehearsal's droplet is ${route.address}`);
  if ((connection.port ?? 22) !== 22)
    throw new Error(`the connection uses port ${connection.port}; the rehearsal maps only the droplet's port 22`);
  const args = [
    "-p",
    String(route.sshPort),
    "-o",
    `HostKeyAlias=${connection.host}`,
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
  ];
  if (connection.hostKey) {
    args.push("-o", "StrictHostKeyChecking=yes", "-o", `KnownHostsCommand=/bin/echo %H ${connection.hostKey.trim()}`);
  } else {
    args.push("-o", "StrictHostKeyChecking=no");
  }
  let dir: string | undefined;
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (connection.privateKey) {
    dir = mkdtempSync(join(tmpdir(), "dropstack-rehearse-key-"));
    const key = join(dir, "key");
    writeFileSync(key, connection.privateKey.endsWith("\n") ? connection.privateKey : connection.privateKey + "\n", { mode: 0o600 });
    chmodSync(key, 0o600);
    args.push("-i", key, "-o", "IdentitiesOnly=yes");
  } else {
    args.push("-o", "IdentityFile=none");
  }
  const agent = connection.agentSocketPath ?? process.env.SSH_AUTH_SOCK;
  if (agent) env.SSH_AUTH_SOCK = agent;
  else delete env.SSH_AUTH_SOCK;
  args.push("-l", connection.user ?? "root", "127.0.0.1");
  return {
    args,
    env,
    cleanup: () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `command` in one session, like the provider's session.Run; stdout and stderr are kept. */
export function runRemote(
  connection: Connection,
  route: Route,
  command: string,
  stdin?: string,
  onOutput?: (chunk: string) => void,
): Promise<RemoteResult> {
  const { args, env, cleanup } = sshArgs(connection, route);
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", [...args, "--", command], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      onOutput?.(d.toString());
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      onOutput?.(d.toString());
    });
    child.on("error", (e) => {
      cleanup();
      reject(e);
    });
    child.on("close", (code) => {
      cleanup();
      resolve({ status: code ?? 255, stdout, stderr });
    });
    // A remote command that fails before reading its stdin closes the pipe: its status says so.
    child.stdin.on("error", () => {});
    if (stdin && stdin.length > 0) child.stdin.end(stdin);
    else child.stdin.end();
  });
}

/** Uploads a file over SFTP (scp's default protocol), as CopyToRemote does. */
export async function copyToRemote(connection: Connection, route: Route, localPath: string, remotePath: string): Promise<RemoteResult> {
  const { args, env, cleanup } = sshArgs(connection, route);
  try {
    // scp takes -P for the port and the target as user@host:path.
    const user = connection.user ?? "root";
    const scpArgs = args.slice(0, -3).map((a) => (a === "-p" ? "-P" : a));
    const r = await runAsync(["scp", "-q", ...scpArgs, localPath, `${user}@127.0.0.1:${remotePath}`], { env });
    return { status: r.status ?? 255, stdout: r.stdout, stderr: r.stderr };
  } finally {
    cleanup();
  }
}
