// Results that are the same for every test file of one `npm test` run, made once per run.
// The suite is CPU-bound, and a dozen files ask for the check of a committed stack or for
// the program's registrations under it (each about 3 s of CPU). tools/run-tests.mjs gives
// each run a temp folder of its own and names it in DROPSTACK_TEST_RUN; a result kept there
// never outlives the sources it was made from. The first file to ask makes the result while
// holding a lock (a folder: creating one is atomic); files asking meanwhile wait for it
// rather than make it again. A lock whose holder died is taken over. Without
// DROPSTACK_TEST_RUN (a file run on its own) every result is made where it is asked for.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { setTimeout as delay } from "node:timers/promises";

const POLL_MS = 100;

interface Slot {
  file: string;
  lock: string;
}

/** The key covers the environment too: some tests change it. */
function slotFor(kind: string, parts: unknown): Slot | undefined {
  const runDir = process.env.DROPSTACK_TEST_RUN;
  if (!runDir) return undefined;
  const key = createHash("sha256")
    // undefined (an override that removes a key) must not read like an absent key.
    .update(
      JSON.stringify([parts, Object.entries(process.env).sort()], (_key, value: unknown) =>
        value === undefined ? { undefined: true } : value,
      ),
    )
    .digest("hex");
  const file = path.join(runDir, `${kind}-${key}.json`);
  return { file, lock: `${file}.lock` };
}

type Attempt<T> = { done: true; value: T } | { done: false; wait: boolean };

/** One look at the slot: its result, the lock taken by this process, or someone else's lock. */
function attempt<T>(slot: Slot): Attempt<T> | "locked-by-us" {
  if (existsSync(slot.file)) return { done: true, value: JSON.parse(readFileSync(slot.file, "utf8")) as T };
  try {
    mkdirSync(slot.lock);
  } catch {
    if (lockHolderAlive(slot.lock)) return { done: false, wait: true };
    rmSync(slot.lock, { recursive: true, force: true });
    return { done: false, wait: false };
  }
  writeFileSync(path.join(slot.lock, "pid"), String(process.pid));
  return "locked-by-us";
}

function lockHolderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(lock, "pid"), "utf8"));
  } catch {
    // Taken a moment ago and its pid not yet written, unless the holder died in between.
    try {
      return Date.now() - statSync(lock).mtimeMs < 30_000;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Saves the value and hands back what a reader would parse, so that the file that made a
 * result and the files that read it see the same thing (JSON has no undefined, no Map).
 */
function save<T>(slot: Slot, value: T): T {
  const text = JSON.stringify(value);
  // Written whole under a name of its own, then renamed: a reader sees all of it or nothing.
  writeFileSync(`${slot.file}.${process.pid}`, text);
  renameSync(`${slot.file}.${process.pid}`, slot.file);
  return JSON.parse(text) as T;
}

/** Makes the result while holding the slot's lock, saves it, and lets the lock go whatever happens. */
function makeHoldingLock<T>(slot: Slot, make: () => T): T {
  const release = () => rmSync(slot.lock, { recursive: true, force: true });
  let made: T;
  try {
    made = make();
  } catch (e) {
    release();
    throw e;
  }
  const settle = (value: unknown) => {
    try {
      return save(slot, value);
    } finally {
      release();
    }
  };
  if (made instanceof Promise) {
    return made.then(settle, (e: unknown) => {
      release();
      throw e;
    }) as T;
  }
  return settle(made) as T;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * One look at the slot: its result, made here when the lock was free (a promise, for an
 * asynchronous `make`), or undefined while another file makes it.
 */
function lookUp<T>(slot: Slot, make: () => T): { value: T } | undefined {
  for (;;) {
    const step = attempt<T>(slot);
    if (step === "locked-by-us") return { value: makeHoldingLock(slot, make) };
    if (step.done) return { value: step.value };
    // A dead holder's lock was just removed: look again at once.
    if (step.wait) return undefined;
  }
}

/** `make()`'s result, made once per run for every file that asks with the same kind and parts. */
export function sharedInRun<T>(kind: string, parts: unknown, make: () => T): T {
  const slot = slotFor(kind, parts);
  if (!slot) return make();
  let found: { value: T } | undefined;
  while (!(found = lookUp(slot, make))) sleepSync(POLL_MS);
  return found.value;
}

/** sharedInRun for a result made asynchronously; waiting for another file does not block. */
export async function sharedInRunAsync<T>(kind: string, parts: unknown, make: () => Promise<T>): Promise<T> {
  const slot = slotFor(kind, parts);
  if (!slot) return make();
  let found: { value: Promise<T> } | undefined;
  while (!(found = lookUp(slot, make))) await delay(POLL_MS);
  return found.value;
}
