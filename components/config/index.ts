import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, StackConfig, isProductionStack, parseStackConfig } from "./schema";

export * from "./schema";

/** Config as the components use it: validated, with secret values kept inside secret Outputs. */
export type LoadedConfig = Omit<StackConfig, "appSecrets" | "registry"> & {
  stack: string;
  project: string;
  production: boolean;
  appSecrets: pulumi.Output<Record<string, string>>;
  registry?: { server: string; username: string; password: pulumi.Output<string> };
};

/** Thrown before any resource is registered; the CLI prints only the message (RunError). */
export class InvalidConfigError extends pulumi.RunError {
  constructor(
    readonly problems: string[],
    stack: string,
  ) {
    super(
      `invalid config for stack "${stack}" (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`,
    );
    this.name = "InvalidConfigError";
  }
}

/**
 * Pulumi stores `pulumi config set --path app.port 8000` as a JSON object under
 * `dropstack:app`, and plain values as strings; this reads both shapes.
 */
export function decodeConfigValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Every `dropstack:` key of the stack, decoded, unknown keys included (they are errors,
 * not ignored). `config` maps full keys to Pulumi's stored strings.
 */
export function rawNamespaceConfig(config: Record<string, string>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(config)) {
    if (key.startsWith(`${CONFIG_NAMESPACE}:`)) raw[key.slice(CONFIG_NAMESPACE.length + 1)] = decodeConfigValue(text);
  }
  return raw;
}

export function loadStackConfig(): LoadedConfig {
  const stack = pulumi.getStack();
  // runtime.allConfig reads secrets without the plaintext warning; they are re-wrapped below.
  const raw = rawNamespaceConfig(pulumi.runtime.allConfig());
  const result = parseStackConfig(raw, stack, pulumi.getProject());
  if (!result.ok) throw new InvalidConfigError(result.problems, stack);
  const { appSecrets, registry, ...rest } = result.config;
  return {
    ...rest,
    ...(registry ? { registry: { ...registry, password: pulumi.secret(registry.password) } } : {}),
    stack,
    project: pulumi.getProject(),
    production: isProductionStack(stack),
    appSecrets: pulumi.secret(appSecrets),
  };
}
