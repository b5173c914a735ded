/**
 * Plain-array batches of whole unit series from a panel (the way CausalMMM trains: one row per
 * unit, the encoder reading the same series the decoder forecasts).
 */
import type { Panel } from "../data/panel";
import type { Rng } from "../rng";
import type { ArrayBatch, ArrayTensor } from "./trainable";

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

/** The units shuffled by `rng` and cut into batches of at most `batchSize`. */
export function shuffledUnitBatches(panel: Panel, units: readonly number[], batchSize: number, rng: Rng, steps?: { from: number; to: number }): ArrayBatch[] {
  if (!(batchSize >= 1)) throw new Error(`batch size must be >= 1, got ${batchSize}`);
  const order = rng.shuffle([...units]);
  const out: ArrayBatch[] = [];
  for (let s = 0; s < order.length; s += batchSize) out.push(unitBatch(panel, order.slice(s, s + batchSize), steps));
  return out;
}
