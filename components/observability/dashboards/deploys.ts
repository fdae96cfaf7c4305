// The deploy markers: each finished deploy appends one JSON line ({"image", "stack", "at"})
// to DEPLOY_LOG, Alloy ships it to Loki under job=LOG_LABELS.deploysJob, and every
// dashboard marks it on its charts, so a change in a graph can be read against what shipped.
import { LOG_LABELS, type ObservabilitySettings } from "../settings";
import { type LokiAnnotation, lokiAnnotation } from "./panels";
import { stackStreams, streamSelector } from "./promql";

/** The LogQL of this stack's deploy lines, whose JSON fields become labels. */
export function deployMarkersQuery(settings: ObservabilitySettings): string {
  return `${streamSelector(...stackStreams(settings, LOG_LABELS.deploysJob))} | json`;
}

/** The annotation marking each deploy: titled with the stack, the image as its text. */
export function deployAnnotation(settings: ObservabilitySettings): LokiAnnotation {
  return lokiAnnotation({
    name: "Deploys",
    expr: deployMarkersQuery(settings),
    iconColor: "blue",
    titleFormat: "Deploy to {{stack}}",
    textFormat: "{{image}}",
    tagKeys: ["stack"],
  });
}
