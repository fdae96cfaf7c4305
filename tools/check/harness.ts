// Runs the dropstack program under Pulumi mocks and records every registration with its
// options. Mocks hide options from `newResource` (pulumi/pulumi#14421), so the harness
// wraps MockMonitor.registerResource, which receives the full protobuf request.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";
import * as settings from "@pulumi/pulumi/runtime/settings";
import type { ProgramRun, Registration } from "./graph";
import { mocks } from "./mocks";

export { Graph, type ProgramRun, type Registration } from "./graph";

interface RegisterRequest {
  getUrn?(): string;
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getParent(): string;
  getProvider(): string;
  getVersion(): string;
  getProtect(): boolean;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(cb: (v: { getUrnsList(): string[] }, k: string) => void): void };
  getDeletebeforereplace(): boolean;
  getDeletebeforereplacedefined(): boolean;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

export function isSecretWire(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

function containsSecret(value: unknown): boolean {
  if (isSecretWire(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecret);
  return false;
}

/** Removes wire-format secret wrappers; unknowns stay as the engine's sentinel string. */
export function unwrapSecrets(value: unknown): unknown {
  if (isSecretWire(value)) return unwrapSecrets((value as Record<string, unknown>).value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

export const UNKNOWN = unknownValue;

export interface RunOptions {
  project?: string;
  stack: string;
  /** Full keys (`dropstack:app`) to raw string values, as Pulumi passes config to programs. */
  config: Record<string, string>;
  secretKeys?: string[];
  /** The program's entry module; defaults to the repository's index.ts. */
  program?: string;
  /** Run as a preview (the default), like `pulumi preview`. */
  preview?: boolean;
}

let used = false;

/**
 * Evaluates the program once under mocks. Pulumi's runtime is process-global, so a
 * process can run one program: tests that need several configs use several files.
 */
export async function runProgram(options: RunOptions): Promise<ProgramRun> {
  if (used) throw new Error("runProgram can run once per process: Pulumi's runtime state is global");
  used = true;
  const registrations = new Map<string, Registration>();
  const original = MockMonitor.prototype.registerResource;
  MockMonitor.prototype.registerResource = async function (
    this: MockMonitor,
    req: RegisterRequest,
    callback: (err: unknown, resp: unknown) => void,
  ) {
    return original.call(
      this,
      req,
      (err: unknown, resp: { getUrn(): string; getId(): string; getObject(): { toJavaScript(): Record<string, unknown> } } | undefined) => {
        if (!err && resp) recordRegistration(registrations, req, resp.getUrn(), resp.getId(), resp.getObject().toJavaScript());
        callback(err, resp);
      },
    );
  } as typeof original;

  // Reads (StackReference, `.get` of existing resources) are part of the graph too.
  const originalRead = MockMonitor.prototype.readResource;
  MockMonitor.prototype.readResource = async function (
    this: MockMonitor,
    req: ReadRequest,
    callback: (err: unknown, resp: unknown) => void,
  ) {
    return originalRead.call(
      this,
      req,
      (err: unknown, resp: { getUrn(): string; getProperties(): { toJavaScript(): Record<string, unknown> } } | undefined) => {
        if (!err && resp) recordRead(registrations, req, resp.getUrn(), resp.getProperties().toJavaScript());
        callback(err, resp);
      },
    );
  } as typeof originalRead;

  pulumi.runtime.setAllConfig(options.config, options.secretKeys ?? []);
  await pulumi.runtime.setMocks(mocks, options.project ?? "dropstack", options.stack, options.preview ?? true);
  const program = options.program ?? path.resolve(__dirname, "..", "..", "index.ts");
  let moduleError: unknown;
  const stackOutputs = await pulumi.runtime.runInPulumiStack(async () => {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return { ...require(program) };
    } catch (e) {
      moduleError = e;
      return {};
    }
  });
  await waitForRPCs();
  if (moduleError) throw moduleError;
  const resolved = await resolveOutputs(stackOutputs ?? {});
  return { registrations: [...registrations.values()], stackOutputs: resolved };
}

/** Drains queued registrations; exported by the runtime's JS but not its typings (marked internal). */
function waitForRPCs(): Promise<void> {
  return (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

interface ReadRequest {
  getId(): string;
  getType(): string;
  getName(): string;
  getParent(): string;
  getProvider(): string;
  getDependenciesList(): string[];
  getProperties(): { toJavaScript(): Record<string, unknown> } | undefined;
}

function recordRead(into: Map<string, Registration>, req: ReadRequest, urn: string, state: Record<string, unknown>) {
  const wireInputs = req.getProperties()?.toJavaScript() ?? {};
  into.set(urn, {
    urn,
    id: req.getId(),
    type: req.getType(),
    name: req.getName(),
    custom: true,
    parent: req.getParent() || undefined,
    provider: req.getProvider() || undefined,
    protect: false,
    dependencies: req.getDependenciesList(),
    propertyDependencies: {},
    deleteBeforeReplace: false,
    deleteBeforeReplaceDefined: false,
    ignoreChanges: [],
    replaceOnChanges: [],
    additionalSecretOutputs: [],
    wireInputs,
    inputs: unwrapSecrets(wireInputs) as Record<string, unknown>,
    secretInputs: Object.entries(wireInputs)
      .filter(([, v]) => containsSecret(v))
      .map(([k]) => k),
    outputs: unwrapSecrets(state) as Record<string, unknown>,
  });
}

function recordRegistration(
  into: Map<string, Registration>,
  req: RegisterRequest,
  urn: string,
  id: string,
  state: Record<string, unknown>,
) {
  const wireInputs = req.getObject()?.toJavaScript() ?? {};
  const propertyDependencies: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((v, k) => {
    propertyDependencies[k] = v.getUrnsList();
  });
  into.set(urn, {
    urn,
    id,
    type: req.getType(),
    name: req.getName(),
    custom: req.getCustom(),
    parent: req.getParent() || undefined,
    provider: req.getProvider() || undefined,
    version: req.getVersion() || undefined,
    protect: req.getProtect(),
    dependencies: req.getDependenciesList(),
    propertyDependencies,
    deleteBeforeReplace: req.getDeletebeforereplace(),
    deleteBeforeReplaceDefined: req.getDeletebeforereplacedefined(),
    ignoreChanges: req.getIgnorechangesList(),
    replaceOnChanges: req.getReplaceonchangesList(),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    wireInputs,
    inputs: unwrapSecrets(wireInputs) as Record<string, unknown>,
    secretInputs: Object.entries(wireInputs)
      .filter(([, v]) => containsSecret(v))
      .map(([k]) => k),
    outputs: unwrapSecrets(state) as Record<string, unknown>,
  });
}

async function resolveOutputs(outputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  const entries = await Promise.all(
    Object.entries(outputs).map(async ([k, v]) => {
      if (pulumi.Output.isInstance(v)) {
        const value = await new Promise((resolve) =>
          (v as pulumi.Output<unknown>).apply((x) => {
            resolve(x);
            return x;
          }),
        );
        return [k, value] as const;
      }
      return [k, v] as const;
    }),
  );
  return Object.fromEntries(entries);
}
