import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { describeBackend, initBackend } from "../lib/backend";
import type { ArrayBatch } from "../lib/core/trainable";
import { sliceBatch } from "../lib/core/trainable";
import { CausalMMM } from "../lib/models/causalmmm";
import { MATMUL_ADDON_ENV, activeMatMul, matMulAddonPath, parseMatMulRequest } from "../lib/native-matmul";
import { Rng } from "../lib/rng";
import { tf } from "../lib/tf";
import { gradientEngine, localGradients, shardSeed } from "../lib/train/gradients";

/** op(a) @ op(b) by the definition, in double precision. a: [m, k] (or [k, m] transposed), b likewise. */
function directProduct(a: number[][], b: number[][], ta: boolean, tb: boolean): number[][] {
  const A = ta ? a[0].map((_, j) => a.map((r) => r[j])) : a;
  const B = tb ? b[0].map((_, j) => b.map((r) => r[j])) : b;
  return A.map((row) => B[0].map((_, j) => row.reduce((s, v, k) => s + v * B[k][j], 0)));
}

const built = existsSync(matMulAddonPath());
const skip = built
  ? false
  : `the native product addon is not built (${matMulAddonPath()}): scripts/setup.mjs builds it when gcc, Node's headers and OpenBLAS are there`;

describe("native matrix products", () => {
  it("parses requests and rejects unknown names", () => {
    assert.equal(parseMatMulRequest(undefined), "wasm");
    assert.equal(parseMatMulRequest(" OpenBLAS "), "blas");
    assert.throws(() => parseMatMulRequest("cublas"), /GRAPH_MMM_MATMUL="cublas" is not a product kernel: use wasm or blas/);
  });

  // first: before any test has loaded the addon
  it("without the addon, products stay on wasm's kernel and the report says why", async () => {
    const saved = process.env[MATMUL_ADDON_ENV];
    process.env[MATMUL_ADDON_ENV] = "/nonexistent/matmul.node";
    try {
      const choice = await initBackend("wasm", null, { matmul: "blas" });
      assert.equal(choice.matmul, "wasm");
      assert.equal(activeMatMul(), "wasm");
      assert.match(choice.matmulSkipped ?? "", /not built \(\/nonexistent\/matmul\.node/);
      assert.match(describeBackend(choice), /matrix products by wasm \(the native product addon is not built/);
    } finally {
      if (saved === undefined) delete process.env[MATMUL_ADDON_ENV];
      else process.env[MATMUL_ADDON_ENV] = saved;
    }
  });

  it("equal the product by its definition: transposes, batches, broadcast batches, empty sides", { skip }, async () => {
    const choice = await initBackend("wasm", null, { matmul: "blas" });
    assert.equal(choice.matmul, "blas");
    assert.match(describeBackend(choice), /matrix products by OpenBLAS/);
    const rng = new Rng(3);
    const mat = (r: number, c: number) => Array.from({ length: r }, () => Array.from({ length: c }, () => rng.normal()));
    for (const [m, k, n] of [
      [5, 7, 3],
      [1, 9, 1],
      [33, 17, 65],
    ]) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const a = ta ? mat(k, m) : mat(m, k);
          const b = tb ? mat(n, k) : mat(k, n);
          const got = tf.tidy(() => tf.matMul(tf.tensor2d(a), tf.tensor2d(b), ta, tb).arraySync() as number[][]);
          const want = directProduct(a, b, ta, tb);
          got.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - want[i][j]) < 1e-4, `[${m},${k},${n}] ta=${ta} tb=${tb} at (${i},${j})`)));
        }
      }
    }
    // a batch of 3 products, and one right factor broadcast over the batch
    const as = [mat(4, 6), mat(4, 6), mat(4, 6)];
    const bs = [mat(6, 2), mat(6, 2), mat(6, 2)];
    const batched = tf.tidy(() => tf.matMul(tf.tensor3d(as), tf.tensor3d(bs)).arraySync() as number[][][]);
    const broadcast = tf.tidy(() => tf.matMul(tf.tensor3d(as), tf.tensor3d([bs[1]])).arraySync() as number[][][]);
    as.forEach((a, i) => {
      const want = directProduct(a, bs[i], false, false);
      const wantB = directProduct(a, bs[1], false, false);
      want.forEach((row, r) => row.forEach((v, c) => assert.ok(Math.abs(batched[i][r][c] - v) < 1e-4, `batch ${i}`)));
      wantB.forEach((row, r) => row.forEach((v, c) => assert.ok(Math.abs(broadcast[i][r][c] - v) < 1e-4, `broadcast ${i}`)));
    });
    // an empty inner dimension gives zeros, an empty outer one an empty result
    assert.deepEqual(
      tf.tidy(() => tf.matMul(tf.zeros([2, 0]), tf.zeros([0, 3])).arraySync()),
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
    );
    assert.deepEqual(
      tf.tidy(() => tf.matMul(tf.zeros([0, 4]), tf.zeros([4, 3])).shape),
      [0, 3],
    );
    await initBackend("wasm", null, { matmul: "wasm" });
    assert.equal(activeMatMul(), "wasm");
  });

  it("a training gradient: close to wasm's, identical on a rerun and across gradient workers", { skip }, async () => {
    const [B, T, N] = [6, 14, 4];
    const rng = new Rng(21);
    const batch: ArrayBatch = { x: { data: Float32Array.from({ length: B * T * N }, () => rng.normal()), shape: [B, T, N] } };
    const model = new CausalMMM({ nodes: N, target: N - 1, contextDim: 0, encoderSteps: T, hidden: 16, encoderHidden: 16, horizon: 4, seed: 5 });
    const gradsOn = async (matmul: "wasm" | "blas") => {
      await initBackend("wasm", null, { matmul });
      const r = localGradients(model, batch, 9);
      const out = new Map([...r.grads].map(([k, g]) => [k, g.dataSync().slice()]));
      tf.dispose([...r.grads.values()]);
      return out;
    };
    try {
      const wasm = await gradsOn("wasm");
      const blas = await gradsOn("blas");
      const again = await gradsOn("blas");
      let differs = false; // float32 rounding: the products really ran elsewhere
      for (const [name, g] of wasm) {
        const h = blas.get(name)!;
        differs ||= g.some((v, i) => v !== h[i]);
        const scale = Math.max(...g.map(Math.abs), 1e-6);
        const diff = Math.max(...g.map((v, i) => Math.abs(v - h[i])));
        assert.ok(diff <= 1e-3 * scale, `gradient of ${name}: max difference ${diff} against max |g| ${scale}`);
        assert.deepEqual(again.get(name), h, `gradient of ${name} on a rerun`);
      }
      assert.ok(differs, "the OpenBLAS gradient equals wasm's to the bit: were its products used?");
      // two shards, the second in a worker thread that must run the same products
      const engine = gradientEngine(model, 2);
      try {
        const { grads } = await engine.compute(batch, 4);
        const a = localGradients(model, sliceBatch(batch, 0, 3), shardSeed(4, 0));
        const b = localGradients(model, sliceBatch(batch, 3, 6), shardSeed(4, 1));
        for (const [name, g] of grads) {
          const expect = tf.tidy(() => a.grads.get(name)!.mul(0.5).add(b.grads.get(name)!.mul(0.5)));
          assert.deepEqual(g.dataSync(), expect.dataSync(), `gradient of ${name} across workers`);
          tf.dispose([g, expect]);
        }
        tf.dispose([...a.grads.values(), ...b.grads.values()]);
      } finally {
        await engine.close();
      }
    } finally {
      model.dispose();
      await initBackend("wasm", null, { matmul: "wasm" });
    }
  });
});
