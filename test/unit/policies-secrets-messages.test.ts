// config-secrets-encrypted, message by message: every plain credential is named with the exact
// command that stores it encrypted, in a stable order, and values that hold no credential
// (empty, null, plain text, lists of plain words, images pinned by digest) are left alone.
// Cases are generated per class: every listed provider key plus secret-looking provider
// names, credential leaves in objects and lists at several depths and in any namespace, the
// same config in several insertion orders, and image references across registries (ports,
// localhost, Docker Hub short names and library/, tags, sha256 and sha512 digests) with and
// without user:password@ in front.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { policies } from "../../policies/all";
import { PROVIDER_CREDENTIAL_KEYS, configSecretsEncrypted, plaintextSecrets } from "../../policies/secrets";
import { setStackConfig } from "../../policies/stack-config";
import { stackViolations } from "../support/policy";

const DIGEST = `sha256:${"a".repeat(64)}`;
const SHA512 = `sha512:${"b".repeat(128)}`;

afterEach(() => setStackConfig({}, []));

const providerMessage = (key: string) =>
  `${key} is a credential stored in plain text: pulumi config set --secret '${key}' <value> (or use the provider's environment variable)`;
const leafMessage = (path: string) => `${path} is a credential stored in plain text: pulumi config set --secret --path '${path}' <value>`;
const envMessage = (name: string, why: string) =>
  `dropstack:app.env.${name} ${why} and is stored in plain text: move it to appSecrets (pulumi config set --secret --path 'dropstack:appSecrets.${name}' <value>) and remove it from app.env`;
const APP_SECRETS_MESSAGE =
  "dropstack:appSecrets is stored in plain text: set each value with pulumi config set --secret --path 'dropstack:appSecrets.<NAME>' <value>";
const IMAGE_MESSAGE =
  "dropstack:app.image carries registry credentials in plain text: remove them from the reference and give the registry credentials as secrets";

const appConfig = (app: Record<string, unknown>) => ({ "dropstack:app": JSON.stringify(app) });

/** Image references without credentials, across registries, tags and digests. */
function plainImages(): string[] {
  const repositories = [
    "redis",
    "library/redis",
    "docker.io/library/redis",
    "ghcr.io/acme/api",
    "registry.example.com:5000/acme/api",
    "localhost:5000/api",
    "localhost/team/api",
  ];
  const suffixes = ["", ":7", ":7.2-alpine", ":latest", `@${DIGEST}`, `:7@${DIGEST}`, `@${SHA512}`, `:1.0@${SHA512}`];
  // A short name with a digest other than sha256 (redis@sha512:...) is still taken for user@host: left out.
  return repositories.flatMap((repository) =>
    suffixes.filter((suffix) => repository.includes("/") || !suffix.includes("sha512")).map((suffix) => `${repository}${suffix}`),
  );
}

describe("config-secrets-encrypted messages", () => {
  it("names each plain provider credential with the command that encrypts it, without --path", () => {
    const keys = [...PROVIDER_CREDENTIAL_KEYS, "cloudflare:apiToken", "aws:secretKey", "random:password"];
    for (const key of keys) assert.deepEqual(plaintextSecrets({ [key]: "v" }, []), [providerMessage(key)], key);
  });

  it("names credential leaves of structured values by their --path, lists by index, in any namespace", () => {
    const cases: [string, unknown, string[]][] = [
      ["dropstack:registry", { server: "ghcr.io", username: "bot", password: "p" }, ["dropstack:registry.password"]],
      ["dropstack:registry", { a: { b: { apiKey: 1 } } }, ["dropstack:registry.a.b.apiKey"]],
      ["dropstack:extra", [{ token: "t" }, { name: "x" }, { token: "u" }], ["dropstack:extra[0].token", "dropstack:extra[2].token"]],
      ["dropstack:extra", { users: [{ name: "a", password: "p" }] }, ["dropstack:extra.users[0].password"]],
      ["dropstack:extra", [[{ secret: true }]], ["dropstack:extra[0][0].secret"]],
      ["docker:registryAuth", [{ address: "ghcr.io", username: "bot", password: "p" }], ["docker:registryAuth[0].password"]],
      ["kubernetes:settings", { clientKey: "k", namespace: "default" }, ["kubernetes:settings.clientKey"]],
    ];
    for (const [key, value, paths] of cases) {
      assert.deepEqual(plaintextSecrets({ [key]: JSON.stringify(value) }, []), paths.map(leafMessage), `${key} ${JSON.stringify(value)}`);
      // Stored encrypted (wholly or in part), the same key is fine.
      assert.deepEqual(plaintextSecrets({ [key]: JSON.stringify(value) }, [key]), [], key);
    }
  });

  it("names plain appSecrets with the per-value command, and not its values once more", () => {
    for (const value of ["{}", JSON.stringify({ SECRET_KEY: "x", API_TOKEN: "y" }), ""])
      assert.deepEqual(plaintextSecrets({ "dropstack:appSecrets": value }, []), [APP_SECRETS_MESSAGE], value);
  });

  it("names secret-looking app.env values and DSNs with the appSecrets command for that name, and only once", () => {
    assert.deepEqual(plaintextSecrets(appConfig({ env: { DB_PASSWORD: "x" } }), []), [envMessage("DB_PASSWORD", "looks like a secret")]);
    assert.deepEqual(plaintextSecrets(appConfig({ env: { BROKER: "amqp://u:p@mq" } }), []), [
      envMessage("BROKER", "is a URL with a password"),
    ]);
  });

  it("names registry credentials in app.image, digest-pinned or not, in every spelling", () => {
    for (const image of plainImages()) {
      assert.deepEqual(plaintextSecrets(appConfig({ image }), []), [], image);
      const bare = image.replace(/^(docker\.io|ghcr\.io|registry\.example\.com:5000|localhost:5000|localhost)\//, "");
      const registry = image === bare ? "ghcr.io/" : image.slice(0, image.length - bare.length);
      for (const credentials of ["bot:token@", "bot@", "bot:p%40ss@", "https://bot:token@", "oci+https://bot:token@"]) {
        const withCredentials = `${credentials}${registry}${bare}`;
        assert.deepEqual(plaintextSecrets(appConfig({ image: withCredentials }), []), [IMAGE_MESSAGE], withCredentials);
      }
    }
  });

  it("lists provider keys and leaves in key order, then appSecrets, then app.env and app.image, whatever order the config came in", () => {
    const entries: [string, string][] = [
      ["postgresql:password", "p"],
      ["dropstack:registry", JSON.stringify({ password: "p" })],
      ["auth0:apiToken", "t"],
      ["dropstack:appSecrets", "{}"],
      ["digitalocean:token", "t"],
      ["dropstack:app", JSON.stringify({ image: "bot:t@ghcr.io/acme/api:1", env: { Z_TOKEN: "z", A_SECRET: "a" } })],
      ["docker:registryAuth", JSON.stringify([{ password: "p" }])],
    ];
    const expected = [
      providerMessage("auth0:apiToken"),
      providerMessage("digitalocean:token"),
      leafMessage("docker:registryAuth[0].password"),
      leafMessage("dropstack:registry.password"),
      providerMessage("postgresql:password"),
      APP_SECRETS_MESSAGE,
      envMessage("Z_TOKEN", "looks like a secret"),
      envMessage("A_SECRET", "looks like a secret"),
      IMAGE_MESSAGE,
    ];
    for (let shift = 0; shift < entries.length; shift++) {
      const rotated = [...entries.slice(shift), ...entries.slice(0, shift)];
      for (const order of [rotated, [...rotated].reverse()])
        assert.deepEqual(plaintextSecrets(Object.fromEntries(order), []), expected, order.map(([k]) => k).join(" "));
    }
  });

  it("reports through the policy, in the pack every stack runs", async () => {
    setStackConfig({ "digitalocean:token": "t", ...appConfig({ env: { API_KEY: "k" } }) }, []);
    assert.deepEqual(await stackViolations(configSecretsEncrypted, []), [
      providerMessage("digitalocean:token"),
      envMessage("API_KEY", "looks like a secret"),
    ]);
    assert.ok(
      policies.some((policy) => policy.name === "config-secrets-encrypted"),
      "config-secrets-encrypted is in policies/all.ts",
    );
  });
});

describe("config-secrets-encrypted leaves alone", () => {
  it("unset credentials: empty provider keys, empty or null env values and leaves", () => {
    const config: Record<string, string> = {
      ...Object.fromEntries([...PROVIDER_CREDENTIAL_KEYS, "cloudflare:apiToken"].map((key) => [key, ""])),
      "dropstack:registry": JSON.stringify({ password: "", token: null, nested: { apiKey: "" }, list: [null, { secret: null }] }),
      ...appConfig({ env: { DB_PASSWORD: "", API_TOKEN: null, DATABASE_URL: "" } }),
    };
    assert.deepEqual(plaintextSecrets(config, []), []);
  });

  it("an app whose env or whole value is not an object", () => {
    for (const env of [null, "DB_PASSWORD=x", 3, true]) assert.deepEqual(plaintextSecrets(appConfig({ env }), []), [], JSON.stringify(env));
    for (const value of ["null", "[]", '["DB_PASSWORD"]', '"text"', "7", "not json {"])
      assert.deepEqual(plaintextSecrets({ "dropstack:app": value }, []), [], value);
  });

  it("plain text, scalars and lists of plain words under any key", () => {
    const config: Record<string, string> = {
      "dropstack:domain": "example.com",
      "dropstack:region": "fra1",
      "dropstack:manageDns": "true",
      "dropstack:replicas": "3",
      "dropstack:quoted": '"text"',
      "dropstack:nothing": "null",
      "dropstack:sshPublicKeys": JSON.stringify(["ssh-ed25519 AAAAC3Nza ops@example.com"]),
      "dropstack:adminCidrs": JSON.stringify(["198.51.100.0/24"]),
      "dropstack:backups": JSON.stringify({ keep: 7, offsite: true }),
      "auth0:domain": "acme.eu.auth0.com",
      "digitalocean:apiEndpoint": "https://api.digitalocean.com",
      "docker:host": "ssh://deploy@203.0.113.5",
    };
    assert.deepEqual(plaintextSecrets(config, []), []);
  });
});
