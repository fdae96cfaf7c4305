// Secrets stored in the clear: a value that grants access must be set with
// `pulumi config set --secret`, so the stack file holds ciphertext and the state marks it
// secret. The policy reads the stack's config and secret keys as the engine sends them in
// ConfigureStack (policies/stack-config.ts); values are never repeated in messages.
import { StackValidationPolicy } from "@pulumi/policy";
import { stackConfig } from "./stack-config";
import { asProps } from "./util";

/** Provider keys that are credentials, whatever their name says. */
export const PROVIDER_CREDENTIAL_KEYS = [
  "digitalocean:token",
  "digitalocean:spacesAccessId",
  "digitalocean:spacesSecretKey",
  "auth0:clientSecret",
  "auth0:apiToken",
  "auth0:clientAssertionPrivateKey",
  "postgresql:password",
] as const;

/**
 * Names that say "this is a credential": *SECRET*, *PASSWORD*, *TOKEN*, *_KEY, private and API
 * keys, and webhook URLs (Slack's, PagerDuty's and most others carry their token in the URL).
 */
export function looksSecret(name: string): boolean {
  const upper = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, "_");
  return /SECRET|PASSWORD|PASSWD|PASSPHRASE|TOKEN|CREDENTIAL|PRIVATE_?KEY|API_?KEY|ACCESS_?KEY|WEBHOOK_?URL|(^|_)PWD$|(^|_)KEY$/.test(
    upper,
  );
}

/** True when the value is a URL (a DSN) that carries a password. */
export function hasUrlCredentials(value: string): boolean {
  try {
    return new URL(value).password !== "";
  } catch {
    return false;
  }
}

/** A stored config value as JSON (Pulumi stores objects and lists so); undefined for plain text. */
function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Leaves of an object or list whose key looks secret, as paths `pulumi config set --path`
 * takes (`dropstack:registry.password`, `docker:registryAuth[0].password`).
 */
function secretLeaves(value: unknown, path: string): string[] {
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) => {
    const at = Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`;
    // A null item is an object to typeof; the walk answers [] for it, as for any unset credential.
    if (typeof item === "object") return secretLeaves(item, at);
    return looksSecret(key) && item !== "" ? [at] : [];
  });
}

/**
 * Every place the config holds a credential in plain text, one message each (the key and
 * the fix, never the value).
 */
export function plaintextSecrets(config: Record<string, string>, secretKeys: readonly string[]): string[] {
  const secret = new Set(secretKeys);
  const found: string[] = [];
  const setSecret = (key: string) => `pulumi config set --secret ${key.includes(".") ? "--path " : ""}'${key}' <value>`;

  for (const key of Object.keys(config).sort()) {
    if (secret.has(key) || config[key] === "") continue;
    const [namespace, name = ""] = key.split(":");
    if (namespace !== "dropstack" && ((PROVIDER_CREDENTIAL_KEYS as readonly string[]).includes(key) || looksSecret(name))) {
      found.push(`${key} is a credential stored in plain text: ${setSecret(key)} (or use the provider's environment variable)`);
    } else if (key !== "dropstack:app" && key !== "dropstack:appSecrets") {
      // Structured values in any namespace (a provider's registryAuth list as much as dropstack:registry).
      for (const leaf of secretLeaves(parseJson(config[key]), key))
        found.push(`${leaf} is a credential stored in plain text: ${setSecret(leaf)}`);
    }
  }

  if (config["dropstack:appSecrets"] !== undefined && !secret.has("dropstack:appSecrets")) {
    found.push(`dropstack:appSecrets is stored in plain text: set each value with ${setSecret("dropstack:appSecrets.<NAME>")}`);
  }

  if (!secret.has("dropstack:app")) {
    const app = asProps(parseJson(config["dropstack:app"]));
    const env = typeof app.env === "object" && app.env !== null ? (app.env as Record<string, unknown>) : {};
    for (const [name, value] of Object.entries(env)) {
      const text = String(value ?? "");
      if (text !== "" && (looksSecret(name) || hasUrlCredentials(text))) {
        const why = looksSecret(name) ? "looks like a secret" : "is a URL with a password";
        found.push(
          `dropstack:app.env.${name} ${why} and is stored in plain text: move it to appSecrets (${setSecret(`dropstack:appSecrets.${name}`)}) and remove it from app.env`,
        );
      }
    }
    if (typeof app.image === "string" && /^([a-z][a-z0-9+.-]*:\/\/)?[^/@]+@/i.test(app.image) && !/^[^@]*@sha256:/.test(app.image)) {
      found.push(
        "dropstack:app.image carries registry credentials in plain text: remove them from the reference and give the registry credentials as secrets",
      );
    }
  }

  return found;
}

export const configSecretsEncrypted: StackValidationPolicy = {
  name: "config-secrets-encrypted",
  description:
    "Credentials in stack config are stored encrypted (`pulumi config set --secret`): provider tokens and keys, appSecrets, secret-looking app.env values and DSNs with passwords, registry credentials.",
  validateStack: (_args, reportViolation) => {
    const { config, secretKeys } = stackConfig();
    for (const message of plaintextSecrets(config, secretKeys)) reportViolation(message);
  },
};

export const secretsPolicies = [configSecretsEncrypted];
