import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { Rng } from "../../lib/rng";
import { tf } from "../../lib/tf";
import { HeapAdam } from "../../lib/train/adam";

/** Values with the awkward cases of float32 arithmetic: zeros, tiny and subnormal, large, both signs. */
function values(rng: Rng, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, (_, k) => {
    if (k % 17 === 0) return 0;
    if (k % 13 === 0) return (rng.uniform() - 0.5) * 1e-39; // subnormal
    if (k % 11 === 0) return (rng.uniform() - 0.5) * 1e6;
    return rng.normal() * scale;
  });
}

interface Trace {
  /** Every variable's values after every step, then the moments and iterations getWeights reports at the end. */
  weights: Float32Array[];
  moments: Float32Array[];
  iterations: number;
}

/**
 * `steps` optimiser steps on three variables (a matrix, a vector, a scalar) with gradients drawn
 * from `seed`, by `make`'s optimiser; `share` keeps an extra handle on the first moment of the
 * first variable after the first step (a tensor sharing its buffer).
 */
async function run(make: () => tf.AdamOptimizer, seed: number, steps: number, share = false): Promise<Trace> {
  const rng = new Rng(seed);
  const shapes = [[7, 5], [5], []];
  const vars = shapes.map((s, i) => tf.variable(tf.tensor(values(rng, s.reduce((a, b) => a * b, 1), 1), s), true, `adam-test-${seed}-${share}-${i}-${make.name}`));
  const opt = make();
  const weights: Float32Array[] = [];
  let held: tf.Tensor | null = null;
  for (let t = 0; t < steps; t++) {
    const grads: tf.NamedTensorMap = {};
    vars.forEach((v, i) => (grads[v.name] = tf.tensor(values(rng, v.size, 10 ** ((t % 5) - 2)), v.shape)));
    opt.applyGradients(grads as unknown as Parameters<tf.AdamOptimizer["applyGradients"]>[0]);
    tf.dispose(Object.values(grads));
    for (const v of vars) weights.push(v.dataSync().slice() as Float32Array);
    if (share && t === 0) held = (await opt.getWeights())[1].tensor.clone();
  }
  const saved = await opt.getWeights();
  const moments = saved.slice(1).map((w) => w.tensor.dataSync().slice() as Float32Array);
  const iterations = saved[0].tensor.dataSync()[0];
  held?.dispose();
  tf.dispose(saved[0].tensor);
  opt.dispose();
  tf.dispose(vars);
  return { weights, moments, iterations };
}

function assertSameBits(a: Float32Array[], b: Float32Array[], what: string): void {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => {
    const xb = new Uint32Array(x.buffer, x.byteOffset, x.length);
    const yb = new Uint32Array(b[i].buffer, b[i].byteOffset, b[i].length);
    const k = xb.findIndex((bits, j) => bits !== yb[j]);
    assert.equal(k, -1, `${what} ${i}, element ${k}: ${x[k]} vs ${b[i][k]}`);
  });
}

describe("HeapAdam", () => {
  before(async () => {
    await initBackend("wasm", null);
  });

  for (const lr of [1e-3, 5e-2]) {
    it(`gives tfjs Adam's weights and moments to the last bit over 40 steps (learning rate ${lr})`, async () => {
      const ours = await run(function heap() {
        return new HeapAdam(lr);
      }, 3, 40);
      const theirs = await run(function tfjs() {
        return tf.train.adam(lr);
      }, 3, 40);
      assertSameBits(ours.weights, theirs.weights, "weights after step");
      assertSameBits(ours.moments, theirs.moments, "moment");
      assert.equal(ours.iterations, 40);
      assert.equal(theirs.iterations, 40);
      // the steps moved the weights: the comparison is not of untouched values
      assert.ok(ours.weights[0].some((x, k) => x !== ours.weights[ours.weights.length - 3][k]));
    });
  }

  it("takes tfjs's own step when a moment's buffer is shared, with the same numbers", async () => {
    const ours = await run(function heap() {
      return new HeapAdam(1e-2);
    }, 8, 12, true);
    const theirs = await run(function tfjs() {
      return tf.train.adam(1e-2);
    }, 8, 12, true);
    assertSameBits(ours.weights, theirs.weights, "weights after step");
    assertSameBits(ours.moments, theirs.moments, "moment");
  });

  it("leaves no tensors behind and gives each parameter a new buffer", async () => {
    const v = tf.variable(tf.ones([3, 2]), true, "adam-test-buffers");
    const opt = new HeapAdam(1e-2);
    const step = () => {
      const g = tf.fill([3, 2], 0.5);
      opt.applyGradients({ [v.name]: g } as unknown as Parameters<tf.AdamOptimizer["applyGradients"]>[0]);
      g.dispose();
    };
    step(); // creates the moments
    const before = tf.memory().numTensors;
    const id = v.dataId;
    step();
    assert.equal(tf.memory().numTensors, before);
    assert.notEqual(v.dataId, id);
    opt.dispose();
    v.dispose();
  });
});
