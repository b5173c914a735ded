/**
 * A DeepCausalMMM-style model (STUDY.md, "The three works" and "Models and decoders"): adstock
 * and Hill saturation per channel, an upper-triangular DAG that blends each channel's media with
 * its parents', a GRU shared by all regions and region baselines. It is the study's example of a
 * neural MMM that reports its own DAG as the graph; {@link DeepCausalMMM} gives the equations,
 * the Forecaster behaviour and where it departs from DeepCausalMMM.
 */
import type { NodeRole, Panel } from "../data/panel";
import type { ForecastInputs, Forecaster, RolloutFeed } from "../core/forecaster";
import { Rng } from "../rng";
import { tf } from "../tf";
import type { ArrayBatch, BatchExtras, LossTerms, Trainable } from "../core/trainable";
import { ParamStore } from "../core/params";
import { dense, type GruWeights, gruUpdate, gruWeights, matMul2d } from "./params";
import { runRecurrent } from "./recurrent";

export interface DeepCausalMMMConfig {
  nodes: number;
  /** Index of the target node. */
  target: number;
  /** Node indices of the channels, in DAG order (channel k can only receive from channels before it). */
  channels: number[];
  /** Context size K (0: none). */
  contextDim: number;
  /** Number of regions with a learned intercept (0: the shared intercept only). */
  regions: number;
  /** GRU hidden size H. */
  hidden: number;
  /** Temperature of the DAG's sigmoid. */
  temperature: number;
  /** Huber loss threshold delta. */
  huberDelta: number;
  /** Weight of the mean DAG entry in the loss. */
  dagPenalty: number;
  /**
   * Weight of the prior baseline in steps (kappa), or null: the prior alone.
   *
   * Baseline (region-specific). `b0` is a shared learned intercept; with `regions > 0` each
   * region r adds a learned intercept delta_r (DeepCausalMMM's region baselines; rows name their
   * region in the batch field `region`). Ours: the Forecaster contract carries no unit identity
   * and the study evaluates on held-out units, so the baseline is also estimated from the row's
   * own history, shrunk toward that prior (`baselineShrinkage` = kappa, the prior's weight in
   * steps):
   *
   *     b(0) = prior = b0 + delta_r (delta_r = 0 when the region is not given)
   *     b(t) = (kappa prior + sum_{s=1..t} [y(s) - y^0(s)]) / (kappa + t)     (t >= 1)
   *
   * a causal running mean of the core model's residuals. In a rollout the target's input is its
   * own prediction, whose residual is the current baseline, so b stays fixed at its value at the
   * origin. (In teacher forcing this adds a small path: spend at t moves y^0(t+1), hence the
   * residual at t+1 and, by -1/(kappa + t + 1) of it, the later baselines.)
   * `baselineShrinkage: null` uses the prior alone (DeepCausalMMM's baseline; forecasting then
   * needs the region through `inputs.regions`). No trend and no seasonality (a window carries no
   * absolute time).
   */
  baselineShrinkage: number | null;
  /** Whether the target's own past enters (the GRU input y and the lag term phi). */
  ownLag: boolean;
  /**
   * Per channel (DAG order), the value on the data's scale that means zero spend; null: 0.
   * Spend must be non-negative after `zeroSpend` is subtracted for the Hill curve to see it: on a
   * standardised panel, set `zeroSpend` to each channel's scaled zero (`scaleValue(scaler, c, 0)`);
   * a negative adstocked level saturates to 0.
   */
  zeroSpend: number[] | null;
  /** Steps rolled out at the end of each training window. */
  horizon: number;
  /** Predictions at the start of each training window left out of the loss. */
  burnIn: number;
  seed: number;
}

type Required4 = "nodes" | "target" | "channels" | "contextDim";

export const DEEPCAUSALMMM_DEFAULTS: Omit<DeepCausalMMMConfig, Required4> = {
  regions: 0,
  hidden: 16,
  temperature: 1,
  huberDelta: 1,
  dagPenalty: 0.01,
  baselineShrinkage: 4,
  ownLag: true,
  zeroSpend: null,
  horizon: 7,
  burnIn: 4,
  seed: 0,
};

export type DeepCausalMMMInput = Partial<DeepCausalMMMConfig> & Pick<DeepCausalMMMConfig, Required4>;

/** Forecaster inputs plus, optionally, each row's region (int indices [B]) for the learned intercepts. */
export type DeepCausalInputs = ForecastInputs & { regions?: tf.Tensor1D; feed?: RolloutFeed };

/** Hill saturation is 0 at or below this adstocked level. */
const HILL_FLOOR = 1e-12;

/**
 * The upper-triangular DAG: `sigmoid(logits / temperature)` on the strict upper triangle, exactly 0
 * on and below the diagonal whatever the logits (even infinite or NaN). logits: [C, C] -> [C, C].
 */
export function upperTriangularDag(logits: tf.Tensor2D, temperature: number): tf.Tensor2D {
  if (!(Number.isFinite(temperature) && temperature > 0)) throw new Error(`DAG temperature must be a finite number > 0, got ${temperature}`);
  const [C, C2] = logits.shape;
  if (C !== C2) throw new Error(`DAG logits must be square, got [${logits.shape}]`);
  return tf.tidy(() => {
    const upper = tf.linalg
      .bandPart(tf.ones([C, C]), 0, -1)
      .sub(tf.eye(C))
      .cast("bool");
    return tf.where(upper, tf.sigmoid(logits.div(temperature)), tf.zeros([C, C])) as tf.Tensor2D;
  });
}

/** Elementwise Huber loss of errors e: `e^2 / 2` for |e| <= delta, `delta (|e| - delta / 2)` beyond. */
export function huber(e: tf.Tensor, delta: number): tf.Tensor {
  if (!(delta > 0)) throw new Error(`Huber delta must be > 0, got ${delta}`);
  return tf.tidy(() => {
    const abs = e.abs();
    const quad = abs.minimum(delta);
    return quad.square().mul(0.5).add(abs.sub(quad).mul(delta));
  });
}

/** The required part of a config for a panel: its nodes, target, channels (node order), context size and one region per unit. */
export function deepCausalConfigFor(
  panel: Pick<Panel, "nodes" | "roles" | "nodeNames" | "units" | "context">,
): Pick<DeepCausalMMMConfig, Required4 | "regions"> {
  const targets = panel.roles.flatMap((r, i) => (r === "target" ? [i] : []));
  if (targets.length !== 1) throw new Error(`DeepCausalMMM: the panel needs exactly one target node, found ${targets.length}`);
  const channels = panel.roles.flatMap((r: NodeRole, i) => (r === "channel" ? [i] : []));
  return { nodes: panel.nodes, target: targets[0], channels, contextDim: panel.context?.names.length ?? 0, regions: panel.units };
}

/** Batch extras naming each row's region: `{ region: [B] }`, the unit index (or `regionOfUnit[unit]`). */
export function regionExtras(regionOfUnit?: readonly number[]): BatchExtras {
  return (units) => {
    const data = Float32Array.from(units, (u) => {
      const r = regionOfUnit ? regionOfUnit[u] : u;
      if (r === undefined) throw new Error(`regionExtras: no region for unit ${u}`);
      return r;
    });
    return { region: { data, shape: [units.length] } };
  };
}

function checkConfig(c: DeepCausalMMMConfig): void {
  const what = "DeepCausalMMM";
  const int = (v: unknown, min: number) => Number.isInteger(v) && (v as number) >= min;
  if (!int(c.nodes, 2)) throw new Error(`${what}: needs at least 2 nodes, got ${c.nodes}`);
  if (!(int(c.target, 0) && c.target < c.nodes)) throw new Error(`${what}: target ${c.target} is not a node index (0..${c.nodes - 1})`);
  if (!Array.isArray(c.channels) || c.channels.length === 0) throw new Error(`${what}: channels must list at least one channel node index`);
  const seen = new Set<number>();
  for (const j of c.channels) {
    if (!(int(j, 0) && j < c.nodes)) throw new Error(`${what}: channel ${j} is not a node index (0..${c.nodes - 1})`);
    if (j === c.target) throw new Error(`${what}: the target (node ${j}) cannot be a channel`);
    if (seen.has(j)) throw new Error(`${what}: channel ${j} is listed twice`);
    seen.add(j);
  }
  if (!int(c.contextDim, 0)) throw new Error(`${what}: contextDim must be an integer >= 0, got ${c.contextDim}`);
  if (!int(c.regions, 0)) throw new Error(`${what}: regions must be an integer >= 0, got ${c.regions}`);
  if (!int(c.hidden, 1)) throw new Error(`${what}: hidden must be an integer >= 1, got ${c.hidden}`);
  if (!(Number.isFinite(c.temperature) && c.temperature > 0)) throw new Error(`${what}: temperature must be a finite number > 0, got ${c.temperature}`);
  if (!(Number.isFinite(c.huberDelta) && c.huberDelta > 0)) throw new Error(`${what}: huberDelta must be a finite number > 0, got ${c.huberDelta}`);
  if (!(Number.isFinite(c.dagPenalty) && c.dagPenalty >= 0)) throw new Error(`${what}: dagPenalty must be a finite number >= 0, got ${c.dagPenalty}`);
  if (c.baselineShrinkage !== null && !(Number.isFinite(c.baselineShrinkage) && c.baselineShrinkage >= 0)) {
    throw new Error(`${what}: baselineShrinkage must be a finite number >= 0 or null, got ${c.baselineShrinkage}`);
  }
  if (c.zeroSpend !== null && !(Array.isArray(c.zeroSpend) && c.zeroSpend.length === c.channels.length && c.zeroSpend.every(Number.isFinite))) {
    throw new Error(`${what}: zeroSpend must be null or ${c.channels.length} finite numbers (one per channel)`);
  }
  if (!int(c.horizon, 1)) throw new Error(`${what}: horizon must be an integer >= 1, got ${c.horizon}`);
  if (!int(c.burnIn, 0)) throw new Error(`${what}: burnIn must be an integer >= 0, got ${c.burnIn}`);
}

/**
 * The DeepCausalMMM-style model. Per row (one region's window) and step t, with C channels in the
 * model's *DAG order* (`config.channels`, node indices) and spend `s_c(t) = x_c(t) - zeroSpend_c`:
 *
 *     a_c(t)   = s_c(t) + lambda_c a_c(t-1),  a_c(-1) = 0       geometric adstock, lambda_c = sigmoid(.)
 *     h_c(t)   = a^S / (a^S + K^S) for a = a_c(t) > 0, else 0      Hill, S_c = softplus(.), K_c = softplus(.)
 *                (computed as sigmoid(S (log a - log K)), 0 for a <= 1e-12: the same curve, finite gradients)
 *     A        = sigmoid(logits / temperature) on the strict upper triangle, 0 elsewhere   [C, C]
 *     m(t)     = h(t) + h(t) A       i.e. m_i = h_i + sum_{j<i} A[j][i] h_j  (additive one-hop blend)
 *     g(t)     = GRU([m(t), y(t), c], g(t-1))      shared by all regions; y the target, c the context
 *     y^0(t+1) = sum_c beta_c m_c(t) + w_r . g(t) + phi y(t),   beta_c = softplus(.) >= 0
 *     y^(t+1)  = y^0(t+1) + b(t)                   b: the region's baseline
 *
 * (the baseline b is described at {@link DeepCausalMMMConfig.baselineShrinkage}).
 *
 * Channel i can only receive from channels j before it in `config.channels`: the order decides
 * which directions the DAG can express (an edge from a later to an earlier channel is exactly 0
 * for any logits). The DAG acts on the *media effect* (what channel i contributes to the target
 * includes a share of its parents' saturated media), not on the spend series, which stays
 * exogenous: as in DeepCausalMMM, the DAG is a claim about channels, and the model's forecasts
 * of a channel never depend on another channel (so CIG and AR-CIG between two channels are 0
 * whatever A says: the DAG is read out as the graph, but it is no path between channel series).
 *
 * As a {@link Forecaster} (`minHistory` 1, `acceptsGraph` false) it forecasts the target only:
 * every other node's prediction is its own input (persistence). In a rollout the channels are
 * exogenous spend: the `feed` values where the mask is 1, otherwise the last observed spend is
 * held. Intermediate nodes are not modelled (held like channels; nothing reads them). Training
 * rollouts (the last `horizon` steps of each window) feed the channels their observed spend.
 *
 * Loss: Huber (delta `huberDelta`) on the target's predictions after the first `burnIn` of each
 * window (the adstock and GRU start cold), plus `dagPenalty` x the mean DAG weight (a sparsity
 * pull; DeepCausalMMM regularises its DAG too). Its graph ({@link DeepCausalMMM.graph}): A between
 * channels, beta / max(beta) from each channel to the target, 0 elsewhere.
 *
 * Ours where DeepCausalMMM differs or is silent: the blend form, the target's own lag (phi and the
 * GRU input y; `ownLag: false` removes both, as in DeepCausalMMM, whose GRU reads media and
 * controls only), the history-estimated baseline, the linear read-out of the GRU (DeepCausalMMM
 * turns its GRU state into time-varying coefficients), context in place of controls.
 *
 * Shapes: B rows, T steps, N nodes, C channels, H hidden size, K context size, R regions.
 */
export class DeepCausalMMM implements Trainable {
  readonly kind = "deepcausalmmm";
  readonly config: DeepCausalMMMConfig;
  readonly params: ParamStore;
  /** Raw parameters: adstock (sigmoid), Hill slope and half-point (softplus), coefficients (softplus), all [C]; DAG logits [C, C]. */
  private readonly raw: { adstock: tf.Variable; slope: tf.Variable; half: tf.Variable; beta: tf.Variable; logits: tf.Variable };
  private readonly gru: GruWeights; // input [m (C), y (1 if ownLag), context (K)]
  private readonly out: { wr: tf.Variable; phi: tf.Variable; b0: tf.Variable; region?: tf.Variable };
  /** Selects the channels' columns in DAG order: [N, C] 0/1 (a product, not a gather: wasm has no kernel for gather's gradient). */
  private readonly channelSelect: tf.Tensor2D;
  private readonly zero: tf.Tensor1D; // [C]
  private readonly targetMask: tf.Tensor1D; // [N]
  private readonly otherMask: tf.Tensor1D; // [N], 1 - targetMask
  private readonly channelMask: tf.Tensor3D; // [1, 1, N]

  constructor(config: DeepCausalMMMInput) {
    this.config = { ...DEEPCAUSALMMM_DEFAULTS, ...config, channels: [...config.channels] };
    const c = this.config;
    checkConfig(c);
    this.params = new ParamStore(new Rng(c.seed).fork());
    const P = this.params;
    const C = c.channels.length;
    const H = c.hidden;
    const invSoftplus1 = Math.log(Math.E - 1); // softplus^-1(1)
    this.raw = {
      adstock: P.constant("media.adstock", [C], 0), // lambda 0.5
      slope: P.constant("media.slope", [C], invSoftplus1), // S 1
      half: P.constant("media.half", [C], invSoftplus1), // K 1
      beta: P.constant("media.beta", [C], -2), // beta 0.13
      logits: P.add("dag.logits", tf.tensor2d(P.rng.normals(C * C, 0.3), [C, C])),
    };
    this.gru = gruWeights(P, "gru", C + (c.ownLag ? 1 : 0) + c.contextDim, H);
    this.out = {
      wr: P.xavier("out.wr", H, 1),
      phi: P.constant("out.phi", [1], c.ownLag ? 0.5 : 0),
      b0: P.constant("base.b0", [1], 0),
      region: c.regions > 0 ? P.constant("base.region", [c.regions], 0) : undefined,
    };
    const sel = new Float32Array(c.nodes * C);
    c.channels.forEach((j, k) => (sel[j * C + k] = 1));
    this.channelSelect = tf.tensor2d(sel, [c.nodes, C]);
    this.zero = tf.tensor1d(c.zeroSpend ?? new Array<number>(C).fill(0));
    this.targetMask = tf.tidy(
      () =>
        tf
          .oneHot(tf.tensor1d([c.target], "int32"), c.nodes)
          .reshape([c.nodes])
          .toFloat() as tf.Tensor1D,
    );
    this.otherMask = tf.tidy(() => tf.sub(1, this.targetMask) as tf.Tensor1D);
    const cm = new Float32Array(c.nodes);
    for (const j of c.channels) cm[j] = 1;
    this.channelMask = tf.tensor3d(cm, [1, 1, c.nodes]);
  }

  get spec(): Record<string, unknown> {
    return { ...this.config };
  }

  trainableNames(): string[] {
    return this.config.ownLag ? this.params.names() : this.params.names().filter((n) => n !== "out.phi");
  }

  /** The DAG between channels in DAG order: `A[j][i]` the weight of channels[j] -> channels[i]. [C, C]. */
  dag(): tf.Tensor2D {
    return upperTriangularDag(this.raw.logits as tf.Tensor2D, this.config.temperature);
  }

  /** Media parameters in DAG order: adstock lambda, Hill slope S and half-point K, coefficients beta (each [C]). */
  media(): { adstock: tf.Tensor1D; slope: tf.Tensor1D; halfPoint: tf.Tensor1D; beta: tf.Tensor1D } {
    return tf.tidy(() => ({
      adstock: tf.sigmoid(this.raw.adstock) as tf.Tensor1D,
      slope: tf.softplus(this.raw.slope) as tf.Tensor1D,
      halfPoint: tf.softplus(this.raw.half) as tf.Tensor1D,
      beta: tf.softplus(this.raw.beta) as tf.Tensor1D,
    }));
  }

  /**
   * The model's graph in the panel's node order, `G[j][i]` the weight of j -> i: A between
   * channels, beta_c / max(beta) from channel c to the target, 0 elsewhere (intermediates are not
   * modelled, nothing leaves the target, the diagonal is 0).
   */
  graph(): number[][] {
    const c = this.config;
    const A = tf.tidy(() => this.dag().arraySync());
    const beta = tf.tidy(() => this.media().beta.arraySync());
    const maxBeta = Math.max(...beta);
    const G = Array.from({ length: c.nodes }, () => new Array<number>(c.nodes).fill(0));
    c.channels.forEach((j, a) => {
      c.channels.forEach((i, b) => (G[j][i] = A[a][b]));
      G[j][c.target] = maxBeta > 0 ? beta[a] / maxBeta : 0;
    });
    return G;
  }

  /**
   * Runs the model: teacher forcing over x's steps, then rollout (channels held or fed).
   * x: [B, T0, N], context: [B, K], regions: [B] -> `steps` predictions [B, steps, N]; prediction
   * s is of step s + 1.
   */
  decode(x: tf.Tensor3D, steps: number, inputs: DeepCausalInputs = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const c = this.config;
      const [B, , N] = x.shape;
      if (N !== c.nodes) throw new Error(`DeepCausalMMM expects ${c.nodes} nodes, got ${N}`);
      const { context, regions, feed } = inputs;
      if (c.contextDim > 0 && !context) throw new Error(`DeepCausalMMM: pass the context ([B, ${c.contextDim}])`);
      if (context && (context.shape[0] !== B || context.shape[1] !== c.contextDim)) {
        throw new Error(`DeepCausalMMM: context [${context.shape}] does not match ${B} rows of ${c.contextDim} values`);
      }
      if (c.baselineShrinkage === null && c.regions > 0 && !regions) {
        throw new Error("DeepCausalMMM: with baselineShrinkage null the baseline is the region's intercept: pass inputs.regions ([B] region indices)");
      }
      const C = c.channels.length;
      const H = c.hidden;
      const { adstock: lambda, slope, halfPoint, beta } = this.media();
      const logK = halfPoint.log();
      const A = this.dag();
      const betaCol = beta.reshape([C, 1]);
      const wxM = this.gru.wx.slice([0, 0], [C, 3 * H]);
      const wxY = c.ownLag ? this.gru.wx.slice([C, 0], [1, 3 * H]) : undefined;
      const gateConst = c.contextDim > 0 ? dense(context!, this.gru.wx.slice([C + (c.ownLag ? 1 : 0), 0], [c.contextDim, 3 * H]), this.gru.b) : this.gru.b;
      const prior = this.prior(B, regions); // [B, 1]
      const kappa = c.baselineShrinkage;
      let s = 0;
      const step = (input: tf.Tensor2D, state: tf.Tensor2D) => {
        const g = state.slice([0, 0], [B, H]);
        const aPrev = state.slice([0, H], [B, C]);
        const sum = state.slice([0, H + C], [B, 1]);
        const prevCore = state.slice([0, H + C + 1], [B, 1]);
        const spend = matMul2d(input, this.channelSelect).sub(this.zero);
        const a = spend.add(aPrev.mul(lambda));
        // step(): 1 above the floor, 0 at or below it (its gradient is 0, unlike a comparison's, which tfjs cannot differentiate)
        const hill = tf.sigmoid(a.maximum(HILL_FLOOR).log().sub(logK).mul(slope)).mul(tf.step(a.sub(HILL_FLOOR)));
        const m = hill.add(matMul2d(hill as tf.Tensor2D, A));
        const y = input.slice([0, c.target], [B, 1]);
        let gx = dense(m, wxM).add(gateConst);
        if (wxY) gx = gx.add(matMul2d(y as tf.Tensor2D, wxY as tf.Tensor2D));
        const gNext = gruUpdate(gx, g, this.gru);
        let core = dense(m, betaCol).add(dense(gNext, this.out.wr));
        if (c.ownLag) core = core.add(y.mul(this.out.phi));
        let nextSum = sum;
        let b = prior;
        if (kappa !== null && s > 0) {
          nextSum = sum.add(y.sub(prevCore));
          b = prior
            .mul(kappa)
            .add(nextSum)
            .div(kappa + s);
        }
        s++;
        const yhat = core.add(b); // [B, 1]
        // exact: the target's column is y^, every other column its input, bit for bit
        const pred = input.mul(this.otherMask).add(yhat.mul(this.targetMask)) as tf.Tensor2D;
        return { pred, state: tf.concat([gNext, a, nextSum, core], 1) as tf.Tensor2D };
      };
      return runRecurrent(x, steps, { init: tf.zeros([B, H + C + 2]) as tf.Tensor2D, step }, feed);
    });
  }

  /** Prior baseline per row: b0 + the row's learned region intercept (0 for rows without a region). [B, 1]. */
  private prior(B: number, regions?: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => {
      const b0 = this.out.b0.reshape([1, 1]).tile([B, 1]);
      if (!regions || !this.out.region) return b0 as tf.Tensor2D;
      if (regions.shape[0] !== B) throw new Error(`DeepCausalMMM: ${regions.shape[0]} regions for ${B} rows`);
      const idx = regions.toInt();
      const v = idx.dataSync();
      for (let r = 0; r < v.length; r++) {
        if (!(v[r] >= 0 && v[r] < this.config.regions)) throw new Error(`DeepCausalMMM: row ${r} names region ${v[r]}, outside 0..${this.config.regions - 1}`);
      }
      // one-hot rows times the intercepts (a gather's gradient has no wasm kernel)
      return b0.add(matMul2d(tf.oneHot(idx, this.config.regions).toFloat() as tf.Tensor2D, this.out.region.reshape([-1, 1]) as tf.Tensor2D)) as tf.Tensor2D;
    });
  }

  /**
   * Loss of a batch: `x` [B, W, N] windows, `context` [B, K], `region` [B] (required when
   * `regions > 0`). Teacher forcing through W - horizon steps, then rollout with the channels fed
   * their observed spend; Huber on the target's predictions after the burn-in, mean over them.
   */
  loss(batch: ArrayBatch): LossTerms {
    return tf.tidy(() => {
      const c = this.config;
      const x = tf.tensor3d(batch.x.data, batch.x.shape as [number, number, number]);
      const context = batch.context ? tf.tensor2d(batch.context.data, batch.context.shape as [number, number]) : undefined;
      if (c.regions > 0 && !batch.region) throw new Error("DeepCausalMMM: with regions > 0 a training batch needs `region` [B] (batch extras regionExtras())");
      const regions = batch.region && c.regions > 0 ? tf.tensor1d(batch.region.data) : undefined;
      const [B, W, N] = x.shape;
      if (W - 1 <= c.burnIn) throw new Error(`DeepCausalMMM: training windows of ${W} steps leave no prediction after the burn-in of ${c.burnIn}`);
      const t0 = Math.max(1, W - c.horizon);
      const feed = { values: x.slice([0, t0, 0], [B, W - t0, N]) as tf.Tensor3D, mask: this.channelMask };
      const preds = this.decode(x.slice([0, 0, 0], [B, t0, N]) as tf.Tensor3D, W - 1, { context, regions, feed });
      const P = W - 1 - c.burnIn;
      const err = preds.slice([0, c.burnIn, c.target], [B, P, 1]).sub(x.slice([0, c.burnIn + 1, c.target], [B, P, 1]));
      const hub = huber(err, c.huberDelta).mean() as tf.Scalar;
      const C = c.channels.length;
      const dag = (
        C > 1
          ? this.dag()
              .sum()
              .div((C * (C - 1)) / 2)
          : tf.scalar(0)
      ) as tf.Scalar;
      return { total: hub.add(dag.mul(c.dagPenalty)) as tf.Scalar, huber: hub, mse: err.square().mean() as tf.Scalar, dag };
    });
  }

  /** The model as a {@link Forecaster}; `inputs.regions` ([B], our extension) is optional; a supplied graph is ignored. */
  forecaster(): Forecaster {
    const model = this;
    return {
      nodes: this.config.nodes,
      minHistory: 1,
      acceptsGraph: false,
      predictOneStep: (x, inputs) => model.decode(x, x.shape[1], inputs as DeepCausalInputs | undefined),
      rollout: (x, horizon, inputs) =>
        tf.tidy(() => {
          const T0 = x.shape[1];
          if (!(Number.isInteger(horizon) && horizon >= 1)) throw new Error(`DeepCausalMMM rollout: horizon must be an integer >= 1, got ${horizon}`);
          if (T0 < 1) throw new Error("DeepCausalMMM rollout: needs at least 1 step of history");
          return model.decode(x, T0 + horizon - 1, inputs as DeepCausalInputs | undefined).slice([0, T0 - 1, 0], [-1, horizon, -1]) as tf.Tensor3D;
        }),
    };
  }

  dispose(): void {
    this.params.dispose();
    tf.dispose([this.channelSelect, this.zero, this.targetMask, this.otherMask, this.channelMask]);
  }
}
