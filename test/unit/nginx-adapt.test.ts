// adaptUpstreamsTo: the image's rendering (upstream groups re-resolved, nginx >= 1.27.3) read by
// an older nginx (the tests', validate-emitted's and the rehearsal's). Over renderings with
// every combination of services and routes: nothing older nginx refuses is left, every
// proxy_pass reaches the same alias and port through a variable set at the top of each server,
// and the rest of the file is untouched; from 1.27.3 on the file is returned as it is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type NginxConfInput, renderNginxConf } from "../../components/proxy/render";
import { adaptUpstreamsTo } from "../../tools/lib/nginx-adapt";

const services = {
  frontend: { alias: "frontend", port: 8080 },
  "worker:hooks": { alias: "worker-hooks", port: 9000 },
};
const inputs: NginxConfInput[] = [];
for (const app of [undefined, "www.example.com"])
  for (const withServices of [false, true])
    for (const stripPrefix of [false, true]) {
      const hosts = { api: "api.example.com", ...(app ? { app } : {}) };
      inputs.push({
        hosts,
        upstream: { alias: "api", port: 8000 },
        hsts: true,
        ...(withServices
          ? {
              services,
              routes: [
                { host: hosts.api, path: "/hooks", service: "worker:hooks", stripPrefix },
                { host: app ?? hosts.api, path: app ? "/" : "/web", service: "frontend", stripPrefix },
              ],
            }
          : {}),
      });
    }

const targetOf: Record<string, string> = {
  dropstack_upstream: "api:8000",
  dropstack_frontend: "frontend:8080",
  dropstack_worker_hooks: "worker-hooks:9000",
};

for (const [i, input] of inputs.entries()) {
  test(`rendering ${i} (${JSON.stringify(input.routes?.map((r) => `${r.path}→${r.service}${r.stripPrefix ? " stripped" : ""}`) ?? "api only")}, hosts ${Object.values(input.hosts).join(" ")})`, () => {
    const image = renderNginxConf(input);
    assert.match(image, /server api:8000 resolve max_fails=0;/);
    for (const version of ["1.22.1", "1.26.3", "1.27.2"]) {
      const adapted = adaptUpstreamsTo(image, version);
      assert.doesNotMatch(adapted, /\bresolve\b|^\s*upstream |^\s*zone /m, version);
      const passes = [...adapted.matchAll(/proxy_pass http:\/\/(\$?)([A-Za-z0-9_]+);/g)];
      assert.ok(passes.length > 0);
      for (const [, dollar, name] of passes) if (name !== "dropstack_monitoring") assert.equal(dollar, "$", `${name} through a variable`);
      // Each server sets every variable first, before any location can end the rewrite phase.
      const servers = adapted.split(/\n {4}server \{\n/).slice(1);
      for (const server of servers) {
        const head = server.split("\n").slice(0, Object.keys(targetOf).filter((n) => image.includes(`upstream ${n} `)).length);
        for (const line of head) {
          const [, name, target] = /^ {8}set \$(\S+) (\S+);$/.exec(line) ?? [];
          assert.equal(target, targetOf[name], line);
        }
      }
      // Only the upstream groups and the proxy_pass lines changed.
      const strip = (text: string) =>
        text
          .replace(/^\s*upstream [\s\S]*?^ {4}\}\n/gm, "")
          .replace(/^\s*set \$dropstack_(upstream|frontend|worker_hooks) \S+;\n/gm, "")
          .replace(/proxy_pass http:\/\/\$?/g, "proxy_pass http://");
      assert.equal(strip(adapted), strip(image));
    }
    for (const version of ["1.27.3", "1.28.0", "1.29.1"]) assert.equal(adaptUpstreamsTo(image, version), image, version);
  });
}
