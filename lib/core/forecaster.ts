/**
 * The contract between models and diagnostics. Every model of the study (CausalMMM, DICE
 * decoders, reference decoders, the DeepCausalMMM-style model, the Granger VAR, hand-built linear
 * VARs) implements {@link Forecaster}, so that MSE@M, CIG, AR-CIG and graph swaps are computed by
 * one set of code. It lives in core/ so that models and diagnostics both depend on it and not on
 * each other.
 *
 * All tensors are batched: a batch row is one (unit, window) pair. Shapes are written as
 * `name: [dims]`. Methods return new tensors that the caller owns (and disposes); they never
 * dispose their arguments.
 */
import type { tf } from "../tf";

/** Inputs besides the series. */
export interface ForecastInputs {
  /** context: [batch, k], one row per batch row. */
  context?: tf.Tensor2D;
  /**
   * Supplied graph for models that take one. graph: [nodes, nodes] shared by the batch, or
   * [batch, nodes, nodes]; `graph[j][i]` is the weight of j -> i (0/1 or a probability).
   * Models with `acceptsGraph = false` ignore it.
   */
  graph?: tf.Tensor2D | tf.Tensor3D;
}

/** Values to feed back in place of the model's own predictions during a rollout. */
export interface RolloutFeed {
  /** values: [batch, horizon, nodes] */
  values: tf.Tensor3D;
  /**
   * mask: [batch, horizon, nodes] (or broadcastable, e.g. [1, 1, nodes]); 1 feeds `values`
   * as the input of the next step instead of the model's prediction, 0 keeps the prediction.
   */
  mask: tf.Tensor;
  /**
   * Clamps recurrent states as well as inputs (direct AR-CIG in a decoder with per-node state):
   * the forecaster runs the unperturbed history `baseline` [batch, t0, nodes] beside x, and where
   * `nodes` [batch, nodes] is 1, the node's input and recurrent state at every step are those of
   * the unperturbed run, so that nothing reaches another node through it. Only forecasters with
   * `clampsStates` accept it.
   */
  clamp?: StateClamp;
}

/** See {@link RolloutFeed.clamp}. */
export interface StateClamp {
  /** baseline: [batch, t0, nodes], the history without the perturbation. */
  baseline: tf.Tensor3D;
  /** nodes: [batch, nodes], 1 where the node follows the unperturbed run. */
  nodes: tf.Tensor2D;
}

/**
 * A recurrent forecaster's state after a history, so that a rollout can continue from it instead
 * of replaying the history: the influence measures perturb only the last history step, so every
 * perturbed row of a window shares the state before it (lib/diagnostics/influence.ts).
 * `rolloutFrom(encode(x[:, :t]), x[:, t:], H)` equals `rollout(x, H)` for the same inputs.
 */
export interface StateContinuation {
  /** Rows lie on this axis of a state (to repeat or gather them). */
  readonly rowsAxis: 0 | 1;
  /** The state after teacher forcing x: [batch, t, nodes] (t >= 1); the caller owns it. */
  encode(x: tf.Tensor3D, inputs?: ForecastInputs): tf.Tensor;
  /** As `rollout`, with x: [batch, t0, nodes] teacher-forced from `state` (one row per row of x) instead of from the start. */
  rolloutFrom(state: tf.Tensor, x: tf.Tensor3D, horizon: number, inputs?: ForecastInputs & { feed?: RolloutFeed }): tf.Tensor3D;
}

export interface Forecaster {
  /** Number of nodes N. */
  readonly nodes: number;
  /** Steps of history needed before the first prediction (lag window, >= 1). */
  readonly minHistory: number;
  /** Whether a supplied `graph` changes the model's computation. */
  readonly acceptsGraph: boolean;
  /**
   * Whether the forecaster keeps a recurrent state per node and honours `feed.clamp` (see
   * {@link RolloutFeed.clamp}); absent or false for models whose nodes share one state (it cannot
   * be split by node) or have none (clamping the inputs already isolates a route).
   */
  readonly clampsStates?: boolean;
  /** Present for recurrent forecasters whose state can be carried over (see {@link StateContinuation}). */
  readonly continuation?: StateContinuation;

  /**
   * Teacher-forced one-step predictions.
   * x: [batch, steps, nodes] -> [batch, steps, nodes], where output[b, t] is the prediction of
   * x[b, t + 1] from x[b, 0..t]. Rows with t + 1 < minHistory are defined but not scored.
   */
  predictOneStep(x: tf.Tensor3D, inputs?: ForecastInputs): tf.Tensor3D;

  /**
   * Autoregressive rollout from the end of the history.
   * x: [batch, t0, nodes] (teacher-forced through all t0 steps, t0 >= minHistory) ->
   * [batch, horizon, nodes], the predictions of steps t0 .. t0 + horizon - 1. The input at
   * each later step is the model's own previous prediction, except where `feed.mask` is 1.
   */
  rollout(x: tf.Tensor3D, horizon: number, inputs?: ForecastInputs & { feed?: RolloutFeed }): tf.Tensor3D;
}
