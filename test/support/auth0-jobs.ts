// A stand-in of the Auth0 endpoints `npm run users:import` calls, on 127.0.0.1, with their
// documented shapes: the client-credentials grant (POST /oauth/token), the import job
// (POST /api/v2/jobs/users-imports, multipart: users file, connection_id, upsert, external_id,
// send_completion_email; 202 with {status: "pending", type: "users_import", id, connection_id,
// created_at}), the job (GET /api/v2/jobs/{id}: pending → processing → completed | failed, with
// its summary) and its errors (GET /api/v2/jobs/{id}/errors: [{user, errors: [{code, message,
// path}]}], 204 when none; the job itself for a job that failed). It keeps the connection's
// users, so a second import of the same users meets them (DUPLICATED_USER without upsert).
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const PAYLOAD_MAX_BYTES = 512_000;
const CONNECTION_ID = /^con_[A-Za-z0-9]{16}$/;
const JOB_ID = /^job_[A-Za-z0-9]{16}$/;
/** Scopes Auth0 accepts per endpoint ("Insufficient scope; expected any of: …"). */
const ENDPOINT_SCOPES = { create: ["create:users"], read: ["create:users", "read:users"] };

const alphanumeric = (n: number) =>
  [...randomBytes(n)].map((b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[b % 62]).join("");

export interface UserError {
  code: string;
  message: string;
  path?: string;
}

interface StoredJob {
  id: string;
  connection_id: string;
  external_id?: string;
  created_at: string;
  status: "pending" | "processing" | "completed" | "failed";
  status_details?: string;
  reads: number;
  upsert: boolean;
  users: Record<string, unknown>[];
  errors: { user: Record<string, unknown>; errors: UserError[] }[];
  summary?: { failed: number; updated: number; inserted: number; total: number };
  /** Set when created: the job fails as a whole with these details. */
  failWith?: string;
}

/** What an import request carried, for the tests to check. */
export interface ImportRequest {
  contentLength: number;
  usersFileBytes: number;
  fields: Record<string, string>;
  users: Record<string, unknown>[];
}

export class Auth0JobsStandIn {
  /** The database connection's users, by lower-cased email. */
  readonly connectionUsers = new Map<string, Record<string, unknown>>();
  readonly imports: ImportRequest[] = [];
  readonly requests: string[] = [];
  readonly jobs = new Map<string, StoredJob>();
  /** Users (by email) that the next jobs reject, with Auth0's error for them. */
  readonly rejects = new Map<string, UserError>();
  /** status_details of the next job created, which then fails as a whole. */
  failNextJob: string | undefined;
  /** GETs of a job before it is done (the first answers processing). */
  readsToFinish = 2;
  /** Answer the next N API requests with 429 and an X-RateLimit-Reset. */
  rateLimitNext = 0;
  /** The scopes tokens are issued with (the client's grant). */
  scope = "read:users create:users update:users read:roles create:role_members";
  private readonly tokens = new Set<string>();
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));

  constructor(
    readonly domain: string,
    readonly clientId: string,
    readonly clientSecret: string,
    readonly connectionId: string,
  ) {}

  async start(): Promise<string> {
    await new Promise<void>((done) => this.server.listen(0, "127.0.0.1", done));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((done) => this.server.close(() => done()));
  }

  /** Forgets every job and request (the connection's users stay unless `users` is set). */
  reset(users?: Record<string, unknown>[]): void {
    this.imports.length = 0;
    this.requests.length = 0;
    this.jobs.clear();
    this.rejects.clear();
    this.failNextJob = undefined;
    this.readsToFinish = 2;
    this.rateLimitNext = 0;
    this.scope = "read:users create:users update:users read:roles create:role_members";
    if (users) {
      this.connectionUsers.clear();
      for (const user of users) this.connectionUsers.set(String(user.email).toLowerCase(), user);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", "http://stand-in");
    this.requests.push(`${req.method} ${url.pathname}`);
    const send = (status: number, answer?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, answer === undefined ? headers : { "Content-Type": "application/json", ...headers });
      res.end(answer === undefined ? undefined : JSON.stringify(answer));
    };
    const apiError = (status: number, error: string, message: string, errorCode?: string) =>
      send(status, { statusCode: status, error, message, ...(errorCode ? { errorCode } : {}) });

    if (req.method === "POST" && url.pathname === "/oauth/token") return this.token(req, body, send);
    if (!url.pathname.startsWith("/api/v2/")) return apiError(404, "Not Found", "Not Found");
    if (this.rateLimitNext > 0) {
      this.rateLimitNext--;
      return send(
        429,
        { statusCode: 429, error: "Too Many Requests", message: "Global limit has been reached" },
        { "X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": String(Math.ceil(Date.now() / 1000) + 1) },
      );
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!token || !this.tokens.has(token)) return apiError(401, "Unauthorized", "Invalid token");
    const granted = this.scope.split(" ");
    /** False, having answered 403, when the token holds none of the endpoint's scopes. */
    const allowed = (scopes: string[]) => {
      if (scopes.some((s) => granted.includes(s))) return true;
      apiError(403, "Forbidden", `Insufficient scope, expected any of: ${scopes.join(",")}`, "insufficient_scope");
      return false;
    };

    if (req.method === "POST" && url.pathname === "/api/v2/jobs/users-imports")
      return allowed(ENDPOINT_SCOPES.create) ? this.createJob(req, body, send, apiError) : undefined;
    const match = /^\/api\/v2\/jobs\/([^/]+)(\/errors)?$/.exec(url.pathname);
    if (req.method === "GET" && match) {
      if (!allowed(ENDPOINT_SCOPES.read)) return;
      if (!JOB_ID.test(match[1]))
        return apiError(400, "Bad Request", `Path validation error: 'String does not match pattern ^job_[A-Za-z0-9]{16}$' on property id`);
      const job = this.jobs.get(match[1]);
      if (!job) return apiError(404, "Not Found", "The job does not exist");
      return match[2] ? this.jobErrors(job, send) : send(200, this.readJob(job));
    }
    return apiError(404, "Not Found", "Not Found");
  }

  private token(req: IncomingMessage, body: Buffer, send: (status: number, answer?: unknown) => void): void {
    let grant: Record<string, string>;
    try {
      grant = (req.headers["content-type"] ?? "").startsWith("application/json")
        ? JSON.parse(body.toString("utf8"))
        : Object.fromEntries(new URLSearchParams(body.toString("utf8")));
    } catch {
      return send(400, { error: "invalid_request", error_description: "Invalid request body" });
    }
    if (grant.grant_type !== "client_credentials")
      return send(403, { error: "unauthorized_client", error_description: "Grant type not allowed for the client." });
    if (grant.client_id !== this.clientId || grant.client_secret !== this.clientSecret)
      return send(401, { error: "access_denied", error_description: "Unauthorized" });
    if (grant.audience !== `https://${this.domain}/api/v2/`)
      return send(403, { error: "access_denied", error_description: `Service not found: ${grant.audience}` });
    const accessToken = alphanumeric(40);
    this.tokens.add(accessToken);
    send(200, { access_token: accessToken, token_type: "Bearer", expires_in: 86400, scope: this.scope });
  }

  private async createJob(
    req: IncomingMessage,
    body: Buffer,
    send: (status: number, answer?: unknown) => void,
    apiError: (status: number, error: string, message: string, errorCode?: string) => void,
  ): Promise<void> {
    if (body.length > PAYLOAD_MAX_BYTES)
      return apiError(413, "Request Entity Too Large", `Payload content length greater than maximum allowed: ${PAYLOAD_MAX_BYTES}`);
    const contentType = req.headers["content-type"] ?? "";
    if (!contentType.startsWith("multipart/form-data"))
      return apiError(400, "Bad Request", "Payload validation error: 'Invalid multipart payload format'.");
    const form = await new Response(body, { headers: { "content-type": contentType } }).formData();
    const file = form.get("users");
    if (!(file instanceof Blob)) return apiError(400, "Bad Request", "Must provide 'users' file as multipart part.");
    const text = await file.text();
    if (text.trim() === "") return apiError(400, "Bad Request", "Users file must not be empty.");
    const connectionId = form.get("connection_id");
    if (typeof connectionId !== "string") return apiError(400, "Bad Request", "Must provide 'connection_id' as multipart part.");
    if (!CONNECTION_ID.test(connectionId))
      return apiError(
        400,
        "Bad Request",
        "Payload validation error: 'String does not match pattern ^con_[A-Za-z0-9]{16}$' on property connection_id.",
        "invalid_body",
      );
    if (connectionId !== this.connectionId) return apiError(400, "Bad Request", "The connection does not exist.", "inexistent_connection");
    const fields: Record<string, string> = {};
    for (const [name, value] of form.entries()) if (typeof value === "string") fields[name] = value;
    for (const flag of ["upsert", "send_completion_email"])
      if (flag in fields && !["true", "false"].includes(fields[flag]))
        return apiError(400, "Bad Request", `Payload validation error: 'Expected type boolean but found type string' on property ${flag}.`);
    let users: Record<string, unknown>[];
    try {
      users = JSON.parse(text);
      if (!Array.isArray(users)) throw new Error("not an array");
    } catch {
      return apiError(400, "Bad Request", "Users file must be a JSON array.");
    }
    this.imports.push({ contentLength: body.length, usersFileBytes: file.size, fields, users });
    const job: StoredJob = {
      id: `job_${alphanumeric(16)}`,
      connection_id: connectionId,
      ...(fields.external_id ? { external_id: fields.external_id } : {}),
      created_at: new Date().toISOString(),
      status: "pending",
      reads: 0,
      upsert: fields.upsert === "true",
      users,
      errors: [],
      ...(this.failNextJob ? { failWith: this.failNextJob } : {}),
    };
    this.failNextJob = undefined;
    this.jobs.set(job.id, job);
    send(202, jobFields(job));
  }

  /** Each read moves the job on: processing, then done after `readsToFinish` reads. */
  private readJob(job: StoredJob): Record<string, unknown> {
    job.reads++;
    if (job.status === "pending" || job.status === "processing") {
      if (job.reads >= this.readsToFinish) this.finish(job);
      else job.status = "processing";
    }
    const done = job.status === "completed" || job.status === "failed";
    return {
      ...jobFields(job),
      ...(done ? {} : { percentage_done: Math.min(99, Math.round((100 * job.reads) / this.readsToFinish)), time_left_seconds: 1 }),
      ...(job.status_details ? { status_details: job.status_details } : {}),
      ...(job.summary ? { summary: job.summary } : {}),
    };
  }

  private finish(job: StoredJob): void {
    if (job.failWith) {
      job.status = "failed";
      job.status_details = job.failWith;
      return;
    }
    const summary = { failed: 0, updated: 0, inserted: 0, total: job.users.length };
    for (const user of job.users) {
      const email = String(user.email).toLowerCase();
      const rejected = this.rejects.get(email);
      const existing = this.connectionUsers.get(email);
      if (rejected) {
        job.errors.push({ user, errors: [rejected] });
        summary.failed++;
      } else if (existing && !job.upsert) {
        job.errors.push({ user, errors: [{ code: "DUPLICATED_USER", message: "The user already exist.", path: "email" }] });
        summary.failed++;
      } else {
        this.connectionUsers.set(email, { ...existing, ...user });
        if (existing) summary.updated++;
        else summary.inserted++;
      }
    }
    job.summary = summary;
    job.status = "completed";
  }

  private jobErrors(job: StoredJob, send: (status: number, answer?: unknown) => void): void {
    if (job.status === "failed")
      return send(200, {
        status: "failed",
        type: "users_import",
        id: job.id,
        connection_id: job.connection_id,
        status_details: job.status_details,
      });
    if (job.errors.length === 0) return send(204);
    send(200, job.errors);
  }
}

/** What every answer about a job says of it (POST /api/v2/jobs/users-imports and GET /api/v2/jobs/{id}). */
function jobFields(job: StoredJob): Record<string, unknown> {
  return {
    status: job.status,
    type: "users_import",
    created_at: job.created_at,
    id: job.id,
    connection_id: job.connection_id,
    ...(job.external_id ? { external_id: job.external_id } : {}),
  };
}
