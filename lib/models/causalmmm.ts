/**
 * CausalMMM (Gong et al., WSDM 2024), batched over units: a Causal Relational Encoder that gives
 * edge probabilities and a Marketing Response Decoder that forecasts through the sampled graph.
 * It is the baseline whose graph recovery and stability the study compares DICE with;
 * {@link CausalMMM} gives the architecture, the loss and the deliberate differences from the
 * official code.
 */
import type { ForecastInputs, Forecaster, RolloutFeed } from "../core/forecaster";
import { Rng } from "../rng";
import { tf } from "../tf";
import type { ArrayBatch, LossTerms, Trainable } from "../core/trainable";
import { type EdgeIndex, edgeIndex, graphToEdges } from "./edges";
import { RelationalEncoder, bernoulliLogPrior, edgeKl, gumbelEdges } from "./encoder";
import { ParamStore } from "../core/params";
import { type FixedProduct, dense, fixedProduct, gruGates, hillHead, tanh } from "./params";
import { clampedRows, runRecurrent } from "./recurrent";

export interface CausalMMMConfig {
  /** Number of nodes N. */
  nodes: number;
  /** Index of the target node (the saturation head applies to it). */
  target: number;
  /** Context size K (0: the saturation parameters are free scalars). */
  contextDim: number;
  /** Length of the series the encoder reads per node. */
  encoderSteps: number;
  encoderHidden: number;
  /** Decoder hidden size H. */
  hidden: number;
  /** Gumbel-softmax temperature. */
  tau: number;
  /** Weight of the KL term. */
  lambda: number;
  /** Edge prior: "uniform" (official) or a sparse Bernoulli with this edge probability. */
  prior: "uniform" | { density: number };
  /** Variance of the Gaussian NLL. */
  nllVariance: number;
  /** Steps rolled out autoregressively at the end of each training sequence. */
  horizon: number;
  seed: number;
}

/** The project's defaults: a smaller decoder than the official one, same objective. */
export const CAUSALMMM_DEFAULTS: Omit<CausalMMMConfig, "nodes" | "target" | "contextDim" | "encoderSteps"> = {
  encoderHidden: 64,
  hidden: 64,
  tau: 0.5,
  lambda: 100,
  prior: "uniform",
  nllVariance: 5e-7,
  horizon: 10,
  seed: 0,
};

/** The official configuration (configs/configs01.txt of the CausalMMM code). */
export const CAUSALMMM_OFFICIAL: Partial<CausalMMMConfig> = {
  encoderHidden: 256,
  hidden: 256,
  tau: 0.5,
  lambda: 100,
  prior: "uniform",
  nllVariance: 5e-7,
  horizon: 10,
};

/** The Hill saturation's exponent a, half-saturation g and g^a of each row: [B] each. */
interface Saturation {
  a: tf.Tensor1D;
  g: tf.Tensor1D;
  ga: tf.Tensor1D;
}

/** One training batch. */
export interface SeriesBatch {
  /** x: [B, T, N] */
  x: tf.Tensor3D;
  /** The series the encoder reads. enc: [B, encoderSteps, N] (often x itself). */
  enc: tf.Tensor3D;
  /** context: [B, K] */
  context?: tf.Tensor2D;
}

/** Loss terms of a batch (scalars; the caller disposes). */
export interface CausalMMMLoss {
  total: tf.Scalar;
  nll: tf.Scalar;
  kl: tf.Scalar;
  /** Mean squared error over all predicted values. */
  mse: tf.Scalar;
}

/**
 * The CausalMMM model, batched over units.
 *
 * - *Causal Relational Encoder* (NRI-style): each node's whole training series is embedded by an
 *   MLP, then node -> edge -> node -> edge message passing over all N(N-1) ordered pairs gives
 *   two logits per edge (no-edge / edge). Edges are sampled with a soft Gumbel-softmax (tau).
 * - *Marketing Response Decoder*: a recurrent message-passing network. At each step node i
 *   receives `agg_i = (1/N) sum_j z_ji tanh(W2 tanh(W1 [h_j, h_i] + b1) + b2)` from its sampled
 *   parents, a gated update (the official one: r, u, n gates from the node's input and `agg`)
 *   keeps a hidden state per node, and an MLP reads out every node's next value. The target's
 *   read-out passes a Hill saturation `y * f^a / (f^a + g^a)`, f = max(y, 0.1), with
 *   `a, g = max(linear(context), 0.1)`.
 * - Training: teacher forcing up to `T - horizon`, then autoregressive rollout; loss = Gaussian
 *   NLL (fixed variance) + lambda * KL(q(z) || prior), the prior uniform (official) or a sparse
 *   Bernoulli.
 *
 * Differences from the official PyTorch code, all deliberate: batched over units (the official
 * code only runs with batch size 1); the first layer of each edge MLP is applied to each node
 * once and broadcast to edges (an exact restructuring: `W [h_j, h_i] = W_s h_j + W_r h_i`), which
 * saves (N-1)/1 of that layer's work; the official encoder's batch normalisation (over one unit's nodes or edges, as its batch size
 * of 1 makes it) is kept per unit, so that a unit's graph does not depend on its batch; evaluation
 * uses the edge probabilities themselves instead of a random Gumbel sample, so that diagnostics
 * are deterministic.
 *
 * Shapes: B batch rows (units or windows), N nodes, E = N(N-1) edges, H decoder hidden size,
 * K context size.
 */
export class CausalMMM implements Trainable {
  readonly kind = "causalmmm";
  readonly config: CausalMMMConfig;
  readonly params: ParamStore;
  readonly edges: EdgeIndex;
  private readonly logPrior: tf.Tensor1D;
  /** Each edge's sender part plus its receiver part, through the one-hot [E, N] matrices selecting each edge's sender and receiver. */
  private readonly edgeInput: FixedProduct;
  /** Product with the [N, E] matrix whose row i averages the messages into i (1/N on i's incoming edges). */
  private readonly aggregate: FixedProduct;
  readonly encoder: RelationalEncoder;
  // decoder
  private readonly msg: { ws: tf.Variable; wr: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable };
  private readonly gru: { wx: tf.Variable; wh: tf.Variable };
  private readonly out: { w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable; w3: tf.Variable; b3: tf.Variable };
  private readonly sat: { wa: tf.Variable; ba: tf.Variable; wg: tf.Variable; bg: tf.Variable };

  constructor(config: Partial<CausalMMMConfig> & Pick<CausalMMMConfig, "nodes" | "target" | "contextDim" | "encoderSteps">) {
    this.config = { ...CAUSALMMM_DEFAULTS, ...config };
    const c = this.config;
    if (c.nodes < 2) throw new Error(`CausalMMM needs at least 2 nodes, got ${c.nodes}`);
    if (c.target < 0 || c.target >= c.nodes) throw new Error(`CausalMMM: target ${c.target} is not a node index (0..${c.nodes - 1})`);
    const rng = new Rng(c.seed);
    this.params = new ParamStore(rng.fork());
    this.edges = edgeIndex(c.nodes);
    this.logPrior = bernoulliLogPrior(c.prior === "uniform" ? 0.5 : c.prior.density, "CausalMMM");
    const send = tf.tidy(() => tf.oneHot(tf.tensor1d(this.edges.send, "int32"), c.nodes).toFloat() as tf.Tensor2D);
    const recv = tf.tidy(() => tf.oneHot(tf.tensor1d(this.edges.recv, "int32"), c.nodes).toFloat() as tf.Tensor2D);
    const aggregate = tf.tidy(() => recv.transpose().div(c.nodes) as tf.Tensor2D);
    this.edgeInput = fixedProduct(send, recv);
    this.aggregate = fixedProduct(aggregate);

    const P = this.params;
    const H = c.hidden;
    this.encoder = new RelationalEncoder(P, "enc.", { nodes: c.nodes, steps: c.encoderSteps, hidden: c.encoderHidden });
    this.msg = {
      ws: P.xavier("dec.msg.ws", H, H),
      wr: P.xavier("dec.msg.wr", H, H),
      b1: P.constant("dec.msg.b1", [H], 0.1),
      w2: P.xavier("dec.msg.w2", H, H),
      b2: P.constant("dec.msg.b2", [H], 0.1),
    };
    this.gru = { wx: P.xavier("dec.gru.wx", 1, 3 * H), wh: P.xavier("dec.gru.wh", H, 3 * H) };
    this.out = {
      w1: P.xavier("dec.out.w1", H, H),
      b1: P.constant("dec.out.b1", [H], 0.1),
      w2: P.xavier("dec.out.w2", H, H),
      b2: P.constant("dec.out.b2", [H], 0.1),
      w3: P.xavier("dec.out.w3", H, 1),
      b3: P.constant("dec.out.b3", [1], 0.1),
    };
    const K = Math.max(c.contextDim, 1);
    this.sat = {
      wa: P.xavier("dec.sat.wa", K, 1),
      ba: P.constant("dec.sat.ba", [1], 0.5),
      wg: P.xavier("dec.sat.wg", K, 1),
      bg: P.constant("dec.sat.bg", [1], 0.5),
    };
  }

  get spec(): Record<string, unknown> {
    return { ...this.config };
  }

  /** Every parameter is trained. */
  trainableNames(): string[] {
    return this.params.names();
  }

  /**
   * {@link Trainable} loss: the batch holds `x` [B, T, N], `enc` [B, encoderSteps, N] (defaults
   * to `x`) and optionally `context` [B, K]; edges are Gumbel-sampled with `seed`.
   */
  loss(batch: ArrayBatch, seed: number): LossTerms {
    return tf.tidy(() => {
      const x = tf.tensor3d(batch.x.data, batch.x.shape as [number, number, number]);
      const enc = batch.enc ? tf.tensor3d(batch.enc.data, batch.enc.shape as [number, number, number]) : x;
      const context = batch.context ? tf.tensor2d(batch.context.data, batch.context.shape as [number, number]) : undefined;
      const t = this.lossTerms({ x, enc, context }, seed);
      return { total: t.total, nll: t.nll, kl: t.kl, mse: t.mse };
    });
  }

  /** Encoder parameters' names start with "enc.", decoder's with "dec.". */
  encoderVariables(): tf.Variable[] {
    return this.params.variables((n) => n.startsWith("enc."));
  }

  /** Edge logits. enc: [B, encoderSteps, N] -> [B, E, 2]. */
  edgeLogits(enc: tf.Tensor3D): tf.Tensor3D {
    return this.encoder.logits(enc);
  }

  /** P(edge) per edge. enc: [B, encoderSteps, N] -> [B, E]. */
  edgeProbs(enc: tf.Tensor3D): tf.Tensor2D {
    return this.encoder.probs(enc);
  }

  /** Soft Gumbel-softmax sample of the edge indicator. logits: [B, E, 2] -> [B, E]. */
  sampleEdges(logits: tf.Tensor3D, seed: number): tf.Tensor2D {
    return gumbelEdges(logits, this.config.tau, seed);
  }

  /** Saturation exponents from the context. context: [B, K] -> a, g, g^a: [B] (a, g >= 0.1). */
  private saturation(batch: number, context?: tf.Tensor2D): Saturation {
    const ctx = context ?? tf.zeros([batch, Math.max(this.config.contextDim, 1)]);
    const a = dense(ctx, this.sat.wa, this.sat.ba).reshape([batch]).maximum(0.1) as tf.Tensor1D;
    const g = dense(ctx, this.sat.wg, this.sat.bg).reshape([batch]).maximum(0.1) as tf.Tensor1D;
    return { a, g, ga: g.pow(a) as tf.Tensor1D };
  }

  /**
   * One decoder step, in node-major layout (rows are nodes, so that every edge operation is a
   * plain 2-d product with a constant selection matrix: no gather, no batched product).
   * input: [N, B], hidden: [N, B, H], z: [E, B, 1] -> next prediction [N, B] and new hidden.
   */
  private step(input: tf.Tensor2D, hidden: tf.Tensor3D, z: tf.Tensor3D, sat: Saturation): { pred: tf.Tensor2D; hidden: tf.Tensor3D } {
    const c = this.config;
    const [N, B, H] = hidden.shape;
    const E = this.edges.count;
    const sendPart = dense(hidden, this.msg.ws).reshape([N, B * H]) as tf.Tensor2D;
    const recvPart = dense(hidden, this.msg.wr, this.msg.b1).reshape([N, B * H]) as tf.Tensor2D;
    const m = tanh(this.edgeInput.apply(sendPart, recvPart)); // [E, B*H]
    const msg = tanh(dense(m.reshape([E * B, H]), this.msg.w2, this.msg.b2))
      .reshape([E, B, H])
      .mul(z);
    // sum of incoming messages / N, as a product (its gradient is a product too)
    const agg = this.aggregate.apply(msg.reshape([E, B * H]) as tf.Tensor2D).reshape([N, B, H]);
    const gx = input.reshape([N, B, 1]).mul(this.gru.wx.reshape([1, 1, 3 * H])); // [N, B, 3H]
    const gh = dense(agg, this.gru.wh); // [N, B, 3H]
    const next = gruGates(gx, gh, hidden, "sigmoid") as tf.Tensor3D; // (1 - u) n + u h, n through the logistic function
    const o = tf.relu(dense(tf.relu(dense(next, this.out.w1, this.out.b1)), this.out.w2, this.out.b2));
    const raw = dense(o, this.out.w3, this.out.b3).reshape([N, B]) as tf.Tensor2D;
    // Hill saturation on the target's read-out
    const y = raw.slice([c.target, 0], [1, B]).reshape([B]);
    const satY = hillHead(y, sat.a, sat.g, sat.ga).reshape([1, B]);
    const parts: tf.Tensor[] = [];
    if (c.target > 0) parts.push(raw.slice([0, 0], [c.target, B]));
    parts.push(satY);
    if (c.target < N - 1) parts.push(raw.slice([c.target + 1, 0], [N - 1 - c.target, B]));
    return { pred: tf.concat(parts, 0) as tf.Tensor2D, hidden: next };
  }

  /**
   * Runs the decoder. x: [B, T0, N] is fed for the first T0 steps (teacher forcing); after
   * that each input is the previous prediction (or `inputs.feed` where its mask is 1; with
   * `feed.clamp`, the clamped nodes follow the unperturbed run, states included). z: [B, E],
   * `inputs.context`: [B, K]. Returns `steps` predictions [B, steps, N]; prediction s is of step s + 1.
   */
  decode(x: tf.Tensor3D, z: tf.Tensor2D, steps: number, inputs: { context?: tf.Tensor2D; feed?: RolloutFeed } = {}): tf.Tensor3D {
    const { feed } = inputs;
    return tf.tidy(() => {
      const N = x.shape[2];
      if (N !== this.config.nodes) throw new Error(`CausalMMM decoder expects ${this.config.nodes} nodes, got ${N}`);
      const rows = clampedRows(x, feed);
      const B = rows.x.shape[0];
      const sat = this.saturation(B, inputs.context ? rows.repeat(inputs.context) : undefined);
      const zt = rows.repeat(z).transpose().reshape([this.edges.count, B, 1]) as tf.Tensor3D;
      // the step runs node-major ([N, B]); the recurrent core hands it [B, N] inputs
      const cell = {
        init: tf.zeros([N, B, this.config.hidden]) as tf.Tensor3D,
        step: (input: tf.Tensor2D, hidden: tf.Tensor3D) => {
          const out = this.step(input.transpose() as tf.Tensor2D, hidden, zt, sat);
          return { pred: out.pred.transpose() as tf.Tensor2D, state: out.hidden };
        },
        stateAxes: { rows: 1, nodes: 0 } as const,
      };
      return runRecurrent(rows.x, steps, cell, feed);
    });
  }

  /**
   * Loss terms of a batch: teacher forcing through `T - horizon` steps, then rollout, over all
   * T - 1 predictions; Gumbel-sampled edges when a `seed` is given, else the probabilities.
   * Every term is a mean over the batch's rows (NLL and KL as the official code normalises them).
   */
  lossTerms(batch: SeriesBatch, seed?: number): CausalMMMLoss {
    return tf.tidy(() => {
      const c = this.config;
      const [B, T, N] = batch.x.shape;
      const logits = this.edgeLogits(batch.enc);
      const probs = tf.softmax(logits); // [B, E, 2]
      const z = seed !== undefined ? this.sampleEdges(logits, seed) : (probs.slice([0, 0, 1], [-1, -1, 1]).squeeze([2]) as tf.Tensor2D);
      const t0 = Math.max(1, T - c.horizon);
      const preds = this.decode(batch.x.slice([0, 0, 0], [B, t0, N]), z, T - 1, { context: batch.context });
      const target = batch.x.slice([0, 1, 0], [B, T - 1, N]);
      const sq = preds.sub(target).square();
      const nll = sq.sum().div(2 * c.nllVariance * B * N) as tf.Scalar;
      const kl = edgeKl(probs, this.logPrior, N);
      return { total: nll.add(kl.mul(c.lambda)) as tf.Scalar, nll, kl, mse: sq.mean() as tf.Scalar };
    });
  }

  /**
   * The decoder as a {@link Forecaster} over supplied graphs: `inputs.graph` ([B, N, N] or
   * [N, N], `G[j][i]` the weight of j -> i) is required: the model's own graph for a unit is
   * `edgeProbs` of its training series (see {@link graphMatrices}), a swap supplies another.
   */
  forecaster(): Forecaster {
    const model = this;
    const edgesOf = (inputs: ForecastInputs | undefined, batch: number): tf.Tensor2D => {
      if (!inputs?.graph) throw new Error("CausalMMM forecaster: pass inputs.graph (its edge probabilities per row, or a supplied graph)");
      const e = graphToEdges(model.edges, inputs.graph);
      return e.shape[0] === batch ? e : tf.tidy(() => tf.tile(e, [batch, 1]) as tf.Tensor2D);
    };
    return {
      nodes: model.config.nodes,
      minHistory: 1,
      acceptsGraph: true,
      clampsStates: true,
      predictOneStep(x, inputs) {
        const z = edgesOf(inputs, x.shape[0]);
        try {
          return model.decode(x, z, x.shape[1], { context: inputs?.context });
        } finally {
          z.dispose();
        }
      },
      rollout(x, horizon, inputs) {
        const z = edgesOf(inputs, x.shape[0]);
        try {
          return tf.tidy(() => {
            const T0 = x.shape[1];
            const all = model.decode(x, z, T0 + horizon - 1, { context: inputs?.context, feed: inputs?.feed });
            return all.slice([0, T0 - 1, 0], [-1, horizon, -1]) as tf.Tensor3D;
          });
        } finally {
          z.dispose();
        }
      },
    };
  }

  /** The model's graphs: P(j -> i) per row. enc: [B, encoderSteps, N] -> [B, N, N] (diagonal 0). */
  graphMatrices(enc: tf.Tensor3D): tf.Tensor3D {
    return this.encoder.graphs(enc);
  }

  dispose(): void {
    this.params.dispose();
    this.encoder.dispose();
    this.logPrior.dispose();
    this.edgeInput.dispose();
    this.aggregate.dispose();
  }
}
