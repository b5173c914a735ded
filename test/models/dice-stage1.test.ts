import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { DiceStage1, rolloutFromWindows } from "../../lib/models/dice-stage1";
import { tf } from "../../lib/tf";
import { edgeOf, maxAbsDiff, randn, assertCloseArrays as assertClose } from "./helpers";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** The decoder's parameters as plain arrays (read from the model's store). */
function decoderParams(model: DiceStage1) {
  const get = (n: string) => model.params.get(n).arraySync();
  return {
    ar: get("dec.ar") as number[][],
    bias: get("dec.bias") as number[],
    gain: get("dec.gain") as number[],
    w1: get("dec.g.w1") as number[][],
    b1: get("dec.g.b1") as number[],
    w2: get("dec.g.w2") as number[][],
    b2: get("dec.g.b2") as number[],
    /** Per-edge lag filters [s][j][i] (absent with edgeFilters false). */
    filters: model.params.names().includes("dec.filters") ? (get("dec.filters") as number[][][]) : null,
  };
}

/**
 * The restricted decoder by hand: the prediction of x(t + 1) from x[.. t] (series[t][i]) with
 * edge weights z[j][i]: b_i + sum_s a_is x_i(t + 1 - s) + sum_{j != i} z_ji (c_i g(x_j(t), ..., x_j(t - L + 1))
 * + sum_s w_jis x_j(t + 1 - s)), the last term with the per-edge filters only.
 */
function handPredict(p: ReturnType<typeof decoderParams>, series: number[][], t: number, z: number[][]): number[] {
  const N = series[0].length;
  const L = p.ar[0].length;
  const g = (j: number) => {
    let out = p.b2[0];
    for (let h = 0; h < p.b1.length; h++) {
      let a = p.b1[h];
      for (let s = 0; s < L; s++) a += series[t - s][j] * p.w1[s][h];
      out += p.w2[h][0] * Math.tanh(a);
    }
    return out;
  };
  return Array.from({ length: N }, (_, i) => {
    let v = p.bias[i];
    for (let s = 0; s < L; s++) v += p.ar[i][s] * series[t - s][i];
    let cross = 0;
    let filtered = 0;
    for (let j = 0; j < N; j++) {
      if (j === i) continue;
      cross += z[j][i] * g(j);
      if (p.filters) for (let s = 0; s < L; s++) filtered += z[j][i] * p.filters[s][j][i] * series[t - s][j];
    }
    return v + p.gain[i] * cross + filtered;
  });
}

/** A tiny Stage 1 model whose decoder parameters are all set away from their initial values. */
function tinyModel(config: { lags?: number; edgeBias?: boolean; edgeFilters?: boolean } = {}): DiceStage1 {
  const model = new DiceStage1({
    nodes: 3,
    encoderSteps: 8,
    encoderHidden: 6,
    lags: config.lags ?? 2,
    edgeHidden: 3,
    edgeBias: config.edgeBias ?? true,
    edgeFilters: config.edgeFilters ?? true,
    seed: 4,
  });
  let seed = 100;
  for (const name of model.decoderNames()) {
    const v = model.params.get(name);
    v.assign(tf.tidy(() => randn(v.shape, seed++, 0.6)));
  }
  return model;
}

before(async () => {
  await initBackend(undefined, null);
});

// ---------------------------------------------------------------------------------------------
// 1. The restricted graph-mediated decoder
// ---------------------------------------------------------------------------------------------

describe("DiceStage1: the restricted decoder", () => {
  const N = 3;
  const S = 7;
  const B = 2;
  let model: DiceStage1;
  let x: tf.Tensor3D;
  let z: tf.Tensor3D;
  before(() => {
    model = tinyModel();
    x = randn([B, S, N], 11) as tf.Tensor3D;
    // edge weights with a zero diagonal, as edge matrices have
    z = tf.tidy(() => tf.sigmoid(randn([B, N, N], 12, 2)).mul(tf.sub(1, tf.eye(N)))) as tf.Tensor3D;
  });
  after(() => {
    model.dispose();
    tf.dispose([x, z]);
  });

  it("predictWindows equals b_i + sum_s a_is x_i(t+1-s) + c_i sum_j z_ji g(lags of x_j)", () => {
    const L = model.config.lags;
    const p = decoderParams(model);
    // the parameters really were moved off their defaults (bias 0, gain 1, AR 0.5 / 0)
    assert.ok(p.bias.some((v) => Math.abs(v) > 0.05) && p.gain.some((v) => Math.abs(v - 1) > 0.05));
    const out = model.predictWindows(x, z);
    assert.deepEqual(out.shape, [B, S - L + 1, N]);
    const o = out.arraySync() as number[][][];
    const xs = x.arraySync() as number[][][];
    const zs = z.arraySync() as number[][][];
    for (let b = 0; b < B; b++) {
      for (let w = 0; w <= S - L; w++) {
        assertClose(o[b][w], handPredict(p, xs[b], w + L - 1, zs[b]), 1e-5, `row ${b}, window ${w}`);
      }
    }
    // the cross-node term is not negligible here (else the check above would not test it)
    const noEdges = tf.zerosLike(z) as tf.Tensor3D;
    const own = model.predictWindows(x, noEdges);
    assert.ok(maxAbsDiff(own.dataSync(), out.dataSync()) > 0.05);
    tf.dispose([out, noEdges, own]);
  });

  it("each edge's own lag filter carries its sign: with g and the gains zeroed, flipping w_j->i flips exactly i's cross term", () => {
    const m = tinyModel();
    const L = m.config.lags;
    const p = decoderParams(m);
    assert.ok(p.filters, "edge filters are on by default");
    // only the filters reach across nodes: g's output weights 0
    m.params.get("dec.g.w2").assign(tf.zeros([m.config.edgeHidden, 1]));
    m.params.get("dec.g.b2").assign(tf.zeros([1]));
    const base = m.predictWindows(x, z);
    const own = m.predictWindows(x, tf.zerosLike(z) as tf.Tensor3D);
    const f = m.params.get("dec.filters");
    const flipped = (f.arraySync() as number[][][]).map((lag) => lag.map((row, j) => row.map((v, i) => (j === 0 && i === 2 ? -v : v))));
    f.assign(tf.tensor3d(flipped));
    const after = m.predictWindows(x, z);
    const b = base.arraySync() as number[][][];
    const a = after.arraySync() as number[][][];
    const o = own.arraySync() as number[][][];
    const xs = x.arraySync() as number[][][];
    const zs = z.arraySync() as number[][][];
    for (let r = 0; r < B; r++)
      for (let w = 0; w <= S - L; w++) {
        const t = w + L - 1;
        // node 2's change is -2 z_02 sum_s w_02s x_0(t - s); nodes 0 and 1 do not move
        let term = 0;
        for (let s = 0; s < L; s++) term += zs[r][0][2] * p.filters![s][0][2] * xs[r][t - s][0];
        assert.ok(Math.abs(a[r][w][2] - b[r][w][2] + 2 * term) < 1e-5, `window ${w}: ${a[r][w][2] - b[r][w][2]} vs ${-2 * term}`);
        assert.ok(Math.abs(a[r][w][0] - b[r][w][0]) < 1e-6 && Math.abs(a[r][w][1] - b[r][w][1]) < 1e-6);
        // and the cross term is the filter sum alone
        let cross = 0;
        for (let j = 0; j < 2; j++) for (let s = 0; s < L; s++) cross += zs[r][j][2] * p.filters![s][j][2] * xs[r][t - s][j];
        assert.ok(Math.abs(b[r][w][2] - o[r][w][2] - cross) < 1e-5);
      }
    tf.dispose([base, own, after]);
    m.dispose();
  });

  it("with edgeFilters false the decoder is the paper's: no filter parameters, and the shared g alone reaches across nodes", () => {
    const m = tinyModel({ edgeFilters: false });
    assert.ok(!m.params.names().includes("dec.filters"));
    const p = decoderParams(m);
    const out = m.predictWindows(x, z).arraySync() as number[][][];
    const xs = x.arraySync() as number[][][];
    const zs = z.arraySync() as number[][][];
    assertClose(out[0][0], handPredict(p, xs[0], m.config.lags - 1, zs[0]), 1e-5, "first window");
    m.dispose();
  });

  it("with z = 0 each node's prediction depends on its own past only (exactly)", () => {
    const noEdges = tf.zeros([B, N, N]) as tf.Tensor3D;
    const base = model.predictWindows(x, noEdges).dataSync();
    for (let j = 0; j < N; j++) {
      const xd = Float32Array.from(x.dataSync());
      for (let k = j; k < xd.length; k += N) xd[k] += 0.9; // every step of node j
      const moved = tf.tidy(() => model.predictWindows(tf.tensor3d(xd, x.shape), noEdges).dataSync());
      for (let k = 0; k < base.length; k++) {
        if (k % N === j) assert.notEqual(moved[k], base[k]);
        else assert.equal(moved[k], base[k], `node ${k % N} responded to node ${j}`);
      }
    }
    noEdges.dispose();
  });

  it("lossTerms without a seed: Gaussian NLL of the one-step predictions with the edge probabilities, plus lambda x KL to Bernoulli(p)", () => {
    const T = model.config.encoderSteps;
    const L = model.config.lags;
    const series = randn([B, T, N], 13) as tf.Tensor3D;
    const enc = randn([B, T, N], 14) as tf.Tensor3D;
    const terms = model.lossTerms(series, enc);
    // Independent expectation: the one-step predictions come from handPredict (the decoder's
    // equation in plain JS with the model's parameters), not from predictWindows or lossTerms; the
    // edge weights are the encoder's probabilities (graphMatrices, tested on their own below).
    const probs = model.graphMatrices(enc);
    const P = probs.arraySync() as number[][][];
    const xs = series.arraySync() as number[][][];
    const p = decoderParams(model);
    const c = model.config;
    let sumSq = 0;
    for (let b = 0; b < B; b++)
      for (let t = L - 1; t < T - 1; t++) {
        const pred = handPredict(p, xs[b], t, P[b]); // of x(t + 1), from x(.. t)
        for (let i = 0; i < N; i++) sumSq += (pred[i] - xs[b][t + 1][i]) ** 2;
      }
    const nll = sumSq / (2 * c.nllVariance * B);
    const mse = sumSq / (B * (T - L) * N);
    let kl = 0;
    for (let b = 0; b < B; b++)
      for (let j = 0; j < N; j++)
        for (let i = 0; i < N; i++) {
          if (i === j) continue;
          const q = P[b][j][i];
          kl += q * Math.log(q / c.priorDensity) + (1 - q) * Math.log((1 - q) / (1 - c.priorDensity));
        }
    kl /= B;
    const got = { total: terms.total.dataSync()[0], nll: terms.nll.dataSync()[0], kl: terms.kl.dataSync()[0], mse: terms.mse.dataSync()[0] };
    assertClose([got.nll, got.kl, got.mse, got.total], [nll, kl, mse, nll + c.lambda * kl], 1e-4, "nll, kl, mse, total");
    // the encoder input decides the graph: the same series with another encoder input scores differently
    const other = model.lossTerms(series, series);
    assert.ok(Math.abs(other.nll.dataSync()[0] - got.nll) > 1e-4 * got.nll);
    // the batch form reads x and enc from arrays, with the same result (Gumbel noise from the seed)
    const batch = { x: { data: Float32Array.from(series.dataSync()), shape: [B, T, N] }, enc: { data: Float32Array.from(enc.dataSync()), shape: [B, T, N] } };
    const sampled = model.lossTerms(series, enc, 7);
    const fromBatch = model.loss(batch, 7);
    assert.equal(fromBatch.total.dataSync()[0], sampled.total.dataSync()[0]);
    // training samples the edges: another seed, another loss; the same seed, the same loss
    const again = model.lossTerms(series, enc, 7);
    const seed8 = model.lossTerms(series, enc, 8);
    assert.equal(again.total.dataSync()[0], sampled.total.dataSync()[0]);
    assert.notEqual(seed8.total.dataSync()[0], sampled.total.dataSync()[0]);
    assert.notEqual(sampled.nll.dataSync()[0], got.nll);
    tf.dispose([series, enc, probs, ...[terms, other, sampled, fromBatch, again, seed8].flatMap((t) => [t.total, t.nll, t.kl, t.mse])]);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Edge probabilities
// ---------------------------------------------------------------------------------------------

describe("DiceStage1: edge probabilities", () => {
  it("graphMatrices gives P(j -> i) at [j][i], a zero diagonal, and the shared edge bias shifts one edge's logit in every unit", () => {
    const model = tinyModel();
    const N = 3;
    const enc = randn([4, 8, N], 21) as tf.Tensor3D;
    const g0 = model.graphMatrices(enc);
    assert.deepEqual(g0.shape, [4, N, N]);
    const P0 = g0.arraySync() as number[][][];
    const l = model.edgeLogits(enc).arraySync() as number[][][];
    for (let b = 0; b < 4; b++)
      for (let j = 0; j < N; j++)
        for (let i = 0; i < N; i++) {
          if (i === j) {
            assert.equal(P0[b][j][i], 0);
            continue;
          }
          const e = edgeOf(j, i, N);
          assert.ok(Math.abs(P0[b][j][i] - sigmoid(l[b][e][1] - l[b][e][0])) < 1e-6);
          assert.ok(P0[b][j][i] > 0 && P0[b][j][i] < 1);
        }
    // units read differently get different graphs
    assert.ok(maxAbsDiff(P0[0].flat(), P0[1].flat()) > 1e-4);
    // +2 on the shared bias of edge 2 -> 0
    const bias = new Float32Array(N * (N - 1));
    bias[edgeOf(2, 0, N)] = 2;
    model.params.get("enc.edgeBias").assign(tf.tensor1d(bias));
    const P1 = model.graphMatrices(enc).arraySync() as number[][][];
    for (let b = 0; b < 4; b++)
      for (let j = 0; j < N; j++)
        for (let i = 0; i < N; i++) {
          if (i === j) continue;
          const e = edgeOf(j, i, N);
          const expected = sigmoid(l[b][e][1] - l[b][e][0] + (j === 2 && i === 0 ? 2 : 0));
          assert.ok(Math.abs(P1[b][j][i] - expected) < 1e-5, `unit ${b}, ${j} -> ${i}: ${P1[b][j][i]} vs ${expected}`);
        }
    // without the shared bias there is no such parameter
    const plain = tinyModel({ edgeBias: false });
    assert.ok(!plain.params.names().includes("enc.edgeBias"));
    assert.ok(model.params.names().includes("enc.edgeBias"));
    tf.dispose([enc, g0]);
    model.dispose();
    plain.dispose();
  });

  it("withoutDiagonal zeroes the diagonal and keeps every other entry", () => {
    const model = tinyModel();
    const g = randn([2, 3, 3], 22) as tf.Tensor3D;
    const out = model.withoutDiagonal(g).arraySync() as number[][][];
    const src = g.arraySync() as number[][][];
    src.forEach((m, b) => m.forEach((row, j) => row.forEach((v, i) => assert.equal(out[b][j][i], i === j ? 0 : Math.fround(v)))));
    g.dispose();
    model.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// 3. The restricted decoder as a Forecaster
// ---------------------------------------------------------------------------------------------

describe("DiceStage1: forecaster()", () => {
  const N = 3;
  const B = 2;
  const T = 12;
  const T0 = 6;
  const H = T - T0;
  let model: DiceStage1;
  let x: tf.Tensor3D;
  let graph: tf.Tensor3D;
  before(() => {
    model = tinyModel({ lags: 3 });
    // keep the rollout bounded: small AR and gains
    model.params.get("dec.ar").assign(
      tf.tensor2d([
        [0.5, -0.2, 0.1],
        [0.3, 0.2, -0.1],
        [0.4, 0, 0.2],
      ]),
    );
    model.params.get("dec.gain").assign(tf.tensor1d([0.8, -0.6, 0.7]));
    x = randn([B, T, N], 31) as tf.Tensor3D;
    graph = tf.tidy(() => tf.sigmoid(randn([B, N, N], 32, 2))) as tf.Tensor3D; // diagonal not zero on purpose
  });
  after(() => {
    model.dispose();
    tf.dispose([x, graph]);
  });

  it("predictOneStep: the window predictions with the supplied graph (diagonal dropped), zeros before L - 1", () => {
    const f = model.forecaster();
    const L = model.config.lags;
    assert.equal(f.minHistory, L);
    assert.equal(f.nodes, N);
    assert.equal(f.acceptsGraph, true);
    const one = f.predictOneStep(x, { graph });
    assert.deepEqual(one.shape, [B, T, N]);
    const zd = model.withoutDiagonal(graph);
    const win = model.predictWindows(x, zd);
    const o = one.arraySync() as number[][][];
    const w = win.arraySync() as number[][][];
    const p = decoderParams(model);
    const xs = x.arraySync() as number[][][];
    const zs = zd.arraySync() as number[][][];
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        if (t < L - 1) assert.deepEqual(o[b][t], [0, 0, 0]);
        else {
          assert.deepEqual(o[b][t], w[b][t - L + 1]);
          assertClose(o[b][t], handPredict(p, xs[b], t, zs[b]), 1e-5, `row ${b}, step ${t}`);
        }
      }
    }
    // a shared [N, N] graph is the same as it tiled over the rows
    const g0 = tf.tidy(() => graph.slice([0, 0, 0], [1, N, N]).reshape([N, N])) as tf.Tensor2D;
    const tiled = tf.tidy(() => g0.expandDims(0).tile([B, 1, 1])) as tf.Tensor3D;
    assert.deepEqual(f.predictOneStep(x, { graph: g0 }).dataSync(), f.predictOneStep(x, { graph: tiled }).dataSync());
    assert.throws(() => f.predictOneStep(x), /pass inputs.graph/);
    assert.throws(() => f.rollout(x, 2, { graph: tf.zeros([3, N, N]) as tf.Tensor3D }), /3 graphs for 2 rows/);
    tf.dispose([one, zd, win, g0, tiled]);
  });

  it("rollout feeds its own predictions back: equal to a loop of one-step predictions", () => {
    const f = model.forecaster();
    const history = x.slice([0, 0, 0], [B, T0, N]) as tf.Tensor3D;
    const roll = f.rollout(history, H, { graph });
    assert.deepEqual(roll.shape, [B, H, N]);
    let hist = history.clone();
    const manual: tf.Tensor[] = [];
    for (let k = 0; k < H; k++) {
      const one = f.predictOneStep(hist, { graph });
      const next = one.slice([0, hist.shape[1] - 1, 0], [B, 1, N]);
      manual.push(next);
      const grown = tf.concat([hist, next], 1) as tf.Tensor3D;
      tf.dispose([hist, one]);
      hist = grown;
    }
    const loop = tf.concat(manual, 1);
    assertClose(roll.dataSync(), loop.dataSync(), 1e-5, "rollout vs loop");
    // the first step is teacher forcing's; later ones are not (the true values were not used)
    const forced = tf.tidy(() => f.predictOneStep(x, { graph }).slice([0, T0 - 1, 0], [B, H, N]));
    const r = roll.arraySync() as number[][][];
    const fc = forced.arraySync() as number[][][];
    for (let b = 0; b < B; b++) assert.deepEqual(r[b][0], fc[b][0]);
    assert.ok(maxAbsDiff(roll.slice([0, 1, 0], [B, H - 1, N]).dataSync(), forced.slice([0, 1, 0], [B, H - 1, N]).dataSync()) > 1e-3);
    // only the last L steps of the history matter
    const longer = tf.tidy(() => tf.concat([randn([B, 5, N], 33), history], 1)) as tf.Tensor3D;
    assert.deepEqual(f.rollout(longer, H, { graph }).dataSync(), roll.dataSync());
    assert.throws(() => f.rollout(history.slice([0, 0, 0], [B, 2, N]) as tf.Tensor3D, 3, { graph }), /at least 3 steps of history, got 2/);
    tf.dispose([history, roll, hist, loop, forced, longer, ...manual]);
  });

  it("the rollout feed: mask 1 feeds the supplied value as the next input, 0 the prediction; [B, H, N] and [1, 1, N] masks", () => {
    const f = model.forecaster();
    const history = x.slice([0, 0, 0], [B, T0, N]) as tf.Tensor3D;
    const future = x.slice([0, T0, 0], [B, H, N]) as tf.Tensor3D;
    const own = f.rollout(history, H, { graph });
    const forced = tf.tidy(() => f.predictOneStep(x, { graph }).slice([0, T0 - 1, 0], [B, H, N]));
    const ones = tf.ones([B, H, N]);
    const all = f.rollout(history, H, { graph, feed: { values: future, mask: ones } });
    assertClose(all.dataSync(), forced.dataSync(), 1e-5, "feed everything = teacher forcing");
    const zeros = tf.zeros([1, 1, N]);
    const none = f.rollout(history, H, { graph, feed: { values: future, mask: zeros } });
    assert.deepEqual(none.dataSync(), own.dataSync());
    // node 1 fed everywhere ([1, 1, N]); node 0 fed at step 2 of row 1 only ([B, H, N])
    const fv = future.arraySync() as number[][][];
    const cases: { mask: tf.Tensor; fed: (b: number, k: number, i: number) => boolean }[] = [
      { mask: tf.tensor3d([[[0, 1, 0]]]), fed: (_b, _k, i) => i === 1 },
      {
        mask: tf.tidy(() => {
          const m = new Float32Array(B * H * N);
          m[(1 * H + 2) * N + 0] = 1;
          return tf.tensor3d(m, [B, H, N]);
        }),
        fed: (b, k, i) => b === 1 && k === 2 && i === 0,
      },
    ];
    for (const [c, { mask, fed }] of cases.entries()) {
      const some = f.rollout(history, H, { graph, feed: { values: future, mask } });
      let hist = history.clone();
      const manual: tf.Tensor[] = [];
      for (let k = 0; k < H; k++) {
        const one = f.predictOneStep(hist, { graph });
        const next = one.slice([0, hist.shape[1] - 1, 0], [B, 1, N]);
        manual.push(next);
        const nv = next.arraySync() as number[][][];
        for (let b = 0; b < B; b++) for (let i = 0; i < N; i++) if (fed(b, k, i)) nv[b][0][i] = fv[b][k][i];
        const input = tf.tensor3d(nv);
        const grown = tf.concat([hist, input], 1) as tf.Tensor3D;
        tf.dispose([hist, one, input]);
        hist = grown;
      }
      const loop = tf.concat(manual, 1);
      assertClose(some.dataSync(), loop.dataSync(), 1e-5, `mask ${c}`);
      assert.ok(maxAbsDiff(some.dataSync(), own.dataSync()) > 1e-4, `mask ${c} changed nothing`);
      tf.dispose([mask, some, hist, loop, ...manual]);
    }
    tf.dispose([history, future, own, forced, ones, all, zeros, none]);
  });

  it("does not leak tensors", () => {
    const f = model.forecaster();
    const enc = x.slice([0, 0, 0], [B, 8, N]) as tf.Tensor3D;
    const n0 = tf.memory().numTensors;
    const terms = model.lossTerms(x, enc, 3);
    const out = [f.predictOneStep(x, { graph }), f.rollout(x, 4, { graph }), model.graphMatrices(enc), terms.total, terms.nll, terms.kl, terms.mse];
    assert.equal(tf.memory().numTensors, n0 + out.length, "only the results remain");
    tf.dispose(out);
    assert.equal(tf.memory().numTensors, n0);
    enc.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// 4. rolloutFromWindows and the configuration
// ---------------------------------------------------------------------------------------------

describe("rolloutFromWindows", () => {
  it("slides a window of the last L inputs: L = 2 with 'sum of the window' gives Fibonacci, L = 1 with 'double' powers of 2", () => {
    const sum = (w: tf.Tensor3D) => w.sum(1, true) as tf.Tensor3D;
    const x = tf.tensor3d([
      [
        [5, 1],
        [1, 1],
      ],
    ]); // [1, 2, 2]: node 0 starts 5, 1; node 1 starts 1, 1
    const fib = rolloutFromWindows(sum, x, { horizon: 6, lags: 2 }).arraySync() as number[][][];
    assert.deepEqual(
      fib[0].map((r) => r[1]),
      [2, 3, 5, 8, 13, 21],
    );
    assert.deepEqual(
      fib[0].map((r) => r[0]),
      [6, 7, 13, 20, 33, 53],
    );
    const tri = rolloutFromWindows(sum, tf.tensor3d([[[0], [0], [1]]]), { horizon: 5, lags: 3 }).arraySync() as number[][][];
    assert.deepEqual(
      tri[0].map((r) => r[0]),
      [1, 2, 4, 7, 13],
    );
    const dbl = rolloutFromWindows((w) => w.mul(2) as tf.Tensor3D, tf.tensor3d([[[1], [3]]]), { horizon: 4, lags: 1 }).arraySync() as number[][][];
    assert.deepEqual(
      dbl[0].map((r) => r[0]),
      [6, 12, 24, 48],
    );
    // a feed replaces the prediction as the next input (the prediction is still returned)
    const feed = { values: tf.tensor3d([[[0], [10], [0], [0]]]), mask: tf.tensor3d([[[0], [1], [0], [0]]]) };
    const fed = rolloutFromWindows(sum, tf.tensor3d([[[1], [1]]]), { horizon: 4, lags: 2, feed }).arraySync() as number[][][];
    // predictions: 2 (from 1, 1), 3 (from 1, 2), then the input 10 replaces 3: 12 (2 + 10), 22 (10 + 12)
    assert.deepEqual(
      fed[0].map((r) => r[0]),
      [2, 3, 12, 22],
    );
    assert.throws(() => rolloutFromWindows(sum, x, { horizon: 3, lags: 3 }), /at least 3 steps of history, got 2/);
  });
});

describe("DiceStage1: configuration", () => {
  it("rejects too few nodes, bad lags and an encoder window not longer than the lags; defaults are sparse", () => {
    assert.throws(() => new DiceStage1({ nodes: 1, encoderSteps: 10 }), /at least 2 nodes, got 1/);
    assert.throws(() => new DiceStage1({ nodes: 3, encoderSteps: 10, lags: 0 }), /lags must be a positive integer, got 0/);
    assert.throws(() => new DiceStage1({ nodes: 3, encoderSteps: 3, lags: 3 }), /encoder window \(3 steps\) must be longer than the lags \(3\)/);
    assert.throws(() => new DiceStage1({ nodes: 3, encoderSteps: 10, priorDensity: 0 }), /prior density must be in \(0, 1\)/);
    const m = new DiceStage1({ nodes: 4, encoderSteps: 10 });
    assert.ok(m.config.priorDensity < 0.5, "the edge prior is sparse, not uniform");
    assert.deepEqual(m.decoderNames().sort(), ["dec.ar", "dec.bias", "dec.filters", "dec.g.b1", "dec.g.b2", "dec.g.w1", "dec.g.w2", "dec.gain"]);
    // the per-edge filters start at 0: at initialisation the decoder is the paper's shared-g decoder
    assert.ok((m.params.get("dec.filters").dataSync() as Float32Array).every((v) => v === 0));
    assert.ok(m.trainableNames().some((n) => n.startsWith("enc.")));
    // the decoder starts as a plain AR(1) of coefficient 0.5
    assert.deepEqual(m.params.get("dec.ar").arraySync(), [
      [0.5, 0, 0],
      [0.5, 0, 0],
      [0.5, 0, 0],
      [0.5, 0, 0],
    ]);
    m.dispose();
  });
});
