// Images for the rehearsal, built here because nothing can be pulled: a Debian root
// filesystem from debootstrap with every package the droplet side runs, imported as the
// base (one layer), and one thin image per role on top of it
// (tools/rehearse/images/<role>/Dockerfile: metadata, no RUN). Everything is cached by content hash:
// the root filesystem as a tarball, the images in the engine's persistent data root under
// tags that carry the hash, so a second run builds nothing.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { shellQuote } from "../../components/common/shell";
import { homedir } from "node:os";
import { join, relative } from "node:path";
import type { Droplet } from "./droplet";

export const BASE_SUITE = "trixie";
export const BASE_MIRROR = process.env.DROPSTACK_REHEARSE_MIRROR ?? "http://deb.debian.org/debian";
/** What debootstrap adds to minbase: apt's HTTPS roots and the shells and probes the program's commands use. */
const BOOTSTRAP_PACKAGES = ["ca-certificates", "curl", "wget", "openssl", "procps", "iproute2"];
/**
 * Every program the droplet side runs, installed into the same root filesystem: the
 * stand-ins for the images the program pulls (nginx, certbot, the PostgreSQL client,
 * Redis), the managed database's stand-in (PostgreSQL 17, PgBouncer), Let's Encrypt's
 * (pebble), and what the rehearsal's app needs (FastAPI, SQLAlchemy, Alembic, psycopg2,
 * redis-py).
 */
export const DROPLET_PACKAGES = [
  "nginx",
  "certbot",
  "pebble",
  "postgresql-17",
  "postgresql-client-17",
  "pgbouncer",
  "redis-server",
  "redis-tools",
  "python3-fastapi",
  "python3-uvicorn",
  "python3-sqlalchemy",
  "alembic",
  "python3-psycopg2",
  "python3-redis",
];
export const IMAGES_DIR = join(__dirname, "images");
/** Files every role image carries (the certbot wrapper, Redis's entrypoint), copied into the root filesystem. */
const ROOTFS_FILES = join(IMAGES_DIR, "rootfs");

/**
 * Run in the new root filesystem, after debootstrap: the packages (apt's archive is the
 * machine cache's .deb folder, where debootstrap left its own downloads, so nothing is
 * fetched twice and a rebuild fetches only what changed), then what the official images
 * the roles stand in for set up (nginx's `nginx` user, Redis's /data). Documentation and
 * translations are not unpacked, dpkg does not fsync, no service starts (policy-rc.d).
 */
export function rootfsSetupScript(packages: readonly string[]): string {
  return [
    "set -eu",
    "printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d",
    "printf 'path-exclude=/usr/share/doc/*\\npath-exclude=/usr/share/man/*\\npath-exclude=/usr/share/info/*\\npath-exclude=/usr/share/locale/*\\npath-include=/usr/share/locale/locale.alias\\n' > /etc/dpkg/dpkg.cfg.d/rehearsal-nodoc",
    "echo force-unsafe-io > /etc/dpkg/dpkg.cfg.d/rehearsal-unsafe-io",
    "export DEBIAN_FRONTEND=noninteractive",
    "apt-get update -qq",
    `apt-get install -y -qq --no-install-recommends ${packages.join(" ")}`,
    "rm -f /usr/sbin/policy-rc.d /etc/dpkg/dpkg.cfg.d/rehearsal-unsafe-io",
    "rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /etc/nginx/sites-enabled/*",
    "useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nginx",
    "install -d -o redis -g redis /data",
  ].join("\n");
}

/** The machine-level cache: root filesystem tarballs, downloaded .debs and the engine's data root. */
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

export interface Timing {
  step: string;
  seconds: number;
  cached: boolean;
}

function timed<T>(timings: Timing[], step: string, cached: boolean, fn: () => T): T {
  const start = Date.now();
  const result = fn();
  timings.push({ step, seconds: (Date.now() - start) / 1000, cached });
  return result;
}

function run(argv: string[], what: string, env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", env: env ?? process.env, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0)
    throw new Error(`${what}: ${argv.join(" ")} failed (${r.status ?? r.signal}):\n${(r.stderr || r.stdout).slice(-4000)}`);
  return r.stdout;
}

/**
 * The environment the package installs in the chroot get: none of this process's. A test
 * run's TMPDIR (a folder outside the chroot) made mktemp fail in ssl-cert's postinst, which
 * left PostgreSQL unconfigured.
 */
const CHROOT_ENV: NodeJS.ProcessEnv = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
  LANG: "C.UTF-8",
};

/**
 * The droplet's root filesystem as a tarball, made once per package list, suite and
 * rootfs files: debootstrap's minbase, then every package in one apt-get run inside it.
 * Done outside the engine, so the whole thing becomes one imported layer (no build step
 * copies it again, whatever the storage driver).
 */
export function baseRootfs(cache: string, timings: Timing[]): string {
  const setup = rootfsSetupScript(DROPLET_PACKAGES);
  const key = sha(BASE_SUITE, BASE_MIRROR, BOOTSTRAP_PACKAGES.join(","), setup, contextHash(ROOTFS_FILES, ""));
  const tarball = join(cache, `rootfs-${BASE_SUITE}-${key}.tar`);
  if (existsSync(tarball)) {
    timings.push({ step: "debootstrap", seconds: 0, cached: true });
    timings.push({ step: "install packages", seconds: 0, cached: true });
    return tarball;
  }
  const debs = join(cache, "debs");
  mkdirSync(join(debs, "partial"), { recursive: true });
  const dir = mkdtempSync(join(cache, "rootfs-"));
  const root = join(dir, "root");
  try {
    timed(timings, "debootstrap", false, () =>
      run(
        [
          "debootstrap",
          "--variant=minbase",
          `--cache-dir=${debs}`,
          `--include=${BOOTSTRAP_PACKAGES.join(",")}`,
          BASE_SUITE,
          root,
          BASE_MIRROR,
        ],
        "debootstrap (apt-get install debootstrap)",
      ),
    );
    cpSync(ROOTFS_FILES, root, { recursive: true });
    writeFileSync(join(root, "etc", "apt", "sources.list"), `deb ${BASE_MIRROR} ${BASE_SUITE} main\n`);
    // A private mount namespace: /proc and the .deb cache are mounted for the chroot only,
    // and vanish with it, whatever happens.
    const inChroot = [
      `mount -t proc proc ${root}/proc`,
      `mount --bind ${debs} ${root}/var/cache/apt/archives`,
      `chroot ${root} /bin/sh -c ${shellQuote(setup)}`,
    ].join(" && ");
    timed(timings, "install packages", false, () =>
      run(
        ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", inChroot],
        "install the droplet's packages",
        CHROOT_ENV,
      ),
    );
    run(
      [
        "tar",
        "--numeric-owner",
        "--xattrs",
        "-C",
        root,
        "--exclude=./proc/*",
        "--exclude=./sys/*",
        "--exclude=./dev/*",
        "-cf",
        join(dir, "rootfs.tar"),
        ".",
      ],
      "tar rootfs",
    );
    renameSync(join(dir, "rootfs.tar"), tarball);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tarball;
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
  timed(timings, "import base", false, () =>
    droplet.docker(["import", "--change", 'CMD ["/bin/bash"]', "--change", "ENV LANG=C.UTF-8", tarball, tag]),
  );
  return tag;
}

function contextFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((entry) => {
      const p = join(dir, entry);
      return statSync(p).isDirectory() ? contextFiles(p) : [p];
    })
    .sort();
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
export function buildImage(
  droplet: Droplet,
  role: string,
  dir: string,
  base: string,
  timings: Timing[],
  args: Record<string, string> = {},
): string {
  const argList = Object.entries(args)
    .sort()
    .map(([k, v]) => `${k}=${v}`);
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
