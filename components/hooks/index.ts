// The deploy hooks (README "What one `pulumi up` does"; the scripts beside this file): a verified backup, then the migration, before any app
// container is replaced; and a smoke test through nginx after the rollout.
//
// Where things run. backup.sh and migrate.sh run in the pinned PostgreSQL client image on
// the droplet, as the scripts' headers say. The migration itself must run in the new app image, and
// migrate.sh must hold its advisory lock for as long as it runs. Running `docker run` from
// inside the client container would need the docker socket mounted, which policy forbids
// (it is root on the host); installing psql on the host would need cloud-init, which runs
// once per droplet. So migrate.sh's MIGRATE_COMMAND is a hand-off through two FIFOs in a
// per-run directory: the host side (handoff.sh, rendered by commands.ts) runs the migration in the app image on the
// dropstack network, then writes its exit status back; migrate.sh holds the lock until then
// and exits with that status. On an early exit the host stops the migration container
// before it lets migrate.sh go, so the lock never ends before the migration does.
//
// When they run. backup and migrate are replaced — and so run — only when their triggers
// change: the app image digest or dropstack:app.migrate. Any other change to their inputs
// (rotated secrets, a new BACKUP_KEEP) is a no-op update that applies at the next deploy, so
// a routine secret rotation never runs a migration, and a migration never runs without the
// backup that was taken for it.
import { componentType } from "../common/names";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
  DROPLET_PATHS,
  HOOK_SCRIPTS,
  HOOK_SUFFIX,
  backupStdin,
  migrateStdin,
  postgresClientImage,
  renderBackupCommand,
  renderDeferredUpdate,
  renderMigrateCommand,
  renderPrepareCommand,
  renderPruneImagesCommand,
  renderSmokeCommand,
  renderVerifyCommand,
  renderWatchCommand,
  smokeStdin,
  verifyStdin,
  type SqlAssertion,
  type SmokeCheck,
} from "./commands";
import {
  SCHEDULE_FILES,
  UNIT_DIR,
  type ScheduleSettings,
  renderDrillCommand,
  renderEnableTimersCommand,
  renderInstallFileCommand,
  renderScheduledBackupScript,
  renderUnits,
} from "./schedule";

export { HOOK_SUFFIX } from "./commands";

/** Off-site copies: the Backups component's outputs fit as they are. */
export interface OffsiteBackups {
  bucketName: pulumi.Input<string>;
  endpoint: pulumi.Input<string>;
  prefix: pulumi.Input<string>;
  accessKeyId: pulumi.Input<string>;
  /** Secret. */
  secretAccessKey: pulumi.Input<string>;
}

export interface HooksArgs {
  /** Host.connection: SSH as the deploy user with the host key pinned. */
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** Host.ready: cloud-init finished and /srv mounted. */
  hostReady: pulumi.CustomResource;
  /** The docker network the database and the app are reached on (Host.appNetwork.name). */
  networkName: pulumi.Input<string>;
  /** dropstack:postgres.version; selects the client image. */
  postgresVersion: string;
  /**
   * Secret. The migrator's direct connection (Database.migratorUri). Not a transaction
   * pool: migrate.sh's advisory lock lives in one session.
   */
  migratorUri: pulumi.Input<string>;
  /** The pinned app image reference being deployed (App.imageReference). */
  image: pulumi.Input<string>;
  /** dropstack:app.migrate */
  migrate: string;
  /** Secret. The app containers' environment; the migration gets it with DATABASE_URL and POSTGRES_* naming migratorUri. */
  environment: pulumi.Input<Record<string, string>>;
  /** dropstack:backups.keep */
  backupKeep: number;
  /** dropstack:backups.offsite on: the Backups component. */
  offsite?: OffsiteBackups;
  /** migrate.sh refuses a backup older than this; default 3600. */
  backupMaxAgeSeconds?: number;
  /** How long a migration waits for a running one; default 900. */
  migrateLockTimeoutSeconds?: number;
  /**
   * dropstack:app.verify.sql: assertions run as the readonly role after the migration; the
   * app containers wait for them. Absent (no assertions), the containers wait for the migration.
   */
  verify?: {
    assertions: SqlAssertion[];
    /** Secret. The readonly role's direct connection (Database.readonlyUri). */
    readonlyUri: pulumi.Input<string>;
  };
  /** Resources the backup must wait for besides the host: the database (roles, firewall), the pulled image. */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** Backups between deploys (components/hooks/schedule.ts); `roles` are the database's, for the drill's restore. */
  schedule: Omit<ScheduleSettings, "offsite"> & { roles: string[] };
}

const HOOKS_DIR = __dirname;

/**
 * `dropstack-backup-check.timer` → `freshness-timer`: the schedule's resource names never
 * contain HOOK_SUFFIX.backup, by which policies and the check's report find the deploy's backup.
 */
export function scheduleResourceKey(unitFile: string): string {
  return unitFile
    .replace(/^dropstack-/, "")
    .replace(/^backup-check\./, "freshness.")
    .replace(/^backup\./, "dump.")
    .replace(".", "-");
}

export function scriptDigest(file: string): string {
  return createHash("sha256")
    .update(readFileSync(path.join(HOOKS_DIR, file)))
    .digest("hex");
}

/**
 * What makes a deploy: a new image digest or a new migrate command. The backup and the
 * migration are replaced (and so run) exactly when these change.
 */
export function deployTriggers(image: pulumi.Input<string>, migrate: string): pulumi.Output<string[]> {
  return pulumi.output(image).apply((ref) => [ref, migrate]);
}

export class Hooks extends pulumi.ComponentResource {
  /** Copies of the hook scripts on the droplet, in DROPLET_PATHS.hooksDir. */
  readonly scripts: command.remote.CopyToRemote[];
  readonly backup: command.remote.Command;
  readonly migrate: command.remote.Command;
  /** The schema assertions, when dropstack:app.verify.sql has any. */
  readonly verify?: command.remote.Command;
  /** What the app containers wait for: the schema assertions, or the migration when there are none. */
  readonly schemaReady: command.remote.Command;
  /** The image digest and migrate command the hooks last ran for. */
  readonly triggers: pulumi.Output<string[]>;
  /** The scheduled backup, drill and freshness check: their scripts, units and stdin, then the timers. */
  readonly scheduleFiles: command.remote.Command[];
  readonly timers: command.remote.Command;

  constructor(name: string, args: HooksArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("Hooks"), name, {}, opts);
    const clientImage = postgresClientImage(args.postgresVersion);
    const network = pulumi.output(args.networkName);
    this.triggers = deployTriggers(args.image, args.migrate);

    const prepare = new command.remote.Command(
      `${name}-hooks-dirs`,
      {
        connection: args.connection,
        create: renderPrepareCommand(),
        triggers: [args.hostReady.id],
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [args.hostReady] },
    );

    this.scripts = HOOK_SCRIPTS.map(
      (file) =>
        new command.remote.CopyToRemote(
          `${name}-hook-${file.replace(/\.sh$/, "")}`,
          {
            connection: args.connection,
            source: new pulumi.asset.FileAsset(path.join(HOOKS_DIR, file)),
            remotePath: `${DROPLET_PATHS.hooksDir}/${file}`,
            triggers: [scriptDigest(file), args.hostReady.id],
          },
          { parent: this, dependsOn: [prepare] },
        ),
    );

    const offsite = args.offsite;
    const offsiteTarget = offsite
      ? pulumi
          .all([offsite.bucketName, offsite.endpoint, offsite.prefix])
          .apply(([bucket, endpoint, prefix]) => ({ bucket, endpoint, prefix }))
      : pulumi.output(undefined);
    const offsiteKeys = offsite
      ? pulumi
          .all([offsite.accessKeyId, offsite.secretAccessKey])
          .apply(([accessKeyId, secretAccessKey]) => ({ accessKeyId, secretAccessKey }))
      : pulumi.output(undefined);

    // Only deploy triggers replace the hooks; see the header.
    const hookOptions = (dependsOn: pulumi.Input<pulumi.Resource>[]): pulumi.CustomResourceOptions => ({
      parent: this,
      dependsOn,
      replaceOnChanges: ["triggers"],
    });

    this.backup = new command.remote.Command(
      `${name}${HOOK_SUFFIX.backup}`,
      {
        connection: args.connection,
        create: pulumi.all([network, args.image, offsiteTarget]).apply(([networkName, image, target]) =>
          renderBackupCommand({
            network: networkName,
            clientImage,
            label: image,
            keep: args.backupKeep,
            ...(target ? { offsite: target } : {}),
          }),
        ),
        update: renderDeferredUpdate("backup"),
        stdin: pulumi.secret(
          pulumi
            .all([args.migratorUri, offsiteKeys])
            .apply(([databaseUrl, keys]) => backupStdin({ databaseUrl, ...(keys ? { offsite: keys } : {}) })),
        ),
        triggers: this.triggers,
        logging: "stdoutAndStderr",
        addPreviousOutputInEnv: false,
      },
      hookOptions([...this.scripts, ...(args.dependsOn ?? [])]),
    );

    // migrate.sh itself refuses without a fresh verified backup; dependsOn makes the order visible.
    this.migrate = new command.remote.Command(
      `${name}${HOOK_SUFFIX.migrate}`,
      {
        connection: args.connection,
        create: pulumi.all([network, args.image]).apply(([networkName, image]) =>
          renderMigrateCommand({
            network: networkName,
            clientImage,
            image,
            migrate: args.migrate,
            maxBackupAgeSeconds: args.backupMaxAgeSeconds,
            lockTimeoutSeconds: args.migrateLockTimeoutSeconds,
          }),
        ),
        update: renderDeferredUpdate("migrate"),
        stdin: pulumi.secret(
          pulumi.all([args.migratorUri, args.environment]).apply(([databaseUrl, environment]) => migrateStdin(databaseUrl, environment)),
        ),
        triggers: this.triggers,
        logging: "stdoutAndStderr",
        addPreviousOutputInEnv: false,
      },
      hookOptions([this.backup]),
    );

    // Re-run on every deploy (triggers), and when the assertions change (the provider runs
    // create again on an update): a false assertion stops the rollout before any container.
    const verify = args.verify;
    if (verify) {
      this.verify = new command.remote.Command(
        `${name}${HOOK_SUFFIX.verify}`,
        {
          connection: args.connection,
          create: network.apply((networkName) => renderVerifyCommand({ network: networkName, clientImage, assertions: verify.assertions })),
          stdin: pulumi.secret(pulumi.output(verify.readonlyUri).apply(verifyStdin)),
          triggers: this.triggers,
          logging: "stdoutAndStderr",
          addPreviousOutputInEnv: false,
        },
        hookOptions([this.migrate]),
      );
    }
    this.schemaReady = this.verify ?? this.migrate;

    // Between deploys: the same backup on a timer, restore drills and the freshness check.
    const settings: ScheduleSettings = { ...args.schedule, offsite: offsite !== undefined };
    const installFile = (key: string, target: string, mode: "0600" | "0644" | "0755", content: pulumi.Input<string>) =>
      new command.remote.Command(
        `${name}-schedule-${key}`,
        {
          connection: args.connection,
          create: renderInstallFileCommand(target, mode),
          stdin: content,
          triggers: [args.hostReady.id],
          addPreviousOutputInEnv: false,
        },
        { parent: this, dependsOn: [prepare] },
      );
    const unitFiles = Object.entries(renderUnits(settings));
    this.scheduleFiles = [
      installFile(
        "dump-script",
        SCHEDULE_FILES.backupScript,
        "0644",
        pulumi.all([network, offsiteTarget]).apply(([networkName, target]) =>
          renderScheduledBackupScript({
            network: networkName,
            clientImage,
            keep: args.backupKeep,
            ...(target ? { offsite: target } : {}),
          }),
        ),
      ),
      installFile(
        "drill-script",
        SCHEDULE_FILES.drillScript,
        "0644",
        pulumi
          .all([offsiteTarget])
          .apply(([target]) => renderDrillCommand({ clientImage, roles: args.schedule.roles, ...(target ? { offsite: target } : {}) })),
      ),
      installFile(
        "stdin",
        SCHEDULE_FILES.stdin,
        "0600",
        pulumi.secret(
          pulumi
            .all([args.migratorUri, offsiteKeys])
            .apply(([databaseUrl, keys]) => backupStdin({ databaseUrl, ...(keys ? { offsite: keys } : {}) })),
        ),
      ),
      ...unitFiles.map(([file, content]) => installFile(scheduleResourceKey(file), `${UNIT_DIR}/${file}`, "0644", content)),
    ];
    this.timers = new command.remote.Command(
      `${name}-schedule-timers`,
      {
        connection: args.connection,
        create: renderEnableTimersCommand(settings),
        // Any changed unit or script: systemd reads them again.
        triggers: [args.hostReady.id, ...unitFiles.map(([, content]) => createHash("sha256").update(content).digest("hex"))],
        logging: "stdoutAndStderr",
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [...this.scheduleFiles, ...this.scripts] },
    );

    this.registerOutputs({ backup: this.backup.id, migrate: this.migrate.id, triggers: this.triggers, timers: this.timers.id });
  }
}

export interface SmokeTestArgs {
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** The health path check (healthSmokeCheck), then dropstack:app.smoke. */
  checks: SmokeCheck[];
  /** dropstack:tls.staging (see renderSmokeCommand). */
  insecure: boolean;
  /**
   * For checks with `token`: the stack's M2M client and its tenant's token endpoint. The
   * client ID and secret reach smoke.sh on stdin only.
   */
  token?: {
    url: pulumi.Input<string>;
    audience: pulumi.Input<string>;
    /** Secret. */
    clientId: pulumi.Input<string>;
    /** Secret. */
    clientSecret: pulumi.Input<string>;
  };
  /** The image reference the rollout deployed; `passedImage` resolves to it. */
  image: pulumi.Input<string>;
  /** Re-run whenever these change: the deploy triggers and the api containers' IDs. */
  triggers: pulumi.Input<unknown[]>;
  /** Everything the request goes through: the App (all its containers) and the proxy. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
  /**
   * dropstack:app.watch (seconds > 0): after the smoke test, nginx's requests are held against
   * the limits for the window; the prune and the promoted image wait for it.
   */
  watch?: {
    /** Proxy.nginx.name */
    nginxContainer: pulumi.Input<string>;
    /** The deployed image ID (App.image.imageId). */
    imageId: pulumi.Input<string>;
    windowSeconds: number;
    max5xxPercent: number;
    p95LatencyMs: number;
    minRequests: number;
    stack: string;
    /** dropstack:app.watch.rollback */
    rollback: boolean;
    /** Hosts whose requests the watch leaves out (Grafana's). */
    ignoredHosts: string[];
  };
  /** After a passing smoke test, prune older images of this repository (renderPruneImagesCommand). */
  pruneImages?: { repository: string; imageId: pulumi.Input<string> };
  /** Behind a load balancer: its IPv4 address, where the checks go instead of nginx on this droplet. */
  address?: pulumi.Input<string>;
}

/** The smoke command's address parameter, when there is one. */
function through(address: string | undefined): { address?: string } {
  return address === undefined ? {} : { address };
}

/** The post-rollout checks: the API's health path and dropstack:app.smoke answer through nginx on the droplet. */
export class SmokeTest extends pulumi.ComponentResource {
  readonly command: command.remote.Command;
  /** The image that passed; staging exports it as `promotedImage` for production's promotion guard. */
  readonly passedImage: pulumi.Output<string>;
  /** The post-deploy watch, with dropstack:app.watch.seconds > 0. */
  readonly watch?: command.remote.Command;
  /** Removes app images older than the running and the previous one, once the smoke test passed. */
  readonly prune?: command.remote.Command;

  constructor(name: string, args: SmokeTestArgs, opts?: pulumi.ComponentResourceOptions) {
    super(componentType("SmokeTest"), name, {}, opts);
    // The token is only fetched when a check sends it; otherwise the client's secret never reaches the droplet.
    const token = args.checks.some((c) => c.token) ? args.token : undefined;
    this.command = new command.remote.Command(
      `${name}${HOOK_SUFFIX.smoke}`,
      {
        connection: args.connection,
        create: token
          ? pulumi
              .all([token.url, token.audience, args.address])
              .apply(([url, audience, address]) =>
                renderSmokeCommand({ checks: args.checks, insecure: args.insecure, token: { url, audience }, ...through(address) }),
              )
          : args.address === undefined
            ? renderSmokeCommand({ checks: args.checks, insecure: args.insecure })
            : pulumi.output(args.address).apply((address) => renderSmokeCommand({ checks: args.checks, insecure: args.insecure, address })),
        ...(token
          ? {
              stdin: pulumi.secret(
                pulumi.all([token.clientId, token.clientSecret]).apply(([clientId, clientSecret]) => smokeStdin(clientId, clientSecret)),
              ),
            }
          : {}),
        triggers: args.triggers,
        logging: "stdoutAndStderr",
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: args.dependsOn },
    );
    const watch = args.watch;
    if (watch) {
      this.watch = new command.remote.Command(
        `${name}${HOOK_SUFFIX.watch}`,
        {
          connection: args.connection,
          create: pulumi
            .all([watch.nginxContainer, watch.imageId])
            .apply(([nginxContainer, currentImage]) => renderWatchCommand({ ...watch, nginxContainer, currentImage })),
          triggers: args.triggers,
          logging: "stdoutAndStderr",
          addPreviousOutputInEnv: false,
        },
        { parent: this, dependsOn: [this.command] },
      );
    }
    // Resolves only once the smoke test (and the watch, when on) passed: staging's promotedImage.
    const checked = this.watch ? [this.command.stdout, this.watch.stdout] : [this.command.stdout];
    this.passedImage = pulumi.all([args.image, ...checked]).apply(([image]) => image);
    const pruneImages = args.pruneImages;
    if (pruneImages) {
      this.prune = new command.remote.Command(
        `${name}-prune-images`,
        {
          connection: args.connection,
          create: pulumi
            .output(pruneImages.imageId)
            .apply((imageId) => renderPruneImagesCommand({ repository: pruneImages.repository, imageId })),
          triggers: args.triggers,
          logging: "stdoutAndStderr",
          addPreviousOutputInEnv: false,
        },
        { parent: this, dependsOn: [this.watch ?? this.command] },
      );
    }
    this.registerOutputs({ passedImage: this.passedImage });
  }
}
