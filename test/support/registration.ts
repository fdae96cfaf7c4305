import type { Registration } from "../../tools/check/harness";

/** A resource registration as the check's harness records it, with every option at its default. */
export function registration(type: string, name: string, extra: Partial<Registration> = {}): Registration {
  return {
    urn: `urn:pulumi:staging::dropstack::${type}::${name}`,
    id: `${name}-id`,
    type,
    name,
    custom: true,
    protect: false,
    dependencies: [],
    propertyDependencies: {},
    deleteBeforeReplace: false,
    deleteBeforeReplaceDefined: false,
    ignoreChanges: [],
    replaceOnChanges: [],
    additionalSecretOutputs: [],
    wireInputs: {},
    inputs: {},
    secretInputs: [],
    outputs: {},
    ...extra,
  };
}
