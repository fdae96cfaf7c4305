// What the check's harness does not record, for tests that evaluate the program in this
// process: how many times each type and name is registered (the engine refuses a URN
// registered twice) and what each component registers as its outputs.
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { unwrapSecrets } from "../../tools/check/harness";
import { mocks } from "../../tools/check/mocks";

export interface RegistrationWatch {
  /** `type::name` to the number of registrations. */
  registered: Map<string, number>;
  /** Component URN to its registered outputs, secrets unwrapped. */
  componentOutputs: Map<string, unknown>;
}

/** Starts recording; call before runStack(…, inThisProcess: true). */
export function watchRegistrations(): RegistrationWatch {
  const watch: RegistrationWatch = { registered: new Map(), componentOutputs: new Map() };
  const newResource = mocks.newResource.bind(mocks);
  mocks.newResource = (args) => {
    const key = `${args.type}::${args.name}`;
    watch.registered.set(key, (watch.registered.get(key) ?? 0) + 1);
    return newResource(args);
  };
  type OutputsRequest = { getUrn(): string; getOutputs(): { toJavaScript(): unknown } | undefined };
  const registerOutputs = MockMonitor.prototype.registerResourceOutputs;
  MockMonitor.prototype.registerResourceOutputs = function (
    this: MockMonitor,
    req: OutputsRequest,
    callback: (err: unknown, response: unknown) => void,
  ) {
    watch.componentOutputs.set(req.getUrn(), unwrapSecrets(req.getOutputs()?.toJavaScript()));
    return registerOutputs.call(this, req, callback);
  } as typeof registerOutputs;
  return watch;
}
