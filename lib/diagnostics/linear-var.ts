/**
 * A hand-built linear VAR forecaster: the analytic reference of the diagnostics. No training;
 * its influence graphs are known in closed form, so CIG, AR-CIG, MSE@M and graph swaps can be
 * checked against it. {@link LinearVarForecaster} gives its equation and edge mask.
 */
import { tf } from "../tf";
import type { Graph } from "../graph";
import type { ForecastInputs, Forecaster, RolloutFeed } from "../core/forecaster";
import { type LagMatrices, type VarCoefficients, checkVarCoefficients, fromLagMatrices, lagMatrices } from "../core/linear-var";

/** How to build a {@link LinearVarForecaster}: exactly one of `coefficients` and `weights`. */
export interface LinearVarConfig {
  /** coef[i][j][s - 1]: weight of x_j(t - s) in receiver i's equation (N x N x L, core/linear-var's layout). */
  coefficients?: VarCoefficients;
  /** The same as lag matrices, W[s][j][i] = coefficients[i][j][s] (coefficient of j -> i at lag s + 1; L matrices, N x N each). */
  weights?: LagMatrices;
  /** Intercept of each node (default zeros). */
  bias?: number[];
  /** Whether a supplied graph masks the off-diagonal coefficients (default false). */
  acceptsGraph?: boolean;
  /** Graph used when `acceptsGraph` and no graph is supplied in the call (default: no mask). */
  graph?: Graph;
}

export const DEFAULT_LINEAR_VAR: Required<Pick<LinearVarConfig, "acceptsGraph">> = { acceptsGraph: false };

/** A copy of the configured coefficients in core/linear-var's layout (lag matrices are checked and converted). */
function configCoefficients(c: LinearVarConfig): VarCoefficients {
  if ((c.coefficients === undefined) === (c.weights === undefined)) throw new Error("LinearVarForecaster: give exactly one of coefficients and weights");
  if (c.coefficients) return c.coefficients.map((row) => row.map((lags) => [...lags]));
  const W = c.weights!;
  if (W.length < 1) throw new Error("LinearVarForecaster: weights must have at least one lag");
  const N = W[0].length;
  if (N < 1) throw new Error("LinearVarForecaster: weights must be N x N with N >= 1");
  W.forEach((w, s) => {
    if (w.length !== N || w.some((row) => row.length !== N)) throw new Error(`LinearVarForecaster: lag ${s + 1} is not ${N} x ${N}`);
    if (w.some((row) => row.some((v) => !Number.isFinite(v)))) throw new Error(`LinearVarForecaster: lag ${s + 1} has a non-finite coefficient`);
  });
  return fromLagMatrices(W);
}

/**
 * The linear VAR forecaster:
 *
 * `x_i(t + 1) = b_i + sum_{s=1..L} sum_j coef[i][j][s-1] * m[j][i] * x_j(t + 1 - s)`
 *
 * with `coef` in the VAR layout of lib/core/linear-var.ts (`coef[i][j][s-1]`: sender j's lag s
 * in receiver i's equation; `coef[i][i]` is i's own autoregression), given as `coefficients` or,
 * in graph orientation, as lag matrices `weights[s-1][j][i]` (converted at construction), and `m`
 * the edge mask: 1 everywhere for a graph-free model; for a graph-consuming model (`acceptsGraph =
 * true`), `m[j][i] = graph[j][i]` off the diagonal (0/1 or a probability) and 1 on it, so a node's
 * own past is always used. A graph-consuming model called without a graph uses its fixed `graph`
 * from the config, or no mask at all.
 *
 * Implements {@link Forecaster} exactly: steps before the first lag are zero-padded in
 * `predictOneStep` (those rows are defined but not scored, t + 1 < L).
 */
export class LinearVarForecaster implements Forecaster {
  readonly nodes: number;
  readonly minHistory: number;
  readonly acceptsGraph: boolean;
  /** The coefficients, coef[i][j][s - 1] (core/linear-var's layout). */
  readonly coefficients: VarCoefficients;
  readonly bias: number[];
  readonly graph?: Graph;
  /** The coefficients as lag matrices W[s][j][i], flattened: what the tensor products use. */
  private readonly lagged: number[];

  constructor(config: LinearVarConfig) {
    const c = { ...DEFAULT_LINEAR_VAR, ...config };
    const coefficients = configCoefficients(c);
    const { nodes: N, lags: L } = checkVarCoefficients(coefficients, "LinearVarForecaster");
    const bias = c.bias ?? new Array<number>(N).fill(0);
    if (bias.length !== N) throw new Error(`LinearVarForecaster: bias has ${bias.length} entries, expected ${N}`);
    if (c.graph && (c.graph.length !== N || c.graph.some((r) => r.length !== N))) throw new Error(`LinearVarForecaster: graph is not ${N} x ${N}`);
    this.nodes = N;
    this.minHistory = L;
    this.acceptsGraph = c.acceptsGraph;
    this.coefficients = coefficients;
    this.lagged = lagMatrices(coefficients).flat(2);
    this.bias = [...bias];
    this.graph = c.graph;
  }

  /**
   * The effective coefficient tensor for a call: [L, N, N] (no graph) or [batch, L, N, N] (a
   * per-row graph), after masking the off-diagonal entries by the graph.
   */
  private effective(inputs?: ForecastInputs): tf.Tensor {
    const N = this.nodes;
    const W = tf.tensor3d(this.lagged, [this.minHistory, N, N]);
    let g: tf.Tensor | undefined;
    if (this.acceptsGraph) {
      if (inputs?.graph) g = inputs.graph;
      else if (this.graph) g = tf.tensor2d(this.graph.flat(), [N, N]);
    }
    if (!g) return W;
    const eye = tf.eye(N);
    const mask = g.mul(tf.sub(1, eye)).add(eye); // diagonal always 1
    if (mask.rank === 2) return W.mul(mask.expandDims(0)); // [L, N, N]
    if (mask.shape[1] !== N || mask.shape[2] !== N) throw new Error(`LinearVarForecaster: graph shape ${mask.shape} is not [batch, ${N}, ${N}]`);
    return W.expandDims(0).mul(mask.expandDims(1)); // [batch, L, N, N]
  }

  /** One step from the last L inputs. lags: list of [batch, N] inputs, lags[s] = x(t - s). */
  private step(lags: tf.Tensor2D[], W: tf.Tensor): tf.Tensor2D {
    const N = this.nodes;
    let y: tf.Tensor2D = tf.tensor1d(this.bias).expandDims(0) as tf.Tensor2D;
    lags.forEach((x, s) => {
      if (W.rank === 3) {
        const Ws = W.slice([s, 0, 0], [1, N, N]).reshape([N, N]) as tf.Tensor2D;
        y = y.add(tf.matMul(x, Ws));
      } else {
        const B = W.shape[0];
        const Ws = W.slice([0, s, 0, 0], [B, 1, N, N]).reshape([B, N, N]) as tf.Tensor3D;
        y = y.add(tf.matMul(x.expandDims(1) as tf.Tensor3D, Ws).reshape([B, N]));
      }
    });
    return y;
  }

  /** x: [batch, steps, nodes] -> [batch, steps, nodes]; output[b, t] predicts x[b, t + 1]. */
  predictOneStep(x: tf.Tensor3D, inputs?: ForecastInputs): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T, N] = x.shape;
      if (N !== this.nodes) throw new Error(`LinearVarForecaster: x has ${N} nodes, expected ${this.nodes}`);
      const W = this.effective(inputs);
      const L = this.minHistory;
      const padded = L > 1 ? tf.concat([tf.zeros([B, L - 1, N]), x], 1) : x;
      let y: tf.Tensor3D = tf.tensor1d(this.bias).reshape([1, 1, N]).tile([B, T, 1]) as tf.Tensor3D;
      for (let s = 0; s < L; s++) {
        // lag s + 1 of output t is input t - s, i.e. padded[t + L - 1 - s].
        const xs = padded.slice([0, L - 1 - s, 0], [B, T, N]);
        if (W.rank === 3) {
          const Ws = W.slice([s, 0, 0], [1, N, N]).reshape([N, N]) as tf.Tensor2D;
          y = y.add(tf.matMul(xs.reshape([B * T, N]) as tf.Tensor2D, Ws).reshape([B, T, N]));
        } else {
          const Ws = W.slice([0, s, 0, 0], [B, 1, N, N]).reshape([B, N, N]) as tf.Tensor3D;
          y = y.add(tf.matMul(xs as tf.Tensor3D, Ws));
        }
      }
      return y;
    });
  }

  /** x: [batch, t0, nodes] -> [batch, horizon, nodes], the predictions of steps t0 .. t0 + horizon - 1. */
  rollout(x: tf.Tensor3D, horizon: number, inputs?: ForecastInputs & { feed?: RolloutFeed }): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T0, N] = x.shape;
      const L = this.minHistory;
      if (N !== this.nodes) throw new Error(`LinearVarForecaster: x has ${N} nodes, expected ${this.nodes}`);
      if (T0 < L) throw new Error(`LinearVarForecaster: rollout needs at least ${L} steps of history, got ${T0}`);
      if (!(Number.isInteger(horizon) && horizon >= 1)) throw new Error(`LinearVarForecaster: horizon must be a positive integer, got ${horizon}`);
      const W = this.effective(inputs);
      const feed = inputs?.feed;
      // lags[s] = input at (current step - 1 - s)
      const lags: tf.Tensor2D[] = [];
      for (let s = 0; s < L; s++) lags.push(x.slice([0, T0 - 1 - s, 0], [B, 1, N]).reshape([B, N]));
      const outs: tf.Tensor2D[] = [];
      for (let h = 0; h < horizon; h++) {
        const pred = this.step(lags, W);
        outs.push(pred);
        let next: tf.Tensor2D = pred;
        if (feed) {
          const fv = feed.values.slice([0, h, 0], [B, 1, N]).reshape([B, N]);
          if (feed.mask.rank !== 3) {
            throw new Error(`LinearVarForecaster: feed.mask must be rank 3 ([batch|1, horizon|1, nodes|1]), got shape [${feed.mask.shape}]`);
          }
          const [mb, mh, mn] = feed.mask.shape;
          const m = mh === 1 ? feed.mask : feed.mask.slice([0, h, 0], [mb, 1, mn]);
          const m2 = m.reshape([mb, mn]);
          next = pred.mul(tf.sub(1, m2)).add(fv.mul(m2));
        }
        lags.unshift(next);
        lags.pop();
      }
      return tf.stack(outs, 1) as tf.Tensor3D;
    });
  }
}

/** A one-lag VAR `x(t + 1) = x(t) A` from its lag matrix `A[j][i]` (j -> i, graph orientation). */
export function linearVar1(A: number[][], options: Omit<LinearVarConfig, "weights"> = {}): LinearVarForecaster {
  return new LinearVarForecaster({ ...options, weights: [A] });
}
