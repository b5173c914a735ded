/**
 * The few layers the models are built from (dense, MLP, row norm, GRU, Hill head), on the
 * parameters of a {@link ParamStore} (lib/core/params.ts).
 *
 * Every model module of lib/models imports this file, so it is also where they tell the model
 * registry which module registers their kinds: a gradient worker thread rebuilds a model through
 * lib/models/registry.ts even when the thread that trains it imported the model class directly.
 */
import type { ParamStore } from "../core/params";
import { registerModelModule } from "../core/registry";
import { tf } from "../tf";

registerModelModule(require.resolve("./registry"));

/**
 * `tf.customGrad` typed as the op it makes: `f` takes the op's inputs (and the save function) and
 * returns the value with its gradient function; the result has the signature `Op`.
 */
function customOp<Op>(f: (...args: never[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] }): Op {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as Op;
}

/**
 * 2-d matrix product whose gradient uses explicit transposes. tfjs differentiates `matMul` into
 * products with `transposeA/B` flags, which the wasm backend runs on a slow path (slower than a
 * plain product of the transposed copy); this keeps every product of the backward pass on the
 * fast path. x: [M, K], w: [K, N] -> [M, N].
 */
export const matMul2d = customOp<(x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D>((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, ws.transpose()), tf.matMul(xs.transpose(), dy as tf.Tensor2D)];
    },
  };
});

/**
 * tanh through the logistic function, `2 sigmoid(2x) - 1`, with its gradient `dy (1 - y^2)` from
 * the saved output. The wasm backend computes tanh element by element with the C library (about
 * 8x slower than its vectorised sigmoid on the decoders' message tensors), so every model uses
 * this one. Its absolute error is float32 rounding near 1 (about 1e-7). x: any shape.
 */
export const tanh = customOp<<T extends tf.Tensor>(x: T) => T>((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const s = tf.sigmoid(x.add(x));
  const y = s.add(s).sub(1);
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [ys] = saved;
      return [dy.sub(dy.mul(ys).mul(ys))];
    },
  };
});

/** A product `c @ x` with a constant left factor, see {@link fixedProduct}. */
export interface FixedProduct {
  /** x: [K, N] -> c @ x: [M, N]. */
  apply(x: tf.Tensor2D): tf.Tensor2D;
  /** Disposes c and its transpose. */
  dispose(): void;
}

/**
 * `c @ x` for a constant c ([M, K], e.g. a 0/1 matrix selecting edges' senders; the product takes
 * it over and disposes it): its gradient is `c^T @ dy` alone, with c^T transposed once. {@link matMul2d} would also compute the gradient of
 * c, a product and a transpose per call that no parameter needs.
 */
export function fixedProduct(c: tf.Tensor2D): FixedProduct {
  const cT = tf.tidy(() => c.transpose() as tf.Tensor2D);
  const apply = customOp<(x: tf.Tensor2D) => tf.Tensor2D>((x: tf.Tensor2D) => ({
    value: tf.matMul(c, x),
    gradFunc: (dy: tf.Tensor) => tf.matMul(cT, dy as tf.Tensor2D),
  }));
  return { apply, dispose: () => tf.dispose([c, cT]) };
}

/** x @ W + b over the last axis. x: [..., in] -> [..., out]. */
export function dense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const inDim = shape[shape.length - 1];
  const flat = x.reshape([-1, inDim]);
  let y: tf.Tensor = matMul2d(flat as tf.Tensor2D, w as tf.Tensor2D);
  if (b) y = y.add(b);
  return y.reshape([...shape.slice(0, -1), w.shape[1] as number]);
}

/** A two-layer ELU MLP (the official BaseMLP without batch norm). */
export interface Mlp {
  w1: tf.Variable;
  b1: tf.Variable;
  w2: tf.Variable;
  b2: tf.Variable;
}

/** The layer sizes of an {@link mlp}. */
export interface MlpShape {
  inDim: number;
  hidden: number;
  outDim: number;
}

/** The parameters of a two-layer MLP named `name` (Xavier weights, biases 0.1). */
export function mlp(store: ParamStore, name: string, shape: MlpShape): Mlp {
  const { inDim, hidden, outDim } = shape;
  return {
    w1: store.xavier(`${name}.w1`, inDim, hidden),
    b1: store.constant(`${name}.b1`, [hidden], 0.1),
    w2: store.xavier(`${name}.w2`, hidden, outDim),
    b2: store.constant(`${name}.b2`, [outDim], 0.1),
  };
}

export function applyMlp(m: Mlp, x: tf.Tensor): tf.Tensor {
  return tf.elu(dense(tf.elu(dense(x, m.w1, m.b1)), m.w2, m.b2));
}

/** Scale and shift of a {@link normRows} layer. */
export interface RowNorm {
  gamma: tf.Variable;
  beta: tf.Variable;
}

export function rowNorm(store: ParamStore, name: string, features: number): RowNorm {
  return { gamma: store.constant(`${name}.gamma`, [features], 1), beta: store.constant(`${name}.beta`, [features], 0) };
}

/**
 * Normalises each feature over the rows (nodes or edges) of one unit: x: [B, R, F], statistics
 * per (b, f) over R. This is what the official CausalMMM's BatchNorm1d computes in training
 * mode with its batch size of 1 (its batch is one unit's nodes or edges), kept per unit here so
 * that a unit's graph does not depend on the other units of its batch.
 */
export function normRows(x: tf.Tensor, n: RowNorm, eps = 1e-5): tf.Tensor {
  const { mean, variance } = tf.moments(x, 1, true);
  return x.sub(mean).div(variance.add(eps).sqrt()).mul(n.gamma).add(n.beta);
}

/**
 * Batched matrix product with explicit-transpose gradients (see {@link matMul2d}).
 * x: [B, M, K], w: [B, K, N] -> [B, M, N].
 */
export const matMulBatched = customOp<(x: tf.Tensor3D, w: tf.Tensor3D) => tf.Tensor3D>((x: tf.Tensor3D, w: tf.Tensor3D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor3D, tf.Tensor3D];
      return [tf.matMul(dy as tf.Tensor3D, ws.transpose([0, 2, 1])), tf.matMul(xs.transpose([0, 2, 1]), dy as tf.Tensor3D)];
    },
  };
});

/** Weights of a GRU cell: input and hidden projections to the three gates (r, u, n). */
export interface GruWeights {
  /** [in, 3H] */
  wx: tf.Variable;
  /** [H, 3H] */
  wh: tf.Variable;
  /** [3H] */
  b: tf.Variable;
}

export function gruWeights(store: ParamStore, name: string, inDim: number, hidden: number): GruWeights {
  return {
    wx: store.xavier(`${name}.wx`, inDim, 3 * hidden),
    wh: store.xavier(`${name}.wh`, hidden, 3 * hidden),
    b: store.constant(`${name}.b`, [3 * hidden], 0),
  };
}

/**
 * One GRU update from precomputed input gates: `r = s(xr + hr)`, `u = s(xu + hu)`,
 * `n = tanh(xn + r * hn)`, `h' = (1 - u) n + u h` (computed as `n + u (h - n)`). gx: [..., 3H] (input projection, bias
 * included), h: [..., H] -> [..., H].
 */
export function gruUpdate(gx: tf.Tensor, h: tf.Tensor, w: GruWeights): tf.Tensor {
  const gh = dense(h, w.wh);
  const last = gx.rank - 1;
  const [xr, xu, xn] = tf.split(gx, 3, last);
  const [hr, hu, hn] = tf.split(gh, 3, last);
  const r = tf.sigmoid(xr.add(hr));
  const u = tf.sigmoid(xu.add(hu));
  const n = tanh(xn.add(r.mul(hn)));
  // (1 - u) n + u h, written without a scalar broadcast (slow on the wasm backend)
  return n.add(u.mul(h.sub(n)));
}

/**
 * CausalMMM's Hill saturation of a read-out y: `y * f^a / (f^a + g^a)` with `f = max(y, 0.1)`.
 * y, a, g: broadcastable -> y's shape. A recurrent decoder computes `g^a` once per sequence and
 * passes it as `ga` (the same values; one power and its gradient instead of one per step).
 */
export function hillHead(y: tf.Tensor, a: tf.Tensor, g: tf.Tensor, ga: tf.Tensor = g.pow(a)): tf.Tensor {
  const fa = y.maximum(0.1).pow(a);
  return fa.div(fa.add(ga)).mul(y);
}
