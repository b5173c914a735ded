/**
 * Plain-array batches of whole unit series from a panel (the way CausalMMM trains: one row per
 * unit, the encoder reading the same series the decoder forecasts).
 */
import type { ArrayBatch, ArrayTensor, BatchExtras } from "../core/trainable";
import type { Panel } from "../data/panel";
import type { Rng } from "../rng";

/** The type of the `extras` of windowBatch and shuffledWindowBatches (defined in core/). */
export type { BatchExtras } from "../core/trainable";

/** Steps [from, to) of the given units. x: [units, to - from, nodes]. */
export function unitSeries(panel: Panel, units: readonly number[], steps: { from: number; to: number } = { from: 0, to: panel.steps }): ArrayTensor {
  const T = steps.to - steps.from;
  const N = panel.nodes;
  if (steps.from < 0 || steps.to > panel.steps || T <= 0) throw new Error(`steps [${steps.from}, ${steps.to}) are outside the panel's 0..${panel.steps}`);
  const data = new Float32Array(units.length * T * N);
  units.forEach((u, r) => {
    if (u < 0 || u >= panel.units) throw new Error(`unit index ${u} is outside the panel's ${panel.units} units`);
    data.set(panel.values.subarray((u * panel.steps + steps.from) * N, (u * panel.steps + steps.to) * N), r * T * N);
  });
  return { data, shape: [units.length, T, N] };
}

/** Context rows of the given units. context: [units, k]; undefined when the panel has none. */
export function unitContext(panel: Panel, units: readonly number[]): ArrayTensor | undefined {
  if (!panel.context) return undefined;
  const k = panel.context.names.length;
  const data = new Float32Array(units.length * k);
  units.forEach((u, r) => data.set(panel.context!.values.subarray(u * k, (u + 1) * k), r * k));
  return { data, shape: [units.length, k] };
}

/** One batch of `{ x, context? }` for the given units. */
export function unitBatch(panel: Panel, units: readonly number[], steps?: { from: number; to: number }): ArrayBatch {
  const batch: ArrayBatch = { x: unitSeries(panel, units, steps) };
  const context = unitContext(panel, units);
  if (context) batch.context = context;
  return batch;
}

/** What {@link shuffledUnitBatches} draws from. */
export interface UnitBatchOptions {
  /** The units to batch (each once per epoch). */
  units: readonly number[];
  /** Largest number of units per batch. */
  batchSize: number;
  /** The generator that shuffles the units (the epoch's). */
  rng: Rng;
  /** Steps [from, to) of every series (default all). */
  steps?: { from: number; to: number };
}

/** The units shuffled by `rng` and cut into batches of at most `batchSize`. */
export function shuffledUnitBatches(panel: Panel, options: UnitBatchOptions): ArrayBatch[] {
  const { units, batchSize, rng, steps } = options;
  if (!(batchSize >= 1)) throw new Error(`batch size must be >= 1, got ${batchSize}`);
  const order = rng.shuffle([...units]);
  const out: ArrayBatch[] = [];
  for (let s = 0; s < order.length; s += batchSize) out.push(unitBatch(panel, order.slice(s, s + batchSize), steps));
  return out;
}

/** Windows of `length` steps: x [rows, length, N] for the (unit, start) pairs, plus context and extras. */
export function windowBatch(panel: Panel, rows: readonly { unit: number; start: number }[], length: number, extras?: BatchExtras): ArrayBatch {
  const N = panel.nodes;
  const data = new Float32Array(rows.length * length * N);
  rows.forEach(({ unit, start }, r) => {
    if (start < 0 || start + length > panel.steps) throw new Error(`window [${start}, ${start + length}) is outside the panel's 0..${panel.steps}`);
    data.set(panel.values.subarray((unit * panel.steps + start) * N, (unit * panel.steps + start + length) * N), r * length * N);
  });
  const units = rows.map((r) => r.unit);
  const batch: ArrayBatch = { x: { data, shape: [rows.length, length, N] } };
  const context = unitContext(panel, units);
  if (context) batch.context = context;
  return extras ? { ...batch, ...extras(units) } : batch;
}

/** What {@link shuffledWindowBatches} draws from. */
export interface WindowBatchOptions {
  /** The units windows are drawn from. */
  units: readonly number[];
  /** Steps [from, to) every window lies in. */
  range: { from: number; to: number };
  /** Steps per window. */
  length: number;
  /** Windows drawn per unit. */
  perUnit: number;
  /** Largest number of windows per batch. */
  batchSize: number;
  /** The generator of the window starts and of the shuffle (the epoch's). */
  rng: Rng;
  /** Further inputs per batch row (e.g. supplied graphs, see {@link graphExtras}). */
  extras?: BatchExtras;
}

/**
 * An epoch of random windows: `perUnit` windows of `length` steps per unit, each starting
 * uniformly in `[range.from, range.to - length]`, shuffled and cut into batches of `batchSize`.
 */
export function shuffledWindowBatches(panel: Panel, options: WindowBatchOptions): ArrayBatch[] {
  const { units, range, length, perUnit, batchSize, rng, extras } = options;
  const span = range.to - range.from - length;
  if (span < 0) throw new Error(`windows of ${length} steps do not fit in steps [${range.from}, ${range.to})`);
  if (!(batchSize >= 1 && perUnit >= 1)) throw new Error(`batch size and windows per unit must be >= 1`);
  const rows: { unit: number; start: number }[] = [];
  for (const unit of units) for (let k = 0; k < perUnit; k++) rows.push({ unit, start: range.from + rng.int(span + 1) });
  const order = rng.shuffle(rows);
  const out: ArrayBatch[] = [];
  for (let s = 0; s < order.length; s += batchSize) out.push(windowBatch(panel, order.slice(s, s + batchSize), length, extras));
  return out;
}

/** `{ graph: [B, N, N] }` extras from one graph per unit of the panel (indexed by unit). */
export function graphExtras(graphs: readonly (readonly (readonly number[])[])[], nodes: number): BatchExtras {
  return (units) => {
    const data = new Float32Array(units.length * nodes * nodes);
    units.forEach((u, r) => {
      const g = graphs[u];
      if (!g) throw new Error(`no supplied graph for unit ${u}`);
      g.forEach((row, j) => row.forEach((v, i) => (data[(r * nodes + j) * nodes + i] = i === j ? 0 : v)));
    });
    return { graph: { data, shape: [units.length, nodes, nodes] } };
  };
}
