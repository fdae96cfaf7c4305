// The preview diff guard's decisions, on preview JSON in the documented
// `pulumi preview --json` format (fixtures under test/fixtures/preview/).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  DISRUPTIVE_STEP_OPS,
  EXIT_BLOCKED,
  EXIT_CLEAN,
  PROTECTED_RESOURCE_TYPES,
  PreviewDigest,
  PreviewInputError,
  UsageError,
  evaluatePreview,
  exitCodeFor,
  formatReport,
  parseGuardArgs,
  parsePreview,
  parseUrn,
  protectionReason,
} from "../../tools/guard/guard";

const fixtures = join(__dirname, "..", "fixtures", "preview");

function fixture(name: string): PreviewDigest {
  const path = join(fixtures, name);
  return parsePreview(readFileSync(path, "utf8"), path);
}

const STACK_URN = "urn:pulumi:staging::dropstack::pulumi:pulumi:Stack::dropstack-staging";
const VOLUME_URN = "urn:pulumi:staging::dropstack::dropstack:index:Host$digitalocean:index/volume:Volume::web-data";
const ROLE_URN = "urn:pulumi:staging::dropstack::dropstack:index:Identity$auth0:index/role:Role::role-editor";
const DATABASE_URN = "urn:pulumi:staging::dropstack::dropstack:index:Database$digitalocean:index/databaseCluster:DatabaseCluster::main-db";

function urnFor(type: string, name = "thing"): string {
  return `urn:pulumi:production::dropstack::dropstack:index:Part$${type}::${name}`;
}

/** A digest with the stack step plus one step of `op` on a resource of `type`. */
function singleStep(op: string, type: string): PreviewDigest {
  const urn = urnFor(type);
  return parsePreview(
    JSON.stringify({
      steps: [
        { op: "same", urn: STACK_URN, newState: { type: "pulumi:pulumi:Stack" } },
        { op, urn, oldState: { urn, type }, newState: { urn, type }, replaceReasons: ["size"], detailedDiff: null },
      ],
    }),
    "inline",
  );
}

describe("guard on a clean preview", () => {
  const report = evaluatePreview(fixture("clean.json"));

  it("passes in-place updates of protected resources and replacements of stateless ones", () => {
    assert.deepEqual(report.blocked, []);
    assert.deepEqual(report.allowed, []);
    assert.equal(exitCodeFor(report), EXIT_CLEAN);
  });

  it("counts the steps by op and keeps the engine's own summary", () => {
    assert.deepEqual(report.stepCounts, { same: 1, update: 2, replace: 1, create: 1 });
    assert.deepEqual(report.changeSummary, { create: 1, replace: 1, same: 41, update: 2 });
    const printed = formatReport(report, "clean.json");
    assert.match(printed, /clean\.json: steps by op: 1 same, 2 update, 1 replace, 1 create/);
    assert.match(printed, /guard: no protected resource would be deleted or replaced/);
  });
});

describe("guard on destructive previews", () => {
  it("blocks a database cluster replacement and names op, replace and diff reasons", () => {
    const report = evaluatePreview(fixture("replace-database.json"));
    assert.equal(exitCodeFor(report), EXIT_BLOCKED);
    assert.equal(report.blocked.length, 1);
    const [finding] = report.blocked;
    assert.deepEqual(finding.ops, ["replace"]);
    assert.equal(finding.urn, DATABASE_URN);
    assert.equal(finding.type, "digitalocean:index/databaseCluster:DatabaseCluster");
    assert.deepEqual(finding.replaceReasons, ["region"]);
    assert.deepEqual(finding.diffReasons, ["region"]);
    const printed = formatReport(report, "preview.json");
    assert.match(printed, /^BLOCKED replace digitalocean:index\/databaseCluster:DatabaseCluster$/m);
    assert.ok(printed.includes(`  urn: ${DATABASE_URN}\n`));
    assert.match(printed, /^ {2}replace reasons: region$/m);
    assert.match(printed, /^ {2}diff reasons: region$/m);
    assert.match(printed, /guard: blocked: 1 protected resource would be deleted or replaced/);
  });

  it("blocks deletes of the data volume and of an Auth0 role", () => {
    const report = evaluatePreview(fixture("delete-volume-and-role.json"));
    assert.equal(exitCodeFor(report), EXIT_BLOCKED);
    assert.deepEqual(
      report.blocked.map((f) => [f.ops, f.urn]),
      [
        [["delete"], ROLE_URN],
        [["delete"], VOLUME_URN],
      ],
    );
  });

  it("folds the create-replacement, replace and delete-replaced steps of one droplet into one finding", () => {
    const report = evaluatePreview(fixture("replacement-steps.json"));
    assert.equal(report.blocked.length, 1);
    assert.deepEqual(report.blocked[0].ops, ["create-replacement", "replace", "delete-replaced"]);
    assert.equal(report.blocked[0].type, "digitalocean:index/droplet:Droplet");
    assert.deepEqual(report.blocked[0].replaceReasons, ["userData"]);
    assert.deepEqual(report.stepCounts, { same: 1, "create-replacement": 1, replace: 1, "delete-replaced": 1 });
    assert.match(
      formatReport(report, "p.json"),
      /^BLOCKED create-replacement \+ replace \+ delete-replaced digitalocean:index\/droplet:Droplet$/m,
    );
  });

  for (const op of ["create-replacement", "delete-replaced"]) {
    it(`blocks a lone ${op} step (--show-replacement-steps output filtered by hand)`, () => {
      const report = evaluatePreview(singleStep(op, "digitalocean:index/spacesBucket:SpacesBucket"));
      assert.deepEqual(
        report.blocked.map((f) => f.ops),
        [[op]],
      );
    });
  }
});

describe("guard --allow", () => {
  const preview = fixture("delete-volume-and-role.json");

  it("lets one resource through by URN and still blocks the other", () => {
    const report = evaluatePreview(preview, [ROLE_URN]);
    assert.deepEqual(
      report.allowed.map((f) => [f.urn, f.allowedBy]),
      [[ROLE_URN, ROLE_URN]],
    );
    assert.deepEqual(
      report.blocked.map((f) => f.urn),
      [VOLUME_URN],
    );
    assert.equal(exitCodeFor(report), EXIT_BLOCKED);
  });

  it("lets every resource of a type through by type token", () => {
    const report = evaluatePreview(preview, ["digitalocean:index/volume:Volume", "auth0:index/role:Role"]);
    assert.deepEqual(report.blocked, []);
    assert.deepEqual(
      report.allowed.map((f) => f.allowedBy),
      ["auth0:index/role:Role", "digitalocean:index/volume:Volume"],
    );
    assert.equal(exitCodeFor(report), EXIT_CLEAN);
  });

  it("prints allowed findings and warns about an --allow that matched nothing", () => {
    const report = evaluatePreview(preview, [VOLUME_URN, ROLE_URN, "digitalocean:index/volume:Volum"]);
    assert.deepEqual(report.unusedAllows, ["digitalocean:index/volume:Volum"]);
    const printed = formatReport(report, "p.json");
    assert.match(printed, /^allowed delete digitalocean:index\/volume:Volume$/m);
    assert.match(printed, /^allowed delete auth0:index\/role:Role$/m);
    assert.ok(printed.includes(`  allowed by: --allow ${VOLUME_URN}\n`));
    assert.match(
      printed,
      /^warning: --allow digitalocean:index\/volume:Volum matched no protected resource that would be deleted or replaced$/m,
    );
    assert.match(printed, /no protected resource would be deleted or replaced \(2 allowed by --allow\)/);
  });

  it("does not let a URN of another stack through", () => {
    const report = evaluatePreview(preview, [VOLUME_URN.replace(":staging::", ":production::")]);
    assert.equal(report.blocked.length, 2);
  });
});

describe("protected types", () => {
  for (const { type, ops } of PROTECTED_RESOURCE_TYPES) {
    it(`blocks ${ops ? ops.join(", ") : "every disruptive op"} on ${type} and passes create, update and same`, () => {
      for (const op of DISRUPTIVE_STEP_OPS) {
        const expected = ops === undefined || ops.includes(op) ? 1 : 0;
        assert.equal(evaluatePreview(singleStep(op, type)).blocked.length, expected, `${op} ${type}`);
      }
      for (const op of ["create", "update", "same", "read", "refresh", "import"]) {
        assert.equal(evaluatePreview(singleStep(op, type)).blocked.length, 0, `${op} ${type}`);
      }
    });
  }

  it("protects the whole Auth0 package but not the Auth0 provider resource", () => {
    for (const type of [
      "auth0:index/resourceServer:ResourceServer",
      "auth0:index/client:Client",
      "auth0:index/clientGrant:ClientGrant",
      "auth0:index/action:Action",
      "auth0:index/triggerActions:TriggerActions",
      "auth0:index/attackProtection:AttackProtection",
    ]) {
      assert.equal(evaluatePreview(singleStep("delete", type)).blocked.length, 1, type);
    }
    assert.equal(protectionReason("pulumi:providers:auth0"), undefined);
  });

  it("covers the stateful resources the deploy owns", () => {
    for (const type of [
      "digitalocean:index/databaseCluster:DatabaseCluster",
      "digitalocean:index/databaseDb:DatabaseDb",
      "postgresql:index/role:Role",
      "digitalocean:index/databaseUser:DatabaseUser",
      "digitalocean:index/volume:Volume",
      "digitalocean:index/spacesBucket:SpacesBucket",
      "digitalocean:index/droplet:Droplet",
      "digitalocean:index/reservedIp:ReservedIp",
      "digitalocean:index/domain:Domain",
    ]) {
      assert.ok(protectionReason(type), type);
    }
  });

  it("lets stateless resources be replaced or deleted", () => {
    for (const type of [
      "digitalocean:index/dnsRecord:DnsRecord",
      "docker:index/container:Container",
      "command:remote:Command",
      "pulumi:providers:digitalocean",
    ]) {
      assert.equal(evaluatePreview(singleStep("replace", type)).blocked.length, 0, type);
      assert.equal(evaluatePreview(singleStep("delete", type)).blocked.length, 0, type);
    }
  });

  it("fails closed on an op this guard does not know", () => {
    const report = evaluatePreview(singleStep("teleport", "digitalocean:index/volume:Volume"));
    assert.deepEqual(
      report.blocked.map((f) => f.ops),
      [["teleport"]],
    );
  });

  it("takes the type from the URN when a step carries no state", () => {
    const preview = parsePreview(JSON.stringify({ steps: [{ op: "delete", urn: VOLUME_URN }] }), "inline");
    assert.deepEqual(
      evaluatePreview(preview).blocked.map((f) => f.type),
      ["digitalocean:index/volume:Volume"],
    );
  });

  it("checks the old type too when an alias changed the type", () => {
    const urn = urnFor("dropstack:index:LegacyVolume");
    const preview = parsePreview(
      JSON.stringify({
        steps: [
          {
            op: "replace",
            urn,
            oldState: { type: "digitalocean:index/volume:Volume" },
            newState: { type: "dropstack:index:LegacyVolume" },
          },
        ],
      }),
      "inline",
    );
    assert.deepEqual(
      evaluatePreview(preview).blocked.map((f) => f.type),
      ["digitalocean:index/volume:Volume"],
    );
  });
});

describe("parseUrn", () => {
  it("splits stack, project, the resource's own type (after its parents') and name", () => {
    assert.deepEqual(parseUrn(VOLUME_URN), {
      stack: "staging",
      project: "dropstack",
      type: "digitalocean:index/volume:Volume",
      name: "web-data",
    });
  });

  it("keeps a name that contains ::", () => {
    assert.equal(parseUrn("urn:pulumi:s::p::random:index/randomPassword:RandomPassword::a::b")?.name, "a::b");
  });

  it("rejects what is not a URN", () => {
    assert.equal(parseUrn("web-data"), undefined);
    assert.equal(parseUrn("urn:pulumi:staging::dropstack::Volume"), undefined);
  });
});

describe("parsePreview", () => {
  function inputError(name: string): PreviewInputError {
    const path = join(fixtures, name);
    try {
      parsePreview(readFileSync(path, "utf8"), path);
    } catch (error) {
      assert.ok(error instanceof PreviewInputError, String(error));
      assert.ok(error.message.startsWith(`${path}: `), error.message);
      return error;
    }
    assert.fail(`${name} was accepted`);
  }

  it("rejects truncated JSON, naming the file", () => {
    assert.match(inputError("malformed.json").message, /not valid JSON/);
  });

  it("points at npm run -s when the document starts with npm's banner", () => {
    const banner = '\n> dropstack@0.1.0 check\n> tsx tools/check/main.ts staging --json\n\n{"steps": []}\n';
    assert.throws(() => parsePreview(banner, "check.json"), /check\.json: not valid JSON .*npm's banner: produce it with `npm run -s`/s);
    assert.throws(
      () => parsePreview("{", "p.json"),
      (error: Error) => !error.message.includes("banner"),
    );
  });

  it("rejects JSON of the wrong shape, naming each bad field", () => {
    const { message } = inputError("wrong-shape.json");
    assert.match(message, /not the output of `pulumi preview --json`/);
    assert.match(message, /steps\[0\]\.op: /);
    assert.match(message, /steps\[0\]\.urn: expected a Pulumi URN/);
  });

  it("rejects a preview that recorded errors, quoting them", () => {
    const { message } = inputError("failed-preview.json");
    assert.match(message, /the preview failed \(1 error\)/);
    assert.match(message, /dropstack:app\.port: expected integer, got "eighty"/);
  });

  it("rejects a preview without steps", () => {
    assert.throws(() => parsePreview("{}", "empty.json"), /empty\.json: the preview lists no steps/);
    assert.throws(() => parsePreview("[]", "array.json"), /array\.json: not the output of `pulumi preview --json`/);
  });

  it("ignores fields it does not use, such as config, duration and detailedDiff", () => {
    const digest = fixture("clean.json");
    assert.equal(digest.steps?.length, 5);
  });
});

describe("parseGuardArgs", () => {
  it("takes one preview path and repeated --allow values in both spellings", () => {
    assert.deepEqual(parseGuardArgs(["preview.json", "--allow", VOLUME_URN, `--allow=auth0:index/role:Role`]), {
      preview: "preview.json",
      allow: [VOLUME_URN, "auth0:index/role:Role"],
    });
    assert.deepEqual(parseGuardArgs(["-"]), { preview: "-", allow: [] });
  });

  it("rejects a missing file, two files, a bare --allow and unknown options", () => {
    assert.throws(() => parseGuardArgs([]), UsageError);
    assert.throws(() => parseGuardArgs(["a.json", "b.json"]), /expected one preview file, got 2/);
    assert.throws(() => parseGuardArgs(["a.json", "--allow"]), /--allow needs a URN or a resource type/);
    assert.throws(() => parseGuardArgs(["a.json", "--allow", "--allow", "x"]), /never starts with "-"/);
    assert.throws(() => parseGuardArgs(["a.json", "--allow="]), /--allow needs/);
    assert.throws(() => parseGuardArgs(["a.json", "--yes"]), /unknown option --yes/);
  });
});
