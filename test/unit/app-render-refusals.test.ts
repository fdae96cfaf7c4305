// What the app's droplet commands refuse to render, and the message each refusal gives: a
// container, network or alias that is no docker name (it would reach a shell unquoted), a
// worker stability window that is no positive whole number of seconds, an empty worker
// healthcheck, and a start-up check for something that is no image ID. Cases are generated
// per argument (each name position, shell metacharacters, spaces, quotes, a leading
// separator) and per malformed value; the accepted neighbours are rendered to show the line
// is drawn where the message says.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  renderIngressJoinCommand,
  renderStartupCheckCommand,
  renderWorkerStableCommand,
  workerHealthcheckTest,
} from "../../components/app/render";

const JOIN = { container: "dropstack-staging-api-0-5f2a9c1", network: "dropstack-ingress", alias: "api" };
const NOT_NAMES = ["", "-api", ".api", "_api", "api;reboot", "api name", "api'x", 'api"x', "api$(id)", "api\n", " api", "api/x", "api:1"];

describe("ingress join: docker names only", () => {
  for (const [what, article] of [
    ["container", "a"],
    ["network", "a"],
    ["alias", "an"],
  ] as const) {
    it(`refuses ${article} ${what} that is no docker name, quoting it in the message`, () => {
      for (const value of NOT_NAMES) {
        assert.throws(
          () => renderIngressJoinCommand({ ...JOIN, [what]: value }),
          { message: `${what}: not a docker name: "${value}"` },
          JSON.stringify(value),
        );
      }
    });

    it(`accepts ${article} ${what} of letters, digits, dots, dashes and underscores after an alphanumeric start`, () => {
      for (const value of ["a", "A9", "9a", "api_v2.blue-1"]) {
        assert.match(renderIngressJoinCommand({ ...JOIN, [what]: value }), /docker network connect --alias /);
      }
    });
  }
});

describe("worker stability check", () => {
  it("refuses a window that is not a positive whole number of seconds", () => {
    for (const seconds of [0, -1, -20, 0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => renderWorkerStableCommand({ container: "dropstack-worker", seconds }),
        { message: `the worker stability window must be a positive number of seconds, got ${seconds}` },
        String(seconds),
      );
    }
  });

  it("refuses a container that is no docker name before looking at the window", () => {
    assert.throws(() => renderWorkerStableCommand({ container: "w;rm -rf /", seconds: 0 }), {
      message: 'container: not a docker name: "w;rm -rf /"',
    });
  });

  it("waits the window it was given", () => {
    for (const seconds of [1, 20, 300])
      assert.match(renderWorkerStableCommand({ container: "w", seconds }), new RegExp(`\nsleep ${seconds}\n`));
  });
});

describe("worker healthcheck", () => {
  it("refuses an empty or blank command", () => {
    for (const command of ["", " ", "\t", "\n", "  \t\n "]) {
      assert.throws(() => workerHealthcheckTest(command), { message: "a worker healthcheck needs a command" }, JSON.stringify(command));
    }
  });

  it("runs a command as docker's CMD-SHELL, verbatim", () => {
    assert.deepEqual(workerHealthcheckTest(" celery inspect ping "), ["CMD-SHELL", " celery inspect ping "]);
  });
});

describe("start-up check", () => {
  const HEX = "0123456789abcdef".repeat(4);

  it("refuses anything but an image ID, quoting it in the message", () => {
    const notIds = [
      "",
      HEX,
      `sha256:${HEX.slice(1)}`,
      `sha256:${HEX}0`,
      `sha256:${HEX.toUpperCase()}`,
      `sha256:${HEX.slice(1)}g`,
      `SHA256:${HEX}`,
      ` sha256:${HEX}`,
      `sha256:${HEX} `,
      `sha256:${HEX}\n`,
      `ghcr.io/acme/api@sha256:${HEX}`,
      `sha512:${HEX}`,
    ];
    for (const imageId of notIds) {
      assert.throws(
        () => renderStartupCheckCommand({ imageId }),
        { message: `expected an image ID (sha256:<64 hex>), got "${imageId}"` },
        JSON.stringify(imageId),
      );
    }
  });

  it("filters the api containers by the image ID it was given", () => {
    assert.ok(renderStartupCheckCommand({ imageId: `sha256:${HEX}` }).includes(` --filter ancestor=sha256:${HEX} `));
  });
});
