// Deploy policies: the hooks run in order (backup → migrate → app containers), the app
// runs an image pinned by digest behind a healthcheck, and no container can reach the host.
//
// Hooks are found by their logical names (components/hooks HOOK_SUFFIX), which are known
// during preview, unlike their rendered scripts; app containers by the `dropstack.role`
// label components/app sets.
import { posix } from "node:path";
import * as docker from "@pulumi/docker";
import { PolicyResource, ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { APP_IMAGE_SUFFIX, CONTAINER_ROLES, FRONTEND_IMAGE_SUFFIX, HOOK_SUFFIX, ROLE_LABEL } from "../components/common/names";
import { imageDigest, isDigestPinned } from "../components/common/patterns";
import { PROMOTED_IMAGE_OUTPUT } from "../components/promotion/evaluate";
import { stackConfig } from "./stack-config";
import { asList, asProps, dependsOnTransitively, known, label } from "./util";

const APP_ROLES: readonly string[] = [CONTAINER_ROLES.api, CONTAINER_ROLES.worker];

const COMMAND = "command:remote:Command";
const CONTAINER = "docker:index/container:Container";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const PIN_HINT =
  "set dropstack:app.image to a digest reference like registry.example.com/app:1.2.3@sha256:<64 hex> (`docker buildx imagetools inspect <image>` prints it)";

/** `api` or `worker` for dropstack's app containers, from their `dropstack.role` label. */
export function appRole(labels: unknown): string | undefined {
  const role = roleOf(labels);
  return typeof role === "string" && APP_ROLES.includes(role) ? role : undefined;
}

interface AppContainer {
  resource: PolicyResource;
  role: string;
}

/** The frontend's pull, `<name>-frontend-image` (components/frontend). */
function isFrontendImage(resource: PolicyResource): boolean {
  return resource.type === REMOTE_IMAGE && resource.name.endsWith(FRONTEND_IMAGE_SUFFIX);
}

/** The role label of a container, whatever it is. */
function roleOf(labels: unknown): unknown {
  return asList(labels)
    .map(asProps)
    .find((l) => l.label === ROLE_LABEL)?.value;
}

/** The app's pull, `<name>-app-image` (components/app), told from Redis's and nginx's. */
function isAppImage(resource: PolicyResource): boolean {
  return resource.type === REMOTE_IMAGE && resource.name.endsWith(APP_IMAGE_SUFFIX);
}

function appContainers(resources: PolicyResource[]): AppContainer[] {
  return resources.flatMap((resource) => {
    if (resource.type !== CONTAINER) return [];
    const role = appRole(known(() => resource.props.labels));
    return role ? [{ resource, role }] : [];
  });
}

export const deployHooksOrdered: StackValidationPolicy = {
  name: "deploy-hooks-ordered",
  description:
    "A deploy runs in order: every migrate Command waits for a backup Command, and every app container (api, worker) waits for a migrate Command, so a failed backup stops the migration and a failed migration stops the rollout.",
  validateStack: (args, reportViolation) => {
    const commands = args.resources.filter((r) => r.type === COMMAND);
    const backups = commands.filter((c) => c.name.endsWith(HOOK_SUFFIX.backup));
    const migrations = commands.filter((c) => c.name.endsWith(HOOK_SUFFIX.migrate));
    for (const migration of migrations) {
      if (!backups.some((backup) => dependsOnTransitively(migration, backup, args.resources))) {
        reportViolation(
          `migrate Command ${label(migration)} does not wait for a backup Command: give it dependsOn on the "${HOOK_SUFFIX.backup}" Command (components/hooks does), so no migration runs without a fresh backup`,
          migration.urn,
        );
      }
    }
    for (const { resource, role } of appContainers(args.resources)) {
      if (!migrations.some((migration) => dependsOnTransitively(resource, migration, args.resources))) {
        reportViolation(
          `${role} container ${label(resource)} does not wait for a migrate Command: give it dependsOn on the "${HOOK_SUFFIX.migrate}" Command (components/app does), so new code never starts against an old schema`,
          resource.urn,
        );
      }
    }
  },
};

export const appImagePinned: StackValidationPolicy = {
  name: "app-image-pinned",
  description:
    "The app and frontend images are named by an @sha256: digest, and their containers run them by image ID or digest, so what was tested is exactly what runs.",
  validateStack: (args, reportViolation) => {
    for (const remoteImage of args.resources.filter(isFrontendImage)) {
      const name = known(() => remoteImage.asType(docker.RemoteImage)?.name);
      if (typeof name === "string" && !isDigestPinned(name)) {
        reportViolation(
          `the frontend image "${name}" can change under the same name: ${PIN_HINT.replace("dropstack:app.image", "dropstack:frontend.image")}`,
          remoteImage.urn,
        );
      }
    }
    for (const remoteImage of args.resources.filter(isAppImage)) {
      const name = known(() => remoteImage.asType(docker.RemoteImage)?.name);
      if (typeof name === "string" && !isDigestPinned(name)) {
        reportViolation(`the app image "${name}" can change under the same name: ${PIN_HINT}`, remoteImage.urn);
      }
    }
    for (const { resource, role } of appContainers(args.resources)) {
      const image = known(() => resource.props.image);
      // An image ID (sha256:…, what the app's containers run) names exact content too.
      if (typeof image === "string" && !isDigestPinned(image) && !image.startsWith("sha256:")) {
        reportViolation(`${role} container ${label(resource)} runs "${image}", which is not pinned by digest: ${PIN_HINT}`, resource.urn);
      }
    }
  },
};

export const appHealthchecked: ResourceValidationPolicy = {
  name: "app-healthchecked",
  description:
    "api and frontend containers have a healthcheck and `wait: true`, so a replica that never turns healthy fails the update while the old one keeps serving.",
  validateResource: validateResourceOfType(docker.Container, (container, args, reportViolation) => {
    const role = roleOf(container.labels);
    if (role !== CONTAINER_ROLES.api && role !== CONTAINER_ROLES.frontend) return;
    const tests = (container.healthcheck?.tests ?? []).map(String);
    if (tests.length === 0 || tests[0] === "NONE") {
      reportViolation(
        role === CONTAINER_ROLES.api
          ? `api container ${label(args)} has no healthcheck: set healthcheck.tests (components/app probes dropstack:app.healthPath on dropstack:app.port)`
          : `frontend container ${label(args)} has no healthcheck: set healthcheck.tests (components/frontend probes dropstack:frontend.healthPath on dropstack:frontend.port)`,
      );
    }
    if (container.wait !== true) {
      reportViolation(
        `${role} container ${label(args)} does not wait to turn healthy: set wait: true (and waitTimeout), or the rollout is not gated on health`,
      );
    }
  }),
};

const DOCKER_SOCKETS = ["/var/run/docker.sock", "/run/docker.sock"];

/** True for the docker socket itself or any directory above it (mounting /var/run exposes it too). */
export function exposesDockerSocket(hostPath: string): boolean {
  // The kernel resolves /var//run and /srv/../var/run to /var/run, so the check must too.
  // normalize leaves at most one trailing slash; the root strips to "", and every socket starts with "/".
  const path = posix.normalize(hostPath).replace(/\/$/, "");
  return path.endsWith("docker.sock") || DOCKER_SOCKETS.some((socket) => socket.startsWith(`${path}/`));
}

/** Capabilities that each amount to root on the droplet (or the kernel) for a compromised container. */
export const HOST_LEVEL_CAPABILITIES = [
  "ALL",
  "SYS_ADMIN",
  "SYS_MODULE",
  "SYS_PTRACE",
  "SYS_RAWIO",
  "SYS_BOOT",
  "SYS_TIME",
  "NET_ADMIN",
  "DAC_READ_SEARCH",
  "MAC_ADMIN",
  "MAC_OVERRIDE",
  "BPF",
  "PERFMON",
];
const NO_NEW_PRIVILEGES = /^no-new-privileges(:true|=true)?$/;
/** seccomp or AppArmor switched off, or SELinux labelling disabled. */
const UNCONFINED = /^((seccomp|apparmor)[:=]unconfined|label[:=]disable)$/i;

export const containerIsolated: ResourceValidationPolicy = {
  name: "container-isolated",
  description:
    "No container is privileged, gains privileges through setuid binaries, runs unconfined by seccomp or AppArmor, holds a host-level capability, shares the host's network, processes or IPC, or mounts the Docker socket: each of those hands a compromised container the whole droplet.",
  validateResource: validateResourceOfType(docker.Container, (container, args, reportViolation) => {
    if (container.privileged === true) {
      reportViolation(`container ${label(args)} is privileged: remove privileged: true (add only the capabilities it needs)`);
    }
    const securityOpts = asList(container.securityOpts).map(String);
    if (!securityOpts.some((option) => NO_NEW_PRIVILEGES.test(option))) {
      reportViolation(`container ${label(args)} can gain privileges through setuid binaries: add securityOpts: ["no-new-privileges:true"]`);
    }
    for (const option of securityOpts.filter((o) => UNCONFINED.test(o))) {
      reportViolation(`container ${label(args)} turns off a kernel confinement with securityOpts "${option}": remove it`);
    }
    const added = asList(container.capabilities?.adds).map((c) => String(c).toUpperCase().replace(/^CAP_/, ""));
    for (const capability of added.filter((c) => HOST_LEVEL_CAPABILITIES.includes(c))) {
      reportViolation(`container ${label(args)} adds the capability ${capability}, which amounts to root on the droplet: remove it`);
    }
    if (container.networkMode === "host") {
      reportViolation(`container ${label(args)} uses the host network: attach it to the dropstack network with networksAdvanced instead`);
    }
    for (const [key, mode] of [
      ["pidMode", container.pidMode],
      ["ipcMode", container.ipcMode],
      ["usernsMode", container.usernsMode],
    ] as const) {
      if (mode === "host") reportViolation(`container ${label(args)} shares the host's namespace through ${key}: "host": remove it`);
    }
    const hostPaths = [
      ...(container.volumes ?? []).map((v) => v.hostPath),
      ...(container.mounts ?? []).filter((m) => m.type === "bind").map((m) => m.source),
    ].filter((p): p is string => typeof p === "string");
    for (const hostPath of hostPaths.filter(exposesDockerSocket)) {
      reportViolation(
        `container ${label(args)} mounts ${hostPath}, which exposes the Docker socket (root on the droplet): remove that mount`,
      );
    }
  }),
};

const STACK_REFERENCE = "pulumi:pulumi:StackReference";

export const deployPromotionOverride: StackValidationPolicy = {
  name: "deploy-promotion-override",
  description:
    "When dropstack:promotion.allowUnpromoted lets an image ship that staging did not promote, the preview says so, with the digest (advisory: the override is deliberate, never silent).",
  validateStack: (args, reportViolation) => {
    // Until the engine sends the config (older CLIs never do) it is empty: the override is off.
    const { config } = stackConfig();
    let allowUnpromoted = false;
    try {
      allowUnpromoted = (JSON.parse(config["dropstack:promotion"] ?? "{}") as { allowUnpromoted?: unknown }).allowUnpromoted === true;
    } catch {
      // Not a JSON object: the config checks report that, and the override stays off.
    }
    if (!allowUnpromoted) return;
    const appImage = args.resources.find(isAppImage);
    const image = appImage ? known(() => appImage.asType(docker.RemoteImage)?.name) : undefined;
    if (typeof image !== "string") return;
    const shipped = imageDigest(image) ?? `${image} (not pinned by digest)`;
    const references = args.resources.filter((r) => r.type === STACK_REFERENCE);
    if (references.length === 0) {
      reportViolation(
        `dropstack:promotion.allowUnpromoted is true and no staging stack is read: ${shipped} ships without staging's smoke test`,
        appImage?.urn,
      );
      return;
    }
    for (const reference of references) {
      const outputs = asProps(known(() => reference.props.outputs));
      const promoted = outputs[PROMOTED_IMAGE_OUTPUT];
      const stagingStack = String(known(() => reference.props.name) ?? reference.name);
      if (typeof promoted === "string" && imageDigest(promoted) !== undefined && imageDigest(promoted) === imageDigest(image)) continue;
      const what =
        typeof promoted === "string"
          ? `${stagingStack} promoted ${imageDigest(promoted) ?? promoted}`
          : `${stagingStack} has no ${PROMOTED_IMAGE_OUTPUT} output`;
      reportViolation(
        `dropstack:promotion.allowUnpromoted is true: ${shipped} ships although ${what}; set it back to false after this deploy`,
        appImage?.urn,
      );
    }
  },
};

export const deployPolicies = [deployHooksOrdered, appImagePinned, appHealthchecked, containerIsolated, deployPromotionOverride];
