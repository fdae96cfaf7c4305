// The guard as CI runs it: a process whose exit code gates `pulumi up`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TS_NODE } from "../support/program";

const root = join(__dirname, "..", "..");
const fixtures = join("test", "fixtures", "preview");

function guard(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [...TS_NODE, join("tools", "guard", "main.ts"), ...args], {
    cwd: root,
    input,
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const VOLUME_URN = "urn:pulumi:staging::dropstack::dropstack:index:Host$digitalocean:index/volume:Volume::web-data";

describe("guard CLI exit codes", () => {
  it("exits 0 on a clean preview and prints the counts by op", () => {
    const run = guard([join(fixtures, "clean.json")]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /steps by op: 1 same, 2 update, 1 replace, 1 create/);
  });

  it("exits 1 when the database cluster would be replaced, listing it", () => {
    const run = guard([join(fixtures, "replace-database.json")]);
    assert.equal(run.status, 1);
    assert.match(run.stdout, /^BLOCKED replace digitalocean:index\/databaseCluster:DatabaseCluster$/m);
    assert.match(run.stdout, /replace reasons: region/);
  });

  it("exits 1 while one of two deletes is still not allowed, 0 once both are", () => {
    const file = join(fixtures, "delete-volume-and-role.json");
    const partly = guard([file, "--allow", VOLUME_URN]);
    assert.equal(partly.status, 1);
    assert.match(partly.stdout, /^allowed delete digitalocean:index\/volume:Volume$/m);
    assert.match(partly.stdout, /^BLOCKED delete auth0:index\/role:Role$/m);
    const fully = guard([file, "--allow", VOLUME_URN, "--allow", "auth0:index/role:Role"]);
    assert.equal(fully.status, 0, fully.stdout);
  });

  it("reads the preview from stdin when the path is -", () => {
    const blocked = guard(["-"], readFileSync(join(root, fixtures, "replacement-steps.json"), "utf8"));
    assert.equal(blocked.status, 1);
    assert.match(blocked.stdout, /<stdin>: steps by op/);
    const clean = guard(["-"], readFileSync(join(root, fixtures, "clean.json"), "utf8"));
    assert.equal(clean.status, 0);
  });

  for (const name of ["malformed.json", "wrong-shape.json", "failed-preview.json", "does-not-exist.json"]) {
    it(`exits 2 on ${name}, naming the file on stderr`, () => {
      const file = join(fixtures, name);
      const run = guard([file]);
      assert.equal(run.status, 2);
      assert.equal(run.stdout, "");
      assert.ok(run.stderr.includes(`guard: ${file}: `), run.stderr);
    });
  }

  it("exits 2 on malformed stdin", () => {
    const run = guard(["-"], '{"steps": [');
    assert.equal(run.status, 2);
    assert.match(run.stderr, /<stdin>: not valid JSON/);
  });

  it("exits 1 on each named example: firewalls deleted, host key, schema or volume attachment replaced", () => {
    for (const [name, pattern] of [
      ["delete-firewalls.json", /^BLOCKED delete digitalocean:index\/databaseFirewall:DatabaseFirewall$/m],
      ["replace-host-key.json", /^BLOCKED replace tls:index\/privateKey:PrivateKey$/m],
      ["replace-schema.json", /^BLOCKED create-replacement \+ replace \+ delete-replaced postgresql:index\/schema:Schema$/m],
      ["replace-droplet-cascade.json", /^BLOCKED replace digitalocean:index\/volumeAttachment:VolumeAttachment$/m],
    ] as const) {
      const run = guard([join(fixtures, name)]);
      assert.equal(run.status, 1, `${name}: ${run.stderr}`);
      assert.match(run.stdout, pattern);
    }
  });

  it("exits 2 on a preview that says the state may be corrupt", () => {
    const run = guard([join(fixtures, "maybe-corrupt.json")]);
    assert.equal(run.status, 2, run.stdout);
    assert.match(run.stdout, /guard: refused: the preview says the stack's state may be corrupt/);
  });

  it("prints the usage and exits 0 only for a lone --help", () => {
    const help = guard(["--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: npm run guard -- /);
    const file = join(fixtures, "delete-firewalls.json");
    for (const args of [
      ["-h"],
      [file, "-h"],
      [file, "--help"],
      [file, "--allow", "-h"],
      [file, "--allow=-h"],
      [file, "--allow", "--help"],
    ]) {
      const run = guard(args);
      assert.equal(run.status, 2, args.join(" "));
      assert.doesNotMatch(run.stdout, /usage/);
      assert.match(run.stderr, /usage: npm run guard -- /);
    }
  });

  it("exits 2 with the usage on bad arguments", () => {
    for (const args of [[], ["a.json", "b.json"], [join(fixtures, "clean.json"), "--allow"], ["--force", "x.json"]]) {
      const run = guard(args);
      assert.equal(run.status, 2, args.join(" "));
      assert.match(run.stderr, /usage: npm run guard -- <preview\.json \| -> \[--allow <urn-or-type>\]\.\.\./);
    }
  });
});
