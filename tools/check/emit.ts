// The server files a stack renders, read back from the resources that carry them to
// the droplet, so `--emit` writes exactly the bytes a real deploy would ship.
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { stdinInstallPath } from "../../components/proxy/commands";
import type { Registration } from "./harness";

type Finder = (registrations: Registration[]) => string | undefined;

function uploadEndingWith(suffix: string): Finder {
  return (registrations) => {
    for (const r of registrations.filter((x) => x.type === "docker:index/container:Container")) {
      const uploads = Array.isArray(r.inputs.uploads) ? (r.inputs.uploads as Record<string, unknown>[]) : [];
      const match = uploads.find((u) => typeof u.file === "string" && u.file.endsWith(suffix));
      if (match && typeof match.content === "string") return match.content;
    }
    return undefined;
  };
}

/** A remote Command that installs its stdin as a file on the droplet (components/proxy/commands.ts marks it). */
function stdinInstalledAs(suffix: string): Finder {
  return (registrations) => {
    const command = registrations.find((r) => r.type === "command:remote:Command" && typeof r.inputs.stdin === "string" && stdinInstallPath(r.inputs.create)?.endsWith(suffix));
    return command?.inputs.stdin as string | undefined;
  };
}

export const EMITTED_FILES: Record<string, Finder> = {
  "cloud-init.yaml": (registrations) => {
    const droplet = registrations.find((r) => r.type === "digitalocean:index/droplet:Droplet");
    return typeof droplet?.inputs.userData === "string" ? droplet.inputs.userData : undefined;
  },
  "nginx.conf": (registrations) => stdinInstalledAs("/nginx.conf")(registrations) ?? uploadEndingWith("/nginx.conf")(registrations),
  "redis.conf": uploadEndingWith("/redis.conf"),
};

/** Writes every file the stack renders; returns the names written and the names it does not render. */
export function emitServerFiles(dir: string, registrations: Registration[]): { written: string[]; missing: string[] } {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const missing: string[] = [];
  for (const [file, find] of Object.entries(EMITTED_FILES)) {
    const content = find(registrations);
    if (content === undefined) {
      missing.push(file);
      continue;
    }
    writeFileSync(path.join(dir, file), content, { mode: 0o600 });
    written.push(file);
  }
  return { written, missing };
}
