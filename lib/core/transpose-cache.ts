/**
 * Transposes of weights shared by the products of one backward pass. Every step of a recurrent
 * decoder differentiates `x @ W` into `dy @ W^T`; with a cache, W^T is computed once per pass
 * instead of once per step, and the wasm backend, which keeps its packed right-hand factor per
 * tensor, reuses it. Only variables' tensors are cached, and all are disposed when the pass ends.
 */
import { tf } from "../tf";

/** W^T by the data id of W (set only inside {@link withTransposeCache}). */
let cache: { variables: Set<object>; transposes: Map<object, tf.Tensor2D> } | null = null;

const dataId = (t: tf.Tensor): object => (t as unknown as { dataId: object }).dataId;

/** Runs `f` with weight transposes shared by its products; nested calls share the outer cache. */
export function withTransposeCache<T>(f: () => T): T {
  if (cache) return f();
  const variables = new Set(Object.values(tf.engine().registeredVariables).map(dataId));
  cache = { variables, transposes: new Map() };
  const own = cache;
  try {
    return f();
  } finally {
    cache = null;
    for (const t of own.transposes.values()) t.dispose();
  }
}

/** w^T: the cached copy when w holds a variable's values inside {@link withTransposeCache} (disposed by it), else a new tensor. w: [K, N] -> [N, K]. */
export function transposed(w: tf.Tensor2D): tf.Tensor2D {
  const key = dataId(w);
  if (!cache || !cache.variables.has(key)) return w.transpose();
  let t = cache.transposes.get(key);
  if (!t) {
    t = tf.keep(w.transpose() as tf.Tensor2D);
    cache.transposes.set(key, t);
  }
  return t;
}
