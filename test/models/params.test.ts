import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { dense, fixedProduct, gruGates, gruUpdate, gruWeights, matMul2d, tanh } from "../../lib/models/params";
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

describe("fixedProduct of two constants", () => {
  it("computes c1 @ x1 + c2 @ x2 and its gradients c1^T @ dy and c2^T @ dy (direct sums)", () => {
    const c1 = [
      [1, 0],
      [0, 1],
      [1, 0],
    ]; // [3, 2]
    const c2 = [
      [0, 0.5, 0],
      [1, 0, 0],
      [0, 0, 2],
    ]; // [3, 3]
    const x1 = [
      [1, -2],
      [0.5, 3],
    ];
    const x2 = [
      [2, 1],
      [-1, 0],
      [4, -3],
    ];
    const dy = [
      [1, 2],
      [-1, 0.5],
      [3, -2],
    ];
    const p = fixedProduct(tf.tensor2d(c1), tf.tensor2d(c2));
    const y = tf.tidy(() => p.apply(tf.tensor2d(x1), tf.tensor2d(x2)).arraySync());
    const [g1, g2] = tf.tidy(() =>
      tf
        .grads((a: tf.Tensor, b: tf.Tensor) =>
          p
            .apply(a as tf.Tensor2D, b as tf.Tensor2D)
            .mul(tf.tensor2d(dy))
            .sum(),
        )([tf.tensor2d(x1), tf.tensor2d(x2)])
        .map((g) => g.arraySync() as number[][]),
    );
    const product = (c: number[][], x: number[][], m: number, n: number) => c[m].reduce((s, v, k) => s + v * x[k][n], 0);
    const back = (c: number[][], k: number, n: number) => c.reduce((s, row, m) => s + row[k] * dy[m][n], 0);
    for (let m = 0; m < 3; m++) for (let n = 0; n < 2; n++) assert.equal(y[m][n], product(c1, x1, m, n) + product(c2, x2, m, n));
    for (let k = 0; k < 2; k++) for (let n = 0; n < 2; n++) assert.equal(g1[k][n], back(c1, k, n));
    for (let k = 0; k < 3; k++) for (let n = 0; n < 2; n++) assert.equal(g2[k][n], back(c2, k, n));
    assert.throws(() => p.apply(tf.tensor2d(x1)), /2 constant factors, 1 operands/);
    p.dispose();
  });
});

describe("dense with a bias", () => {
  it("gives the values and the gradients (x, W, b) of matMul2d followed by add, bit for bit", () => {
    const rng = new Rng(4);
    const x = tf.tensor3d(
      Array.from({ length: 2 * 5 * 3 }, () => rng.normal()),
      [2, 5, 3],
    );
    const w = tf.tensor2d(
      Array.from({ length: 3 * 4 }, () => rng.normal()),
      [3, 4],
    );
    const b = tf.tensor1d(Array.from({ length: 4 }, () => rng.normal()));
    const weights = tf.tensor3d(
      Array.from({ length: 2 * 5 * 4 }, () => rng.normal()),
      [2, 5, 4],
    );
    const plain = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
      matMul2d(xi.reshape([-1, 3]) as tf.Tensor2D, wi as tf.Tensor2D)
        .add(bi)
        .reshape([2, 5, 4]);
    const loss = (f: typeof plain) => (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => f(xi, wi, bi).mul(weights).sum();
    const fused = tf.tidy(() => dense(x, w, b).dataSync());
    const direct = tf.tidy(() => plain(x, w, b).dataSync());
    assert.deepEqual(fused, direct);
    const gFused = tf.tidy(() =>
      tf
        .grads(loss(dense))([x, w, b])
        .map((g) => g.dataSync()),
    );
    const gDirect = tf.tidy(() =>
      tf
        .grads(loss(plain))([x, w, b])
        .map((g) => g.dataSync()),
    );
    gFused.forEach((g, k) => assert.deepEqual(g, gDirect[k], `gradient ${["x", "W", "b"][k]}`));
    tf.dispose([x, w, b, weights]);
  });
});

describe("gruGates", () => {
  // loss = sum of w * h' over a [2, H] batch, differentiated in float64 by central differences of the direct formula
  const H = 3;
  const rng = new Rng(12);
  const gx = Array.from({ length: 2 * 3 * H }, () => rng.normal());
  const gh = Array.from({ length: 2 * 3 * H }, () => rng.normal());
  const h = Array.from({ length: 2 * H }, () => rng.normal());
  const w = Array.from({ length: 2 * H }, () => rng.normal());
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const loss = (act: (v: number) => number, a: number[], b: number[], c: number[]) => {
    let total = 0;
    for (let row = 0; row < 2; row++)
      for (let i = 0; i < H; i++) {
        const at = (v: number[], g: number) => v[row * 3 * H + g * H + i];
        const r = sig(at(a, 0) + at(b, 0));
        const u = sig(at(a, 1) + at(b, 1));
        const n = act(at(a, 2) + r * at(b, 2));
        total += w[row * H + i] * ((1 - u) * n + u * c[row * H + i]);
      }
    return total;
  };
  const numeric = (act: (v: number) => number, which: 0 | 1 | 2) => {
    const args = [gx, gh, h];
    return args[which].map((_, k) => {
      const shift = (d: number) => args.map((v, j) => (j === which ? v.map((x, m) => (m === k ? x + d : x)) : v));
      const [ap, bp, cp] = shift(1e-6);
      const [am, bm, cm] = shift(-1e-6);
      return (loss(act, ap, bp, cp) - loss(act, am, bm, cm)) / 2e-6;
    });
  };
  for (const [name, act] of [
    ["tanh", Math.tanh],
    ["sigmoid", sig],
  ] as const) {
    it(`(${name}) gives the direct formula's value and its derivative with respect to gx, gh and h`, () => {
      const wt = tf.tensor2d(w, [2, H]);
      const value = tf.tidy(
        () =>
          gruGates(tf.tensor2d(gx, [2, 3 * H]), tf.tensor2d(gh, [2, 3 * H]), tf.tensor2d(h, [2, H]), name)
            .mul(wt)
            .sum()
            .dataSync()[0],
      );
      assert.ok(Math.abs(value - loss(act, gx, gh, h)) < 1e-5, `value ${value} vs ${loss(act, gx, gh, h)}`);
      const grads = tf.tidy(() =>
        tf
          .grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => gruGates(a, b, c, name).mul(wt).sum())([
            tf.tensor2d(gx, [2, 3 * H]),
            tf.tensor2d(gh, [2, 3 * H]),
            tf.tensor2d(h, [2, H]),
          ])
          .map((g) => Array.from(g.dataSync())),
      );
      ([0, 1, 2] as const).forEach((which) => {
        const expected = numeric(act, which);
        grads[which].forEach((g, k) => assert.ok(Math.abs(g - expected[k]) < 1e-4, `${["gx", "gh", "h"][which]}[${k}]: ${g} vs ${expected[k]}`));
      });
      wt.dispose();
    });
  }
});
