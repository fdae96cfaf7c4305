// The Docker Engine API as the docker provider reaches it for `host: ssh://user@addr`: one
// `ssh … docker system dial-stdio` per connection, HTTP over its stdin and stdout, with the
// provider's `sshOpts` on the ssh command line (terraform-provider-docker
// internal/provider/config.go builds the same dialer through docker's connhelper).
import { spawn } from "node:child_process";
import * as http from "node:http";
import { Duplex } from "node:stream";

/** The API version the engine on the droplet (Debian's docker.io 20.10) speaks. */
export const API_VERSION = "v1.41";

export interface DockerTarget {
  /** ssh arguments up to and including the destination, e.g. ["-p", "2222", …, "deploy@127.0.0.1"]. */
  sshArgs: string[];
  env: NodeJS.ProcessEnv;
}

export interface ApiResponse {
  status: number;
  body: string;
  json<T = unknown>(): T;
}

export class DockerApi {
  constructor(private readonly target: DockerTarget) {}

  private connect(): Duplex {
    const child = spawn("ssh", [...this.target.sshArgs, "--", "docker", "system", "dial-stdio"], {
      env: this.target.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const duplex = Duplex.from({ readable: child.stdout, writable: child.stdin });
    child.on("exit", (code) => {
      if (code && code !== 0) duplex.destroy(new Error(`ssh docker system dial-stdio exited ${code}: ${stderr.trim()}`));
    });
    duplex.on("close", () => {
      if (child.exitCode === null) child.kill("SIGTERM");
    });
    return duplex;
  }

  request(
    method: string,
    path: string,
    body?: unknown,
    options: { raw?: Buffer; contentType?: string; timeoutMs?: number } = {},
  ): Promise<ApiResponse> {
    const payload = options.raw ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          method,
          path: `/${API_VERSION}${path}`,
          host: "docker",
          createConnection: () => this.connect(),
          headers: payload ? { "Content-Type": options.contentType ?? "application/json", "Content-Length": payload.length } : {},
          timeout: options.timeoutMs ?? 600_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: res.statusCode ?? 0, body: text, json: <T>() => JSON.parse(text) as T });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.on("timeout", () => req.destroy(new Error(`docker ${method} ${path} timed out`)));
      if (payload) req.end(payload);
      else req.end();
    });
  }

  /** Like request, but a status outside 2xx (and not in `accept`) is an error carrying the engine's message. */
  async call(
    method: string,
    path: string,
    body?: unknown,
    options: { raw?: Buffer; contentType?: string; accept?: number[]; timeoutMs?: number } = {},
  ): Promise<ApiResponse> {
    const r = await this.request(method, path, body, options);
    if ((r.status < 200 || r.status >= 300) && !(options.accept ?? []).includes(r.status)) {
      let message = r.body;
      try {
        message = (JSON.parse(r.body) as { message?: string }).message ?? r.body;
      } catch {
        /* plain text */
      }
      throw new Error(`docker ${method} ${path}: ${r.status} ${message.trim()}`);
    }
    return r;
  }
}

/** A one-file tar archive, as the provider builds for `uploads` (mode 0644, or 0744 when executable). */
export function tarOneFile(name: string, content: Buffer, executable: boolean): Buffer {
  const header = Buffer.alloc(512, 0);
  const path = name.replace(/^\/+/, "");
  if (Buffer.byteLength(path) > 99) throw new Error(`upload path too long for a plain tar header: ${name}`);
  header.write(path, 0, "utf8");
  header.write((executable ? 0o744 : 0o644).toString(8).padStart(7, "0") + "\0", 100, "ascii");
  header.write("0000000\0", 108, "ascii");
  header.write("0000000\0", 116, "ascii");
  header.write(content.length.toString(8).padStart(11, "0") + "\0", 124, "ascii");
  header.write(
    Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, "0") + "\0",
    136,
    "ascii",
  );
  header.write("        ", 148, "ascii");
  header.write("0", 156, "ascii");
  header.write("ustar\0", 257, "ascii");
  header.write("00", 263, "ascii");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512, 0);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024, 0)]);
}
