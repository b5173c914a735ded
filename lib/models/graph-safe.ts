/**
 * Stage 2 decoders of DICE and the reference decoders (STUDY.md, "Models and decoders"): the
 * graph-safe latent decoder ({@link GraphSafeDecoder}), whose cross-node paths run only along a
 * supplied graph, and the unconstrained joint GRU ({@link JointGruDecoder}), the typical neural
 * MMM. Together they let the study compare a decoder that must use the graph with one that need
 * not. Training and shapes: {@link DecoderConfig}.
 */
import type { ForecastInputs, Forecaster, RolloutFeed } from "../core/forecaster";
import { Rng } from "../rng";
import { tf } from "../tf";
import type { ArrayBatch, LossTerms, Trainable } from "../core/trainable";
import { ParamStore } from "../core/params";
import { dense, type GruWeights, gruUpdate, gruWeights, hillHead, tanh } from "./params";
import { clampedRows, runRecurrentState } from "./recurrent";

/**
 * Settings both decoders share.
 *
 * Training (both): windows of a unit's series, teacher-forced through all but the last
 * `horizon` steps, then rolled out on their own predictions (as CausalMMM trains); loss = MSE
 * over every prediction, a mean over rows. Batches carry `x` [B, W, N], optional `context`
 * [B, K], and for the graph-safe decoder `graph` [B, N, N].
 *
 * Shapes: B rows (units or windows), N nodes, H hidden size, Hm message size, De embedding size,
 * K context size.
 */
export interface DecoderConfig {
  nodes: number;
  /** Index of the target node. */
  target: number;
  /** Context size K (0: none). */
  contextDim: number;
  /** GRU hidden size H. */
  hidden: number;
  /** Steps rolled out at the end of each training window. */
  horizon: number;
  seed: number;
}

export interface GraphSafeConfig extends DecoderConfig {
  /** Message size Hm. */
  message: number;
  /** Node embedding size De. */
  embed: number;
  /** Hill saturation on the target's read-out, its parameters linear in the context. */
  targetSaturation: boolean;
}

export const GRAPH_SAFE_DEFAULTS: Omit<GraphSafeConfig, "nodes" | "target" | "contextDim"> = {
  hidden: 32,
  message: 16,
  embed: 4,
  horizon: 7,
  targetSaturation: true,
  seed: 0,
};

export type JointGruConfig = DecoderConfig;

export const JOINT_GRU_DEFAULTS: Omit<JointGruConfig, "nodes" | "target" | "contextDim"> = {
  hidden: 64,
  horizon: 7,
  seed: 0,
};

type Required3 = "nodes" | "target" | "contextDim";

function checkDecoder(c: DecoderConfig, what: string): void {
  if (!(Number.isInteger(c.nodes) && c.nodes >= 2)) throw new Error(`${what}: needs at least 2 nodes, got ${c.nodes}`);
  if (!(Number.isInteger(c.target) && c.target >= 0 && c.target < c.nodes)) {
    throw new Error(`${what}: target ${c.target} is not a node index (0..${c.nodes - 1})`);
  }
  if (!(Number.isInteger(c.contextDim) && c.contextDim >= 0)) throw new Error(`${what}: contextDim must be an integer >= 0`);
  if (!(Number.isInteger(c.horizon) && c.horizon >= 1)) throw new Error(`${what}: horizon must be an integer >= 1`);
}

/** Tensors of a batch: x [B, W, N], context [B, K], graph [B, N, N]. */
function batchTensors(batch: ArrayBatch): { x: tf.Tensor3D; context?: tf.Tensor2D; graph?: tf.Tensor3D } {
  const x = tf.tensor3d(batch.x.data, batch.x.shape as [number, number, number]);
  const context = batch.context ? tf.tensor2d(batch.context.data, batch.context.shape as [number, number]) : undefined;
  const graph = batch.graph ? tf.tensor3d(batch.graph.data, batch.graph.shape as [number, number, number]) : undefined;
  return { x, context, graph };
}

/** What a decoder reads besides its history (and supplied graph): the context [B, K] and the rollout feed. */
export interface DecodeInputs {
  context?: tf.Tensor2D;
  feed?: RolloutFeed;
  /** The state to start from (one row per row of x, as `encode` returns it); zeros when absent. */
  initial?: tf.Tensor;
}

/** Teacher forcing through W - horizon steps, rollout to the end; MSE over the W - 1 predictions. */
function windowLoss(x: tf.Tensor3D, horizon: number, decode: (history: tf.Tensor3D, steps: number) => tf.Tensor3D): LossTerms {
  return tf.tidy(() => {
    const [B, W, N] = x.shape;
    if (W < 2) throw new Error(`training windows need at least 2 steps, got ${W}`);
    const t0 = Math.max(1, W - horizon);
    const preds = decode(x.slice([0, 0, 0], [B, t0, N]), W - 1);
    const mse = preds
      .sub(x.slice([0, 1, 0], [B, W - 1, N]))
      .square()
      .mean() as tf.Scalar;
    return { total: mse, mse };
  });
}

type ForecasterInputs = (ForecastInputs & { feed?: RolloutFeed; initial?: tf.Tensor }) | undefined;

/** A {@link Forecaster} from a decode function (teacher forcing over x, then rollout) and an encode function (the state after x, rows on axis 0). */
function recurrentForecaster(
  nodes: number,
  kind: { acceptsGraph: boolean; clampsStates: boolean },
  decode: (x: tf.Tensor3D, steps: number, inputs: ForecasterInputs) => tf.Tensor3D,
  encode: (x: tf.Tensor3D, inputs: ForecasterInputs) => tf.Tensor,
): Forecaster {
  const rollout = (x: tf.Tensor3D, horizon: number, inputs: ForecasterInputs) =>
    tf.tidy(() => {
      const T0 = x.shape[1];
      return decode(x, T0 + horizon - 1, inputs).slice([0, T0 - 1, 0], [-1, horizon, -1]) as tf.Tensor3D;
    });
  return {
    nodes,
    minHistory: 1,
    ...kind,
    predictOneStep: (x, inputs) => decode(x, x.shape[1], inputs),
    rollout,
    continuation: {
      rowsAxis: 0,
      encode: (x, inputs) => encode(x, inputs),
      rolloutFrom: (state, x, horizon, inputs) => rollout(x, horizon, { ...inputs, initial: state }),
    },
  };
}

/**
 * The *graph-safe latent decoder*. One GRU state per node; node i's update reads its own input
 * x_i(t), its own state, a learned node embedding e_i, and the sum of messages from its parents
 * **along the supplied graph only**:
 *
 *     msg_ji(t) = tanh(W_h h_j(t-1) + w_x x_j(t) + W_e e_j + W_r e_i + b)   (sender-receiver message)
 *     m_i(t)    = sum_j G[j][i] msg_ji(t)                                  (G supplied, diagonal 0)
 *     h_i(t)   = GRU([x_i(t), m_i(t), e_i], h_i(t-1))
 *     x^_i(t+1) = a_i x_i(t) + MLP([h_i(t), e_i])
 *
 * A message depends on its receiver as well as its sender (through e_i inside the tanh), so a
 * complete graph is dense pairwise communication, not one broadcast every receiver sums alike.
 * No global pooling, no context in any cross-node path: context only sets the Hill saturation
 * of the target's own read-out, as in CausalMMM (`y f^a / (f^a + g^a)`, a, g linear in the
 * unit's context). With G = 0 every node's prediction depends on its own past only, whatever
 * the weights: the decoder is graph safe by construction (test/models/graph-safe.test.ts).
 * The same class with a fixed supplied graph is each reference decoder: no-graph (empty),
 * full-graph (complete), oracle (true), learned (DICE Stage 1's support). DICE-hard supplies
 * a 0/1 support, DICE-soft the Stage 1 edge probabilities.
 */
export class GraphSafeDecoder implements Trainable {
  readonly kind = "graph-safe";
  readonly config: GraphSafeConfig;
  readonly params: ParamStore;
  private readonly emb: tf.Variable; // [N, De]
  private readonly msg: { wh: tf.Variable; wx: tf.Variable; we: tf.Variable; wr: tf.Variable; b: tf.Variable };
  private readonly gru: GruWeights; // input [x, m, e]
  private readonly out: { w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable; own: tf.Variable };
  private readonly sat: { wa: tf.Variable; ba: tf.Variable; wg: tf.Variable; bg: tf.Variable };
  private readonly targetMask: tf.Tensor1D;

  constructor(config: Partial<GraphSafeConfig> & Pick<GraphSafeConfig, Required3>) {
    this.config = { ...GRAPH_SAFE_DEFAULTS, ...config };
    const c = this.config;
    checkDecoder(c, "graph-safe decoder");
    this.params = new ParamStore(new Rng(c.seed).fork());
    const P = this.params;
    const { nodes: N, hidden: H, message: Hm, embed: De } = c;
    this.emb = P.add("emb", tf.tensor2d(P.rng.normals(N * De, 1), [N, De]));
    this.msg = {
      wh: P.xavier("msg.wh", H, Hm),
      wx: P.xavier("msg.wx", 1, Hm),
      we: P.xavier("msg.we", De, Hm),
      wr: P.xavier("msg.wr", De, Hm),
      b: P.constant("msg.b", [Hm], 0),
    };
    this.gru = gruWeights(P, "gru", 1 + Hm + De, H);
    this.out = {
      w1: P.xavier("out.w1", H + De, H),
      b1: P.constant("out.b1", [H], 0),
      w2: P.xavier("out.w2", H, 1),
      b2: P.constant("out.b2", [1], 0),
      own: P.constant("out.own", [N], 0.5),
    };
    const K = Math.max(c.contextDim, 1);
    this.sat = { wa: P.xavier("sat.wa", K, 1), ba: P.constant("sat.ba", [1], 0.5), wg: P.xavier("sat.wg", K, 1), bg: P.constant("sat.bg", [1], 0.5) };
    this.targetMask = tf.tidy(
      () =>
        tf
          .oneHot(tf.tensor1d([c.target], "int32"), N)
          .reshape([N])
          .toFloat() as tf.Tensor1D,
    );
  }

  get spec(): Record<string, unknown> {
    return { ...this.config };
  }

  trainableNames(): string[] {
    const names = this.params.names();
    return this.config.targetSaturation ? names : names.filter((n) => !n.startsWith("sat."));
  }

  /**
   * Runs the decoder along a supplied graph. x: [B, T0, N] (teacher forcing), graph: [B, N, N]
   * (`G[j][i]` the weight of j -> i; the diagonal is ignored), `inputs.context`: [B, K] -> `steps`
   * predictions [B, steps, N] (rollout on `inputs.feed` where its mask is 1; with `feed.clamp`,
   * the clamped nodes follow the unperturbed run, states included).
   */
  decode(x: tf.Tensor3D, graph: tf.Tensor3D, steps: number, inputs: DecodeInputs = {}): tf.Tensor3D {
    return tf.tidy(() => this.run(x, graph, steps, inputs).preds);
  }

  /** The state [B, N, H] after teacher forcing x: [B, T, N] along `graph` (see {@link decode}). */
  encode(x: tf.Tensor3D, graph: tf.Tensor3D, inputs: DecodeInputs = {}): tf.Tensor3D {
    return tf.tidy(() => this.run(x, graph, x.shape[1], inputs).state);
  }

  private run(x: tf.Tensor3D, graph: tf.Tensor3D, steps: number, inputs: DecodeInputs): { preds: tf.Tensor3D; state: tf.Tensor3D } {
    const { feed } = inputs;
    const c = this.config;
    const [B0, , N] = x.shape;
    if (N !== c.nodes) throw new Error(`graph-safe decoder expects ${c.nodes} nodes, got ${N}`);
    if (graph.shape[0] !== B0 || graph.shape[1] !== N || graph.shape[2] !== N) {
      throw new Error(`graph-safe decoder: graph [${graph.shape}] does not match ${B0} rows of ${N} nodes`);
    }
    const rows = clampedRows(x, feed);
    const B = rows.x.shape[0];
    const context = inputs.context ? rows.repeat(inputs.context) : undefined;
    const H = c.hidden;
    // graph without its diagonal, one weight per (sender j, receiver i): [B, N, N, 1]
    const pairs = rows
      .repeat(graph)
      .mul(tf.sub(1, tf.eye(N)))
      .expandDims(3);
    // per-node constant parts of the message (sender and receiver) and of the gates / read-out
    const msgNode = dense(this.emb, this.msg.we, this.msg.b); // [N, Hm]
    const msgReceiver = dense(this.emb, this.msg.wr).expandDims(0).expandDims(0); // [1, 1, N, Hm]
    const Hm = c.message;
    const gateNode = dense(this.emb, this.gru.wx.slice([1 + Hm, 0], [c.embed, 3 * H]), this.gru.b); // [N, 3H]
    const wxIn = this.gru.wx.slice([0, 0], [1, 3 * H]).reshape([3 * H]);
    const wxMsg = this.gru.wx.slice([1, 0], [Hm, 3 * H]);
    const outNode = dense(this.emb, this.out.w1.slice([H, 0], [c.embed, H]), this.out.b1); // [N, H]
    const outH = this.out.w1.slice([0, 0], [H, H]);
    const ctx = context ?? tf.zeros([B, Math.max(c.contextDim, 1)]);
    const a = dense(ctx, this.sat.wa, this.sat.ba).maximum(0.1); // [B, 1]
    const g = dense(ctx, this.sat.wg, this.sat.bg).maximum(0.1);
    const ga = g.pow(a); // [B, 1], once per sequence
    const wxMsgIn = this.msg.wx.reshape([Hm]);
    const training = (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();
    const step = (input: tf.Tensor2D, h: tf.Tensor3D) => {
      const xin = input.reshape([B, N, 1]);
      const sender = dense(h, this.msg.wh).add(xin.mul(wxMsgIn)).add(msgNode); // [B, N, Hm]
      const msg = tanh(sender.expandDims(2).add(msgReceiver)); // [B, N (sender j), N (receiver i), Hm]
      const m = msg.mul(pairs).sum(1); // [B, N, Hm]: sum over parents j
      const gx = xin.mul(wxIn).add(dense(m, wxMsg)).add(gateNode); // [B, N, 3H]
      const next = gruUpdate(gx, h, this.gru) as tf.Tensor3D;
      const o = tf.relu(dense(next, outH).add(outNode));
      let pred = dense(o, this.out.w2, this.out.b2).reshape([B, N]).add(input.mul(this.out.own));
      if (c.targetSaturation) {
        // pred + (hill(y) - y) * mask. Without a gradient, y is the target's column alone (the other
        // columns add 0 either way: the same values, an eighth of the powers); in training every
        // column, so that the gradient's partial sums keep their order.
        const y = training ? pred : pred.slice([0, c.target], [B, 1]);
        pred = pred.add(hillHead(y, a, g, ga).sub(y).mul(this.targetMask));
      }
      return { pred: pred as tf.Tensor2D, state: next };
    };
    const init = (inputs.initial ? rows.repeat(inputs.initial) : tf.zeros([B, N, H])) as tf.Tensor3D;
    return runRecurrentState(rows.x, steps, { init, step, stateAxes: { rows: 0, nodes: 1 } }, feed);
  }

  loss(batch: ArrayBatch): LossTerms {
    return tf.tidy(() => {
      const { x, context, graph } = batchTensors(batch);
      if (!graph) throw new Error("graph-safe decoder: a training batch needs its supplied graphs (`graph` [B, N, N])");
      return windowLoss(x, this.config.horizon, (h, steps) => this.decode(h, graph, steps, { context }));
    });
  }

  /** The decoder as a {@link Forecaster}; `inputs.graph` ([N, N] or [B, N, N]) is required. */
  forecaster(): Forecaster {
    const graphOf = (x: tf.Tensor3D, inputs: ForecasterInputs): tf.Tensor3D => {
      if (!inputs?.graph) throw new Error("graph-safe decoder forecaster: pass inputs.graph (the supplied graph)");
      const g = inputs.graph;
      return (g.rank === 2 ? g.expandDims(0).tile([x.shape[0], 1, 1]) : g) as tf.Tensor3D;
    };
    return recurrentForecaster(
      this.config.nodes,
      { acceptsGraph: true, clampsStates: true },
      (x, steps, inputs) =>
        tf.tidy(() => this.decode(x, graphOf(x, inputs), steps, { context: inputs?.context, feed: inputs?.feed, initial: inputs?.initial })),
      (x, inputs) => tf.tidy(() => this.encode(x, graphOf(x, inputs), { context: inputs?.context })),
    );
  }

  dispose(): void {
    this.params.dispose();
    this.targetMask.dispose();
  }
}

/**
 * The unconstrained high-capacity decoder, the typical neural MMM: one GRU over all nodes and the
 * context jointly, a dense read-out of every node. It takes no graph; whatever cross-node paths
 * it uses, it uses without being told.
 */
export class JointGruDecoder implements Trainable {
  readonly kind = "joint-gru";
  readonly config: JointGruConfig;
  readonly params: ParamStore;
  private readonly gru: GruWeights; // input [x (N), context (K)]
  private readonly out: { w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable; skip: tf.Variable };

  constructor(config: Partial<JointGruConfig> & Pick<JointGruConfig, Required3>) {
    this.config = { ...JOINT_GRU_DEFAULTS, ...config };
    const c = this.config;
    checkDecoder(c, "joint GRU decoder");
    this.params = new ParamStore(new Rng(c.seed).fork());
    const P = this.params;
    const { nodes: N, hidden: H } = c;
    this.gru = gruWeights(P, "gru", N + c.contextDim, H);
    this.out = {
      w1: P.xavier("out.w1", H, H),
      b1: P.constant("out.b1", [H], 0),
      w2: P.xavier("out.w2", H, N),
      b2: P.constant("out.b2", [N], 0),
      skip: P.add(
        "out.skip",
        tf.tidy(() => tf.eye(N).mul(0.5)),
      ),
    };
  }

  get spec(): Record<string, unknown> {
    return { ...this.config };
  }

  trainableNames(): string[] {
    return this.params.names();
  }

  /** x: [B, T0, N], `inputs.context`: [B, K] -> `steps` predictions [B, steps, N] (rollout on `inputs.feed` where its mask is 1). */
  decode(x: tf.Tensor3D, steps: number, inputs: DecodeInputs = {}): tf.Tensor3D {
    return tf.tidy(() => this.run(x, steps, inputs).preds);
  }

  /** The state [B, H] after teacher forcing x: [B, T, N] (see {@link decode}). */
  encode(x: tf.Tensor3D, inputs: DecodeInputs = {}): tf.Tensor2D {
    return tf.tidy(() => this.run(x, x.shape[1], inputs).state);
  }

  private run(x: tf.Tensor3D, steps: number, inputs: DecodeInputs): { preds: tf.Tensor3D; state: tf.Tensor2D } {
    const { context, feed } = inputs;
    const c = this.config;
    const [B, , N] = x.shape;
    if (N !== c.nodes) throw new Error(`joint GRU decoder expects ${c.nodes} nodes, got ${N}`);
    if (c.contextDim > 0 && !context) throw new Error(`joint GRU decoder: pass the context ([B, ${c.contextDim}])`);
    const wxX = this.gru.wx.slice([0, 0], [N, 3 * c.hidden]);
    const gateCtx = c.contextDim > 0 ? dense(context!, this.gru.wx.slice([N, 0], [c.contextDim, 3 * c.hidden]), this.gru.b) : this.gru.b;
    const step = (input: tf.Tensor2D, h: tf.Tensor2D) => {
      const next = gruUpdate(dense(input, wxX).add(gateCtx), h, this.gru) as tf.Tensor2D;
      const o = tf.relu(dense(next, this.out.w1, this.out.b1));
      const pred = dense(o, this.out.w2, this.out.b2).add(dense(input, this.out.skip)) as tf.Tensor2D;
      return { pred, state: next };
    };
    const init = (inputs.initial ?? tf.zeros([B, c.hidden])) as tf.Tensor2D;
    return runRecurrentState(x, steps, { init, step }, feed);
  }

  loss(batch: ArrayBatch): LossTerms {
    return tf.tidy(() => {
      const { x, context } = batchTensors(batch);
      return windowLoss(x, this.config.horizon, (h, steps) => this.decode(h, steps, { context }));
    });
  }

  /** The decoder as a {@link Forecaster}; a supplied graph is ignored. */
  forecaster(): Forecaster {
    return recurrentForecaster(
      this.config.nodes,
      { acceptsGraph: false, clampsStates: false },
      (x, steps, inputs) => this.decode(x, steps, { context: inputs?.context, feed: inputs?.feed, initial: inputs?.initial }),
      (x, inputs) => this.encode(x, { context: inputs?.context }),
    );
  }

  dispose(): void {
    this.params.dispose();
  }
}
