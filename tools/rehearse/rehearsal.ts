// One rehearsal: the program evaluated under mocks (tools/rehearse/evaluate.ts), the
// droplet it describes brought up on this machine (droplet.ts), and the images the
// droplet side runs (images.ts). The operator's key and the droplet's host key are made
// once per rehearsal and kept, as a real stack keeps its generated key in state.
import { spawnSync } from "node:child_process";
import { runAsync } from "../lib/system";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { APP_IMAGE_SUFFIX } from "../../components/common/names";
import { stdinInstallPath } from "../../components/proxy/commands";
import { adaptUpstreamsTo } from "../lib/nginx-adapt";
import { PRELOAD } from "../check/analyzer";
import type { ProgramRun, Registration } from "../check/harness";
import { readStackFile } from "../check/stack-file";
import { Acme, startAcme } from "./acme";
import { ClusterPlan, attachDatabase, clusterPlan, startDatabase } from "./database";
import type { DockerTarget } from "./docker-api";
import { Droplet } from "./droplet";
import type { EvaluationRequest } from "./evaluate";
import { freePort, portFree } from "./net";
import { IMAGES_DIR, Timing, baseImage, buildImage, cacheDir } from "./images";
import { Replay, ReplayResult, ReplayState } from "./replay";
import { connectionFrom } from "./ssh";

const ROOT = resolve(__dirname, "..", "..");
/** The rehearsal's own app (v1, v2, v3, never-healthy, failing-migration). */
export const DEFAULT_APP_CONTEXT = join(ROOT, "test", "rehearsal-app");
export const DROPLET_TYPE = "digitalocean:index/droplet:Droplet";

export interface RehearsalOptions {
  stack: string;
  configFile?: string;
  log?: (line: string) => void;
}

/**
 * The nginx of the stand-in image (Debian trixie's), older than the pinned image's: it reads
 * nginx.conf with the services as per-request variables, without upstream keepalive
 * (tools/lib/nginx-adapt.ts).
 */
export const STAND_IN_NGINX_VERSION = "1.26.3";

/** Stand-in roles by image repository: what the program pulls, the rehearsal builds. */
export const STAND_INS: { role: string; matches: (repository: string) => boolean }[] = [
  { role: "pebble", matches: () => false },
  { role: "nginx", matches: (r) => r === "nginx" || r.endsWith("/nginx") },
  { role: "certbot", matches: (r) => r.endsWith("certbot/certbot") },
  { role: "postgres", matches: (r) => r === "postgres" || r.endsWith("/postgres") },
  { role: "redis", matches: (r) => r === "redis" || r.endsWith("/redis") },
];

/** Image references (`name:tag`) the program's remote commands mention, e.g. the hooks' client image. */
export function commandImages(run: ProgramRun): string[] {
  const found = new Set<string>();
  for (const r of run.registrations.filter((x) => x.type === "command:remote:Command")) {
    for (const m of String(r.inputs.create ?? "").matchAll(/(?<![\w./-])((?:[a-z0-9.-]+\/)*[a-z0-9._-]+:[\w][\w.-]{0,127})(?![\w./:-])/g))
      found.add(m[1]);
  }
  return [...found].filter((ref) => !/^\d/.test(ref) && !ref.includes("//"));
}

/** `registry/name:tag@sha256:…` → `registry/name`. */
export function repositoryOf(reference: string): string {
  const withoutDigest = reference.split("@")[0];
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  return colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest;
}

const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";

export class Rehearsal {
  readonly dir: string;
  readonly timings: Timing[] = [];
  readonly cache = cacheDir();
  droplet?: Droplet;
  private readonly log: (line: string) => void;
  private agent?: { socket: string; pid: number };

  constructor(readonly options: RehearsalOptions) {
    this.dir = mkdtempSync(join(tmpdir(), "dropstack-rehearsal-"));
    this.log = options.log ?? ((line) => console.log(line));
    mkdirSync(join(this.dir, "keys"), { mode: 0o700 });
    for (const [name, comment] of [
      ["host", "dropstack-host"],
      ["operator", "rehearsal-operator"],
    ]) {
      run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", join(this.dir, "keys", name)]);
    }
  }

  /** The operator's public key: the config's sshPublicKeys is replaced by it, so the rehearsal can log in. */
  get operatorPublicKey(): string {
    return readFileSync(join(this.dir, "keys", "operator.pub"), "utf8").trim();
  }

  get hostPublicKey(): string {
    return readFileSync(join(this.dir, "keys", "host.pub"), "utf8").trim();
  }

  /** An ssh-agent holding the operator's key, where the program's connections look for keys. */
  sshAgent(): string {
    if (!this.agent) {
      const socket = join(this.dir, "agent.sock");
      const out = run(["ssh-agent", "-a", socket]);
      const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1]);
      run(["ssh-add", "-q", join(this.dir, "keys", "operator")], { SSH_AUTH_SOCK: socket });
      this.agent = { socket, pid };
      // The providers run in the operator's environment: a connection without privateKey or
      // agentSocketPath (the program's) uses SSH_AUTH_SOCK, which here is this agent.
      process.env.SSH_AUTH_SOCK = socket;
    }
    return this.agent.socket;
  }

  /** Evaluates the program with the stack's config and `overrides` (full keys to JSON-able values). */
  async evaluate(overrides: Record<string, unknown> = {}): Promise<ProgramRun> {
    const file = readStackFile(this.options.configFile ?? join(ROOT, `Pulumi.${this.options.stack}.yaml`));
    const config = { ...file.config };
    config["dropstack:sshPublicKeys"] = JSON.stringify([this.operatorPublicKey]);
    for (const [key, value] of Object.entries(overrides)) config[key] = typeof value === "string" ? value : JSON.stringify(value);
    const request: EvaluationRequest = {
      stack: this.options.stack,
      config,
      secretKeys: file.secretKeys,
      hostKey: { privateFile: join(this.dir, "keys", "host"), publicFile: join(this.dir, "keys", "host.pub") },
      env: { SSH_AUTH_SOCK: this.sshAgent() },
    };
    const requestFile = join(this.dir, "evaluation-request.json");
    const resultFile = join(this.dir, "evaluation.json");
    writeFileSync(requestFile, JSON.stringify(request), { mode: 0o600 });
    const started = Date.now();
    // Not spawnSync: a scenario's load client keeps sending while the next apply evaluates,
    // and a blocked event loop would show up as requests tens of seconds slow.
    const r = await runAsync([process.execPath, ...PRELOAD, join(__dirname, "evaluate.ts"), requestFile, resultFile], { cwd: ROOT });
    if (r.status !== 0) throw new EvaluationError(r.status ?? 3, r.stderr);
    this.timings.push({ step: "evaluate program", seconds: (Date.now() - started) / 1000, cached: false });
    return JSON.parse(readFileSync(resultFile, "utf8")) as ProgramRun;
  }

  /** Brings up the droplet from the evaluation's user-data, with the engine's cached data root. */
  async startDroplet(run: ProgramRun, sshPort: number): Promise<Droplet> {
    const droplet = dropletOf(run);
    const userData = droplet.inputs.userData;
    if (typeof userData !== "string") throw new Error("the droplet's userData is not known after evaluation");
    mkdirSync(join(this.cache, "engine"), { recursive: true });
    this.droplet = await Droplet.start({ userData, dataRoot: join(this.cache, "engine"), sshPort, log: this.log });
    return this.droplet;
  }

  /**
   * The base (debootstrap with every program the droplet side runs, imported as one layer;
   * apps build FROM it) and each stand-in role on top of it; built or from the cache.
   */
  buildImages(roles: string[]): Record<string, string> {
    if (!this.droplet) throw new Error("start the droplet first");
    const base = baseImage(this.droplet, this.cache, this.timings);
    const built: Record<string, string> = { base };
    for (const role of roles) built[role] = buildImage(this.droplet, role, join(IMAGES_DIR, role), base, this.timings);
    return built;
  }

  private state: ReplayState = { resources: {} };
  private images = new Map<string, string>();
  private plan?: ClusterPlan;
  private acme?: Acme;
  /** The evaluation the last apply replayed (its stack outputs carry the URIs). */
  lastRun?: ProgramRun;
  /**
   * The stack's outputs as Pulumi's state keeps them (`pulumi stack output`), with the real
   * values for the mocks': those of the last apply that ran to completion. The Node SDK
   * registers the stack's outputs in one call once every one of them resolved, which an
   * output of a failed resource never does, and Pulumi keeps the previous outputs of an
   * update that failed (pulumi/pulumi#15754): so a failed apply leaves them as they were.
   */
  stackOutputs: Record<string, unknown> = {};
  private published = new Map<number, number>();
  private built?: Record<string, string>;
  private appContext?: string;
  /** The app image each version was built as. */
  readonly appImages = new Map<string, string>();

  /**
   * Builds what the droplet side runs: the stand-ins for the images the program pulls,
   * and the app (from `appContext`) in each of `versions`. Starts the database stand-in.
   */
  async prepare(run: ProgramRun, appContext: string, versions: string[]): Promise<void> {
    if (!this.droplet) throw new Error("start the droplet first");
    const built = this.buildImages(STAND_INS.map((s) => s.role));
    this.built = built;
    this.appContext = appContext;
    for (const version of versions) {
      this.appImages.set(version, buildImage(this.droplet, "app", appContext, built.base, this.timings, { VERSION: version }));
    }
    for (const r of run.registrations.filter((x) => x.type === REMOTE_IMAGE && !x.name.endsWith(APP_IMAGE_SUFFIX))) {
      const reference = String(r.inputs.name);
      const standIn = STAND_INS.find((s) => s.matches(repositoryOf(reference)));
      if (!standIn)
        throw new Error(`the rehearsal has no stand-in for ${reference} (${r.name}); it builds ${STAND_INS.map((s) => s.role).join(", ")}`);
      this.useImage(reference, built[standIn.role]);
    }
    // Images the remote commands run directly (`docker run postgres:…` in the hooks): on the
    // droplet the engine pulls them on first use; here they resolve to the stand-ins.
    for (const reference of commandImages(run)) {
      const standIn = STAND_INS.find((s) => s.matches(repositoryOf(reference)));
      if (standIn) this.useImage(reference, built[standIn.role]);
    }
    await this.publishPorts(run);
    const started = Date.now();
    this.acme = await startAcme(
      this.droplet,
      built.pebble,
      this.domains(),
      this.publishedPort(80),
      join(this.droplet.srv, "proxy", "letsencrypt"),
    );
    this.timings.push({ step: "ACME stand-in (pebble)", seconds: (Date.now() - started) / 1000, cached: false });
    this.plan = clusterPlan(run.registrations);
    const dbStarted = Date.now();
    await startDatabase(this.droplet, built.postgres, this.plan);
    this.timings.push({ step: "database stand-in", seconds: (Date.now() - dbStarted) / 1000, cached: false });
  }

  /** dropstack:hosts, the names pebble resolves to this machine. */
  domains(): string[] {
    const file = readStackFile(this.options.configFile ?? join(ROOT, `Pulumi.${this.options.stack}.yaml`));
    const hosts = JSON.parse(file.config["dropstack:hosts"] ?? "{}") as Record<string, string>;
    return Object.values(hosts);
  }

  get acmeServer(): Acme {
    if (!this.acme) throw new Error("prepare first");
    return this.acme;
  }

  /** Each host port a container publishes: the same on 127.0.0.1 when free here, another free one otherwise. */
  private async publishPorts(run: ProgramRun): Promise<void> {
    for (const r of run.registrations.filter((x) => x.type === "docker:index/container:Container")) {
      for (const p of (r.inputs.ports as { internal: number; external?: number }[] | undefined) ?? []) {
        const external = p.external ?? p.internal;
        if (!this.published.has(external)) {
          const port = (await portFree(external)) ? external : await freePort();
          if (port !== external)
            this.log(`rehearse: port ${external} is taken here; the program's ${external} is published on 127.0.0.1:${port}`);
          this.published.set(external, port);
        }
      }
    }
  }

  get database(): ClusterPlan {
    if (!this.plan) throw new Error("prepare first");
    return this.plan;
  }

  /**
   * The reference the app is deployed as in the rehearsal: the configured repository with the
   * version as tag (a digest-pinned reference cannot name a local build, so it is replaced too).
   */
  appReference(configured: string, version: string): string {
    if (!this.appImages.has(version) || !this.appContext || !this.built) throw new Error(`app version ${version} was not built`);
    // The program prunes app images it no longer runs (after the smoke test); a real droplet
    // would pull the image again, the rehearsal builds it again (from the build cache when it can).
    const image = buildImage(this.droplet!, "app", this.appContext, this.built.base, this.timings, { VERSION: version });
    const reference = `${repositoryOf(configured)}:rehearsal-${version}`;
    this.useImage(reference, image);
    return reference;
  }

  /** The engine resolves `reference` to `image` (a tag when it can be one, as a pull would leave it). */
  useImage(reference: string, image: string): void {
    if (!this.droplet) throw new Error("start the droplet first");
    if (!reference.includes("@")) this.droplet.docker(["tag", image, reference]);
    this.images.set(reference, reference.includes("@") ? image : reference);
  }

  /** Where the program's published host port ended up on this machine's loopback. */
  publishedPort(port: number): number {
    const p = this.published.get(port);
    if (p === undefined) throw new Error(`nothing published port ${port}`);
    return p;
  }

  /** One `pulumi up` of the droplet side: evaluate with `overrides`, replay against the recorded state. */
  async apply(overrides: Record<string, unknown>): Promise<ReplayResult & { run: ProgramRun; seconds: number }> {
    const droplet = this.droplet;
    if (!droplet) throw new Error("start the droplet first");
    const run = await this.evaluate(overrides);
    const appImage = run.registrations.find((r) => r.type === REMOTE_IMAGE && r.name.endsWith(APP_IMAGE_SUFFIX));
    if (appImage && !this.images.has(String(appImage.inputs.name)))
      throw new Error(`no image built for the app reference ${String(appImage.inputs.name)}`);
    await this.publishPorts(run);
    const route = { address: dropletAddress(run), sshPort: droplet.sshPort };
    const agent = this.sshAgent();
    const plan = this.database;
    const started = Date.now();
    const replay = new Replay(run.registrations, this.state, {
      route,
      dockerTarget: (provider) => dockerTarget(provider, droplet.sshPort, agent),
      publish: (port) => this.publishedPort(port),
      localImage: (reference) => this.images.get(reference) ?? reference,
      stdinFor: (create, stdin) =>
        stdinInstallPath(create)?.endsWith("/nginx.conf") ? adaptUpstreamsTo(stdin, STAND_IN_NGINX_VERSION) : stdin,
      log: this.log,
      afterCreate: (r, state) => {
        // The VPC: once the program's network exists, the cluster's private names resolve on it.
        if (r.type === "docker:index/network:Network") attachDatabase(droplet, String(state.outputs.name), plan);
      },
    });
    const result = await replay.apply();
    this.state = result.state;
    this.lastRun = run;
    if (!result.error) this.stackOutputs = replay.realValues(run.stackOutputs) as Record<string, unknown>;
    writeFileSync(join(this.dir, "state.json"), JSON.stringify(this.state, null, 1), { mode: 0o600 });
    return { ...result, run, seconds: (Date.now() - started) / 1000 };
  }

  get recordedState(): ReplayState {
    return this.state;
  }

  private closed = false;

  /** Stops what the rehearsal started; a second call (an interrupt during close) does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.droplet?.stop();
    } finally {
      if (this.agent) process.kill(this.agent.pid, "SIGTERM");
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

export class EvaluationError extends Error {
  constructor(
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(`the program failed under mocks (exit ${exitCode}):\n${stderr}`);
  }
}

export function dropletOf(run: ProgramRun): Registration {
  const droplets = run.registrations.filter((r) => r.type === DROPLET_TYPE);
  if (droplets.length !== 1) throw new Error(`the rehearsal plays one droplet; the program declares ${droplets.length}`);
  return droplets[0];
}

/** The address every remote connection of the program goes to (they must agree). */
export function dropletAddress(run: ProgramRun): string {
  const hosts = new Set(
    run.registrations.filter((r) => r.type.startsWith("command:remote:")).map((r) => connectionFrom(r.inputs.connection).host),
  );
  if (hosts.size !== 1) throw new Error(`remote commands go to ${hosts.size} different hosts: ${[...hosts].join(", ")}`);
  return [...hosts][0];
}

/** The docker provider's `host: ssh://user@address` and `sshOpts`, pointed at the droplet's sshd. */
export function dockerTarget(provider: Record<string, unknown>, sshPort: number, agentSocket: string): DockerTarget {
  const host = String(provider.host ?? "");
  const m = /^ssh:\/\/(?:([^@]+)@)?([^:/]+)(?::(\d+))?$/.exec(host);
  if (!m) throw new Error(`the docker provider's host is not ssh://user@address: ${host}`);
  const raw = provider.sshOpts;
  const sshOpts = (typeof raw === "string" ? JSON.parse(raw) : (raw ?? [])) as string[];
  return {
    sshArgs: [
      "-p",
      String(sshPort),
      "-o",
      "HostName=127.0.0.1",
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=30",
      "-o",
      "LogLevel=ERROR",
      ...sshOpts,
      "-T",
      ...(m[1] ? ["-l", m[1]] : []),
      m[2],
    ],
    env: { ...process.env, SSH_AUTH_SOCK: agentSocket },
  };
}

function run(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
