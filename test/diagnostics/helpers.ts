/**
 * Test helpers of the diagnostics: synthetic series from a linear VAR, analytic influence of a
 * linear VAR, and a tiny GRU forecaster (a small nonlinear decoder for cost checks).
 */
import { tf } from "../../lib/tf";
import type { Graph } from "../../lib/graph";
import { Rng } from "../../lib/rng";
import type { ForecastInputs, Forecaster, RolloutFeed } from "../../lib/core/forecaster";
import type { SeriesData } from "../../lib/diagnostics/windows";
import type { Panel } from "../../lib/data/panel";

/** Simulates `x(t+1) = sum_s x(t-s) W[s] + noise` for `units` units (values [units, steps, nodes]). */
export function simulateVar(W: number[][][], units: number, steps: number, seed: number, noise = 1): SeriesData {
  const L = W.length;
  const N = W[0].length;
  const rng = new Rng(seed);
  const values = new Float32Array(units * steps * N);
  for (let u = 0; u < units; u++) {
    const x: number[][] = [];
    for (let t = 0; t < steps + 50; t++) {
      const row = new Array<number>(N).fill(0);
      for (let s = 0; s < L; s++) {
        if (t - 1 - s < 0) continue;
        for (let j = 0; j < N; j++) for (let i = 0; i < N; i++) row[i] += x[t - 1 - s][j] * W[s][j][i];
      }
      for (let i = 0; i < N; i++) row[i] += noise * rng.normal();
      x.push(row);
    }
    for (let t = 0; t < steps; t++) for (let i = 0; i < N; i++) values[(u * steps + t) * N + i] = x[t + 50][i];
  }
  const roles = Array.from({ length: N }, (_, i) => (i === N - 1 ? ("target" as const) : ("channel" as const)));
  return { values, units, steps, nodes: N, roles, nodeNames: roles.map((_, i) => `n${i}`) };
}

/**
 * Analytic AR-CIG of a linear VAR: for each (j, i), the mean over H steps of |change of i| / delta
 * after adding delta to j at the last history step; direct clamps every node but j and i.
 * Independent of the data because the model is linear.
 */
export function analyticArCig(W: number[][][], H: number, mode: "direct" | "total"): number[][] {
  const L = W.length;
  const N = W[0].length;
  const out = Array.from({ length: N }, () => new Array<number>(N).fill(0));
  for (let j = 0; j < N; j++) {
    for (let i = 0; i < N; i++) {
      // lags[s] = change of the input at (step - 1 - s)
      const lags: number[][] = Array.from({ length: L }, () => new Array<number>(N).fill(0));
      lags[0][j] = 1;
      let s = 0;
      for (let h = 0; h < H; h++) {
        const pred = new Array<number>(N).fill(0);
        for (let l = 0; l < L; l++) for (let a = 0; a < N; a++) for (let b = 0; b < N; b++) pred[b] += lags[l][a] * W[l][a][b];
        s += Math.abs(pred[i]);
        const next = pred.map((v, k) => (mode === "total" || k === j || k === i ? v : 0));
        lags.unshift(next);
        lags.pop();
      }
      out[j][i] = s / H;
    }
  }
  return out;
}

/** Support of the off-diagonal coefficients over all lags as a 0/1 graph. */
export function supportOf(W: number[][][]): Graph {
  const N = W[0].length;
  return Array.from({ length: N }, (_, j) => Array.from({ length: N }, (_, i) => (i !== j && W.some((w) => w[j][i] !== 0) ? 1 : 0)));
}

/** A random sparse DAG-like coefficient matrix: diagonal `a`, each edge j -> i (j < i) with probability `p`, weights of magnitude 0.2..0.5. */
export function randomSparseVar(N: number, p: number, seed: number, a = 0.5): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: N }, (_, j) =>
    Array.from({ length: N }, (_, i) => (i === j ? a : j < i && rng.bernoulli(p) ? (rng.bernoulli(0.5) ? 1 : -1) * rng.range(0.2, 0.5) : 0)),
  );
}

/**
 * A tiny joint GRU decoder over all nodes (hidden size `hidden`, seeded random weights):
 * h(t) = GRU(x(t), h(t-1)), prediction of x(t+1) = x(t) * a + h(t) Wo + bo. Not trained; it is
 * a nonlinear forecaster of realistic per-step cost for the cost check.
 */
export class TinyGru implements Forecaster {
  readonly minHistory = 1;
  readonly acceptsGraph = false;
  private readonly Wx: tf.Tensor2D;
  private readonly Wh: tf.Tensor2D;
  private readonly b: tf.Tensor1D;
  private readonly Wo: tf.Tensor2D;
  private readonly bo: tf.Tensor1D;

  constructor(
    readonly nodes: number,
    readonly hidden: number,
    seed: number,
  ) {
    const rng = new Rng(seed);
    const mk = (r: number, c: number, s: number) => tf.tensor2d(rng.normals(r * c, s), [r, c]);
    this.Wx = mk(nodes, 3 * hidden, 1 / Math.sqrt(nodes));
    this.Wh = mk(hidden, 3 * hidden, 1 / Math.sqrt(hidden));
    this.b = tf.zeros([3 * hidden]);
    this.Wo = mk(hidden, nodes, 0.3 / Math.sqrt(hidden));
    this.bo = tf.zeros([nodes]);
  }

  dispose(): void {
    for (const t of [this.Wx, this.Wh, this.b, this.Wo, this.bo]) t.dispose();
  }

  private cell(x: tf.Tensor2D, h: tf.Tensor2D): { h: tf.Tensor2D; y: tf.Tensor2D } {
    const H = this.hidden;
    const gx = tf.matMul(x, this.Wx).add(this.b);
    const gh = tf.matMul(h, this.Wh);
    const [xz, xr, xn] = tf.split(gx, [H, H, H], 1);
    const [hz, hr, hn] = tf.split(gh, [H, H, H], 1);
    const z = tf.sigmoid(xz.add(hz));
    const r = tf.sigmoid(xr.add(hr));
    const n = tf.tanh(xn.add(r.mul(hn)));
    const hNew = tf.sub(1, z).mul(n).add(z.mul(h)) as tf.Tensor2D;
    const y = x.mul(0.5).add(tf.matMul(hNew, this.Wo).add(this.bo)) as tf.Tensor2D;
    return { h: hNew, y };
  }

  predictOneStep(x: tf.Tensor3D, _inputs?: ForecastInputs): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T, N] = x.shape;
      let h = tf.zeros([B, this.hidden]) as tf.Tensor2D;
      const ys: tf.Tensor2D[] = [];
      for (let t = 0; t < T; t++) {
        const c = this.cell(x.slice([0, t, 0], [B, 1, N]).reshape([B, N]), h);
        h = c.h;
        ys.push(c.y);
      }
      return tf.stack(ys, 1) as tf.Tensor3D;
    });
  }

  rollout(x: tf.Tensor3D, horizon: number, inputs?: ForecastInputs & { feed?: RolloutFeed }): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T, N] = x.shape;
      let h = tf.zeros([B, this.hidden]) as tf.Tensor2D;
      let y: tf.Tensor2D | undefined;
      for (let t = 0; t < T; t++) {
        const c = this.cell(x.slice([0, t, 0], [B, 1, N]).reshape([B, N]), h);
        h = c.h;
        y = c.y;
      }
      const outs: tf.Tensor2D[] = [];
      const feed = inputs?.feed;
      for (let k = 0; k < horizon; k++) {
        outs.push(y!);
        let next = y!;
        if (feed) {
          const m = feed.mask.slice([0, k, 0], [B, 1, N]).reshape([B, N]);
          next = y!.mul(tf.sub(1, m)).add(feed.values.slice([0, k, 0], [B, 1, N]).reshape([B, N]).mul(m));
        }
        if (k < horizon - 1) {
          const c = this.cell(next, h);
          h = c.h;
          y = c.y;
        }
      }
      return tf.stack(outs, 1) as tf.Tensor3D;
    });
  }
}

/**
 * A panel around simulated values [units, steps, nodes]: channels `ch0..` and the target `sales`
 * (last), units `u0..`, and the true graph shared by every unit when given.
 */
export function channelPanel(values: Float32Array, units: number, steps: number, nodes: number, graph?: Graph, generator = "test-var"): Panel {
  return {
    values,
    units,
    steps,
    nodes,
    nodeNames: Array.from({ length: nodes }, (_, i) => (i === nodes - 1 ? "sales" : `ch${i}`)),
    roles: Array.from({ length: nodes }, (_, i) => (i === nodes - 1 ? "target" : "channel")),
    unitIds: Array.from({ length: units }, (_, u) => `u${u}`),
    truth: graph ? { graphs: [graph], graphOfUnit: new Array<number>(units).fill(0) } : undefined,
    provenance: { generator, params: {} },
  };
}
