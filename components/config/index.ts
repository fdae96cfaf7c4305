import * as pulumi from "@pulumi/pulumi";
import { StackConfig, isProductionStack, parseStackConfig, rawNamespaceConfig } from "./schema";

export * from "./schema";

/** Config as the components use it: validated, with secret values kept inside secret Outputs. */
/** dropstack:observability with its secret values inside secret Outputs. */
export type LoadedObservability = Omit<StackConfig["observability"], "smtp" | "webhookUrl" | "remoteLoki"> & {
  smtp?: Omit<NonNullable<StackConfig["observability"]["smtp"]>, "password"> & { password?: pulumi.Output<string> };
  webhookUrl?: pulumi.Output<string>;
  remoteLoki?: Omit<NonNullable<StackConfig["observability"]["remoteLoki"]>, "password"> & { password?: pulumi.Output<string> };
};

export type LoadedConfig = Omit<StackConfig, "appSecrets" | "registry" | "observability"> & {
  stack: string;
  project: string;
  production: boolean;
  appSecrets: pulumi.Output<Record<string, string>>;
  registry?: { server: string; username: string; password: pulumi.Output<string> };
  observability: LoadedObservability;
};

/** Wraps observability's secret values (mail relay and Loki passwords, the webhook URL) as secret Outputs. */
export function secretObservability(config: StackConfig["observability"]): LoadedObservability {
  const secret = (value: string | undefined) => (value === undefined ? undefined : pulumi.secret(value));
  const { smtp, webhookUrl, remoteLoki, ...rest } = config;
  return {
    ...rest,
    ...(smtp ? { smtp: { ...smtp, password: secret(smtp.password) } } : {}),
    ...(webhookUrl !== undefined ? { webhookUrl: pulumi.secret(webhookUrl) } : {}),
    ...(remoteLoki ? { remoteLoki: { ...remoteLoki, password: secret(remoteLoki.password) } } : {}),
  };
}

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
  const { appSecrets, registry, observability, ...rest } = result.config;
  return {
    ...rest,
    observability: secretObservability(observability),
    ...(registry ? { registry: { ...registry, password: pulumi.secret(registry.password) } } : {}),
    stack,
    project: pulumi.getProject(),
    production: isProductionStack(stack),
    appSecrets: pulumi.secret(appSecrets),
  };
}
