// The smallest raw dropstack config the schema accepts for staging (production needs more:
// adminCidrs, backups, promotion), for tests that change one key of it.
import { parseStackConfig } from "../../components/config/schema";

export function minimalConfig(): Record<string, unknown> & { app: Record<string, unknown> } {
  return {
    region: "fra1",
    domain: "example.com",
    hosts: { api: "api.example.com" },
    sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFr0m6wZc1Q3x8mV8m7bQJ0xWcN6iE4p5Yl9oUuKqP2S ops@example.com"],
    app: { image: "ghcr.io/acme/api:1.0.0", migrate: "alembic upgrade head" },
    tls: { email: "ops@example.com" },
  };
}

export type MinimalConfig = ReturnType<typeof minimalConfig>;

/** The problems parseStackConfig finds in the smallest config after `change` (none when it parses). */
export function problemsAfter(change: (raw: MinimalConfig) => void, stack = "staging"): string[] {
  const raw = minimalConfig();
  change(raw);
  const result = parseStackConfig(raw, stack);
  return result.ok ? [] : result.problems;
}
