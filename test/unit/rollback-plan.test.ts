// The automated code rollback (dropstack:app.watch.rollback): which image a breached watch
// names, and the runbook's commands that deploy it again.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WATCH_ROLLBACK_MARKER } from "../../components/hooks/commands";
import { parseStackFile, readStackFile } from "../../tools/check/stack-file";
import { RollbackError, rollbackImage, rollbackPlan } from "../../tools/rollback/plan";
import { writeStackVariant } from "../support/check";

const PREVIOUS = `ghcr.io/acme/api:2.3.9@sha256:${"a".repeat(64)}`;
const withWatch = (stack: string, watch: Record<string, unknown>, edit: (config: Record<string, unknown>) => void = () => {}) =>
  readStackFile(
    writeStackVariant(stack, (config) => {
      const app = config["dropstack:app"] as Record<string, unknown>;
      app.watch = { ...(app.watch as object), ...watch };
      edit(config);
    }),
  );

describe("the rollback image in pulumi up's output", () => {
  it("is found however pulumi prefixes the watch's lines, and the last one counts", () => {
    const line = `${WATCH_ROLLBACK_MARKER} ${PREVIOUS}`;
    for (const prefix of ["", "    ", "  dropstack-production-smoke-watch (command:remote:Command): ", "stderr: ", "\t| "])
      for (const suffix of ["", "\r", "   "]) {
        const log = `Updating (production)\nerror: Process exited with status 1\n${prefix}${line}${suffix}\nResources: 3 unchanged\n`;
        assert.equal(rollbackImage(log), PREVIOUS, JSON.stringify(prefix + suffix));
      }
    const older = `ghcr.io/acme/api:2.3.8@sha256:${"b".repeat(64)}`;
    assert.equal(rollbackImage(`${WATCH_ROLLBACK_MARKER} ${older}\n${WATCH_ROLLBACK_MARKER} ${PREVIOUS}\n`), PREVIOUS);
  });

  it("is absent when the update failed anywhere else, or the watch found no earlier image", () => {
    for (const log of [
      "",
      "error: the migration failed\n",
      "dropstack: the release breached its post-deploy limits:\n  pulumi stack history --stack production\n",
      `${WATCH_ROLLBACK_MARKER}\n`,
      `${WATCH_ROLLBACK_MARKER} \n`,
      `dropstack-rollback-image ${PREVIOUS}\n`,
    ])
      assert.equal(rollbackImage(log), undefined, JSON.stringify(log));
  });
});

describe("the rollback plan", () => {
  it("is nothing unless the stack opted in with app.watch.rollback", () => {
    assert.equal(rollbackPlan({ stack: "staging", file: withWatch("staging", { seconds: 300 }), image: PREVIOUS }), undefined);
    assert.equal(rollbackPlan({ stack: "production", file: readStackFile("Pulumi.production.yaml"), image: PREVIOUS }), undefined);
  });

  it("staging: sets app.image and runs up with the policy pack, nothing else", () => {
    const plan = rollbackPlan({ stack: "staging", file: withWatch("staging", { seconds: 300, rollback: true }), image: PREVIOUS });
    assert.deepEqual(
      plan?.steps.map((s) => s.args),
      [
        ["config", "set", "--path", "dropstack:app.image", PREVIOUS, "--stack", "staging"],
        [
          "up",
          "--stack",
          "staging",
          "--yes",
          "--non-interactive",
          "--policy-pack",
          "policies",
          "--policy-pack-config",
          "policies/staging.json",
        ],
      ],
    );
    assert.deepEqual(plan?.always, []);
  });

  it("production with promotion: the override is set for the update and always set back", () => {
    const plan = rollbackPlan({ stack: "production", file: withWatch("production", { seconds: 300, rollback: true }), image: PREVIOUS });
    assert.deepEqual(
      plan?.steps.map((s) => s.args.slice(0, 5)),
      [
        ["config", "set", "--path", "dropstack:app.image", PREVIOUS],
        ["config", "set", "--path", "dropstack:promotion.allowUnpromoted", "true"],
        ["up", "--stack", "production", "--yes", "--non-interactive"],
      ],
    );
    assert.deepEqual(
      plan?.always.map((s) => s.args),
      [["config", "set", "--path", "dropstack:promotion.allowUnpromoted", "false", "--stack", "production"]],
    );
    // A stack that already ships unpromoted images keeps its setting untouched.
    const unpromoted = rollbackPlan({
      stack: "production",
      file: withWatch("production", { seconds: 300, rollback: true }, (config) => {
        config["dropstack:promotion"] = { allowUnpromoted: true };
      }),
      image: PREVIOUS,
    });
    assert.equal(unpromoted?.steps.length, 2);
    assert.deepEqual(unpromoted?.always, []);
  });

  it("refuses an image app.image itself would refuse, or the one already deployed, naming it", () => {
    const file = withWatch("production", { seconds: 300, rollback: true });
    for (const image of [
      "ghcr.io/acme/api:2.3.9",
      "ghcr.io/acme/api@sha256:short",
      "ghcr.io/acme/api:2.3.9@sha256:" + "A".repeat(64),
      "$(reboot)",
    ])
      assert.throws(
        () => rollbackPlan({ stack: "production", file, image }),
        (e: Error) => e instanceof RollbackError && e.message.includes(`rolling back to ${image}`),
        image,
      );
    // Pinned by digest, so only app.image's own rules can refuse them.
    const pin = "@sha256:" + "a".repeat(64);
    for (const image of ["GHCR.io/Acme/API:1" + pin, "ghcr.io/acme/api:-bad" + pin, "ghcr.io/acme/api:2.3.9\u0007" + pin])
      assert.throws(
        () => rollbackPlan({ stack: "production", file, image }),
        (e: Error) => e instanceof RollbackError && e.message.includes(`rolling back to ${image} is invalid:\n  dropstack:app.image: `),
        JSON.stringify(image),
      );
    const current = String((JSON.parse(file.config["dropstack:app"]) as { image: string }).image);
    assert.throws(() => rollbackPlan({ stack: "production", file, image: current }), /already deploys: nothing to roll back to/);
  });

  it("refuses a stack whose own config is invalid, and the config check refuses rollback without a watch", () => {
    assert.throws(
      () => rollbackPlan({ stack: "staging", file: withWatch("staging", { rollback: true }), image: PREVIOUS }),
      /the config of stack staging is invalid:\n {2}dropstack:app\.watch\.rollback: rolls back after a breach of the post-deploy watch, which is off: set app\.watch\.seconds too$/,
    );
    const broken = parseStackFile("config:\n  dropstack:app:\n    watch:\n      seconds: 60\n      rollback: true\n");
    assert.throws(
      () => rollbackPlan({ stack: "staging", file: broken, image: PREVIOUS }),
      /the config of stack staging is invalid:[\s\S]*dropstack:app\.image: required/,
    );
  });
});
