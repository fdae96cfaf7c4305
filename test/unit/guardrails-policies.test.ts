// The guardrail policies, each with violating and compliant inputs generated per class:
// secrets in the clear, production data safety, the ACME staging CA, the promotion override.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { renderCertbotScript } from "../../components/proxy/render";
import { backupsOffsiteEnabled, backupsRetentionMinimum, MIN_BACKUPS_KEPT } from "../../policies/backups";
import { deployPromotionOverride } from "../../policies/deploy";
import { UBUNTU_LTS_END_OF_SUPPORT, dropletImageProblem, dropletImageSupported } from "../../policies/host";
import { proxyTrustedCertificates } from "../../policies/proxy";
import { configSecretsEncrypted, looksSecret, plaintextSecrets } from "../../policies/secrets";
import { setStackConfig } from "../../policies/stack-config";
import { FakeResource, resourceViolations, stackViolations } from "../support/policy";

const DIGEST = `sha256:${"a".repeat(64)}`;
const OTHER = `sha256:${"b".repeat(64)}`;
const app = (env: Record<string, string>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ image: `ghcr.io/acme/api:1@${DIGEST}`, migrate: "x", env, ...extra });

afterEach(() => setStackConfig({}, []));

/** Secret-looking names in the spellings people use. */
function secretNames(): string[] {
  const stems = ["SECRET", "PASSWORD", "PASSWD", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "ACCESS_KEY", "CREDENTIALS", "PASSPHRASE"];
  const names: string[] = [];
  for (const stem of stems) {
    for (const name of [
      stem,
      `DB_${stem}`,
      `${stem}_VALUE`,
      `MY_${stem}_2`,
      stem.toLowerCase(),
      `stripe${stem[0]}${stem.slice(1).toLowerCase().replace(/_/g, "")}`,
    ])
      names.push(name);
  }
  return [
    ...names,
    "STRIPE_KEY",
    "SIGNING_KEY",
    "KEY",
    "SENDGRID_KEY",
    "DB_PWD",
    "JWT_SECRET",
    "SECRET_KEY_BASE",
    // Runs of separators count as one: PRIVATE_KEY and API_KEY still match.
    "private--key.file",
    "api..key-id",
    "GITHUB_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "clientSecret",
  ];
}

describe("policy config-secrets-encrypted", () => {
  it("flags every secret-looking app.env name with a plain value, naming it, never the value", async () => {
    for (const name of secretNames()) {
      assert.ok(looksSecret(name), name);
      setStackConfig({ "dropstack:app": app({ [name]: "hunter2-value" }) }, []);
      const found = await stackViolations(configSecretsEncrypted, []);
      assert.equal(found.length, 1, name);
      assert.match(
        found[0],
        new RegExp(`^dropstack:app\\.env\\.${name} looks like a secret and is stored in plain text: move it to appSecrets`),
      );
      assert.doesNotMatch(found[0], /hunter2/);
    }
  });

  it("flags URLs with a password (DSNs) under any name", async () => {
    for (const url of [
      "postgres://app:pw@db.example.com/app",
      "redis://:pw@cache:6379/0",
      "amqp://u:p@mq.example.com",
      "https://u:p@hooks.example.com/x",
      "mysql://root:r00t@10.0.0.1:3306/x",
    ]) {
      setStackConfig({ "dropstack:app": app({ BROKER: url }) }, []);
      const found = await stackViolations(configSecretsEncrypted, []);
      assert.deepEqual(
        found.map((f) => f.split(" and ")[0]),
        ["dropstack:app.env.BROKER is a URL with a password"],
        url,
      );
    }
  });

  it("flags plain provider credentials, plain appSecrets and credential leaves of other keys", async () => {
    const plain: Record<string, string> = {
      "digitalocean:token": "dop_v1_x",
      "digitalocean:spacesAccessId": "DO00X",
      "digitalocean:spacesSecretKey": "s",
      "auth0:clientSecret": "s",
      "auth0:apiToken": "t",
      "postgresql:password": "p",
      "cloudflare:apiToken": "t",
      "dropstack:appSecrets": JSON.stringify({ SECRET_KEY: "x" }),
      "dropstack:registry": JSON.stringify({ server: "ghcr.io", username: "bot", password: "p" }),
    };
    for (const [key, value] of Object.entries(plain)) {
      setStackConfig({ [key]: value }, []);
      const found = await stackViolations(configSecretsEncrypted, []);
      assert.equal(found.length, 1, key);
      assert.ok(found[0].startsWith(key === "dropstack:registry" ? "dropstack:registry.password" : key), found[0]);
      assert.match(found[0], /pulumi config set --secret/);
    }
  });

  it("leaves alone names where a stem is only part of a word, and blank credential leaves", () => {
    // PWD and KEY count only as whole words: at the start or after a separator, and at the end.
    for (const name of ["MONKEY", "TURKEY", "KEYBOARD", "HOCKEY_TEAM", "KEY_ID", "PUBLIC_KEY_PATH", "PWDX", "MYPWD", "PWD_FILE"])
      assert.equal(looksSecret(name), false, name);
    for (const name of [
      "PWD",
      "dbPwd",
      "SSH_KEY",
      "signingKey",
      "PRIVATEKEY",
      "privateKey",
      "ACCESSKEY",
      "webhookUrl",
      "SLACK_WEBHOOK_URL",
      "webhookurl",
    ])
      assert.equal(looksSecret(name), true, name);
    // A webhook's name or its events are not the URL that carries the token.
    for (const name of ["WEBHOOK_NAME", "webhookEvents", "WEBHOOK"]) assert.equal(looksSecret(name), false, name);
    assert.deepEqual(
      plaintextSecrets({ "dropstack:observability": JSON.stringify({ webhookUrl: "https://hooks.example.com/T0/B0/x" }) }, []),
      [
        "dropstack:observability.webhookUrl is a credential stored in plain text: pulumi config set --secret --path 'dropstack:observability.webhookUrl' <value>",
      ],
    );
    assert.deepEqual(
      plaintextSecrets({ "dropstack:observability": JSON.stringify({ webhookUrl: "https://hooks.example.com/T0/B0/x" }) }, [
        "dropstack:observability",
      ]),
      [],
    );
    // An unset credential (empty or null) is not a plain-text one; any other value is, at any depth.
    for (const password of ["", null]) assert.deepEqual(plaintextSecrets({ "dropstack:registry": JSON.stringify({ password }) }, []), []);
    for (const [value, path] of [
      [{ password: "x" }, "password"],
      [{ password: 0 }, "password"],
      [{ a: { b: { token: "t" } } }, "a.b.token"],
    ] as const) {
      const found = plaintextSecrets({ "dropstack:registry": JSON.stringify(value) }, []);
      assert.equal(found.length, 1, JSON.stringify(value));
      assert.ok(found[0].startsWith(`dropstack:registry.${path} is a credential stored in plain text`), found[0]);
    }
  });

  it("flags credentials inside app.image", () => {
    for (const image of ["bot:token@ghcr.io/acme/api:1", "https://bot:token@ghcr.io/acme/api:1"]) {
      assert.deepEqual(plaintextSecrets({ "dropstack:app": JSON.stringify({ image }) }, []).length, 1, image);
    }
  });

  it("accepts the same keys stored as secrets, and plain values that are not credentials", async () => {
    const config: Record<string, string> = {
      "digitalocean:token": "[secret]",
      "auth0:clientSecret": "[secret]",
      "auth0:domain": "acme.eu.auth0.com",
      "dropstack:appSecrets": "{}",
      "dropstack:app": app({
        LOG_LEVEL: "info",
        ENVIRONMENT: "production",
        MONKEY: "x",
        KEYBOARD: "us",
        SENTRY_DSN: "https://abc@o1.ingest.sentry.io/1",
        PUBLIC_URL: "https://app.example.com",
      }),
    };
    setStackConfig(config, ["digitalocean:token", "auth0:clientSecret", "dropstack:appSecrets"]);
    assert.deepEqual(await stackViolations(configSecretsEncrypted, []), []);
    // A wholly secret app object hides its env values too.
    setStackConfig({ "dropstack:app": app({ DB_PASSWORD: "x" }) }, ["dropstack:app"]);
    assert.deepEqual(await stackViolations(configSecretsEncrypted, []), []);
  });
});

describe("production data safety", () => {
  const cluster: FakeResource = { type: "digitalocean:index/databaseCluster:DatabaseCluster", name: "pg", props: {} };
  const bucket: FakeResource = { type: "digitalocean:index/spacesBucket:SpacesBucket", name: "backups", props: {} };

  it("backups-offsite-enabled flags a database without an off-site bucket", async () => {
    assert.match((await stackViolations(backupsOffsiteEnabled, [cluster]))[0] ?? "", /off-site backups are off/);
    assert.deepEqual(await stackViolations(backupsOffsiteEnabled, [cluster, bucket]), []);
    assert.deepEqual(await stackViolations(backupsOffsiteEnabled, []), []);
  });

  it("backups-retention-minimum flags every keep below the minimum", async () => {
    for (let keep = 1; keep < MIN_BACKUPS_KEPT; keep++) {
      setStackConfig({ "dropstack:backups": JSON.stringify({ keep, offsite: true }) }, []);
      assert.deepEqual(await stackViolations(backupsRetentionMinimum, []), [
        `dropstack:backups.keep is ${keep}: keep at least ${MIN_BACKUPS_KEPT} verified backups`,
      ]);
    }
    for (const keep of [MIN_BACKUPS_KEPT, 14, 365]) {
      setStackConfig({ "dropstack:backups": JSON.stringify({ keep, offsite: true }) }, []);
      assert.deepEqual(await stackViolations(backupsRetentionMinimum, []), []);
    }
    setStackConfig({}, []);
    assert.deepEqual(await stackViolations(backupsRetentionMinimum, []), [], "the default keep (7) is enough");
  });

  it("droplet-image-supported refuses end-of-life, interim and non-Ubuntu images", async () => {
    const today = new Date("2026-11-28T12:00:00Z");
    const eol = Object.entries(UBUNTU_LTS_END_OF_SUPPORT)
      .filter(([, end]) => end < "2026-11-28")
      .map(([release]) => `ubuntu-${release}-x64`);
    const supported = Object.entries(UBUNTU_LTS_END_OF_SUPPORT)
      .filter(([, end]) => end >= "2026-11-28")
      .map(([release]) => `ubuntu-${release}-x64`);
    assert.deepEqual(eol, ["ubuntu-16-04-x64", "ubuntu-18-04-x64", "ubuntu-20-04-x64"]);
    for (const image of eol) assert.match(dropletImageProblem(image, today) ?? "", /end of standard support/, image);
    for (const image of ["ubuntu-23-10-x64", "ubuntu-24-10-x64", "ubuntu-25-04-x64", "ubuntu-25-10-x64", "ubuntu-21-04-x64"])
      assert.match(dropletImageProblem(image, today) ?? "", /not an LTS release/, image);
    for (const image of ["debian-12-x64", "centos-7-x64", "ubuntu-24-04-x32", "12345678", "docker-20-04"])
      assert.match(dropletImageProblem(image, today) ?? "", /not an Ubuntu LTS image slug/, image);
    for (const image of supported) assert.equal(dropletImageProblem(image, today), undefined, image);
    // The day after its end of support, an LTS is refused.
    assert.match(dropletImageProblem("ubuntu-22-04-x64", new Date("2027-05-01")) ?? "", /end of standard support on 2027-04-30/);
    const droplet = (image: string): FakeResource => ({ type: "digitalocean:index/droplet:Droplet", props: { image } });
    assert.equal((await resourceViolations(dropletImageSupported, droplet("ubuntu-20-04-x64"))).length, 1);
    assert.deepEqual(await resourceViolations(dropletImageSupported, droplet("ubuntu-24-04-x64")), []);
  });
});

describe("policy proxy-trusted-certificates", () => {
  const script = (staging: boolean) => renderCertbotScript({ domains: ["api.example.com"], email: "ops@example.com", staging });
  const carriers = (content: string): FakeResource[] => [
    { type: "docker:index/container:Container", name: "certbot", props: { uploads: [{ file: "/usr/local/bin/certbot.sh", content }] } },
    { type: "command:remote:Command", name: "certbot-issue", props: { create: "sh -s issue", stdin: content } },
  ];
  it("flags the staging CA wherever the certbot script travels", async () => {
    for (const r of carriers(script(true)))
      assert.match((await resourceViolations(proxyTrustedCertificates, r))[0] ?? "", /staging CA.*dropstack:tls\.staging to false/, r.name);
  });
  it("accepts the real CA", async () => {
    for (const r of carriers(script(false))) assert.deepEqual(await resourceViolations(proxyTrustedCertificates, r), [], r.name);
  });
});

describe("policy deploy-promotion-override", () => {
  const image = (digest: string): FakeResource => ({
    type: "docker:index/remoteImage:RemoteImage",
    name: "dropstack-production-app-image",
    props: { name: `ghcr.io/acme/api:2@${digest}` },
  });
  const reference = (outputs: Record<string, unknown>): FakeResource => ({
    type: "pulumi:pulumi:StackReference",
    name: "staging",
    props: { name: "acme/dropstack/staging", outputs },
  });
  const override = (allowUnpromoted: boolean) =>
    setStackConfig({ "dropstack:promotion": JSON.stringify({ stagingStack: "acme/dropstack/staging", allowUnpromoted }) }, []);

  it("reports, with the digest, every way the override lets an unpromoted image through", async () => {
    override(true);
    const cases: FakeResource[][] = [
      [image(DIGEST)],
      [image(DIGEST), reference({ promotedImage: `ghcr.io/acme/api:1@${OTHER}` })],
      [image(DIGEST), reference({})],
      [image(DIGEST), reference({ promotedImage: "ghcr.io/acme/api:latest" })],
    ];
    for (const resources of cases) {
      const found = await stackViolations(deployPromotionOverride, resources);
      assert.equal(found.length, 1, JSON.stringify(resources));
      assert.ok(found[0].includes(DIGEST) && found[0].startsWith("dropstack:promotion.allowUnpromoted is true"), found[0]);
    }
  });

  it("stays quiet when the override is off or staging promoted the same digest", async () => {
    override(false);
    assert.deepEqual(await stackViolations(deployPromotionOverride, [image(DIGEST)]), []);
    override(true);
    assert.deepEqual(
      await stackViolations(deployPromotionOverride, [image(DIGEST), reference({ promotedImage: `ghcr.io/acme/api:2@${DIGEST}` })]),
      [],
    );
  });
});
