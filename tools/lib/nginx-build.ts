// The image's nginx (IMAGE_NGINX_VERSION), built from the vendored source (vendor/nginx), so
// tests can read the production rendering with the version that will read it on the droplet.
// Built once per machine into the user's cache folder; a build that fails leaves nothing behind.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { IMAGE_NGINX_VERSION } from "../../components/proxy/versions";
import { run } from "./system";

const ROOT = resolve(__dirname, "..", "..");
export const VENDORED_NGINX = {
  version: "1.28.0",
  archive: join(ROOT, "vendor", "nginx", "nginx-1.28.0.tar.gz"),
  sha256: "672071ab4261bafb20c4f2a68e59998b709044d9b1c8a256c1f331f9712a470a",
} as const;
/** What the build needs besides a C compiler: the libraries the image's nginx links too. */
export const NGINX_BUILD_PACKAGES = ["gcc", "make", "libc6-dev", "libpcre2-dev", "zlib1g-dev", "libssl-dev"];
// The modules the rendering uses (TLS, HTTP/2) beside nginx's defaults (gzip, rewrite, proxy,
// limit_req, map, upstream zones and keepalive).
const CONFIGURE_FLAGS = ["--with-http_ssl_module", "--with-http_v2_module", "--with-http_realip_module"];

/** The path of the built nginx binary; builds it first when this machine has none yet. */
export function imageNginxBinary(log: (line: string) => void = () => {}): string {
  if (VENDORED_NGINX.version !== IMAGE_NGINX_VERSION)
    throw new Error(
      `vendor/nginx holds nginx ${VENDORED_NGINX.version}, the image runs ${IMAGE_NGINX_VERSION}: vendor the image's release`,
    );
  const digest = createHash("sha256").update(readFileSync(VENDORED_NGINX.archive)).digest("hex");
  if (digest !== VENDORED_NGINX.sha256)
    throw new Error(`${VENDORED_NGINX.archive} has sha256 ${digest}, not ${VENDORED_NGINX.sha256}: it was changed or is incomplete`);
  // Not under the home folder: the tests run nginx as an unprivileged user, who cannot enter /root.
  const cache = process.env.DROPSTACK_NGINX_CACHE ?? join("/var/tmp", `dropstack-nginx-${process.getuid?.() ?? 0}`);
  const prefix = join(cache, `nginx-${VENDORED_NGINX.version}-${digest.slice(0, 12)}`);
  const binary = join(prefix, "sbin", "nginx");
  if (existsSync(binary)) return binary;

  mkdirSync(cache, { recursive: true, mode: 0o755 });
  const work = mkdtempSync(join(cache, "build-"));
  try {
    log(`building nginx ${VENDORED_NGINX.version} from ${VENDORED_NGINX.archive} into ${prefix}`);
    const step = (what: string, argv: string[], cwd: string) => {
      const result = run(argv, { cwd });
      if (result.status !== 0) {
        const missing = NGINX_BUILD_PACKAGES.join(" ");
        throw new Error(
          `${what} failed (exit ${result.status}); it needs the Debian packages ${missing}\n${(result.stdout + result.stderr).trim().split("\n").slice(-20).join("\n")}`,
        );
      }
    };
    step("unpacking the nginx source", ["tar", "-xzf", VENDORED_NGINX.archive, "-C", work], work);
    const source = join(work, `nginx-${VENDORED_NGINX.version}`);
    // The staged prefix is renamed into place only once installed, so a half build is never found.
    const staged = join(work, "prefix");
    step("configuring nginx", ["sh", "auto/configure", `--prefix=${prefix}`, ...CONFIGURE_FLAGS], source);
    step("compiling nginx", ["make", "-j2"], source);
    step("installing nginx", ["make", "install", `DESTDIR=${staged}`], source);
    try {
      renameSync(join(staged, prefix), prefix);
    } catch (error) {
      // Another run built it meanwhile: theirs is as good.
      if (!existsSync(binary)) throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return binary;
}
