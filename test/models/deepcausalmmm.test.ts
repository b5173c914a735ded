import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { applyScaler, fitScaler, scaleValue } from "../../lib/data/panel";
import { generateVarDag } from "../../lib/data/simulate";
import { DeepCausalMMM, type DeepCausalMMMInput, deepCausalConfigFor, huber, regionExtras, upperTriangularDag } from "../../lib/models/deepcausalmmm";
import { buildModel } from "../../lib/models/registry";
import { Rng } from "../../lib/rng";
import { tf } from "../../lib/tf";
import { shuffledWindowBatches } from "../../lib/train/batches";
import { fit } from "../../lib/train/fit";
import type { ArrayBatch } from "../../lib/core/trainable";
import { assertClose, assertCloseArrays, maxAbsDiff, randn } from "./helpers";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const logit = (p: number) => Math.log(p / (1 - p));
const invSoftplus = (v: number) => Math.log(Math.expm1(v));

/** Channels 0..2, target 3 (and no intermediates) unless said otherwise. */
const BASE: DeepCausalMMMInput = { nodes: 4, target: 3, channels: [0, 1, 2], contextDim: 0, hidden: 6, seed: 3 };

interface HandMedia {
  adstock: number[];
  slope: number[];
  half: number[];
  beta: number[];
  /** DAG logits [C, C] (DAG order). */
  logits?: number[][];
  b0?: number;
}

/** Sets the media parameters by their transformed values and zeroes the GRU's read-out and the own lag. */
function handSet(model: DeepCausalMMM, p: HandMedia): void {
  const set = (name: string, v: number[] | number[][]) => model.params.get(name).assign(tf.tensor(v, model.params.get(name).shape));
  set("media.adstock", p.adstock.map(logit));
  set("media.slope", p.slope.map(invSoftplus));
  set("media.half", p.half.map(invSoftplus));
  set("media.beta", p.beta.map(invSoftplus));
  if (p.logits) set("dag.logits", p.logits);
  set("base.b0", [p.b0 ?? 0]);
  tf.tidy(() => model.params.get("out.wr").assign(tf.zerosLike(model.params.get("out.wr"))));
  set("out.phi", [0]);
}

/** Analytic adstock then Hill of a spend series (float64). */
function adstockHill(spend: number[], lambda: number, slope: number, half: number): number[] {
  let a = 0;
  return spend.map((s) => {
    a = s + lambda * a;
    return a > 0 ? a ** slope / (a ** slope + half ** slope) : 0;
  });
}

/** A [1, T, N] series with channel `c` set to `spend` and everything else `fill`. */
function seriesWith(T: number, N: number, c: number, spend: number[], fill = 0): tf.Tensor3D {
  const data = new Float32Array(T * N).fill(fill);
  for (let t = 0; t < T; t++) data[t * N + c] = spend[t];
  return tf.tensor3d(data, [1, T, N]);
}

/** Column i of a [B, T, N] tensor as rows of plain arrays: out[b][t]. */
function column(t: tf.Tensor3D, i: number): number[][] {
  return (t.arraySync() as number[][][]).map((row) => row.map((v) => v[i]));
}

const softplus = (v: number) => Math.log1p(Math.exp(v));

/**
 * The model by hand, in plain JS (float64), from the equations in lib/models/deepcausalmmm.ts,
 * with the model's raw parameter values: per row, adstock a_c(t) = s_c(t) + lambda_c a_c(t-1),
 * Hill h_c = sigmoid(S_c (log a - log K_c)) (0 for a <= 1e-12), blend m = h + h A, GRU
 * g(t) = GRU([m, y, context], g(t-1)), core y^0 = beta . m + w_r . g + phi y, baseline
 * b(0) = prior = b0 + delta_region, b(t) = (kappa prior + sum_{s=1..t} [y(s) - y^0(s)]) / (kappa + t);
 * prediction of the target y^0 + b, every other node its input. Inputs: x(s) for s < t0, then
 * the previous prediction with the channels fed x(s) (`feedChannels`) or held (otherwise).
 * xs [B][W][N], context [B][K], regions [B] -> the target's predictions [B][steps], prediction
 * s of step s + 1. The configuration must have ownLag true, zeroSpend null and a shrinkage kappa.
 */
function handDeepCausal(
  model: DeepCausalMMM,
  xs: number[][][],
  t0: number,
  steps: number,
  context: number[][],
  regions: number[],
  feedChannels = true,
): number[][] {
  const c = model.config;
  assert.ok(c.ownLag && c.zeroSpend === null && c.baselineShrinkage !== null, "handDeepCausal: configuration not covered");
  const kappa = c.baselineShrinkage!;
  const get = (n: string) => model.params.get(n).arraySync() as number[];
  const mat = (n: string) => model.params.get(n).arraySync() as number[][];
  const C = c.channels.length;
  const H = c.hidden;
  const lambda = get("media.adstock").map(sigmoid);
  const S = get("media.slope").map(softplus);
  const K = get("media.half").map(softplus);
  const beta = get("media.beta").map(softplus);
  const logits = mat("dag.logits");
  const A = logits.map((row, j) => row.map((v, i) => (i > j ? sigmoid(v / c.temperature) : 0)));
  const wx = mat("gru.wx"); // rows: m (C), y, context (K)
  const wh = mat("gru.wh");
  const gb = get("gru.b");
  const wr = mat("out.wr").map((r) => r[0]);
  const phi = get("out.phi")[0];
  const b0 = get("base.b0")[0];
  const delta = c.regions > 0 ? get("base.region") : [];
  return xs.map((row, b) => {
    const prior = b0 + (c.regions > 0 ? delta[regions[b]] : 0);
    let g = new Array<number>(H).fill(0);
    let a = new Array<number>(C).fill(0);
    let sum = 0;
    let prevCore = 0;
    let prev: number[] = [];
    const out: number[] = [];
    for (let s = 0; s < steps; s++) {
      const input = s < t0 ? row[s] : prev.map((v, i) => (feedChannels && c.channels.includes(i) ? row[s][i] : v));
      a = a.map((ak, k) => input[c.channels[k]] + lambda[k] * ak);
      const h = a.map((ak, k) => (ak > 1e-12 ? sigmoid(S[k] * (Math.log(ak) - Math.log(K[k]))) : 0));
      const m = h.map((hi, i) => hi + h.reduce((acc, hj, j) => acc + hj * A[j][i], 0));
      const y = input[c.target];
      const feats = [...m, y, ...context[b]];
      const gx = gb.map((bk, k) => bk + feats.reduce((acc, f, q) => acc + f * wx[q][k], 0));
      const gh = gb.map((_, k) => g.reduce((acc, gq, q) => acc + gq * wh[q][k], 0));
      g = g.map((gk, k) => {
        const r = sigmoid(gx[k] + gh[k]);
        const u = sigmoid(gx[H + k] + gh[H + k]);
        const n = Math.tanh(gx[2 * H + k] + r * gh[2 * H + k]);
        return (1 - u) * n + u * gk;
      });
      const core = m.reduce((acc, mk, k) => acc + mk * beta[k], 0) + g.reduce((acc, gk, k) => acc + gk * wr[k], 0) + phi * y;
      let base = prior;
      if (s > 0) {
        sum += y - prevCore;
        base = (kappa * prior + sum) / (kappa + s);
      }
      prevCore = core;
      const yhat = core + base;
      prev = input.map((v, i) => (i === c.target ? yhat : v));
      out.push(yhat);
    }
    return out;
  });
}

before(async () => {
  await initBackend(undefined, null);
});

// ---------------------------------------------------------------------------------------------
// 1. The DAG
// ---------------------------------------------------------------------------------------------

describe("DeepCausalMMM: the upper-triangular DAG", () => {
  it("is exactly 0 on and below the diagonal, sigmoid(logits / T) above, for random logits and any temperature", () => {
    const rng = new Rng(11);
    let draws = 0;
    for (const T of [1e-3, 0.1, 0.5, 1, 7, 1e3]) {
      for (let d = 0; d < 40; d++) {
        const C = 1 + rng.int(7);
        const scale = [0.1, 1, 10, 1e3][d % 4];
        const raw = Array.from(rng.normals(C * C, scale));
        // a few non-finite logits: they must not leak below the diagonal
        if (d % 5 === 0) raw[rng.int(C * C)] = [Infinity, -Infinity, NaN][d % 3];
        const A = tf.tidy(() => upperTriangularDag(tf.tensor2d(raw, [C, C]), T).arraySync());
        for (let j = 0; j < C; j++) {
          for (let i = 0; i < C; i++) {
            if (i <= j) assert.ok(Object.is(A[j][i], 0), `T ${T}, draw ${d}: A[${j}][${i}] = ${A[j][i]} on or below the diagonal`);
            else if (Number.isFinite(raw[j * C + i])) {
              assert.ok(A[j][i] >= 0 && A[j][i] <= 1, `A[${j}][${i}] = ${A[j][i]} outside [0, 1]`);
              const expected = sigmoid(raw[j * C + i] / T);
              assert.ok(Math.abs(A[j][i] - expected) < 1e-6, `A[${j}][${i}] = ${A[j][i]}, sigmoid(${raw[j * C + i]} / ${T}) = ${expected}`);
            }
          }
        }
        draws++;
      }
    }
    assert.equal(draws, 240);
  });

  it("the model's DAG stays upper-triangular whatever its logits are set to", () => {
    const model = new DeepCausalMMM({ ...BASE, nodes: 6, target: 5, channels: [0, 1, 2, 3, 4], temperature: 0.3 });
    try {
      for (let d = 0; d < 20; d++) {
        model.params.get("dag.logits").assign(tf.tidy(() => randn([5, 5], 100 + d, 50) as tf.Tensor2D));
        const A = tf.tidy(() => model.dag().arraySync());
        for (let j = 0; j < 5; j++) for (let i = 0; i <= j; i++) assert.ok(Object.is(A[j][i], 0), `draw ${d}: A[${j}][${i}] = ${A[j][i]}`);
      }
    } finally {
      model.dispose();
    }
  });

  it("the channel order decides the representable directions: an edge from a later to an earlier channel is exactly 0", () => {
    const forward = new DeepCausalMMM({ ...BASE, channels: [0, 1, 2] });
    const reversed = new DeepCausalMMM({ ...BASE, channels: [2, 0, 1] });
    try {
      // every logit pushed towards an edge: each order expresses exactly its own three directions
      for (const m of [forward, reversed]) m.params.get("dag.logits").assign(tf.fill([3, 3], 20));
      const Gf = forward.graph();
      const Gr = reversed.graph();
      const on = (G: number[][], j: number, i: number) => G[j][i] > 0.99;
      const off = (G: number[][], j: number, i: number) => Object.is(G[j][i], 0);
      // order 0, 1, 2: 0 -> 1, 0 -> 2, 1 -> 2 only
      assert.ok(on(Gf, 0, 1) && on(Gf, 0, 2) && on(Gf, 1, 2), `forward order: ${JSON.stringify(Gf)}`);
      assert.ok(off(Gf, 1, 0) && off(Gf, 2, 0) && off(Gf, 2, 1), `forward order expresses a backward edge: ${JSON.stringify(Gf)}`);
      // order 2, 0, 1: 2 -> 0, 2 -> 1, 0 -> 1 only; 2 -> 0 is now learnable, 0 -> 2 is not
      assert.ok(on(Gr, 2, 0) && on(Gr, 2, 1) && on(Gr, 0, 1), `reversed order: ${JSON.stringify(Gr)}`);
      assert.ok(off(Gr, 0, 2) && off(Gr, 1, 2) && off(Gr, 1, 0), `reversed order: ${JSON.stringify(Gr)}`);
      // and for random logits, channel 2 -> channel 0 stays unreachable in the forward order
      for (let d = 0; d < 10; d++) {
        forward.params.get("dag.logits").assign(tf.tidy(() => randn([3, 3], 200 + d, 30) as tf.Tensor2D));
        assert.ok(off(forward.graph(), 2, 0) && off(forward.graph(), 1, 0));
      }
    } finally {
      forward.dispose();
      reversed.dispose();
    }
  });

  it("reads out its graph in node order: A between channels, beta / max(beta) into the target, 0 for intermediates, the target's row and the diagonal", () => {
    // nodes: ch (0), mid (1), ch (2), target (3), ch (4)
    const model = new DeepCausalMMM({ ...BASE, nodes: 5, target: 3, channels: [4, 0, 2] });
    try {
      handSet(model, {
        adstock: [0.5, 0.5, 0.5],
        slope: [1, 1, 1],
        half: [1, 1, 1],
        beta: [0.2, 0.8, 0.4],
        logits: [
          [0, 1, -1],
          [0, 0, 2],
          [0, 0, 0],
        ],
      });
      const G = model.graph();
      const expect = [
        [0, 0, sigmoid(2), 1, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0.5, 0],
        [0, 0, 0, 0, 0],
        [sigmoid(1), 0, sigmoid(-1), 0.25, 0],
      ];
      assertCloseArrays(G.flat(), expect.flat(), 1e-6, "graph");
      for (let i = 0; i < 5; i++) assert.ok(Object.is(G[1][i], 0) && Object.is(G[i][1], 0) && Object.is(G[3][i], 0) && Object.is(G[i][i], 0));
    } finally {
      model.dispose();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Media transforms and coefficients
// ---------------------------------------------------------------------------------------------

describe("DeepCausalMMM: adstock, Hill and coefficients", () => {
  it("the one-step prediction on hand-set parameters is b0 + beta Hill(adstock(spend)), the analytic recursion and curve", () => {
    for (const zero of [0, -0.7]) {
      const model = new DeepCausalMMM({ nodes: 2, target: 1, channels: [0], contextDim: 0, hidden: 5, baselineShrinkage: null, zeroSpend: [zero], seed: 2 });
      try {
        const lambda = 0.6,
          S = 2.3,
          K = 1.5,
          beta = 0.9,
          b0 = 0.3;
        handSet(model, { adstock: [lambda], slope: [S], half: [K], beta: [beta], b0 });
        const rng = new Rng(5);
        const spend = Array.from({ length: 30 }, (_, t) => (t % 7 === 3 ? 0 : rng.range(0, 3)));
        const x = seriesWith(
          30,
          2,
          0,
          spend.map((s) => s + zero),
          0,
        );
        // the target's own values are random: with phi and the read-out zeroed they must not matter
        const xr = tf.tidy(
          () =>
            x.add(
              tf.tensor3d(
                Array.from({ length: 60 }, (_, k) => (k % 2 === 1 ? rng.normal() : 0)),
                [1, 30, 2],
              ),
            ) as tf.Tensor3D,
        );
        const pred = tf.tidy(() => column(model.forecaster().predictOneStep(xr), 1)[0]);
        const expect = adstockHill(spend, lambda, S, K).map((h) => b0 + beta * h);
        assertCloseArrays(pred, expect, 2e-5, `zeroSpend ${zero}`);
        // and the media parameters read back as set
        const m = tf.tidy(() => Object.fromEntries(Object.entries(model.media()).map(([k, v]) => [k, v.dataSync()[0]])));
        assertCloseArrays([m.adstock, m.slope, m.halfPoint, m.beta], [lambda, S, K, beta], 1e-5, "media()");
        tf.dispose([x, xr]);
      } finally {
        model.dispose();
      }
    }
  });

  it("coefficients are >= 0 for any raw parameter, and the graph's target column stays in [0, 1]", () => {
    const model = new DeepCausalMMM({ ...BASE, nodes: 7, target: 6, channels: [0, 1, 2, 3, 4, 5] });
    try {
      for (let d = 0; d < 20; d++) {
        const raw = randn([6], 300 + d, [0.1, 10, 100, 1e4][d % 4]);
        model.params.get("media.beta").assign(raw as tf.Tensor1D);
        raw.dispose();
        const beta = tf.tidy(() => model.media().beta.dataSync());
        for (const b of beta) assert.ok(b >= 0, `beta ${b} < 0`);
        const G = model.graph();
        for (let c = 0; c < 6; c++) assert.ok(G[c][6] >= 0 && G[c][6] <= 1, `G[${c}][target] = ${G[c][6]}`);
      }
    } finally {
      model.dispose();
    }
  });

  it("the target's response to a unit step in one channel's spend is the analytic adstock + Hill response through beta and the DAG", () => {
    const model = new DeepCausalMMM({ ...BASE, baselineShrinkage: null });
    try {
      const p = {
        adstock: [0.3, 0.7, 0.5],
        slope: [1, 2, 3],
        half: [0.8, 1.2, 2],
        beta: [0.5, 1.1, 0.7],
        logits: [
          [0, 0.4, -0.6],
          [0, 0, 1.3],
          [0, 0, 0],
        ],
        b0: -0.2,
      };
      handSet(model, p);
      const A = [
        [0, sigmoid(0.4), sigmoid(-0.6)],
        [0, 0, sigmoid(1.3)],
        [0, 0, 0],
      ];
      const T = 25,
        t0 = 5;
      const step = Array.from({ length: T }, (_, t) => (t >= t0 ? 1 : 0));
      for (let k = 0; k < 3; k++) {
        // channel k feeds the target through beta_k and through each later channel it blends into
        const gain = p.beta[k] + [0, 1, 2].reduce((s, i) => s + A[k][i] * p.beta[i], 0);
        const h = adstockHill(step, p.adstock[k], p.slope[k], p.half[k]);
        const expect = h.map((v) => p.b0 + gain * v);
        const x = seriesWith(T, 4, k, step);
        const pred = tf.tidy(() => column(model.forecaster().predictOneStep(x), 3)[0]);
        assertCloseArrays(pred, expect, 2e-5, `step in channel ${k}`);
        assert.ok(pred[T - 1] - pred[0] > 0.05, `channel ${k}: the step barely moved the target`);
        // the same response when the step comes through the rollout feed after a history of no spend
        const history = seriesWith(t0, 4, k, new Array<number>(t0).fill(0));
        const values = seriesWith(T - t0, 4, k, new Array<number>(T - t0).fill(1));
        const mask = tf.tensor3d([1, 1, 1, 0], [1, 1, 4]);
        const rolled = tf.tidy(() => column(model.forecaster().rollout(history, T - t0, { feed: { values, mask } }), 3)[0]);
        assertCloseArrays(rolled, expect.slice(t0 - 1, T - 1), 2e-5, `fed step in channel ${k}`);
        tf.dispose([x, history, values, mask]);
      }
    } finally {
      model.dispose();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Baseline, loss and training
// ---------------------------------------------------------------------------------------------

describe("DeepCausalMMM: baseline and loss", () => {
  it("the region baseline is its learned intercept shrunk with the running mean of the history's residuals", () => {
    const kappa = 3;
    const model = new DeepCausalMMM({ ...BASE, regions: 4, baselineShrinkage: kappa });
    try {
      const p = {
        adstock: [0.3, 0.7, 0.5],
        slope: [1, 2, 3],
        half: [0.8, 1.2, 2],
        beta: [0.5, 1.1, 0.7],
        logits: [
          [0, 0.4, -0.6],
          [0, 0, 1.3],
          [0, 0, 0],
        ],
        b0: 0.25,
      };
      handSet(model, p);
      model.params.get("base.region").assign(tf.tensor1d([0.1, -0.4, 0.9, 0]));
      const A = [
        [0, sigmoid(0.4), sigmoid(-0.6)],
        [0, 0, sigmoid(1.3)],
        [0, 0, 0],
      ];
      const T = 12;
      const x = tf.tidy(() => randn([2, T, 4], 41).abs() as tf.Tensor3D);
      const regions = tf.tensor1d([2, 1], "int32");
      const pred = tf.tidy(() => column(model.forecaster().predictOneStep(x, { regions } as never), 3));
      const xs = x.arraySync();
      for (let b = 0; b < 2; b++) {
        const h = [0, 1, 2].map((c) =>
          adstockHill(
            xs[b].map((r) => r[c]),
            p.adstock[c],
            p.slope[c],
            p.half[c],
          ),
        );
        const core = xs[b].map((_, t) => [0, 1, 2].reduce((s, i) => s + p.beta[i] * (h[i][t] + [0, 1, 2].reduce((u, j) => u + A[j][i] * h[j][t], 0)), 0));
        const prior = p.b0 + [0.9, -0.4][b];
        let sum = 0;
        const expect = core.map((c, t) => {
          if (t > 0) sum += xs[b][t][3] - core[t - 1];
          return c + (t === 0 ? prior : (kappa * prior + sum) / (kappa + t));
        });
        assertCloseArrays(pred[b], expect, 3e-5, `row ${b}`);
      }
      // without the region the prior is b0 alone
      const noRegion = tf.tidy(() => column(model.forecaster().predictOneStep(x), 3));
      assert.ok(Math.abs(noRegion[0][0] - (pred[0][0] - 0.9)) < 1e-5, `first prediction without a region: ${noRegion[0][0]} vs ${pred[0][0] - 0.9}`);
      tf.dispose([x, regions]);
    } finally {
      model.dispose();
    }
  });

  it("huber() is e^2 / 2 inside delta and linear outside, continuous at delta", () => {
    const e = [-5, -1.2, -1, -0.3, 0, 0.2, 0.999, 1, 1.001, 4];
    for (const delta of [0.5, 1, 2]) {
      const got = tf.tidy(() => huber(tf.tensor1d(e), delta).dataSync());
      const want = e.map((v) => (Math.abs(v) <= delta ? 0.5 * v * v : delta * (Math.abs(v) - 0.5 * delta)));
      assertCloseArrays(got, want, 1e-6, `delta ${delta}`);
    }
    // outside delta the loss grows linearly: slope delta
    const [a, b] = tf.tidy(() => Array.from(huber(tf.tensor1d([3, 4]), 0.5).dataSync()));
    assert.ok(Math.abs(b - a - 0.5) < 1e-6);
    assert.throws(() => huber(tf.tensor1d([1]), 0), /delta must be > 0/);
  });

  it("the training loss is the mean Huber error of the target's predictions after the burn-in (rollout fed the observed spend)", () => {
    const delta = 0.3,
      burnIn = 3,
      horizon = 4;
    const model = new DeepCausalMMM({ ...BASE, contextDim: 2, regions: 5, huberDelta: delta, burnIn, horizon, dagPenalty: 0.05 });
    try {
      // perturb everything so that the check is not of a degenerate model
      let seed = 500;
      for (const name of model.params.names()) {
        const v = model.params.get(name);
        v.assign(tf.tidy(() => v.add(randn(v.shape, seed++, 0.3))));
      }
      const B = 3,
        W = 14,
        N = 4;
      const x = randn([B, W, N], 61, 1.5) as tf.Tensor3D;
      const context = randn([B, 2], 62) as tf.Tensor2D;
      const batch: ArrayBatch = {
        x: { data: x.dataSync() as Float32Array, shape: [B, W, N] },
        context: { data: context.dataSync() as Float32Array, shape: [B, 2] },
        region: { data: Float32Array.from([4, 0, 2]), shape: [B] },
      };
      const lossOf = (bt: ArrayBatch) => tf.tidy(() => Object.fromEntries(Object.entries(model.loss(bt)).map(([k, v]) => [k, v.dataSync()[0]])));
      const terms = lossOf(batch);
      // Independent expectation: handDeepCausal, a plain-JS forward pass with the model's
      // (perturbed) parameters, never decode() or loss(): teacher forcing through W - horizon
      // steps, then rollout with the channels fed their observed spend; the Huber mean over the
      // target's predictions after the burn-in; the DAG term from the logits by hand.
      const t0 = W - horizon;
      const xs = x.arraySync() as number[][][];
      const ctx = context.arraySync() as number[][];
      const regionOf = [4, 0, 2];
      const scored = (preds: number[][], series: number[][][]) => {
        const errs: number[] = [];
        for (let b = 0; b < B; b++) for (let t = burnIn; t < W - 1; t++) errs.push(preds[b][t] - series[b][t + 1][3]);
        const hub = errs.reduce((s, e) => s + (Math.abs(e) <= delta ? 0.5 * e * e : delta * (Math.abs(e) - 0.5 * delta)), 0) / errs.length;
        return { errs, huber: hub, mse: errs.reduce((s, e) => s + e * e, 0) / errs.length };
      };
      const want = scored(handDeepCausal(model, xs, t0, W - 1, ctx, regionOf), xs);
      assert.ok(want.errs.some((e) => Math.abs(e) > delta) && want.errs.some((e) => Math.abs(e) < delta), "errors on both sides of delta");
      assertCloseArrays([terms.huber, terms.mse], [want.huber, want.mse], 1e-5, "huber, mse");
      const logits = model.params.get("dag.logits").arraySync() as number[][];
      const dag = (sigmoid(logits[0][1]) + sigmoid(logits[0][2]) + sigmoid(logits[1][2])) / 3; // temperature 1
      assertCloseArrays([terms.dag, terms.total], [dag, want.huber + 0.05 * dag], 1e-5, "dag, total");
      // not vacuous: another origin, or the channels held at their last value instead of fed, scores otherwise
      for (const [what, preds] of [
        ["origin W - horizon - 1", handDeepCausal(model, xs, t0 - 1, W - 1, ctx, regionOf)],
        ["origin W - horizon + 1", handDeepCausal(model, xs, t0 + 1, W - 1, ctx, regionOf)],
        ["held spend", handDeepCausal(model, xs, t0, W - 1, ctx, regionOf, false)],
      ] as const) {
        const alt = scored(preds, xs).huber;
        assert.ok(Math.abs(alt - want.huber) > 1e-3 * want.huber, `${what} gives the same Huber loss (${alt} vs ${want.huber})`);
      }
      // the rolled-out part uses the observed spend, not held spend: a future channel value moves the loss, as by hand
      const moved = { ...batch, x: { data: Float32Array.from(batch.x.data), shape: batch.x.shape } };
      moved.x.data[(0 * W + W - 2) * N + 0] += 5;
      const movedXs = tf.tidy(() => tf.tensor3d(moved.x.data, [B, W, N]).arraySync() as number[][][]);
      const huberMoved = lossOf(moved).huber;
      const wantMoved = scored(handDeepCausal(model, movedXs, t0, W - 1, ctx, regionOf), movedXs).huber;
      assertCloseArrays([huberMoved], [wantMoved], 1e-5, "huber of the moved batch");
      assert.ok(Math.abs(huberMoved - terms.huber) > 1e-6, "a fed future spend did not change the loss");
      tf.dispose([x, context]);
    } finally {
      model.dispose();
    }
  });

  it("a short training run on a small generated region panel lowers the loss and moves the media, DAG and region parameters", async () => {
    const sim = generateVarDag({ units: 6, channels: 3, intermediates: 1, steps: 60, burnIn: 30, graphs: 2, contextDim: 1, seed: 4 });
    const raw = sim.panel;
    const scaler = fitScaler(raw, { log1p: "channels", steps: { from: 0, to: 45 } });
    const panel = applyScaler(raw, scaler);
    const base = deepCausalConfigFor(panel);
    assert.deepEqual(base, { nodes: 5, target: 4, channels: [0, 1, 2], contextDim: 1, regions: 6 });
    const zeroSpend = base.channels.map((c) => scaleValue(scaler, c, 0));
    const model = new DeepCausalMMM({ ...base, zeroSpend, hidden: 8, horizon: 4, burnIn: 3, seed: 7 });
    try {
      const units = [0, 1, 2, 3, 4, 5];
      const windows = { units, range: { from: 0, to: 45 }, length: 16, perUnit: 3, batchSize: 9 };
      const batches = shuffledWindowBatches(panel, { ...windows, rng: new Rng(8), extras: regionExtras() });
      assert.equal(batches.length, 2);
      assert.deepEqual(batches[0].region.shape, [9]);
      const lossOf = () => tf.tidy(() => batches.reduce((s, b) => s + model.loss(b).huber.dataSync()[0], 0) / batches.length);
      const before = lossOf();
      const initial = new Map(model.params.names().map((n) => [n, Float32Array.from(model.params.get(n).dataSync())]));
      const result = await fit(model, { batches: () => batches }, { epochs: 25, learningRate: 2e-2, label: null });
      assert.equal(result.status, "completed");
      const afterTraining = lossOf();
      assert.ok(afterTraining < 0.7 * before, `Huber loss ${before} -> ${afterTraining}`);
      for (const name of ["media.adstock", "media.slope", "media.half", "media.beta", "dag.logits", "base.region", "gru.wx", "out.wr"]) {
        assert.ok(maxAbsDiff(model.params.get(name).dataSync(), initial.get(name)!) > 1e-3, `parameter ${name} did not move`);
      }
      // the trained model forecasts the panel through the Forecaster contract (no region given)
      const x = tf.tensor3d(panel.values.slice(0, 50 * 5), [1, 50, 5]);
      const context = tf.tensor2d(panel.context!.values.slice(0, 1), [1, 1]);
      const y = tf.tidy(() => model.forecaster().rollout(x, 10, { context }).dataSync());
      assert.ok(y.every(Number.isFinite));
      tf.dispose([x, context]);
    } finally {
      model.dispose();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 4. The Forecaster contract
// ---------------------------------------------------------------------------------------------

describe("DeepCausalMMM as a Forecaster", () => {
  let model: DeepCausalMMM;
  let x: tf.Tensor3D;
  let context: tf.Tensor2D;
  const B = 3,
    T0 = 9,
    H = 6,
    N = 5; // channels 0, 2, 3; intermediate 1; target 4
  before(() => {
    model = new DeepCausalMMM({ nodes: N, target: 4, channels: [3, 0, 2], contextDim: 2, hidden: 7, seed: 9 });
    let seed = 700;
    for (const name of model.params.names()) {
      const v = model.params.get(name);
      v.assign(tf.tidy(() => v.add(randn(v.shape, seed++, 0.4))));
    }
    x = tf.tidy(() => randn([B, T0, N], 71).abs() as tf.Tensor3D);
    context = randn([B, 2], 72) as tf.Tensor2D;
  });
  after(() => {
    model.dispose();
    tf.dispose([x, context]);
  });

  /** The rollout by hand: predictOneStep on the growing history, appending the target's prediction and the channels held (or fed). */
  function manualRollout(feed?: { values: number[][][]; mask: number[] }): number[][][] {
    const f = model.forecaster();
    const hist = x.arraySync();
    const out: number[][][] = hist.map(() => []);
    for (let k = 0; k < H; k++) {
      const p = tf.tidy(() => f.predictOneStep(tf.tensor3d(hist), { context }).arraySync());
      for (let b = 0; b < B; b++) {
        const last = p[b][p[b].length - 1];
        out[b].push(last);
        const prev = hist[b][hist[b].length - 1];
        const next = last.map((v, i) => (feed && feed.mask[i] === 1 ? feed.values[b][k][i] : i === 4 ? v : prev[i]));
        hist[b].push(next);
      }
    }
    return out;
  }

  it("declares minHistory 1, no graph, and holds every node but the target at its input", () => {
    const f = model.forecaster();
    assert.equal(f.nodes, N);
    assert.equal(f.minHistory, 1);
    assert.equal(f.acceptsGraph, false);
    const p = tf.tidy(() => f.predictOneStep(x, { context }));
    assertClose(
      tf.tidy(() => p.slice([0, 0, 0], [B, T0, 4])),
      tf.tidy(() => x.slice([0, 0, 0], [B, T0, 4])),
      0,
      "non-target predictions",
    );
    // a supplied graph changes nothing
    const g = tf.ones([N, N]) as tf.Tensor2D;
    const pg = tf.tidy(() => f.predictOneStep(x, { context, graph: g }));
    assertClose(pg, p, 0, "with a graph");
    tf.dispose([p, g, pg]);
  });

  it("rollout equals the manual loop of one-step predictions (the baseline stays at its origin value)", () => {
    const r = tf.tidy(() => model.forecaster().rollout(x, H, { context }).arraySync());
    const m = manualRollout();
    assertCloseArrays(r.flat(2), m.flat(2), 1e-4, "rollout vs manual loop");
    // the channels are held at the last observed spend
    const last = x.arraySync().map((row) => row[T0 - 1]);
    for (let b = 0; b < B; b++) for (let k = 0; k < H; k++) for (const c of [0, 2, 3]) assert.equal(r[b][k][c], last[b][c]);
    // and the first rolled-out step is the last one-step prediction of the history
    const p = tf.tidy(() => model.forecaster().predictOneStep(x, { context }).arraySync());
    for (let b = 0; b < B; b++) assert.deepEqual(r[b][0], p[b][T0 - 1]);
  });

  it("respects the feed: fed channels replace held spend, mask 0 ignores the values", () => {
    const values = tf.tidy(() => randn([B, H, N], 81).abs().mul(2) as tf.Tensor3D);
    const maskArr = [1, 0, 0, 1, 0]; // channels 0 and 3 fed; channel 2 held
    const mask = tf.tensor3d(maskArr, [1, 1, N]);
    const f = model.forecaster();
    const fed = tf.tidy(() => f.rollout(x, H, { context, feed: { values, mask } }).arraySync());
    const m = manualRollout({ values: values.arraySync(), mask: maskArr });
    assertCloseArrays(fed.flat(2), m.flat(2), 1e-4, "fed rollout vs manual loop");
    const held = tf.tidy(() => f.rollout(x, H, { context }).arraySync());
    const dTarget = maxAbsDiff(fed.map((r) => r.map((v) => v[4])).flat(), held.map((r) => r.map((v) => v[4])).flat());
    assert.ok(dTarget > 1e-3, `feeding the spend did not change the target (${dTarget})`);
    // mask 0 everywhere: the values are ignored
    const zero = tf.zeros([1, 1, N]);
    const ignored = tf.tidy(() => f.rollout(x, H, { context, feed: { values, mask: zero } }).arraySync());
    assert.deepEqual(ignored, held);
    tf.dispose([values, mask, zero]);
  });

  it("with ownLag false and the prior baseline, the target's own past does not enter the prediction, exactly", () => {
    const m = new DeepCausalMMM({ nodes: N, target: 4, channels: [3, 0, 2], contextDim: 2, hidden: 7, ownLag: false, baselineShrinkage: null, seed: 9 });
    try {
      assert.ok(!m.trainableNames().includes("out.phi"));
      const y = x.arraySync();
      for (const row of y) for (const step of row) step[4] += 10 * Math.sin(step[0] * 7);
      const p0 = tf.tidy(() => column(m.forecaster().predictOneStep(x, { context }), 4));
      const p1 = tf.tidy(() => column(m.forecaster().predictOneStep(tf.tensor3d(y), { context }), 4));
      assert.deepEqual(p1, p0);
    } finally {
      m.dispose();
    }
  });

  it("is rebuilt by the registry from its spec (JSON round trip) with the same predictions", () => {
    const fresh = new DeepCausalMMM({
      nodes: N,
      target: 4,
      channels: [3, 0, 2],
      contextDim: 2,
      hidden: 7,
      seed: 9,
      temperature: 0.7,
      zeroSpend: [0.1, -0.2, 0],
    });
    const rebuilt = buildModel("deepcausalmmm", JSON.parse(JSON.stringify(fresh.spec))) as DeepCausalMMM;
    try {
      assert.equal(rebuilt.kind, "deepcausalmmm");
      assert.deepEqual(rebuilt.spec, fresh.spec);
      const a = tf.tidy(() => fresh.forecaster().rollout(x, H, { context }).dataSync());
      const b = tf.tidy(() => rebuilt.forecaster().rollout(x, H, { context }).dataSync());
      assert.deepEqual(b, a);
    } finally {
      fresh.dispose();
      rebuilt.dispose();
    }
  });

  it("leaks no tensors (forecasts, loss, gradients, graph, construction and disposal)", () => {
    const before = tf.memory().numTensors;
    const f = model.forecaster();
    tf.dispose([f.predictOneStep(x, { context }), f.rollout(x, H, { context })]);
    model.graph();
    tf.dispose(Object.values(model.media()));
    model.dag().dispose();
    const batch: ArrayBatch = {
      x: { data: x.dataSync() as Float32Array, shape: [B, T0, N] },
      context: { data: context.dataSync() as Float32Array, shape: [B, 2] },
    };
    tf.dispose(Object.values(model.loss(batch)));
    const vars = model.trainableNames().map((n) => model.params.get(n));
    const { value, grads } = tf.variableGrads(() => model.loss(batch).total, vars);
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, before, "tensors left after forecasting and loss");
    const m = new DeepCausalMMM({ ...BASE, regions: 2 });
    m.dispose();
    assert.equal(tf.memory().numTensors, before, "tensors left after constructing and disposing a model");
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Errors
// ---------------------------------------------------------------------------------------------

describe("DeepCausalMMM: bad configurations and inputs", () => {
  it("rejects bad configurations with a message naming the field", () => {
    const bad: [Partial<DeepCausalMMMInput>, RegExp][] = [
      [{ nodes: 1 }, /at least 2 nodes/],
      [{ target: 4 }, /target 4 is not a node index/],
      [{ channels: [] }, /at least one channel/],
      [{ channels: [0, 3] }, /target \(node 3\) cannot be a channel/],
      [{ channels: [0, 0] }, /channel 0 is listed twice/],
      [{ channels: [0, 7] }, /channel 7 is not a node index/],
      [{ temperature: 0 }, /temperature must be a finite number > 0/],
      [{ temperature: Number.NaN }, /temperature/],
      [{ huberDelta: -1 }, /huberDelta/],
      [{ dagPenalty: -0.1 }, /dagPenalty/],
      [{ baselineShrinkage: -1 }, /baselineShrinkage/],
      [{ zeroSpend: [0, 0] }, /zeroSpend must be null or 3 finite numbers/],
      [{ regions: 1.5 }, /regions must be an integer/],
      [{ hidden: 0 }, /hidden/],
      [{ horizon: 0 }, /horizon/],
      [{ burnIn: -1 }, /burnIn/],
      [{ contextDim: -1 }, /contextDim/],
    ];
    for (const [override, re] of bad) assert.throws(() => new DeepCausalMMM({ ...BASE, ...override } as DeepCausalMMMInput), re, JSON.stringify(override));
    assert.throws(() => upperTriangularDag(tf.zeros([2, 3]) as tf.Tensor2D, 1), /must be square/);
    assert.throws(() => upperTriangularDag(tf.zeros([2, 2]) as tf.Tensor2D, -1), /temperature must be a finite number > 0/);
  });

  it("rejects bad inputs: node count, missing context, missing or out-of-range regions, windows too short for the burn-in", () => {
    const model = new DeepCausalMMM({ ...BASE, contextDim: 1, regions: 2, burnIn: 4 });
    const strict = new DeepCausalMMM({ ...BASE, regions: 2, baselineShrinkage: null });
    const x = tf.zeros([2, 6, 4]) as tf.Tensor3D;
    const x3 = tf.zeros([2, 6, 3]) as tf.Tensor3D;
    const ctx = tf.zeros([2, 1]) as tf.Tensor2D;
    const outside = tf.tensor1d([0, 5]);
    const before = tf.memory().numTensors;
    try {
      const f = model.forecaster();
      assert.throws(() => f.predictOneStep(x3, { context: ctx }), /expects 4 nodes, got 3/);
      assert.throws(() => f.predictOneStep(x), /pass the context/);
      assert.throws(() => f.predictOneStep(x, { context: ctx, regions: outside } as never), /row 1 names region 5, outside 0..1/);
      assert.throws(() => strict.forecaster().rollout(x, 3), /pass inputs.regions/);
      const batch = (W: number, region: boolean): ArrayBatch => ({
        x: { data: new Float32Array(2 * W * 4), shape: [2, W, 4] },
        context: { data: new Float32Array(2), shape: [2, 1] },
        ...(region ? { region: { data: Float32Array.from([0, 1]), shape: [2] } } : {}),
      });
      assert.throws(() => model.loss(batch(10, false)), /needs `region`/);
      assert.throws(() => model.loss(batch(5, true)), /windows of 5 steps leave no prediction after the burn-in of 4/);
      assert.doesNotThrow(() => tf.dispose(Object.values(model.loss(batch(6, true)))));
      assert.throws(() => regionExtras([0])([0, 1]), /no region for unit 1/);
      // failed calls leave nothing behind (their scopes are tidied)
      assert.equal(tf.memory().numTensors, before, "tensors left by failed calls");
    } finally {
      model.dispose();
      strict.dispose();
      tf.dispose([x, x3, ctx, outside]);
    }
  });
});
