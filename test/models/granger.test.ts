import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { DataError } from "../../lib/data/errors";
import type { Panel } from "../../lib/data/panel";
import { scoreGraph } from "../../lib/diagnostics/ranking";
import type { Graph } from "../../lib/graph";
import { fitGranger, GRANGER_DEFAULTS, GrangerVar } from "../../lib/models/granger";
import { Rng } from "../../lib/rng";
import { tf } from "../../lib/tf";
import { channelPanel } from "../diagnostics/helpers";

// ---------------------------------------------------------------------------------------------
// Test data: a stable sparse linear VAR
// ---------------------------------------------------------------------------------------------

interface VarSpec {
  /** coef[i][j][s - 1]: weight of x_j(t - s) in x_i(t). */
  coef: number[][][];
  graph: Graph;
}

/** A random sparse VAR: `edges` distinct j -> i pairs (|w| in [0.2, 0.4], lag 1, every third at lag 2), own AR in [0.3, 0.5]. */
function randomVar(rng: Rng, N: number, edges: number, lags = 2): VarSpec {
  for (let attempt = 0; attempt < 100; attempt++) {
    const coef = Array.from({ length: N }, () => Array.from({ length: N }, () => new Array<number>(lags).fill(0)));
    const graph: Graph = Array.from({ length: N }, () => new Array<number>(N).fill(0));
    for (let i = 0; i < N; i++) coef[i][i][0] = rng.range(0.3, 0.5);
    const pairs: [number, number][] = [];
    for (let j = 0; j < N; j++) for (let i = 0; i < N; i++) if (i !== j) pairs.push([j, i]);
    rng.shuffle(pairs);
    pairs.slice(0, edges).forEach(([j, i], k) => {
      graph[j][i] = 1;
      coef[i][j][k % 3 === 2 ? 1 : 0] = (rng.bernoulli(0.5) ? 1 : -1) * rng.range(0.2, 0.4);
    });
    if (isStable(coef, N, lags, rng)) return { coef, graph };
  }
  throw new Error("no stable VAR found");
}

/** Noise-free iteration from a random start decays: spectral radius below 1. */
function isStable(coef: number[][][], N: number, L: number, rng: Rng): boolean {
  let hist = Array.from({ length: L }, () => Array.from({ length: N }, () => rng.normal()));
  for (let t = 0; t < 400; t++) hist = [...hist.slice(1), varStep(coef, hist, N, L)];
  return hist.every((row) => row.every((v) => Math.abs(v) < 1e-6));
}

/** x(t) from hist (hist[L - s] = x(t - s)). */
function varStep(coef: number[][][], hist: number[][], N: number, L: number): number[] {
  return Array.from({ length: N }, (_, i) => {
    let s = 0;
    for (let j = 0; j < N; j++) for (let a = 0; a < L; a++) s += coef[i][j][a] * hist[L - 1 - a][j];
    return s;
  });
}

/** Simulates the VAR for every unit (burn-in discarded), Gaussian noise of SD `noise`, plus an offset and scale per node. */
function simulate(spec: VarSpec, rng: Rng, units: number, steps: number, noise = 1, burn = 50): Panel {
  const N = spec.graph.length;
  const L = spec.coef[0][0].length;
  const values = new Float32Array(units * steps * N);
  const offset = Array.from({ length: N }, (_, i) => 10 * i);
  const scale = Array.from({ length: N }, (_, i) => 1 + i);
  for (let u = 0; u < units; u++) {
    let hist = Array.from({ length: L }, () => Array.from({ length: N }, () => rng.normal()));
    for (let t = -burn; t < steps; t++) {
      const x = varStep(spec.coef, hist, N, L).map((v) => v + noise * rng.normal());
      hist = [...hist.slice(1), x];
      if (t >= 0) for (let i = 0; i < N; i++) values[(u * steps + t) * N + i] = offset[i] + scale[i] * x[i];
    }
  }
  return channelPanel(values, units, steps, N, spec.graph, "granger-test-var");
}

function falseEdges(support: Graph, truth: Graph): number {
  let k = 0;
  support.forEach((row, j) => row.forEach((v, i) => (k += i !== j && v && !truth[j][i] ? 1 : 0)));
  return k;
}

function trueEdgesFound(support: Graph, truth: Graph): number {
  let k = 0;
  support.forEach((row, j) => row.forEach((v, i) => (k += i !== j && v && truth[j][i] ? 1 : 0)));
  return k;
}

/** Solves A x = b by Gaussian elimination with partial pivoting (the test's own reference). */
function gaussSolve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const m = A.map((r, k) => [...r, b[k]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}

function closeArrays(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let k = 0; k < expected.length; k++) {
    const d = Math.abs(actual[k] - expected[k]);
    assert.ok(d <= tol * Math.max(1, Math.abs(expected[k])), `${what}[${k}]: ${actual[k]} vs ${expected[k]} (diff ${d})`);
  }
}

// ---------------------------------------------------------------------------------------------

const rng = new Rng(20261124);
const spec = randomVar(rng, 8, 12);
const panel = simulate(spec, rng, 30, 200);

describe("fitGranger: graph recovery on linear VAR data", () => {
  it("the default fit (BIC) ranks the true edges first (AUROC >= 0.95) with few false edges", (t) => {
    const res = fitGranger(panel);
    const m = scoreGraph(res.scores, spec.graph);
    const path = res.selection.path.map((p) => `${p.fraction}: bic ${p.bic!.toFixed(0)}, ${p.edges} edges`).join("; ");
    t.diagnostic(
      `AUROC ${m.auroc.toFixed(4)}, AP ${m.ap.toFixed(4)}, fit ${res.fitMs.toFixed(0)} ms, lambda ${res.lambda.toExponential(3)} ` +
        `(${res.selection.path[res.selection.selected].fraction} x lambda_max), path: ${path}`,
    );
    assert.ok(m.auroc >= 0.95, `AUROC ${m.auroc}`);
    assert.equal(res.selection.method, "bic");
    assert.equal(res.selection.atPathEnd, res.selection.selected === 0 || res.selection.selected === res.selection.path.length - 1);
    assert.equal(res.selection.path.length, GRANGER_DEFAULTS.lambdaPath.length);
    assert.equal(res.selection.validationRows, 0);
    assert.ok(res.selection.path.every((p) => Number.isFinite(p.bic)));
    assert.ok(res.converged);
    const fe = falseEdges(res.support, spec.graph);
    t.diagnostic(`selected support: ${trueEdgesFound(res.support, spec.graph)}/12 true edges, ${fe} false edges`);
    assert.ok(fe <= 3, `${fe} false edges`);
    assert.ok(trueEdgesFound(res.support, spec.graph) >= 10);
    // Shape of the result.
    assert.equal(res.scores.length, 8);
    res.scores.forEach((row, j) => {
      assert.equal(row[j], 0);
      row.forEach((v) => assert.ok(v >= 0 && Number.isFinite(v)));
    });
    assert.equal(res.coefficients.length, 8);
    assert.equal(res.coefficients[0][0].length, GRANGER_DEFAULTS.lags);
    assert.equal(res.rows, 30 * (200 - GRANGER_DEFAULTS.lags));
    // Scores are the norms of the sender blocks.
    assert.ok(Math.abs(res.scores[2][5] - Math.hypot(...res.coefficients[5][2])) < 1e-12);
  });

  it("validation selection ranks as well, holds out the last steps, and keeps more edges than BIC", (t) => {
    const res = fitGranger(panel, { selection: "validation" });
    const m = scoreGraph(res.scores, spec.graph);
    const fe = falseEdges(res.support, spec.graph);
    const path = res.selection.path.map((p) => `${p.fraction}: mse ${p.validationMse!.toFixed(4)}, ${p.edges} edges`).join("; ");
    t.diagnostic(
      `validation: AUROC ${m.auroc.toFixed(4)}, ${trueEdgesFound(res.support, spec.graph)}/12 true, ${fe} false edges, fit ${res.fitMs.toFixed(0)} ` +
        `ms, path: ${path}`,
    );
    assert.ok(m.auroc >= 0.95, `AUROC ${m.auroc}`);
    assert.equal(res.selection.method, "validation");
    assert.equal(res.selection.validationRows, 30 * 40);
    assert.equal(res.selection.estimationRows, 30 * (160 - GRANGER_DEFAULTS.lags));
    assert.ok(res.selection.refit);
    assert.equal(res.rows, 30 * (200 - GRANGER_DEFAULTS.lags));
    const mses = res.selection.path.map((p) => p.validationMse!);
    assert.equal(Math.min(...mses), mses[res.selection.selected]);
    assert.ok(edgeTotal(res.support) >= edgeTotal(fitGranger(panel).support));
  });

  it("per-unit fits share one lambda and average the unit scores", (t) => {
    const units = [0, 1, 2, 3, 4, 5];
    const res = fitGranger(panel, { scope: "unit", units, lags: 2 });
    assert.equal(res.unitFits!.length, units.length);
    assert.deepEqual(
      res.unitFits!.map((f) => f.unitId),
      units.map((u) => `u${u}`),
    );
    const mean = res.unitFits!.reduce((s, f) => s + f.scores[3][1], 0) / units.length;
    assert.ok(Math.abs(res.scores[3][1] - mean) < 1e-12);
    const m = scoreGraph(res.scores, spec.graph);
    const perUnit = res.unitFits!.map((f) => scoreGraph(f.scores, spec.graph).auroc);
    t.diagnostic(`per-unit: mean-score AUROC ${m.auroc.toFixed(4)}, unit AUROCs ${perUnit.map((a) => a.toFixed(3)).join(", ")}`);
    assert.ok(m.auroc >= 0.9, `AUROC ${m.auroc}`);
    assert.equal(res.rows, units.length * 198);
  });

  it("lambda_max is the smallest lambda with every sender group zero; the path thins the graph", () => {
    const small = fitGranger(panel, { units: [0, 1, 2, 3, 4], lags: 2 });
    const lmax = small.selection.lambdaMax;
    assert.ok(lmax > 0);
    const above = fitGranger(panel, { units: [0, 1, 2, 3, 4], lags: 2, lambda: lmax * 1.001 });
    assert.equal(edgeTotal(above.support), 0);
    for (let i = 0; i < 8; i++) assert.ok(Math.hypot(...above.coefficients[i][i]) > 0.1, "own lags are unpenalised");
    const below = fitGranger(panel, { units: [0, 1, 2, 3, 4], lags: 2, lambda: lmax * 0.95 });
    assert.ok(edgeTotal(below.support) >= 1);
    const edges = small.selection.path.map((p) => p.edges);
    for (let k = 1; k < edges.length; k++) assert.ok(edges[k] >= edges[k - 1], `edges along the path ${edges}`);
  });
});

function edgeTotal(g: Graph): number {
  return g.reduce((s, row, j) => s + row.reduce((a, v, i) => a + (i !== j && v ? 1 : 0), 0), 0);
}

describe("fitGranger: lambda = 0 is ordinary least squares", () => {
  it("matches a direct normal-equation solve with intercept on a tiny panel", () => {
    const r = new Rng(7);
    const N = 3;
    const L = 2;
    const R = 2;
    const T = 30;
    const values = new Float32Array(R * T * N);
    for (let k = 0; k < values.length; k++) values[k] = (k % N) * 3 + r.normal() * (1 + (k % N));
    const tiny = channelPanel(values, R, T, N, undefined, "granger-test-var");
    const res = fitGranger(tiny, { lags: L, lambda: 0 });
    assert.equal(res.selection.method, "fixed");
    assert.ok(res.converged);
    // Standardise with the result's scaler (checked against a direct computation), build X.
    for (let i = 0; i < N; i++) {
      const xs: number[] = [];
      for (let u = 0; u < R; u++) for (let t = 0; t < T; t++) xs.push(values[(u * T + t) * N + i]);
      const mu = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mu) ** 2, 0) / xs.length);
      assert.ok(Math.abs(res.scaler.mean[i] - mu) < 1e-9 && Math.abs(res.scaler.sd[i] - sd) < 1e-9);
    }
    const z = (u: number, t: number, i: number) => (values[(u * T + t) * N + i] - res.scaler.mean[i]) / res.scaler.sd[i];
    const X: number[][] = [];
    const Y: number[][] = [];
    for (let u = 0; u < R; u++) {
      for (let t = L; t < T; t++) {
        const row = [1];
        for (let j = 0; j < N; j++) for (let s = 1; s <= L; s++) row.push(z(u, t - s, j));
        X.push(row);
        Y.push(Array.from({ length: N }, (_, i) => z(u, t, i)));
      }
    }
    assert.equal(res.rows, X.length);
    const K = X[0].length;
    const XtX = Array.from({ length: K }, (_, a) => Array.from({ length: K }, (_, b) => X.reduce((s, row) => s + row[a] * row[b], 0)));
    for (let i = 0; i < N; i++) {
      const Xty = Array.from({ length: K }, (_, a) => X.reduce((s, row, k) => s + row[a] * Y[k][i], 0));
      const ols = gaussSolve(XtX, Xty);
      const fitted = [res.intercepts[i], ...res.coefficients[i].flat()];
      closeArrays(fitted, ols, 1e-7, `receiver ${i}`);
    }
  });
});

describe("GrangerVar: the fitted VAR as a Forecaster", () => {
  before(async () => {
    await initBackend(undefined, null);
  });

  // Tiny 2-node, 2-lag system with a non-trivial scaler.
  const params = {
    coefficients: [
      [
        [0.5, -0.2],
        [0.3, 0.1],
      ], // receiver 0: own lags 0.5, -0.2; from node 1: 0.3, 0.1
      [
        [-0.4, 0.0],
        [0.2, 0.25],
      ], // receiver 1
    ],
    intercepts: [0.1, -0.3],
    mean: [2, -1],
    sd: [0.5, 4],
  };
  const hand = (hist: number[][]): number[] => {
    // hist[0] = x(t), hist[1] = x(t - 1) on the raw scale -> x(t + 1).
    const zs = hist.map((x) => x.map((v, i) => (v - params.mean[i]) / params.sd[i]));
    return [0, 1].map((i) => {
      let s = params.intercepts[i];
      for (let j = 0; j < 2; j++) for (let a = 0; a < 2; a++) s += params.coefficients[i][j][a] * zs[a][j];
      return s * params.sd[i] + params.mean[i];
    });
  };
  const series = [
    [2.3, 1.0],
    [1.6, -3.0],
    [2.9, 5.5],
    [1.2, -0.5],
  ];

  it("has the Forecaster fields", () => {
    const v = new GrangerVar(params);
    assert.equal(v.nodes, 2);
    assert.equal(v.lags, 2);
    assert.equal(v.minHistory, 2);
    assert.equal(v.acceptsGraph, false);
  });

  it("one-step predictions equal the hand computation", () => {
    const v = new GrangerVar(params);
    const x = tf.tensor3d([series]);
    const y = v.predictOneStep(x);
    assert.deepEqual(y.shape, [1, 4, 2]);
    const out = y.arraySync()[0];
    for (let t = 1; t < 4; t++) closeArrays(out[t], hand([series[t], series[t - 1]]), 1e-5, `t = ${t}`);
    // Row 0 (not scored) takes the missing lag at the node means.
    closeArrays(out[0], hand([series[0], params.mean]), 1e-5, "t = 0");
    // A graph is ignored.
    const withGraph = v.predictOneStep(x, { graph: tf.zeros([2, 2]) as tf.Tensor2D });
    closeArrays(withGraph.arraySync()[0].flat(), out.flat(), 0, "graph ignored");
    tf.dispose([x, y, withGraph]);
  });

  it("rollout feeds its own predictions after the origin", () => {
    const v = new GrangerVar(params);
    const x = tf.tensor3d([series.slice(0, 3)]);
    const out = v.rollout(x, 3);
    assert.deepEqual(out.shape, [1, 3, 2]);
    const r = out.arraySync()[0];
    const p0 = hand([series[2], series[1]]);
    const p1 = hand([p0, series[2]]);
    const p2 = hand([p1, p0]);
    closeArrays(r[0], p0, 1e-5, "h = 0");
    closeArrays(r[1], p1, 1e-5, "h = 1");
    closeArrays(r[2], p2, 1e-5, "h = 2");
    // A feed of node 1 only (mask [1, 1, 2] broadcast over batch and horizon).
    const fed = [
      [0, 7],
      [0, -2],
      [0, 0],
    ];
    const o2 = v.rollout(x, 3, { feed: { values: tf.tensor3d([fed]), mask: tf.tensor3d([[[0, 1]]]) } });
    const q0 = hand([series[2], series[1]]);
    const q1 = hand([[q0[0], 7], series[2]]);
    const q2 = hand([
      [q1[0], -2],
      [q0[0], 7],
    ]);
    const r2 = o2.arraySync()[0];
    closeArrays(r2[0], q0, 1e-5, "fed h = 0");
    closeArrays(r2[1], q1, 1e-5, "fed h = 1");
    closeArrays(r2[2], q2, 1e-5, "fed h = 2");
    tf.dispose([x, out, o2]);
  });

  it("rollout differs from teacher forcing on noisy data and equals it on noiseless data; a full feed is teacher forcing", () => {
    const r = new Rng(99);
    const s2 = randomVar(r, 4, 4);
    const coef = s2.coef;
    const L = 2;
    const v = new GrangerVar({ coefficients: coef });
    const gen = (noise: number) => {
      let hist = Array.from({ length: L }, () => Array.from({ length: 4 }, () => r.normal()));
      const xs = [...hist];
      for (let t = L; t < 20; t++) {
        const x = varStep(coef, hist, 4, L).map((a) => a + noise * r.normal());
        hist = [...hist.slice(1), x];
        xs.push(x);
      }
      return xs;
    };
    const t0 = 12;
    const H = 6;
    for (const noise of [0.5, 0]) {
      const xs = gen(noise);
      const full = tf.tensor3d([xs]);
      const tfPred = v
        .predictOneStep(full)
        .arraySync()[0]
        .slice(t0 - 1, t0 - 1 + H); // predictions of steps t0 .. t0 + H - 1
      const hist = tf.tensor3d([xs.slice(0, t0)]);
      const roll = v.rollout(hist, H).arraySync()[0];
      closeArrays(roll[0], tfPred[0], 1e-5, "first step is teacher-forced");
      const maxDiff = Math.max(...roll.slice(1).flatMap((row, h) => row.map((a, i) => Math.abs(a - tfPred[h + 1][i]))));
      if (noise > 0) assert.ok(maxDiff > 1e-2, `rollout should differ from teacher forcing, max diff ${maxDiff}`);
      else {
        assert.ok(maxDiff < 1e-5, `noiseless: max diff ${maxDiff}`);
        closeArrays(roll.flat(), xs.slice(t0, t0 + H).flat(), 1e-5, "noiseless rollout reproduces the data");
      }
      // Feeding the observed values everywhere gives teacher forcing.
      const feed = { values: tf.tensor3d([xs.slice(t0, t0 + H)]), mask: tf.ones([1, H, 4]) };
      const fedRoll = v.rollout(hist, H, { feed }).arraySync()[0];
      closeArrays(fedRoll.flat(), tfPred.flat(), 1e-5, "full feed");
      tf.dispose([full, hist, feed.values, feed.mask]);
    }
  });

  it("fromResult forecasts on the panel's raw scale with the fitted coefficients", () => {
    const res = fitGranger(panel, { units: [0, 1, 2], lags: 2 });
    const v = GrangerVar.fromResult(res);
    const u = 1;
    const raw = Array.from({ length: 200 }, (_, t) => Array.from(panel.values.subarray((u * 200 + t) * 8, (u * 200 + t + 1) * 8)));
    const x = tf.tensor3d([raw.slice(0, 50)]);
    const pred = v.predictOneStep(x).arraySync()[0];
    for (const t of [1, 20, 48]) {
      const z = (tt: number, j: number) => (raw[tt][j] - res.scaler.mean[j]) / res.scaler.sd[j];
      const expected = Array.from({ length: 8 }, (_, i) => {
        let s = res.intercepts[i];
        for (let j = 0; j < 8; j++) for (let a = 0; a < 2; a++) s += res.coefficients[i][j][a] * z(t - a, j);
        return s * res.scaler.sd[i] + res.scaler.mean[i];
      });
      closeArrays(pred[t], expected, 1e-4, `t = ${t}`);
    }
    x.dispose();
    assert.throws(() => GrangerVar.fromResult(res, 0), /no per-unit fits/);
  });

  it("leaves no tensors behind but its outputs", () => {
    const v = new GrangerVar(params);
    const x = tf.tensor3d([series]);
    const feed = { values: tf.zeros([1, 3, 2]) as tf.Tensor3D, mask: tf.tensor1d([1, 0]) };
    const before = tf.memory().numTensors;
    const a = v.predictOneStep(x);
    const b = v.rollout(x, 3, { feed });
    assert.equal(tf.memory().numTensors, before + 2);
    tf.dispose([x, a, b, feed.values, feed.mask]);
  });

  it("rejects bad forecaster input clearly", () => {
    const v = new GrangerVar(params);
    const short = tf.tensor3d([[[1, 2]]]);
    assert.throws(() => v.rollout(short, 3), /needs at least minHistory = 2/);
    const x = tf.tensor3d([series]);
    assert.throws(() => v.rollout(x, 0), /horizon must be an integer >= 1/);
    assert.throws(() => v.predictOneStep(tf.zeros([1, 4, 3]) as tf.Tensor3D), /3 nodes, the VAR has 2/);
    assert.throws(
      () => v.rollout(x, 2, { feed: { values: tf.zeros([1, 3, 2]) as tf.Tensor3D, mask: tf.ones([1, 1, 2]) } }),
      /feed.values must be \[batch, horizon, nodes\]/,
    );
    assert.throws(() => v.rollout(x, 2, { feed: { values: tf.zeros([1, 2, 2]) as tf.Tensor3D, mask: tf.ones([1, 3, 2]) } }), /does not broadcast/);
    assert.throws(() => new GrangerVar({ coefficients: [[[0.1], [0.2]], [[0.3]]] }), /coefficients\[1\] has 1 senders/);
    tf.dispose([short, x]);
  });
});

describe("fitGranger: bad input", () => {
  it("names the unit, step and node of a non-finite value", () => {
    const values = Float32Array.from(panel.values.subarray(0, 4 * 200 * 8));
    values[(2 * 200 + 17) * 8 + 3] = NaN;
    const bad = channelPanel(values, 4, 200, 8, undefined, "granger-test-var");
    assert.throws(
      () => fitGranger(bad),
      (e: unknown) => e instanceof DataError && e.column === "ch3" && /unit "u2" \(index 2\), step 17/.test(e.message),
    );
    // Outside the fitted units or window it does not matter.
    assert.doesNotThrow(() => fitGranger(bad, { units: [0, 1, 3], lags: 1, lambda: 0.01 }));
    assert.doesNotThrow(() => fitGranger(bad, { steps: { from: 18, to: 60 }, lags: 1, lambda: 0.01 }));
  });

  it("says when the window is too short for the lags (and held-out steps)", () => {
    assert.throws(
      () => fitGranger(panel, { steps: { from: 0, to: 3 }, lags: 3, lambda: 0.1 }),
      /\[0, 3\) has 3 steps per unit; L = 3 lags and one target need at least 4/,
    );
    assert.throws(
      () => fitGranger(panel, { steps: { from: 0, to: 4 }, lags: 3, selection: "validation" }),
      /\[0, 4\) has 4 steps per unit; L = 3 lags, one target and 1 held-out validation step need at least 5/,
    );
    assert.doesNotThrow(() => fitGranger(panel, { steps: { from: 0, to: 4 }, lags: 3 }));
    assert.throws(() => fitGranger(panel, { lags: 0 }), /lags must be an integer >= 1/);
    assert.throws(() => fitGranger(panel, { lambda: -1 }), /lambda must be "auto" or a finite number >= 0/);
    assert.throws(() => fitGranger(panel, { units: [0, 99] }), /units must be unit indices/);
  });
});
