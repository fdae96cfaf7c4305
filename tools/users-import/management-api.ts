// The Auth0 calls of `npm run users:import`, over fetch: a Management API token by the
// client-credentials grant, then the documented job endpoints. Request and response shapes are
// Auth0's (POST /api/v2/jobs/users-imports, GET /api/v2/jobs/{id}, GET /api/v2/jobs/{id}/errors);
// test/cli/users-import.test.ts serves them from loopback.
import { managementApiAudience } from "../../components/identity/settings";
import type { Job, JobUserErrors } from "./report";

/**
 * The scopes the tool needs: Auth0 accepts `create:users` for all three job endpoints
 * ("expected any of: create:users"; GET /jobs/{id} and its errors also take read:users).
 * The user-management client's grant (MANAGEMENT_API_SCOPES) must hold it.
 */
export const IMPORT_SCOPES = ["create:users"] as const;

/** Tests only: a loopback URL that replaces https://<tenant domain> (a stand-in of the API). */
export const LOOPBACK_URL_VARIABLE = "USERS_IMPORT_LOOPBACK_URL";

const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"];
/** Delays before retrying a 429 or 5xx (or, for reads, a dropped connection). */
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000];
const RATE_LIMIT_WAIT_MAX_MS = 60_000;
const REQUEST_TIMEOUT_MS = 60_000;
/** A token this close to expiry is renewed before the next request. */
const TOKEN_RENEW_MARGIN_MS = 60_000;

export class ImportError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * Where the requests go: https://<tenant domain>, or the override (tests only), which must be
 * a loopback URL: the client secret is never sent anywhere else.
 */
export function apiBase(domain: string, override: string | undefined): string {
  if (override === undefined || override === "") return `https://${domain}`;
  let url: URL;
  try {
    url = new URL(override);
  } catch {
    throw new ImportError(`${LOOPBACK_URL_VARIABLE}: not a URL: ${JSON.stringify(override)}`, 2);
  }
  if (!["http:", "https:"].includes(url.protocol) || !LOOPBACK_HOSTS.includes(url.hostname) || url.pathname !== "/" || url.search) {
    throw new ImportError(
      `${LOOPBACK_URL_VARIABLE}=${override}: only a loopback origin such as http://127.0.0.1:8080 is accepted (it points the tool at a test stand-in); unset it to reach https://${domain}`,
      2,
    );
  }
  return url.origin;
}

export interface Credentials {
  domain: string;
  clientId: string;
  clientSecret: string;
}

export interface ApiOptions {
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

interface Answer {
  status: number;
  body: unknown;
  text: string;
}

const parseJson = (text: string): unknown => {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** How long Auth0 asks us to wait: Retry-After (seconds), else X-RateLimit-Reset (epoch seconds). */
function rateLimitWait(headers: Headers, now: number): number | undefined {
  const retryAfter = Number(headers.get("retry-after"));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter * 1000;
  const reset = Number(headers.get("x-ratelimit-reset"));
  if (Number.isFinite(reset) && reset > 0) return reset * 1000 - now;
  return undefined;
}

/** Auth0's error bodies: Management API `{statusCode, error, message, errorCode}`, token endpoint `{error, error_description}`. */
function errorText(answer: Answer): string {
  const body = answer.body as { error?: string; message?: string; error_description?: string; errorCode?: string } | undefined;
  if (!body) return `${answer.status} ${answer.text.slice(0, 200)}`.trim();
  const detail = body.message ?? body.error_description ?? "";
  return `${answer.status} ${body.error ?? ""}${detail ? `: ${detail}` : ""}${body.errorCode ? ` (${body.errorCode})` : ""}`;
}

export class ManagementApi {
  private token?: { value: string; expiresAt: number };

  constructor(
    private readonly base: string,
    private readonly credentials: Credentials,
    private readonly options: ApiOptions,
  ) {}

  /**
   * One request, retried on 429 (after the wait Auth0 names) and 5xx; a read is also retried
   * when the connection drops. A create is not: Auth0 may have started the job.
   */
  private async send(
    method: string,
    path: string,
    init: { body?: string | FormData; headers?: Record<string, string> },
    retryable: boolean,
  ) {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(`${this.base}${path}`, { method, ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      } catch (error) {
        const reason = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
        if (retryable && attempt < RETRY_DELAYS_MS.length) {
          await this.options.sleep(RETRY_DELAYS_MS[attempt]);
          continue;
        }
        throw new ImportError(`${method} ${this.base}${path}: no answer (${reason})`);
      }
      const text = await response.text();
      const answer: Answer = { status: response.status, body: parseJson(text), text };
      const again = response.status === 429 || (response.status >= 500 && retryable);
      if (again && attempt < RETRY_DELAYS_MS.length) {
        const wait = response.status === 429 ? rateLimitWait(response.headers, this.options.now()) : undefined;
        await this.options.sleep(Math.min(Math.max(wait ?? RETRY_DELAYS_MS[attempt], RETRY_DELAYS_MS[0]), RATE_LIMIT_WAIT_MAX_MS));
        continue;
      }
      return answer;
    }
  }

  /** A Management API token for the user-management client; renewed shortly before it expires. */
  async accessToken(): Promise<string> {
    if (this.token && this.options.now() < this.token.expiresAt - TOKEN_RENEW_MARGIN_MS) return this.token.value;
    const answer = await this.send(
      "POST",
      "/oauth/token",
      {
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          grant_type: "client_credentials",
          client_id: this.credentials.clientId,
          client_secret: this.credentials.clientSecret,
          audience: managementApiAudience(this.credentials.domain),
        }),
      },
      true,
    );
    const body = answer.body as { access_token?: string; expires_in?: number; scope?: string } | undefined;
    if (answer.status !== 200 || typeof body?.access_token !== "string") {
      throw new ImportError(
        `the token endpoint of ${this.credentials.domain} refused the user-management client (POST /oauth/token: ${errorText(answer)}); check AUTH0_MANAGEMENT_CLIENT_ID and AUTH0_MANAGEMENT_CLIENT_SECRET, and that the client is granted the Management API`,
      );
    }
    if (typeof body.scope === "string") {
      const granted = body.scope.split(" ");
      const missing = IMPORT_SCOPES.filter((scope) => !granted.includes(scope));
      if (missing.length > 0)
        throw new ImportError(
          `the user-management client's token lacks ${missing.join(", ")} (it has: ${body.scope || "no scopes"}); the import job endpoints need it. Its grant is MANAGEMENT_API_SCOPES in components/identity/settings.ts, applied by pulumi up`,
        );
    }
    this.token = { value: body.access_token, expiresAt: this.options.now() + (body.expires_in ?? 3600) * 1000 };
    return body.access_token;
  }

  private async authorized(method: string, path: string, init: { body?: FormData }, retryable: boolean): Promise<Answer> {
    const answer = await this.send(method, path, { ...init, headers: { Authorization: `Bearer ${await this.accessToken()}` } }, retryable);
    if (answer.status !== 401) return answer;
    // A token revoked or expired early: one more try with a fresh one (a 401 means nothing was done).
    this.token = undefined;
    return this.send(method, path, { ...init, headers: { Authorization: `Bearer ${await this.accessToken()}` } }, retryable);
  }

  /** POST /api/v2/jobs/users-imports: starts one job; Auth0 answers 202 with the pending job. */
  async createImportJob(request: { usersFile: string; connectionId: string; upsert: boolean; externalId: string }): Promise<Job> {
    const form = new FormData();
    form.append("users", new Blob([request.usersFile], { type: "application/json" }), "users.json");
    form.append("connection_id", request.connectionId);
    form.append("upsert", String(request.upsert));
    form.append("external_id", request.externalId);
    form.append("send_completion_email", "false");
    const path = "/api/v2/jobs/users-imports";
    const answer = await this.authorized("POST", path, { body: form }, false);
    const job = answer.body as Job | undefined;
    if (answer.status !== 201 && answer.status !== 202) throw new ImportError(`POST ${path}: ${errorText(answer)}`);
    if (typeof job?.id !== "string") throw new ImportError(`POST ${path}: ${answer.status} without a job id`);
    return job;
  }

  /** GET /api/v2/jobs/{id}: the job's status (pending, processing, completed, failed) and summary. */
  async job(id: string): Promise<Job> {
    const path = `/api/v2/jobs/${encodeURIComponent(id)}`;
    const answer = await this.authorized("GET", path, {}, true);
    if (answer.status !== 200 || typeof (answer.body as Job | undefined)?.status !== "string")
      throw new ImportError(`GET ${path}: ${errorText(answer)}`);
    return answer.body as Job;
  }

  /**
   * GET /api/v2/jobs/{id}/errors: an array of {user, errors: [{code, message, path}]}, one per
   * user that failed; 204 when none did. For a job that failed as a whole Auth0 answers the
   * job itself ({status, status_details, ...}), whose details the job already carries.
   */
  async jobErrors(id: string): Promise<JobUserErrors[]> {
    const path = `/api/v2/jobs/${encodeURIComponent(id)}/errors`;
    const answer = await this.authorized("GET", path, {}, true);
    if (answer.status === 204) return [];
    if (answer.status !== 200) throw new ImportError(`GET ${path}: ${errorText(answer)}`);
    return Array.isArray(answer.body) ? (answer.body as JobUserErrors[]) : [];
  }
}
