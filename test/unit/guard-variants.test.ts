// The preview guard against classes of disruptive previews, generated rather than listed:
// every op spelling on every protected type, in every place a step can carry its type,
// under URN variants, and every way an --allow can be spelled to (not) let a step through.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  EXIT_BAD_INPUT,
  EXIT_BLOCKED,
  EXIT_CLEAN,
  KNOWN_STEP_OPS,
  PreviewDigest,
  UsageError,
  evaluatePreview,
  exitCodeFor,
  formatReport,
  isHelpRequest,
  parseGuardArgs,
  parsePreview,
} from "../../tools/guard/guard";

const fixtures = join(__dirname, "..", "fixtures", "preview");
const fixture = (name: string) => parsePreview(readFileSync(join(fixtures, name), "utf8"), name);

/** The ops that replace or destroy the object behind a resource, as the engine spells them. */
const DESTRUCTIVE = ["delete", "replace", "create-replacement", "delete-replaced", "import-replacement"];
const HARMLESS = KNOWN_STEP_OPS.filter((op) => !DESTRUCTIVE.includes(op));

/** What the guard must hold, written out here rather than read from the guard's own table. */
const PROTECTED: { type: string; ops: string[] }[] = [
  { type: "digitalocean:index/firewall:Firewall", ops: ["delete"] },
  { type: "digitalocean:index/databaseFirewall:DatabaseFirewall", ops: ["delete"] },
  { type: "tls:index/privateKey:PrivateKey", ops: DESTRUCTIVE },
  { type: "postgresql:index/schema:Schema", ops: DESTRUCTIVE },
  { type: "digitalocean:index/volumeAttachment:VolumeAttachment", ops: DESTRUCTIVE },
  { type: "digitalocean:index/reservedIpAssignment:ReservedIpAssignment", ops: DESTRUCTIVE },
  { type: "digitalocean:index/volume:Volume", ops: DESTRUCTIVE },
  { type: "docker:index/volume:Volume", ops: DESTRUCTIVE },
  { type: "digitalocean:index/databaseCluster:DatabaseCluster", ops: DESTRUCTIVE },
  { type: "digitalocean:index/databaseDb:DatabaseDb", ops: DESTRUCTIVE },
  { type: "postgresql:index/database:Database", ops: DESTRUCTIVE },
  { type: "postgresql:index/role:Role", ops: DESTRUCTIVE },
  { type: "digitalocean:index/spacesBucket:SpacesBucket", ops: DESTRUCTIVE },
  { type: "digitalocean:index/droplet:Droplet", ops: DESTRUCTIVE },
  { type: "digitalocean:index/reservedIp:ReservedIp", ops: DESTRUCTIVE },
  { type: "digitalocean:index/domain:Domain", ops: DESTRUCTIVE },
  { type: "auth0:index/client:Client", ops: DESTRUCTIVE },
];

/** Spellings no engine emits: the guard cannot classify them, so it must block them. */
const UNKNOWN_OPS = ["Delete", "DELETE", " delete", "delete ", "Replace", "deleted", "create_replacement", "destroy", "diff"];

/** Where a step can carry its type: the URN alone (the type as its last segment), or a state too. */
type Shape = "urn only" | "old state" | "new state" | "both states";
const SHAPES: Shape[] = ["urn only", "old state", "new state", "both states"];

/** URN spellings of one resource: no parent, a component parent, nested parents, odd names. */
function urnVariants(type: string, stack = "production"): string[] {
  return [
    `urn:pulumi:${stack}::dropstack::${type}::data`,
    `urn:pulumi:${stack}::dropstack::dropstack:index:Host$${type}::dropstack-${stack}-data`,
    `urn:pulumi:${stack}::dropstack::dropstack:index:Host$dropstack:index:Inner$${type}::nested`,
    `urn:pulumi:${stack}::other-project::pulumi:pulumi:Stack$dropstack:index:Host$${type}::a::b`,
    `urn:pulumi:${stack}::dropstack::dropstack:index:Host$${type}::name with spaces$and$dollars`,
  ];
}

function step(op: string, urn: string, type: string, shape: Shape) {
  const state = { urn, custom: true, type };
  return {
    op,
    urn,
    ...(shape === "old state" || shape === "both states" ? { oldState: state } : {}),
    ...(shape === "new state" || shape === "both states" ? { newState: state } : {}),
  };
}

function digest(steps: object[], extra: object = {}): PreviewDigest {
  const stack = { op: "same", urn: "urn:pulumi:production::dropstack::pulumi:pulumi:Stack::dropstack-production" };
  return parsePreview(JSON.stringify({ steps: [stack, ...steps], ...extra }), "generated");
}

describe("every op spelling on every protected type, in every step shape and URN spelling", () => {
  for (const { type, ops } of PROTECTED) {
    it(`${type}: blocks ${ops.join(", ")} and unknown ops, passes the rest`, () => {
      for (const urn of urnVariants(type)) {
        for (const shape of SHAPES) {
          for (const op of [...KNOWN_STEP_OPS, ...UNKNOWN_OPS]) {
            const expected = ops.includes(op) || UNKNOWN_OPS.includes(op);
            const report = evaluatePreview(digest([step(op, urn, type, shape)]));
            assert.equal(report.blocked.length, expected ? 1 : 0, `${JSON.stringify(op)} ${shape} ${urn}`);
            assert.equal(exitCodeFor(report), expected ? EXIT_BLOCKED : EXIT_CLEAN);
            if (expected) {
              assert.equal(report.blocked[0].urn, urn);
              assert.equal(report.blocked[0].type, type);
              assert.ok(report.blocked[0].why.length > 20, "every block says why");
            }
          }
        }
      }
    });
  }

  it("the firewalls may be replaced (create before delete) and updated", () => {
    for (const type of ["digitalocean:index/firewall:Firewall", "digitalocean:index/databaseFirewall:DatabaseFirewall"]) {
      for (const op of [...HARMLESS, "replace", "create-replacement", "delete-replaced", "import-replacement"]) {
        assert.equal(evaluatePreview(digest([step(op, urnVariants(type)[1], type, "both states")])).blocked.length, 0, `${op} ${type}`);
      }
    }
  });

  it("a protected type in a parent's place of the URN protects nothing", () => {
    for (const { type } of PROTECTED) {
      const urn = `urn:pulumi:production::dropstack::${type}$docker:index/container:Container::api`;
      for (const op of DESTRUCTIVE) {
        assert.equal(evaluatePreview(digest([step(op, urn, "docker:index/container:Container", "both states")])).blocked.length, 0);
      }
    }
  });

  it("a protected type on either side of a type change is enough to block", () => {
    for (const { type } of PROTECTED) {
      const urn = "urn:pulumi:production::dropstack::dropstack:index:Legacy::data";
      for (const [oldType, newType] of [
        [type, "dropstack:index:Legacy"],
        ["dropstack:index:Legacy", type],
      ]) {
        const preview = digest([{ op: "delete", urn, oldState: { type: oldType }, newState: { type: newType } }]);
        assert.deepEqual(
          evaluatePreview(preview).blocked.map((f) => f.type),
          [type],
          `${oldType} -> ${newType}`,
        );
        // The unprotected side of the change is a type that merely appears in the step.
        const allowedOtherSide = evaluatePreview(preview, ["dropstack:index:Legacy"]);
        assert.equal(allowedOtherSide.blocked.length, 1, `--allow of the other type, ${oldType} -> ${newType}`);
        assert.deepEqual(allowedOtherSide.unusedAllows, ["dropstack:index:Legacy"]);
      }
    }
  });
});

describe("--allow matches the protected resource itself", () => {
  for (const { type, ops } of PROTECTED) {
    const urn = urnVariants(type)[1];
    const op = ops[0];
    const preview = digest([step(op, urn, type, "both states")]);

    it(`${type}: its URN or its type lets it through, in both spellings`, () => {
      for (const argv of [
        ["p.json", "--allow", urn],
        [`p.json`, `--allow=${urn}`],
        ["p.json", "--allow", type],
        ["p.json", `--allow=${type}`],
      ]) {
        const report = evaluatePreview(preview, parseGuardArgs(argv).allow);
        assert.equal(report.blocked.length, 0, argv.join(" "));
        assert.equal(report.allowed.length, 1);
        assert.deepEqual(report.unusedAllows, []);
        assert.equal(exitCodeFor(report), EXIT_CLEAN);
      }
    });

    it(`${type}: nothing else lets it through, and each miss is warned about`, () => {
      const misses = [
        "dropstack:index:Host", // the parent component's type, which the URN names
        `dropstack:index:Host$${type}`, // the qualified type as the URN spells it
        "pulumi:providers:digitalocean", // the provider's type
        "urn:pulumi:production::dropstack::pulumi:providers:digitalocean::default", // a provider URN
        type.toLowerCase() === type ? `${type}X` : type.toLowerCase(), // another case
        `${type}s`,
        type.slice(0, type.lastIndexOf(":")) + ":Other",
        urn.replace("::production::", "::staging::").replace("urn:pulumi:production", "urn:pulumi:staging"), // another stack
        `${urn}-old`, // another name
        urn.slice(0, urn.lastIndexOf("::")), // a truncated URN
        `${urn} `, // trailing space
        urn.toUpperCase(),
        "urn:pulumi:production::dropstack::dropstack:index:Host::dropstack-production-data", // the parent's URN
      ];
      for (const miss of misses) {
        const report = evaluatePreview(preview, [miss]);
        assert.equal(report.blocked.length, 1, miss);
        assert.deepEqual(report.unusedAllows, [miss]);
        assert.match(formatReport(report, "p.json"), /^warning: --allow .* matched no protected resource/m);
        assert.equal(exitCodeFor(report), EXIT_BLOCKED);
      }
    });
  }

  it("a step whose old and new types are both protected needs both types allowed", () => {
    const urn = "urn:pulumi:production::dropstack::digitalocean:index/volume:Volume::data";
    const preview = digest([
      { op: "replace", urn, oldState: { type: "digitalocean:index/volume:Volume" }, newState: { type: "postgresql:index/schema:Schema" } },
    ]);
    assert.equal(evaluatePreview(preview, ["postgresql:index/schema:Schema"]).blocked.length, 1);
    assert.equal(evaluatePreview(preview, ["digitalocean:index/volume:Volume"]).blocked.length, 1);
    const both = evaluatePreview(preview, ["digitalocean:index/volume:Volume", "postgresql:index/schema:Schema"]);
    assert.equal(both.blocked.length, 0);
    assert.deepEqual(both.unusedAllows, []);
    assert.equal(evaluatePreview(preview, [urn]).blocked.length, 0);
  });

  it("an --allow for a stateless resource that is replaced matches nothing", () => {
    const urn = "urn:pulumi:production::dropstack::dropstack:index:App$docker:index/container:Container::api-0";
    const report = evaluatePreview(digest([step("replace", urn, "docker:index/container:Container", "both states")]), [urn]);
    assert.deepEqual(report.unusedAllows, [urn]);
    assert.equal(exitCodeFor(report), EXIT_CLEAN);
  });
});

describe("the named examples, as fixtures", () => {
  it("deleting the droplet firewall and the database firewall", () => {
    const report = evaluatePreview(fixture("delete-firewalls.json"));
    assert.deepEqual(
      report.blocked.map((f) => [f.ops, f.type]),
      [
        [["delete"], "digitalocean:index/firewall:Firewall"],
        [["delete"], "digitalocean:index/databaseFirewall:DatabaseFirewall"],
      ],
    );
    const printed = formatReport(report, "p.json");
    assert.match(printed, /^BLOCKED delete digitalocean:index\/firewall:Firewall$/m);
    assert.match(printed, /protected because: .*open to the internet/);
    assert.match(printed, /protected because: .*any address/);
  });

  it("replacing the SSH host key", () => {
    const report = evaluatePreview(fixture("replace-host-key.json"));
    assert.deepEqual(
      report.blocked.map((f) => [f.ops, f.type, f.replaceReasons]),
      [[["replace"], "tls:index/privateKey:PrivateKey", ["algorithm"]]],
    );
    assert.match(formatReport(report, "p.json"), /protected because: .*SSH host key/);
  });

  it("replacing the Postgres schema, listed as replacement steps", () => {
    const report = evaluatePreview(fixture("replace-schema.json"));
    assert.deepEqual(
      report.blocked.map((f) => [f.ops, f.type]),
      [[["create-replacement", "replace", "delete-replaced"], "postgresql:index/schema:Schema"]],
    );
  });

  it("replacing the droplet also replaces the volume attachment and the IP assignment; each needs its own --allow", () => {
    const preview = fixture("replace-droplet-cascade.json");
    assert.deepEqual(
      evaluatePreview(preview).blocked.map((f) => f.type),
      [
        "digitalocean:index/droplet:Droplet",
        "digitalocean:index/volumeAttachment:VolumeAttachment",
        "digitalocean:index/reservedIpAssignment:ReservedIpAssignment",
      ],
    );
    const onlyDroplet = evaluatePreview(preview, ["digitalocean:index/droplet:Droplet"]);
    assert.deepEqual(
      onlyDroplet.blocked.map((f) => f.type),
      ["digitalocean:index/volumeAttachment:VolumeAttachment", "digitalocean:index/reservedIpAssignment:ReservedIpAssignment"],
    );
    const all = evaluatePreview(preview, [
      "digitalocean:index/droplet:Droplet",
      "digitalocean:index/volumeAttachment:VolumeAttachment",
      "digitalocean:index/reservedIpAssignment:ReservedIpAssignment",
    ]);
    assert.equal(exitCodeFor(all), EXIT_CLEAN);
  });
});

describe("a preview that says the state may be corrupt", () => {
  it("is exit 2 whatever else it holds, and says why", () => {
    const report = evaluatePreview(fixture("maybe-corrupt.json"));
    assert.equal(exitCodeFor(report), EXIT_BAD_INPUT);
    assert.match(formatReport(report, "p.json"), /^guard: refused: the preview says the stack's state may be corrupt/m);
    const urn = urnVariants("digitalocean:index/volume:Volume")[0];
    for (const allow of [[], [urn]]) {
      const blocked = evaluatePreview(
        digest([step("delete", urn, "digitalocean:index/volume:Volume", "old state")], { maybeCorrupt: true }),
        allow,
      );
      assert.equal(exitCodeFor(blocked), EXIT_BAD_INPUT);
    }
    assert.equal(exitCodeFor(evaluatePreview(digest([], { maybeCorrupt: false }))), EXIT_CLEAN);
  });
});

describe("policy events in the document (npm run check --json)", () => {
  const event = (enforcementLevel: string) => ({
    resourceUrn: "urn:pulumi:production::dropstack::dropstack:index:Host$digitalocean:index/droplet:Droplet::web",
    message: "droplet backups are off",
    policyName: "droplet-backups-enabled",
    policyPackName: "dropstack",
    policyPackVersion: "0.1.0",
    enforcementLevel,
  });

  it("a mandatory violation blocks and no --allow lets it through; an advisory one is printed", () => {
    const mandatory = evaluatePreview(digest([], { policyEvents: [event("mandatory")] }), ["digitalocean:index/droplet:Droplet"]);
    assert.equal(exitCodeFor(mandatory), EXIT_BLOCKED);
    assert.match(formatReport(mandatory, "p.json"), /^BLOCKED policy droplet-backups-enabled \[mandatory\]$/m);
    assert.match(formatReport(mandatory, "p.json"), /1 mandatory policy violation/);
    const advisory = evaluatePreview(digest([], { policyEvents: [event("advisory")] }));
    assert.equal(exitCodeFor(advisory), EXIT_CLEAN);
    assert.match(formatReport(advisory, "p.json"), /^advisory policy droplet-backups-enabled \[advisory\]$/m);
  });
});

describe("guard arguments cannot switch the guard off", () => {
  it("only a lone --help is help", () => {
    assert.equal(isHelpRequest(["--help"]), true);
    for (const argv of [
      ["-h"],
      ["--help", "p.json"],
      ["p.json", "--help"],
      ["--allow", "--help"],
      ["-help"],
      ["--HELP"],
      ["--help="],
      [],
    ]) {
      assert.equal(isHelpRequest(argv), false, argv.join(" "));
    }
  });

  it("refuses an allow entry that starts with -, in every spelling", () => {
    for (const value of ["-h", "--help", "-", "--", "-x", "--allow", "-urn:pulumi:production::dropstack::x:y:Z::n", "--force"]) {
      for (const argv of [
        ["p.json", "--allow", value],
        ["p.json", `--allow=${value}`],
        ["--allow", value, "p.json"],
      ]) {
        assert.throws(() => parseGuardArgs(argv), UsageError, argv.join(" "));
      }
    }
  });

  it("refuses single-dash options and a --help among other arguments", () => {
    for (const argv of [["-h"], ["p.json", "-h"], ["-a", "p.json"], ["p.json", "--help"], ["--help", "p.json"]]) {
      assert.throws(() => parseGuardArgs(argv), UsageError, argv.join(" "));
    }
  });

  it("refuses allow entries that are neither a URN nor a type token", () => {
    for (const value of [
      "yes",
      "*",
      "all",
      "digitalocean",
      "Volume",
      "digitalocean:index/volume:Volume ",
      " x:y:Z",
      "urn:pulumi:production",
    ]) {
      assert.throws(() => parseGuardArgs(["p.json", "--allow", value]), /neither a URN .* nor a resource type/, value);
    }
  });
});
