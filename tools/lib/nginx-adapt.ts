// An nginx.conf rendered for the image's nginx, read by an older nginx on this machine (the
// tests' and validate-emitted's Debian nginx, the rehearsal's stand-in). From 1.27.3 the
// renderer reaches each service through an upstream group whose server is re-resolved
// (`server alias:port resolve;`, with keepalive); older nginx has no `resolve`, and an
// upstream group there would resolve the alias once, at start. The renderer gives older nginx
// per-request variables instead (components/proxy/upstream.ts): this rewrites the one into the
// other, so the copy behaves as the rendering for that nginx would, keepalive aside.
import { UPSTREAM_RESOLVE_SINCE, nginxVersionAtLeast } from "../../components/proxy/render";

const RESOLVED_GROUP =
  /^([ \t]*)upstream (\S+) \{\n(?:\1[ \t]+[^\n]*\n)*?\1[ \t]+server (\S+) resolve[^;\n]*;\n(?:\1[ \t]+[^\n]*\n)*?\1\}\n/gm;

/** `conf` as nginx `localVersion` reads it: unchanged from UPSTREAM_RESOLVE_SINCE on. */
export function adaptUpstreamsTo(conf: string, localVersion: string): string {
  if (nginxVersionAtLeast(localVersion, UPSTREAM_RESOLVE_SINCE)) return conf;
  const targets = new Map<string, string>();
  const withoutGroups = conf.replace(RESOLVED_GROUP, (_block, _indent: string, name: string, target: string) => {
    targets.set(name, target);
    return "";
  });
  // At the top of every server, as the renderer does for older nginx: a `set` in a location
  // would come after that location's `rewrite … break`, which ends the rewrite phase before it.
  const sets = (indent: string) => [...targets].map(([name, target]) => `${indent}    set $${name} ${target};\n`).join("");
  return withoutGroups
    .replace(/^([ \t]*)server \{\n/gm, (line, indent: string) => line + sets(indent))
    .replace(/^([ \t]*)proxy_pass http:\/\/([A-Za-z0-9_]+);$/gm, (line, indent: string, name: string) =>
      targets.has(name) ? `${indent}proxy_pass http://$${name};` : line,
    );
}
