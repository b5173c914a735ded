import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { tf } from "../../lib/tf";
import type { Graph } from "../../lib/graph";
import { fullGraph, transitiveClosure } from "../../lib/graph";
import { LinearVarForecaster, linearVar1 } from "../../lib/diagnostics/linear-var";
import { arCig, cig, scoreArCig, scoreInfluence } from "../../lib/diagnostics/influence";
import type { InfluenceMatrix } from "../../lib/diagnostics/influence";
import { analyticArCig, randomSparseVar, simulateVar, supportOf, TinyGru } from "./helpers";
import type { Forecaster } from "../../lib/core/forecaster";
import { GraphSafeDecoder, JointGruDecoder } from "../../lib/models/graph-safe";
import { CausalMMM } from "../../lib/models/causalmmm";

const closeMatrix = (a: number[][], b: number[][], tol: number, what: string) => {
  a.forEach((row, j) => row.forEach((v, i) => assert.ok(Math.abs(v - b[j][i]) <= tol, `${what}[${j}][${i}]: ${v} vs ${b[j][i]}`)));
};
const maxOff = (m: number[][]) => Math.max(...m.flatMap((row, j) => row.filter((_, i) => i !== j).map(Math.abs)));

/** Windows used by most checks: 3 units, test window [30, 40), 10 steps of history, 5 origins. */
const WINDOWS = { window: { from: 30, to: 40 }, history: 10, stride: 2 };

describe("CIG and AR-CIG on linear VARs (known answers)", () => {
  before(async () => {
    await initBackend(undefined, null);
  });

  // A sparse two-lag VAR over 8 nodes; lag-2 edges only where lag-1 edges are.
  const A1 = randomSparseVar(8, 0.35, 7, 0.4);
  const A2 = A1.map((row, j) => row.map((v, i) => (i === j ? 0.1 : v * 0.5)));
  const W = [A1, A2];
  const truth = supportOf(W);
  const data = simulateVar(W, 3, 40, 5);
  const f = new LinearVarForecaster({ weights: W });

  it("the test graph has edges and non-edges", () => {
    const e = truth.flat().filter((v) => v).length;
    assert.ok(e >= 5 && e <= 40, `${e} edges`);
  });

  it("CIG equals |lag-1 coefficients|; nAUPRC = 1 against the model's own graph; no tensor leaks", () => {
    const before = tf.memory().numTensors;
    const m = cig(f, data, WINDOWS);
    assert.equal(tf.memory().numTensors, before, "no tensor leaked");
    assert.equal(m.kind, "cig");
    assert.equal(m.horizon, 1);
    assert.deepEqual(m.origins, [30, 32, 34, 36, 38]);
    assert.deepEqual(m.units, [0, 1, 2]);
    assert.equal(m.perUnit.length, 3);
    closeMatrix(
      m.values,
      A1.map((r) => r.map(Math.abs)),
      1e-4,
      "CIG",
    );
    const s = scoreInfluence(m, truth);
    assert.equal(s.headline.from, "matrix");
    assert.equal(s.headline.nauprc, 1);
    assert.equal(s.headline.auroc, 1);
    assert.equal(s.mean.nauprc, 1);
    assert.equal(s.pooled.nauprc, 1);
  });

  it("direct and total AR-CIG equal the analytic values; direct nAUPRC = 1; no tensor leaks", () => {
    const before = tf.memory().numTensors;
    const r = arCig(f, data, { ...WINDOWS, horizon: 7 });
    assert.equal(tf.memory().numTensors, before, "no tensor leaked");
    const direct = r.direct!;
    const total = r.total!;
    assert.equal(direct.kind, "ar-cig-direct");
    assert.equal(total.kind, "ar-cig-total");
    assert.equal(direct.horizon, 7);
    const scale = Math.max(maxOff(analyticArCig(W, 7, "total")), 1);
    closeMatrix(direct.values, analyticArCig(W, 7, "direct"), 2e-4 * scale, "direct AR-CIG");
    closeMatrix(total.values, analyticArCig(W, 7, "total"), 2e-4 * scale, "total AR-CIG");
    // Direct AR-CIG is zero exactly where the model has no coefficient j -> i.
    truth.forEach((row, j) =>
      row.forEach((v, i) => {
        if (i !== j && !v) assert.ok(Math.abs(direct.values[j][i]) < 1e-5, `direct[${j}][${i}] = ${direct.values[j][i]}`);
        if (i !== j && v) assert.ok(direct.values[j][i] > 1e-3, `direct[${j}][${i}] = ${direct.values[j][i]}`);
      }),
    );
    const scores = scoreArCig(r, truth);
    assert.equal(scores.direct!.headline.nauprc, 1);
    assert.equal(scores.totalVsClosure!.headline.nauprc, 1, "total AR-CIG recovers the transitive closure");
  });

  it("chunking and the perturbation size do not change a linear model's influence", () => {
    const a = arCig(f, data, { ...WINDOWS, horizon: 3, modes: ["direct"] }).direct!;
    const b = arCig(f, data, { ...WINDOWS, horizon: 3, modes: ["direct"], chunkRows: 37, delta: [2, 1, 0.5, 1, 1, 3, 1, 1] }).direct!;
    closeMatrix(a.values, b.values, 1e-4, "chunked / delta");
    assert.deepEqual(b.delta, [2, 1, 0.5, 1, 1, 3, 1, 1]);
    assert.equal(a.perUnit.length, 3);
    const c1 = cig(f, data, { ...WINDOWS, chunkRows: 5 });
    closeMatrix(
      c1.values,
      A1.map((r) => r.map(Math.abs)),
      1e-4,
      "chunked CIG",
    );
    assert.throws(() => cig(f, data, { ...WINDOWS, delta: [1] }), /one per node/);
    assert.throws(() => cig(f, data, { ...WINDOWS, delta: [1, 1, 1, 0, 1, 1, 1, 1] }), /positive finite/);
    assert.throws(() => arCig(f, data, { ...WINDOWS, horizon: 0 }), /horizon/);
  });

  it("a forecaster that ignores every other node: zero influence off the diagonal, nAUPRC 0", () => {
    const own = W.map((w) => w.map((row, j) => row.map((v, i) => (i === j ? v : 0))));
    const g = new LinearVarForecaster({ weights: own });
    const c = cig(g, data, WINDOWS);
    const r = arCig(g, data, { ...WINDOWS, horizon: 7 });
    for (const m of [c, r.direct!, r.total!]) {
      assert.equal(maxOff(m.values), 0, `${m.kind} off-diagonal`);
      assert.ok(m.values[0][0] > 0, `${m.kind} keeps self-influence`);
      const s = scoreInfluence(m, truth, { tieTolerance: 0 });
      assert.equal(s.headline.auroc, 0.5);
      assert.ok(Math.abs(s.headline.nauprc) < 1e-12, `${m.kind} nAUPRC ${s.headline.nauprc}`);
    }
  });

  it("a dense forecaster that mixes all nodes equally: nAUPRC about 0", () => {
    const N = 8;
    const dense = linearVar1(Array.from({ length: N }, () => new Array<number>(N).fill(0.1)));
    const c = cig(dense, data, WINDOWS);
    const r = arCig(dense, data, { ...WINDOWS, horizon: 7 });
    for (const m of [c, r.direct!, r.total!]) {
      const s = scoreInfluence(m, truth);
      assert.ok(Math.abs(s.headline.nauprc) < 0.05, `${m.kind} nAUPRC ${s.headline.nauprc}`);
      // Without tie merging, float32 noise ranks the pairs at random, still far from 1.
      const raw = scoreInfluence(m, truth, { tieTolerance: 0 });
      assert.ok(raw.headline.nauprc < 0.5, `${m.kind} raw nAUPRC ${raw.headline.nauprc}`);
    }
    closeMatrix(
      c.values,
      Array.from({ length: N }, () => new Array<number>(N).fill(0.1)),
      1e-4,
      "dense CIG",
    );
  });

  it("chain a -> b -> c: total AR-CIG shows a -> c, direct AR-CIG does not", () => {
    const A = [
      [0.5, 0.8, 0],
      [0, 0.5, 0.8],
      [0, 0, 0.5],
    ];
    const chain: Graph = [
      [0, 1, 0],
      [0, 0, 1],
      [0, 0, 0],
    ];
    const d3 = simulateVar([A], 2, 40, 9);
    const r = arCig(linearVar1(A), d3, { ...WINDOWS, horizon: 7 });
    assert.ok(r.total!.values[0][2] > 0.1, `total a -> c ${r.total!.values[0][2]}`);
    assert.ok(Math.abs(r.direct!.values[0][2]) < 1e-6, `direct a -> c ${r.direct!.values[0][2]}`);
    assert.ok(r.direct!.values[0][1] > 0.1 && r.direct!.values[1][2] > 0.1, "direct keeps a -> b and b -> c");
    const s = scoreArCig(r, chain);
    assert.equal(s.direct!.headline.nauprc, 1);
    assert.equal(s.totalVsClosure!.headline.nauprc, 1);
    assert.ok(s.total!.headline.nauprc < 1, "total against the graph itself is penalised for a -> c");
    assert.deepEqual(transitiveClosure(chain)[0][2], 1);
  });

  it("per-unit graphs: a graph-consuming model scored per unit; the headline is the unit mean", () => {
    const N = 4;
    const dense = Array.from({ length: N }, (_, j) => Array.from({ length: N }, (_, i) => (i === j ? 0.4 : 0.15 + 0.02 * (i + j))));
    const g0: Graph = [
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
      [0, 0, 0, 0],
    ];
    const g1: Graph = [
      [0, 0, 1, 1],
      [1, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 1, 0],
    ];
    const graphs = [g0, g1, g0, g1];
    const d4 = simulateVar([dense], 4, 40, 21);
    const model = linearVar1(dense, { acceptsGraph: true });
    const r = arCig(model, d4, { ...WINDOWS, horizon: 5, graph: graphs, modes: ["direct"] });
    const s = scoreInfluence(r.direct!, graphs);
    assert.equal(s.headline.from, "unit-mean");
    assert.ok(Number.isNaN(s.matrix.nauprc));
    assert.match(s.matrix.reason ?? "", /different true graphs/);
    assert.equal(s.mean.nauprc, 1);
    assert.equal(s.headline.nauprc, 1);
    s.perUnit.forEach((p) => assert.equal(p.nauprc, 1));
    assert.equal(s.pooled.nauprc, 1);
    // Unit subsets keep the per-unit truth aligned by unit index.
    const sub = arCig(model, d4, { ...WINDOWS, horizon: 5, graph: graphs, modes: ["direct"], units: [1, 3] });
    assert.deepEqual(sub.direct!.units, [1, 3]);
    assert.equal(scoreInfluence(sub.direct!, graphs).headline.nauprc, 1);
    assert.equal(scoreInfluence(sub.direct!, graphs).headline.from, "matrix", "both units share g1");
    assert.throws(() => scoreInfluence(r.direct!, [g0]), /no true graph for unit 1/);
  });

  it("a nonlinear decoder (tiny GRU): finite influence, no tensor leaks, diagonal never scored", () => {
    const gru = new TinyGru(8, 8, 1);
    const before = tf.memory().numTensors;
    const c = cig(gru, data, { ...WINDOWS, units: [0] });
    const r = arCig(gru, data, { ...WINDOWS, units: [0], horizon: 3 });
    assert.equal(tf.memory().numTensors, before, "no tensor leaked");
    for (const m of [c, r.direct!, r.total!] as InfluenceMatrix[]) {
      assert.ok(m.values.flat().every(Number.isFinite), m.kind);
      assert.ok(maxOff(m.values) > 0, `${m.kind} has cross-node influence`);
      // Changing the diagonal does not change the score.
      const s1 = scoreInfluence(
        m,
        fullGraph(8).map((row, j) => row.map((_, i) => (i === (j + 1) % 8 ? 1 : 0))),
      );
      const bumped = {
        ...m,
        values: m.values.map((row, j) => row.map((v, i) => (i === j ? 1e9 : v))),
        perUnit: m.perUnit.map((pm) => pm.map((row, j) => row.map((v, i) => (i === j ? 1e9 : v)))),
      };
      const s2 = scoreInfluence(
        bumped,
        fullGraph(8).map((row, j) => row.map((_, i) => (i === (j + 1) % 8 ? 1 : 0))),
      );
      assert.equal(s1.headline.ap, s2.headline.ap);
    }
    gru.dispose();
  });
});

describe("direct AR-CIG in decoders with per-node state: other nodes' states are clamped", () => {
  before(async () => {
    await initBackend(undefined, null);
  });
  // chain 0 -> 1 -> 2 (node 3, the target, isolated); a random VAR series as input
  const chain: Graph = [
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ];
  const A = [
    [0.5, 0.6, 0, 0],
    [0, 0.5, 0.6, 0],
    [0, 0, 0.5, 0],
    [0, 0, 0, 0.5],
  ];
  const data = simulateVar([A], 2, 40, 13);
  const settings = { ...WINDOWS, horizon: 7, graph: chain };
  /** The same forecaster without its state clamp (inputs clamped only). */
  const inputsOnly = (f: Forecaster): Forecaster => ({ ...f, clampsStates: false });

  const models: [string, () => { forecaster(): Forecaster; dispose(): void }][] = [
    ["graph-safe decoder", () => new GraphSafeDecoder({ nodes: 4, target: 3, contextDim: 0, hidden: 8, message: 4, embed: 2, seed: 3 })],
    ["CausalMMM decoder", () => new CausalMMM({ nodes: 4, target: 3, contextDim: 0, encoderSteps: 10, hidden: 8, encoderHidden: 8, seed: 3 })],
  ];
  for (const [name, make] of models) {
    it(`${name}: direct a -> c is exactly 0 with states clamped, not with inputs clamped only; a -> b and b -> c stay; no tensor leaks`, () => {
      const model = make();
      const f = model.forecaster();
      assert.equal(f.clampsStates, true);
      const before = tf.memory().numTensors;
      const clamped = arCig(f, data, settings);
      assert.equal(tf.memory().numTensors, before, "arCig leaked tensors");
      const loose = arCig(inputsOnly(f), data, settings);
      assert.equal(clamped.direct!.values[0][2], 0, `clamped direct 0 -> 2: ${clamped.direct!.values[0][2]}`);
      assert.ok(loose.direct!.values[0][2] > 1e-7, `inputs-only direct 0 -> 2 should carry the path through 1's state: ${loose.direct!.values[0][2]}`);
      assert.ok(clamped.total!.values[0][2] > 1e-7, `total 0 -> 2 ${clamped.total!.values[0][2]}`);
      for (const [j, i] of [
        [0, 1],
        [1, 2],
      ]) {
        assert.ok(clamped.direct!.values[j][i] > 1e-6, `direct ${j} -> ${i}: ${clamped.direct!.values[j][i]}`);
        // a one-edge route: the clamped nodes are not on it, so clamping their states changes nothing
        assert.ok(Math.abs(clamped.direct!.values[j][i] - loose.direct!.values[j][i]) <= 1e-6, `direct ${j} -> ${i}: ${clamped.direct!.values[j][i]} vs ${loose.direct!.values[j][i]}`);
      }
      // nothing reaches the isolated target, by any route
      for (let j = 0; j < 3; j++) assert.equal(clamped.total!.values[j][3], 0);
      model.dispose();
    });
  }
});

describe("AR-CIG from each window's state (the history encoded once) equals the full replay", () => {
  before(async () => {
    await initBackend(undefined, null);
  });
  const data = simulateVar([randomSparseVar(5, 0.4, 3, 0.4)], 3, 50, 17);
  const graph = fullGraph(5);
  const settings = { window: { from: 36, to: 44 }, history: 12, stride: 3, horizon: 6, graph };
  const replay = (f: Forecaster): Forecaster => ({ ...f, continuation: undefined });
  const models: [string, () => { forecaster(): Forecaster; dispose(): void }][] = [
    ["graph-safe decoder", () => new GraphSafeDecoder({ nodes: 5, target: 4, contextDim: 0, hidden: 8, message: 4, embed: 2, seed: 5 })],
    ["joint GRU decoder", () => new JointGruDecoder({ nodes: 5, target: 4, contextDim: 0, hidden: 8, seed: 5 })],
  ];
  for (const [name, make] of models) {
    it(`${name}: rolloutFrom(encode(prefix), rest) is rollout(history); direct and total AR-CIG agree with the replay; no tensor leaks`, () => {
      const model = make();
      const f = model.forecaster();
      assert.ok(f.continuation, "the decoder offers a state continuation");
      const x = tf.tensor3d(data.values.slice(0, 3 * 20 * 5), [3, 20, 5]);
      const g = tf.tensor2d(graph);
      const whole = tf.tidy(() => f.rollout(x, 6, { graph: g }).arraySync() as number[][][]);
      const fromState = tf.tidy(() => {
        const state = f.continuation!.encode(x.slice([0, 0, 0], [3, 15, 5]) as tf.Tensor3D, { graph: g });
        return f.continuation!.rolloutFrom(state, x.slice([0, 15, 0], [3, 5, 5]) as tf.Tensor3D, 6, { graph: g }).arraySync() as number[][][];
      });
      whole.forEach((rows, b) => rows.forEach((row, h) => row.forEach((v, i) => assert.ok(Math.abs(v - fromState[b][h][i]) < 1e-5, `[${b}][${h}][${i}] ${v} vs ${fromState[b][h][i]}`))));
      tf.dispose([x, g]);
      const before = tf.memory().numTensors;
      const fast = arCig(f, data, settings);
      assert.equal(tf.memory().numTensors, before, "arCig leaked tensors");
      const slow = arCig(replay(f), data, settings);
      closeMatrix(fast.direct!.values, slow.direct!.values, 1e-5, `${name} direct`);
      closeMatrix(fast.total!.values, slow.total!.values, 1e-5, `${name} total`);
      assert.ok(maxOff(slow.total!.values) > 1e-4, "the check is not vacuous: influence crosses nodes");
      model.dispose();
    });
  }
});
