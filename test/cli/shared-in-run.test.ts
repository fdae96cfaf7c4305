// test/support/shared-in-run.ts, which the suite's speed rests on: a result asked for by
// several test files at once is made once and read by all; a lock left by a file that died
// is taken over; outside a test run every ask makes its own.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { ROOT, TS_NODE } from "../support/program";

const work = mkdtempSync(join(tmpdir(), "dropstack-shared-in-run-"));
after(() => rmSync(work, { recursive: true, force: true }));

// Asks for one result; making it takes a while and is counted.
const ASKER = join(work, "asker.ts");
writeFileSync(
  ASKER,
  `import { appendFileSync } from "node:fs";
import { sharedInRunAsync } from ${JSON.stringify(join(ROOT, "test/support/shared-in-run"))};
sharedInRunAsync("probe", ["same"], async () => {
  appendFileSync(process.env.MADE_LOG as string, process.pid + "\\n");
  await new Promise((resolve) => setTimeout(resolve, process.env.HANG ? 600_000 : 700));
  return { madeBy: process.pid, nothing: undefined };
}).then((value) => process.stdout.write(JSON.stringify(value)));
`,
);

function ask(env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE, ASKER], { cwd: ROOT, env: { ...env }, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.on("error", reject);
    child.on("close", (status) => (status === 0 ? resolve(out) : reject(new Error(`asker exited ${status}`))));
  });
}

describe("results shared within a test run", () => {
  it("four files asking at once: made once, and all four read the same value", { timeout: 60_000 }, async () => {
    const runDir = mkdtempSync(join(work, "run-"));
    const made = join(work, "made-once");
    const answers = await Promise.all([1, 2, 3, 4].map(() => ask({ ...process.env, DROPSTACK_TEST_RUN: runDir, MADE_LOG: made })));
    assert.equal(readFileSync(made, "utf8").trim().split("\n").length, 1, "made by one file");
    assert.equal(new Set(answers).size, 1, answers.join(" "));
    // The maker reads what the others read: JSON, without the undefined.
    assert.deepEqual(Object.keys(JSON.parse(answers[0])), ["madeBy"]);
  });

  it("outside a test run, every ask makes its own", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, MADE_LOG: join(work, "made-each") };
    delete env.DROPSTACK_TEST_RUN;
    await Promise.all([ask(env), ask(env)]);
    assert.equal(readFileSync(join(work, "made-each"), "utf8").trim().split("\n").length, 2);
  });

  it("takes over the lock of a file that died while making the result, and makes it", { timeout: 60_000 }, async () => {
    const runDir = mkdtempSync(join(work, "run-"));
    const made = join(work, "made-after-death");
    const env = { ...process.env, DROPSTACK_TEST_RUN: runDir, MADE_LOG: made };
    const dying = spawn(process.execPath, [...TS_NODE, ASKER], { cwd: ROOT, env: { ...env, HANG: "1" }, stdio: "ignore" });
    const exited = new Promise((resolve) => dying.on("exit", resolve));
    // Killed once it holds the lock: it logs as it starts making the result.
    for (const deadline = Date.now() + 30_000; !existsSync(made) && Date.now() < deadline;) await delay(50);
    dying.kill("SIGKILL");
    await exited;
    const answer = JSON.parse(await ask(env)) as { madeBy: number };
    assert.notEqual(answer.madeBy, dying.pid);
    assert.equal(readFileSync(made, "utf8").trim().split("\n").length, 2, "made again, by the file that asked next");
  });
});
