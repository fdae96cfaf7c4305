// The few pieces of PromQL and LogQL the dashboards assemble queries from, so label values
// are always quoted and regex alternatives always escaped the same way.
import type { ObservabilitySettings } from "../settings";

/** The window every rate() and increase() on the dashboards looks back over. */
export const RATE_WINDOW = "5m";

/**
 * A double-quoted PromQL or LogQL string. Both read Go's escape sequences, of which JSON's
 * are a subset, so JSON.stringify quotes any value correctly.
 */
export function quoted(value: string): string {
  return JSON.stringify(value);
}

/** `label="value"` */
export function equals(label: string, value: string): string {
  return `${label}=${quoted(value)}`;
}

/** `label=~"regex"` */
export function matches(label: string, regex: string): string {
  return `${label}=~${quoted(regex)}`;
}

/** `label!="value"` */
export function differs(label: string, value: string): string {
  return `${label}!=${quoted(value)}`;
}

/** A regex matching exactly one of `values` (RE2: Prometheus anchors it at both ends). */
export function oneOf(values: readonly string[]): string {
  return values.map((value) => value.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&")).join("|");
}

/** `metric{matcher,...}`, or the bare metric name when there are no matchers. */
export function selector(metric: string, ...matchers: string[]): string {
  return matchers.length === 0 ? metric : `${metric}{${matchers.join(",")}}`;
}

/** `rate(selector[window])` */
export function rate(series: string): string {
  return `rate(${series}[${RATE_WINDOW}])`;
}

/** `increase(selector[window])` */
export function increase(series: string): string {
  return `increase(${series}[${RATE_WINDOW}])`;
}

/** A LogQL stream selector: `{matcher,...}`. */
export function streamSelector(...matchers: string[]): string {
  return `{${matchers.join(",")}}`;
}

/**
 * The matchers of this stack's log streams of a job. A remote Loki holds other stacks'
 * streams too, told apart by the `stack` label Alloy adds there (alloy.ts external_labels);
 * the Loki on the droplet has no such label, and only this stack's streams.
 */
export function stackStreams(settings: ObservabilitySettings, job: string): string[] {
  return [equals("job", job), ...(settings.remoteLoki === undefined ? [] : [equals("stack", settings.stack)])];
}
