import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { tf } from "../../lib/tf";
import { LinearVarForecaster, linearVar1 } from "../../lib/diagnostics/linear-var";

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let k = 0; k < a.length; k++) assert.ok(Math.abs(a[k] - b[k]) <= tol, `${what}[${k}]: ${a[k]} vs ${b[k]}`);
};

// Two lags, three nodes: W[s][j][i].
const W = [
  [
    [0.5, 0.2, 0],
    [0, 0.3, -0.4],
    [0.1, 0, 0.6],
  ],
  [
    [0.1, 0, 0],
    [0, 0, 0.2],
    [0, -0.3, 0],
  ],
];
const bias = [0.1, -0.2, 0.05];

/** Hand reference: prediction of x(t + 1) from the rows x(t), x(t - 1) (zeros before the start). */
function ref(rows: number[][], t: number, Ws = W): number[] {
  const N = bias.length;
  const y = [...bias];
  for (let s = 0; s < Ws.length; s++) {
    if (t - s < 0) continue;
    for (let j = 0; j < N; j++) for (let i = 0; i < N; i++) y[i] += rows[t - s][j] * Ws[s][j][i];
  }
  return y;
}

describe("LinearVarForecaster", () => {
  before(async () => {
    await initBackend(undefined, null);
  });

  const rows = [
    [1, 2, 3],
    [0.5, -1, 2],
    [2, 0, -1],
    [1.5, 1, 0.5],
  ];
  const x = () => tf.tensor3d([...rows.flat(), ...rows.map((r) => r.map((v) => 2 * v)).flat()], [2, 4, 3]);

  it("predictOneStep: output[t] predicts x[t + 1] from the last L inputs (zero-padded)", () => {
    const f = new LinearVarForecaster({ weights: W, bias });
    assert.equal(f.minHistory, 2);
    assert.equal(f.nodes, 3);
    assert.equal(f.acceptsGraph, false);
    const xt = x();
    const out = f.predictOneStep(xt);
    assert.deepEqual(out.shape, [2, 4, 3]);
    const v = out.dataSync();
    const rows2 = rows.map((r) => r.map((a) => 2 * a));
    close(v, [...rows.flatMap((_, t) => ref(rows, t)), ...rows2.flatMap((_, t) => ref(rows2, t))], 1e-5, "one-step");
    tf.dispose([xt, out]);
  });

  it("rollout: the first step equals the last one-step prediction, later steps feed predictions back", () => {
    const f = new LinearVarForecaster({ weights: W, bias });
    const xt = x();
    const out = f.rollout(xt, 3);
    assert.deepEqual(out.shape, [2, 3, 3]);
    const v = out.dataSync();
    const seq = rows.map((r) => [...r]);
    const expect: number[] = [];
    for (let h = 0; h < 3; h++) {
      const p = ref(seq, seq.length - 1);
      expect.push(...p);
      seq.push(p);
    }
    close(v.slice(0, 9), expect, 1e-5, "rollout unit 0");
    tf.dispose([xt, out]);
  });

  it("rollout feed: masked nodes take the fed values as the next input; outputs stay predictions", () => {
    const f = new LinearVarForecaster({ weights: W, bias });
    const xt = tf.tensor3d(rows.flat(), [1, 4, 3]);
    const fed = [
      [9, 9, 9],
      [8, 8, 8],
      [7, 7, 7],
    ];
    const values = tf.tensor3d(fed.flat(), [1, 3, 3]);
    const mask = tf.tensor3d(
      [
        [0, 1, 0],
        [0, 1, 0],
        [0, 1, 0],
      ].flat(),
      [1, 3, 3],
    );
    const out = f.rollout(xt, 3, { feed: { values, mask } });
    const seq = rows.map((r) => [...r]);
    const expect: number[] = [];
    for (let h = 0; h < 3; h++) {
      const p = ref(seq, seq.length - 1);
      expect.push(...p);
      seq.push([p[0], fed[h][1], p[2]]);
    }
    close(out.dataSync(), expect, 1e-5, "fed rollout");
    // A broadcast mask [1, 1, nodes] gives the same.
    const mask1 = tf.tensor3d([0, 1, 0], [1, 1, 3]);
    const out1 = f.rollout(xt, 3, { feed: { values, mask: mask1 } });
    close(out1.dataSync(), expect, 1e-5, "broadcast mask");
    tf.dispose([xt, values, mask, out, mask1, out1]);
  });

  it("graph-consuming: the supplied graph masks off-diagonal coefficients, own lags stay", () => {
    const f = new LinearVarForecaster({ weights: W, bias, acceptsGraph: true });
    const g = [
      [0, 1, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    const Wm = W.map((w) => w.map((row, j) => row.map((v, i) => (i === j ? v : v * g[j][i]))));
    const xt = x();
    const shared = tf.tensor2d(g.flat(), [3, 3]);
    const out = f.predictOneStep(xt, { graph: shared });
    const rows2 = rows.map((r) => r.map((a) => 2 * a));
    const expect = [...rows.flatMap((_, t) => ref(rows, t, Wm)), ...rows2.flatMap((_, t) => ref(rows2, t, Wm))];
    close(out.dataSync(), expect, 1e-5, "masked");
    // Per-row graphs: row 0 masked, row 1 full.
    const perRow = tf.tensor3d([...g.flat(), 0, 1, 1, 1, 0, 1, 1, 1, 0], [2, 3, 3]);
    const out2 = f.rollout(xt, 1, { graph: perRow });
    close(out2.dataSync(), [...ref(rows, 3, Wm), ...ref(rows2, 3)], 1e-5, "per-row graph");
    // Without a graph a graph-consuming model uses all coefficients (or its configured graph).
    const out3 = f.rollout(xt, 1);
    close(out3.dataSync().slice(0, 3), ref(rows, 3), 1e-5, "no graph");
    const fixed = new LinearVarForecaster({ weights: W, bias, acceptsGraph: true, graph: g });
    const out4 = fixed.rollout(xt, 1);
    close(out4.dataSync().slice(0, 3), ref(rows, 3, Wm), 1e-5, "configured graph");
    // A graph-free model ignores a supplied graph.
    const free = new LinearVarForecaster({ weights: W, bias });
    const out5 = free.rollout(xt, 1, { graph: shared });
    close(out5.dataSync().slice(0, 3), ref(rows, 3), 1e-5, "ignored graph");
    tf.dispose([xt, shared, out, perRow, out2, out3, out4, out5]);
  });

  it("validates its inputs and does not leak tensors", () => {
    assert.throws(() => new LinearVarForecaster({ weights: [] }), /at least one lag/);
    assert.throws(() => new LinearVarForecaster({ weights: [[[1, 0], [0]]] }), /not 2 x 2/);
    assert.throws(() => new LinearVarForecaster({ weights: W, bias: [1] }), /bias/);
    const f = linearVar1([[0.5]]);
    const xt = tf.tensor3d([1, 2, 3], [1, 3, 1]);
    const before = tf.memory().numTensors;
    const out = f.rollout(xt, 4);
    assert.equal(tf.memory().numTensors, before + 1);
    close(out.dataSync(), [1.5, 0.75, 0.375, 0.1875], 1e-6, "AR(1)");
    assert.throws(() => f.rollout(tf.tensor3d([], [1, 0, 1]), 1), /at least 1 steps/);
    tf.dispose([xt, out]);
  });
});
