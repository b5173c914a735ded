/** Helpers shared by the model tests. */
import assert from "node:assert/strict";
import { Rng } from "../../lib/rng";
import { tf } from "../../lib/tf";

/** A tensor of seeded standard normals times `scale`. */
export function randn(shape: number[], seed: number, scale = 1): tf.Tensor {
  return tf.tensor(
    new Rng(seed).normals(
      shape.reduce((a, b) => a * b, 1),
      scale,
    ),
    shape,
  );
}

/** Edge index of j -> i in the receiver-major order of lib/models/edges.ts. */
export function edgeOf(j: number, i: number, N: number): number {
  return i * (N - 1) + (j < i ? j : j - 1);
}

/** Largest elementwise |a - b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "lengths differ");
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

/** |a - b| <= tol * max(1, |b|) elementwise, for tensors. */
export function assertClose(a: tf.Tensor, b: tf.Tensor, tol: number, what: string): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shapes`);
  const x = a.dataSync();
  const y = b.dataSync();
  for (let k = 0; k < y.length; k++) {
    const d = Math.abs(x[k] - y[k]);
    assert.ok(Number.isFinite(x[k]) && d <= tol * Math.max(1, Math.abs(y[k])), `${what}[${k}]: ${x[k]} vs ${y[k]} (diff ${d})`);
  }
}

/** |a - b| <= tol * max(1, |b|) elementwise, for arrays. */
export function assertCloseArrays(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  for (let k = 0; k < b.length; k++) {
    const d = Math.abs(a[k] - b[k]);
    assert.ok(Number.isFinite(a[k]) && d <= tol * Math.max(1, Math.abs(b[k])), `${what}[${k}]: ${a[k]} vs ${b[k]} (diff ${d})`);
  }
}
