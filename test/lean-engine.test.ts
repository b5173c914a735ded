import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { before, describe, it } from "node:test";
import { initBackend } from "../lib/backend";
import { LEAN_ENGINE_ENV } from "../lib/lean-engine";
import { Rng } from "../lib/rng";
import { tf } from "../lib/tf";

const values = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
};

describe("lean engine", () => {
  before(async () => {
    await initBackend("wasm", null);
  });

  it("is installed on wasm: the engine's own runKernel and Maps for its records", () => {
    const engine = tf.engine() as unknown as { runKernel: unknown; state: { tensorInfo: unknown } };
    assert.ok(Object.prototype.hasOwnProperty.call(engine, "runKernel"), "runKernel is not replaced on the engine");
    assert.ok(engine.state.tensorInfo instanceof Map, "the engine's tensor records are not a Map");
  });

  it("computes binary ops with broadcasting as IEEE float32 arithmetic does", () => {
    const a = values(2 * 3 * 4, 1);
    const b = values(3 * 1, 2);
    const ta = tf.tensor3d(a, [2, 3, 4]);
    const tb = tf.tensor2d(b, [3, 1]);
    // a[i, j, k] op b[j, 0]: every result is one rounding of the exact value
    const ops: [string, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor, (x: number, y: number) => number][] = [
      ["add", tf.add, (x, y) => Math.fround(x + y)],
      ["sub", tf.sub, (x, y) => Math.fround(x - y)],
      ["mul", tf.mul, (x, y) => Math.fround(x * y)],
      ["div", tf.div, (x, y) => Math.fround(x / y)],
      ["maximum", tf.maximum, (x, y) => Math.max(x, y)],
      ["greater", tf.greater, (x, y) => (x > y ? 1 : 0)],
    ];
    for (const [name, op, ref] of ops) {
      const y = op(ta, tb);
      assert.deepEqual(y.shape, [2, 3, 4], name);
      const got = y.dataSync();
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 3; j++)
          for (let k = 0; k < 4; k++) {
            const at = (i * 3 + j) * 4 + k;
            assert.equal(got[at], ref(a[at], b[j]), `${name} at [${i}, ${j}, ${k}]`);
          }
      y.dispose();
    }
    // a scalar and an int32 operand take the same path
    const s = tf.add(tf.tensor1d([1, 2, 3], "int32"), tf.scalar(5, "int32"));
    assert.equal(s.dtype, "int32");
    assert.deepEqual(Array.from(s.dataSync()), [6, 7, 8]);
    tf.dispose([ta, tb, s]);
  });

  it("frees what it makes: a training step's tensors are all disposed", () => {
    const w = tf.variable(tf.tensor2d(values(12, 3), [4, 3]));
    const x = tf.tensor2d(values(20, 4), [5, 4]);
    const before = tf.memory().numTensors;
    for (let s = 0; s < 3; s++) {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.sigmoid(x.matMul(w)).square().mean() as tf.Scalar), [w]);
      tf.dispose([value, ...Object.values(grads)]);
    }
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([w, x]);
  });

  it("gives tfjs's own losses and gradients, bit for bit, in training a CausalMMM and a DICE Stage 1", () => {
    // a fresh process each way: the engine is set up once per process
    const script = `
      const { initBackend } = require(${JSON.stringify(require.resolve("../lib/backend"))});
      const { tf } = require(${JSON.stringify(require.resolve("../lib/tf"))});
      const { CausalMMM } = require(${JSON.stringify(require.resolve("../lib/models/causalmmm"))});
      const { DiceStage1 } = require(${JSON.stringify(require.resolve("../lib/models/dice-stage1"))});
      const { leanVariableGrads } = require(${JSON.stringify(require.resolve("../lib/train/backprop"))});
      const { Rng } = require(${JSON.stringify(require.resolve("../lib/rng"))});
      (async () => {
        await initBackend("wasm", null);
        const [B, T, N] = [4, 16, 4];
        const rng = new Rng(7);
        const x = { data: Float32Array.from({ length: B * T * N }, () => rng.normal()), shape: [B, T, N] };
        const models = [
          new CausalMMM({ nodes: N, target: N - 1, contextDim: 0, encoderSteps: T, hidden: 8, encoderHidden: 6, horizon: 4, seed: 2 }),
          new DiceStage1({ nodes: N, encoderSteps: T, encoderHidden: 6, seed: 4 }),
        ];
        const out = [];
        const start = tf.memory().numTensors;
        for (const model of models) {
          const vars = model.trainableNames().map((n) => model.params.get(n));
          for (const seed of [1, 2]) {
            const { value, grads } = leanVariableGrads(() => model.loss({ x }, seed).total, vars);
            out.push(Array.from(value.dataSync()));
            for (const name of Object.keys(grads).sort()) out.push(name, Array.from(grads[name].dataSync()));
            tf.dispose([value, ...Object.values(grads)]);
          }
        }
        process.stdout.write(JSON.stringify({ leaked: tf.memory().numTensors - start, lean: Object.prototype.hasOwnProperty.call(tf.engine(), "runKernel"), out }));
      })();`;
    const run = (env: string | undefined) => {
      const r = spawnSync(process.execPath, ["-e", script], { env: { ...process.env, [LEAN_ENGINE_ENV]: env }, encoding: "utf8", timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { leaked: number; lean: boolean; out: unknown[] };
    };
    const lean = run("1");
    const plain = run("0");
    assert.equal(lean.lean, true);
    assert.equal(plain.lean, false);
    assert.equal(lean.leaked, 0);
    assert.ok(lean.out.length > 10, "no gradients were compared");
    const digest = (o: unknown[]) => createHash("sha256").update(JSON.stringify(o)).digest("hex");
    assert.equal(digest(lean.out), digest(plain.out));
    // the losses are finite numbers, not an agreement of two failures
    assert.ok((lean.out[0] as number[]).every(Number.isFinite));
  });
});
