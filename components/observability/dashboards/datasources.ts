// The datasources Grafana is provisioned with, by the fixed uid every panel and annotation
// names: a dashboard refers to its datasource by uid, so provisioning and dashboards must
// agree on it, and a uid Grafana generated would differ on every new droplet.
import type { DataSourceRef } from "@grafana/schema";

/** Each provisioned datasource's uid (grafana.ts renderGrafanaDatasources). */
export const DATASOURCE_UIDS = {
  prometheus: "dropstack-prometheus",
  loki: "dropstack-loki",
  alertmanager: "dropstack-alertmanager",
} as const;
export type DatasourceName = keyof typeof DATASOURCE_UIDS;

/** The plugin each datasource is an instance of. */
export const DATASOURCE_TYPES: Record<DatasourceName, string> = {
  prometheus: "prometheus",
  loki: "loki",
  alertmanager: "alertmanager",
};

/** The reference a panel, query or annotation carries to name its datasource. */
export function datasourceRef(name: DatasourceName): DataSourceRef {
  return { type: DATASOURCE_TYPES[name], uid: DATASOURCE_UIDS[name] };
}
