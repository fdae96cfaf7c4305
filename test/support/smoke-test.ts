// A SmokeTest built directly under Pulumi's mocks (test/support/pulumi-mocks.ts or a file's
// own): the health check of one API host, an image pinned by digest, and the post-deploy
// watch the tests turn on.
import { SmokeTest, type SmokeTestArgs } from "../../components/hooks";
import { healthSmokeCheck } from "../../components/hooks/commands";

/** The image the smoke test vouches for (its passedImage once the checks pass). */
export const SMOKE_IMAGE = `ghcr.io/acme/api@sha256:${"b".repeat(64)}`;

/** app.watch on, for a staging stack that rolls back. */
export const SMOKE_WATCH: NonNullable<SmokeTestArgs["watch"]> = {
  nginxContainer: "acme-nginx",
  imageId: "sha256:" + "a".repeat(64),
  windowSeconds: 120,
  max5xxPercent: 1,
  p95LatencyMs: 800,
  minRequests: 20,
  stack: "staging",
  rollback: true,
  ignoredHosts: [],
};

/** A SmokeTest of SMOKE_IMAGE, with `extra` (the watch, the prune) on top. */
export function smokeTest(name: string, extra: Partial<SmokeTestArgs> = {}): SmokeTest {
  return new SmokeTest(name, {
    connection: { host: "203.0.113.10", user: "deploy" },
    checks: [healthSmokeCheck("api.example.com", "/healthz")],
    insecure: false,
    image: SMOKE_IMAGE,
    triggers: ["deploy-1"],
    dependsOn: [],
    ...extra,
  });
}
