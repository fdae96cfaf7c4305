// Preloaded by `npm run check` (`node --require ./tools/fast-start.cjs tools/check/main.ts`),
// by the policy pack the check starts, and by the tests that spawn either. Plain
// JavaScript because it is what makes TypeScript loadable. Two things make start-up cheap:
//
// 1. TypeScript is compiled once per file content (by esbuild, with tsx's options) and
//    cached on disk; a cache hit costs a hash and a read. Only `.ts` files are touched:
//    tsx's hook, which this replaced, also inspects every `.js` file of every dependency,
//    which doubled the cost of loading @pulumi/pulumi.
// 2. @pulumi/pulumi loads its function serializer eagerly, and with it `typescript`,
//    `@npmcli/arborist` and `normalize-package-data`, and its Automation API with `execa`
//    and `js-yaml`: most of what `require("@pulumi/pulumi")` costs. Only serializeFunction
//    (dynamic providers, callbacks shipped to the cloud) and programs that drive the CLI
//    use them, and dropstack has neither, so those requires get a stand-in that loads the
//    real module on first use: nothing changes if they are used, they are not paid for
//    when not.
"use strict";
const Module = require("node:module");
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { performance } = require("node:perf_hooks");

// Stack traces point into the TypeScript sources, as under tsx.
process.setSourceMapsEnabled(true);

const ROOT = path.resolve(__dirname, "..");

// 0. Node keeps the V8 bytecode of every module it compiles on disk (Node 22.1+), so a
//    process does not parse and compile the provider SDKs again each time it starts: a
//    fifth of a check's CPU. Through the environment the processes this one starts (the
//    policy pack, the tools the tests run) use it too. Node checks each entry against
//    the source it was made from, so an edited file is compiled afresh.
const compileCache = Module.enableCompileCache?.(
  process.env.NODE_COMPILE_CACHE || path.join(ROOT, "node_modules", ".cache", "node-compile"),
);
if (compileCache?.directory) process.env.NODE_COMPILE_CACHE = compileCache.directory;
// DROPSTACK_TS_CACHE moves the cache (the tests use a fresh one).
const CACHE = process.env.DROPSTACK_TS_CACHE || path.join(ROOT, "node_modules", ".cache", "dropstack-ts");

/** TypeScript files compiled (and the milliseconds it took) or taken from the cache in this process, for `npm run bench:check`. */
const startup = { compileMs: 0, compiled: 0, cached: 0 };

let esbuild;
const tsconfig = fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8");
// The options tsx gives the same compiler (what Node users commonly run TypeScript with),
// so the JavaScript is what they would get.
const options = {
  loader: "ts",
  format: "cjs",
  platform: "node",
  target: `node${process.versions.node}`,
  keepNames: true,
  sourcemap: "inline",
  tsconfigRaw: { compilerOptions: JSON.parse(tsconfig).compilerOptions },
};
// The key covers everything the output depends on: compiler, options, file and source.
const esbuildVersion = JSON.parse(fs.readFileSync(require.resolve("esbuild/package.json"), "utf8")).version;
const identity = `${esbuildVersion}\0${JSON.stringify(options)}`;

function compileTypeScript(source, filename) {
  const key = crypto.createHash("sha256").update(identity).update("\0").update(filename).update("\0").update(source).digest("hex");
  const cached = path.join(CACHE, `${key}.js`);
  try {
    const code = fs.readFileSync(cached, "utf8");
    startup.cached++;
    return code;
  } catch {
    // Not compiled yet: compile below.
  }
  const start = performance.now();
  esbuild ??= require("esbuild");
  const { code } = esbuild.transformSync(source, { ...options, sourcefile: filename });
  // Written under a unique name, then renamed: concurrent processes never read half a file.
  fs.mkdirSync(CACHE, { recursive: true });
  const temporary = `${cached}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, code);
  fs.renameSync(temporary, cached);
  startup.compileMs += performance.now() - start;
  startup.compiled++;
  return code;
}

/**
 * Puts each file's JavaScript in the cache, compiling those not there yet, all through one
 * compiler. For tools/run-tests.mjs: a run's processes start together, and each would
 * otherwise start its own compiler for its file and compile the files they share side by
 * side (0.8 s more CPU for a check's process after a fresh clone, measured).
 */
function precompile(filenames) {
  for (const filename of filenames) compileTypeScript(fs.readFileSync(filename, "utf8"), filename);
}

Module._extensions[".ts"] = function (module, filename) {
  module._compile(compileTypeScript(fs.readFileSync(filename, "utf8"), filename), filename);
};

/** Request → the @pulumi/pulumi file that makes it; neither touches the module at load time. */
const DEFERRED = {
  "../../typescript-shim": path.join("@pulumi", "pulumi", "runtime", "closure", "parseFunction.js"),
  "@npmcli/arborist": path.join("@pulumi", "pulumi", "runtime", "closure", "codePaths.js"),
  "normalize-package-data": path.join("@pulumi", "pulumi", "runtime", "closure", "codePaths.js"),
  "./automation": path.join("@pulumi", "pulumi", "index.js"),
};

/**
 * A module object that loads `load()` on the first property read. It says `__esModule`, so
 * TypeScript's `__importStar` passes it through instead of copying (and so loading) every
 * export up front, and `__importDefault` passes it through too: so its `default` is the
 * real module's, or the module itself when it has none (a CommonJS function export).
 */
function deferredModule(load) {
  let real;
  const target = () => (real ??= load());
  return new Proxy(
    {},
    {
      get: (_, key) => {
        if (key === "__esModule") return true;
        if (key === "default" && !Reflect.has(target(), key)) return target();
        return Reflect.get(target(), key);
      },
      has: (_, key) => key === "__esModule" || Reflect.has(target(), key),
    },
  );
}

const load = Module._load;
Module._load = function (request, parent, isMain) {
  const from = DEFERRED[request];
  if (from !== undefined && parent && typeof parent.filename === "string" && parent.filename.endsWith(path.sep + from)) {
    return deferredModule(() => load.call(this, request, parent, isMain));
  }
  return load.call(this, request, parent, isMain);
};

// 3. @pulumi/pulumi keeps a stack trace of every resource it creates (Resource.callsites:
//    `new Error().stack` with no frame limit, each frame then turned into a file URL) and
//    of every promise it wraps (debuggablePromise), formatted on the spot; with source maps
//    on, Node maps each frame of each of them, which cost a quarter of the check's CPU.
//    Nothing here reads them: they feed the CLI's display of resource positions and the
//    leaked-promise report, and the mocks drop them. So a resource's call sites are taken
//    unmapped (positions in the compiled JavaScript) and only the innermost frames, which
//    hold its position in the program; every other stack trace, errors included, stays
//    whole and mapped to the TypeScript. The promises' traces are not taken at all (8 % of
//    the check's CPU), and with no frames there is nothing to map, so source maps stay on
//    (switching them off and on costs about 60 µs, and a check wraps tens of thousands of
//    promises): the leaked-promise report still names each promise's context.
const RESOURCE_CALLSITE_FRAMES = 16;
const PATCHES = {
  [path.join("@pulumi", "pulumi", "resource.js")]: (exports) => boundCallsites(exports.Resource, RESOURCE_CALLSITE_FRAMES),
  [path.join("@pulumi", "pulumi", "runtime", "debuggable.js")]: (exports) => withoutStackTraces(exports, "debuggablePromise"),
};
const compileJs = Module._extensions[".js"];
Module._extensions[".js"] = function (module, filename) {
  compileJs.call(this, module, filename);
  const i = filename.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  if (i !== -1) PATCHES[filename.slice(i + 14)]?.(module.exports);
};

/** Replaces owner[name] with the same function run while stack traces take no frames. */
function withoutStackTraces(owner, name) {
  const original = owner[name];
  owner[name] = function (...args) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return original.apply(this, args);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
}

/**
 * Resource.callsites with at most `frames` frames, unmapped: the original raises Node's
 * frame limit to infinity itself, so it is replaced, keeping its contract (one entry per
 * frame, innermost first: `{ file, line, column }`, or `{}` for a frame without a
 * position or inside Node).
 */
function boundCallsites(Resource, frames) {
  Resource.callsites = function callsites() {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = frames;
    process.setSourceMapsEnabled(false);
    let stack;
    try {
      stack = new Error().stack ?? "";
    } finally {
      Error.stackTraceLimit = limit;
      process.setSourceMapsEnabled(true);
    }
    return stack
      .split("\n")
      .slice(1)
      .map((frame) => {
        const { file, line, column } = Resource.framePositionRegExp.exec(frame)?.groups ?? {};
        const position = { file, line: Number(line), column: Number(column) };
        const valid = file && !file.startsWith("node:") && Number.isInteger(position.line) && Number.isInteger(position.column);
        return valid ? position : {};
      });
  };
}

module.exports = { startup, deferredModule, DEFERRED, CACHE, precompile };
