// The drill timer exists only when drills are on: asking for it with drills off is a
// programming error that names the setting. Cases: every drill schedule, with and without
// off-site copies.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DRILL_SCHEDULES } from "../../components/config/schema";
import { renderDrillTimer } from "../../components/hooks/schedule";

describe("the drill timer", () => {
  it("is refused when dropstack:backups.drill is off, and rendered for every other schedule", () => {
    for (const offsite of [false, true]) {
      assert.throws(() => renderDrillTimer({ intervalHours: 24, drill: "off", offsite }), {
        message: "dropstack:backups.drill is off: there is no drill timer",
      });
      for (const drill of DRILL_SCHEDULES.filter((d) => d !== "off"))
        assert.match(
          renderDrillTimer({ intervalHours: 24, drill, offsite }),
          new RegExp(`^Description=dropstack: ${drill} restore drill$`, "m"),
        );
    }
  });
});
