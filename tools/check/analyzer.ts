// Plays the Pulumi engine's side of the analyzer protocol against the real policy pack:
// start the pack (its PolicyPack constructor serves gRPC and prints the port), then
// GetAnalyzerInfo, Configure, ConfigureStack, Analyze per custom resource, AnalyzeStack.
import { ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import type { Registration } from "./harness";

/** How the check runs TypeScript (and starts fast): see tools/fast-start.cjs. */
export const PRELOAD = ["--require", path.join(__dirname, "..", "fast-start.cjs")];

export type EnforcementLevel = "advisory" | "mandatory" | "remediate" | "disabled";

export interface Violation {
  policy: string;
  enforcementLevel: EnforcementLevel;
  urn: string;
  message: string;
  description: string;
}

export interface PolicyRun {
  packName: string;
  packVersion: string;
  policies: { name: string; enforcementLevel: EnforcementLevel }[];
  violations: Violation[];
}

const LEVELS: Record<number, EnforcementLevel> = {
  [analyzerPb.EnforcementLevel.ADVISORY]: "advisory",
  [analyzerPb.EnforcementLevel.MANDATORY]: "mandatory",
  [analyzerPb.EnforcementLevel.DISABLED]: "disabled",
  [analyzerPb.EnforcementLevel.REMEDIATE]: "remediate",
};
const LEVEL_CODES: Record<EnforcementLevel, analyzerPb.EnforcementLevel> = {
  advisory: analyzerPb.EnforcementLevel.ADVISORY,
  mandatory: analyzerPb.EnforcementLevel.MANDATORY,
  disabled: analyzerPb.EnforcementLevel.DISABLED,
  remediate: analyzerPb.EnforcementLevel.REMEDIATE,
};

type PolicyConfigValue = EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);

export class PolicyConfigError extends Error {}

/** Reads `policies/<stack>.json` in the CLI's `--policy-pack-config` format. */
export function readPolicyConfig(file: string): Record<string, PolicyConfigValue> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new PolicyConfigError(`cannot read policy config ${file}: ${(e as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new PolicyConfigError(`${file}: expected an object of policy names`);
  for (const [name, value] of Object.entries(parsed)) {
    const level = typeof value === "string" ? value : (value as { enforcementLevel?: unknown }).enforcementLevel;
    if (level !== undefined && !(String(level) in LEVEL_CODES))
      throw new PolicyConfigError(`${file}: ${name}: unknown enforcement level "${String(level)}"`);
  }
  return parsed as Record<string, PolicyConfigValue>;
}

/** The engine applies `all` to every policy, then the policy's own entry on top. */
export function effectiveConfig(policyNames: string[], config: Record<string, PolicyConfigValue>) {
  const normalise = (v: PolicyConfigValue | undefined) => (typeof v === "string" ? { enforcementLevel: v } : (v ?? {}));
  const unknown = Object.keys(config).filter((k) => k !== "all" && !policyNames.includes(k));
  if (unknown.length > 0) throw new PolicyConfigError(`policy config names unknown policies: ${unknown.join(", ")}`);
  return Object.fromEntries(policyNames.map((name) => [name, { ...normalise(config.all), ...normalise(config[name]) }]));
}

function call<Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (err, res) => (err ? reject(err) : resolve(res))));
}

/** A policy pack process being started; `ready` resolves to its gRPC port. */
export interface PolicyPackProcess {
  pid?: number;
  ready: Promise<number>;
  /**
   * Ends the pack; resolves once it has exited, so that no pack outlives the check and its
   * CPU time is counted with its parent's (by `times`, /usr/bin/time, the test runner).
   */
  stop(): Promise<void>;
}

/**
 * Starts the pack as the CLI does (a Node process that prints its port), without waiting
 * for it: the caller starts it first and evaluates the program meanwhile, since both
 * spend seconds loading @pulumi/pulumi and 2 cores can do that side by side.
 */
export function startPolicyPack(packDir: string): PolicyPackProcess {
  const child: ChildProcess = spawn(process.execPath, [...PRELOAD, path.join(packDir, "index.ts")], {
    cwd: packDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr += String(d)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const pack: PolicyPackProcess = {
    pid: child.pid,
    ready: new Promise<number>((resolve, reject) => {
      let stdout = "";
      const timer = setTimeout(() => reject(new Error(`policy pack did not print its port within 180s\n${stderr}`)), 180_000);
      child.stdout?.on("data", (d) => {
        stdout += String(d);
        const match = /^(\d+)\s*$/m.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`policy pack exited with ${code} before serving\n${stderr}`));
      });
    }),
    stop: () => {
      if (running()) child.kill();
      return exited;
    },
  };
  // Awaited later; until then a failed start must not surface as an unhandled rejection.
  pack.ready.catch(() => undefined);
  // Whatever ends this process (bad config, a crash, success) ends the pack with it.
  process.once("exit", () => {
    if (running()) child.kill();
  });
  return pack;
}

function resourceOptions(r: Registration): analyzerPb.AnalyzerResourceOptions {
  const opts = new analyzerPb.AnalyzerResourceOptions();
  opts.setProtect(r.protect);
  opts.setIgnorechangesList(r.ignoreChanges);
  opts.setDeletebeforereplace(r.deleteBeforeReplace);
  opts.setDeletebeforereplacedefined(r.deleteBeforeReplaceDefined);
  opts.setAdditionalsecretoutputsList(r.additionalSecretOutputs);
  if (r.parent) opts.setParent(r.parent);
  return opts;
}

function providerFor(r: Registration, byUrn: Map<string, Registration>): analyzerPb.AnalyzerProviderResource | undefined {
  if (!r.provider) return undefined;
  const urn = r.provider.split("::").slice(0, -1).join("::");
  const provider = byUrn.get(urn);
  if (!provider) return undefined;
  const message = new analyzerPb.AnalyzerProviderResource();
  message.setType(provider.type);
  message.setUrn(provider.urn);
  message.setName(provider.name);
  message.setProperties(Struct.fromJavaScript(provider.wireInputs as never));
  return message;
}

function diagnostics(response: analyzerPb.AnalyzeResponse, fallbackUrn: string): Violation[] {
  return response.getDiagnosticsList().map((d) => ({
    policy: d.getPolicyname(),
    enforcementLevel: LEVELS[d.getEnforcementlevel()] ?? "advisory",
    urn: d.getUrn() || fallbackUrn,
    message: d.getMessage(),
    description: d.getDescription(),
  }));
}

export interface AnalyzeOptions {
  packDir: string;
  policyConfigFile: string;
  stack: string;
  project: string;
  registrations: Registration[];
  /** The stack's config (full keys to stored strings) and its secret keys, for ConfigureStack. */
  config?: Record<string, string>;
  secretKeys?: string[];
  /** A pack already started with startPolicyPack; started here when absent. */
  pack?: PolicyPackProcess;
}

export async function analyze(options: AnalyzeOptions): Promise<PolicyRun> {
  const policyConfig = readPolicyConfig(options.policyConfigFile);
  const pack = options.pack ?? startPolicyPack(options.packDir);
  const port = await pack.ready;
  const client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const info = await call<Empty, analyzerPb.AnalyzerInfo>(client.getAnalyzerInfo.bind(client), new Empty());
    const names = info.getPoliciesList().map((p) => p.getName());
    const effective = effectiveConfig(names, policyConfig);

    const configure = new analyzerPb.ConfigureAnalyzerRequest();
    for (const [name, { enforcementLevel, ...properties }] of Object.entries(effective)) {
      const pc = new analyzerPb.PolicyConfig();
      const level =
        enforcementLevel ??
        LEVELS[
          info
            .getPoliciesList()
            .find((p) => p.getName() === name)
            ?.getEnforcementlevel() ?? 0
        ];
      pc.setEnforcementlevel(LEVEL_CODES[level as EnforcementLevel]);
      pc.setProperties(Struct.fromJavaScript(properties as never));
      configure.getPolicyconfigMap().set(name, pc);
    }
    await call(client.configure.bind(client), configure);

    const stackConfigure = new analyzerPb.AnalyzerStackConfigureRequest();
    stackConfigure.setStack(options.stack);
    stackConfigure.setProject(options.project);
    stackConfigure.setDryRun(true);
    // As the engine does: the stack's config and which keys are secret.
    for (const [key, value] of Object.entries(options.config ?? {})) stackConfigure.getConfigMap().set(key, value);
    stackConfigure.setConfigSecretKeysList(options.secretKeys ?? []);
    await call(client.configureStack.bind(client), stackConfigure);

    const byUrn = new Map(options.registrations.map((r) => [r.urn, r]));
    // The engine analyzes resources as they are registered, many in flight at once; so do
    // we (one round trip each would cost a resource count of latencies). Results keep
    // registration order.
    const perResource = await Promise.all(
      options.registrations
        .filter((x) => x.custom && !x.type.startsWith("pulumi:providers:"))
        .map(async (r) => {
          const req = new analyzerPb.AnalyzeRequest();
          req.setType(r.type);
          req.setUrn(r.urn);
          req.setName(r.name);
          req.setProperties(Struct.fromJavaScript(r.wireInputs as never));
          req.setOptions(resourceOptions(r));
          const provider = providerFor(r, byUrn);
          if (provider) req.setProvider(provider);
          return diagnostics(await call(client.analyze.bind(client), req), r.urn);
        }),
    );
    const violations: Violation[] = perResource.flat();

    const stackReq = new analyzerPb.AnalyzeStackRequest();
    stackReq.setResourcesList(
      options.registrations
        .filter((r) => r.type !== "pulumi:pulumi:Stack")
        .map((r) => {
          const res = new analyzerPb.AnalyzerResource();
          res.setType(r.type);
          res.setUrn(r.urn);
          res.setName(r.name);
          res.setProperties(Struct.fromJavaScript({ ...stripUndefined(r.outputs), ...r.wireInputs } as never));
          res.setOptions(resourceOptions(r));
          if (r.parent) res.setParent(r.parent);
          res.setDependenciesList(r.dependencies);
          for (const [key, urns] of Object.entries(r.propertyDependencies)) {
            const deps = new analyzerPb.AnalyzerPropertyDependencies();
            deps.setUrnsList(urns);
            res.getPropertydependenciesMap().set(key, deps);
          }
          const provider = providerFor(r, byUrn);
          if (provider) res.setProvider(provider);
          return res;
        }),
    );
    violations.push(...diagnostics(await call(client.analyzeStack.bind(client), stackReq), ""));

    return {
      packName: info.getName(),
      packVersion: info.getVersion(),
      policies: names.map((name) => ({ name, enforcementLevel: (effective[name].enforcementLevel ?? "advisory") as EnforcementLevel })),
      violations,
    };
  } finally {
    client.close();
    await pack.stop();
  }
}

function stripUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
