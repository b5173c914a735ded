/**
 * Figures of a panel's data, built from the generic builders of figure.ts: a unit's node series,
 * the targets of several units, a graph as a sender x receiver heatmap. Notebooks use them as
 * panels of {@link facets}; their name and caption default to a facet panel's ("panel", "").
 */
import type { Graph } from "../graph";
import { type Panel, nodeSeries, targetIndex } from "../data/panel";
import { type Figure, heatmap, lineChart } from "./figure";

/** Name and caption of a figure drawn on its own; a facet panel needs neither. */
export interface PanelFigureOptions {
  name?: string;
  caption?: string;
}

/** Series of a panel over its steps 0 .. T - 1, as a line chart. */
function stepChart(panel: Pick<Panel, "steps">, spec: PanelFigureOptions & { yTitle: string }, series: { name: string; y: number[] }[]): Figure {
  const x = Array.from({ length: panel.steps }, (_, t) => t);
  return lineChart({ name: spec.name ?? "panel", caption: spec.caption ?? "", x, xTitle: "step", yTitle: spec.yTitle, series });
}

/** Line chart of some nodes of one unit over the steps: one line per node, named after it. */
export function unitSeriesChart(panel: Panel, spec: PanelFigureOptions & { unit: number; nodes: readonly number[]; yTitle: string }): Figure {
  return stepChart(
    panel,
    spec,
    spec.nodes.map((i) => ({ name: panel.nodeNames[i], y: nodeSeries(panel, spec.unit, i) })),
  );
}

/** Line chart of the target of several units over the steps: one line per unit (units beyond the panel's are left out). */
export function targetSeriesChart(panel: Panel, spec: PanelFigureOptions & { units: readonly number[]; yTitle: string }): Figure {
  const target = targetIndex(panel);
  const units = spec.units.filter((u) => u < panel.units);
  return stepChart(
    panel,
    spec,
    units.map((u) => ({ name: panel.unitIds[u], y: nodeSeries(panel, u, target) })),
  );
}

/** A 0/1 graph as a heatmap: rows senders j, columns receivers i, dark for an edge j -> i (diagonal blank). */
export function graphHeatmap(graph: Graph, nodeNames: string[], options: PanelFigureOptions = {}): Figure {
  return heatmap({
    name: options.name ?? "panel",
    caption: options.caption ?? "",
    z: graph,
    rowLabels: nodeNames,
    colLabels: nodeNames,
    zmin: 0,
    zmax: 1,
    rowTitle: "sender j",
    colTitle: "receiver i",
  });
}
