// The Pulumi resource names of the scheduled-backup unit files: only a leading "dropstack-",
// then a leading "backup-check." or "backup." is renamed, and the first dot becomes a dash,
// so a unit whose name merely contains those words keeps them. Cases: the shipped units, and
// names with the words in the middle or without the prefix.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { scheduleResourceKey } from "../../components/hooks";

describe("the resource names of the scheduled units", () => {
  it("rename only the leading prefix and unit kind of a name, never the same words later in it", () => {
    for (const [unit, key] of [
      ["dropstack-backup.timer", "dump-timer"],
      ["dropstack-backup-check.service", "freshness-service"],
      ["dropstack-drill.service", "drill-service"],
      ["dropstack-app-backup.timer", "app-backup-timer"],
      ["dropstack-pre-backup-check.timer", "pre-backup-check-timer"],
      ["x-dropstack-drill.timer", "x-dropstack-drill-timer"],
      ["backup.timer", "dump-timer"],
      ["my-backup.service", "my-backup-service"],
    ])
      assert.equal(scheduleResourceKey(unit), key, unit);
  });
});
