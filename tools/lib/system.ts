// Shared plumbing for system tests, the benchmarks and validate-emitted: the real servers
// and linters that read what dropstack puts on a droplet. It lives under tools/ because
// tools may not import from test/ (docs/design.md, "Layout"). Missing programs fail the test
// (never skip it), naming the Debian packages that provide them.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createServer } from "node:net";

export interface RequiredTool {
  /** executable name, or an absolute path */
  command: string;
  /** the Debian package that installs it */
  debianPackage: string;
}

/** Extra places Debian installs server binaries that are not on PATH. */
const EXTRA_PATHS = ["/usr/sbin", "/sbin"];

export function findExecutable(command: string): string | undefined {
  if (command.startsWith("/")) return existsSync(command) ? command : undefined;
  const dirs = [...(process.env.PATH ?? "").split(":"), ...EXTRA_PATHS];
  return dirs.map((d) => join(d, command)).find((p) => existsSync(p));
}

/** Throws one error naming every missing tool and the `apt-get install` line that fixes it. */
export function requireTools(tools: RequiredTool[]): Record<string, string> {
  const found: Record<string, string> = {};
  const missing: RequiredTool[] = [];
  for (const tool of tools) {
    const path = findExecutable(tool.command);
    if (path) found[tool.command] = path;
    else missing.push(tool);
  }
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((t) => t.debianPackage))].join(" ");
    throw new Error(
      `missing ${missing.map((t) => t.command).join(", ")}: install the Debian packages with ` + `\`apt-get install -y ${packages}\``,
    );
  }
  return found;
}

/** A fresh temp dir that an unprivileged server user can also write to. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `dropstack-${prefix}-`));
  chmodSync(dir, 0o777);
  return dir;
}

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not allocate a loopback port"));
      });
    });
  });
}

export const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

/**
 * The argv prefix that runs a server as an unprivileged user when tests run as root
 * (PostgreSQL refuses root; the others are simply safer that way).
 */
export function asUnprivileged(argv: string[], user = "nobody"): string[] {
  if (!isRoot) return argv;
  const runuser = findExecutable("runuser");
  if (!runuser) throw new Error("running as root needs runuser: `apt-get install -y util-linux`");
  return [runuser, "-u", user, "--", ...argv];
}

export function run(argv: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const result = spawnSync(argv[0], argv.slice(1), {
    input: options.input,
    env: options.env ?? process.env,
    cwd: options.cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status ?? -1, stdout: result.stdout ?? "", stderr: result.stderr ?? "", error: result.error };
}

/**
 * A throwaway self-signed certificate and its unencrypted RSA key, written to `certFile` and
 * `keyFile` (openssl req -x509). `extensions` are -addext values, e.g. `subjectAltName=DNS:x`.
 * `unprivileged`: written by the unprivileged user (asUnprivileged), so that a server running
 * as that user owns its key, as PostgreSQL requires.
 */
export function writeSelfSignedCertificate(options: {
  certFile: string;
  keyFile: string;
  subject: string;
  days: number;
  extensions?: string[];
  unprivileged?: boolean;
}): void {
  const { openssl } = requireTools([{ command: "openssl", debianPackage: "openssl" }]);
  const argv = [
    openssl,
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    String(options.days),
    "-subj",
    options.subject,
    ...(options.extensions ?? []).flatMap((extension) => ["-addext", extension]),
    "-keyout",
    options.keyFile,
    "-out",
    options.certFile,
  ];
  const made = options.unprivileged ? run(asUnprivileged(argv), { cwd: dirname(options.keyFile) }) : run(argv);
  if (made.status !== 0) throw new Error(`openssl req -x509 (${options.subject}): ${made.stderr}`);
}

export interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Like `run`, without blocking the event loop: for commands that race servers in the same test. */
export function runAsync(argv: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env: options.env ?? process.env, cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
    // A command that exits before reading its input (a failed check) closes the pipe first:
    // EPIPE then, or not, is a race, and its exit status already says what happened.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}

/**
 * A temp-dir factory whose dirs are removed when the file's tests are done; pass
 * node:test's `after` from the test file's top level.
 */
export function scopedTempDirs(registerCleanup: (cleanup: () => void) => void): (prefix: string) => string {
  const dirs: string[] = [];
  registerCleanup(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return (prefix) => {
    const dir = makeTempDir(prefix);
    dirs.push(dir);
    return dir;
  };
}

/**
 * Fills `dir` to serve as a whole PATH: every command on this process's PATH except
 * `without`, and `shadows` (name → bash script body) in place of the real ones. For tests
 * of what a script does when a tool is missing or misbehaves.
 */
export function commandsDir(dir: string, options: { without?: string[]; shadows?: Record<string, string> } = {}): string {
  const skip = new Set([...(options.without ?? []), ...Object.keys(options.shadows ?? {})]);
  for (const pathDir of (process.env.PATH ?? "").split(":").filter(Boolean)) {
    if (!existsSync(pathDir)) continue;
    for (const name of readdirSync(pathDir)) {
      if (skip.has(name) || existsSync(join(dir, name))) continue;
      const target = join(pathDir, name);
      try {
        if (statSync(target).isFile()) symlinkSync(target, join(dir, name));
      } catch {
        // a dangling link on the PATH: not a command
      }
    }
  }
  for (const [name, body] of Object.entries(options.shadows ?? {})) {
    writeFileSync(join(dir, name), `#!/bin/bash\nset -o pipefail\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}
