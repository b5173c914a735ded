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
import { transposed } from "../core/transpose-cache";
import { activeMatMul } from "../native-matmul";
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
  return { value: tf.matMul(x, w), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => productGrads(dy as tf.Tensor2D, saved) };
});

/**
 * The gradients `dy @ w^T` and `x^T @ dy` of `x @ w`, from the saved [x, w]: on wasm's products
 * as plain products of transposed copies (w^T shared within a backward pass); OpenBLAS
 * (lib/native-matmul.ts) reads transposed operands in place, so there the flags do it.
 */
function productGrads(dy: tf.Tensor2D, saved: tf.Tensor[]): [tf.Tensor2D, tf.Tensor2D] {
  const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
  if (activeMatMul() === "blas") return [tf.matMul(dy, ws, false, true), tf.matMul(xs, dy, true, false)];
  return [tf.matMul(dy, transposed(ws)), tf.matMul(xs.transpose(), dy)];
}

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

/** A sum of products `c_1 @ x_1 + ... + c_k @ x_k` with constant left factors, see {@link fixedProduct}. */
export interface FixedProduct {
  /** x_k: [K_k, N], one per constant -> [M, N]. */
  apply(...x: tf.Tensor2D[]): tf.Tensor2D;
  /** Disposes the constants and their transposes. */
  dispose(): void;
}

/**
 * `c_1 @ x_1 + ... + c_k @ x_k` for constants c_k ([M, K_k], e.g. 0/1 matrices selecting edges'
 * senders and receivers; the product takes them over and disposes them): its gradient is
 * `c_k^T @ dy` for each x_k alone, with each c_k^T transposed once, and it saves nothing for the
 * backward pass. {@link matMul2d} and an `add` would also compute the gradient of each c_k (a
 * product and a transpose per call that no parameter needs) and keep each product alive until
 * the backward pass.
 */
export function fixedProduct(...c: tf.Tensor2D[]): FixedProduct {
  if (c.length === 0) throw new Error("fixedProduct needs at least one constant factor");
  const cT = tf.tidy(() => c.map((m) => m.transpose() as tf.Tensor2D));
  const op = customOp<(...x: tf.Tensor2D[]) => tf.Tensor2D>((...args: tf.Tensor2D[]) => {
    let y = tf.matMul(c[0], args[0]);
    for (let k = 1; k < c.length; k++) y = y.add(tf.matMul(c[k], args[k]));
    return { value: y, gradFunc: (dy: tf.Tensor) => cT.map((t) => tf.matMul(t, dy as tf.Tensor2D)) };
  });
  return {
    apply: (...x: tf.Tensor2D[]) => {
      if (x.length !== c.length) throw new Error(`fixedProduct: ${c.length} constant factors, ${x.length} operands`);
      return op(...x);
    },
    dispose: () => tf.dispose([...c, ...cT]),
  };
}

/**
 * `x @ w + b` for a bias b: [N] as one op: it saves x and w for its gradient (the separate `add`
 * would also keep the product alive until the backward pass) and differentiates b as tfjs's
 * `add` does, by summing dy over the rows. x: [M, K], w: [K, N] -> [M, N].
 */
const matMulBias = customOp<(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D>(
  (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
    save([x, w]);
    return {
      value: tf.matMul(x, w).add(b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [...productGrads(dy as tf.Tensor2D, saved), dy.sum(0)],
    };
  },
);

/** x @ W + b over the last axis. x: [..., in] -> [..., out]. */
export function dense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const inDim = shape[shape.length - 1];
  const flat = x.reshape([-1, inDim]) as tf.Tensor2D;
  let y: tf.Tensor;
  if (b && b.rank === 1) y = matMulBias(flat, w as tf.Tensor2D, b as tf.Tensor1D);
  else {
    y = matMul2d(flat, w as tf.Tensor2D);
    if (b) y = y.add(b);
  }
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
 * The gates of a GRU update as one op: from the input's gate pre-activations gx and the state's
 * gh ([..., 3H] each, in the order r, u, n) and the state h ([..., H]):
 * `r = s(xr + hr)`, `u = s(xu + hu)`, `n = act(xn + r hn)`, `h' = n + u (h - n)` (= (1 - u) n + u h),
 * with act tanh (the GRU) or the logistic function (CausalMMM's decoder). Its gradient is written
 * out from the saved r, u, n, hn and h: about half the kernels tfjs's differentiation of the same
 * expression runs, and five saved tensors instead of about fifteen. The values are those of the
 * expression (the same kernels); the gradients equal its derivative up to float32 rounding.
 */
export function gruGates(gx: tf.Tensor, gh: tf.Tensor, h: tf.Tensor, act: "tanh" | "sigmoid" = "tanh"): tf.Tensor {
  return act === "tanh" ? gatesTanh(gx, gh, h) : gatesSigmoid(gx, gh, h);
}

function gatesOp(act: "tanh" | "sigmoid") {
  return customOp<(gx: tf.Tensor, gh: tf.Tensor, h: tf.Tensor) => tf.Tensor>((gx: tf.Tensor, gh: tf.Tensor, h: tf.Tensor, save: tf.GradSaveFunc) => {
    const last = gx.rank - 1;
    const [xr, xu, xn] = tf.split(gx, 3, last);
    const [hr, hu, hn] = tf.split(gh, 3, last);
    const r = tf.sigmoid(xr.add(hr));
    const u = tf.sigmoid(xu.add(hu));
    const pre = xn.add(r.mul(hn));
    const n = act === "tanh" ? tanh(pre) : tf.sigmoid(pre);
    save([r, u, n, hn, h]);
    return {
      value: n.add(u.mul(h.sub(n))),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [rs, us, ns, hns, hs] = saved;
        const dh = dy.mul(us); // through the u h term
        const dn = dy.sub(dh); // dy (1 - u)
        const du = dy.mul(hs.sub(ns));
        const dau = du.mul(us.sub(us.mul(us))); // s'(.) = u (1 - u)
        const dan = act === "tanh" ? dn.sub(dn.mul(ns).mul(ns)) : dn.mul(ns.sub(ns.mul(ns)));
        const dar = dan.mul(hns).mul(rs.sub(rs.mul(rs)));
        return [tf.concat([dar, dau, dan], last), tf.concat([dar, dau, dan.mul(rs)], last), dh];
      },
    };
  });
}
const gatesTanh = gatesOp("tanh");
const gatesSigmoid = gatesOp("sigmoid");

/**
 * One GRU update from precomputed input gates ({@link gruGates} with tanh). gx: [..., 3H] (input
 * projection, bias included), h: [..., H] -> [..., H].
 */
export function gruUpdate(gx: tf.Tensor, h: tf.Tensor, w: GruWeights): tf.Tensor {
  return gruGates(gx, dense(h, w.wh), h);
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
