import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import type { Forecaster } from "../../lib/core/forecaster";
import { type Graph, emptyGraph, fullGraph } from "../../lib/graph";
import { GraphSafeDecoder, JointGruDecoder } from "../../lib/models/graph-safe";
import { Rng } from "../../lib/rng";
import { tf } from "../../lib/tf";
import { assertClose, maxAbsDiff, randn } from "./helpers";
import { fit } from "../../lib/train/fit";
import type { ArrayBatch } from "../../lib/core/trainable";
import { simulateVar } from "../diagnostics/helpers";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const N = 4; // nodes 0..2 and the target 3
const TARGET = 3;
const K = 2; // context size
const B = 3; // rows
const T0 = 8; // history
const HORIZON = 10;

/** A graph with the given edges [j, i] (j -> i). */
function graphOf(edges: [number, number][]): Graph {
  const g = emptyGraph(N);
  for (const [j, i] of edges) g[j][i] = 1;
  return g;
}

/** The rollout [B, H, N] (as a flat array) after adding `delta` to node j's input at the last history step (j < 0: none). */
function perturbedRollout(
  f: Forecaster,
  x: tf.Tensor3D,
  j: number,
  delta: number,
  inputs: { graph?: tf.Tensor2D | tf.Tensor3D; context?: tf.Tensor2D },
): Float32Array {
  const [rows, steps, nodes] = x.shape;
  const data = Float32Array.from(x.dataSync());
  if (j >= 0) for (let b = 0; b < rows; b++) data[(b * steps + steps - 1) * nodes + j] += delta;
  return tf.tidy(() => f.rollout(tf.tensor3d(data, x.shape), HORIZON, inputs).dataSync() as Float32Array);
}

/**
 * Per node i, the largest |change| of i's rollout (over rows and horizons) when j is perturbed,
 * and whether it is exactly zero (every value bit-identical).
 */
function responses(
  f: Forecaster,
  x: tf.Tensor3D,
  j: number,
  inputs: { graph?: tf.Tensor2D | tf.Tensor3D; context?: tf.Tensor2D },
  delta = 0.8,
): { max: number[]; exact: boolean[] } {
  const base = perturbedRollout(f, x, -1, 0, inputs);
  const moved = perturbedRollout(f, x, j, delta, inputs);
  const max = new Array<number>(N).fill(0);
  const exact = new Array<boolean>(N).fill(true);
  for (let k = 0; k < base.length; k++) {
    const i = k % N;
    if (moved[k] !== base[k]) exact[i] = false;
    max[i] = Math.max(max[i], Math.abs(moved[k] - base[k]));
  }
  return { max, exact };
}

/** Per horizon step h, the largest |change| of node i's rollout when j is perturbed. */
function responseByStep(f: Forecaster, x: tf.Tensor3D, j: number, i: number, inputs: { graph?: tf.Tensor2D; context?: tf.Tensor2D }): number[] {
  const base = perturbedRollout(f, x, -1, 0, inputs);
  const moved = perturbedRollout(f, x, j, 0.8, inputs);
  const out = new Array<number>(HORIZON).fill(0);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < HORIZON; h++) {
      const k = (b * HORIZON + h) * N + i;
      out[h] = Math.max(out[h], Math.abs(moved[k] - base[k]));
    }
  return out;
}

/** Training windows [rows, W, N] of a linear VAR in which every node drives the next (0 -> 1 -> 2 -> 3 -> 0). */
function varWindows(rows: number, W: number, seed: number): ArrayBatch[] {
  const A = Array.from({ length: N }, (_, j) => Array.from({ length: N }, (_, i) => (i === j ? 0.5 : i === (j + 1) % N ? 0.4 : 0)));
  const data = simulateVar([A], rows, W, seed, 0.5);
  const rng = new Rng(seed + 1);
  const graph = new Float32Array(rows * N * N);
  for (let r = 0; r < rows; r++) fullGraph(N).forEach((row, j) => row.forEach((v, i) => (graph[(r * N + j) * N + i] = v)));
  const context = Float32Array.from(rng.normals(rows * K, 1));
  const half = rows / 2;
  const cut = (from: number, to: number, arr: Float32Array, per: number) => arr.slice(from * per, to * per);
  return [
    {
      x: { data: cut(0, half, data.values, W * N), shape: [half, W, N] },
      graph: { data: cut(0, half, graph, N * N), shape: [half, N, N] },
      context: { data: cut(0, half, context, K), shape: [half, K] },
    },
    {
      x: { data: cut(half, rows, data.values, W * N), shape: [half, W, N] },
      graph: { data: cut(half, rows, graph, N * N), shape: [half, N, N] },
      context: { data: cut(half, rows, context, K), shape: [half, K] },
    },
  ];
}

/** Snapshot values of every parameter, as plain arrays. */
function paramValues(model: { params: { names(): string[]; get(n: string): tf.Variable } }): Map<string, Float32Array> {
  return new Map(model.params.names().map((n) => [n, Float32Array.from(model.params.get(n).dataSync())]));
}

before(async () => {
  await initBackend(undefined, null);
});

// ---------------------------------------------------------------------------------------------
// 1. Graph safety
// ---------------------------------------------------------------------------------------------

describe("GraphSafeDecoder: graph safety", () => {
  let fresh: GraphSafeDecoder;
  let trained: GraphSafeDecoder;
  let x: tf.Tensor3D;
  let context: tf.Tensor2D;
  let empty: tf.Tensor2D;
  before(async () => {
    const config = { nodes: N, target: TARGET, contextDim: K, hidden: 12, message: 6, embed: 3, horizon: 4 };
    fresh = new GraphSafeDecoder({ ...config, seed: 5 });
    trained = new GraphSafeDecoder({ ...config, seed: 5 });
    const initial = paramValues(trained);
    // trained with the complete graph, so that the message weights (which an empty graph never
    // reaches) are trained too; the check below then supplies the empty graph
    const batches = varWindows(16, 16, 3);
    const result = await fit(trained, { batches: () => batches }, { epochs: 15, learningRate: 1e-2, label: null });
    assert.equal(result.status, "completed");
    const h = result.history;
    assert.ok(h[h.length - 1].train.mse < 0.9 * h[0].train.mse, `training MSE ${h[0].train.mse} -> ${h[h.length - 1].train.mse}`);
    const now = paramValues(trained);
    for (const name of ["msg.wh", "msg.wx", "msg.we", "msg.wr", "msg.b", "gru.wx", "gru.wh", "out.w2", "out.own", "emb", "sat.wa"]) {
      assert.ok(maxAbsDiff(now.get(name)!, initial.get(name)!) > 1e-3, `parameter ${name} did not move in training`);
    }
    x = randn([B, T0, N], 31) as tf.Tensor3D;
    context = randn([B, K], 32) as tf.Tensor2D;
    empty = tf.zeros([N, N]);
  });
  after(() => {
    fresh.dispose();
    trained.dispose();
    tf.dispose([x, context, empty]);
  });

  it("the saturated target's read-out is the same to the last bit with and without a gradient being recorded", () => {
    const full = tf.ones([N, N]) as tf.Tensor2D;
    const f = trained.forecaster();
    const plain = tf.tidy(() => f.rollout(x, HORIZON, { graph: full, context }).dataSync() as Float32Array);
    let recorded: Float32Array | null = null;
    const grads = tf.variableGrads(() =>
      tf.tidy(() => {
        const r = f.rollout(x, HORIZON, { graph: full, context });
        recorded = Float32Array.from(r.dataSync());
        return r.square().mean() as tf.Scalar;
      }),
    );
    tf.dispose([full, grads.value, ...Object.values(grads.grads)]);
    assert.ok(recorded !== null);
    assert.ok(plain.some((v, k) => k % N === TARGET && v !== 0));
    assert.deepEqual(Array.from(recorded!), Array.from(plain));
  });

  for (const which of ["fresh", "trained"] as const) {
    it(`empty graph (${which} weights): perturbing node j at the last history step changes no other node's ${HORIZON}-step rollout, exactly`, () => {
      const f = (which === "fresh" ? fresh : trained).forecaster();
      for (let j = 0; j < N; j++) {
        const r = responses(f, x, j, { graph: empty, context });
        for (let i = 0; i < N; i++) {
          if (i === j) assert.ok(r.max[i] > 1e-3, `node ${j}'s own rollout barely moved (${r.max[i]}): the perturbation did not take`);
          else assert.ok(r.exact[i], `perturbing node ${j} changed node ${i}'s rollout by up to ${r.max[i]}`);
        }
      }
      // the same with a [B, N, N] graph of zeros, and with a graph that is zero but for its
      // diagonal (self-loops are ignored)
      const zeros3 = tf.zeros([B, N, N]) as tf.Tensor3D;
      const diag = tf.eye(N).mul(3) as tf.Tensor2D;
      for (const graph of [zeros3, diag]) {
        for (let j = 0; j < N; j++) {
          const r = responses(f, x, j, { graph, context });
          for (let i = 0; i < N; i++) if (i !== j) assert.ok(r.exact[i], `graph [${graph.shape}]: perturbing ${j} changed ${i} by ${r.max[i]}`);
        }
      }
      tf.dispose([zeros3, diag]);
    });
  }

  it("positive control, chain 0 -> 1: perturbing 0 changes 1's rollout; 2 and the target (no path from 0) stay exactly unchanged", () => {
    for (const model of [fresh, trained]) {
      const f = model.forecaster();
      const graph = tf.tensor2d(graphOf([[0, 1]]));
      const r0 = responses(f, x, 0, { graph, context });
      assert.ok(r0.max[0] > 1e-3);
      assert.ok(r0.max[1] > 1e-4, `node 1 did not respond to its parent (${r0.max[1]})`);
      assert.ok(r0.exact[2] && r0.exact[3], `nodes without a path from 0 moved: ${r0.max}`);
      // the edge has a direction: perturbing 1 leaves 0 alone
      const r1 = responses(f, x, 1, { graph, context });
      assert.ok(r1.exact[0] && r1.exact[2] && r1.exact[3], `perturbing 1 moved ${r1.max}`);
      graph.dispose();
    }
  });

  it("positive control, chain 0 -> 1 -> 2: 2 responds to 0 only from the second rollout step on (through 1's fed-back prediction); the target never", () => {
    const f = trained.forecaster();
    const graph = tf.tensor2d(
      graphOf([
        [0, 1],
        [1, 2],
      ]),
    );
    const to2 = responseByStep(f, x, 0, 2, { graph, context });
    // step 0 predicts from the history; 2's state saw 1's message, which did not yet carry 0's perturbation
    assert.equal(to2[0], 0, `node 2's first prediction moved by ${to2[0]}`);
    assert.ok(Math.max(...to2.slice(1)) > 1e-5, `node 2 never responded to 0 through 1: ${to2}`);
    const r = responses(f, x, 0, { graph, context });
    assert.ok(r.exact[3], `the target moved by ${r.max[3]}`);
    graph.dispose();
  });

  it("a soft graph (probabilities): influence flows along its non-zero entries only", () => {
    const f = trained.forecaster();
    const soft = graphOf([]);
    soft[0][2] = 0.3;
    soft[2][3] = 0.05;
    const graph = tf.tensor2d(soft);
    const r = responses(f, x, 0, { graph, context });
    assert.ok(r.max[2] > 1e-5 && r.max[3] > 0, `0 -> 2 -> target: ${r.max}`);
    assert.ok(r.exact[1], `node 1 (no path) moved by ${r.max[1]}`);
    graph.dispose();
  });

  it("the context only enters the target's read-out: with a graph in which the target sends nothing, other nodes ignore it", () => {
    const f = trained.forecaster();
    const g = fullGraph(N);
    for (let i = 0; i < N; i++) g[TARGET][i] = 0;
    const graph = tf.tensor2d(g);
    const other = tf.tidy(() => context.mul(-2).add(1)) as tf.Tensor2D;
    const a = tf.tidy(() => f.rollout(x, HORIZON, { graph, context }).dataSync());
    const b = tf.tidy(() => f.rollout(x, HORIZON, { graph, context: other }).dataSync());
    let targetMoved = 0;
    for (let k = 0; k < a.length; k++) {
      if (k % N === TARGET) targetMoved = Math.max(targetMoved, Math.abs(a[k] - b[k]));
      else assert.equal(a[k], b[k], `node ${k % N} depends on the context`);
    }
    assert.ok(targetMoved > 1e-4, `the target's saturation ignores the context (${targetMoved})`);
    tf.dispose([graph, other]);
  });

  it("the unconstrained joint-GRU decoder is not graph safe: perturbing one node moves the others", () => {
    const joint = new JointGruDecoder({ nodes: N, target: TARGET, contextDim: K, hidden: 16, seed: 2 });
    const f = joint.forecaster();
    assert.equal(f.acceptsGraph, false);
    for (let j = 0; j < N; j++) {
      const r = responses(f, x, j, { graph: empty, context });
      for (let i = 0; i < N; i++) assert.ok(r.max[i] > 1e-5, `joint GRU: perturbing ${j} left ${i} unchanged (${r.max[i]})`);
    }
    joint.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// 2. The Forecaster contract and the training loss
// ---------------------------------------------------------------------------------------------

describe("graph-safe and joint-GRU decoders as Forecasters", () => {
  const T = 12;
  const T1 = 7; // origin
  const H = T - T1;
  let safe: GraphSafeDecoder;
  let joint: JointGruDecoder;
  let x: tf.Tensor3D;
  let context: tf.Tensor2D;
  let graph: tf.Tensor3D;
  before(() => {
    safe = new GraphSafeDecoder({ nodes: N, target: TARGET, contextDim: K, hidden: 8, message: 4, embed: 2, horizon: H, seed: 1 });
    joint = new JointGruDecoder({ nodes: N, target: TARGET, contextDim: K, hidden: 8, horizon: H, seed: 1 });
    x = randn([2, T, N], 41) as tf.Tensor3D;
    context = randn([2, K], 42) as tf.Tensor2D;
    graph = tf.tidy(() => tf.sigmoid(randn([2, N, N], 43, 2))) as tf.Tensor3D;
  });
  after(() => {
    safe.dispose();
    joint.dispose();
    tf.dispose([x, context, graph]);
  });

  const cases = () => [
    { name: "graph-safe", f: safe.forecaster() },
    { name: "joint GRU", f: joint.forecaster() },
  ];

  it("rollout equals a loop of one-step predictions fed back; teacher forcing differs after the first step", () => {
    for (const { name, f } of cases()) {
      const inputs = { graph, context };
      const history = x.slice([0, 0, 0], [2, T1, N]) as tf.Tensor3D;
      const roll = f.rollout(history, H, inputs);
      assert.deepEqual(roll.shape, [2, H, N]);
      let hist = history.clone();
      const manual: tf.Tensor[] = [];
      for (let k = 0; k < H; k++) {
        const one = f.predictOneStep(hist, inputs);
        assert.deepEqual(one.shape, hist.shape);
        const next = one.slice([0, hist.shape[1] - 1, 0], [2, 1, N]);
        manual.push(next);
        const grown = tf.concat([hist, next], 1) as tf.Tensor3D;
        tf.dispose([hist, one]);
        hist = grown;
      }
      const loop = tf.concat(manual, 1);
      assertClose(roll, loop, 1e-5, `${name}: rollout vs loop`);
      const forced = tf.tidy(() => f.predictOneStep(x, inputs).slice([0, T1 - 1, 0], [2, H, N]));
      assertClose(roll.slice([0, 0, 0], [2, 1, N]), forced.slice([0, 0, 0], [2, 1, N]), 1e-6, `${name}: first step`);
      assert.ok(
        maxAbsDiff(roll.slice([0, 1, 0], [2, H - 1, N]).dataSync(), forced.slice([0, 1, 0], [2, H - 1, N]).dataSync()) > 1e-3,
        `${name}: the rollout used the true values`,
      );
      tf.dispose([history, roll, hist, loop, forced, ...manual]);
    }
  });

  it("the feed mask: 1 feeds the supplied values, 0 the model's own predictions, per step and node", () => {
    for (const { name, f } of cases()) {
      const history = x.slice([0, 0, 0], [2, T1, N]) as tf.Tensor3D;
      const future = x.slice([0, T1, 0], [2, H, N]) as tf.Tensor3D;
      const own = f.rollout(history, H, { graph, context });
      const forced = tf.tidy(() => f.predictOneStep(x, { graph, context }).slice([0, T1 - 1, 0], [2, H, N]));
      const ones = tf.ones([2, H, N]);
      const all = f.rollout(history, H, { graph, context, feed: { values: future, mask: ones } });
      assertClose(all, forced, 1e-5, `${name}: feed everything = teacher forcing`);
      const zeros = tf.zeros([1, 1, N]);
      const none = f.rollout(history, H, { graph, context, feed: { values: future, mask: zeros } });
      assertClose(none, own, 1e-6, `${name}: feed nothing`);
      // node 2 fed at rollout steps 0 and 2 only, through a [1, H, N] mask
      const m = new Float32Array(H * N);
      m[0 * N + 2] = 1;
      m[2 * N + 2] = 1;
      const mask = tf.tensor3d(m, [1, H, N]);
      const some = f.rollout(history, H, { graph, context, feed: { values: future, mask } });
      const fv = future.arraySync();
      let hist = history.clone();
      const manual: tf.Tensor[] = [];
      for (let k = 0; k < H; k++) {
        const one = f.predictOneStep(hist, { graph, context });
        const next = one.slice([0, hist.shape[1] - 1, 0], [2, 1, N]);
        manual.push(next);
        const nv = next.arraySync() as number[][][];
        if (k === 0 || k === 2) for (let b = 0; b < 2; b++) nv[b][0][2] = fv[b][k][2];
        const fed = tf.tensor3d(nv);
        const grown = tf.concat([hist, fed], 1) as tf.Tensor3D;
        tf.dispose([hist, one, fed]);
        hist = grown;
      }
      const loop = tf.concat(manual, 1);
      assertClose(some, loop, 1e-5, `${name}: feed node 2 at steps 0 and 2`);
      assert.ok(maxAbsDiff(some.dataSync(), own.dataSync()) > 1e-4, `${name}: feeding node 2 changed nothing`);
      tf.dispose([history, future, own, forced, ones, all, zeros, none, mask, some, hist, loop, ...manual]);
    }
  });

  it("graph-safe: a shared [N, N] graph equals it tiled over the rows; the diagonal is ignored; a graph is required", () => {
    const f = safe.forecaster();
    assert.equal(f.acceptsGraph, true);
    assert.equal(f.minHistory, 1);
    assert.equal(f.nodes, N);
    const g2 = tf.tidy(() => graph.slice([0, 0, 0], [1, N, N]).reshape([N, N])) as tf.Tensor2D;
    const tiled = tf.tidy(() => g2.expandDims(0).tile([2, 1, 1])) as tf.Tensor3D;
    const withDiag = tf.tidy(() => tiled.add(tf.eye(N).mul(7))) as tf.Tensor3D;
    const a = f.rollout(x, 4, { graph: g2, context });
    const b = f.rollout(x, 4, { graph: tiled, context });
    const c = f.rollout(x, 4, { graph: withDiag, context });
    assert.deepEqual(a.dataSync(), b.dataSync());
    assertClose(c, b, 1e-6, "diagonal ignored");
    // and the graph matters: another graph, another forecast
    const d = f.rollout(x, 4, { graph, context });
    assert.ok(maxAbsDiff(d.dataSync(), b.dataSync()) > 1e-4);
    assert.throws(() => f.rollout(x, 4, { context }), /pass inputs.graph/);
    assert.throws(() => safe.decode(x, tf.zeros([1, N, N]) as tf.Tensor3D, 3, { context }), /graph \[1,4,4\] does not match 2 rows of 4 nodes/);
    assert.throws(() => safe.decode(tf.zeros([2, 3, N + 1]) as tf.Tensor3D, graph, 3, { context }), /expects 4 nodes, got 5/);
    tf.dispose([g2, tiled, withDiag, a, b, c, d]);
  });

  it("joint GRU: a supplied graph changes nothing; the context is required when it has one", () => {
    const f = joint.forecaster();
    const a = f.rollout(x, 4, { context });
    const b = f.rollout(x, 4, { graph, context });
    assert.deepEqual(a.dataSync(), b.dataSync());
    assert.throws(() => f.rollout(x, 4), /pass the context \(\[B, 2\]\)/);
    tf.dispose([a, b]);
  });

  it("the training loss teacher-forces through W - horizon steps, then rolls out; MSE over the W - 1 predictions", () => {
    // Independent expectation: two fresh decoders whose read-out is set so that their one-step
    // map is known in closed form, whatever the GRU and the messages do (their output weight
    // out.w2 is 0). Graph-safe: x^_i(t+1) = own_i x_i(t) + b for i != target, and the target's
    // Hill head y f^a / (f^a + g^a) (f = max(y, 0.1)) on y = own x(t) + b, with a, g linear in the
    // row's context (floored at 0.1). Joint GRU: x^(t+1) = x(t) S + beta, a VAR(1) with cross
    // terms. The expected loss is computed in plain JS from that map: inputs are the true values
    // for steps < W - horizon, then the previous prediction; MSE against x(t + 1) over all W - 1
    // predictions. Neither decode() nor the loss is called to build it.
    const own = [0.6, -0.4, 0.9, 0.7];
    const b2 = 0.3;
    const sat = { wa: [0.4, -0.3], ba: 1.2, wg: [0.2, 0.5], bg: 0.6 };
    const beta = [0.1, -0.2, 0.3, 0.05];
    const S = [
      [0.5, 0.3, 0, 0],
      [0, 0.4, 0.3, 0],
      [0, 0, 0.6, 0.2],
      [0.2, 0, 0, 0.5],
    ]; // S[j][i]: j's weight in i's prediction
    const safe2 = new GraphSafeDecoder({ nodes: N, target: TARGET, contextDim: K, hidden: 8, message: 4, embed: 2, horizon: H, seed: 1 });
    const joint2 = new JointGruDecoder({ nodes: N, target: TARGET, contextDim: K, hidden: 8, horizon: H, seed: 1 });
    const set = (m: GraphSafeDecoder | JointGruDecoder, name: string, v: number[] | number[][]) => {
      const p = m.params.get(name);
      tf.tidy(() => p.assign(tf.tensor(v.flat(), p.shape)));
    };
    set(safe2, "out.w2", new Array(8).fill(0));
    set(safe2, "out.b2", [b2]);
    set(safe2, "out.own", own);
    set(safe2, "sat.wa", sat.wa);
    set(safe2, "sat.ba", [sat.ba]);
    set(safe2, "sat.wg", sat.wg);
    set(safe2, "sat.bg", [sat.bg]);
    set(joint2, "out.w2", new Array(8 * N).fill(0));
    set(joint2, "out.b2", beta);
    set(joint2, "out.skip", S);
    const ctx = context.arraySync() as number[][];
    const safeMap = (input: number[], b: number): number[] => {
      const a = Math.max(ctx[b][0] * sat.wa[0] + ctx[b][1] * sat.wa[1] + sat.ba, 0.1);
      const g = Math.max(ctx[b][0] * sat.wg[0] + ctx[b][1] * sat.wg[1] + sat.bg, 0.1);
      return input.map((v, i) => {
        const y = own[i] * v + b2;
        if (i !== TARGET) return y;
        const f = Math.max(y, 0.1);
        return (y * f ** a) / (f ** a + g ** a);
      });
    };
    const jointMap = (input: number[]): number[] => beta.map((bi, i) => bi + input.reduce((acc, v, j) => acc + v * S[j][i], 0));
    /** MSE of the predictions of x(1..W-1), teacher-forced through step t0 - 1, then on their own predictions. */
    const referenceMse = (xs: number[][][], t0: number, map: (input: number[], b: number) => number[]): number => {
      let sum = 0;
      let n = 0;
      xs.forEach((row, b) => {
        let prev: number[] = [];
        for (let s = 0; s < row.length - 1; s++) {
          prev = map(s < t0 ? row[s] : prev, b);
          prev.forEach((v, i) => (sum += (v - row[s + 1][i]) ** 2));
          n += N;
        }
      });
      return sum / n;
    };
    const batchOf = (data: Float32Array): ArrayBatch => ({
      x: { data, shape: [2, T, N] },
      context: { data: Float32Array.from(context.dataSync()), shape: [2, K] },
      graph: { data: Float32Array.from(graph.dataSync()), shape: [2, N, N] },
    });
    const lossOf = (m: GraphSafeDecoder | JointGruDecoder, batch: ArrayBatch) =>
      tf.tidy(() => {
        const t = m.loss(batch);
        assert.equal(t.total.dataSync()[0], t.mse.dataSync()[0]);
        return t.mse.dataSync()[0];
      });
    try {
      const batch = batchOf(Float32Array.from(x.dataSync()));
      const xs = x.arraySync() as number[][][];
      const t0 = T - H; // = W - horizon
      for (const [name, m, map] of [
        ["graph-safe", safe2, safeMap],
        ["joint", joint2, jointMap],
      ] as const) {
        const got = lossOf(m, batch);
        const want = referenceMse(xs, t0, map);
        assert.ok(Math.abs(got - want) <= 1e-5 * want, `${name}: loss ${got} vs closed form ${want}`);
        // not vacuous: an origin one step earlier or later, or teacher forcing throughout, scores otherwise
        for (const other of [t0 - 1, t0 + 1, T - 1]) {
          const alt = referenceMse(xs, other, map);
          assert.ok(Math.abs(alt - want) > 1e-3 * want, `${name}: origin ${other} gives the same MSE (${alt} vs ${want})`);
        }
        // a window the map reproduces exactly (x(t + 1) = map(x(t)) from x(0)) has loss 0
        const exact = new Float32Array(2 * T * N);
        for (let b = 0; b < 2; b++) {
          let v = xs[b][0];
          for (let t = 0; t < T; t++) {
            v.forEach((vi, i) => (exact[(b * T + t) * N + i] = vi));
            v = map(Array.from(exact.subarray((b * T + t) * N, (b * T + t + 1) * N)), b);
          }
        }
        const zero = lossOf(m, batchOf(exact));
        assert.ok(zero < 1e-10, `${name}: loss of a window it predicts exactly ${zero}`);
      }
    } finally {
      safe2.dispose();
      joint2.dispose();
    }
    const { x: bx, context: bc } = batchOf(Float32Array.from(x.dataSync()));
    assert.throws(() => safe.loss({ x: bx, context: bc }), /needs its supplied graphs/);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Configuration
// ---------------------------------------------------------------------------------------------

describe("decoder configuration", () => {
  it("rejects bad settings; without target saturation the saturation parameters are not trained", () => {
    const base = { nodes: N, target: TARGET, contextDim: 0 };
    assert.throws(() => new GraphSafeDecoder({ ...base, nodes: 1, target: 0 }), /at least 2 nodes, got 1/);
    assert.throws(() => new GraphSafeDecoder({ ...base, target: 4 }), /target 4 is not a node index \(0\.\.3\)/);
    assert.throws(() => new JointGruDecoder({ ...base, contextDim: -1 }), /contextDim must be an integer >= 0/);
    assert.throws(() => new JointGruDecoder({ ...base, horizon: 0 }), /horizon must be an integer >= 1/);
    const a = new GraphSafeDecoder({ ...base, targetSaturation: true });
    const b = new GraphSafeDecoder({ ...base, targetSaturation: false });
    assert.ok(a.trainableNames().some((n) => n.startsWith("sat.")));
    assert.ok(!b.trainableNames().some((n) => n.startsWith("sat.")));
    assert.ok(b.trainableNames().length > 0 && b.trainableNames().every((n) => b.params.names().includes(n)));
    // the same seed gives the same weights
    const c = new GraphSafeDecoder({ ...base, targetSaturation: true });
    for (const n of a.params.names()) assert.deepEqual(a.params.get(n).dataSync(), c.params.get(n).dataSync(), n);
    for (const m of [a, b, c]) m.dispose();
  });
});
