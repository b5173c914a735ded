/**
 * Figures as data: a Plotly specification plus a name and a caption. Built once, then shown
 * inline (see `show`) and exported to PNG and SVG (see `exportFigure`). The builders here are
 * the plot layer's shared vocabulary; analysis code never draws, it returns numbers.
 *
 * - `lineChart`: series over a shared x; `scatterChart`: groups of points with error bars and
 *   labels; `barChart`: grouped bars with error bars; `histogram` and `nullDistribution`
 *   (a null distribution with the observed values marked); `heatmap`: a matrix.
 * - `facets`: small multiples of traces or of figures made by the builders; `heatmapGrid`:
 *   matrices side by side with one colour scale.
 * - Every builder validates its input (lengths, names) and throws with the figure's name.
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
export function figure(spec: { name: string; caption: string; data: PlotlyObject[]; layout?: PlotlyObject; width?: number; height?: number }): Figure {
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
  series: { name: string; y: number[]; yaxis?: "y" | "y2"; dash?: string; color?: string }[];
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
    line: s.dash || s.color ? { ...(s.dash ? { dash: s.dash } : {}), ...(s.color ? { color: s.color } : {}) } : undefined,
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
 * blanked unless `maskDiagonal` is false: the diagonal is never part of a graph. Throws when `z`
 * is not `rowLabels.length x colLabels.length`. Such a graph's axes are titled by default with
 * what they mean (rows: senders j, columns: receivers i, as G[j][i] = 1 means j -> i). Long tick
 * labels are slanted and make room for themselves (Plotly's automargin) instead of being cut.
 * Several heatmaps side by side with one colour scale: {@link heatmapGrid}.
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
  checkMatrix(spec.name, "z", spec.z, { rows: spec.rowLabels.length, cols: spec.colLabels.length });
  const square = isGraphMatrix(spec.rowLabels, spec.colLabels);
  const mask = spec.maskDiagonal ?? square;
  const z = mask ? spec.z.map((row, j) => row.map((v, i) => (i === j ? null : v))) : spec.z;
  const titles = square ? GRAPH_AXIS_TITLES : { row: "", col: "" };
  const ticks = tickRoom(spec.rowLabels, spec.colLabels);
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
      xaxis: { title: { text: spec.colTitle ?? titles.col }, side: "bottom", automargin: true, tickangle: ticks.angle },
      yaxis: { title: { text: spec.rowTitle ?? titles.row }, autorange: "reversed", automargin: true },
    },
    width: spec.width ?? Math.max(520, 36 * spec.colLabels.length + 220) + ticks.rowRoom,
    height: spec.height ?? Math.max(460, 36 * spec.rowLabels.length + 160) + ticks.colRoom,
  });
}

/** Axis titles of a graph heatmap: rows are senders, columns receivers (G[j][i] = 1: j -> i). */
export const GRAPH_AXIS_TITLES = { row: "sender j (from)", col: "receiver i (to)" } as const;

/** True for a square matrix whose rows and columns carry the same labels: a graph over nodes. */
function isGraphMatrix(rowLabels: readonly string[], colLabels: readonly string[]): boolean {
  return rowLabels.length === colLabels.length && rowLabels.every((l, k) => l === colLabels[k]);
}

/**
 * Room for tick labels: column labels longer than a few characters are slanted (`angle`), and the
 * default size grows by about the pixels the longest labels take (`rowRoom` on the left,
 * `colRoom` below), so that the plot area keeps its size when automargin makes room for them.
 */
function tickRoom(rowLabels: readonly string[], colLabels: readonly string[]): { angle: number | undefined; rowRoom: number; colRoom: number } {
  const longest = (labels: readonly string[]) => labels.reduce((m, l) => Math.max(m, l.length), 0);
  const CHAR = 7; // pixels per character at the default font size
  const slant = longest(colLabels) > 6;
  return {
    angle: slant ? -40 : undefined,
    rowRoom: Math.max(0, longest(rowLabels) - 6) * CHAR,
    colRoom: slant ? Math.round(Math.max(0, longest(colLabels) - 4) * CHAR * 0.65) : 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Shared pieces: colours, reference lines, validation
// ---------------------------------------------------------------------------------------------

/** Plotly's default colour sequence; {@link facets} gives a legend entry the same colour in every panel. */
export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"] as const;

/**
 * A straight reference line across the plot, e.g. "nAUPRC = 0.1" or "oracle MSE + 10%", drawn as
 * a layout shape with its label written along it.
 */
export interface ReferenceLine {
  /** "x": a vertical line at x = `value`; "y": a horizontal line at y = `value`. */
  axis: "x" | "y";
  value: number;
  /** Written along the line, at its top (vertical) or right end (horizontal). */
  label?: string;
  /** Plotly dash style; "dash" unless given. */
  dash?: string;
  /** Line and label colour; dark grey unless given. */
  color?: string;
  width?: number;
}

/**
 * The layout shapes of reference lines on the axes `xref` and `yref` (of a subplot: "x2", "y2").
 * A line spans the whole plot area in the other direction, whatever the data.
 */
export function referenceLineShapes(lines: readonly ReferenceLine[], xref = "x", yref = "y"): PlotlyObject[] {
  return lines.map((l) => {
    if (l.axis !== "x" && l.axis !== "y") throw new Error(`reference line axis must be "x" or "y", not ${JSON.stringify(l.axis)}`);
    if (!Number.isFinite(l.value)) throw new Error(`reference line ${JSON.stringify(l.label ?? "")} has a value that is not a finite number: ${l.value}`);
    const color = l.color ?? "#444444";
    const vertical = l.axis === "x";
    const shape: PlotlyObject = vertical
      ? { type: "line", xref, yref: `${yref} domain`, x0: l.value, x1: l.value, y0: 0, y1: 1 }
      : { type: "line", xref: `${xref} domain`, yref, x0: 0, x1: 1, y0: l.value, y1: l.value };
    shape.line = { color, width: l.width ?? 1.5, dash: l.dash ?? "dash" };
    shape.layer = "above";
    // inside the plot area: a vertical line's label reads upwards just left of its top, a
    // horizontal line's label sits on its right end
    if (l.label) {
      shape.label = vertical
        ? { text: l.label, textposition: "end", textangle: -90, xanchor: "right", font: { size: 11, color } }
        : { text: l.label, textposition: "end", textangle: 0, xanchor: "right", yanchor: "bottom", font: { size: 11, color } };
    }
    return shape;
  });
}

/**
 * Plotly's autorange takes in shapes without padding, so a reference line beyond the data would
 * sit on the plot's edge: widens the axis (`autorangeoptions.include`) to 5% of the span of the
 * data and lines beyond each line. Not on log axes: Plotly 3.7 compares `include` with the range
 * in the wrong units there (the line may then sit on the edge).
 */
function padForLines(axis: PlotlyObject, dataValues: readonly (number | null)[], lineValues: readonly number[], log = false): void {
  if (lineValues.length === 0 || log) return;
  const usable = [...dataValues, ...lineValues].filter((v): v is number => v !== null && Number.isFinite(v));
  const span = Math.max(...usable) - Math.min(...usable);
  axis.autorangeoptions = {
    include: lineValues.flatMap((v) => {
      const pad = 0.05 * (span || Math.abs(v) || 1);
      return [v - pad, v + pad];
    }),
  };
}

/** Short decimal form of a number for labels: 3 significant digits, integers as they are. */
export function formatValue(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(3)));
}

function fail(figureName: string, message: string): never {
  throw new Error(`figure "${figureName}": ${message}`);
}

function checkLength(figureName: string, what: string, values: readonly unknown[] | undefined, n: number): void {
  if (values !== undefined && values.length !== n) fail(figureName, `${what} has ${values.length} values, expected ${n}`);
}

function checkUnique(figureName: string, what: string, names: readonly string[]): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) fail(figureName, `${what} "${n}" appears twice`);
    seen.add(n);
  }
}

/** Throws unless the matrix z has one row per row label and one value per column label in every row. */
function checkMatrix(figureName: string, what: string, z: readonly (readonly unknown[])[], labels: { rows: number; cols: number }): void {
  const { rows, cols } = labels;
  if (z.length !== rows) fail(figureName, `${what} has ${z.length} rows but ${rows} row labels`);
  z.forEach((row, j) => {
    if (row.length !== cols) fail(figureName, `${what} row ${j} has ${row.length} values but ${cols} column labels`);
  });
}

/** Error bar half-widths: non-negative, NaN or null for none (e.g. the SD of a single run). */
function errorBars(figureName: string, what: string, errors: readonly (number | null)[]): (number | null)[] {
  return errors.map((e, k) => {
    if (e === null || Number.isNaN(e)) return null;
    if (!(e >= 0) || !Number.isFinite(e)) fail(figureName, `${what}[${k}] = ${e} is not a non-negative error`);
    return e;
  });
}

function checkPositive(figureName: string, what: string, values: readonly (number | null)[]): void {
  values.forEach((v, k) => {
    if (v !== null && !Number.isNaN(v) && !(v > 0)) fail(figureName, `${what}[${k}] = ${v} cannot be drawn on a log axis`);
  });
}

const axisTitle = (text: string | undefined): PlotlyObject => ({ title: { text: text ?? "" } });

// ---------------------------------------------------------------------------------------------
// Scatter, bars, histograms
// ---------------------------------------------------------------------------------------------

/** One group of points of a {@link scatterChart}: one trace, named in the legend. */
export interface ScatterGroup {
  name: string;
  x: number[];
  y: number[];
  /** Half-widths of horizontal error bars, one per point (e.g. one SD); NaN or null for none. */
  xError?: (number | null)[];
  /** Half-widths of vertical error bars, one per point; NaN or null for none. */
  yError?: (number | null)[];
  /** One label per point: shown on hover, and written above the point when the chart's `showText` is set. */
  text?: string[];
  /** Join the points with a line, in their order (e.g. a sweep over a setting). */
  connect?: boolean;
  /** Plotly marker symbol ("circle", "square", "diamond", ...). */
  symbol?: string;
  color?: string;
}

/**
 * Points in groups (one trace per group), e.g. a mean +/- SD summary per model with `xError` and
 * `yError`. Optional per-point labels (`text`; written beside the points when `showText`),
 * reference lines (`lines`, layout shapes with a label), log axes. Throws when a group's arrays
 * differ in length, an error is negative, a group name repeats, or a value cannot go on a log axis.
 */
export function scatterChart(spec: {
  name: string;
  caption: string;
  title?: string;
  groups: ScatterGroup[];
  showText?: boolean;
  xTitle?: string;
  yTitle?: string;
  xLog?: boolean;
  yLog?: boolean;
  lines?: ReferenceLine[];
  width?: number;
  height?: number;
}): Figure {
  if (spec.groups.length === 0) fail(spec.name, "a scatter chart needs at least one group");
  checkUnique(
    spec.name,
    "group",
    spec.groups.map((g) => g.name),
  );
  const data = spec.groups.map((g) => {
    const n = g.x.length;
    checkLength(spec.name, `group "${g.name}" y`, g.y, n);
    checkLength(spec.name, `group "${g.name}" xError`, g.xError, n);
    checkLength(spec.name, `group "${g.name}" yError`, g.yError, n);
    checkLength(spec.name, `group "${g.name}" text`, g.text, n);
    if (spec.xLog) checkPositive(spec.name, `group "${g.name}" x`, g.x);
    if (spec.yLog) checkPositive(spec.name, `group "${g.name}" y`, g.y);
    const shown = !!spec.showText && g.text !== undefined;
    const trace: PlotlyObject = {
      type: "scatter",
      mode: (g.connect ? "lines+markers" : "markers") + (shown ? "+text" : ""),
      name: g.name,
      x: g.x,
      y: g.y,
      marker: { size: 9, ...(g.symbol ? { symbol: g.symbol } : {}), ...(g.color ? { color: g.color } : {}) },
    };
    if (g.color && g.connect) trace.line = { color: g.color };
    if (g.text) trace.text = g.text;
    if (shown) trace.textposition = "top center";
    if (g.xError) trace.error_x = { type: "data", array: errorBars(spec.name, `group "${g.name}" xError`, g.xError), visible: true };
    if (g.yError) trace.error_y = { type: "data", array: errorBars(spec.name, `group "${g.name}" yError`, g.yError), visible: true };
    return trace;
  });
  const lines = spec.lines ?? [];
  for (const l of lines) {
    if ((l.axis === "x" ? spec.xLog : spec.yLog) && !(l.value > 0)) {
      fail(spec.name, `reference line at ${l.value} cannot be drawn on a log axis`);
    }
  }
  const layout: PlotlyObject = {
    xaxis: { ...axisTitle(spec.xTitle), ...(spec.xLog ? { type: "log" } : {}) },
    yaxis: { ...axisTitle(spec.yTitle), ...(spec.yLog ? { type: "log" } : {}) },
    hovermode: "closest",
  };
  if (spec.title) layout.title = { text: spec.title };
  if (lines.length) layout.shapes = referenceLineShapes(lines);
  for (const a of ["x", "y"] as const) {
    const ends = spec.groups.flatMap((g) => g[a].flatMap((v, k) => [v - (g[`${a}Error`]?.[k] ?? 0), v + (g[`${a}Error`]?.[k] ?? 0)]));
    padForLines(
      layout[`${a}axis`] as PlotlyObject,
      ends,
      lines.filter((l) => l.axis === a).map((l) => l.value),
      a === "x" ? spec.xLog : spec.yLog,
    );
  }
  return figure({ ...spec, data, layout });
}

/** One group of a {@link barChart}: one bar per category, one trace, named in the legend. */
export interface BarGroup {
  name: string;
  /** One value per category; NaN or null for a missing bar. */
  values: (number | null)[];
  /** Error bar half-widths per category (e.g. one SD); NaN or null for none. */
  errors?: (number | null)[];
  color?: string;
}

/**
 * Grouped bars: categories along x (or down y when `horizontal`, first category on top), one trace
 * per group, optional error bars (mean +/- SD) and reference lines on the value axis. Throws when
 * a group has not one value (and one error) per category, or names repeat.
 */
export function barChart(spec: {
  name: string;
  caption: string;
  title?: string;
  categories: string[];
  groups: BarGroup[];
  horizontal?: boolean;
  categoryTitle?: string;
  valueTitle?: string;
  valueLog?: boolean;
  /** Reference lines across the value axis, e.g. `{ value: 0.1, label: "nAUPRC 0.1" }`. */
  lines?: Omit<ReferenceLine, "axis">[];
  width?: number;
  height?: number;
}): Figure {
  if (spec.groups.length === 0) fail(spec.name, "a bar chart needs at least one group");
  if (spec.categories.length === 0) fail(spec.name, "a bar chart needs at least one category");
  checkUnique(spec.name, "category", spec.categories);
  checkUnique(
    spec.name,
    "group",
    spec.groups.map((g) => g.name),
  );
  const h = !!spec.horizontal;
  const data = spec.groups.map((g) => {
    checkLength(spec.name, `group "${g.name}" values`, g.values, spec.categories.length);
    checkLength(spec.name, `group "${g.name}" errors`, g.errors, spec.categories.length);
    const values = g.values.map((v) => (v === null || Number.isNaN(v) ? null : v));
    if (spec.valueLog) checkPositive(spec.name, `group "${g.name}" values`, values);
    const trace: PlotlyObject = {
      type: "bar",
      name: g.name,
      orientation: h ? "h" : "v",
      x: h ? values : spec.categories,
      y: h ? spec.categories : values,
    };
    if (g.errors) trace[h ? "error_x" : "error_y"] = { type: "data", array: errorBars(spec.name, `group "${g.name}" errors`, g.errors), visible: true };
    if (g.color) trace.marker = { color: g.color };
    return trace;
  });
  const categoryAxis: PlotlyObject = { ...axisTitle(spec.categoryTitle), type: "category", automargin: true };
  const valueAxis: PlotlyObject = { ...axisTitle(spec.valueTitle), ...(spec.valueLog ? { type: "log" } : {}) };
  if (h) categoryAxis.autorange = "reversed";
  const layout: PlotlyObject = { barmode: "group", xaxis: h ? valueAxis : categoryAxis, yaxis: h ? categoryAxis : valueAxis };
  if (spec.title) layout.title = { text: spec.title };
  const lines = (spec.lines ?? []).map((l): ReferenceLine => ({ ...l, axis: h ? "x" : "y" }));
  if (spec.valueLog) for (const l of lines) if (!(l.value > 0)) fail(spec.name, `reference line at ${l.value} cannot be drawn on a log axis`);
  if (lines.length) layout.shapes = referenceLineShapes(lines);
  const tops = spec.groups.flatMap((g) => g.values.map((v, k) => (v === null ? null : v + (g.errors?.[k] ?? 0))));
  padForLines(
    valueAxis,
    [0, ...tops],
    lines.map((l) => l.value),
    spec.valueLog,
  );
  return figure({ ...spec, data, layout });
}

/** One distribution of a {@link histogram}. */
export interface HistogramGroup {
  name: string;
  values: number[];
  color?: string;
}

/**
 * Histograms of one or more groups of values (overlaid, half transparent, on shared bins), with
 * optional reference lines. Bins are Plotly's choice unless `binWidth` (and `binStart`) or
 * `bins` (an upper bound on their number) is given. Throws on an empty group or a value that is
 * not a finite number.
 */
export function histogram(spec: {
  name: string;
  caption: string;
  title?: string;
  groups: HistogramGroup[];
  binWidth?: number;
  binStart?: number;
  bins?: number;
  /** "count" (default) or "probability" (the share of the group's values in each bin). */
  norm?: "count" | "probability";
  xTitle?: string;
  yTitle?: string;
  lines?: ReferenceLine[];
  width?: number;
  height?: number;
}): Figure {
  if (spec.groups.length === 0) fail(spec.name, "a histogram needs at least one group");
  checkUnique(
    spec.name,
    "group",
    spec.groups.map((g) => g.name),
  );
  if (spec.binWidth !== undefined && !(spec.binWidth > 0 && Number.isFinite(spec.binWidth))) {
    fail(spec.name, `binWidth must be a positive number, not ${spec.binWidth}`);
  }
  if (spec.bins !== undefined && !(Number.isInteger(spec.bins) && spec.bins >= 1)) fail(spec.name, `bins must be a positive integer, not ${spec.bins}`);
  const overlay = spec.groups.length > 1;
  const data = spec.groups.map((g) => {
    if (g.values.length === 0) fail(spec.name, `group "${g.name}" has no values`);
    g.values.forEach((v, k) => {
      if (!Number.isFinite(v)) fail(spec.name, `group "${g.name}" value ${k} is not a finite number: ${v}`);
    });
    const trace: PlotlyObject = {
      type: "histogram",
      name: g.name,
      x: g.values,
      marker: { line: { color: "white", width: 1 }, ...(g.color ? { color: g.color } : {}) },
    };
    if (overlay) trace.opacity = 0.6;
    if (spec.norm === "probability") trace.histnorm = "probability";
    if (spec.binWidth !== undefined) trace.xbins = { size: spec.binWidth, ...(spec.binStart !== undefined ? { start: spec.binStart } : {}) };
    else if (spec.bins !== undefined) trace.nbinsx = spec.bins;
    return trace;
  });
  const layout: PlotlyObject = {
    barmode: "overlay",
    bargap: 0.02,
    xaxis: axisTitle(spec.xTitle),
    yaxis: axisTitle(spec.yTitle ?? (spec.norm === "probability" ? "share" : "count")),
  };
  if (spec.title) layout.title = { text: spec.title };
  const lines = spec.lines ?? [];
  if (lines.length) layout.shapes = referenceLineShapes(lines);
  const all = spec.groups.flatMap((g) => g.values);
  padForLines(
    layout.xaxis as PlotlyObject,
    all,
    lines.filter((l) => l.axis === "x").map((l) => l.value),
  );
  return figure({ ...spec, data, layout });
}

/** An observed value marked on a {@link nullDistribution}. */
export interface NullMarker {
  name: string;
  x: number;
  /** Written along the line; `"<name> = <x>"` unless given. */
  label?: string;
  color?: string;
  dash?: string;
}

/**
 * A null distribution (e.g. the nAUPRC of 20 degree-preserving random rewirings) as a grey
 * histogram, with a solid vertical line per observed value (e.g. the oracle and the learned
 * graph), each labelled with its name and value and coloured from {@link PALETTE}.
 */
export function nullDistribution(spec: {
  name: string;
  caption: string;
  title?: string;
  values: number[];
  /** Legend name of the histogram; "null distribution" unless given. */
  nullName?: string;
  markers: NullMarker[];
  xTitle?: string;
  yTitle?: string;
  binWidth?: number;
  binStart?: number;
  bins?: number;
  width?: number;
  height?: number;
}): Figure {
  checkUnique(
    spec.name,
    "marker",
    spec.markers.map((m) => m.name),
  );
  const lines = spec.markers.map((m, k): ReferenceLine => ({
    axis: "x",
    value: m.x,
    label: m.label ?? `${m.name} = ${Number.isFinite(m.x) ? formatValue(m.x) : m.x}`,
    color: m.color ?? PALETTE[k % PALETTE.length],
    dash: m.dash ?? "solid",
    width: 2,
  }));
  const fig = histogram({
    ...spec,
    groups: [{ name: spec.nullName ?? "null distribution", values: spec.values, color: "#b7bec8" }],
    lines,
  });
  return fig;
}

// ---------------------------------------------------------------------------------------------
// Small multiples
// ---------------------------------------------------------------------------------------------

/** One panel of {@link facets}: its traces, or a figure made by a builder. */
export interface FacetPanel {
  /** Written above the panel. */
  title: string;
  /** The panel's traces (any Plotly type); give this or `figure`. */
  data?: PlotlyObject[];
  /** A figure made by a builder: its traces, axis settings (titles, log, reversed) and shapes are kept; its title, size and legend settings are not. */
  figure?: Figure;
  /** Axis titles of this panel (override the figure's). */
  xTitle?: string;
  yTitle?: string;
  /** Reference lines of this panel. */
  lines?: ReferenceLine[];
}

const FACET_TRACE_SCALE = ["colorscale", "reversescale", "zmin", "zmax"] as const;
/** Settings of a panel figure's layout that Plotly applies to every subplot (bars and histograms). */
const FACET_LAYOUT_SHARED = ["barmode", "bargap", "bargroupgap"] as const;

function refOf(ref: unknown, axis: "x" | "y", n: string): unknown {
  if (ref === undefined || ref === axis) return `${axis}${n}`;
  if (ref === "paper") return `${axis}${n} domain`;
  if (ref === `${axis} domain`) return `${axis}${n} domain`;
  return ref;
}

const titleText = (axis: unknown): string => {
  const t = (axis as { title?: { text?: unknown } | string } | undefined)?.title;
  const text = typeof t === "string" ? t : t?.text;
  return typeof text === "string" ? text : "";
};

/** The specification of {@link facets}. */
export interface FacetsSpec {
  name: string;
  caption: string;
  title?: string;
  panels: FacetPanel[];
  /** Panels per row; up to 3 unless given. */
  columns?: number;
  xTitle?: string;
  yTitle?: string;
  shareX?: boolean;
  shareY?: boolean;
  /** Show the legend (under the plot); on unless every trace is a heatmap. */
  legend?: boolean;
  colorTitle?: string;
  /** Gaps between panels as fractions of the plot area. */
  gap?: { x?: number; y?: number };
  width?: number;
  height?: number;
}

/** Where the panels of a facet figure go: grid size, panel size and gaps (fractions of the plot area). */
interface FacetGrid {
  cols: number;
  rows: number;
  gapX: number;
  gapY: number;
  /** Width and height of one panel. */
  w: number;
  h: number;
}

/** Checks the columns and gaps and lays out the grid. */
function facetGrid(spec: FacetsSpec): FacetGrid {
  const panels = spec.panels;
  const cols = spec.columns ?? Math.min(3, panels.length);
  if (!Number.isInteger(cols) || cols < 1) fail(spec.name, `columns must be a positive integer, not ${spec.columns}`);
  const rows = Math.ceil(panels.length / cols);
  const gapX = spec.gap?.x ?? (spec.shareY ? 0.04 : 0.08);
  const gapY = rows > 1 ? (spec.gap?.y ?? (spec.shareX ? 0.12 : 0.2)) : 0;
  const w = (1 - gapX * (cols - 1)) / cols;
  const h = (1 - gapY * (rows - 1)) / rows;
  if (!(w > 0 && h > 0)) fail(spec.name, "the gaps leave no room for the panels");
  return { cols, rows, gapX, gapY, w, h };
}

/** What the panels of a facet figure accumulate, panel by panel. */
interface FacetState {
  traces: PlotlyObject[];
  annotations: PlotlyObject[];
  shapes: PlotlyObject[];
  layout: PlotlyObject;
  /** Legend colour of each trace name, in order of first appearance. */
  colour: Map<string, string>;
  /** The heatmaps' shared colour settings and the panel that set them first. */
  scale?: PlotlyObject;
  scaleFrom: number;
}

/**
 * Moves panel k's traces onto its axes: heatmaps onto the shared colour axis (their colour
 * settings must agree), named traces onto one colour and legend entry per name.
 */
function addFacetTraces(spec: FacetsSpec, state: FacetState, k: number, data: PlotlyObject[]): void {
  const p = spec.panels[k];
  const n = k === 0 ? "" : String(k + 1);
  const { colour } = state;
  for (const t of data) {
    const trace: PlotlyObject = { ...t, xaxis: `x${n}`, yaxis: `y${n}` };
    if (t.type === "heatmap") {
      const own: PlotlyObject = {};
      for (const key of FACET_TRACE_SCALE) {
        if (t[key] !== undefined) own[key] = t[key];
        delete trace[key];
      }
      delete trace.showscale;
      if (state.scale === undefined) {
        state.scale = own;
        state.scaleFrom = k;
      } else if (JSON.stringify(own) !== JSON.stringify(state.scale)) {
        const first = `panel ${state.scaleFrom} has ${JSON.stringify(state.scale)}`;
        fail(spec.name, `heatmap panels share one colour scale: panel ${k} ("${p.title}") has ${JSON.stringify(own)}, ${first}`);
      }
      trace.coloraxis = "coloraxis";
    } else if (typeof t.name === "string" && t.name !== "") {
      const name = t.name;
      const seen = colour.has(name);
      const line = t.line as PlotlyObject | undefined;
      const marker = t.marker as PlotlyObject | undefined;
      const own = (line?.color ?? marker?.color) as string | undefined;
      if (!seen) colour.set(name, typeof own === "string" ? own : PALETTE[colour.size % PALETTE.length]);
      const c = typeof own === "string" ? own : colour.get(name)!;
      Object.assign(trace, {
        legendgroup: name,
        showlegend: t.showlegend === false ? false : !seen,
        line: { ...line, color: c },
        marker: { ...marker, color: c },
      });
    } else if (t.showlegend === undefined) {
      trace.showlegend = false;
    }
    state.traces.push(trace);
  }
}

/**
 * Panel k's axes, shapes, figure-wide bar settings, annotations and title: axis titles and tick
 * labels only where a shared axis is not inner, shapes and annotations moved onto its axes.
 */
function addFacetAxes(spec: FacetsSpec, state: FacetState, k: number, grid: FacetGrid): void {
  const p = spec.panels[k];
  const { layout } = state;
  const { cols, w, h } = grid;
  const n = k === 0 ? "" : String(k + 1);
  const row = Math.floor(k / cols);
  const col = k % cols;
  const bottom = k + cols >= spec.panels.length; // no panel below
  const x0 = col * (w + grid.gapX);
  const y1 = 1 - row * (h + grid.gapY);
  const fl = p.figure?.layout ?? {};
  const fx = (fl.xaxis as PlotlyObject | undefined) ?? {};
  const fy = (fl.yaxis as PlotlyObject | undefined) ?? {};
  const innerX = !!spec.shareX && !bottom;
  const innerY = !!spec.shareY && col > 0;
  const xt = innerX ? "" : (p.xTitle ?? (titleText(fx) || (bottom ? (spec.xTitle ?? "") : "")));
  const yt = innerY ? "" : (p.yTitle ?? (titleText(fy) || (col === 0 ? (spec.yTitle ?? "") : "")));
  const xaxis: PlotlyObject = { ...fx, title: { text: xt }, domain: [x0, x0 + w], anchor: `y${n}` };
  const yaxis: PlotlyObject = { ...fy, title: { text: yt }, domain: [y1 - h, y1], anchor: `x${n}` };
  if (spec.shareX && k > 0) xaxis.matches = "x";
  if (spec.shareY && k > 0) yaxis.matches = "y";
  if (innerX) xaxis.showticklabels = false;
  if (innerY) yaxis.showticklabels = false;
  if (col === 0) yaxis.automargin = true; // long tick labels (node names) push the y title out, not over them
  if (bottom) xaxis.automargin = true;
  layout[`xaxis${n}`] = xaxis;
  layout[`yaxis${n}`] = yaxis;
  for (const s of [...((fl.shapes as PlotlyObject[] | undefined) ?? []), ...referenceLineShapes(p.lines ?? [])]) {
    state.shapes.push({ ...s, xref: refOf(s.xref, "x", n), yref: refOf(s.yref, "y", n) });
  }
  for (const key of FACET_LAYOUT_SHARED) {
    if (fl[key] === undefined) continue;
    if (layout[key] === undefined) layout[key] = fl[key];
    else if (layout[key] !== fl[key]) {
      fail(spec.name, `panels disagree on the figure-wide ${key}: ${JSON.stringify(layout[key])} and ${JSON.stringify(fl[key])} (panel ${k}, "${p.title}")`);
    }
  }
  for (const a of (fl.annotations as PlotlyObject[] | undefined) ?? []) {
    state.annotations.push({ ...a, xref: refOf(a.xref, "x", n), yref: refOf(a.yref, "y", n) });
  }
  state.annotations.push({
    text: p.title,
    x: x0 + w / 2,
    y: y1,
    xref: "paper",
    yref: "paper",
    xanchor: "center",
    yanchor: "bottom",
    showarrow: false,
    font: { size: 13 },
  });
}

/** The shared Plotly `coloraxis` of the heatmap panels, from their colour settings. */
function facetColorAxis(scale: PlotlyObject, colorTitle: string | undefined): PlotlyObject {
  const s = scale as { colorscale?: unknown; reversescale?: unknown; zmin?: unknown; zmax?: unknown };
  const coloraxis: PlotlyObject = {};
  if (s.colorscale !== undefined) coloraxis.colorscale = s.colorscale;
  if (s.reversescale !== undefined) coloraxis.reversescale = s.reversescale;
  if (s.zmin !== undefined) coloraxis.cmin = s.zmin;
  if (s.zmax !== undefined) coloraxis.cmax = s.zmax;
  if (colorTitle) coloraxis.colorbar = { title: { text: colorTitle } };
  return coloraxis;
}

/**
 * Small multiples: panels arranged in `columns` per row (filled row by row), a title over each.
 * Axes are independent unless `shareX` / `shareY`: shared axes have one range, and only the
 * bottom panel of a column shows x tick labels (the first column y tick labels). `xTitle` /
 * `yTitle` are written once per column (under its bottom panel) / once per row (left); a
 * panel's own titles (or its figure's) are kept, but not on inner panels of a shared axis.
 *
 * Named traces of the same name share one colour and one legend entry across panels (colours
 * from {@link PALETTE} unless the trace sets one). Heatmap panels share one colour scale
 * (Plotly's `coloraxis`, one colour bar titled `colorTitle`); their colour settings (`colorscale`,
 * `reversescale`, `zmin`, `zmax`) must agree, as must the bar settings of panel figures
 * (`barmode`, `bargap`: Plotly applies them to every panel). Throws when a panel has both or
 * neither of `data` and `figure`, or a figure with a second y axis.
 */
export function facets(spec: FacetsSpec): Figure {
  const panels = spec.panels;
  if (panels.length === 0) fail(spec.name, "facets need at least one panel");
  const grid = facetGrid(spec);
  const panelData = panels.map((p, k) => {
    if ((p.data === undefined) === (p.figure === undefined)) fail(spec.name, `panel ${k} ("${p.title}") needs exactly one of data and figure`);
    if (p.figure && p.figure.layout.yaxis2 !== undefined) fail(spec.name, `panel ${k} ("${p.title}") has a second y axis, which facets cannot place`);
    return p.data ?? p.figure!.data;
  });
  const allHeatmaps = panelData.every((d) => d.every((t) => t.type === "heatmap"));
  const legend = spec.legend ?? !allHeatmaps;

  const annotations: PlotlyObject[] = [];
  const top = spec.title ? 80 : 40;
  const layout: PlotlyObject = { annotations, showlegend: legend, margin: { l: 70, r: 30, t: top, b: legend ? 120 : 60 } };
  if (spec.title) layout.title = { text: spec.title };
  if (legend) layout.legend = { orientation: "h", x: 0, y: -0.14, xanchor: "left", yanchor: "top" };
  const state: FacetState = { traces: [], annotations, shapes: [], layout, colour: new Map(), scaleFrom: -1 };
  panels.forEach((_, k) => {
    addFacetTraces(spec, state, k, panelData[k]);
    addFacetAxes(spec, state, k, grid);
  });
  if (state.shapes.length) layout.shapes = state.shapes;
  if (state.scale !== undefined) layout.coloraxis = facetColorAxis(state.scale, spec.colorTitle);
  const { cols, rows } = grid;
  const width = spec.width ?? (cols === 1 ? FIGURE_DEFAULTS.width : Math.max(FIGURE_DEFAULTS.width, 330 * cols + 100));
  const height = spec.height ?? Math.round(rows * 280 + top + (legend ? 120 : 60));
  // the legend goes 60 px under the plot area, below the x tick labels and axis titles
  if (legend) (layout.legend as PlotlyObject).y = -60 / Math.max(1, height - top - 120);
  return figure({ name: spec.name, caption: spec.caption, data: state.traces, layout, width, height });
}

/**
 * Several matrices side by side with one colour scale, e.g. learned influence beside the true
 * graphs: each panel is a {@link heatmap} (diagonal blanked for square matrices with the same
 * row and column labels unless `maskDiagonal` is false), laid out by {@link facets}. Axes are
 * shared unless `shareAxes` is false: tick labels on the left column and bottom row only.
 * `labels` stands for both `rowLabels` and `colLabels` (a graph's node names).
 */
export function heatmapGrid(spec: {
  name: string;
  caption: string;
  title?: string;
  panels: { title: string; z: number[][] }[];
  labels?: string[];
  rowLabels?: string[];
  colLabels?: string[];
  rowTitle?: string;
  colTitle?: string;
  columns?: number;
  colorscale?: string;
  zmin?: number;
  zmax?: number;
  colorTitle?: string;
  maskDiagonal?: boolean;
  shareAxes?: boolean;
  /** Gaps between panels (see {@link facets}); widen `x` for long labels with `shareAxes: false`. */
  gap?: { x?: number; y?: number };
  width?: number;
  height?: number;
}): Figure {
  const rowLabels = spec.rowLabels ?? spec.labels;
  const colLabels = spec.colLabels ?? spec.labels;
  if (!rowLabels || !colLabels) fail(spec.name, "a heatmap grid needs labels, or rowLabels and colLabels");
  const share = spec.shareAxes ?? true;
  const cols = spec.columns ?? Math.min(3, spec.panels.length);
  const rows = Math.ceil(spec.panels.length / Math.max(1, cols));
  const titles = isGraphMatrix(rowLabels, colLabels) ? GRAPH_AXIS_TITLES : { row: undefined, col: undefined };
  const ticks = tickRoom(rowLabels, colLabels);
  // slanted tick labels under a panel that has none below it (a short last row, or unshared axes)
  // need room between the rows, or they run into the panel beneath
  const labelledInnerRow = rows > 1 && (!share || spec.panels.length % cols !== 0);
  const extra = labelledInnerRow ? ticks.colRoom * (rows - 1) : 0;
  const height = spec.height ?? Math.round(rows * 260 + (spec.title ? 80 : 40) + 70) + ticks.colRoom + extra;
  const plotHeight = height - (spec.title ? 80 : 40) - 60;
  const gapY = labelledInnerRow && ticks.colRoom > 0 ? Math.min(0.4, (ticks.colRoom + 50) / plotHeight) : undefined;
  const panels = spec.panels.map((p, k) => {
    checkMatrix(spec.name, `panel ${k} ("${p.title}")`, p.z, { rows: rowLabels.length, cols: colLabels.length });
    const fig = heatmap({
      name: "panel",
      caption: "",
      z: p.z,
      rowLabels,
      colLabels,
      rowTitle: "",
      colTitle: "",
      colorscale: spec.colorscale,
      zmin: spec.zmin,
      zmax: spec.zmax,
      maskDiagonal: spec.maskDiagonal,
    });
    return { title: p.title, figure: fig };
  });
  return facets({
    name: spec.name,
    caption: spec.caption,
    title: spec.title,
    panels,
    columns: cols,
    xTitle: spec.colTitle ?? titles.col,
    yTitle: spec.rowTitle ?? titles.row,
    shareX: share,
    shareY: share,
    legend: false,
    colorTitle: spec.colorTitle,
    gap: { ...spec.gap, y: spec.gap?.y ?? gapY },
    width: spec.width ?? Math.max(FIGURE_DEFAULTS.width, 260 * cols + 180) + ticks.rowRoom * (share ? 1 : cols),
    height,
  });
}
