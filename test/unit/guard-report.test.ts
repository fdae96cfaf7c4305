// What the guard prints and refuses, as the person reading a blocked deploy's log sees it:
// the whole printout for each kind of report, the reason given for every protected type, and
// the exact refusals of malformed previews, URNs and arguments. Found by mutation testing
// (npm run test:mutation -- guard): the CLI tests check these through a child process only,
// and the decision tests did not look at the text, so a dropped line, a lost "s", a reason
// cut in half or a misleading "unused --allow" warning went unnoticed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  HELP,
  KNOWN_STEP_OPS,
  PROTECTED_RESOURCE_PACKAGES,
  EXIT_BAD_INPUT,
  PROTECTED_RESOURCE_TYPES,
  PreviewInputError,
  USAGE,
  UsageError,
  evaluatePreview,
  failureFor,
  formatReport,
  isDisruptiveOp,
  parseGuardArgs,
  parsePreview,
  parseUrn,
  type GuardReport,
} from "../../tools/guard/guard";

const STACK_URN = "urn:pulumi:staging::dropstack::pulumi:pulumi:Stack::dropstack-staging";
const urnFor = (type: string, name = "thing") => `urn:pulumi:production::dropstack::dropstack:index:Part$${type}::${name}`;
const VOLUME = "digitalocean:index/volume:Volume";
const DROPLET = "digitalocean:index/droplet:Droplet";

function digest(steps: object[], extra: object = {}): string {
  return JSON.stringify({ steps: [{ op: "same", urn: STACK_URN }, ...steps], ...extra });
}

function emptyReport(overrides: Partial<GuardReport> = {}): GuardReport {
  return {
    blocked: [],
    allowed: [],
    stepCounts: {},
    changeSummary: {},
    unusedAllows: [],
    policyViolations: [],
    maybeCorrupt: false,
    ...overrides,
  };
}

function inputError(text: string): string {
  try {
    parsePreview(text, "p.json");
  } catch (error) {
    assert.ok(error instanceof PreviewInputError);
    assert.match(String(error), /^PreviewInputError: p\.json: /, "the error names its kind and the file");
    return error.message;
  }
  assert.fail(`accepted: ${text}`);
}

/**
 * Every protected type's reason, written out: the reviewer decides on --allow from this text,
 * so a reason cut short (a lost half of a long sentence) is a regression like a lost type.
 */
const REASONS: Record<string, string> = {
  "digitalocean:index/databaseCluster:DatabaseCluster":
    "holds the application's PostgreSQL data (or, past one droplet, Valkey's cache and queued jobs); a new cluster starts empty",
  "digitalocean:index/databaseDb:DatabaseDb": "dropping the logical database drops every table in it",
  "postgresql:index/database:Database": "dropping the logical database drops every table in it",
  "postgresql:index/role:Role":
    "the app logs in as this role; re-creating it drops its grants and the objects it owns are reassigned, so the running app loses access mid-deploy",
  "digitalocean:index/databaseUser:DatabaseUser":
    "the app role, which the connection pool logs in as; re-creating it drops its grants and changes its password, so the running app loses access mid-deploy",
  "digitalocean:index/volume:Volume": "the droplet's data volume; a new volume is blank",
  "docker:index/volume:Volume": "container data on the host (Redis append-only file); a new volume is empty",
  "digitalocean:index/spacesBucket:SpacesBucket": "holds the off-site backups; deleting the bucket deletes them",
  "digitalocean:index/droplet:Droplet":
    "the host running nginx, the app and Redis: replacing it means downtime, a new SSH host key and losing everything not on the data volume",
  "digitalocean:index/reservedIp:ReservedIp":
    "the public address DNS points at; a new address breaks DNS until records and caches catch up",
  "digitalocean:index/domain:Domain": "the DNS zone; deleting it deletes every record in it",
  "digitalocean:index/volumeAttachment:VolumeAttachment":
    "attaches the data volume at /srv (backups, Redis data, certificates, hook scripts); replacing it detaches the volume from the running droplet",
  "postgresql:index/schema:Schema": "the app's tables live in this schema; replacing it drops the schema and every table in it",
  "tls:index/privateKey:PrivateKey":
    "the droplet's pinned SSH host key: cloud-init installed the old key and is never re-run, so a new key makes every remote command and the Docker provider refuse the host",
  "digitalocean:index/reservedIpAssignment:ReservedIpAssignment":
    "binds the public address to the droplet; replacing it detaches the address and the site goes dark until it is reattached",
  "digitalocean:index/firewall:Firewall":
    "the droplet's firewall; deleting it leaves SSH and every port of the droplet open to the internet",
  "digitalocean:index/databaseFirewall:DatabaseFirewall":
    "the database's trusted sources; deleting it lets connections to the cluster come from any address",
  "auth0:index/role:Role":
    "Auth0 tenant objects are referenced by id from outside the stack (users' role assignments, issued tokens, the SPA's client id, API audiences); a re-created object gets a new id and loses those links",
};

describe("guard printout", () => {
  it("gives the whole reason for every protected type when it blocks a delete of it", () => {
    const types = [
      ...PROTECTED_RESOURCE_TYPES.map((entry) => entry.type),
      ...PROTECTED_RESOURCE_PACKAGES.map((entry) => `${entry.package}:index/role:Role`),
    ];
    assert.deepEqual(types.sort(), Object.keys(REASONS).sort(), "every protected type has its reason written out here");
    for (const type of types) {
      const urn = urnFor(type);
      const report = evaluatePreview(parsePreview(digest([{ op: "delete", urn, oldState: { type } }]), "p.json"));
      assert.equal(report.blocked.length, 1, type);
      assert.ok(formatReport(report, "p.json").includes(`\n  protected because: ${REASONS[type]}\n`), type);
    }
  });

  it("prints a blocked replacement whole: ops, URN, reasons, why, and the way out", () => {
    const urn = urnFor(VOLUME, "data");
    const report = evaluatePreview(
      parsePreview(
        digest([
          { op: "create-replacement", urn, newState: { type: VOLUME }, replaceReasons: ["size", "region"], diffReasons: ["size", "tags"] },
          { op: "replace", urn, newState: { type: VOLUME }, replaceReasons: ["region"] },
          { op: "delete-replaced", urn, oldState: { type: VOLUME } },
        ]),
        "p.json",
      ),
    );
    assert.equal(
      formatReport(report, "p.json"),
      [
        `BLOCKED create-replacement + replace + delete-replaced ${VOLUME}`,
        `  urn: ${urn}`,
        "  replace reasons: size, region",
        "  diff reasons: size, tags",
        `  protected because: ${REASONS[VOLUME]}`,
        "p.json: steps by op: 1 same, 1 create-replacement, 1 replace, 1 delete-replaced",
        "guard: blocked: 1 protected resource would be deleted or replaced. Once reviewed, let it through with --allow <urn> (one resource) or --allow <type> (every resource of that type).",
        "",
      ].join("\n"),
    );
  });

  it("prints no reason lines when the steps give none, and counts resources in the plural", () => {
    const report = evaluatePreview(
      parsePreview(
        digest([
          { op: "delete", urn: urnFor(VOLUME), oldState: { type: VOLUME } },
          { op: "delete", urn: urnFor(DROPLET), oldState: { type: DROPLET } },
        ]),
        "p.json",
      ),
    );
    const printed = formatReport(report, "p.json");
    assert.doesNotMatch(printed, /reasons:/);
    assert.match(printed, /^guard: blocked: 2 protected resources would be deleted or replaced\. Once reviewed/m);
    assert.deepEqual(
      report.blocked.map((finding) => [finding.replaceReasons, finding.diffReasons]),
      [
        [[], []],
        [[], []],
      ],
    );
  });

  it("says which --allow let a change through, naming every type of a finding that has several", () => {
    const urn = urnFor(VOLUME, "moved");
    const steps = [{ op: "replace", urn, oldState: { type: VOLUME }, newState: { type: "docker:index/volume:Volume" } }];
    const report = evaluatePreview(parsePreview(digest(steps), "p.json"), [VOLUME, "docker:index/volume:Volume"]);
    assert.equal(report.allowed.length, 1);
    assert.equal(report.allowed[0].why, `${REASONS["docker:index/volume:Volume"]}; ${REASONS[VOLUME]}`);
    assert.equal(
      formatReport(report, "p.json"),
      [
        `allowed replace docker:index/volume:Volume`,
        `  urn: ${urn}`,
        `  protected because: ${REASONS["docker:index/volume:Volume"]}; ${REASONS[VOLUME]}`,
        `  allowed by: --allow docker:index/volume:Volume and --allow ${VOLUME}`,
        "p.json: steps by op: 1 same, 1 replace",
        "guard: no protected resource would be deleted or replaced (1 allowed by --allow)",
        "",
      ].join("\n"),
    );
  });

  it("warns about an --allow of one of a finding's types that did not let it through", () => {
    const urn = urnFor(VOLUME, "moved");
    const steps = [{ op: "replace", urn, oldState: { type: VOLUME }, newState: { type: "docker:index/volume:Volume" } }];
    const report = evaluatePreview(parsePreview(digest(steps), "p.json"), [VOLUME]);
    assert.equal(report.blocked.length, 1);
    assert.deepEqual(report.unusedAllows, [VOLUME]);
    assert.match(
      formatReport(report, "p.json"),
      new RegExp(`^warning: --allow ${VOLUME} matched no protected resource that would be deleted or replaced$`, "m"),
    );
  });

  it("warns about nothing when no --allow is given", () => {
    const report = evaluatePreview(parsePreview(digest([{ op: "delete", urn: urnFor(VOLUME), oldState: { type: VOLUME } }]), "p.json"));
    assert.deepEqual(report.unusedAllows, []);
    assert.doesNotMatch(formatReport(report, "p.json"), /warning/);
  });

  it("prints policy violations whole, with and without a resource, and their count in the plural", () => {
    const events = [
      {
        policyName: "droplet-backups-enabled",
        enforcementLevel: "mandatory",
        resourceUrn: urnFor(DROPLET),
        message: "backups are off\nturn them on",
      },
      { policyName: "stack-secrets", enforcementLevel: "mandatory", message: "a secret in plain text" },
      { policyName: "cost-budget", enforcementLevel: "advisory", message: "over budget" },
    ];
    const report = evaluatePreview(parsePreview(digest([], { policyEvents: events }), "p.json"));
    assert.equal(
      formatReport(report, "p.json"),
      [
        "BLOCKED policy droplet-backups-enabled [mandatory]",
        `  urn: ${urnFor(DROPLET)}`,
        "  backups are off",
        "  turn them on",
        "BLOCKED policy stack-secrets [mandatory]",
        "  a secret in plain text",
        "advisory policy cost-budget [advisory]",
        "  over budget",
        "p.json: steps by op: 1 same",
        "guard: blocked: 2 mandatory policy violations; --allow does not cover policies (their levels are in policies/<stack>.json).",
        "",
      ].join("\n"),
    );
    const one = evaluatePreview(parsePreview(digest([], { policyEvents: events.slice(0, 1) }), "p.json"));
    assert.match(formatReport(one, "p.json"), /^guard: blocked: 1 mandatory policy violation; --allow/m);
  });

  it("prints the engine's change summary when there is one, and 'none' for no steps", () => {
    assert.equal(
      formatReport(emptyReport({ stepCounts: { same: 3 }, changeSummary: { same: 3 } }), "p.json"),
      "p.json: steps by op: 3 same\np.json: engine change summary: 3 same\nguard: no protected resource would be deleted or replaced\n",
    );
    assert.equal(
      formatReport(emptyReport(), "p.json"),
      "p.json: steps by op: none\nguard: no protected resource would be deleted or replaced\n",
    );
  });

  it("refuses a possibly corrupt state with the way to repair it", () => {
    assert.equal(
      formatReport(emptyReport({ maybeCorrupt: true, stepCounts: { same: 1 } }), "p.json"),
      "p.json: steps by op: 1 same\n" +
        "guard: refused: the preview says the stack's state may be corrupt (maybeCorrupt), so its steps cannot be trusted. " +
        "Repair the state first (`pulumi refresh`, `pulumi stack export`), then preview again.\n",
    );
  });
});

describe("guard input", () => {
  it("takes the type a step carries (npm run check --json writes it)", () => {
    const urn = "urn:pulumi:production::dropstack::dropstack:index:Part::thing";
    const report = evaluatePreview(parsePreview(digest([{ op: "delete", urn, type: VOLUME }]), "p.json"));
    assert.deepEqual(
      report.blocked.map((finding) => finding.type),
      [VOLUME],
    );
  });

  it("refuses previews with no steps, an empty step list included", () => {
    for (const text of ["{}", '{"steps": []}', '{"steps": null}']) assert.match(inputError(text), /the preview lists no steps/, text);
  });

  it("points at npm's banner only when the text starts with it", () => {
    for (const banner of ["> dropstack@0.1.0 check\n{}", "\n\n> dropstack@0.1.0 check\n{}", "  > x"])
      assert.match(inputError(banner), /; it starts with npm's banner: produce it with `npm run -s`$/, JSON.stringify(banner));
    for (const text of ['{"steps": "a > b"', "x > y"]) assert.match(inputError(text), /^p\.json: not valid JSON \([^\n]*\)$/, text);
  });

  it("lists every shape problem on its own line, with its place in the document", () => {
    const message = inputError(JSON.stringify({ steps: [{ op: "", urn: "not-a-urn" }], maybeCorrupt: "yes" }));
    const lines = message.split("\n");
    assert.equal(lines[0], "p.json: not the output of `pulumi preview --json`:");
    assert.deepEqual(
      lines
        .slice(1)
        .map((line) => line.split(":")[0])
        .sort(),
      ["  maybeCorrupt", "  steps[0].op", "  steps[0].urn"],
    );
    assert.match(inputError("[]"), /^ {2}\(document\): /m);
  });

  it("quotes each error of a failed preview, skipping empty messages, and counts them", () => {
    const diagnostics = (messages: (string | undefined)[]) =>
      digest([], { diagnostics: messages.map((message) => ({ severity: "error", ...(message === undefined ? {} : { message }) })) });
    assert.equal(inputError(diagnostics(["  boom  \n"])), "p.json: the preview failed (1 error), so its step list is incomplete:\n  boom");
    assert.equal(
      inputError(diagnostics(["first", "   ", undefined, "second"])),
      "p.json: the preview failed (4 errors), so its step list is incomplete:\n  first\n  second",
    );
  });
});

describe("guard URNs and ops", () => {
  it("reads a URN only with the urn:pulumi: prefix and every part present", () => {
    assert.deepEqual(parseUrn("urn:pulumi:s::p::a$b:c:D::n::x"), { stack: "s", project: "p", type: "b:c:D", name: "n::x" });
    for (const urn of [
      "urn:other:s::p::t:m:T::n",
      "xurn:pulumi:s::p::t:m:T::n",
      "s::p::t:m:T::n::urn:pulumi:",
      "urn:pulumi:::p::t:m:T::n",
      "urn:pulumi:s::::t:m:T::n",
      "urn:pulumi:s::p::::n",
      "urn:pulumi:s::p::a$::n",
      "urn:pulumi:s::p::t:m:T::",
      "urn:pulumi:s::p::t:m:T",
    ])
      assert.equal(parseUrn(urn), undefined, urn);
  });

  it("counts as disruptive exactly the destroying ops and any op it does not know", () => {
    const disruptive = ["delete", "replace", "create-replacement", "delete-replaced", "import-replacement"];
    for (const op of KNOWN_STEP_OPS) assert.equal(isDisruptiveOp(op), disruptive.includes(op), op);
    for (const op of ["obliterate", "Delete", "replace "]) assert.equal(isDisruptiveOp(op), true, op);
  });
});

describe("guard arguments", () => {
  it("refuses --help among other arguments, and says why", () => {
    for (const argv of [
      ["p.json", "--help"],
      ["--help", "p.json"],
    ])
      assert.throws(() => parseGuardArgs(argv), new UsageError("--help is help only on its own"), argv.join(" "));
  });

  it("names what is missing or extra among the preview files", () => {
    assert.throws(
      () => parseGuardArgs([]),
      new UsageError(
        "missing the preview file (the output of `pulumi preview --json` or `npm run -s check -- <stack> --json`, or - for stdin)",
      ),
    );
    assert.throws(() => parseGuardArgs(["a.json", "b.json"]), new UsageError("expected one preview file, got 2: a.json b.json"));
    assert.throws(() => parseGuardArgs(["a.json", "-", "c"]), new UsageError("expected one preview file, got 3: a.json - c"));
  });

  it("has a usage line and a help text that name the command, --allow and the exit codes", () => {
    assert.equal(USAGE, "usage: npm run guard -- <preview.json | -> [--allow <urn-or-type>]...");
    assert.match(HELP, /--allow <urn-or-type>/);
    assert.match(HELP, /Exit: 0 clean, 1 blocked, 2 bad arguments or unusable input\./);
  });
});

describe("guard failures", () => {
  it("prints a refused argument with the usage, and unusable input with its message, both exit 2", () => {
    assert.deepEqual(failureFor(new UsageError("unknown option -x")), {
      stderr: `guard: unknown option -x\n${USAGE}\n`,
      exitCode: EXIT_BAD_INPUT,
    });
    assert.deepEqual(failureFor(new PreviewInputError("p.json: not valid JSON (x)")), {
      stderr: "guard: p.json: not valid JSON (x)\n",
      exitCode: EXIT_BAD_INPUT,
    });
  });

  // No input reaches this through the CLI (every refusal above is typed); it is what a bug in
  // the guard prints: it must still stop the pipeline, and never as "blocked by a finding".
  it("reports anything else as an internal error with its stack, exit 2 and never 1, whatever was thrown", () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'op')");
    const failure = failureFor(bug);
    assert.equal(failure.stderr, `guard: internal error: ${bug.stack}\n`);
    assert.match(failure.stderr, /TypeError: Cannot read properties of undefined \(reading 'op'\)\n\s+at /);
    const stackless = new RangeError("too deep");
    delete stackless.stack;
    for (const [thrown, detail] of [
      [stackless, "RangeError: too deep"],
      ["a string", "a string"],
      [undefined, "undefined"],
      [null, "null"],
      [42, "42"],
    ] as const) {
      const result = failureFor(thrown);
      assert.equal(result.stderr, `guard: internal error: ${detail}\n`, String(thrown));
      assert.equal(result.exitCode, EXIT_BAD_INPUT);
    }
  });
});
