// The text a smoke check's response body must contain (bodyContains) is accepted whenever it
// has one visible character and no control character, however short and wherever its spaces
// are: the rendered check line carries it unchanged, and the stack config takes it. Cases: every
// single visible character of several scripts and punctuation, then each after runs of 0 to 4
// leading and trailing spaces; blank text stays refused.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderSmokeCommand, type SmokeCheck } from "../../components/hooks/commands";
import { problemsAfter } from "../support/config";

const VISIBLE = ["x", "Z", "0", "{", "}", '"', "'", "/", "\\", "é", "ß", "Ж", "日", "😀", "\u00a0x"];
const BODIES = VISIBLE.flatMap((text) =>
  [0, 1, 2, 3, 4].flatMap((before) => [0, 2].map((after) => " ".repeat(before) + text + " ".repeat(after))),
);

const check: SmokeCheck = { method: "GET", host: "api.example.com", path: "/healthz", status: 200 };
const shellQuoted = (text: string) => text.replaceAll("'", "'\\''");

describe("a smoke check's body match", () => {
  it("renders any body with one visible character, short or after leading spaces, unchanged in the check line", () => {
    for (const bodyContains of BODIES) {
      const script = renderSmokeCommand({ checks: [{ ...check, bodyContains }], insecure: false });
      assert.ok(
        script.includes(`\nCHECKS='GET\tapi.example.com\t/healthz\t200\t0\t${shellQuoted(bodyContains)}'\n`),
        JSON.stringify(bodyContains),
      );
    }
  });

  it("is taken from dropstack:app.smoke[].bodyContains, short or after leading spaces", () => {
    for (const bodyContains of BODIES)
      assert.deepEqual(
        problemsAfter((raw) => void (raw.app.smoke = [{ path: "/health", bodyContains }])),
        [],
        JSON.stringify(bodyContains),
      );
  });

  it("still refuses a body of spaces only, of any length", () => {
    for (const bodyContains of ["", " ", "  ", "    "])
      assert.throws(() => renderSmokeCommand({ checks: [{ ...check, bodyContains }], insecure: false }), {
        message: "smoke check 1: the body match must be text without tabs or other control characters",
      });
  });
});
