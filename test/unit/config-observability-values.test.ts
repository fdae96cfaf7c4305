// dropstack:observability values at their edges: a retention size is the whole value (nothing
// after the unit), each threshold percentage takes 0 and 100 and refuses values just outside,
// and a Loki push URL carries no user name or password in any combination. Cases are generated
// over the sizes' units, every percentage key and the credential shapes a URL can hold.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStackConfig, retentionSizeBytes } from "../../components/config/schema";
import { DEFAULT_ALERT_THRESHOLDS } from "../../components/observability/settings";
import { type MinimalConfig, minimalConfig, problemsAfter } from "../support/config";

const withObservability = (observability: Record<string, unknown>) => (raw: MinimalConfig) => Object.assign(raw, { observability });

function observabilityOf(observability: Record<string, unknown>) {
  const raw = minimalConfig();
  Object.assign(raw, { observability });
  const result = parseStackConfig(raw, "staging");
  assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
  return result.config.observability;
}

const UNITS = ["KB", "MB", "GB", "TB"];
const PERCENT_KEYS = [
  "max5xxPercent",
  "minLoginSuccessPercent",
  "minDiskFreePercent",
  "minMemoryAvailablePercent",
  "maxDatabaseCpuPercent",
  "maxDatabaseConnectionsPercent",
] as const;

describe("observability.metricsRetentionSize is a whole size", () => {
  for (const unit of UNITS)
    for (const trailing of ["x", " ", "B", "-", "\t", ".5", "5"]) {
      const size = `5${unit}${trailing}`;
      it(`refuses ${JSON.stringify(size)}: text after the unit`, () => {
        assert.deepEqual(problemsAfter(withObservability({ metricsRetentionSize: size })), [
          `dropstack:observability.metricsRetentionSize: expected a size like 512MB or 5GB, got ${JSON.stringify(size)}`,
        ]);
        assert.equal(retentionSizeBytes(size), undefined);
      });
    }

  for (const unit of UNITS)
    it(`takes 5${unit} and 999999${unit} as they are`, () => {
      assert.equal(observabilityOf({ metricsRetentionSize: `5${unit}` }).metricsRetentionSize, `5${unit}`);
      assert.equal(observabilityOf({ metricsRetentionSize: `999999${unit}` }).metricsRetentionSize, `999999${unit}`);
    });
});

describe("observability.thresholds percentages", () => {
  for (const key of PERCENT_KEYS) {
    it(`takes ${key} of 0, 0.5, 50, 99.9 and 100 as given`, () => {
      for (const value of [0, 0.5, 50, 99.9, 100])
        assert.deepEqual(observabilityOf({ thresholds: { [key]: value } }).thresholds, { ...DEFAULT_ALERT_THRESHOLDS, [key]: value });
    });

    it(`refuses ${key} below 0 or above 100, repeating the value`, () => {
      for (const value of [-1, -0.01, 100.01, 101])
        assert.deepEqual(problemsAfter(withObservability({ thresholds: { [key]: value } })), [
          `dropstack:observability.thresholds.${key}: must be a percentage from 0 to 100, got ${value}`,
        ]);
    });
  }
});

describe("observability.remoteLoki.url carries no credentials", () => {
  const HOSTS = ["logs.example.com", "logs.example.com:3100", "10.0.0.5"];
  for (const host of HOSTS)
    for (const credentials of ["tenant@", "tenant:@", ":s3cret@", "tenant:s3cret@", "%40me@"]) {
      const url = `https://${credentials}${host}/loki/api/v1/push`;
      it(`refuses ${url}`, () => {
        assert.deepEqual(problemsAfter(withObservability({ remoteLoki: { url } })), [
          "dropstack:observability.remoteLoki.url: expected a URL without credentials in it",
        ]);
      });
    }

  for (const host of HOSTS)
    it(`takes https://${host}/loki/api/v1/push, with the credentials in their own keys`, () => {
      const url = `https://${host}/loki/api/v1/push`;
      assert.deepEqual(observabilityOf({ remoteLoki: { url, username: "tenant", password: "s3cret" } }).remoteLoki, {
        url,
        username: "tenant",
        password: "s3cret",
      });
    });
});

describe("observability.remoteLoki.url is https", () => {
  for (const [url, scheme] of [
    ["http://logs.example.com/loki/api/v1/push", "http"],
    ["ftp://logs.example.com/push", "ftp"],
    ["wss://logs.example.com/push", "wss"],
    ["git+ssh://logs.example.com/push", "git+ssh"],
    ["file:///var/log/loki", "file"],
    ["HTTP://logs.example.com/push", "http"],
  ])
    it(`refuses ${url}, naming its ${scheme} scheme`, () => {
      assert.deepEqual(problemsAfter(withObservability({ remoteLoki: { url } })), [
        `dropstack:observability.remoteLoki.url: expected an https:// URL, got a ${scheme} URL`,
      ]);
    });
});
