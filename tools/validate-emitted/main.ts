// `npm run validate-emitted -- <file>...`
// Validates the files `npm run check -- <stack> --emit <dir>` writes with the real
// programs that read them on the droplet, on this machine: cloud-init.yaml by
// `cloud-init schema`, nginx.conf by `nginx -t` (the container's paths and ports moved into
// a temp dir, placeholder certificates for every server_name), redis.conf by starting
// redis-server on it (loopback, a temp data dir), the systemd units by `systemd-analyze verify`.
// Exit 0: all valid; 1: one is not.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UNITS } from "../../components/hooks/schedule";
import { ALERT_RULES_FILE } from "../../components/observability/rules";
import { commandLine, UsageError } from "../cli";
import { freePort, makeTempDir, requireTools, run, writeSelfSignedCertificate } from "../lib/system";
import { localNginxCopy, localNginxVersion, requireNginxTools, testNginxConf } from "../lib/nginx-harness";

interface Verdict {
  valid: boolean;
  /** What ran, with which local program version. */
  ran: string;
  output: string;
}

type Validator = (file: string) => Promise<Verdict>;

/**
 * A unit with its siblings from the same directory (a timer names its service), read by
 * `systemd-analyze verify`; any warning counts, as systemd would log it at every load.
 */
const systemdUnit: Validator = async (file) => {
  const analyze = requireTools([{ command: "systemd-analyze", debianPackage: "systemd" }])["systemd-analyze"];
  const dir = makeTempDir("units-emitted");
  try {
    for (const sibling of Object.values(UNITS)) {
      const source = join(dirname(file), sibling);
      if (sibling !== basename(file) && existsSync(source)) copyFileSync(source, join(dir, sibling));
    }
    copyFileSync(file, join(dir, basename(file)));
    const version = run([analyze, "--version"]).stdout.split("\n")[0];
    const result = run([analyze, "verify", join(dir, basename(file))]);
    return {
      valid: result.status === 0 && result.stderr.trim() === "",
      ran: `systemd-analyze verify ${basename(file)} beside the other units of its directory (${version})`,
      output: result.stdout + result.stderr,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/**
 * A copy of a monitoring config with the container's config folders (`/etc/prometheus/…`)
 * moved into a temp dir, where the files it names are placeholders: secrets as "placeholder",
 * a CA as a throwaway self-signed certificate (the checkers read both).
 */
function monitoringCopy(file: string): { dir: string; copy: string } {
  const dir = makeTempDir("monitoring-emitted");
  const text = readFileSync(file, "utf8").replace(/(^|\s)(\/etc\/(?:prometheus|alertmanager|blackbox)\/)/gm, `$1${dir}$2`);
  for (const [, named] of text.matchAll(/_file:\s*(\S+)/g)) {
    if (!named.startsWith(dir) || existsSync(named)) continue;
    mkdirSync(dirname(named), { recursive: true });
    if (/ca[._-]?[^/]*\.(crt|pem)$/.test(named)) {
      writeSelfSignedCertificate({ certFile: named, keyFile: `${named}.key`, subject: "/CN=placeholder CA", days: 1 });
    } else writeFileSync(named, "placeholder", { mode: 0o600 });
  }
  const copy = join(dir, basename(file));
  writeFileSync(copy, text, { mode: 0o600 });
  return { dir, copy };
}

/** Runs a checker on a monitoringCopy of the file; valid when it exits 0. */
function monitoringCheck(tool: { command: string; debianPackage: string }, args: (copy: string) => string[], version: string[]): Validator {
  return async (file) => {
    const binary = requireTools([tool])[tool.command];
    const { dir, copy } = monitoringCopy(file);
    try {
      const result = run([binary, ...args(copy)]);
      const versionLine = run([binary, ...version]);
      return {
        valid: result.status === 0,
        ran: `${tool.command} ${args(basename(file)).join(" ")} on a copy with its config folder in a temp dir (${(versionLine.stdout + versionLine.stderr).split("\n")[0].trim()})`,
        output: result.stdout + result.stderr,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const PROMTOOL = { command: "promtool", debianPackage: "prometheus" };

const VALIDATORS: Record<string, Validator> = {
  "prometheus.yml": monitoringCheck(PROMTOOL, (copy) => ["check", "config", copy], ["--version"]),
  [ALERT_RULES_FILE]: monitoringCheck(PROMTOOL, (copy) => ["check", "rules", copy], ["--version"]),
  "alertmanager.yml": monitoringCheck({ command: "amtool", debianPackage: "prometheus-alertmanager" }, (copy) => ["check-config", copy], [
    "--version",
  ]),
  "blackbox.yml": monitoringCheck(
    { command: "prometheus-blackbox-exporter", debianPackage: "prometheus-blackbox-exporter" },
    (copy) => ["--config.check", `--config.file=${copy}`],
    ["--version"],
  ),
  ...Object.fromEntries(Object.values(UNITS).map((unit) => [unit, systemdUnit])),
  "cloud-init.yaml": async (file) => {
    const cloudInit = requireTools([{ command: "cloud-init", debianPackage: "cloud-init" }])["cloud-init"];
    const version = run([cloudInit, "--version"]);
    const result = run([cloudInit, "schema", "--config-file", file]);
    return {
      valid: result.status === 0,
      ran: `cloud-init schema --config-file ${file} (${(version.stdout + version.stderr).trim()})`,
      output: result.stdout + result.stderr,
    };
  },
  "nginx.conf": async (file) => {
    const tools = requireNginxTools();
    const version = localNginxVersion(tools.nginx);
    const local = await localNginxCopy(readFileSync(file, "utf8"), version);
    try {
      const result = testNginxConf(tools.nginx, local.confPath);
      // A warning ([warn]) means the file needs attention too: it would be logged on every reload.
      const valid = result.status === 0 && !/\[(warn|emerg|alert|crit)\]/.test(result.stderr);
      return {
        valid,
        ran: `nginx -t on a copy with the container's paths and ports in a temp dir (nginx ${version}, servers ${local.hosts.join(" ")})`,
        output: result.stderr,
      };
    } finally {
      rmSync(local.dir, { recursive: true, force: true });
    }
  },
  "redis.conf": async (file) => {
    const redisServer = requireTools([{ command: "redis-server", debianPackage: "redis-server" }])["redis-server"];
    const version = /v=(\S+)/.exec(run([redisServer, "--version"]).stdout)?.[1] ?? "unknown";
    const dataDir = makeTempDir("redis-emitted");
    const port = await freePort();
    // redis-server changes into `dir` as it reads that line, so the container's data dir
    // moves into the temp dir in a copy; the network moves to loopback by arguments after the
    // file, which override it. Every other line is read as written.
    const text = readFileSync(file, "utf8");
    const dirLines = text.match(/^dir .*$/gm) ?? [];
    if (dirLines.length !== 1) return { valid: false, ran: "redis.conf", output: `expected one \`dir\` line, found ${dirLines.length}` };
    const copy = join(dataDir, "redis.conf");
    writeFileSync(copy, text.replace(/^dir .*$/m, `dir "${dataDir}"`), { mode: 0o600 });
    const args = [copy, "--bind", "127.0.0.1", "--port", String(port)];
    try {
      const output = await untilReady(redisServer, args, /Ready to accept connections/, 30_000);
      return {
        valid: output.ready,
        ran: `redis-server on a copy with ${dirLines[0]} moved to a temp dir, on 127.0.0.1:${port} (redis ${version})`,
        output: output.text,
      };
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};

/** Starts a server, waits until it logs `ready` (valid) or exits (invalid), then stops it. */
function untilReady(command: string, args: string[], ready: RegExp, timeoutMs: number): Promise<{ ready: boolean; text: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    const finish = (isReady: boolean) => {
      clearTimeout(timer);
      child.removeAllListeners("exit");
      child.kill("SIGKILL");
      resolve({ ready: isReady, text });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const read = (chunk: Buffer) => {
      text += chunk.toString();
      if (ready.test(text)) finish(true);
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", () => finish(false));
  });
}

const COMMAND = {
  usage: "npm run validate-emitted -- <file>...",
  help: `
Validates files written by \`npm run check -- <stack> --emit <dir>\` with the programs that
read them, on this machine (names decide how):
  cloud-init.yaml   cloud-init schema --config-file <file>
  nginx.conf        nginx -t on a copy with the container's paths (certificates, ACME
                    webroot, pid, logs) and ports moved into a temp dir, placeholder
                    certificates for every server_name; HTTP/2 as \`listen … http2\` for an
                    nginx older than 1.25.1 (the file is rendered for the image's nginx)
  redis.conf        redis-server started on a copy with its data dir moved into a temp dir,
                    on loopback
  dropstack-*.service, dropstack-*.timer
                    systemd-analyze verify, beside the other units of the same directory
  prometheus.yml    promtool check config, on a copy with /etc/prometheus in a temp dir and
                    placeholders for the files it names (secrets, the database CA)
  ${ALERT_RULES_FILE}
                    promtool check rules
  alertmanager.yml  amtool check-config, likewise on a copy
  blackbox.yml      prometheus-blackbox-exporter --config.check
Exit: 0 all valid, 1 one is not, 2 bad arguments.`,
  options: {},
  positionals: { min: 1, max: Infinity, name: "files" },
} as const;

async function main(): Promise<number> {
  const files = commandLine(process.argv.slice(2), COMMAND, ({ positionals }) => {
    for (const file of positionals) {
      if (!VALIDATORS[basename(file)])
        throw new UsageError(`${file}: no validator for ${basename(file)} (${Object.keys(VALIDATORS).join(", ")})`);
    }
    return positionals;
  });
  let failed = 0;
  for (const file of files) {
    const verdict = await VALIDATORS[basename(file)](file);
    console.log(`${verdict.valid ? "valid" : "INVALID"} ${file}: ${verdict.ran}`);
    if (!verdict.valid) {
      failed++;
      console.log(verdict.output.trim().replace(/^/gm, "  "));
    }
  }
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`validate-emitted: ${(error as Error).message}`);
    process.exit(1);
  },
);
