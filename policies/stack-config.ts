// The stack's config as the engine hands it to the analyzer. `pulumi preview` sends it in
// ConfigureStack (config values and the names of the secret keys), but @pulumi/policy
// keeps only the stack tags from that call, and resource properties arrive with secrets
// unwrapped. So a policy cannot otherwise tell whether a value was stored encrypted:
// captureStackConfig wraps the pack's ConfigureStack handler to keep both, before the
// PolicyPack starts serving.
import { createRequire } from "node:module";

export interface StackConfigView {
  /** Full keys (`dropstack:app`, `digitalocean:token`) to Pulumi's stored strings. */
  config: Record<string, string>;
  /** Full keys whose value is stored encrypted (`secure:`), wholly or in part. */
  secretKeys: string[];
}

// Empty until the engine calls ConfigureStack (older CLIs never do): policies read an unset key.
let current: StackConfigView = { config: {}, secretKeys: [] };

export function stackConfig(): StackConfigView {
  return current;
}

/** For tests that call policies directly, as the analyzer would after ConfigureStack. */
export function setStackConfig(config: Record<string, string>, secretKeys: string[]): void {
  current = { config: { ...config }, secretKeys: [...secretKeys] };
}

interface ConfigureStackRequest {
  getConfigMap(): { forEach(cb: (value: string, key: string) => void): void };
  getConfigSecretKeysList(): string[];
}
type Handler = (call: { request: ConfigureStackRequest }, callback: (...args: unknown[]) => void) => void;

/** Call before `new PolicyPack(...)`: its gRPC server then records the stack config too. */
export function captureStackConfig(): void {
  // The grpc-js instance @pulumi/policy itself loads, so the wrapped Server is the one it uses.
  const grpc = createRequire(require.resolve("@pulumi/policy"))("@grpc/grpc-js") as {
    Server: { prototype: { addService(service: unknown, impl: Record<string, Handler>): void } };
  };
  const prototype = grpc.Server.prototype;
  const addService = prototype.addService;
  prototype.addService = function (this: unknown, service: unknown, impl: Record<string, Handler>) {
    // The pack's process adds one service, the analyzer, which has configureStack; a service
    // without that method never routes a call to the wrapper.
    const configureStack = impl.configureStack;
    const wrapped: Record<string, Handler> = {
      ...impl,
      configureStack: (call, callback) => {
        const config: Record<string, string> = {};
        call.request.getConfigMap().forEach((value, key) => (config[key] = value));
        setStackConfig(config, call.request.getConfigSecretKeysList());
        configureStack(call, callback);
      },
    };
    return addService.call(this, service, wrapped);
  };
}
