// A real S3-compatible server on loopback for tests of the off-site copies: s3rver, storing in
// a temp dir. Buckets are addressed virtual-host style as Spaces does (<bucket>.s3.<domain>),
// which rclone's DigitalOcean provider insists on; the test points rclone's HTTP proxy at this
// server, since no such name resolves here (test/system/fake-docker.ts, withRealRclone).
import S3rver from "s3rver";
import { freePort } from "../../tools/lib/system";

/** The domain the endpoint names; nothing resolves it, the proxy carries every request. */
const SERVICE_DOMAIN = "dropstack.test";

export interface S3Server {
  port: number;
  /** What the hooks get as the off-site endpoint. */
  endpoint: string;
  /** Puts an object directly (path style, unsigned: s3rver accepts that), to seed a bucket. */
  put(bucket: string, key: string, body: string | Buffer): Promise<void>;
  /** Every key under `prefix`, sorted. */
  list(bucket: string, prefix: string): Promise<string[]>;
  get(bucket: string, key: string): Promise<Buffer>;
  stop(): Promise<void>;
}

export async function startS3(directory: string, buckets: string[]): Promise<S3Server> {
  const port = await freePort();
  const server = new S3rver({
    port,
    address: "127.0.0.1",
    silent: true,
    serviceEndpoint: SERVICE_DOMAIN,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  await server.run();
  const base = `http://127.0.0.1:${port}`;
  const path = (bucket: string, key: string) => `${base}/${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
  return {
    port,
    endpoint: `http://s3.${SERVICE_DOMAIN}:${port}`,
    async put(bucket, key, body) {
      const response = await fetch(path(bucket, key), { method: "PUT", body });
      if (!response.ok) throw new Error(`PUT ${key}: HTTP ${response.status}`);
    },
    async list(bucket, prefix) {
      const keys: string[] = [];
      let token = "";
      for (;;) {
        const query = new URLSearchParams({ "list-type": "2", prefix, ...(token ? { "continuation-token": token } : {}) });
        const xml = await (await fetch(`${base}/${bucket}?${query}`)).text();
        keys.push(...[...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]));
        token = /<NextContinuationToken>([^<]*)</.exec(xml)?.[1] ?? "";
        if (!token) break;
      }
      return keys.sort();
    },
    async get(bucket, key) {
      const response = await fetch(path(bucket, key));
      if (!response.ok) throw new Error(`GET ${key}: HTTP ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    },
    stop: () => server.close(),
  };
}
