import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import type { ArrayBatch } from "../../lib/core/trainable";
import { CausalMMM } from "../../lib/models/causalmmm";
import { Rng } from "../../lib/rng";
import { tf } from "../../lib/tf";
import { gradientEngine, localGradients, shardSeed } from "../../lib/train/gradients";
import { sliceBatch } from "../../lib/core/trainable";

// The model class is imported directly (not through lib/models/index), as experiments do: the
// worker thread must still find the module that rebuilds it.
describe("gradientEngine with a worker thread", () => {
  let model: CausalMMM;
  const [B, T, N] = [5, 12, 3];
  const rng = new Rng(8);
  const batch: ArrayBatch = { x: { data: Float32Array.from({ length: B * T * N }, () => rng.normal()), shape: [B, T, N] } };

  before(async () => {
    await initBackend(undefined, null);
    model = new CausalMMM({ nodes: N, target: N - 1, contextDim: 0, encoderSteps: T, hidden: 4, encoderHidden: 4, horizon: 3, seed: 2 });
  });
  after(() => model.dispose());

  it("two shards (this thread + a worker): the row-weighted sum of the shards' own gradients", async () => {
    const engine = gradientEngine(model, 2);
    try {
      const seed = 17;
      const { grads, terms } = await engine.compute(batch, seed);
      // Shards [0, 3) here and [3, 5) in the worker (bounds round(k * rows / 2)).
      const a = localGradients(model, sliceBatch(batch, 0, 3), shardSeed(seed, 0));
      const b = localGradients(model, sliceBatch(batch, 3, 5), shardSeed(seed, 1));
      assert.deepEqual([...grads.keys()], [...a.grads.keys()]);
      for (const [name, g] of grads) {
        const expect = tf.tidy(() =>
          a.grads
            .get(name)!
            .mul(3 / 5)
            .add(b.grads.get(name)!.mul(2 / 5)),
        );
        assert.deepEqual(g.dataSync(), expect.dataSync(), `gradient of ${name}`);
        tf.dispose([g, expect]);
      }
      for (const k of Object.keys(terms)) assert.equal(terms[k], a.terms[k] * (3 / 5) + b.terms[k] * (2 / 5), `term ${k}`);
      tf.dispose([...a.grads.values(), ...b.grads.values()]);
    } finally {
      await engine.close();
    }
  });
});
