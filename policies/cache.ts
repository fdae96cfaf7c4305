// Cache policies: the Redis container on the droplet has a password, stays off the
// droplet's interfaces and runs an image that cannot change under it.
//
// These are stack policies because a container's `image` is usually the image ID of a
// docker.RemoteImage (unknown until the pull); the reference that says which image and
// version runs lives on that RemoteImage, which the container depends on.
import * as docker from "@pulumi/docker";
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { CONTAINER_ROLES, ROLE_LABEL } from "../components/common/names";
import { DIGEST } from "../components/common/patterns";
import { known, label } from "./util";

const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";

export interface ImageReference {
  /** Repository path without the registry host; `library/` is dropped (`redis`, `bitnami/redis`). */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits `registry:5000/team/redis:7.4.1-alpine@sha256:…`; undefined for an image ID. */
export function parseImageReference(reference: string): ImageReference | undefined {
  // An image ID (sha256:<hex>) names no repository.
  if (reference.startsWith("sha256:") || reference.length === 0) return undefined;
  const [nameAndTag, digest] = reference.split("@", 2);
  const lastSlash = nameAndTag.lastIndexOf("/");
  // Searching from the slash itself (or from 0 when there is none) finds the tag's colon, not a port's.
  const colon = nameAndTag.indexOf(":", lastSlash);
  const name = colon === -1 ? nameAndTag : nameAndTag.slice(0, colon);
  const tag = colon === -1 ? undefined : nameAndTag.slice(colon + 1);
  const parts = name.split("/");
  // A first part with a dot or a port, or "localhost", is a registry host, not a path.
  if (parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost")) parts.shift();
  if (parts.length > 1 && parts[0] === "library") parts.shift();
  return { repository: parts.join("/"), ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

// 7.4.1, 7.4.1-alpine, 7.4.1-alpine3.20, v1.2.3: one release, not a moving line like 7, 7.4 or alpine.
const EXACT_VERSION_TAG = /^v?\d+\.\d+\.\d+([-._][\w.-]*)?$/;

/** Pinned: an `@sha256:` digest, or a tag naming one exact release. */
export function isPinnedImage(reference: string): boolean {
  const parsed = parseImageReference(reference);
  if (!parsed) return false;
  if (parsed.digest !== undefined) return DIGEST.test(parsed.digest);
  return parsed.tag !== undefined && EXACT_VERSION_TAG.test(parsed.tag);
}

function isRedisReference(reference: string | undefined): boolean {
  const repository = reference === undefined ? undefined : parseImageReference(reference)?.repository;
  return repository !== undefined && /(^|\/)redis$/.test(repository);
}

type ContainerProps = NonNullable<ReturnType<typeof asContainer>>;

// asType answers undefined for any other type: the analyzer compares type tokens.
function asContainer(resource: PolicyResource) {
  return resource.asType(docker.Container);
}

export interface CacheContainer {
  resource: PolicyResource;
  container: ContainerProps;
  /** The image reference it runs: the container's own, or the name of the RemoteImage it uses. */
  imageReference?: string;
}

/**
 * The name of the RemoteImage whose ID the container runs: the one its `image` input came
 * from, else its only RemoteImage dependency. A container that merely waits for others
 * (the app waits for the whole Cache, Redis' image included) gets no name from them.
 */
function pulledImageName(container: PolicyResource): string | undefined {
  const fromImageInput = (container.propertyDependencies.image ?? []).filter((d) => d.type === REMOTE_IMAGE);
  const waitedFor = container.dependencies.filter((d) => d.type === REMOTE_IMAGE);
  const source = fromImageInput.length === 1 ? fromImageInput[0] : waitedFor.length === 1 ? waitedFor[0] : undefined;
  // The analyzer hands over a RemoteImage's name as a string, or throws while it is unknown.
  return source ? known(() => source.asType(docker.RemoteImage)?.name) : undefined;
}

/** Redis containers: labelled by components/cache, or running an image named redis. */
export function findCacheContainers(resources: PolicyResource[]): CacheContainer[] {
  const found: CacheContainer[] = [];
  for (const resource of resources) {
    const container = asContainer(resource);
    if (!container) continue;
    const ownImage = known(() => container.image);
    const ownReference = typeof ownImage === "string" && parseImageReference(ownImage) ? ownImage : undefined;
    const imageReference = ownReference ?? pulledImageName(resource);
    const labelled = (known(() => container.labels) ?? []).some((l) => l.label === ROLE_LABEL && l.value === CONTAINER_ROLES.cache);
    if (labelled || isRedisReference(imageReference)) found.push({ resource, container, imageReference });
  }
  return found;
}

const REQUIREPASS_LINE = /^\s*requirepass\s+("[^"\s]+"|'[^'\s]+'|[^\s"']+)\s*$/m;

/** True when the container's redis-server starts with a password: `--requirepass`, or a conf it uploads. */
export function containerRequiresPassword(container: Pick<ContainerProps, "command" | "uploads">): boolean {
  const command = (container.command ?? []).map(String);
  const flag = command.indexOf("--requirepass");
  if (flag !== -1 && (command[flag + 1] ?? "").length > 0) return true;
  // A requirepass only counts in a file redis-server is actually told to read.
  const confPaths = command.filter((arg) => arg.endsWith(".conf"));
  return (container.uploads ?? []).some(
    (u) => confPaths.includes(u.file) && typeof u.content === "string" && REQUIREPASS_LINE.test(u.content),
  );
}

export const redisPasswordRequired: StackValidationPolicy = {
  name: "redis-password-required",
  description: "The Redis container requires a password (requirepass in the redis.conf it starts with, or --requirepass).",
  validateStack: (args, reportViolation) => {
    for (const { resource, container } of findCacheContainers(args.resources)) {
      if (!containerRequiresPassword(container)) {
        reportViolation(
          `Redis container ${label(resource)} starts without a password: upload a redis.conf with requirepass (components/cache renders one) and pass its path to redis-server`,
          resource.urn,
        );
      }
    }
  },
};

export const redisPortNotPublished: StackValidationPolicy = {
  name: "redis-port-not-published",
  description: "The Redis container is reachable only over the private docker network, never on the droplet's interfaces.",
  validateStack: (args, reportViolation) => {
    for (const { resource, container } of findCacheContainers(args.resources)) {
      const ports = container.ports ?? [];
      if (ports.length > 0) {
        const published = ports.map((p) => `${p.external ?? "(random)"}->${p.internal}`).join(", ");
        reportViolation(
          `Redis container ${label(resource)} publishes ports ${published}: remove \`ports\`; the app reaches Redis as "redis" on the dropstack network`,
          resource.urn,
        );
      }
      if (container.publishAllPorts === true)
        reportViolation(`Redis container ${label(resource)} sets publishAllPorts: remove it`, resource.urn);
      if (container.networkMode === "host")
        reportViolation(
          `Redis container ${label(resource)} uses the host network, which puts Redis on the droplet's interfaces: attach it to the dropstack network instead`,
          resource.urn,
        );
    }
  },
};

export const redisImagePinned: StackValidationPolicy = {
  name: "redis-image-pinned",
  description:
    "The Redis image is pinned to an exact version tag (e.g. redis:7.4.1-alpine) or an @sha256: digest, so no deploy upgrades Redis by surprise.",
  validateStack: (args, reportViolation) => {
    for (const { resource, imageReference } of findCacheContainers(args.resources)) {
      if (imageReference === undefined) {
        reportViolation(
          `cannot tell which image Redis container ${label(resource)} runs: pull it with a docker.RemoteImage named by dropstack:redis.image`,
          resource.urn,
        );
      } else if (!isPinnedImage(imageReference)) {
        reportViolation(
          `Redis image "${imageReference}" can change under the same name: set dropstack:redis.image to an exact version like redis:7.4.1-alpine, or add @sha256:<digest>`,
          resource.urn,
        );
      }
    }
  },
};

export const cachePolicies = [redisPasswordRequired, redisPortNotPublished, redisImagePinned];
