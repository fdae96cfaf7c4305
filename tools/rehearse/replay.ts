// Replays the program's droplet side for real, in dependency order, from the registrations
// the mocks recorded: remote.Command and CopyToRemote over SSH, docker Network, RemoteImage
// and Container through the Engine API over SSH. Cloud resources (DigitalOcean, Auth0,
// random, tls, postgresql roles) keep the values the evaluation gave them; see README.md.
//
// State: every replayed resource's inputs and outputs are recorded, so a second apply
// compares new inputs with recorded ones and does what the provider would: nothing, an
// update, or a replacement (create-before-delete unless the program asks otherwise).
// Values a real resource returned instead of the mock's (a container's ID, an image's ID)
// are substituted into the inputs of everything that depends on it.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { Registration } from "../check/harness";
import { DockerApi, DockerTarget, tarOneFile } from "./docker-api";
import { Connection, Route, connectionFrom, copyToRemote, runRemote, sshArgs } from "./ssh";

export type Op = "create" | "update" | "replace" | "same" | "delete" | "kept";

export interface ResourceState {
  urn: string;
  type: string;
  name: string;
  id: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  /** The mock's answer for this resource: what dependents' recorded inputs contain. */
  mock: Record<string, unknown>;
  mockId: string;
  /** Created but failed to initialise (e.g. never healthy): replaced on the next apply, as Pulumi does. */
  initError?: string;
}

export interface ReplayState {
  resources: Record<string, ResourceState>;
}

export interface Step {
  urn: string;
  name: string;
  type: string;
  op: Op;
  seconds: number;
  error?: string;
  output?: string;
}

export interface ReplayResult {
  state: ReplayState;
  steps: Step[];
  error?: { urn: string; message: string };
}

export interface ReplayContext {
  route: Route;
  /** The docker provider's host (`ssh://user@address`) and sshOpts resolve through this to the droplet. */
  dockerTarget: (providerInputs: Record<string, unknown>) => DockerTarget;
  /** Published ports: the program's host port and address to where the rehearsal binds it. */
  publish: (port: number) => number;
  /** The local image standing in for an image reference (the engine has it tagged so). */
  localImage: (reference: string) => string;
  log: (line: string) => void;
  /** The stdin a remote.Command gets on the droplet, from its `create` and its recorded stdin (the stand-ins' versions differ). */
  stdinFor?: (create: string, stdin: string) => string;
  /** Called once a replayed resource exists (the rehearsal links the database to the network). */
  afterCreate?: (r: Registration, state: ResourceState) => void;
}

export const REPLAYED_TYPES = new Set([
  "command:remote:Command",
  "command:remote:CopyToRemote",
  "docker:index/network:Network",
  "docker:index/remoteImage:RemoteImage",
  "docker:index/container:Container",
]);

/** Container inputs the provider updates in place (terraform-provider-docker resource_docker_container.go: the fields without ForceNew). */
const CONTAINER_IN_PLACE = new Set([
  "rm",
  "start",
  "wait",
  "waitTimeout",
  "attach",
  "logs",
  "mustRun",
  "restart",
  "maxRetryCount",
  "removeVolumes",
  "tmpfs",
  "destroyGraceSeconds",
  "memory",
  "memoryReservation",
  "memorySwap",
  "cpuShares",
  "cpuSet",
  "healthcheck",
  "init",
  "cpuPeriod",
  "cpuQuota",
  "containerReadRefreshTimeoutMilliseconds",
  "deviceReadBps",
  "deviceReadIops",
  "deviceWriteBps",
  "deviceWriteIops",
]);
/** docker_image: everything but keep_locally and force_remove replaces it. */
const IMAGE_IN_PLACE = new Set(["keepLocally", "forceRemove"]);

/** Orders registrations so every resource follows what it depends on (and its parent). */
export function topologicalOrder(registrations: Registration[]): Registration[] {
  const byUrn = new Map(registrations.map((r) => [r.urn, r]));
  const children = new Map<string, Registration[]>();
  for (const r of registrations) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const expand = (urn: string): string[] => {
    const r = byUrn.get(urn);
    if (!r) return [];
    if (r.custom) return [urn];
    return (children.get(urn) ?? []).flatMap((c) => expand(c.urn));
  };
  const deps = (r: Registration): string[] => [
    ...new Set(
      [...r.dependencies, ...Object.values(r.propertyDependencies).flat(), ...(r.provider ? [providerUrn(r.provider)] : [])].flatMap(
        expand,
      ),
    ),
  ];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const order: Registration[] = [];
  const visit = (r: Registration) => {
    if (done.has(r.urn)) return;
    if (visiting.has(r.urn)) throw new Error(`dependency cycle through ${r.urn}`);
    visiting.add(r.urn);
    for (const d of deps(r)) {
      const dep = byUrn.get(d);
      if (dep && dep.urn !== r.urn) visit(dep);
    }
    visiting.delete(r.urn);
    done.add(r.urn);
    order.push(r);
  };
  for (const r of registrations) visit(r);
  return order;
}

/** A provider reference is `<urn>::<id>`. */
export function providerUrn(reference: string): string {
  return reference.slice(0, reference.lastIndexOf("::"));
}

/** Replaces every mock value with the real one, in strings at any depth (longest first). */
export function substitute(value: unknown, pairs: [string, string][]): unknown {
  if (typeof value === "string") {
    let s = value;
    for (const [from, to] of pairs) if (s.includes(from)) s = s.split(from).join(to);
    return s;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, pairs));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, pairs)]));
  return value;
}

function stable(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/** Input keys whose values differ between two input maps. */
export function changedKeys(olds: Record<string, unknown>, news: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((k) => stable(olds[k]) !== stable(news[k])).sort();
}

/** What the provider (and Pulumi's replaceOnChanges option) does with a change. */
export function planChange(r: Registration, olds: Record<string, unknown>, news: Record<string, unknown>): "same" | "update" | "replace" {
  const changed = changedKeys(olds, news);
  if (changed.length === 0) return "same";
  const replaceOnChanges = new Set(r.replaceOnChanges);
  if (replaceOnChanges.has("*") || changed.some((k) => replaceOnChanges.has(k))) return "replace";
  switch (r.type) {
    // pulumi-command: connection and triggers are replaceOnChanges (remote/command.go).
    case "command:remote:Command":
      return changed.some((k) => k === "connection" || k === "triggers") ? "replace" : "update";
    // CopyToRemote: every input replaces (remote/copy.go marks them replaceOnChanges).
    case "command:remote:CopyToRemote":
      return "replace";
    case "docker:index/network:Network":
      return "replace";
    case "docker:index/remoteImage:RemoteImage":
      return changed.every((k) => IMAGE_IN_PLACE.has(k)) ? "update" : "replace";
    case "docker:index/container:Container":
      return changed.every((k) => CONTAINER_IN_PLACE.has(k)) ? "update" : "replace";
    default:
      return "update";
  }
}

export class Replay {
  private readonly pairs: [string, string][] = [];
  private readonly state: ReplayState = { resources: {} };
  readonly steps: Step[] = [];

  constructor(
    private readonly registrations: Registration[],
    private readonly previous: ReplayState,
    private readonly ctx: ReplayContext,
  ) {}

  private addPairs(mock: Record<string, unknown>, mockId: string, real: ResourceState) {
    const add = (from: unknown, to: unknown) => {
      if (typeof from === "string" && typeof to === "string" && from !== to && from.length >= 8) this.pairs.push([from, to]);
    };
    add(mockId, real.id);
    for (const [k, v] of Object.entries(mock)) add(v, real.outputs[k]);
    this.pairs.sort((a, b) => b[0].length - a[0].length);
  }

  async apply(): Promise<ReplayResult> {
    const order = topologicalOrder(this.registrations);
    for (const r of order) {
      const mock = r.outputs;
      const mockId = r.id;
      if (!r.custom || !REPLAYED_TYPES.has(r.type)) {
        // Mocked: the value the evaluation gave it stands, as the cloud's answer.
        const kept: ResourceState = { urn: r.urn, type: r.type, name: r.name, id: r.id, inputs: r.inputs, outputs: mock, mock, mockId };
        this.state.resources[r.urn] = kept;
        continue;
      }
      const inputs = substitute(r.inputs, this.pairs) as Record<string, unknown>;
      const old = this.previous.resources[r.urn];
      const started = Date.now();
      let op: Op;
      try {
        if (!old) {
          op = "create";
          const created = await this.create(r, inputs);
          this.record(r, created, mock, mockId);
          if (created.initError) throw new Error(created.initError);
        } else {
          const plan = old.initError ? "replace" : planChange(r, old.inputs, inputs);
          op = plan;
          if (plan === "same") {
            this.record(r, { ...old, inputs }, mock, mockId);
          } else if (plan === "update") {
            this.record(r, await this.update(r, old, inputs), mock, mockId);
          } else if (r.deleteBeforeReplace) {
            await this.delete(old);
            const created = await this.create(r, inputs);
            this.record(r, created, mock, mockId);
            if (created.initError) throw new Error(created.initError);
          } else {
            const created = await this.create(r, inputs);
            if (created.initError) {
              // The new one stays (Pulumi keeps a resource that failed to initialise); so does the old.
              this.record(r, created, mock, mockId);
              this.state.resources[`${r.urn}#pending-delete`] = old;
              throw new Error(created.initError);
            }
            this.record(r, created, mock, mockId);
            await this.delete(old);
          }
        }
        this.steps.push({
          urn: r.urn,
          name: r.name,
          type: r.type,
          op,
          seconds: (Date.now() - started) / 1000,
          output: String(this.state.resources[r.urn]?.outputs.stdout ?? "") || undefined,
        });
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        this.steps.push({
          urn: r.urn,
          name: r.name,
          type: r.type,
          op: old ? "update" : "create",
          seconds: (Date.now() - started) / 1000,
          error: message,
        });
        // Pulumi stops at the first failure: nothing that waits for it runs; everything recorded stays.
        for (const [key, s] of Object.entries(this.previous.resources)) if (!(key in this.state.resources)) this.state.resources[key] = s;
        return { state: this.state, steps: this.steps, error: { urn: r.urn, message } };
      }
    }
    // Deletions: what the previous apply had and this one no longer declares, dependents first.
    const gone = Object.entries(this.previous.resources)
      .filter(([key, s]) => !(key in this.state.resources) && REPLAYED_TYPES.has(s.type))
      .map(([, s]) => s)
      .reverse();
    for (const s of gone) {
      const started = Date.now();
      await this.delete(s);
      this.steps.push({ urn: s.urn, name: s.name, type: s.type, op: "delete", seconds: (Date.now() - started) / 1000 });
    }
    return { state: this.state, steps: this.steps };
  }

  /** `value` with every mock value this replay has met replaced by the real one (e.g. the stack's outputs). */
  realValues(value: unknown): unknown {
    return substitute(value, this.pairs);
  }

  private record(r: Registration, s: ResourceState, mock: Record<string, unknown>, mockId: string) {
    const stored = { ...s, mock, mockId };
    const isNew = this.previous.resources[r.urn]?.id !== stored.id;
    this.state.resources[r.urn] = stored;
    this.addPairs(mock, mockId, stored);
    if (isNew) this.ctx.afterCreate?.(r, stored);
  }

  private providerOf(r: Registration): Record<string, unknown> {
    if (!r.provider) throw new Error(`${r.name}: docker resources need the program's docker provider`);
    const urn = providerUrn(r.provider);
    const provider = this.state.resources[urn];
    if (!provider) throw new Error(`${r.name}: provider ${urn} not evaluated`);
    return substitute(provider.inputs, this.pairs) as Record<string, unknown>;
  }

  private docker(r: Registration): DockerApi {
    return new DockerApi(this.ctx.dockerTarget(this.providerOf(r)));
  }

  private async create(r: Registration, inputs: Record<string, unknown>): Promise<ResourceState> {
    const base = { urn: r.urn, type: r.type, name: r.name, inputs, mock: {}, mockId: "" };
    switch (r.type) {
      case "command:remote:Command": {
        const out = await this.runCommand(r, inputs, inputs.create);
        return { ...base, id: uniqueHex(r.name, 8), outputs: { ...inputs, ...out } };
      }
      case "command:remote:CopyToRemote": {
        await this.copy(r, inputs);
        return { ...base, id: uniqueHex(r.name, 8), outputs: { ...inputs } };
      }
      case "docker:index/network:Network":
        return { ...base, ...(await createNetwork(this.docker(r), inputs)) };
      case "docker:index/remoteImage:RemoteImage":
        return { ...base, ...(await resolveImage(this.docker(r), inputs, this.ctx.localImage)) };
      case "docker:index/container:Container":
        return { ...base, ...(await createContainer(this.docker(r), r.name, inputs, this.ctx)) };
      default:
        throw new Error(`not replayed: ${r.type}`);
    }
  }

  private async update(r: Registration, old: ResourceState, inputs: Record<string, unknown>): Promise<ResourceState> {
    switch (r.type) {
      case "command:remote:Command": {
        // remote/commandController.go Update: `update` when set, otherwise `create` again.
        const out = await this.runCommand(r, inputs, inputs.update ?? inputs.create);
        return { ...old, inputs, outputs: { ...inputs, ...out } };
      }
      case "docker:index/container:Container": {
        await updateContainer(this.docker(r), old.id, old.inputs, inputs);
        return { ...old, inputs, outputs: { ...old.outputs, ...inputs } };
      }
      default:
        return { ...old, inputs, outputs: { ...old.outputs, ...inputs } };
    }
  }

  private async delete(s: ResourceState): Promise<void> {
    switch (s.type) {
      case "command:remote:Command":
        if (typeof s.inputs.delete === "string") {
          const r = await runRemote(connectionFrom(s.inputs.connection), this.ctx.route, s.inputs.delete, undefined);
          if (r.status !== 0) throw new Error(`${s.name}: delete command failed (${r.status}): ${r.stderr}`);
        }
        return;
      case "docker:index/container:Container":
        await deleteContainer(this.providerFor(s), s.id, s.inputs);
        return;
      case "docker:index/network:Network":
        await this.providerFor(s).call("DELETE", `/networks/${s.id}`, undefined, { accept: [404] });
        return;
      case "docker:index/remoteImage:RemoteImage":
        if (s.inputs.keepLocally !== true)
          await this.providerFor(s).call(
            "DELETE",
            `/images/${encodeURIComponent(s.id)}?force=${s.inputs.forceRemove === true}`,
            undefined,
            { accept: [404, 409] },
          );
        return;
      default:
        return;
    }
  }

  /** Deletes use the provider the resource was created with (recorded), like Pulumi's state. */
  private providerFor(s: ResourceState): DockerApi {
    const provider = Object.values(this.state.resources)
      .concat(Object.values(this.previous.resources))
      .find((p) => p.type === "pulumi:providers:docker");
    if (!provider) throw new Error(`${s.name}: no docker provider to delete it with`);
    return new DockerApi(this.ctx.dockerTarget(substitute(provider.inputs, this.pairs) as Record<string, unknown>));
  }

  private async runCommand(
    r: Registration,
    inputs: Record<string, unknown>,
    command: unknown,
  ): Promise<{ stdout: string; stderr: string }> {
    if (typeof command !== "string") return { stdout: "", stderr: "" };
    if (inputs.environment && Object.keys(inputs.environment as object).length > 0) {
      throw new Error(`${r.name}: remote.Command environment needs sshd AcceptEnv, which the droplet's sshd does not set`);
    }
    const connection: Connection = connectionFrom(inputs.connection);
    const stdin = typeof inputs.stdin === "string" ? (this.ctx.stdinFor?.(command, inputs.stdin) ?? inputs.stdin) : undefined;
    const result = await runRemote(connection, this.ctx.route, command, stdin);
    if (result.status !== 0) {
      throw new Error(
        `${r.name}: command failed with exit ${result.status}\n${(result.stdout + result.stderr).trim().split("\n").slice(-30).join("\n")}`,
      );
    }
    return { stdout: result.stdout, stderr: result.stderr };
  }

  private async copy(r: Registration, inputs: Record<string, unknown>): Promise<void> {
    const source = inputs.source as Record<string, unknown> | undefined;
    const path = source && typeof source.path === "string" ? source.path : undefined;
    if (!path || !existsSync(path)) throw new Error(`${r.name}: CopyToRemote replays file assets only; got ${JSON.stringify(source)}`);
    const result = await copyToRemote(connectionFrom(inputs.connection), this.ctx.route, path, String(inputs.remotePath));
    if (result.status !== 0) throw new Error(`${r.name}: copy to ${String(inputs.remotePath)} failed: ${result.stderr}`);
  }
}

/** pulumi-command ids (resource.NewUniqueHex(name, 8, 0)); Pulumi auto-names the same way with 7 characters. */
export function uniqueHex(prefix: string, length: number): string {
  return `${prefix}${randomBytes(length).toString("hex").slice(0, length)}`;
}

async function createNetwork(api: DockerApi, inputs: Record<string, unknown>): Promise<Pick<ResourceState, "id" | "outputs">> {
  const name = String(inputs.name);
  const r = await api.call("POST", "/networks/create", {
    Name: name,
    CheckDuplicate: true,
    Driver: inputs.driver ?? "bridge",
    Internal: inputs.internal === true,
    Attachable: inputs.attachable === true,
    EnableIPv6: inputs.ipv6 === true,
    Options: inputs.options ?? {},
    Labels: Object.fromEntries(((inputs.labels as { label: string; value: string }[] | undefined) ?? []).map((l) => [l.label, l.value])),
  });
  const id = r.json<{ Id: string }>().Id;
  return { id, outputs: { ...inputs, name, scope: "local" } };
}

async function resolveImage(
  api: DockerApi,
  inputs: Record<string, unknown>,
  localImage: (ref: string) => string,
): Promise<Pick<ResourceState, "id" | "outputs">> {
  const name = String(inputs.name);
  const local = localImage(name);
  const r = await api.call("GET", `/images/${encodeURIComponent(local)}/json`);
  const image = r.json<{ Id: string; RepoDigests?: string[] }>();
  // Built here, the image has no registry digest: its ID is the reference that resolves.
  return { id: `${image.Id}${name}`, outputs: { ...inputs, imageId: image.Id, repoDigest: image.RepoDigests?.[0] ?? image.Id } };
}

function duration(value: unknown): number {
  if (typeof value !== "string" || value === "") return 0;
  let ns = 0;
  for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) {
    const scale = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }[unit] ?? 0;
    ns += Number(n) * scale;
  }
  return Math.round(ns);
}

interface ContainerInputs {
  name?: string;
  image: string;
  envs?: string[];
  command?: string[];
  entrypoints?: string[];
  user?: string;
  workingDir?: string;
  labels?: { label: string; value: string }[];
  healthcheck?: { tests: string[]; interval?: string; timeout?: string; startPeriod?: string; retries?: number };
  ports?: { internal: number; external?: number; ip?: string; protocol?: string }[];
  volumes?: { hostPath?: string; containerPath?: string; readOnly?: boolean; volumeName?: string }[];
  networksAdvanced?: { name: string; aliases?: string[]; ipv4Address?: string }[];
  uploads?: { file: string; content?: string; contentBase64?: string; executable?: boolean }[];
  restart?: string;
  maxRetryCount?: number;
  init?: boolean;
  securityOpts?: string[];
  stopSignal?: string;
  stopTimeout?: number;
  destroyGraceSeconds?: number;
  logDriver?: string;
  logOpts?: Record<string, string>;
  sysctls?: Record<string, string>;
  wait?: boolean;
  waitTimeout?: number;
  mustRun?: boolean;
  start?: boolean;
  capabilities?: { adds?: string[]; drops?: string[] };
  memory?: number;
  networkMode?: string;
  readOnly?: boolean;
  privileged?: boolean;
  tmpfs?: Record<string, string>;
  hostname?: string;
}

async function createContainer(
  api: DockerApi,
  logicalName: string,
  raw: Record<string, unknown>,
  ctx: ReplayContext,
): Promise<Pick<ResourceState, "id" | "outputs" | "initError">> {
  const c = raw as unknown as ContainerInputs;
  // Pulumi auto-names a container without `name`: the logical name and 7 random characters.
  const name = c.name ?? uniqueHex(`${logicalName}-`, 7);
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  const published: Record<string, number> = {};
  for (const p of c.ports ?? []) {
    const key = `${p.internal}/${p.protocol ?? "tcp"}`;
    exposed[key] = {};
    const external = p.external ?? p.internal;
    const hostPort = ctx.publish(external);
    published[String(external)] = hostPort;
    // Every address the program binds becomes loopback here; one binding per port.
    if (!(bindings[key] ?? []).some((b) => b.HostPort === String(hostPort)))
      (bindings[key] ??= []).push({ HostIp: "127.0.0.1", HostPort: String(hostPort) });
  }
  const binds = (c.volumes ?? []).filter((v) => v.hostPath).map((v) => `${v.hostPath}:${v.containerPath}${v.readOnly ? ":ro" : ""}`);
  const body = {
    Image: c.image,
    Env: c.envs ?? [],
    Cmd: c.command,
    Entrypoint: c.entrypoints,
    User: c.user ?? "",
    WorkingDir: c.workingDir ?? "",
    Hostname: c.hostname ?? "",
    Labels: Object.fromEntries((c.labels ?? []).map((l) => [l.label, l.value])),
    ExposedPorts: exposed,
    StopSignal: c.stopSignal,
    StopTimeout: c.stopTimeout,
    Healthcheck: c.healthcheck
      ? {
          Test: c.healthcheck.tests,
          Interval: duration(c.healthcheck.interval),
          Timeout: duration(c.healthcheck.timeout),
          StartPeriod: duration(c.healthcheck.startPeriod),
          Retries: c.healthcheck.retries ?? 0,
        }
      : undefined,
    HostConfig: {
      Binds: binds,
      PortBindings: bindings,
      RestartPolicy: { Name: c.restart ?? "no", MaximumRetryCount: c.maxRetryCount ?? 0 },
      LogConfig: { Type: c.logDriver ?? "json-file", Config: c.logOpts ?? {} },
      SecurityOpt: c.securityOpts ?? [],
      Sysctls: c.sysctls ?? {},
      Init: c.init ?? false,
      CapAdd: c.capabilities?.adds ?? [],
      CapDrop: c.capabilities?.drops ?? [],
      Memory: (c.memory ?? 0) * 1024 * 1024,
      NetworkMode: c.networkMode ?? "default",
      ReadonlyRootfs: c.readOnly === true,
      Privileged: c.privileged === true,
      Tmpfs: c.tmpfs ?? {},
    },
  };
  const created = await api.call("POST", `/containers/create?name=${encodeURIComponent(name)}`, body);
  const id = created.json<{ Id: string }>().Id;
  const outputs = { ...raw, name, published };
  // As the provider: leave the default bridge, then join each network with its aliases.
  if ((c.networksAdvanced ?? []).length > 0) {
    await api.call("POST", "/networks/bridge/disconnect", { Container: id, Force: false }, { accept: [404, 403, 500] });
    for (const n of c.networksAdvanced ?? []) {
      await api.call("POST", `/networks/${encodeURIComponent(n.name)}/connect`, {
        Container: id,
        EndpointConfig: { Aliases: n.aliases ?? [], IPAMConfig: n.ipv4Address ? { IPv4Address: n.ipv4Address } : {} },
      });
    }
  }
  for (const u of c.uploads ?? []) {
    const content = u.contentBase64 ? Buffer.from(u.contentBase64, "base64") : Buffer.from(u.content ?? "");
    await api.call("PUT", `/containers/${id}/archive?path=/`, undefined, {
      raw: tarOneFile(u.file, content, u.executable === true),
      contentType: "application/x-tar",
    });
  }
  if (c.start === false) return { id, outputs };
  await api.call("POST", `/containers/${id}/start`);
  if (c.wait) {
    // resourceDockerContainerCreate: inspect every second until healthy, up to wait_timeout (default 60 s).
    const deadline = Date.now() + (c.waitTimeout ?? 60) * 1000;
    for (;;) {
      const info = (await api.call("GET", `/containers/${id}/json`)).json<{ State: { Health?: { Status: string } } }>();
      if (!info.State.Health) return { id, outputs, initError: `${name}: 'wait' is set but the container has no healthcheck` };
      if (info.State.Health.Status === "healthy") break;
      if (Date.now() > deadline)
        return { id, outputs, initError: `${name}: container failed to be in healthy state within ${c.waitTimeout ?? 60}s` };
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  // Read: must_run (default true) — a container that exited right away is an error, and is removed.
  const info = (await api.call("GET", `/containers/${id}/json`)).json<{ State: { Running: boolean; ExitCode: number } }>();
  if (!info.State.Running && c.mustRun !== false) {
    await api.call("DELETE", `/containers/${id}?force=true`, undefined, { accept: [404] });
    throw new Error(`${name}: container exited immediately (exit ${info.State.ExitCode})`);
  }
  return { id, outputs };
}

async function updateContainer(api: DockerApi, id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<void> {
  // resourceDockerContainerUpdate: only restart policy and resources reach the engine.
  const touched = ["restart", "maxRetryCount", "cpuShares", "memory", "memoryReservation", "cpuSet", "memorySwap"].some(
    (k) => stable(olds[k]) !== stable(news[k]),
  );
  if (!touched) return;
  await api.call("POST", `/containers/${id}/update`, {
    RestartPolicy: { Name: news.restart ?? "no", MaximumRetryCount: news.maxRetryCount ?? 0 },
    CpuShares: news.cpuShares ?? 0,
    Memory: Number(news.memory ?? 0) * 1024 * 1024,
    CpusetCpus: news.cpuSet ?? "",
  });
}

async function deleteContainer(api: DockerApi, id: string, inputs: Record<string, unknown>): Promise<void> {
  // resourceDockerContainerDelete: stop with destroy_grace_seconds (0 when unset), then force-remove.
  const grace = Number(inputs.destroyGraceSeconds ?? 0);
  await api.call("POST", `/containers/${id}/stop?t=${grace}`, undefined, { accept: [304, 404], timeoutMs: (grace + 60) * 1000 });
  await api.call("DELETE", `/containers/${id}?force=true&v=${inputs.removeVolumes !== false}`, undefined, { accept: [404] });
}

export function readState(file: string): ReplayState {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ReplayState) : { resources: {} };
}

export { sshArgs };
