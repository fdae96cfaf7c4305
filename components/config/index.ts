import * as pulumi from "@pulumi/pulumi";
import { StackConfig, isProductionStack, parseStackConfig, rawNamespaceConfig } from "./schema";

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
