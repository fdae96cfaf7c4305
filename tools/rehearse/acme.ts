// Let's Encrypt's stand-in: pebble, the ACME test server, on the host's network like the
// CA on the internet. It resolves the stack's host names to this machine (as the A records
// point at the droplet) and validates HTTP-01 on the port nginx publishes for 80, so
// certbot's webroot flow runs for real through the program's nginx. certbot in the
// stand-in image finds pebble's directory URL and CA in its config dir (images/rootfs/
// usr/local/lib/rehearsal/bin/certbot); the files go where the program's certbot mounts that dir.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Droplet } from "./droplet";
import { freePort } from "./net";
import { writeSelfSignedCertificate } from "../lib/system";

const CONTAINER = "dropstack-rehearsal-pebble";
/** Issued certificates live this long, so certbot's `--keep-until-expiring` (30 days) renews on every pass. */
export const CERTIFICATE_VALIDITY_SECONDS = 10 * 24 * 3600;

export interface Acme {
  directory: string;
  /** PEM of pebble's root, which signs the certificates it issues (differs per start). */
  issuerRoot(): string;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
}

/**
 * Starts pebble and writes its directory URL and TLS CA into `letsencryptDir/rehearsal/`
 * (the folder the program mounts as certbot's config dir, on the droplet's /srv).
 */
export async function startAcme(
  droplet: Droplet,
  image: string,
  domains: string[],
  httpPort: number,
  letsencryptDir: string,
): Promise<Acme> {
  const gateway = droplet.docker(["network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}"]).stdout.trim();
  const port = await freePort();
  const managementPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "dropstack-rehearsal-acme-"));
  // The certificate pebble's API answers with, for the address containers reach it at.
  writeSelfSignedCertificate({ certFile: join(dir, "ca.pem"), keyFile: join(dir, "ca.key"), subject: "/CN=rehearsal ACME CA", days: 2 });
  openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=rehearsal ACME", "-keyout", "key.pem", "-out", "req.pem"], dir);
  writeFileSync(join(dir, "san.ext"), `subjectAltName=IP:${gateway},IP:127.0.0.1\n`);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      "req.pem",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      "san.ext",
      "-out",
      "cert.pem",
    ],
    dir,
  );
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({
      pebble: {
        listenAddress: `0.0.0.0:${port}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: "/pebble/cert.pem",
        privateKey: "/pebble/key.pem",
        httpPort,
        tlsPort: 443,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
        certificateValidityPeriod: CERTIFICATE_VALIDITY_SECONDS,
      },
    }),
  );
  droplet.docker(["rm", "-f", CONTAINER], { check: false });
  droplet.docker([
    "run",
    "-d",
    "--name",
    CONTAINER,
    "--network",
    "host",
    ...domains.flatMap((d) => ["--add-host", `${d}:127.0.0.1`]),
    "-v",
    `${dir}:/pebble:ro`,
    "-e",
    "PEBBLE_VA_NOSLEEP=1",
    "-e",
    "PEBBLE_WFE_NONCEREJECT=0",
    "-e",
    "PEBBLE_AUTHZREUSE=0",
    image,
    "pebble",
    "-config",
    "/pebble/config.json",
    "-strict=false",
  ]);
  const directory = `https://${gateway}:${port}/dir`;
  for (let i = 0; ; i++) {
    const r = spawnSync("curl", ["-fsS", "--cacert", join(dir, "ca.pem"), `https://127.0.0.1:${port}/dir`], { encoding: "utf8" });
    if (r.status === 0) break;
    if (i > 60) throw new Error(`pebble did not start:\n${droplet.docker(["logs", CONTAINER], { check: false }).stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const target = join(letsencryptDir, "rehearsal");
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, "acme-directory"), directory + "\n");
  writeFileSync(join(target, "acme-ca.pem"), readFileSync(join(dir, "ca.pem")));
  return {
    directory,
    issuerRoot: () => {
      const r = spawnSync("curl", ["-fsS", "--cacert", join(dir, "ca.pem"), `https://127.0.0.1:${managementPort}/roots/0`], {
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`pebble's root: ${r.stderr}`);
      return r.stdout;
    },
  };
}
