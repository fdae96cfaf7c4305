// Images for the rehearsal, built here because nothing can be pulled: a Debian root
// filesystem from debootstrap, imported as the base, and one small image per role on top
// of it (tools/rehearse/images/<role>/Dockerfile). Everything is cached by content hash:
// the root filesystem as a tarball, the images in the engine's persistent data root under
// tags that carry the hash, so a second run builds nothing.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative } from "node:path";
import type { Droplet } from "./droplet";

export const BASE_SUITE = "trixie";
export const BASE_MIRROR = process.env.DROPSTACK_REHEARSE_MIRROR ?? "http://deb.debian.org/debian";
/** What every role needs besides minbase: the shells and probes the program's commands use. */
const BASE_PACKAGES = ["ca-certificates", "curl", "wget", "openssl", "procps", "iproute2"];
export const IMAGES_DIR = join(__dirname, "images");

/** The machine-level cache: root filesystem tarballs and the engine's data root. */
export function cacheDir(): string {
  const dir = process.env.DROPSTACK_REHEARSE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "dropstack-rehearse");
  mkdirSync(dir, { recursive: true });
  return dir;
}

function sha(...parts: (string | Buffer)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex").slice(0, 16);
}

export interface Timing { step: string; seconds: number; cached: boolean }

function timed<T>(timings: Timing[], step: string, cached: boolean, fn: () => T): T {
  const start = Date.now();
  const result = fn();
  timings.push({ step, seconds: (Date.now() - start) / 1000, cached });
  return result;
}

function run(argv: string[], what: string, env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", env: env ?? process.env, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${what}: ${argv.join(" ")} failed (${r.status ?? r.signal}):\n${(r.stderr || r.stdout).slice(-4000)}`);
  return r.stdout;
}

/** The base root filesystem as a tarball, made once per package list and suite. */
export function baseRootfs(cache: string, timings: Timing[]): string {
  const key = sha(BASE_SUITE, BASE_MIRROR, BASE_PACKAGES.join(","));
  const tarball = join(cache, `rootfs-${BASE_SUITE}-${key}.tar`);
  if (existsSync(tarball)) {
    timings.push({ step: "debootstrap", seconds: 0, cached: true });
    return tarball;
  }
  return timed(timings, "debootstrap", false, () => {
    const dir = mkdtempSync(join(cache, "rootfs-"));
    try {
      run(["debootstrap", "--variant=minbase", `--include=${BASE_PACKAGES.join(",")}`, BASE_SUITE, join(dir, "root"), BASE_MIRROR], "debootstrap (apt-get install debootstrap)");
      // Package lists and caches are fetched again by builds that need them.
      run(["sh", "-c", `cd ${join(dir, "root")} && rm -rf var/lib/apt/lists/* var/cache/apt/*.bin var/cache/apt/archives/*.deb`], "trim rootfs");
      run(["tar", "--numeric-owner", "--xattrs", "-C", join(dir, "root"), "--exclude=./proc/*", "--exclude=./sys/*", "--exclude=./dev/*", "-cf", join(dir, "rootfs.tar"), "."], "tar rootfs");
      renameSync(join(dir, "rootfs.tar"), tarball);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return tarball;
  });
}

function imageExists(droplet: Droplet, tag: string): boolean {
  return droplet.docker(["image", "inspect", "--format", "{{.Id}}", tag], { check: false }).status === 0;
}

/** The imported base image; its tag carries the tarball's key. */
export function baseImage(droplet: Droplet, cache: string, timings: Timing[]): string {
  const tarball = baseRootfs(cache, timings);
  const tag = `dropstack-rehearse/base:${tarball.replace(/^.*-(\w+)\.tar$/, "$1")}`;
  if (imageExists(droplet, tag)) {
    timings.push({ step: "import base", seconds: 0, cached: true });
    return tag;
  }
  timed(timings, "import base", false, () => droplet.docker(["import", "--change", "CMD [\"/bin/bash\"]", "--change", "ENV LANG=C.UTF-8", tarball, tag]));
  return tag;
}

function contextFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const p = join(dir, entry);
    return statSync(p).isDirectory() ? contextFiles(p) : [p];
  }).sort();
}

/** Content hash of a build context: every file's path and bytes, plus the base it builds on. */
export function contextHash(dir: string, base: string): string {
  const files = contextFiles(dir);
  return sha(base, ...files.flatMap((f) => [relative(dir, f), readFileSync(f)]));
}

/**
 * Builds `dir` (its Dockerfile takes `ARG BASE`, and `args`) unless an image with the same
 * content hash exists. The legacy builder: Debian's engine has no BuildKit front end here.
 */
export function buildImage(droplet: Droplet, role: string, dir: string, base: string, timings: Timing[], args: Record<string, string> = {}): string {
  const argList = Object.entries(args).sort().map(([k, v]) => `${k}=${v}`);
  const tag = `dropstack-rehearse/${role}:${contextHash(dir, [base, ...argList].join(" "))}`;
  const step = `build ${role}${argList.length > 0 ? ` (${argList.join(" ")})` : ""}`;
  if (imageExists(droplet, tag)) {
    timings.push({ step, seconds: 0, cached: true });
    return tag;
  }
  const flags = [`BASE=${base}`, ...argList].flatMap((a) => ["--build-arg", a]);
  timed(timings, step, false, () => droplet.docker(["build", "-q", ...flags, "-t", tag, dir], { env: { DOCKER_BUILDKIT: "0" } }));
  return tag;
}

export function imageId(droplet: Droplet, ref: string): string {
  return droplet.docker(["image", "inspect", "--format", "{{.Id}}", ref]).stdout.trim();
}
