// The few DigitalOcean API calls CI access needs, over fetch. Requests and responses are
// the documented /v2 shapes; test/cli/ci-access-cli.test.ts serves them from loopback.
import { CiAccessError, CloudFirewall, TrustedSource } from "./access";

export const DEFAULT_API_URL = "https://api.digitalocean.com";
const RETRY_DELAYS_MS = [500, 2000];

/** The token goes only to DigitalOcean over TLS, or to a stub on loopback. */
export function apiBase(url: string): string {
  const parsed = new URL(url);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && loopback)) {
    throw new CiAccessError(`DIGITALOCEAN_API_URL ${url} must be https (plain http only on loopback)`, 2);
  }
  return url.replace(/\/+$/, "");
}

export class DigitalOceanApi {
  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  private async request(method: string, path: string, body?: unknown, allow: number[] = []): Promise<{ status: number; json: unknown }> {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(`${this.base}${path}`, {
        method,
        headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      // 429 and 5xx are DigitalOcean's "try again"; anything else is an answer.
      if ((response.status === 429 || response.status >= 500) && attempt < RETRY_DELAYS_MS.length) {
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt]));
        continue;
      }
      if (!response.ok && !allow.includes(response.status)) {
        const message = (() => {
          try {
            return (JSON.parse(text) as { message?: string }).message ?? text;
          } catch {
            return text;
          }
        })();
        throw new CiAccessError(`${method} ${path}: ${response.status} ${message}`.trim());
      }
      return { status: response.status, json: text === "" ? undefined : JSON.parse(text) };
    }
  }

  async listFirewalls(): Promise<CloudFirewall[]> {
    const all: CloudFirewall[] = [];
    for (let page = 1; ; page++) {
      const { json } = await this.request("GET", `/v2/firewalls?page=${page}&per_page=200`);
      const body = json as { firewalls?: CloudFirewall[]; links?: { pages?: { next?: string } } };
      all.push(...(body.firewalls ?? []));
      if (!body.links?.pages?.next || (body.firewalls ?? []).length === 0) return all;
    }
  }

  async createFirewall(request: unknown): Promise<CloudFirewall> {
    const { json } = await this.request("POST", "/v2/firewalls", request);
    const firewall = (json as { firewall?: CloudFirewall }).firewall;
    if (!firewall?.id) throw new CiAccessError("POST /v2/firewalls returned no firewall id");
    return firewall;
  }

  async getFirewall(id: string): Promise<CloudFirewall | undefined> {
    const { status, json } = await this.request("GET", `/v2/firewalls/${encodeURIComponent(id)}`, undefined, [404]);
    return status === 404 ? undefined : (json as { firewall: CloudFirewall }).firewall;
  }

  /** True when it existed; a firewall already gone is what closing wants. */
  async deleteFirewall(id: string): Promise<boolean> {
    const { status } = await this.request("DELETE", `/v2/firewalls/${encodeURIComponent(id)}`, undefined, [404]);
    return status !== 404;
  }

  async databaseRules(clusterId: string): Promise<TrustedSource[]> {
    const { json } = await this.request("GET", `/v2/databases/${encodeURIComponent(clusterId)}/firewall`);
    return (json as { rules?: TrustedSource[] }).rules ?? [];
  }

  /** PUT replaces the whole rule set: callers pass every rule to keep. */
  async putDatabaseRules(clusterId: string, rules: TrustedSource[]): Promise<void> {
    await this.request("PUT", `/v2/databases/${encodeURIComponent(clusterId)}/firewall`, { rules });
  }
}
