// Stack variants carrying many unsafe edits at once. Checking a variant costs about 3.5 s of
// CPU (the program, and the policy pack in a process of its own), and the suite is CPU-bound,
// so the test files that each show one edit breaking its policy read one shared check of
// all the edits (sharedStackVariant) instead of checking one variant each. The edits touch
// keys no other edit reads; test/cli/unsafe-stacks.test.ts shows that the check finds
// exactly the union of what each edit breaks, so no edit hides or causes another's finding.
import { type CheckReport, runCheck, sharedStackVariant } from "./check";

type Config = Record<string, unknown>;

export interface UnsafeEdit {
  apply(config: Config): void;
  /** The policies the edit breaks, and the resource (the end of its URN) each one names. */
  breaks: { policy: string; urn: RegExp }[];
}

const section = (config: Config, key: string) => config[`dropstack:${key}`] as Config;

/** A DigitalOcean resource of the stack, by type and the name after `dropstack-<stack>-`. */
const resource = (stack: string, type: string, name: string) =>
  new RegExp(`digitalocean:index/${type}:${type[0].toUpperCase()}${type.slice(1)}::dropstack-${stack}-${name}$`);

/** A finding on the stack as a whole names no resource. */
const THE_STACK = /^$/;

/** The same edit reads the same on either stack; the URNs name the stack's resources. */
function edits(stack: string) {
  return {
    adminCidrsOpenToTheWorld: {
      apply: (c: Config) => {
        c["dropstack:adminCidrs"] = ["0.0.0.0/0"];
      },
      breaks: [
        { policy: "firewall-no-public-admin-ports", urn: resource(stack, "firewall", "firewall") },
        { policy: "database-firewall-no-public-sources", urn: resource(stack, "databaseFirewall", "pg-firewall") },
      ],
    },
    dropletBackupsOff: {
      apply: (c: Config) => {
        section(c, "droplet").backups = false;
      },
      breaks: [{ policy: "droplet-backups-enabled", urn: resource(stack, "droplet", "droplet") }],
    },
    localhostCallback: {
      apply: (c: Config) => {
        section(c, "auth0").spa = { callbacks: ["http://localhost:3000/callback"] };
      },
      breaks: [{ policy: "auth0-client-no-insecure-urls", urn: new RegExp(`auth0:index/client:Client::dropstack-${stack}-spa$`) }],
    },
    singleDatabaseNode: {
      apply: (c: Config) => {
        section(c, "postgres").nodes = 1;
      },
      breaks: [{ policy: "database-cluster-high-availability", urn: resource(stack, "databaseCluster", "pg") }],
    },
    postgres12: {
      apply: (c: Config) => {
        section(c, "postgres").version = "12";
      },
      breaks: [{ policy: "database-cluster-supported-version", urn: resource(stack, "databaseCluster", "pg") }],
    },
    noAlertEmails: {
      apply: (c: Config) => {
        c["dropstack:alerts"] = { emails: [] };
      },
      breaks: [{ policy: "monitoring-alerts-configured", urn: THE_STACK }],
    },
    redisByTag: {
      apply: (c: Config) => {
        c["dropstack:redis"] = { ...section(c, "redis"), image: "redis:7" };
      },
      breaks: [{ policy: "redis-image-pinned", urn: new RegExp(`docker:index/container:Container::dropstack-${stack}-redis$`) }],
    },
    // A version tag is still a tag; the promotion override keeps the promotion guard out of it.
    appImageByTag: {
      apply: (c: Config) => {
        section(c, "app").image = "ghcr.io/acme/api:2.4.0";
        section(c, "promotion").allowUnpromoted = true;
      },
      breaks: [{ policy: "app-image-pinned", urn: new RegExp(`docker:index/remoteImage:RemoteImage::dropstack-${stack}-app-image$`) }],
    },
    inlineScriptsCsp: {
      apply: (c: Config) => {
        c["dropstack:proxy"] = { ...section(c, "proxy"), csp: "default-src 'self'; script-src 'self' 'unsafe-inline'" };
      },
      breaks: [{ policy: "nginx-csp-no-unsafe-inline-scripts", urn: new RegExp(`command:remote:Command::dropstack-${stack}-nginx-conf$`) }],
    },
    plainAuth0Secret: {
      apply: (c: Config) => {
        c["auth0:clientSecret"] = "plaintext";
      },
      breaks: [{ policy: "config-secrets-encrypted", urn: THE_STACK }],
    },
  } satisfies Record<string, UnsafeEdit>;
}

export type UnsafeEditName = keyof ReturnType<typeof edits>;

/** Production's variant: every edit, each a mandatory violation there. */
export const PRODUCTION_EDITS: UnsafeEditName[] = [
  "adminCidrsOpenToTheWorld",
  "dropletBackupsOff",
  "localhostCallback",
  "singleDatabaseNode",
  "postgres12",
  "noAlertEmails",
  "redisByTag",
  "appImageByTag",
  "inlineScriptsCsp",
];

/** Staging's variant: edits that production refuses and staging only warns about. */
export const STAGING_EDITS: UnsafeEditName[] = ["localhostCallback", "noAlertEmails", "plainAuth0Secret"];

export function unsafeEdits(stack: "staging" | "production"): Record<UnsafeEditName, UnsafeEdit> {
  return edits(stack);
}

/** The check of the stack's variant with all of its edits (made once per `npm test` run). */
export function checkUnsafeVariant(stack: "staging" | "production"): CheckReport {
  const all = unsafeEdits(stack);
  const names = stack === "production" ? PRODUCTION_EDITS : STAGING_EDITS;
  return runCheck(stack, {
    configFile: sharedStackVariant(stack, (config) => {
      for (const name of names) all[name].apply(config);
    }),
  });
}
