// tools/fast-start.cjs, the preload of `npm run check` and its policy pack: TypeScript
// compiled once per content, and @pulumi/pulumi without its eager function-serializer
// dependencies, with nothing lost when something does use them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ROOT } from "../support/program";

const PRELOAD = join(ROOT, "tools", "fast-start.cjs");
const work = mkdtempSync(join(tmpdir(), "dropstack-fast-start-"));
const cache = join(work, "cache");
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs `script` (CommonJS) in a fresh Node with the preload; returns what it printed as JSON. */
function withPreload(script: string): Record<string, unknown> {
  const result = spawnSync(process.execPath, ["--require", PRELOAD, "-e", script], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, DROPSTACK_TS_CACHE: cache },
  });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").at(-1) as string) as Record<string, unknown>;
}

const report = `const { startup } = require(${JSON.stringify(PRELOAD)});`;

describe("TypeScript through the preload", () => {
  const file = join(work, "module.ts");
  const load = () =>
    withPreload(
      `${report} const m = require(${JSON.stringify(file)}); console.log(JSON.stringify({ value: m.value(), compiled: startup.compiled, cached: startup.cached }));`,
    );

  it("compiles a file once, then reuses it until its content changes", () => {
    for (const [round, version] of ["one", "two", "three"].entries()) {
      writeFileSync(
        file,
        `interface Box { v: string }\nconst box: Box = { v: "${version}" };\nexport const value = (): string => box.v;\n`,
      );
      assert.deepEqual(load(), { value: version, compiled: 1, cached: 0 }, `round ${round}: a new content is compiled`);
      assert.deepEqual(load(), { value: version, compiled: 0, cached: 1 }, `round ${round}: the same content comes from the cache`);
    }
    assert.equal(readdirSync(cache).filter((f) => f.endsWith(".tmp")).length, 0, "no temporary files are left behind");
  });

  it("resolves extensionless imports of .ts files and folders with index.ts, as the program uses them", () => {
    const out = withPreload(
      `const c = require(${JSON.stringify(join(ROOT, "components", "config"))}); console.log(JSON.stringify({ loader: typeof c.loadStackConfig }));`,
    );
    assert.deepEqual(out, { loader: "function" });
  });
});

describe("@pulumi/pulumi through the preload", () => {
  // The packages the preload keeps out until used: the function serializer's and the Automation API's.
  const deferredPattern = `node_modules\\/(typescript|@npmcli\\/arborist|normalize-package-data|execa|js-yaml|@pulumi\\/pulumi\\/automation)\\/`;
  const loaded = `Object.keys(require.cache).map((f) => new RegExp(${JSON.stringify(deferredPattern)}).exec(f)?.[1]).filter(Boolean)`;

  it("loads without typescript, @npmcli/arborist, normalize-package-data and the Automation API", () => {
    const out = withPreload(`require("@pulumi/pulumi"); console.log(JSON.stringify({ loaded: [...new Set(${loaded})] }));`);
    assert.deepEqual(out, { loaded: [] });
  });

  it("still serializes functions, loading typescript the moment it is needed", async () => {
    const out = withPreload(
      `const pulumi = require("@pulumi/pulumi"); const answer = 42;` +
        `pulumi.runtime.serializeFunction(() => answer).then((s) => console.log(JSON.stringify({ text: s.text, loaded: [...new Set(${loaded})] })));`,
    );
    assert.match(out.text as string, /answer: 42/);
    assert.match(out.text as string, /return \(\) => answer/);
    assert.deepEqual(out.loaded, ["typescript"]);
  });

  it("hands @pulumi/pulumi's code-path finder the real @npmcli/arborist when it asks", () => {
    const out = withPreload(
      `const Module = require("node:module"); require("@pulumi/pulumi");` +
        `const parent = require.cache[require.resolve("@pulumi/pulumi/runtime/closure/codePaths.js")];` +
        `const standIn = Module._load("@npmcli/arborist", parent, false);` +
        `const before = [...new Set(${loaded})];` +
        `const real = Module.createRequire(parent.filename)("@npmcli/arborist");` +
        `console.log(JSON.stringify({ before, esModule: standIn.__esModule, same: standIn.Arborist === real.Arborist && typeof real.Arborist === "function" }));`,
    );
    assert.deepEqual(out, { before: [], esModule: true, same: true });
  });

  it("hands the Automation API and normalize-package-data over whole when a program asks", () => {
    const out = withPreload(
      `const Module = require("node:module"); const pulumi = require("@pulumi/pulumi");` +
        `const workspace = typeof pulumi.automation.LocalWorkspace.create; const afterAutomation = [...new Set(${loaded})];` +
        `const parent = require.cache[require.resolve("@pulumi/pulumi/runtime/closure/codePaths.js")];` +
        `const standIn = Module._load("normalize-package-data", parent, false);` +
        `const real = require(Module.createRequire(parent.filename).resolve("normalize-package-data"));` +
        `const data = { name: "x", version: "1.0.0" }; standIn.default(data);` +
        `console.log(JSON.stringify({ workspace, afterAutomation: afterAutomation.includes("@pulumi/pulumi/automation"), same: standIn.default === real, normalized: data._id }));`,
    );
    assert.deepEqual(out, { workspace: "function", afterAutomation: true, same: true, normalized: "x@1.0.0" });
  });
});

describe("stack traces through the preload", () => {
  // Type-only lines vanish in the JavaScript, so an unmapped position would name line 3, not 7.
  const file = join(work, "thrower.ts");
  writeFileSync(
    file,
    `interface A { a: string }\ninterface B { b: number }\ntype C = A & B;\nexport function fail(c?: C): never {\n  void c;\n  // line 6\n  throw new Error("from TypeScript");\n}\n`,
  );
  const thrown = `(() => { try { require(${JSON.stringify(file)}).fail(); } catch (e) { return /thrower\\.ts:(\\d+):/.exec(e.stack)?.[1]; } })()`;

  it("point at the TypeScript line of a throw, before and after @pulumi/pulumi records a resource's call sites", () => {
    const out = withPreload(
      `const before = ${thrown}; const { Resource } = require("@pulumi/pulumi");` +
        `const sites = Resource.callsites(); const after = ${thrown};` +
        `console.log(JSON.stringify({ before, after, sites: sites.filter((s) => s.file).length > 0 }));`,
    );
    assert.deepEqual(out, { before: "7", after: "7", sites: true });
  });

  it("record a resource's innermost call sites, however deep the program's stack, and leave Node's frame limit as it was", () => {
    const out = withPreload(
      `const { Resource } = require("@pulumi/pulumi"); const limit = Error.stackTraceLimit;` +
        `const deep = (n) => (n === 0 ? Resource.callsites() : deep(n - 1));` +
        `const sites = deep(200); const here = sites.find((s) => s.file === "[eval]");` +
        `console.log(JSON.stringify({ count: sites.length, shapes: [...new Set(sites.map((s) => Object.keys(s).join(",")))].sort(),` +
        `line: here?.line, limit: Error.stackTraceLimit === limit }));`,
    );
    // The innermost frames are what the position of a resource is read from; they come first.
    assert.deepEqual(out, { count: 16, shapes: ["file,line,column"], line: 1, limit: true });
  });

  it("take no frames for the promises @pulumi/pulumi wraps, keep their context, and leave Node's frame limit as it was", () => {
    const out = withPreload(
      `const limit = Error.stackTraceLimit; const { debuggablePromise } = require("@pulumi/pulumi/runtime/debuggable");` +
        `const p = Promise.resolve(); void debuggablePromise(p, "register(web)");` +
        `const frames = p._debugStackTrace.split("\\n").length - 1; const after = ${thrown};` +
        `console.log(JSON.stringify({ frames, context: p._debugCtx, limit: Error.stackTraceLimit === limit, after }));`,
    );
    assert.deepEqual(out, { frames: 0, context: "register(web)", limit: true, after: "7" });
  });
});
