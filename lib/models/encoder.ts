/**
 * The NRI-style *Causal Relational Encoder* of CausalMMM, shared by CausalMMM and DICE Stage 1,
 * so that both read graphs from the series with the same encoder and differ only in what they
 * train it with. {@link RelationalEncoder} gives its equations and shapes.
 */
import { tf } from "../tf";
import { type EdgeIndex, edgeIndex, edgePairs } from "./edges";
import type { ParamStore } from "../core/params";
import { type Mlp, type RowNorm, applyMlp, dense, matMul2d, mlp, normRows, rowNorm } from "./params";

export interface RelationalEncoderConfig {
  nodes: number;
  /** Length T of the series the encoder reads per node. */
  steps: number;
  /** Hidden size He. */
  hidden: number;
}

/**
 * The Causal Relational Encoder.
 *
 * Each node's whole series is embedded by an MLP, then node -> edge -> node -> edge message
 * passing over all N(N-1) ordered pairs gives two logits per edge (no-edge / edge):
 *
 *   h1_i = norm(MLP(x_i))                          node embedding of the series x_i: [T]
 *   e1_ji = norm(ELU(W2 ELU(Ws h1_j + Wr h1_i + b1) + b2))
 *   h3_i = norm(MLP((1/N) sum_j e1_ji))             edge -> node
 *   e4_ji = norm(ELU(W2' ELU(Ws' h3_j + Wr' h3_i + Wk e1_ji + b1') + b2'))
 *   logits_ji = Wo e4_ji + bo                        [2]
 *
 * The first layer of each edge MLP is applied per node and broadcast to edges
 * (`W [h_j, h_i] = Ws h_j + Wr h_i`, exact), and the normalisation is per unit over its nodes or
 * edges (what the official BatchNorm computes with its batch size of 1), so that a unit's graph
 * does not depend on the other units of its batch.
 *
 * Shapes: B units, T encoder steps, N nodes, E = N(N-1) edges (receiver-major, see edges.ts),
 * He hidden size. Parameter names start with `prefix` (CausalMMM and DICE use "enc.").
 */
export class RelationalEncoder {
  readonly edges: EdgeIndex;
  private readonly m1: Mlp;
  private readonly m2: { ws: tf.Variable; wr: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable };
  private readonly m3: Mlp;
  private readonly m4: { ws: tf.Variable; wr: tf.Variable; wk: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable };
  private readonly out: { w: tf.Variable; b: tf.Variable };
  private readonly norms: RowNorm[];
  private readonly placement: tf.Tensor2D;

  constructor(
    store: ParamStore,
    readonly prefix: string,
    readonly config: RelationalEncoderConfig,
  ) {
    const He = config.hidden;
    const p = prefix;
    this.edges = edgeIndex(config.nodes);
    this.m1 = mlp(store, `${p}m1`, { inDim: config.steps, hidden: He, outDim: He });
    this.m2 = {
      ws: store.xavier(`${p}m2.ws`, He, He),
      wr: store.xavier(`${p}m2.wr`, He, He),
      b1: store.constant(`${p}m2.b1`, [He], 0.1),
      w2: store.xavier(`${p}m2.w2`, He, He),
      b2: store.constant(`${p}m2.b2`, [He], 0.1),
    };
    this.m3 = mlp(store, `${p}m3`, { inDim: He, hidden: He, outDim: He });
    this.m4 = {
      ws: store.xavier(`${p}m4.ws`, He, He),
      wr: store.xavier(`${p}m4.wr`, He, He),
      wk: store.xavier(`${p}m4.wk`, He, He),
      b1: store.constant(`${p}m4.b1`, [He], 0.1),
      w2: store.xavier(`${p}m4.w2`, He, He),
      b2: store.constant(`${p}m4.b2`, [He], 0.1),
    };
    this.out = { w: store.xavier(`${p}out.w`, He, 2), b: store.constant(`${p}out.b`, [2], 0.1) };
    this.norms = [1, 2, 3, 4].map((k) => rowNorm(store, `${p}norm${k}`, He));
    this.placement = edgePlacement(this.edges);
  }

  /** Edge logits (no-edge, edge). enc: [B, T, N] -> [B, E, 2]. */
  logits(enc: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const c = this.config;
      if (enc.shape[1] !== c.steps || enc.shape[2] !== c.nodes) {
        throw new Error(`relational encoder expects [B, ${c.steps}, ${c.nodes}], got [${enc.shape}]`);
      }
      const series = enc.transpose([0, 2, 1]); // [B, N, T]
      const [n1, n2, n3, n4] = this.norms;
      const x1 = normRows(applyMlp(this.m1, series), n1); // [B, N, He]
      const e1 = tf.elu(edgePairs(dense(x1, this.m2.wr, this.m2.b1), dense(x1, this.m2.ws)));
      const skip = normRows(tf.elu(dense(e1, this.m2.w2, this.m2.b2)), n2); // [B, E, He]
      const B = enc.shape[0];
      const N = c.nodes;
      const nodeIn = skip
        .reshape([B, N, N - 1, c.hidden])
        .sum(2)
        .div(N); // receiver-major
      const x3 = normRows(applyMlp(this.m3, nodeIn), n3); // [B, N, He]
      const e4 = tf.elu(edgePairs(dense(x3, this.m4.wr, this.m4.b1), dense(x3, this.m4.ws)).add(dense(skip, this.m4.wk)));
      const h4 = normRows(tf.elu(dense(e4, this.m4.w2, this.m4.b2)), n4);
      return dense(h4, this.out.w, this.out.b) as tf.Tensor3D;
    });
  }

  /** P(edge). enc: [B, T, N] -> [B, E]. */
  probs(enc: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => edgeProbability(this.logits(enc)));
  }

  /** P(j -> i) as matrices. enc: [B, T, N] -> [B, N, N] (diagonal 0). */
  graphs(enc: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => edgesToMatrices(this.edges, this.probs(enc), this.placement));
  }

  dispose(): void {
    this.placement.dispose();
  }
}

/** P(edge) from (no-edge, edge) logits. logits: [B, E, 2] -> [B, E]. */
export function edgeProbability(logits: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(logits).slice([0, 0, 1], [-1, -1, 1]).squeeze([2]) as tf.Tensor2D);
}

/** Soft Gumbel-softmax sample of the edge indicator at temperature tau. logits: [B, E, 2] -> [B, E]. */
export function gumbelEdges(logits: tf.Tensor3D, tau: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const u = tf.randomUniform(logits.shape, 1e-10, 1, "float32", seed);
    const g = u.log().neg().log().neg();
    return tf.softmax(logits.add(g).div(tau)).slice([0, 0, 1], [-1, -1, 1]).squeeze([2]) as tf.Tensor2D;
  });
}

/**
 * KL(q || Bernoulli prior) of two-class edge probabilities, summed over edges and divided by
 * `rows * perRow` (CausalMMM divides by rows x N as the official code does; DICE by rows).
 * probs: [B, E, 2], logPrior: [2] (log(1 - p), log p) -> scalar.
 */
export function edgeKl(probs: tf.Tensor3D, logPrior: tf.Tensor1D, perRow = 1): tf.Scalar {
  return tf.tidy(
    () =>
      probs
        .mul(probs.add(1e-16).log().sub(logPrior))
        .sum()
        .div(probs.shape[0] * perRow) as tf.Scalar,
  );
}

/** The log prior [log(1 - p), log p] of a Bernoulli edge prior with edge probability p in (0, 1). */
export function bernoulliLogPrior(p: number, what: string): tf.Tensor1D {
  if (!(p > 0 && p < 1)) throw new Error(`${what}: prior density must be in (0, 1), got ${p}`);
  return tf.tensor1d([Math.log(1 - p), Math.log(p)]);
}

/** One-hot [E, N * N] matrix placing edge e at its flat index j * N + i. */
export function edgePlacement(idx: EdgeIndex): tf.Tensor2D {
  return tf.tidy(() => tf.oneHot(tf.tensor1d(idx.flat, "int32"), idx.nodes * idx.nodes).toFloat() as tf.Tensor2D);
}

/**
 * [B, E] edge weights -> [B, N, N] matrices `G[j][i]` (diagonal 0), as a product with the
 * placement matrix of {@link edgePlacement}, so that gradients flow on every backend.
 */
export function edgesToMatrices(idx: EdgeIndex, weights: tf.Tensor2D, placement: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => matMul2d(weights, placement).reshape([weights.shape[0], idx.nodes, idx.nodes]) as tf.Tensor3D);
}
