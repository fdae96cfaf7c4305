// The post-deploy watch's command input the render tests start from (renderWatchCommand), in a
// module of its own so that pure tests load no Pulumi.
import type { WatchCommandInput } from "../../components/hooks/commands";

/** The watch command's input for the render tests: a production stack that rolls back, nothing ignored. */
export const WATCH_COMMAND_INPUT: WatchCommandInput = {
  nginxContainer: "nginx",
  windowSeconds: 300,
  max5xxPercent: 1,
  p95LatencyMs: 800,
  minRequests: 20,
  currentImage: `sha256:${"ab".repeat(32)}`,
  stack: "production",
  rollback: true,
  ignoredHosts: [],
};
