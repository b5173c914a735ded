/**
 * Figures as data: a Plotly specification plus a name and a caption. Built once, then shown
 * inline (see `show`) and exported to PNG and SVG (see `exportFigure`). The builders here are
 * the plot layer's shared vocabulary; analysis code never draws, it returns numbers.
 */

/** A Plotly trace or layout: plain JSON. */
export type PlotlyObject = Record<string, unknown>;

export interface Figure {
  /** File stem in `figures/`, e.g. "02-causalmmm-drift". Letters, digits, '-', '_' and '.'. */
  name: string;
  /** One sentence shown under the figure and listed in the figures index. */
  caption: string;
  data: PlotlyObject[];
  layout: PlotlyObject;
  /** Pixel size of the exported PNG (and of the inline plot). */
  width: number;
  height: number;
}

export const FIGURE_DEFAULTS = {
  width: 720,
  height: 420,
  font: { family: "DejaVu Sans, Arial, sans-serif", size: 13 },
  margin: { l: 64, r: 24, t: 56, b: 56 },
  template: "plotly_white",
} as const;

const NAME = /^[A-Za-z0-9._-]+$/;

/** Makes a figure with the study's defaults; validates the name. */
export function figure(spec: {
  name: string;
  caption: string;
  data: PlotlyObject[];
  layout?: PlotlyObject;
  width?: number;
  height?: number;
}): Figure {
  if (!NAME.test(spec.name)) throw new Error(`figure name "${spec.name}" must match ${NAME}`);
  const width = spec.width ?? FIGURE_DEFAULTS.width;
  const height = spec.height ?? FIGURE_DEFAULTS.height;
  return {
    name: spec.name,
    caption: spec.caption,
    data: spec.data,
    layout: {
      font: FIGURE_DEFAULTS.font,
      margin: FIGURE_DEFAULTS.margin,
      template: FIGURE_DEFAULTS.template,
      ...spec.layout,
      width,
      height,
    },
    width,
    height,
  };
}

/** One line per series over a shared x axis. */
export function lineChart(spec: {
  name: string;
  caption: string;
  title?: string;
  x: number[];
  series: { name: string; y: number[]; yaxis?: "y" | "y2"; dash?: string }[];
  xTitle?: string;
  yTitle?: string;
  y2Title?: string;
  width?: number;
  height?: number;
}): Figure {
  const data = spec.series.map((s) => ({
    type: "scatter",
    mode: "lines",
    name: s.name,
    x: spec.x,
    y: s.y,
    yaxis: s.yaxis ?? "y",
    line: s.dash ? { dash: s.dash } : undefined,
  }));
  const layout: PlotlyObject = {
    title: spec.title ? { text: spec.title } : undefined,
    xaxis: { title: { text: spec.xTitle ?? "" } },
    yaxis: { title: { text: spec.yTitle ?? "" } },
  };
  if (spec.series.some((s) => s.yaxis === "y2")) {
    layout.yaxis2 = { title: { text: spec.y2Title ?? "" }, overlaying: "y", side: "right", showgrid: false };
    // a second axis takes the right margin: the legend goes under the plot
    layout.legend = { orientation: "h", x: 0, y: -0.22, xanchor: "left", yanchor: "top" };
    layout.margin = { ...FIGURE_DEFAULTS.margin, r: 72, b: 110 };
  }
  return figure({ ...spec, data, layout });
}

/**
 * A matrix as a heatmap; rows are `rowLabels` (top to bottom), columns `colLabels`. Larger values
 * are darker. A square matrix with the same row and column labels (a graph) has its diagonal
 * blanked unless `maskDiagonal` is false: the diagonal is never part of a graph.
 */
export function heatmap(spec: {
  name: string;
  caption: string;
  title?: string;
  z: number[][];
  rowLabels: string[];
  colLabels: string[];
  rowTitle?: string;
  colTitle?: string;
  colorscale?: string;
  zmin?: number;
  zmax?: number;
  maskDiagonal?: boolean;
  width?: number;
  height?: number;
}): Figure {
  const square = spec.rowLabels.length === spec.colLabels.length && spec.rowLabels.every((l, k) => l === spec.colLabels[k]);
  const mask = spec.maskDiagonal ?? square;
  const z = mask ? spec.z.map((row, j) => row.map((v, i) => (i === j ? null : v))) : spec.z;
  return figure({
    ...spec,
    data: [
      {
        type: "heatmap",
        z,
        reversescale: true,
        x: spec.colLabels,
        y: spec.rowLabels,
        colorscale: spec.colorscale ?? "Blues",
        zmin: spec.zmin,
        zmax: spec.zmax,
      },
    ],
    layout: {
      title: spec.title ? { text: spec.title } : undefined,
      xaxis: { title: { text: spec.colTitle ?? "" }, side: "bottom" },
      yaxis: { title: { text: spec.rowTitle ?? "" }, autorange: "reversed" },
    },
    width: spec.width ?? 520,
    height: spec.height ?? 460,
  });
}
