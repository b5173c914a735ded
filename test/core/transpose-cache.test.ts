import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { transposed, withTransposeCache } from "../../lib/core/transpose-cache";
import { tf } from "../../lib/tf";

describe("withTransposeCache", () => {
  it("shares one transpose of a variable per pass, gives plain tensors new ones, and disposes its copies at the end", async () => {
    await tf.setBackend("cpu");
    const w = tf.variable(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), true, "transpose-cache.w");
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const before = tf.memory().numTensors;
    withTransposeCache(() => {
      const a = transposed(w);
      const b = transposed(w);
      assert.equal(a, b, "the variable's transpose is computed once");
      assert.deepEqual(a.shape, [3, 2]);
      assert.deepEqual(Array.from(a.dataSync()), [1, 4, 2, 5, 3, 6]);
      const c = transposed(x);
      const d = transposed(x);
      assert.notEqual(c, d, "a plain tensor is not cached");
      tf.dispose([c, d]);
    });
    assert.equal(tf.memory().numTensors, before, "the cached transpose is disposed when the pass ends");
    const outside = transposed(w);
    assert.notEqual(outside, transposed(w), "outside a pass nothing is cached");
    tf.dispose([outside, x, w]);
  });
});
