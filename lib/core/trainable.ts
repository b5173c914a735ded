/**
 * What the training loop needs from a model, and the plain-array batches it feeds them.
 *
 * Batches are plain typed arrays (not tensors) so that the same batch can be handed to a worker
 * thread for data-parallel gradients; a model turns them into tensors itself. Models implement
 * this contract and train/ consumes it, so it sits below both.
 */
import type { ParamStore } from "./params";
import type { tf } from "../tf";

/** A dense float32 array and its shape. */
export interface ArrayTensor {
  data: Float32Array;
  shape: number[];
}

/** Named arrays, e.g. `{ x: [B, T, N], enc: [B, T, N], context: [B, K] }`. */
export type ArrayBatch = Record<string, ArrayTensor>;

/** Per-row arrays a caller adds to a batch, e.g. each row's supplied graph: units -> `{ graph: [B, N, N] }`. */
export type BatchExtras = (units: readonly number[]) => ArrayBatch;

/** Loss terms of one batch: `total` is minimised, the others are reported. */
export type LossTerms = { total: tf.Scalar } & Record<string, tf.Scalar>;

export interface Trainable {
  /** Registry key, so that a worker thread can rebuild the model (see core/registry). */
  readonly kind: string;
  /** JSON-serialisable configuration the model was built from. */
  readonly spec: Record<string, unknown>;
  readonly params: ParamStore;
  /** Names of the parameters the optimiser updates (others stay frozen). */
  trainableNames(): string[];
  /**
   * Loss of a batch. `seed` drives every random draw of the step (e.g. Gumbel noise), so that a
   * step is reproducible wherever it runs.
   */
  loss(batch: ArrayBatch, seed: number): LossTerms;
}

/** Number of rows of a batch (its first dimension, which every array shares). */
export function batchRows(batch: ArrayBatch): number {
  const rows = Object.values(batch).map((a) => a.shape[0]);
  if (rows.length === 0 || rows.some((r) => r !== rows[0])) throw new Error(`batch arrays disagree on their first dimension: ${rows.join(", ")}`);
  return rows[0];
}

/** Rows [from, to) of every array of a batch. */
export function sliceBatch(batch: ArrayBatch, from: number, to: number): ArrayBatch {
  const out: ArrayBatch = {};
  for (const [k, a] of Object.entries(batch)) {
    const row = a.data.length / a.shape[0];
    out[k] = { data: a.data.slice(from * row, to * row), shape: [to - from, ...a.shape.slice(1)] };
  }
  return out;
}
