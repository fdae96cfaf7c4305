// Reads a Pulumi stack file the way the CLI hands config to a program: every value as
// a string (objects as JSON), plus the list of secret keys. Encrypted values cannot be
// decrypted offline, so they become a placeholder and count as unknown secrets.
import { readFileSync } from "node:fs";
import { parse } from "yaml";

export const SECRET_PLACEHOLDER = "[secret]";

export interface StackFile {
  config: Record<string, string>;
  secretKeys: string[];
}

export class StackFileError extends Error {}

export function readStackFile(path: string): StackFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new StackFileError(`cannot read stack file ${path}: ${(e as Error).message}`);
  }
  return parseStackFile(text, path);
}

export function parseStackFile(text: string, source = "stack file"): StackFile {
  let document: unknown;
  try {
    document = parse(text) ?? {};
  } catch (e) {
    throw new StackFileError(`${source} is not valid YAML: ${(e as Error).message}`);
  }
  const config = (document as { config?: unknown }).config ?? {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new StackFileError(`${source}: "config" must be a mapping of keys to values`);
  }
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!key.includes(":")) throw new StackFileError(`${source}: config key "${key}" needs a namespace, e.g. dropstack:${key}`);
    if (isSecure(value)) {
      secretKeys.push(key);
      values[key] = key === "dropstack:appSecrets" ? "{}" : SECRET_PLACEHOLDER;
    } else if (containsSecure(value)) {
      // `pulumi config set --secret --path a.b` encrypts a leaf inside an object.
      secretKeys.push(key);
      values[key] = JSON.stringify(replaceSecure(value));
    } else {
      values[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { config: values, secretKeys };
}

function isSecure(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

function containsSecure(value: unknown): boolean {
  if (isSecure(value)) return true;
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecure);
  return false;
}

function replaceSecure(value: unknown): unknown {
  if (isSecure(value)) return SECRET_PLACEHOLDER;
  if (Array.isArray(value)) return value.map(replaceSecure);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceSecure(v)]));
  return value;
}
