/**
 * Recurrent decoding shared by the decoders: teacher forcing through the given steps, then
 * rollout on the model's own predictions (or fed values).
 */
import type { RolloutFeed } from "../core/forecaster";
import { tf } from "../tf";

/** A decoder's recurrent cell: its initial state and its step, (input [B, N], state) -> (prediction [B, N], new state). */
export interface RecurrentCell<S extends tf.Tensor> {
  init: S;
  step: (input: tf.Tensor2D, state: S) => { pred: tf.Tensor2D; state: S };
}

/**
 * The recurrent core of the study's decoders (CausalMMM, graph-safe, joint GRU, DeepCausalMMM):
 * teacher forcing over x's steps, then rollout on the cell's own predictions, or on `feed`'s
 * values where its mask is 1. x: [B, T0, N] -> `steps` predictions [B, steps, N]; prediction s
 * is of step s + 1.
 */
export function runRecurrent<S extends tf.Tensor>(x: tf.Tensor3D, steps: number, cell: RecurrentCell<S>, feed?: RolloutFeed): tf.Tensor3D {
  const { init, step } = cell;
  return tf.tidy(() => {
    const [B, T0, N] = x.shape;
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
            const v = feed.values.slice([0, k, 0], [B, 1, N]).reshape([B, N]);
            const m = (feed.mask.shape[1] === 1 ? feed.mask : feed.mask.slice([0, k, 0], [-1, 1, N])).reshape([-1, N]);
            input = m.mul(v).add(tf.sub(1, m).mul(input)) as tf.Tensor2D;
          }
        }
        return step(input, state);
      });
      if (s > 0) state.dispose();
      state = out.state;
      preds.push(out.pred);
    }
    return tf.stack(preds, 1) as tf.Tensor3D;
  });
}
