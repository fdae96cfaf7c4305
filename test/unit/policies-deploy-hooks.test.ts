// deploy-hooks-ordered finds its hooks and app containers by what they are, not by name alone:
// a hook is a remote Command with the hook's suffix, an app container is a docker Container
// whose dropstack.role label (wherever it sits among the labels) says api or worker. Cases are
// generated over the other hook suffixes, over resources of other types carrying hook names or
// the role label, and over stacks with no backup or several backups.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { HOOK_SUFFIX, ROLE_LABEL } from "../../components/common/names";
import { deployHooksOrdered } from "../../policies/deploy";
import { FakeResource, stackViolations, typeOf } from "../support/policy";

const COMMAND = typeOf(command.remote.Command);
const CONTAINER = typeOf(docker.Container);
const IMAGE_ID = `sha256:${"cd".repeat(32)}`;

const cmd = (name: string, dependsOn: string[] = []): FakeResource => ({ type: COMMAND, name, props: {}, dependsOn });
const api = (name: string, dependsOn: string[], labels: unknown = [{ label: ROLE_LABEL, value: "api" }]): FakeResource => ({
  type: CONTAINER,
  name,
  props: { image: IMAGE_ID, labels },
  dependsOn,
});

const migrationMessage = (name: string) =>
  `migrate Command ${name} does not wait for a backup Command: give it dependsOn on the "-backup" Command (components/hooks does), so no migration runs without a fresh backup`;
const containerMessage = (role: string, name: string) =>
  `${role} container ${name} does not wait for a migrate Command: give it dependsOn on the "-migrate" Command (components/app does), so new code never starts against an old schema`;

describe("deploy-hooks-ordered: what counts as a backup", () => {
  it("refuses a migration that waits only for another hook Command", async () => {
    const others = Object.entries(HOOK_SUFFIX).filter(([hook]) => hook !== "backup" && hook !== "migrate");
    for (const [, suffix] of others) {
      const stack = [cmd("prod-backup"), cmd(`prod${suffix}`), cmd("prod-migrate", [`prod${suffix}`])];
      assert.deepEqual(await stackViolations(deployHooksOrdered, stack), [migrationMessage("prod-migrate")], suffix);
    }
  });

  it("refuses a migration that waits for something named like a backup that is not a Command", async () => {
    for (const type of [typeOf(docker.Volume), typeOf(docker.Container), "digitalocean:index/volume:Volume", "dropstack:index:Hooks"]) {
      const stack = [cmd("prod-backup"), { type, name: "data-backup", props: {} }, cmd("prod-migrate", ["data-backup"])];
      assert.deepEqual(await stackViolations(deployHooksOrdered, stack), [migrationMessage("prod-migrate")], type);
    }
  });

  it("refuses a migration when the stack has no backup Command at all", async () => {
    assert.deepEqual(await stackViolations(deployHooksOrdered, [cmd("prod-migrate")]), [migrationMessage("prod-migrate")]);
    assert.deepEqual(await stackViolations(deployHooksOrdered, [cmd("prod-setup"), cmd("prod-migrate", ["prod-setup"])]), [
      migrationMessage("prod-migrate"),
    ]);
  });

  it("accepts a migration that waits for one backup of several", async () => {
    for (const waitsFor of ["db-backup", "files-backup"]) {
      const stack = [cmd("db-backup"), cmd("files-backup"), cmd("prod-migrate", [waitsFor])];
      assert.deepEqual(await stackViolations(deployHooksOrdered, stack), [], waitsFor);
    }
  });
});

describe("deploy-hooks-ordered: what counts as a migration and an app container", () => {
  it("refuses an app container that waits only for something named like a migration that is not a Command", async () => {
    for (const type of [typeOf(docker.Volume), typeOf(docker.RemoteImage), "dropstack:index:Hooks"]) {
      const stack = [cmd("prod-backup"), cmd("prod-migrate", ["prod-backup"]), { type, name: "schema-migrate", props: {} }];
      stack.push(api("prod-api-0", ["schema-migrate"]));
      assert.deepEqual(await stackViolations(deployHooksOrdered, stack), [containerMessage("api", "prod-api-0")], type);
    }
  });

  it("reads the role from the dropstack.role label wherever it sits among the labels", async () => {
    const others = [
      { label: "com.example.team", value: "payments" },
      { label: "traefik.enable", value: "true" },
    ];
    for (const role of ["api", "worker"]) {
      const labels = [...others, { label: ROLE_LABEL, value: role }, { label: "org.opencontainers.image.version", value: "2.4.0" }];
      const stack = [cmd("prod-backup"), cmd("prod-migrate", ["prod-backup"]), api("prod-app-0", [], labels)];
      assert.deepEqual(await stackViolations(deployHooksOrdered, stack), [containerMessage(role, "prod-app-0")], role);
    }
  });

  it("leaves alone containers whose api or worker value sits under another label", async () => {
    for (const value of ["api", "worker"]) {
      const labels = [
        { label: "com.example.role", value },
        { label: ROLE_LABEL, value: "cache" },
      ];
      const stack = [cmd("prod-backup"), cmd("prod-migrate", ["prod-backup"]), api("prod-redis", [], labels)];
      assert.deepEqual(await stackViolations(deployHooksOrdered, stack), [], value);
    }
  });

  it("leaves alone resources of other types that carry the role label", async () => {
    for (const type of [typeOf(docker.Volume), typeOf(docker.Network), typeOf(docker.Service)]) {
      const stack = [cmd("prod-backup"), cmd("prod-migrate", ["prod-backup"])];
      stack.push({ type, name: "prod-api-data", props: { labels: [{ label: ROLE_LABEL, value: "api" }] } });
      assert.deepEqual(await stackViolations(deployHooksOrdered, stack), [], type);
    }
  });
});
