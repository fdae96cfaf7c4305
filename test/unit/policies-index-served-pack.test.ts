// run-tests: own process (the pack's gRPC server and the stack config it records are process-wide)
// The policy pack as the Pulumi CLI meets it: policies/index.ts is loaded in this process, its
// gRPC analyzer is asked what it serves (name, policies, config schemas), and the engine's
// ConfigureStack call is replayed with config values and secret keys, which the policies then
// read through stackConfig(). Before that call the policies see no config at all.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import { policies } from "../../policies/all";
import { stackConfig } from "../../policies/stack-config";

// The grpc-js and protocol modules @pulumi/policy itself loads: the server is built from them.
const policyRequire = createRequire(require.resolve("@pulumi/policy"));

interface GrpcServer {
  bindAsync(address: string, credentials: unknown, callback: (error: Error | null, port: number) => void): void;
  forceShutdown(): void;
}
type Unary<Request, Response> = (request: Request, callback: (error: Error | null, response: Response) => void) => void;
interface ProtoMap {
  set(key: string, value: string): void;
}
interface ConfigureRequest {
  getConfigMap(): ProtoMap;
  getTagsMap(): ProtoMap;
  setConfigSecretKeysList(keys: string[]): void;
  setStack(stack: string): void;
}
interface PolicyInfo {
  getName(): string;
  getConfigschema(): { getProperties(): { toJavaScript(): unknown } | undefined } | undefined;
}
interface AnalyzerInfo {
  getName(): string;
  getPoliciesList(): PolicyInfo[];
}
interface AnalyzerClient {
  getAnalyzerInfo: Unary<unknown, AnalyzerInfo>;
  configureStack: Unary<ConfigureRequest, unknown>;
  close(): void;
}

const grpc = policyRequire("@grpc/grpc-js") as {
  Server: { prototype: GrpcServer };
  credentials: { createInsecure(): unknown };
};
const analyzerRpc = policyRequire("@pulumi/pulumi/proto/analyzer_grpc_pb") as {
  AnalyzerClient: new (address: string, credentials: unknown) => AnalyzerClient;
};
const analyzerProto = policyRequire("@pulumi/pulumi/proto/analyzer_pb") as {
  AnalyzerStackConfigureRequest: new () => ConfigureRequest;
};
const { Empty } = policyRequire("google-protobuf/google/protobuf/empty_pb") as { Empty: new () => unknown };

function call<Request, Response>(method: Unary<Request, Response>, client: AnalyzerClient, request: Request): Promise<Response> {
  return new Promise((resolve, reject) => method.call(client, request, (error, response) => (error ? reject(error) : resolve(response))));
}

let server: GrpcServer | undefined;
let client: AnalyzerClient;

describe("the served policy pack", () => {
  before(async () => {
    // The pack prints its port for the CLI; the test takes it (and the server, to stop it) at bind.
    const bound = new Promise<{ server: GrpcServer; port: number }>((resolve) => {
      const bindAsync = grpc.Server.prototype.bindAsync;
      grpc.Server.prototype.bindAsync = function (this: GrpcServer, address, credentials, callback) {
        grpc.Server.prototype.bindAsync = bindAsync;
        bindAsync.call(this, address, credentials, (error, port) => {
          callback(error, port);
          resolve({ server: this, port });
        });
      };
    });
    const log = console.log;
    console.log = () => undefined;
    try {
      // Loading the pack starts its analyzer, as `pulumi preview --policy-pack` does.
      createRequire(__filename)("../../policies/index");
      const served = await bound;
      server = served.server;
      client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${served.port}`, grpc.credentials.createInsecure());
    } finally {
      console.log = log;
    }
  });

  after(() => {
    client?.close();
    server?.forceShutdown();
  });

  it("gives the policies no stack config before the engine sends it (older CLIs never do)", () => {
    assert.deepEqual(stackConfig(), { config: {}, secretKeys: [] });
  });

  it("is served as the dropstack pack with every policy of policies/all.ts", async () => {
    const info = await call(client.getAnalyzerInfo, client, new Empty());
    assert.equal(info.getName(), "dropstack");
    assert.deepEqual(
      info.getPoliciesList().map((policy) => policy.getName()),
      policies.map((policy) => policy.name),
    );
  });

  it("tells the CLI that budget-monthly.monthlyUsd is a number of at least 0, so a mistyped budget is refused", async () => {
    const info = await call(client.getAnalyzerInfo, client, new Empty());
    const budget = info.getPoliciesList().find((policy) => policy.getName() === "budget-monthly");
    assert.deepEqual(budget?.getConfigschema()?.getProperties()?.toJavaScript(), { monthlyUsd: { type: "number", minimum: 0 } });
  });

  it("records the config values and secret key names of the engine's ConfigureStack for the policies", async () => {
    const request = new analyzerProto.AnalyzerStackConfigureRequest();
    request.setStack("production");
    request.getTagsMap().set("pulumi:project", "dropstack");
    const config = {
      "dropstack:backups": '{"keep":3}',
      "dropstack:app": '{"image":"registry.example.com/app:1"}',
      "digitalocean:token": "dop_v1_0123",
    };
    for (const [key, value] of Object.entries(config)) request.getConfigMap().set(key, value);
    request.setConfigSecretKeysList(["digitalocean:token"]);
    await call(client.configureStack, client, request);
    assert.deepEqual(stackConfig(), { config, secretKeys: ["digitalocean:token"] });
  });
});
