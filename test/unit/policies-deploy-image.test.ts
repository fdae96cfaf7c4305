// app-image-pinned during a first preview: an app container's image is the app RemoteImage's
// image ID, which is unknown until the pull has run, and a container may name no image the
// policy can read. Neither is an unpinned image. Cases are generated over both roles and
// over an unknown, absent or non-string image, beside a pinned pull.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as docker from "@pulumi/docker";
import { ROLE_LABEL } from "../../components/common/names";
import { appImagePinned } from "../../policies/deploy";
import { FakeResource, stackViolations, typeOf } from "../support/policy";

/** What the analyzer's props proxy throws for a value not known during preview (matched by name). */
class UnknownValueError extends Error {}

const PINNED = `ghcr.io/acme/api:2.4.0@sha256:${"ab".repeat(32)}`;

function appContainer(role: string, image: "unknown" | "absent" | number): FakeResource {
  const props: Record<string, unknown> = { labels: [{ label: ROLE_LABEL, value: role }] };
  if (image === "unknown")
    Object.defineProperty(props, "image", {
      enumerable: true,
      get: () => {
        throw new UnknownValueError("image");
      },
    });
  else if (typeof image === "number") props.image = image;
  return { type: typeOf(docker.Container), name: `prod-${role}-0`, props };
}

describe("app-image-pinned: images not known yet", () => {
  it("passes app containers whose image is unknown during preview, absent, or not a reference", async () => {
    for (const role of ["api", "worker"])
      for (const image of ["unknown", "absent", 42] as const) {
        const stack = [{ type: typeOf(docker.RemoteImage), name: "prod-app-image", props: { name: PINNED } }, appContainer(role, image)];
        assert.deepEqual(await stackViolations(appImagePinned, stack), [], `${role} ${image}`);
      }
  });
});
