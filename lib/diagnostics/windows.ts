/**
 * Rolling forecast origins and the batched windows that MSE@M, CIG and AR-CIG feed to a
 * {@link Forecaster}.
 *
 * An *origin* `o` is the absolute index of the first forecast step: the model is teacher-forced
 * on the `history` steps `[o - history, o)` and predicts steps `o, o + 1, ...`. Origins lie in
 * the test window `[from, to)`. Every (unit, origin) pair is one *window*, one batch row of
 * `x: [batch, history, nodes]`; all windows share one history length so that they stack into one
 * tensor, and large batches are processed in chunks of at most `chunkRows` rows to bound memory.
 */
import { tf } from "../tf";
import type { Graph } from "../graph";
import type { NodeRole } from "../data/panel";
import type { ForecastInputs } from "../core/forecaster";

/**
 * The series a diagnostic reads: a {@link Panel} (already scaled by the caller) or any object
 * with its values layout. values: [units, steps, nodes], row-major.
 */
export interface SeriesData {
  values: Float32Array;
  units: number;
  steps: number;
  nodes: number;
  /** Optional context per unit, values: [units, k]; passed to the forecaster row by row. */
  context?: { values: Float32Array; names: string[] };
  /** Node roles; the target is the node with role "target" unless a config names it. */
  roles?: NodeRole[];
  nodeNames?: string[];
}

/** Where the forecast origins are and how much history each window gets. */
export interface WindowConfig {
  /** Test window `[from, to)` of steps (a `StepRange` from `splitTime` fits). Default: the last `testFraction` of the steps. */
  window?: { from: number; to: number };
  /** Share of the steps forming the default test window (used when `window` is absent). */
  testFraction: number;
  /** Explicit origins (absolute step indices of the first forecast step); overrides `stride`. */
  origins?: number[];
  /** Distance between consecutive origins in the test window, starting at `window.from`. */
  stride: number;
  /** Steps of history fed before each origin; default `window.from` (everything before the test window for the first origin). */
  history?: number;
  /** Units to evaluate (indices into the data); default all. */
  units?: number[];
  /**
   * Supplied graph for graph-consuming forecasters: one N x N graph for all units, or one per
   * unit (indexed by unit index of the data). Ignored by forecasters with `acceptsGraph = false`.
   */
  graph?: Graph | readonly Graph[];
  /** Maximum batch rows per forecaster call (memory bound). */
  chunkRows: number;
}

export const DEFAULT_WINDOWS: WindowConfig = { testFraction: 0.2, stride: 1, chunkRows: 4096 };

/** The resolved windows of a diagnostic run. */
export interface WindowPlan {
  /** Units evaluated (indices into the data). */
  units: number[];
  /** Candidate origins (absolute steps), increasing. */
  origins: number[];
  /** History length fed before every origin. */
  history: number;
  /** The test window. */
  window: { from: number; to: number };
}

/** What a diagnostic needs of its windows (see {@link planWindows}). */
export interface WindowNeeds {
  /** The forecaster's minimum history. */
  minHistory: number;
  /**
   * Origins `o` must satisfy `o + lastOriginOffset <= window.to` (e.g. the smallest horizon for
   * MSE, 0 for influence, which needs no future truth); default 0.
   */
  lastOriginOffset?: number;
  /** The caller's name, for errors; default "windows". */
  what?: string;
}

/**
 * Resolves the windows: test window, origins and history length. Throws when an origin has less
 * than `minHistory` steps of history or lies outside the data, or nothing is left.
 */
export function planWindows(data: SeriesData, config: Partial<WindowConfig>, needs: WindowNeeds): WindowPlan {
  const { minHistory, lastOriginOffset = 0, what = "windows" } = needs;
  const c = { ...DEFAULT_WINDOWS, ...config };
  const T = data.steps;
  let window = c.window ? { from: c.window.from, to: c.window.to } : undefined;
  if (!window) {
    if (!(c.testFraction > 0 && c.testFraction < 1)) throw new Error(`${what}: testFraction must be in (0, 1), got ${c.testFraction}`);
    window = { from: T - Math.max(1, Math.round(T * c.testFraction)), to: T };
  }
  if (!(Number.isInteger(window.from) && Number.isInteger(window.to) && window.from >= 1 && window.to <= T && window.from < window.to)) {
    throw new Error(`${what}: test window [${window.from}, ${window.to}) must be a non-empty step range within 1..${T}`);
  }
  const history = c.history ?? window.from;
  if (!(Number.isInteger(history) && history >= minHistory)) {
    throw new Error(`${what}: history must be an integer >= the forecaster's minHistory ${minHistory}, got ${history}`);
  }
  let origins: number[];
  if (c.origins) {
    origins = [...c.origins].sort((a, b) => a - b);
    for (const o of origins) {
      if (!Number.isInteger(o) || o < window.from || o >= window.to) {
        throw new Error(`${what}: origin ${o} is not a step of the test window [${window.from}, ${window.to})`);
      }
      if (o - history < 0) throw new Error(`${what}: origin ${o} has fewer than history = ${history} steps before it`);
    }
  } else {
    if (!(Number.isInteger(c.stride) && c.stride >= 1)) throw new Error(`${what}: stride must be a positive integer, got ${c.stride}`);
    origins = [];
    for (let o = Math.max(window.from, history); o < window.to; o += c.stride) origins.push(o);
  }
  origins = origins.filter((o) => o + lastOriginOffset <= window!.to);
  if (origins.length === 0) {
    throw new Error(
      `${what}: no origin in the test window [${window.from}, ${window.to}) leaves ${lastOriginOffset} steps of truth after it (history ${history})`,
    );
  }
  const units = c.units ? [...c.units] : Array.from({ length: data.units }, (_, u) => u);
  if (units.length === 0 || units.some((u) => !Number.isInteger(u) || u < 0 || u >= data.units)) {
    throw new Error(`${what}: units must be indices in 0..${data.units - 1}`);
  }
  if (!(Number.isInteger(c.chunkRows) && c.chunkRows >= 1)) throw new Error(`${what}: chunkRows must be a positive integer, got ${c.chunkRows}`);
  return { units, origins, history, window };
}

/** Checks the data layout against the forecaster's node count. */
export function checkData(data: SeriesData, nodes: number, what: string): void {
  const { units, steps, nodes: N } = data;
  if (N !== nodes) throw new Error(`${what}: the data has ${N} nodes, the forecaster ${nodes}`);
  if (data.values.length !== units * steps * N) {
    throw new Error(`${what}: values has ${data.values.length} entries, expected units*steps*nodes = ${units}*${steps}*${N}`);
  }
}

/** The target node: `config.target`, else the node with role "target". */
export function resolveTarget(data: SeriesData, target: number | undefined, what: string): number {
  if (target !== undefined) {
    if (!Number.isInteger(target) || target < 0 || target >= data.nodes) {
      throw new Error(`${what}: target ${target} is not a node index in 0..${data.nodes - 1}`);
    }
    return target;
  }
  const idx = (data.roles ?? []).flatMap((r, i) => (r === "target" ? [i] : []));
  if (idx.length !== 1) throw new Error(`${what}: give config.target, or data whose roles have exactly one "target" (found ${idx.length})`);
  return idx[0];
}

/** One window: the `history` steps of `unit` before the origin `origin`. */
export interface HistoryWindow {
  unit: number;
  origin: number;
  history: number;
}

/** Copies the history `[origin - history, origin)` of the window's unit into `out` at `offset` ([history, nodes]). */
export function copyHistory(data: SeriesData, window: HistoryWindow, out: Float32Array, offset: number): void {
  const N = data.nodes;
  const { unit: u, origin: o, history } = window;
  const start = (u * data.steps + o - history) * N;
  out.set(data.values.subarray(start, start + history * N), offset);
}

/** Per-unit graphs as a list indexed by unit (or undefined for a shared graph). */
function graphList(graph: Graph | readonly Graph[]): readonly Graph[] | undefined {
  return graph.length > 0 && Array.isArray((graph as Graph[])[0]?.[0]) ? (graph as readonly Graph[]) : undefined;
}

/**
 * Forecaster inputs for a batch whose row r belongs to unit `rowUnits[r]`: context [rows, k] and
 * graph ([N, N] when shared, [rows, N, N] when per unit). Tensors are new; call inside tf.tidy.
 */
export function batchInputs(data: SeriesData, graph: Graph | readonly Graph[] | undefined, rowUnits: ArrayLike<number>, acceptsGraph: boolean): ForecastInputs {
  const N = data.nodes;
  const rows = rowUnits.length;
  const inputs: ForecastInputs = {};
  if (data.context) {
    const k = data.context.names.length;
    const cv = new Float32Array(rows * k);
    for (let r = 0; r < rows; r++) cv.set(data.context.values.subarray(rowUnits[r] * k, (rowUnits[r] + 1) * k), r * k);
    inputs.context = tf.tensor2d(cv, [rows, k]);
  }
  if (graph && acceptsGraph) {
    const list = graphList(graph);
    if (!list) {
      checkGraph(graph as Graph, N, "graph");
      inputs.graph = tf.tensor2d((graph as Graph).flat(), [N, N]);
    } else {
      if (list.length !== data.units) throw new Error(`graph: ${list.length} per-unit graphs for ${data.units} units`);
      const flat = list.map((g, u) => {
        checkGraph(g, N, `graph of unit ${u}`);
        return Float32Array.from(g.flat());
      });
      const gv = new Float32Array(rows * N * N);
      for (let r = 0; r < rows; r++) gv.set(flat[rowUnits[r]], r * N * N);
      inputs.graph = tf.tensor3d(gv, [rows, N, N]);
    }
  }
  return inputs;
}

function checkGraph(g: Graph, n: number, what: string): void {
  if (g.length !== n || g.some((row) => row.length !== n)) throw new Error(`${what}: expected ${n} x ${n}`);
  if (g.some((row) => row.some((v) => !Number.isFinite(v)))) throw new Error(`${what}: entries must be finite`);
}

/**
 * Reads a tensor's values and disposes it. (Returning a large typed array from `tf.tidy` instead
 * makes tidy walk every element as a possible tensor container: seconds per call.)
 */
export function readAndDispose(t: tf.Tensor): Float32Array {
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

/** Calls `fn(start, end)` for consecutive chunks of `[0, total)` of at most `size` rows. */
export function forChunks(total: number, size: number, fn: (start: number, end: number) => void): void {
  for (let start = 0; start < total; start += size) fn(start, Math.min(total, start + size));
}
