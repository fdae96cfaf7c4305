// Image references are the one config value users paste from a registry's UI, which offers
// them with a scheme and, for private registries, with the pull credentials inside. The
// schema refuses both, and its message repeats the value with the credentials masked, since
// config errors end up in CI logs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig } from "../../components/config/schema";
import { minimalConfig } from "../support/config";

const SCHEME_OR_CREDENTIALS =
  "expected an image reference without a scheme or credentials (registry.example.com/app:1.2.3@sha256:<64 hex>), got ";

function imageProblems(image: string, key: "app" | "redis" = "app"): string[] {
  const raw = minimalConfig();
  if (key === "app") raw.app.image = image;
  else raw.redis = { image };
  const result = parseStackConfig(raw, "staging");
  return result.ok ? [] : result.problems;
}

describe("an image reference with a scheme or credentials", () => {
  const secrets = ["s3cr3t", "ghp_0123456789abcdefABCDEF", "p@ss"];
  const users = ["bot", "robot$acme+ci", "oauth2accesstoken"];

  it("is refused, with the credentials masked in the message, for every way of writing them", () => {
    for (const [key, where] of [
      ["app", "dropstack:app.image"],
      ["redis", "dropstack:redis.image"],
    ] as const) {
      for (const user of users) {
        for (const secret of secrets.filter((s) => !s.includes("@"))) {
          for (const scheme of ["https", "http", "docker", "HTTPS", "oci+https"]) {
            const image = `${scheme}://${user}:${secret}@registry.example.com/acme/api:1.0.0`;
            assert.deepEqual(imageProblems(image, key), [
              `${where}: ${SCHEME_OR_CREDENTIALS}"${scheme}://***@registry.example.com/acme/api:1.0.0"`,
            ]);
          }
          assert.deepEqual(imageProblems(`${user}:${secret}@registry.example.com/acme/api:1.0.0`, key), [
            `${where}: ${SCHEME_OR_CREDENTIALS}"***@registry.example.com/acme/api:1.0.0"`,
          ]);
          assert.deepEqual(imageProblems(`https://${secret}@ghcr.io/acme/api`, key), [
            `${where}: ${SCHEME_OR_CREDENTIALS}"https://***@ghcr.io/acme/api"`,
          ]);
        }
      }
    }
  });

  it("never repeats a credential, whatever it contains", () => {
    for (const user of users)
      for (const secret of secrets) {
        for (const image of [`https://${user}:${secret}@registry.example.com/api:1`, `${user}:${secret}@registry.example.com/api:1`]) {
          const problems = imageProblems(image);
          assert.equal(problems.length, 1, image);
          for (const part of [user, secret, ...secret.split("@")].filter((p) => p.length > 2))
            assert.ok(!problems[0].includes(part), `${image}: ${problems[0]}`);
        }
      }
  });

  it("with a scheme and no credentials is refused with the value as written", () => {
    for (const image of [
      "https://registry.example.com/acme/api:1.0.0",
      "docker://ghcr.io/acme/api",
      "HTTP://ghcr.io/acme/api@sha256:" + "a".repeat(64),
    ])
      assert.deepEqual(imageProblems(image), [`dropstack:app.image: ${SCHEME_OR_CREDENTIALS}${JSON.stringify(image)}`]);
  });

  it("is a scheme only at the start: a :// further on makes a malformed reference, not a scheme", () => {
    for (const image of ["registry.example.com/a://b", "ghcr.io/acme/api:https://x"])
      assert.deepEqual(imageProblems(image), [
        `dropstack:app.image: expected an image reference like registry.example.com/app:1.2.3@sha256:<64 hex>, got ${JSON.stringify(image)}`,
      ]);
  });

  it("is told apart from a plain reference whose tag or digest holds a colon", () => {
    for (const image of [
      "registry.example.com:5000/acme/api:1.0.0",
      "ghcr.io/acme/api:1.0.0@sha256:" + "b".repeat(64),
      "redis:7.4.1-alpine",
    ])
      assert.deepEqual(imageProblems(image), [], image);
  });
});
