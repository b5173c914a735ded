import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import type { ArrayBatch, Trainable } from "../../lib/core/trainable";
import { CausalMMM } from "../../lib/models/causalmmm";
import { DiceStage1 } from "../../lib/models/dice-stage1";
import { GraphSafeDecoder } from "../../lib/models/graph-safe";
import { Rng } from "../../lib/rng";
import { tf } from "../../lib/tf";
import { leanVariableGrads } from "../../lib/train/backprop";

const [B, T, N] = [4, 14, 3];

function series(seed: number, shape: number[]): { data: Float32Array; shape: number[] } {
  const rng = new Rng(seed);
  return { data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape };
}

/** The three kinds of training graph: encoder + recurrent message passing, recurrent decoder on a supplied graph, encoder + windowed decoder. */
type Model = Trainable & { dispose(): void };

function cases(): { name: string; model: Model; batch: ArrayBatch; seed: number }[] {
  const x = series(3, [B, T, N]);
  const graph = { data: Float32Array.from({ length: B * N * N }, (_, k) => ((k * 7) % 5) / 4), shape: [B, N, N] };
  return [
    {
      name: "CausalMMM",
      model: new CausalMMM({ nodes: N, target: N - 1, contextDim: 0, encoderSteps: T, hidden: 6, encoderHidden: 5, horizon: 4, seed: 2 }),
      batch: { x },
      seed: 11,
    },
    {
      name: "graph-safe decoder",
      model: new GraphSafeDecoder({ nodes: N, target: N - 1, contextDim: 0, hidden: 6, message: 4, embed: 2, horizon: 4, seed: 1 }),
      batch: { x, graph },
      seed: 0,
    },
    { name: "DICE Stage 1", model: new DiceStage1({ nodes: N, encoderSteps: T, encoderHidden: 5, seed: 4 }), batch: { x }, seed: 5 },
  ];
}

function vars(model: Trainable): tf.Variable[] {
  return model.trainableNames().map((n) => model.params.get(n) as tf.Variable);
}

describe("leanVariableGrads", () => {
  before(async () => {
    await initBackend(undefined, null);
  });

  for (const { name, model, batch, seed } of cases()) {
    it(`${name}: the value and every gradient equal tf.variableGrads's bit for bit, and nothing is left behind`, () => {
      const vs = vars(model);
      const loss = () => model.loss(batch, seed).total;
      const tensorsBefore = tf.memory().numTensors;
      const ref = tf.variableGrads(loss, vs);
      const afterRef = tf.memory().numTensors;
      const lean = leanVariableGrads(loss, vs);
      assert.equal(tf.memory().numTensors - afterRef, afterRef - tensorsBefore, "as many live tensors as tf.variableGrads leaves (its value and gradients)");
      assert.deepEqual(lean.value.dataSync(), ref.value.dataSync());
      assert.deepEqual(Object.keys(lean.grads).sort(), Object.keys(ref.grads).sort());
      let nonzero = 0;
      for (const v of vs) {
        const a = lean.grads[v.name].dataSync();
        const b = ref.grads[v.name].dataSync();
        if (b.some((g) => g !== 0)) nonzero++;
        assert.deepEqual(a, b, `gradient of ${v.name}`);
      }
      assert.ok(nonzero >= vs.length / 2, `${nonzero} of ${vs.length} gradients are not all zeros`);
      tf.dispose([lean.value, ref.value, ...Object.values(lean.grads), ...Object.values(ref.grads)]);
      assert.equal(tf.memory().numTensors, tensorsBefore);
      model.dispose();
    });
  }

  it("the backward pass holds less memory at its peak than tfjs's (a recurrent decoder over 40 steps)", async () => {
    const model: Model = new GraphSafeDecoder({ nodes: N, target: N - 1, contextDim: 0, hidden: 16, message: 8, embed: 2, horizon: 4, seed: 1 });
    const batch: ArrayBatch = { x: series(9, [8, 40, N]), graph: { data: new Float32Array(8 * N * N).fill(0.5), shape: [8, N, N] } };
    const vs = vars(model);
    const peak = async (grads: typeof leanVariableGrads) => {
      const info = await tf.profile(() => {
        const { value, grads: g } = grads(() => model.loss(batch, 0).total as tf.Scalar, vs);
        tf.dispose([value, ...Object.values(g)]);
      });
      return info.peakBytes;
    };
    const ref = await peak((f, v) => tf.variableGrads(f, v) as { value: tf.Scalar; grads: Record<string, tf.Tensor> });
    const lean = await peak(leanVariableGrads);
    assert.ok(lean < 0.75 * ref, `peak ${lean} bytes against tfjs's ${ref}`);
    model.dispose();
  });

  it("saves tensors for the backward pass as shared handles: no Identity kernel, no tape node of their own", () => {
    const { model, batch, seed } = cases()[0];
    const vs = vars(model);
    const engine = tf.engine() as unknown as { runKernel: (...a: unknown[]) => unknown };
    const counted = (grads: typeof leanVariableGrads) => {
      let identities = 0;
      const run = engine.runKernel;
      engine.runKernel = function (this: unknown, ...a: unknown[]) {
        if (a[0] === "Identity") identities++;
        return run.apply(this, a);
      };
      try {
        const { value, grads: g } = grads(() => model.loss(batch, seed).total, vs);
        tf.dispose([value, ...Object.values(g)]);
      } finally {
        engine.runKernel = run;
      }
      return identities;
    };
    const ref = counted((f, v) => tf.variableGrads(f, v) as { value: tf.Scalar; grads: Record<string, tf.Tensor> });
    const lean = counted(leanVariableGrads);
    assert.ok(ref > 100, `tfjs copies ${ref} saved tensors through Identity`);
    assert.ok(lean < ref / 20, `${lean} Identity kernels against tfjs's ${ref}`);
    assert.equal((tf.engine() as unknown as Record<string, unknown>).clone, tf.engine().constructor.prototype.clone, "the engine's own method is back");
    model.dispose();
  });

  it("a gradient taken inside f keeps tfjs's saved copies, so that f's gradient through it is right (d/dv sum 3v^2 = 6v)", () => {
    const v = tf.variable(tf.tensor1d([0.5, -1.25, 2]), true, "backprop-test.v");
    const before = tf.memory().numTensors;
    const { value, grads } = leanVariableGrads(() => tf.tidy(() => (tf.grad((x: tf.Tensor) => x.pow(3).sum())(v) as tf.Tensor).sum() as tf.Scalar), [v]);
    assert.deepEqual(Array.from(value.dataSync()), [3 * 0.25 + 3 * 1.5625 + 3 * 4]);
    assert.deepEqual(Array.from(grads[v.name].dataSync()), [3, -7.5, 12]);
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, before);
    v.dispose();
  });

  it("refuses a function that does not return a scalar, and frees what it recorded", () => {
    const model = cases()[1].model;
    const vs = vars(model);
    const before = tf.memory().numTensors;
    assert.throws(() => leanVariableGrads(() => vs[0].mul(2) as tf.Scalar, vs), /must return a scalar/);
    assert.throws(
      () =>
        leanVariableGrads(() => {
          vs[0].square().sum();
          throw new Error("boom");
        }, vs),
      /boom/,
    );
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });
});
