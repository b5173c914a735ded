/**
 * Recurrent decoding shared by the decoders: teacher forcing through the given steps, then
 * rollout on the model's own predictions (or fed values), optionally with the states of some
 * nodes clamped to an unperturbed run (direct AR-CIG in a decoder with per-node state).
 */
import type { RolloutFeed } from "../core/forecaster";
import { tf } from "../tf";

/** A decoder's recurrent cell: its initial state and its step, (input [B, N], state) -> (prediction [B, N], new state). */
export interface RecurrentCell<S extends tf.Tensor> {
  init: S;
  step: (input: tf.Tensor2D, state: S) => { pred: tf.Tensor2D; state: S };
  /**
   * Where a per-node state keeps its rows and nodes (e.g. graph-safe [B, N, H]: rows 0, nodes 1;
   * CausalMMM [N, B, H]: rows 1, nodes 0); required for `feed.clamp`, absent for a joint state.
   */
  stateAxes?: { rows: 0 | 1; nodes: 0 | 1 };
}

/**
 * Rows of a clamped run: a decoder given `feed.clamp` runs the clamp's baseline history below its
 * own rows, with every other per-row input (graph, context, edges) repeated the same way.
 * Returns x: [2B, T0, N] and the repeat of a per-row tensor [B, ...] -> [2B, ...].
 */
export function clampedRows(x: tf.Tensor3D, feed: RolloutFeed | undefined): { x: tf.Tensor3D; repeat: <T extends tf.Tensor>(t: T) => T } {
  const clamp = feed?.clamp;
  if (!clamp) return { x, repeat: (t) => t };
  if (clamp.baseline.shape.some((d, k) => d !== x.shape[k])) {
    throw new Error(`state clamp: baseline history [${clamp.baseline.shape}] does not match the history [${x.shape}]`);
  }
  return { x: tf.concat([x, clamp.baseline], 0) as tf.Tensor3D, repeat: (t) => tf.concat([t, t], 0) as typeof t };
}

/** t with its second half of rows (along `axis`) copied over the first: [2B, ...] -> [2B, ...]. */
function baselineOverBoth<T extends tf.Tensor>(t: T, rows: number, axis: number): T {
  const size = t.shape.map((d, k) => (k === axis ? rows : -1));
  const begin = t.shape.map((_, k) => (k === axis ? rows : 0));
  const base = t.slice(begin, size);
  return tf.concat([base, base], axis) as T;
}

/**
 * The recurrent core of the study's decoders (CausalMMM, graph-safe, joint GRU, DeepCausalMMM):
 * teacher forcing over x's steps, then rollout on the cell's own predictions, or on `feed`'s
 * values where its mask is 1. x: [B, T0, N] -> `steps` predictions [B, steps, N]; prediction s
 * is of step s + 1.
 *
 * With `feed.clamp` (B' = the clamp's rows), x holds 2B' rows: the perturbed histories and, below
 * them, the baseline histories (see {@link clampedRows}); at every step the clamped nodes of the
 * first B' rows take the input and the state of the matching baseline row, and only the first B'
 * rows' predictions are returned. The cell must declare its `stateAxes`.
 */
export function runRecurrent<S extends tf.Tensor>(x: tf.Tensor3D, steps: number, cell: RecurrentCell<S>, feed?: RolloutFeed): tf.Tensor3D {
  return runRecurrentState(x, steps, cell, feed).preds;
}

/** {@link runRecurrent} that also returns the state after the last step (all rows, the clamp's baseline rows included). */
export function runRecurrentState<S extends tf.Tensor>(x: tf.Tensor3D, steps: number, cell: RecurrentCell<S>, feed?: RolloutFeed): { preds: tf.Tensor3D; state: S } {
  const { init, step } = cell;
  const clamp = feed?.clamp;
  if (clamp && !cell.stateAxes) throw new Error("runRecurrent: this decoder's state is not per node, so it cannot clamp states (feed.clamp)");
  return tf.tidy(() => {
    const [B, T0, N] = x.shape;
    const rows = clamp ? clamp.nodes.shape[0] : B;
    if (clamp && B !== 2 * rows) throw new Error(`runRecurrent: a clamped run needs the ${rows} baseline rows below its own (got ${B} rows)`);
    // mask of the clamped nodes over all 2B' rows (the baseline rows clamp nothing): [B, N]
    const m = clamp ? tf.concat([clamp.nodes, tf.zerosLike(clamp.nodes)], 0) : null;
    const stateMask = m && cell.stateAxes ? (cell.stateAxes.nodes === 1 ? m : m.transpose()).expandDims(2) : null;
    const inputs = T0 > 0 ? tf.unstack(x, 1) : []; // T0 x [B, N]
    let state = init;
    const preds: tf.Tensor2D[] = [];
    for (let s = 0; s < steps; s++) {
      // one scope per step: only the prediction and the new state outlive it
      const out = tf.tidy(() => {
        let input: tf.Tensor2D;
        if (s < T0) input = inputs[s] as tf.Tensor2D;
        else {
          input = preds[s - 1];
          if (feed) {
            const k = s - T0;
            const v = feed.values.slice([0, k, 0], [rows, 1, N]).reshape([rows, N]);
            const fm = (feed.mask.shape[1] === 1 ? feed.mask : feed.mask.slice([0, k, 0], [-1, 1, N])).reshape([-1, N]);
            const own = rows === B ? input : input.slice([0, 0], [rows, N]);
            const fed = fm.mul(v).add(tf.sub(1, fm).mul(own)) as tf.Tensor2D;
            input = rows === B ? fed : (tf.concat([fed, input.slice([rows, 0], [B - rows, N])], 0) as tf.Tensor2D);
          }
        }
        if (m) input = input.mul(tf.sub(1, m)).add(baselineOverBoth(input, rows, 0).mul(m)) as tf.Tensor2D;
        const next = step(input, state);
        if (!stateMask || !cell.stateAxes) return next;
        const clamped = next.state.mul(tf.sub(1, stateMask)).add(baselineOverBoth(next.state, rows, cell.stateAxes.rows).mul(stateMask)) as S;
        return { pred: next.pred, state: clamped };
      });
      if (s > 0) state.dispose();
      state = out.state;
      preds.push(out.pred);
    }
    const all = steps > 0 ? (tf.stack(preds, 1) as tf.Tensor3D) : (tf.zeros([B, 0, N]) as tf.Tensor3D);
    return { preds: rows === B ? all : (all.slice([0, 0, 0], [rows, steps, N]) as tf.Tensor3D), state };
  });
}
