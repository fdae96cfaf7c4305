// A local stand-in for the parts of an Auth0 tenant the post-login Action calls: the token
// endpoint (client-credentials grant) and the Management API's role lookup and role
// assignment, on 127.0.0.1 with a port the kernel picks. It answers with Auth0's documented
// shapes and status codes, checks what Auth0 checks (the client's credentials and audience,
// the bearer token), and records every request as it arrived.
//
//   POST /oauth/token                 {grant_type, client_id, client_secret, audience} → 200 {access_token, scope, expires_in, token_type}
//   GET  /api/v2/roles?name_filter=x  → 200 [{id, name, description}], the roles whose name contains x, any case
//   POST /api/v2/users/{id}/roles     {roles: [role id]} → 204
import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StandInRequest {
  method: string;
  /** Path and query, as sent (still percent-encoded). */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined without one. */
  body: unknown;
}

export interface StandInRole {
  id: string;
  name: string;
  description?: string;
}

/** Which endpoint a request is for. */
export type StandInStep = "token" | "roles" | "assign";

/** Instead of answering: an error status with Auth0's error body, or no answer at all. */
export type StandInFailure = number | "hang";

export interface StandInOptions {
  clientId: string;
  clientSecret: string;
  roles: StandInRole[];
  /** The access token the token endpoint issues. */
  accessToken?: string;
  /** `expires_in` of issued tokens, seconds (Auth0's default for the Management API is a day). */
  expiresIn?: number;
}

export class Auth0StandIn {
  readonly requests: StandInRequest[] = [];
  /** Role IDs assigned per user ID (decoded), in order. */
  readonly assignments = new Map<string, string[]>();
  /** Steps that fail instead of answering; set by a test, cleared by `reset`. */
  readonly failing = new Map<StandInStep, StandInFailure>();
  readonly accessToken: string;

  private constructor(
    private readonly server: Server,
    private readonly options: StandInOptions,
  ) {
    this.accessToken = options.accessToken ?? "stand-in-management-token";
  }

  static async start(options: StandInOptions): Promise<Auth0StandIn> {
    const server = createServer();
    const standIn = new Auth0StandIn(server, options);
    server.on("request", (request: IncomingMessage, response: ServerResponse) => void standIn.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return standIn;
  }

  /** `127.0.0.1:<port>`: what the Action's AUTH0_DOMAIN secret names. */
  get domain(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The Management API audience of this "tenant", as Auth0 builds it from the domain. */
  get audience(): string {
    return `https://${this.domain}/api/v2/`;
  }

  reset(): void {
    this.requests.length = 0;
    this.assignments.clear();
    this.failing.clear();
  }

  async close(): Promise<void> {
    // Hanging requests hold their sockets open.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    const recorded: StandInRequest = {
      method: request.method ?? "",
      path: request.url ?? "",
      headers: request.headers,
      body: raw === "" ? undefined : parseJson(raw),
    };
    this.requests.push(recorded);
    const url = new URL(recorded.path, "http://stand-in");
    const assign = /^\/api\/v2\/users\/([^/]+)\/roles$/.exec(url.pathname);
    const step: StandInStep | undefined =
      recorded.method === "POST" && url.pathname === "/oauth/token"
        ? "token"
        : recorded.method === "GET" && url.pathname === "/api/v2/roles"
          ? "roles"
          : recorded.method === "POST" && assign
            ? "assign"
            : undefined;
    if (step === undefined) return send(response, 404, { statusCode: 404, error: "Not Found", message: "Not Found" });

    const failure = this.failing.get(step);
    if (failure === "hang") return;
    if (failure !== undefined) return send(response, failure, errorBody(failure));

    if (step === "token") return this.token(recorded, response);
    if (recorded.headers.authorization !== `Bearer ${this.accessToken}`)
      return send(response, 401, { statusCode: 401, error: "Unauthorized", message: "Invalid token" });
    if (step === "roles") {
      const filter = (url.searchParams.get("name_filter") ?? "").toLowerCase();
      return send(
        response,
        200,
        this.options.roles.filter((role) => role.name.toLowerCase().includes(filter)),
      );
    }
    return this.assign(decodeURIComponent(assign![1]), recorded, response);
  }

  private token(request: StandInRequest, response: ServerResponse): void {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (!String(request.headers["content-type"] ?? "").startsWith("application/json") || body.grant_type !== "client_credentials")
      return send(response, 400, { error: "invalid_request", error_description: "unsupported grant or body" });
    if (body.client_id !== this.options.clientId || body.client_secret !== this.options.clientSecret)
      return send(response, 401, { error: "access_denied", error_description: "Unauthorized" });
    if (body.audience !== this.audience)
      return send(response, 403, {
        error: "access_denied",
        error_description: `Service not enabled within domain: ${String(body.audience)}`,
      });
    send(response, 200, {
      access_token: this.accessToken,
      scope: "read:roles create:role_members",
      expires_in: this.options.expiresIn ?? 86400,
      token_type: "Bearer",
    });
  }

  private assign(userId: string, request: StandInRequest, response: ServerResponse): void {
    const roles = (request.body as { roles?: unknown } | undefined)?.roles;
    if (!String(request.headers["content-type"] ?? "").startsWith("application/json") || !Array.isArray(roles) || roles.length === 0)
      return send(response, 400, { statusCode: 400, error: "Bad Request", message: "Invalid request body", errorCode: "invalid_body" });
    const unknown = roles.filter((id) => !this.options.roles.some((role) => role.id === id));
    if (unknown.length > 0) return send(response, 404, { statusCode: 404, error: "Not Found", message: "Role not found" });
    // Assigning a role the user already holds is accepted and changes nothing.
    const held = this.assignments.get(userId) ?? [];
    this.assignments.set(userId, [...held, ...(roles as string[]).filter((id) => !held.includes(id))]);
    response.writeHead(204).end();
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** Auth0's Management API error body for a status. */
function errorBody(status: number): Record<string, unknown> {
  const errors: Record<number, string> = { 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable" };
  return { statusCode: status, error: errors[status] ?? "Error", message: errors[status] ?? "Error" };
}
