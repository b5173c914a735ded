/**
 * DICE Stage 1: a graph encoder trained with a *restricted graph-mediated decoder*
 * (STUDY.md, "Models and decoders"). The decoder is deliberately weak, so that the only way a
 * sender can help a receiver is through the edge variable, and the encoder's edge probabilities
 * are what support selection turns into DICE's graph. {@link DiceStage1} gives the decoder, the
 * loss and what is ours.
 */
import type { NodeRole } from "../data/panel";
import type { ForecastInputs, Forecaster, RolloutFeed } from "../core/forecaster";
import { Rng } from "../rng";
import { tf } from "../tf";
import type { ArrayBatch, LossTerms, Trainable } from "../core/trainable";
import { type EdgeIndex, graphToEdges } from "./edges";
import { RelationalEncoder, bernoulliLogPrior, edgeKl, edgePlacement, edgeProbability, edgesToMatrices, gumbelEdges } from "./encoder";
import { ParamStore } from "../core/params";
import { dense, matMulBatched, tanh } from "./params";

export interface DiceStage1Config {
  nodes: number;
  /** Length of the series the encoder reads (the training window). */
  encoderSteps: number;
  encoderHidden: number;
  /** L: lags of the own autoregression and of the edge function. */
  lags: number;
  /** Hidden size of the shared edge function g. */
  edgeHidden: number;
  /**
   * Give every edge its own linear lag filter `sum_s w_jis x_j(t+1-s)` beside the shared g (ours):
   * with g shared and one gain per receiver, parents of one receiver with different signs or
   * strengths cannot all be expressed, so a true edge can fail to lower the loss. false: the
   * paper's shared g alone.
   */
  edgeFilters: boolean;
  /** Gumbel-softmax temperature. */
  tau: number;
  /** Weight of the KL term. */
  lambda: number;
  /** p of the Bernoulli edge prior: the expected share of edges among the N(N-1) pairs. */
  priorDensity: number;
  /** Variance of the Gaussian NLL (data standardised: a fraction of 1). */
  nllVariance: number;
  /**
   * Add a learned logit per edge, shared by all units, to the encoder's per-unit logits: the
   * edges common to the panel are learned directly, the encoder learns how units differ.
   */
  edgeBias: boolean;
  /**
   * MMM role constraints (ours, beyond the paper): with the node roles given, edges into a
   * channel (media spend is set by the advertiser, not caused by other nodes) and out of the
   * target are ruled out before training: their probability is 0. null: no constraint.
   */
  roles: NodeRole[] | null;
  seed: number;
}

export const DICE_STAGE1_DEFAULTS: Omit<DiceStage1Config, "nodes" | "encoderSteps"> = {
  encoderHidden: 32,
  lags: 3,
  edgeHidden: 16,
  edgeFilters: true,
  tau: 0.5,
  lambda: 1,
  priorDensity: 0.2,
  nllVariance: 0.5,
  edgeBias: true,
  roles: null,
  seed: 0,
};

export type DiceStage1Input = Partial<DiceStage1Config> & Pick<DiceStage1Config, "nodes" | "encoderSteps">;

/**
 * The DICE Stage 1 model: encoder and restricted decoder.
 *
 * The encoder is CausalMMM's relational encoder ({@link RelationalEncoder}): it reads each unit's
 * training series and gives P(j -> i) per unit. The decoder is deliberately weak, so that the
 * only way a sender can help a receiver is through the edge variable z:
 *
 *   x_i(t+1) = b_i + sum_{s=1..L} a_{i,s} x_i(t+1-s)
 *              + sum_{j != i} z_ji [ c_i g(x_j(t), ..., x_j(t-L+1)) + sum_{s=1..L} w_{ji,s} x_j(t+1-s) ]
 *
 * with a small edge function g: R^L -> R (one tanh hidden layer) shared by every edge, a gain c_i
 * per receiver, a linear lag filter w_ji per edge (`edgeFilters`, ours), and no latent memory, no
 * context, no pooling over nodes. Without the filters, every parent of a receiver acts through the
 * same g and the same gain, so parents of opposite sign or very different strength cannot all be
 * expressed and a true edge may not lower the loss: on panels with mixed-sign edges the encoder then
 * learns the receiver's role rather than its parents. During training z is a
 * soft Gumbel-softmax sample of the encoder's logits (temperature tau); in evaluation z is the
 * probabilities themselves, or a supplied 0/1 graph (support selection scores candidate graphs
 * with it). Loss: Gaussian NLL with a fixed variance + lambda * KL(q(z) || Bernoulli(p)), p the
 * expected edge density (a sparse prior, not CausalMMM's uniform one).
 *
 * Ours where the paper is silent: the form of g (shared MLP of a sender's L lags), the
 * receiver gain c_i, the per-edge filters (zero at initialisation, so training starts from the
 * paper's decoder); the NLL variance (0.5 on standardised data, so that an edge must explain
 * about a nat of variance to pay for its KL cost).
 *
 * Shapes: B units, T steps, N nodes, E = N(N-1) edges, L lags.
 */
export class DiceStage1 implements Trainable {
  readonly kind = "dice-stage1";
  readonly config: DiceStage1Config;
  readonly params: ParamStore;
  readonly encoder: RelationalEncoder;
  readonly edges: EdgeIndex;
  private readonly logPrior: tf.Tensor1D;
  private readonly placement: tf.Tensor2D;
  private readonly ar: tf.Variable; // [N, L]
  private readonly bias: tf.Variable; // [N]
  private readonly gain: tf.Variable; // [N]
  private readonly g: { w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable };
  /** Per-edge lag filters `[L, N, N]` (`[s][j][i]`, j -> i; diagonal unused), with `edgeFilters`. */
  private readonly filters?: tf.Variable;
  private readonly edgeBias?: tf.Variable; // [E]
  /** [E, 2]: 0 for allowed edges, a large negative edge logit for ruled-out ones. */
  private readonly ruledOut?: tf.Tensor2D;

  constructor(config: DiceStage1Input) {
    this.config = { ...DICE_STAGE1_DEFAULTS, ...config };
    const c = this.config;
    if (!(Number.isInteger(c.nodes) && c.nodes >= 2)) throw new Error(`DICE Stage 1 needs at least 2 nodes, got ${c.nodes}`);
    if (!(Number.isInteger(c.lags) && c.lags >= 1)) throw new Error(`DICE Stage 1: lags must be a positive integer, got ${c.lags}`);
    if (!(c.encoderSteps > c.lags)) throw new Error(`DICE Stage 1: the encoder window (${c.encoderSteps} steps) must be longer than the lags (${c.lags})`);
    this.params = new ParamStore(new Rng(c.seed).fork());
    const P = this.params;
    this.encoder = new RelationalEncoder(P, "enc.", { nodes: c.nodes, steps: c.encoderSteps, hidden: c.encoderHidden });
    this.edges = this.encoder.edges;
    this.logPrior = bernoulliLogPrior(c.priorDensity, "DICE Stage 1");
    this.placement = edgePlacement(this.edges);
    const N = c.nodes;
    const L = c.lags;
    this.ar = P.add(
      "dec.ar",
      tf.tensor2d(
        Array.from({ length: N * L }, (_, k) => (k % L === 0 ? 0.5 : 0)),
        [N, L],
      ),
    );
    this.bias = P.constant("dec.bias", [N], 0);
    this.gain = P.constant("dec.gain", [N], 1);
    this.g = {
      w1: P.xavier("dec.g.w1", L, c.edgeHidden),
      b1: P.constant("dec.g.b1", [c.edgeHidden], 0),
      w2: P.xavier("dec.g.w2", c.edgeHidden, 1),
      b2: P.constant("dec.g.b2", [1], 0),
    };
    if (c.edgeFilters) this.filters = P.constant("dec.filters", [L, N, N], 0);
    if (c.edgeBias) this.edgeBias = P.constant("enc.edgeBias", [this.edges.count], 0);
    if (c.roles) {
      const roles = c.roles;
      if (roles.length !== N) throw new Error(`DICE Stage 1: ${roles.length} roles for ${N} nodes`);
      const off = Array.from(this.edges.send, (j, e) => (roles[this.edges.recv[e]] === "channel" || roles[j] === "target" ? -1e4 : 0));
      this.ruledOut = tf.tidy(() => tf.stack([tf.zeros([off.length]), tf.tensor1d(off)], 1) as tf.Tensor2D);
    }
  }

  get spec(): Record<string, unknown> {
    return { ...this.config };
  }

  trainableNames(): string[] {
    return this.params.names();
  }

  /** Decoder parameters (everything but the encoder). */
  decoderNames(): string[] {
    return this.params.names().filter((n) => n.startsWith("dec."));
  }

  /**
   * One-step predictions of the restricted decoder for every window of L steps.
   * x: [B, S, N], z: [B, N, N] (`z[b][j][i]` the weight of j -> i) -> [B, S - L + 1, N], where
   * output t is the prediction of step t + L from steps t .. t + L - 1.
   */
  predictWindows(x: tf.Tensor3D, z: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, S, N] = x.shape;
      const L = this.config.lags;
      if (N !== this.config.nodes) throw new Error(`DICE Stage 1 expects ${this.config.nodes} nodes, got ${N}`);
      if (S < L) throw new Error(`DICE Stage 1 needs at least ${L} steps of history, got ${S}`);
      const W = S - L + 1;
      // lag s (1 = most recent) of the window ending at t + L - 1
      const lagged = tf.stack(
        Array.from({ length: L }, (_, s) => x.slice([0, L - 1 - s, 0], [B, W, N])),
        3,
      ); // [B, W, N, L]
      const own = lagged.mul(this.ar).sum(3).add(this.bias); // [B, W, N]
      const gOut = dense(tanh(dense(lagged, this.g.w1, this.g.b1)), this.g.w2, this.g.b2).reshape([B, W, N]) as tf.Tensor3D;
      let cross = matMulBatched(gOut, z).mul(this.gain); // [B, W, N]: c_i sum_j z_ji g_j
      if (this.filters) {
        // + sum_s sum_j z_ji w_jis x_j(t+1-s): one batched product per lag, no gather
        for (let s = 0; s < L; s++) {
          const zs = z.mul(this.filters.slice([s, 0, 0], [1, N, N])) as tf.Tensor3D; // [B, N, N]
          const xs = x.slice([0, L - 1 - s, 0], [B, W, N]) as tf.Tensor3D;
          cross = cross.add(matMulBatched(xs, zs));
        }
      }
      return own.add(cross) as tf.Tensor3D;
    });
  }

  /** Edge logits (no-edge, edge): the encoder's plus the shared edge bias. enc: [B, T, N] -> [B, E, 2]. */
  edgeLogits(enc: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      let logits: tf.Tensor3D = this.encoder.logits(enc);
      if (this.edgeBias) logits = logits.add(tf.stack([tf.zerosLike(this.edgeBias), this.edgeBias], 1));
      if (this.ruledOut) logits = logits.add(this.ruledOut);
      return logits;
    });
  }

  /** Edge weights for a batch: a Gumbel sample (training) or the probabilities. enc: [B, T, N] -> [B, N, N]. */
  edgeMatrices(enc: tf.Tensor3D, seed?: number): { z: tf.Tensor3D; probs: tf.Tensor3D } {
    return tf.tidy(() => {
      const logits = this.edgeLogits(enc);
      const probs = tf.softmax(logits) as tf.Tensor3D; // [B, E, 2]
      const w = seed !== undefined ? gumbelEdges(logits, this.config.tau, seed) : edgeProbability(logits);
      return { z: edgesToMatrices(this.edges, w, this.placement), probs };
    });
  }

  /**
   * Loss of a batch: `x` [B, T, N] the series predicted (one step ahead, every step after the
   * first L), `enc` [B, encoderSteps, N] what the encoder reads (default `x`). Mean over rows.
   */
  loss(batch: ArrayBatch, seed: number): LossTerms {
    return tf.tidy(() => {
      const x = tf.tensor3d(batch.x.data, batch.x.shape as [number, number, number]);
      const enc = batch.enc ? tf.tensor3d(batch.enc.data, batch.enc.shape as [number, number, number]) : x;
      return this.lossTerms(x, enc, seed);
    });
  }

  /** Loss terms; `seed` undefined evaluates with the edge probabilities. */
  lossTerms(x: tf.Tensor3D, enc: tf.Tensor3D, seed?: number): LossTerms {
    return tf.tidy(() => {
      const [B, T, N] = x.shape;
      const L = this.config.lags;
      const { z, probs } = this.edgeMatrices(enc, seed);
      const pred = this.predictWindows(x.slice([0, 0, 0], [B, T - 1, N]), z);
      const target = x.slice([0, L, 0], [B, T - L, N]);
      const sq = pred.sub(target).square();
      const nll = sq.sum().div(2 * this.config.nllVariance * B) as tf.Scalar;
      const kl = edgeKl(probs, this.logPrior);
      return { total: nll.add(kl.mul(this.config.lambda)) as tf.Scalar, nll, kl, mse: sq.mean() as tf.Scalar };
    });
  }

  /** P(j -> i) per unit. enc: [B, encoderSteps, N] -> [B, N, N]. */
  graphMatrices(enc: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => edgesToMatrices(this.edges, edgeProbability(this.edgeLogits(enc)), this.placement));
  }

  /**
   * The restricted decoder as a {@link Forecaster} over supplied graphs (`inputs.graph`
   * required: the unit's edge probabilities, or a candidate support). Deterministic.
   */
  forecaster(): Forecaster {
    const model = this;
    const L = this.config.lags;
    const N = this.config.nodes;
    const zOf = (inputs: ForecastInputs | undefined, batch: number): tf.Tensor3D => {
      if (!inputs?.graph) throw new Error("DICE Stage 1 forecaster: pass inputs.graph (edge probabilities or a 0/1 support)");
      const g = inputs.graph;
      if (g.rank === 3) {
        if (g.shape[0] !== batch) throw new Error(`DICE Stage 1 forecaster: ${g.shape[0]} graphs for ${batch} rows`);
        return model.withoutDiagonal(g as tf.Tensor3D);
      }
      return tf.tidy(() => model.withoutDiagonal(g.expandDims(0) as tf.Tensor3D).tile([batch, 1, 1]) as tf.Tensor3D);
    };
    return {
      nodes: N,
      minHistory: L,
      acceptsGraph: true,
      predictOneStep(x, inputs) {
        const z = zOf(inputs, x.shape[0]);
        try {
          return tf.tidy(() => {
            const [B, S] = x.shape;
            const p = model.predictWindows(x, z); // predictions of steps L .. S
            return tf.concat([tf.zeros([B, L - 1, N]), p], 1).slice([0, 0, 0], [B, S, N]) as tf.Tensor3D;
          });
        } finally {
          z.dispose();
        }
      },
      rollout(x, horizon, inputs) {
        const z = zOf(inputs, x.shape[0]);
        try {
          return rolloutFromWindows((w) => model.predictWindows(w, z), x, { horizon, lags: L, feed: inputs?.feed });
        } finally {
          z.dispose();
        }
      },
    };
  }

  /** A supplied graph with its diagonal zeroed (self-loops are never edges). g: [B, N, N]. */
  withoutDiagonal(g: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => edgesToMatrices(this.edges, graphToEdges(this.edges, g), this.placement));
  }

  dispose(): void {
    this.params.dispose();
    this.encoder.dispose();
    this.logPrior.dispose();
    this.placement.dispose();
    this.ruledOut?.dispose();
  }
}

/**
 * Autoregressive rollout of a lag-window predictor: each step predicts from the last L =
 * `options.lags` inputs, and the prediction (or the fed value where `options.feed.mask` is 1)
 * becomes the next input. predict: [B, L, N] -> [B, 1, N]; x: [B, t0, N] -> [B, horizon, N].
 */
export function rolloutFromWindows(
  predict: (w: tf.Tensor3D) => tf.Tensor3D,
  x: tf.Tensor3D,
  options: { horizon: number; lags: number; feed?: RolloutFeed },
): tf.Tensor3D {
  const { horizon, lags: L, feed } = options;
  return tf.tidy(() => {
    const [B, t0, N] = x.shape;
    if (t0 < L) throw new Error(`rollout needs at least ${L} steps of history, got ${t0}`);
    let window = x.slice([0, t0 - L, 0], [B, L, N]) as tf.Tensor3D;
    const preds: tf.Tensor[] = [];
    for (let k = 0; k < horizon; k++) {
      const p = predict(window as tf.Tensor3D); // [B, 1, N]
      preds.push(p);
      let next: tf.Tensor = p;
      if (feed) {
        const v = feed.values.slice([0, k, 0], [B, 1, N]);
        const m = feed.mask.shape[1] === 1 ? feed.mask : feed.mask.slice([0, k, 0], [-1, 1, N]);
        next = m.mul(v).add(tf.sub(1, m).mul(p));
      }
      window = (L > 1 ? tf.concat([window.slice([0, 1, 0], [B, L - 1, N]), next], 1) : next) as tf.Tensor3D;
    }
    return tf.concat(preds, 1) as tf.Tensor3D;
  });
}
