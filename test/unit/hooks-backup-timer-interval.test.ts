// The scheduled backup's timer is rendered only for an interval systemd runs as configured: a
// whole number of hours from 1 to 168. Cases: the edges (0, 169), negatives, fractions, NaN and
// infinity are refused with the config key and the value; 1, 24 and 168 render their period.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderBackupTimer } from "../../components/hooks/schedule";

describe("the scheduled backup's timer", () => {
  it("refuses an interval that is not a whole number of hours from 1 to 168, naming the key and the value", () => {
    for (const intervalHours of [0, 169, -4, 1.5, 0.5, 167.9, Number.NaN, Number.POSITIVE_INFINITY])
      for (const drill of ["off", "daily", "weekly"] as const)
        assert.throws(() => renderBackupTimer({ intervalHours, drill, offsite: false }), {
          message: `dropstack:backups.intervalHours must be a whole number from 1 to 168, got ${intervalHours}`,
        });
  });

  it("runs every interval from 1 to 168 hours", () => {
    for (const intervalHours of [1, 24, 168])
      assert.match(
        renderBackupTimer({ intervalHours, drill: "off", offsite: false }),
        new RegExp(`^OnUnitActiveSec=${intervalHours}h$`, "m"),
      );
  });
});
