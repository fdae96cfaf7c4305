// upstreamGroupsAsVariables (tools/lib/nginx-harness.ts), which lets Debian's nginx 1.22 read
// the nginx.conf rendered for the image's 1.28 (`npm run check -- --emit`, the reviewed
// fixtures): for inputs with every kind of route, service and keepalive setting, the file it
// makes says what renderNginxConf writes for a version without upstream groups, directive for
// directive, but for the empty Connection header that keepalive needs; and it refuses an
// upstream block it does not know rather than leave it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { nginxDirectives, renderNginxConf, type NginxConfInput } from "../../components/proxy/render";
import { upstreamGroupsAsVariables } from "../../tools/lib/nginx-harness";

const API = "api.example.com";
const APP = "app.example.com";
const INPUTS: [string, NginxConfInput][] = [
  ["the api alone", { hosts: { api: API }, upstream: { alias: "app", port: 8000 }, hsts: true }],
  [
    "a frontend, workers and routes on both hosts, keepalive off",
    {
      hosts: { api: API, app: APP },
      upstream: { alias: "app", port: 8000 },
      services: {
        frontend: { alias: "frontend", port: 8080 },
        "worker:reports": { alias: "reports", port: 9000 },
        "worker:exports": { alias: "exports", port: 9001 },
      },
      routes: [
        { host: APP, path: "/api", service: "api", stripPrefix: true },
        { host: APP, path: "/reports", service: "worker:reports" },
        { host: API, path: "/docs", service: "frontend", stripPrefix: true },
        { host: API, path: "/", service: "worker:exports" },
      ],
      keepalive: { connections: 0 },
      hsts: false,
    },
  ],
  [
    "the monitoring host beside a frontend",
    {
      hosts: { api: API, app: APP, monitoring: "grafana.example.com" },
      upstream: { alias: "app", port: 8000 },
      services: { frontend: { alias: "frontend", port: 8080 } },
      monitoringUpstream: { alias: "grafana", port: 3000 },
      keepalive: { connections: 64, idleSeconds: 4 },
      hsts: true,
    },
  ],
];

/** Each directive as `<server number> <context> <name> <args>`, `set` lines sorted per server, the empty Connection header left out. */
function comparable(conf: string): string[] {
  let server = 0;
  const lines = nginxDirectives(conf)
    .filter((d) => !(d.name === "proxy_set_header" && d.args.join(" ") === "Connection "))
    .map((d) => {
      if (d.name === "server" && d.block) server++;
      return `${server} ${d.context.join(" > ")} | ${d.name} ${d.args.join(" ")}`;
    });
  const sets = lines.filter((line) => line.includes("| set "));
  const firstSet = (n: string) => lines.findIndex((line) => line.startsWith(`${n} `) && line.includes("| set "));
  // The sets of each server, sorted, where its first set stood.
  return lines.flatMap((line, i) => {
    if (!line.includes("| set ")) return [line];
    const n = line.split(" ")[0];
    return i === firstSet(n) ? sets.filter((set) => set.startsWith(`${n} `)).sort() : [];
  });
}

for (const [name, input] of INPUTS) {
  test(`groups become the variables renderNginxConf writes for nginx before 1.27.3: ${name}`, () => {
    const groups = renderNginxConf({ ...input, nginxVersion: "1.28.0" });
    const variables = renderNginxConf({ ...input, nginxVersion: "1.27.2" });
    assert.match(groups, /^ {4}upstream dropstack_upstream \{$/m);
    const converted = upstreamGroupsAsVariables(groups);
    assert.doesNotMatch(converted, /^ *upstream /m);
    assert.deepEqual(comparable(converted), comparable(variables));
  });
}

test("a file without groups is left as it is", () => {
  for (const [, input] of INPUTS) {
    const variables = renderNginxConf({ ...input, nginxVersion: "1.22.1" });
    assert.equal(upstreamGroupsAsVariables(variables), variables);
  }
});

test("an upstream block of another shape is refused, not left for nginx to choke on", () => {
  const groups = renderNginxConf({ ...INPUTS[0][1], nginxVersion: "1.28.0" });
  for (const [from, to] of [
    ["server app:8000 resolve;", "server app:8000;"],
    ["server app:8000 resolve;", "server app:8000 resolve max_fails=0;"],
    ["    zone dropstack_upstream 64k;\n", ""],
    ["upstream dropstack_upstream {", "upstream backend {"],
  ]) {
    assert.throws(
      () => upstreamGroupsAsVariables(groups.replace(from, to)),
      /expected 1 upstream groups of the dropstack shape, found 0/,
      to,
    );
  }
});
