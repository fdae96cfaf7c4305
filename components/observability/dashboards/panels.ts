// Builders for the panels, annotations and dashboards the Observability component ships.
// Each panel's options and field config are the panel plugin's own types from Grafana's
// published schema (@grafana/schema, the version of the Grafana image), so `tsc` checks every
// option a dashboard sets against what Grafana reads. The imports are type-only: the schema
// package is a dev dependency and never loaded at run time.
import type {
  AnnotationQuery,
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  Dashboard,
  DataQuery,
  FieldColorModeId,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  LogsDedupStrategy,
  LogsSortOrder,
  Panel,
  PercentChangeColorMode,
  RowPanel,
  SortOrder,
  ThresholdsConfig,
  ThresholdsMode,
  TooltipDisplayMode,
  VizOrientation,
} from "@grafana/schema";
import type * as Logs from "@grafana/schema/dist/types/raw/composable/logs/panelcfg/x/LogsPanelCfg_types.gen";
import type * as Stat from "@grafana/schema/dist/types/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen";
import type * as TimeSeries from "@grafana/schema/dist/types/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen";
import type { LokiDataQuery, QueryEditorMode } from "@grafana/schema/dist/types/raw/composable/loki/dataquery/x/LokiDataQuery_types.gen";
import { datasourceRef } from "./datasources";

/** The dashboard JSON schema version of Grafana 12.1 (@grafana/schema's defaultDashboard). */
export const DASHBOARD_SCHEMA_VERSION = 41;
/** Grafana's grid is 24 columns wide. */
export const GRID_COLUMNS = 24;
const DEFAULT_PANEL_HEIGHT = 8;

/**
 * The member of one of the schema's string enums whose value is `value`. The enums are
 * run-time objects in @grafana/schema, which this module does not load; the template literal
 * type still makes tsc reject a value the enum does not have.
 */
export function schemaEnum<E extends string>(value: `${E}`): E {
  return value as unknown as E;
}

/**
 * A Prometheus query as the Prometheus datasource stores it: the schema's common DataQuery
 * and the fields that datasource reads (@grafana/schema publishes no type of its own for it).
 */
export interface PrometheusQuery extends DataQuery {
  expr: string;
  legendFormat?: string;
  range?: boolean;
  instant?: boolean;
  editorMode?: "code" | "builder";
}

/**
 * A Loki annotation as Grafana's Loki datasource stores it: the schema's AnnotationQuery and
 * the fields its annotation editor writes beside them. Title and text are legend formats over
 * the labels of each matching line (`{{image}}`); tagKeys names the labels that become tags.
 */
export interface LokiAnnotation extends AnnotationQuery {
  expr: string;
  instant: boolean;
  titleFormat: string;
  textFormat: string;
  tagKeys: string;
}

/** Where a panel draws its threshold: values above `above`, or below `below`, are bad. */
export type Limit = { above: number } | { below: number };

/** One line of a chart: its PromQL and the legend format naming its series. */
export interface Series {
  expr: string;
  legend: string;
}

interface PanelSpec {
  title: string;
  /** Shown on the panel's (i): where the numbers come from and what the line means. */
  description: string;
  /** Grid columns, out of GRID_COLUMNS. */
  width: number;
  height?: number;
}

const ABSOLUTE = schemaEnum<ThresholdsMode>("absolute");

/** The colour steps of a limit: green on the good side, red from the limit on. */
export function thresholdsFor(limit: Limit | undefined): ThresholdsConfig {
  if (limit === undefined) return { mode: ABSOLUTE, steps: [{ color: "green", value: null }] };
  if ("above" in limit) {
    return {
      mode: ABSOLUTE,
      steps: [
        { color: "green", value: null },
        { color: "red", value: limit.above },
      ],
    };
  }
  return {
    mode: ABSOLUTE,
    steps: [
      { color: "red", value: null },
      { color: "green", value: limit.below },
    ],
  };
}

/** A refId per query, in order: A, B, C... */
/** What every panel states the same way: its plugin, title, description, datasource and size (layOut places it). */
function panelHead(type: string, datasource: Parameters<typeof datasourceRef>[0], spec: PanelSpec) {
  return {
    type,
    title: spec.title,
    description: spec.description,
    datasource: datasourceRef(datasource),
    gridPos: { w: spec.width, h: spec.height ?? DEFAULT_PANEL_HEIGHT, x: 0, y: 0 },
  };
}

function refId(index: number): string {
  return String.fromCharCode("A".charCodeAt(0) + index);
}

function prometheusTargets(series: readonly Series[]): Array<Record<string, unknown>> {
  return series.map((line, index) => {
    const query: PrometheusQuery = {
      refId: refId(index),
      datasource: datasourceRef("prometheus"),
      expr: line.expr,
      legendFormat: line.legend,
      range: true,
      editorMode: "code",
    };
    return { ...query };
  });
}

/** A chart of Prometheus series, with the limit drawn as a dashed line when there is one. */
export function timeSeriesPanel(
  spec: PanelSpec & { unit: string; series: readonly Series[]; limit?: Limit; min?: number; max?: number },
): Panel {
  // Typed apart and spread into the panel: Panel's options and custom are open records, so
  // only a value typed as the plugin's own options has its keys checked.
  const options: TimeSeries.Options = {
    legend: { calcs: [], displayMode: schemaEnum<LegendDisplayMode>("list"), placement: "bottom", showLegend: true },
    tooltip: { mode: schemaEnum<TooltipDisplayMode>("multi"), sort: schemaEnum<SortOrder>("desc") },
  };
  const custom: TimeSeries.FieldConfig = {
    lineWidth: 1,
    fillOpacity: 10,
    spanNulls: false,
    thresholdsStyle: { mode: schemaEnum<GraphThresholdsStyleMode>(spec.limit === undefined ? "off" : "dashed") },
  };
  return {
    ...panelHead("timeseries", "prometheus", spec),
    targets: prometheusTargets(spec.series),
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        min: spec.min,
        max: spec.max,
        color: { mode: schemaEnum<FieldColorModeId>("palette-classic") },
        thresholds: thresholdsFor(spec.limit),
        custom: { ...custom },
      },
      overrides: [],
    },
    options: { ...options },
  };
}

/** One number (the query's last value), coloured by the limit. */
export function statPanel(spec: PanelSpec & { unit: string; expr: string; limit?: Limit }): Panel {
  const options: Stat.Options = {
    colorMode: schemaEnum<BigValueColorMode>("value"),
    graphMode: schemaEnum<BigValueGraphMode>("area"),
    justifyMode: schemaEnum<BigValueJustifyMode>("auto"),
    orientation: schemaEnum<VizOrientation>("auto"),
    percentChangeColorMode: schemaEnum<PercentChangeColorMode>("standard"),
    reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
    showPercentChange: false,
    textMode: schemaEnum<BigValueTextMode>("auto"),
    wideLayout: true,
  };
  return {
    ...panelHead("stat", "prometheus", spec),
    targets: prometheusTargets([{ expr: spec.expr, legend: spec.title }]),
    fieldConfig: {
      defaults: { unit: spec.unit, color: { mode: schemaEnum<FieldColorModeId>("thresholds") }, thresholds: thresholdsFor(spec.limit) },
      overrides: [],
    },
    options: { ...options },
  };
}

/** The newest lines a LogQL query matches. */
export function logsPanel(spec: PanelSpec & { expr: string; maxLines: number }): Panel {
  const query: LokiDataQuery = {
    refId: refId(0),
    datasource: datasourceRef("loki"),
    expr: spec.expr,
    queryType: "range",
    maxLines: spec.maxLines,
    editorMode: schemaEnum<QueryEditorMode>("code"),
  };
  const options: Logs.Options = {
    dedupStrategy: schemaEnum<LogsDedupStrategy>("none"),
    enableLogDetails: true,
    prettifyLogMessage: false,
    showCommonLabels: false,
    showLabels: true,
    showLogContextToggle: true,
    showTime: true,
    sortOrder: schemaEnum<LogsSortOrder>("Descending"),
    wrapLogMessage: true,
  };
  return {
    ...panelHead("logs", "loki", spec),
    targets: [{ ...query }],
    options: { ...options },
  };
}

/** An annotation marking each line a LogQL query matches on every time-series panel. */
export function lokiAnnotation(spec: {
  name: string;
  expr: string;
  iconColor: string;
  titleFormat: string;
  textFormat: string;
  tagKeys: string[];
}): LokiAnnotation {
  return {
    name: spec.name,
    datasource: datasourceRef("loki"),
    enable: true,
    hide: false,
    iconColor: spec.iconColor,
    expr: spec.expr,
    instant: false,
    titleFormat: spec.titleFormat,
    textFormat: spec.textFormat,
    tagKeys: spec.tagKeys.join(","),
  };
}

/** A titled group of panels, shown under a row header. */
export interface Section {
  title: string;
  panels: Panel[];
}

/**
 * The sections top to bottom, each a row header and its panels left to right, wrapping at
 * the grid's width. Panel ids are assigned here, so they are unique within the dashboard.
 */
export function layOut(sections: readonly Section[]): Array<Panel | RowPanel> {
  const placed: Array<Panel | RowPanel> = [];
  let id = 1;
  let y = 0;
  for (const section of sections) {
    placed.push({ type: "row", id: id++, title: section.title, collapsed: false, panels: [], gridPos: { w: GRID_COLUMNS, h: 1, x: 0, y } });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const panel of section.panels) {
      const w = panel.gridPos?.w ?? GRID_COLUMNS;
      const h = panel.gridPos?.h ?? DEFAULT_PANEL_HEIGHT;
      if (w > GRID_COLUMNS) throw new Error(`panel "${panel.title}" is ${w} columns wide; the grid has ${GRID_COLUMNS}`);
      if (x + w > GRID_COLUMNS) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      placed.push({ ...panel, id: id++, gridPos: { w, h, x, y } });
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return placed;
}

/**
 * A dashboard as the repository ships it: not editable in Grafana (the provider refuses UI
 * saves too), so a change is a commit, not a click that the next deploy overwrites.
 */
export function dashboard(spec: {
  uid: string;
  title: string;
  description: string;
  sections: readonly Section[];
  annotations: LokiAnnotation[];
}): Dashboard {
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ["dropstack"],
    editable: false,
    schemaVersion: DASHBOARD_SCHEMA_VERSION,
    // Shared crosshair: the same moment is marked on every chart.
    graphTooltip: 1,
    time: { from: "now-6h", to: "now" },
    refresh: "1m",
    timezone: "browser",
    annotations: { list: spec.annotations },
    panels: layOut(spec.sections),
  };
}
