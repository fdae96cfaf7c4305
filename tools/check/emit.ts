// The server files a stack renders, read back from the resources that carry them to
// the droplet, so `--emit` writes exactly the bytes a real deploy would ship; and a
// README beside them saying what reads each and how to validate it here.
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { REDIS_DEFAULT_DATA_DIR, REDIS_DEFAULT_PORT } from "../../components/cache/render";
import { NGINX_IMAGE, nginxConfHostPath, stdinInstallPath } from "../../components/proxy/commands";
import {
  ACME_WEBROOT,
  CERT_DIR,
  DOCKER_DNS_RESOLVER,
  HTTP2_DIRECTIVE_SINCE,
  NGINX_CONF_PATH,
  nginxVersionFromImage,
} from "../../components/proxy/render";
import { shellQuote } from "../../components/common/shell";
import { DROPLET_PATHS } from "../../components/hooks/commands";
import { SCHEDULE_DIR, UNITS, UNIT_DIR } from "../../components/hooks/schedule";
import { DASHBOARD_KEYS, GRAFANA_PROVISIONING_FILES, dashboardPath } from "../../components/observability/grafana";
import { ALERT_RULES_FILE } from "../../components/observability/rules";
import { CONFIG_PATHS, SERVICES } from "../../components/observability/settings";
import type { Registration } from "./harness";

type Finder = (registrations: Registration[]) => string | undefined;

/**
 * The monitoring's files by the name `--emit` gives them: where each lands in its container,
 * and what reads it there.
 */
const MONITORING_FILES: Record<string, { path: string; readBy: string; expects: string[]; noLocalReader?: string }> = {
  "prometheus.yml": {
    path: CONFIG_PATHS.prometheus,
    readBy: `Prometheus in the image \`${SERVICES.prometheus.image}\``,
    expects: [
      `rule files under \`${CONFIG_PATHS.prometheusRulesDir}\`, the database metrics password and CA beside them (secret uploads)`,
      "the services' aliases on the app network; the api replicas' on the ingress network",
    ],
  },
  [ALERT_RULES_FILE]: {
    path: `${CONFIG_PATHS.prometheusRulesDir}/${ALERT_RULES_FILE}`,
    readBy: `Prometheus in the image \`${SERVICES.prometheus.image}\`, as its alerting rules`,
    expects: ["each rule has a firing and a quiet case in test/system/observability-promtool-rules.test.ts (promtool test rules)"],
  },
  "alertmanager.yml": {
    path: CONFIG_PATHS.alertmanager,
    readBy: `Alertmanager in the image \`${SERVICES.alertmanager.image}\``,
    expects: [
      `the mail relay's password and the webhook URL in files beside it (\`${CONFIG_PATHS.alertmanagerSmtpPasswordFile}\`, \`${CONFIG_PATHS.alertmanagerWebhookUrlFile}\`)`,
    ],
  },
  "blackbox.yml": {
    path: CONFIG_PATHS.blackbox,
    readBy: `the blackbox exporter in the image \`${SERVICES.blackbox.image}\``,
    expects: ["probes nginx by its container name on the app network: each host's certificate, the backup freshness file"],
  },
  "loki.yaml": {
    path: CONFIG_PATHS.loki,
    readBy: `Loki in the image \`${SERVICES.loki.image}\``,
    expects: [`data under \`/loki\` (the volume's \`/srv/observability/loki\`)`],
    noLocalReader:
      "no Loki binary is packaged for the build machines; test/unit/observability-logs.test.ts checks its structure and retention",
  },
  "config.alloy": {
    path: CONFIG_PATHS.alloy,
    readBy: `Grafana Alloy in the image \`${SERVICES.alloy.image}\``,
    expects: ["the Docker engine's json-file logs and the deploy markers, mounted read-only"],
    noLocalReader:
      "no Alloy binary is packaged for the build machines; test/unit/observability-logs.test.ts parses it and replays its access-log metrics",
  },
  "grafana-datasources.yaml": {
    path: GRAFANA_PROVISIONING_FILES.datasources,
    readBy: `Grafana in the image \`${SERVICES.grafana.image}\`, as provisioning`,
    expects: ["Prometheus, Loki and Alertmanager by their aliases on the app network"],
    noLocalReader:
      "no Grafana binary is packaged for the build machines; test/unit/observability-grafana.test.ts checks every uid a panel names",
  },
  "grafana-dashboards.yaml": {
    path: GRAFANA_PROVISIONING_FILES.dashboards,
    readBy: `Grafana in the image \`${SERVICES.grafana.image}\`, as provisioning`,
    expects: [`the dashboards under \`${CONFIG_PATHS.grafanaDashboards}\``],
    noLocalReader: "no Grafana binary is packaged for the build machines; test/unit/observability-grafana.test.ts checks it",
  },
  ...Object.fromEntries(
    DASHBOARD_KEYS.map((key) => [
      `grafana-dashboard-${key}.json`,
      {
        path: dashboardPath(key),
        readBy: `Grafana in the image \`${SERVICES.grafana.image}\`, as a provisioned dashboard`,
        expects: [
          "typed by @grafana/schema at build time; every PromQL query parsed by promtool in test/system/observability-grafana-queries.test.ts",
        ],
        noLocalReader: "no Grafana binary is packaged for the build machines",
      },
    ]),
  ),
};

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
    const command = registrations.find(
      (r) =>
        r.type === "command:remote:Command" && typeof r.inputs.stdin === "string" && stdinInstallPath(r.inputs.create)?.endsWith(suffix),
    );
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
  ...Object.fromEntries(Object.values(UNITS).map((file) => [file, stdinInstalledAs(`/${file}`)])),
  // The monitoring's files (dropstack:observability), as the containers get them.
  ...Object.fromEntries(Object.entries(MONITORING_FILES).map(([file, { path }]) => [file, uploadEndingWith(path)])),
};

/** What reads an emitted file on the droplet, and what it expects there. */
export interface EmittedFileNotes {
  /** The program and version, e.g. "nginx 1.28.0 in the image nginx:1.28.0-alpine". */
  readBy: string;
  /** Where it lands and the paths the program expects around it. */
  expects: string[];
  /** Why no command validates it on a build machine, and what checks it instead. */
  noLocalReader?: string;
}

const imageNamed = (registrations: Registration[], prefix: string) =>
  registrations.find(
    (r) => r.type === "docker:index/remoteImage:RemoteImage" && typeof r.inputs.name === "string" && r.inputs.name.startsWith(prefix),
  )?.inputs.name as string | undefined;

export const EMITTED_FILE_NOTES: Record<string, (registrations: Registration[]) => EmittedFileNotes> = {
  "cloud-init.yaml": (registrations) => {
    const image = registrations.find((r) => r.type === "digitalocean:index/droplet:Droplet")?.inputs.image;
    return {
      readBy: `cloud-init of the droplet image \`${String(image)}\`, as the droplet's user-data`,
      expects: ["runs once, at the droplet's first boot: later changes are ignored until the droplet is replaced"],
    };
  },
  "nginx.conf": (registrations) => {
    const image = imageNamed(registrations, "nginx:") ?? NGINX_IMAGE;
    return {
      readBy: `nginx ${nginxVersionFromImage(image) ?? "?"} in the image \`${image}\` (the Proxy container)`,
      expects: [
        `installed at \`${nginxConfHostPath()}\` on the droplet, read as \`${NGINX_CONF_PATH}\` in the container`,
        `certificates under \`${CERT_DIR}/<host>/\` (fullchain.pem, privkey.pem), the ACME webroot \`${ACME_WEBROOT}\``,
        `pid \`/var/run/nginx.pid\`, logs under \`/var/log/nginx\`, Docker's DNS at \`${DOCKER_DNS_RESOLVER}\` for the app alias`,
        `\`http2 on;\` needs nginx >= ${HTTP2_DIRECTIVE_SINCE}; the validation rewrites it for an older local nginx`,
      ],
    };
  },
  ...Object.fromEntries(
    Object.values(UNITS).map((file) => [
      file,
      (): EmittedFileNotes => ({
        readBy: `systemd on the droplet (Ubuntu's), as \`${UNIT_DIR}/${file}\``,
        expects: [
          `the scripts under \`${SCHEDULE_DIR}\` and \`${DROPLET_PATHS.hooksDir}\` (installed by the same deploy), the deploy user, Docker`,
          "validated together with the other units in this directory (a timer names its service)",
        ],
      }),
    ]),
  ),
  ...Object.fromEntries(
    Object.entries(MONITORING_FILES).map(([file, { readBy, expects, noLocalReader }]) => [
      file,
      (): EmittedFileNotes => ({ readBy, expects, ...(noLocalReader ? { noLocalReader } : {}) }),
    ]),
  ),
  "redis.conf": (registrations) => ({
    readBy: `redis-server in the image \`${imageNamed(registrations, "redis:") ?? "redis"}\` (the Cache container)`,
    expects: [
      `data (append-only file, snapshots) in \`${REDIS_DEFAULT_DATA_DIR}\`, port ${REDIS_DEFAULT_PORT} on the private Docker network`,
      "holds the Redis password: keep it private (written with mode 0600)",
    ],
  }),
};

/** The command that validates an emitted file on a build machine, run from the repository. */
export function validationCommand(file: string): string {
  return `npm run validate-emitted -- ${shellQuote(file)}`;
}

/** README.md beside the emitted files: what each is for and the one command that validates it. */
export function renderEmitReadme(dir: string, written: string[], registrations: Registration[]): string {
  const sections = written.map((file) => {
    const notes = EMITTED_FILE_NOTES[file](registrations);
    return [
      `## ${file}`,
      "",
      `For ${notes.readBy}.`,
      ...notes.expects.map((line) => `- ${line}`),
      "",
      ...(notes.noLocalReader
        ? [`Not validated here: ${notes.noLocalReader}.`]
        : [
            "Validate it locally (from the repository; it runs the real program on this machine, whose version may differ):",
            "",
            "```sh",
            validationCommand(path.join(path.resolve(dir), file)),
            "```",
          ]),
    ].join("\n");
  });
  return [
    "# Server files rendered by dropstack",
    "",
    "Written by `npm run check -- <stack> --emit`: the bytes a deploy installs on the droplet.",
    "",
    ...sections.flatMap((section) => [section, ""]),
  ].join("\n");
}

/** Writes every file the stack renders and README.md; returns the names written and the names it does not render. */
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
  writeFileSync(path.join(dir, "README.md"), renderEmitReadme(dir, written, registrations));
  return { written, missing };
}
