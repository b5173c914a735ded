import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { fixedProduct, gruUpdate, gruWeights, tanh } from "../../lib/models/params";
import { ParamStore } from "../../lib/core/params";
import { Rng } from "../../lib/rng";
import { tf } from "../../lib/tf";

before(async () => {
  await initBackend("wasm", null);
});

/** Values from -20 to 20, dense near 0, where tanh changes fastest. */
const xs = Array.from({ length: 401 }, (_, k) => (Math.sign(k - 200) * ((k - 200) / 10) ** 2) / 20);

describe("tanh (through the logistic function)", () => {
  it("equals Math.tanh to float32 rounding, saturating at +-1 without overflow", () => {
    const y = tf.tidy(() => tanh(tf.tensor1d(xs)).dataSync());
    xs.forEach((x, k) => assert.ok(Math.abs(y[k] - Math.tanh(x)) < 3e-7, `tanh(${x}) = ${y[k]}, expected ${Math.tanh(x)}`));
    assert.equal(y[0], -1);
    assert.equal(y[400], 1);
  });

  it("has the derivative 1 - tanh(x)^2, scaled by the incoming gradient", () => {
    const w = tf.tensor1d(xs.map((_, k) => 1 + (k % 3)));
    const g = tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) => tanh(x).mul(w).sum())(tf.tensor1d(xs))
        .dataSync(),
    );
    xs.forEach((x, k) => {
      const expected = (1 + (k % 3)) * (1 - Math.tanh(x) ** 2);
      assert.ok(Math.abs(g[k] - expected) < 2e-6, `d tanh(${x}) = ${g[k]}, expected ${expected}`);
    });
    w.dispose();
  });
});

describe("gruUpdate", () => {
  it("computes (1 - u) n + u h with r, u, n from the gates (direct formula)", () => {
    const H = 3;
    const store = new ParamStore(new Rng(4));
    const w = gruWeights(store, "g", 2, H);
    const gx = Array.from({ length: 2 * 3 * H }, (_, k) => Math.sin(k + 1));
    const h = Array.from({ length: 2 * H }, (_, k) => Math.cos(2 * k));
    const got = tf.tidy(() => gruUpdate(tf.tensor2d(gx, [2, 3 * H]), tf.tensor2d(h, [2, H]), w).arraySync() as number[][]);
    const wh = w.wh.arraySync() as number[][];
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    for (let b = 0; b < 2; b++) {
      const hb = h.slice(b * H, (b + 1) * H);
      const gh = Array.from({ length: 3 * H }, (_, o) => hb.reduce((s, v, k) => s + v * wh[k][o], 0));
      for (let i = 0; i < H; i++) {
        const x = (g: number) => gx[b * 3 * H + g * H + i];
        const r = sig(x(0) + gh[i]);
        const u = sig(x(1) + gh[H + i]);
        const n = Math.tanh(x(2) + r * gh[2 * H + i]);
        const expected = (1 - u) * n + u * hb[i];
        assert.ok(Math.abs(got[b][i] - expected) < 1e-5, `row ${b}, unit ${i}: ${got[b][i]} vs ${expected}`);
      }
    }
    store.dispose();
  });
});

describe("fixedProduct", () => {
  it("computes c @ x and its gradient c^T @ dy (direct sums)", () => {
    const c = [
      [1, 0, 0.5],
      [0, 2, 0],
    ]; // [2, 3]
    const x = [
      [1, -1],
      [2, 0.5],
      [-3, 4],
    ]; // [3, 2]
    const dy = [
      [0.5, 2],
      [-1, 3],
    ]; // weights of the output in the loss, [2, 2]
    const ct = tf.tensor2d(c);
    const p = fixedProduct(ct);
    const y = tf.tidy(() => p.apply(tf.tensor2d(x)).arraySync());
    const g = tf.tidy(
      () =>
        tf
          .grad((v: tf.Tensor) =>
            p
              .apply(v as tf.Tensor2D)
              .mul(tf.tensor2d(dy))
              .sum(),
          )(tf.tensor2d(x))
          .arraySync() as number[][],
    );
    for (let m = 0; m < 2; m++)
      for (let n = 0; n < 2; n++)
        assert.equal(
          y[m][n],
          c[m].reduce((s, v, k) => s + v * x[k][n], 0),
        );
    for (let k = 0; k < 3; k++)
      for (let n = 0; n < 2; n++)
        assert.equal(
          g[k][n],
          c.reduce((s, row, m) => s + row[k] * dy[m][n], 0),
        );
    p.dispose();
    assert.ok(ct.isDisposed, "the product disposes its constant");
  });
});
