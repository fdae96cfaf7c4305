// The check starts the policy pack as a process of its own; stopping it must end it, not
// orphan it: a pack left behind keeps serving, and its CPU time escapes the figures of
// `npm run bench:check` and of the test runner, which count a process's waited-for children.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { startPolicyPack } from "../../tools/check/analyzer";
import { ROOT } from "../support/program";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("the policy pack process", () => {
  it("serves on the port it prints, and has exited by the time stop() resolves", async () => {
    const pack = startPolicyPack(join(ROOT, "policies"));
    const port = await pack.ready;
    assert.ok(port > 0 && port < 65536, `port ${port}`);
    assert.ok(pack.pid !== undefined && alive(pack.pid), "serving");
    await pack.stop();
    assert.equal(alive(pack.pid), false, "exited and reaped once stop() resolved");
    await pack.stop(); // a second stop is harmless
  });
});
