// The frontend's replicas are held to the api's rules: a pinned image, and a rollout gated on
// health. Both policies, violating and compliant, for every way a frontend can miss them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as docker from "@pulumi/docker";
import { FRONTEND_IMAGE_SUFFIX } from "../../components/common/names";
import { appHealthchecked, appImagePinned } from "../../policies/deploy";
import { type FakeResource, resourceViolations, stackViolations, typeOf } from "../support/policy";

const CONTAINER = typeOf(docker.Container);
const REMOTE_IMAGE = typeOf(docker.RemoteImage);
const DIGEST = `@sha256:${"ef".repeat(32)}`;
const healthcheck = { tests: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:80/"] };
const frontend = (props: Record<string, unknown>): FakeResource => ({
  type: CONTAINER,
  name: "prod-frontend-0",
  props: { labels: [{ label: "dropstack.role", value: "frontend" }], ...props },
});

describe("app-image-pinned for the frontend", () => {
  const pull = (name: string): FakeResource => ({ type: REMOTE_IMAGE, name: `prod${FRONTEND_IMAGE_SUFFIX}`, props: { name } });

  it("passes a frontend image pinned by digest, with or without a tag, in any registry", async () => {
    for (const name of [`ghcr.io/acme/web:3.1.0${DIGEST}`, `acme/web${DIGEST}`, `registry.example.com:5000/team/web:1${DIGEST}`])
      assert.deepEqual(await stackViolations(appImagePinned, [pull(name)]), [], name);
  });

  it("flags a frontend image named by a tag alone, pointing at dropstack:frontend.image", async () => {
    for (const name of ["ghcr.io/acme/web:latest", "acme/web:3.1.0", "web", `ghcr.io/acme/web:3.1.0@sha256:${"ef".repeat(31)}`]) {
      const violations = await stackViolations(appImagePinned, [pull(name)]);
      assert.deepEqual(violations.length, 1, name);
      assert.match(
        violations[0],
        new RegExp(
          `^the frontend image "${name.replace(/[.:/@]/g, "\\$&")}" can change under the same name: set dropstack:frontend\\.image to a digest reference`,
        ),
      );
    }
  });
});

describe("app-healthchecked for the frontend", () => {
  it("passes a frontend replica with a healthcheck that waits to turn healthy", async () => {
    assert.deepEqual(await resourceViolations(appHealthchecked, frontend({ healthcheck, wait: true })), []);
  });

  it("flags a frontend replica without a healthcheck, or with NONE, naming the frontend's keys", async () => {
    for (const props of [{ wait: true }, { wait: true, healthcheck: { tests: ["NONE"] } }, { wait: true, healthcheck: { tests: [] } }]) {
      const violations = await resourceViolations(appHealthchecked, frontend(props));
      assert.equal(violations.length, 1, JSON.stringify(props));
      assert.match(
        violations[0],
        /^frontend container prod-frontend-0 has no healthcheck: .*dropstack:frontend\.healthPath on dropstack:frontend\.port/,
      );
    }
  });

  it("flags a frontend replica that does not wait, whatever else it has", async () => {
    for (const wait of [false, undefined, "true"]) {
      const violations = await resourceViolations(appHealthchecked, frontend({ healthcheck, wait }));
      assert.deepEqual(violations.length, 1, String(wait));
      assert.match(violations[0], /^frontend container prod-frontend-0 does not wait to turn healthy: set wait: true/);
    }
  });
});
