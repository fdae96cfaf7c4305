import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, StackConfig, TOP_LEVEL_KEYS, isProductionStack, parseStackConfig } from "./schema";

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
  constructor(readonly problems: string[], stack: string) {
    super(`invalid config for stack "${stack}" (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`);
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

export function loadStackConfig(): LoadedConfig {
  const stack = pulumi.getStack();
  const raw: Record<string, unknown> = {};
  for (const key of TOP_LEVEL_KEYS) {
    // runtime.getConfig reads secrets without the plaintext warning; they are re-wrapped below.
    const text = pulumi.runtime.getConfig(`${CONFIG_NAMESPACE}:${key}`);
    if (text !== undefined) raw[key] = decodeConfigValue(text);
  }
  const result = parseStackConfig(raw, stack);
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
