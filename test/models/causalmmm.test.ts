import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { initBackend } from "../../lib/backend";
import { type Panel, splitUnits, targetIndex } from "../../lib/data/panel";
import { generateVarDag } from "../../lib/data/simulate";
import { scoreGraphs, unitGraphs } from "../../lib/diagnostics/ranking";
import { learnedGraphs, trainCausalMMM } from "../../lib/experiments/causalmmm";
import { CausalMMM, type CausalMMMConfig } from "../../lib/models/causalmmm";
import { tf } from "../../lib/tf";
import { assertClose, assertCloseArrays, edgeOf, maxAbsDiff, randn } from "./helpers";
import { shuffledUnitBatches, unitBatch } from "../../lib/train/batches";
import { type CheckpointMeta, loadCheckpoint, saveCheckpoint } from "../../lib/train/checkpoint";
import { fit } from "../../lib/train/fit";
import { tempDir } from "../data/helpers";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function x3(batch: { data: Float32Array; shape: number[] }): tf.Tensor3D {
  return tf.tensor3d(batch.data, batch.shape as [number, number, number]);
}

/**
 * A tiny linear VAR-DAG panel on its raw scale: 3 channels, 1 intermediate, the target (N = 5),
 * one graph, strong parents (90 % of a receiver's variance), little own autoregression and a
 * flat 3-lag profile. Raw scale on purpose: the intermediate and the target have the largest
 * variance, so the NLL rewards the edges into them (on standardised data a short run does not
 * reliably move the AUROC, as notebook 02 found on the shipped data). Lags 2 and 3 matter: the
 * decoder's messages at step t come from the senders' states before x(t) (NRI's design), so a
 * lag-1 effect reaches the receiver one step late.
 */
function tinyPanel(seed: number, units = 24, steps = 50): Panel {
  return generateVarDag({
    units,
    steps,
    graphs: 1,
    channels: 3,
    intermediates: 1,
    contextDim: 0,
    linear: true,
    lags: 3,
    lagDecayMin: 0.9,
    lagDecayMax: 1,
    arIntermediate: [0, 0.1],
    arTarget: [0, 0.1],
    parentShareIntermediate: 0.9,
    parentShareTarget: 0.9,
    seed,
  }).panel;
}

function modelFor(panel: Panel, extra: Partial<CausalMMMConfig>): CausalMMM {
  return new CausalMMM({ nodes: panel.nodes, target: targetIndex(panel), contextDim: panel.context?.names.length ?? 0, encoderSteps: panel.steps, ...extra });
}

/** The training objective (edges = probabilities, no Gumbel noise) over the given units. */
function objective(model: CausalMMM, panel: Panel, units: readonly number[]): { total: number; mse: number } {
  const b = unitBatch(panel, units);
  return tf.tidy(() => {
    const x = x3(b.x);
    const t = model.lossTerms({ x, enc: x });
    return { total: t.total.dataSync()[0], mse: t.mse.dataSync()[0] };
  });
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const relu = (v: number) => Math.max(v, 0);
/** v (a vector) times the matrix w ([in][out]) plus b. */
const affine = (v: number[], w: number[][], b?: number[]) => w[0].map((_, o) => v.reduce((acc, vk, k) => acc + vk * w[k][o], b ? b[o] : 0));

/**
 * The CausalMMM decoder by hand, in plain JS (float64), from the equations of lib/models/causalmmm.ts
 * and the official code, with the model's parameter values: per row, node i's message from j is
 * z_ji tanh(W2 tanh(Ws h_j + Wr h_i + b1) + b2), agg_i the sum over j != i divided by N; the gates
 * r, u, n = sigmoid(x_i wx + agg_i Wh) (n's hidden part times r), h_i' = (1 - u) n + u h_i; the
 * read-out relu(relu(h' W1 + b1) W2 + b2) W3 + b3, the target's through y f^a / (f^a + g^a),
 * f = max(y, 0.1), a and g = max(context . w + b, 0.1). Inputs are x(s) for s < t0, then the
 * previous prediction. xs [B][T][N], z [B][N][N] (z[b][j][i]: weight of j -> i), context [B][K]
 * -> `steps` predictions [B][steps][N], prediction s of step s + 1.
 */
function handDecode(model: CausalMMM, xs: number[][][], t0: number, steps: number, z: number[][][], context: number[][]): number[][][] {
  const get = (n: string) => model.params.get(n).arraySync() as number[][];
  const vec = (n: string) => model.params.get(n).arraySync() as number[];
  const [ws, wr, w2m, wh, w1o, w2o, w3o, wx, wa, wg] = ["msg.ws", "msg.wr", "msg.w2", "gru.wh", "out.w1", "out.w2", "out.w3", "gru.wx", "sat.wa", "sat.wg"].map(
    (n) => get(`dec.${n}`),
  );
  const [b1m, b2m, b1o, b2o, b3o, ba, bg] = ["msg.b1", "msg.b2", "out.b1", "out.b2", "out.b3", "sat.ba", "sat.bg"].map((n) => vec(`dec.${n}`));
  const { nodes: N, hidden: H, target } = model.config;
  return xs.map((row, b) => {
    const a = Math.max(affine(context[b], wa, ba)[0], 0.1);
    const g = Math.max(affine(context[b], wg, bg)[0], 0.1);
    let h = Array.from({ length: N }, () => new Array<number>(H).fill(0));
    const preds: number[][] = [];
    for (let s = 0; s < steps; s++) {
      const input = s < t0 ? row[s] : preds[s - 1];
      const send = h.map((hj) => affine(hj, ws));
      const recv = h.map((hi) => affine(hi, wr, b1m));
      const next = h.map((hi, i) => {
        const agg = new Array<number>(H).fill(0);
        for (let j = 0; j < N; j++) {
          if (j === i) continue;
          const msg = affine(
            send[j].map((v, k) => Math.tanh(v + recv[i][k])),
            w2m,
            b2m,
          ).map(Math.tanh);
          msg.forEach((v, k) => (agg[k] += (z[b][j][i] * v) / N));
        }
        const gh = affine(agg, wh);
        return hi.map((hk, k) => {
          const r = sigmoid(input[i] * wx[0][k] + gh[k]);
          const u = sigmoid(input[i] * wx[0][H + k] + gh[H + k]);
          const n = sigmoid(input[i] * wx[0][2 * H + k] + r * gh[2 * H + k]);
          return (1 - u) * n + u * hk;
        });
      });
      preds.push(
        next.map((hi, i) => {
          const y = affine(affine(affine(hi, w1o, b1o).map(relu), w2o, b2o).map(relu), w3o, b3o)[0];
          if (i !== target) return y;
          const f = Math.max(y, 0.1);
          return (y * f ** a) / (f ** a + g ** a);
        }),
      );
      h = next;
    }
    return preds;
  });
}

/** Mean squared error of predictions [B][steps][N] of steps 1.. against xs [B][T][N], and its sum. */
function sqError(preds: number[][][], xs: number[][][]): { sum: number; mean: number } {
  let sum = 0;
  let n = 0;
  preds.forEach((row, b) => row.forEach((p, s) => p.forEach((v, i) => ((sum += (v - xs[b][s + 1][i]) ** 2), n++))));
  return { sum, mean: sum / n };
}

before(async () => {
  await initBackend(undefined, null);
});

// ---------------------------------------------------------------------------------------------
// 1. Encoder
// ---------------------------------------------------------------------------------------------

describe("CausalMMM encoder", () => {
  const N = 5;
  const T = 16;
  const B = 3;
  let model: CausalMMM;
  let enc: tf.Tensor3D;
  before(() => {
    model = new CausalMMM({ nodes: N, target: N - 1, contextDim: 0, encoderSteps: T, encoderHidden: 16, hidden: 8, seed: 7 });
    enc = randn([B, T, N], 11) as tf.Tensor3D;
  });
  after(() => {
    enc.dispose();
    model.dispose();
  });

  it("gives [B, E, 2] logits, their softmax as P(edge), and graphs with P(j -> i) at [j][i] and a zero diagonal", () => {
    const E = N * (N - 1);
    const logits = model.edgeLogits(enc);
    const probs = model.edgeProbs(enc);
    const graphs = model.graphMatrices(enc);
    assert.deepEqual(logits.shape, [B, E, 2]);
    assert.deepEqual(probs.shape, [B, E]);
    assert.deepEqual(graphs.shape, [B, N, N]);
    const l = logits.arraySync() as number[][][];
    const p = probs.arraySync() as number[][];
    const g = graphs.arraySync() as number[][][];
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) {
        assert.equal(g[b][i][i], 0);
        for (let j = 0; j < N; j++) {
          if (j === i) continue;
          const e = edgeOf(j, i, N);
          const expected = 1 / (1 + Math.exp(l[b][e][0] - l[b][e][1]));
          assert.ok(Math.abs(p[b][e] - expected) < 1e-6, `P(edge ${e}) ${p[b][e]} vs softmax ${expected}`);
          assert.equal(g[b][j][i], p[b][e], `graph[${b}][${j}][${i}] is edge ${e}`);
        }
      }
    }
    assert.throws(() => model.edgeLogits(tf.zeros([1, T - 1, N]) as tf.Tensor3D), /expects \[B, 16, 5\]/);
    tf.dispose([logits, probs, graphs]);
  });

  it("is permutation equivariant: permuting the nodes permutes the edge logits", () => {
    const pi = [3, 0, 4, 1, 2]; // original node i sits at position pi[i]
    const inverse = pi.map((_, k) => pi.indexOf(k));
    const permuted = tf.gather(enc, tf.tensor1d(inverse, "int32"), 2) as tf.Tensor3D; // permuted[:, :, pi[i]] = enc[:, :, i]
    const l = model.edgeLogits(enc).arraySync() as number[][][];
    const lp = model.edgeLogits(permuted).arraySync() as number[][][];
    let spread = 0;
    let moved = 0;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < N; j++) {
          if (j === i) continue;
          const e = edgeOf(j, i, N);
          const ep = edgeOf(pi[j], pi[i], N);
          for (let c = 0; c < 2; c++) {
            const d = Math.abs(lp[b][ep][c] - l[b][e][c]);
            assert.ok(d <= 1e-4 * Math.max(1, Math.abs(l[b][e][c])), `row ${b}, edge ${j} -> ${i}, logit ${c}: ${lp[b][ep][c]} vs ${l[b][e][c]}`);
            spread = Math.max(spread, Math.abs(l[b][e][c] - l[b][0][c]));
            moved = Math.max(moved, Math.abs(lp[b][e][c] - l[b][e][c]));
          }
        }
      }
    }
    // Not vacuous: the logits differ across edges, and the permutation moves them.
    assert.ok(spread > 1e-2, `logits barely vary over edges (${spread})`);
    assert.ok(moved > 1e-2, `the permutation left the logits in place (${moved})`);
    permuted.dispose();
  });

  it("reads each row on its own: a unit's logits do not depend on the rest of its batch", () => {
    const all = model.edgeLogits(enc);
    const alone = tf.tidy(() => model.edgeLogits(enc.slice([1, 0, 0], [1, T, N])));
    const row = all.slice([1, 0, 0], [1, -1, -1]);
    assertClose(alone, row, 1e-5, "row 1");
    tf.dispose([all, alone, row]);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Decoder: teacher forcing, then its own predictions
// ---------------------------------------------------------------------------------------------

describe("CausalMMM decoder", () => {
  const N = 4;
  const T = 12;
  const B = 2;
  const T0 = 7; // forecast origin
  const H = T - T0;
  let model: CausalMMM;
  let x: tf.Tensor3D;
  let context: tf.Tensor2D;
  let graph: tf.Tensor3D;
  before(() => {
    model = new CausalMMM({ nodes: N, target: 2, contextDim: 2, encoderSteps: T, encoderHidden: 8, hidden: 8, horizon: H, seed: 3 });
    x = randn([B, T, N], 21) as tf.Tensor3D;
    context = tf.tensor2d([
      [0.2, 0.9],
      [0.7, 0.1],
    ]);
    graph = tf.tidy(() => tf.sigmoid(randn([B, N, N], 22, 2)) as tf.Tensor3D);
  });
  after(() => {
    tf.dispose([x, context, graph]);
    model.dispose();
  });

  it("rolls out on its own predictions: the rollout equals a loop of one-step predictions fed back", () => {
    const f = model.forecaster();
    const inputs = { graph, context };
    const history = x.slice([0, 0, 0], [B, T0, N]);
    const roll = f.rollout(history, H, inputs);
    assert.deepEqual(roll.shape, [B, H, N]);
    // Manual loop: predict one step from the history, append the prediction, repeat.
    let hist = history.clone();
    const manual: tf.Tensor[] = [];
    for (let k = 0; k < H; k++) {
      const one = f.predictOneStep(hist, inputs);
      const next = one.slice([0, hist.shape[1] - 1, 0], [B, 1, N]);
      manual.push(next);
      const grown = tf.concat([hist, next], 1) as tf.Tensor3D;
      tf.dispose([hist, one]);
      hist = grown;
    }
    const loop = tf.concat(manual, 1);
    assertClose(roll, loop, 1e-5, "rollout vs fed-back loop");
    // Teacher forcing on the true values after the origin gives different predictions, so the
    // rollout really did not use them (the first rollout step is the last teacher-forced one).
    const forced = f.predictOneStep(x, inputs).slice([0, T0 - 1, 0], [B, H, N]);
    assertClose(roll.slice([0, 0, 0], [B, 1, N]), forced.slice([0, 0, 0], [B, 1, N]), 1e-6, "first rollout step");
    const later = maxAbsDiff(roll.slice([0, 1, 0], [B, H - 1, N]).dataSync(), forced.slice([0, 1, 0], [B, H - 1, N]).dataSync());
    assert.ok(later > 1e-3, `rollout equals teacher forcing after the origin (max diff ${later})`);
    tf.dispose([history, roll, hist, loop, forced, ...manual]);
  });

  it("feeds supplied values where the feed mask is 1 and its own predictions where it is 0", () => {
    const f = model.forecaster();
    const history = x.slice([0, 0, 0], [B, T0, N]);
    const future = x.slice([0, T0, 0], [B, H, N]);
    const own = f.rollout(history, H, { graph, context });
    const forced = f.predictOneStep(x, { graph, context }).slice([0, T0 - 1, 0], [B, H, N]);
    // mask 1 everywhere: the true values are fed, which is teacher forcing
    const all = f.rollout(history, H, { graph, context, feed: { values: future, mask: tf.ones([B, H, N]) } });
    assertClose(all, forced, 1e-5, "feed everything");
    // mask 0 everywhere: the plain rollout
    const none = f.rollout(history, H, { graph, context, feed: { values: future, mask: tf.zeros([1, 1, N]) } });
    assertClose(none, own, 1e-6, "feed nothing");
    // node 0 fed, the others on their own predictions: a loop that replaces node 0 only
    const mask = tf.tensor3d([[[1, 0, 0, 0]]]);
    const some = f.rollout(history, H, { graph, context, feed: { values: future, mask } });
    let hist = history.clone();
    const manual: tf.Tensor[] = [];
    for (let k = 0; k < H; k++) {
      const one = f.predictOneStep(hist, { graph, context });
      const next = one.slice([0, hist.shape[1] - 1, 0], [B, 1, N]);
      manual.push(next);
      const fed = tf.concat([future.slice([0, k, 0], [B, 1, 1]), next.slice([0, 0, 1], [B, 1, N - 1])], 2);
      const grown = tf.concat([hist, fed], 1) as tf.Tensor3D;
      tf.dispose([hist, one, fed]);
      hist = grown;
    }
    const loop = tf.concat(manual, 1);
    assertClose(some, loop, 1e-5, "feed node 0");
    assert.ok(maxAbsDiff(some.dataSync(), own.dataSync()) > 1e-3 && maxAbsDiff(some.dataSync(), forced.dataSync()) > 1e-3);
    tf.dispose([history, future, own, forced, all, none, mask, some, hist, loop, ...manual]);
  });

  it("the training objective rolls out after T - horizon: values after the origin only enter as targets", () => {
    // Independent expectation: the predictions come from handDecode, a plain-JS forward pass of
    // the decoder with the model's weights (it never calls decode() or lossTerms()); the KL is
    // written out for the uniform prior. What it takes from the model besides the weights is the
    // edge probabilities (graphMatrices, checked against the encoder's logits in the encoder tests).
    const enc = x; // the encoder keeps reading the original series
    const c = model.config;
    const probs = model.graphMatrices(enc);
    const P = probs.arraySync() as number[][][];
    const ctx = context.arraySync() as number[][];
    const xs = x.arraySync() as number[][][];
    const scalars = (t: ReturnType<CausalMMM["lossTerms"]>) => {
      const out = { total: t.total.dataSync()[0], nll: t.nll.dataSync()[0], kl: t.kl.dataSync()[0], mse: t.mse.dataSync()[0] };
      tf.dispose([t.total, t.nll, t.kl, t.mse]);
      return out;
    };
    const terms = scalars(model.lossTerms({ x, enc, context }));
    // teacher forcing through T0 = T - horizon steps, then rollout: T - 1 predictions
    const preds = handDecode(model, xs, T0, T - 1, P, ctx);
    const sq = sqError(preds, xs);
    let kl = 0; // KL(q || uniform) summed over edges, per row and node
    for (let b = 0; b < B; b++)
      for (let j = 0; j < N; j++)
        for (let i = 0; i < N; i++) {
          if (i === j) continue;
          const q = P[b][j][i];
          kl += q * Math.log(q / 0.5) + (1 - q) * Math.log((1 - q) / 0.5);
        }
    kl /= B * N;
    const nll = sq.sum / (2 * c.nllVariance * B * N);
    assertCloseArrays(
      [terms.mse / sq.mean, terms.nll / nll, terms.kl / kl, terms.total / (nll + c.lambda * kl)],
      [1, 1, 1, 1],
      1e-5,
      "mse, nll, kl, total (relative to the hand values)",
    );
    // Not vacuous: the origin one step earlier or later, or teacher forcing throughout, gives another
    // MSE. (The untrained decoder responds weakly to its inputs: these move the MSE by 3e-4 to 2e-3
    // of it, against an agreement of 3e-7 between the float32 loss and the float64 hand values.)
    for (const other of [T0 - 1, T0 + 1, T - 1]) {
      const alt = sqError(handDecode(model, xs, other, T - 1, P, ctx), xs).mean;
      assert.ok(Math.abs(alt - sq.mean) > 1e-4 * sq.mean, `origin ${other} gives the same MSE (${alt} vs ${sq.mean})`);
    }
    // Other values after the origin: the same hand predictions (they read the history only), scored against the new targets.
    const changed = tf.tidy(() => tf.concat([x.slice([0, 0, 0], [B, T0, N]), randn([B, H, N], 23, 3)], 1) as tf.Tensor3D);
    const cs = changed.arraySync() as number[][][];
    const terms2 = scalars(model.lossTerms({ x: changed, enc, context }));
    const mse2 = sqError(preds, cs).mean;
    assert.ok(Math.abs(terms2.mse - mse2) <= 1e-5 * mse2, `mse ${terms2.mse} vs ${mse2}`);
    // Not vacuous: teacher forcing on the changed values through every step would have given another MSE.
    const forced = sqError(handDecode(model, cs, T - 1, T - 1, P, ctx), cs).mean;
    assert.ok(Math.abs(forced - mse2) > 1e-3 * mse2, `teacher forcing gives the same MSE (${forced} vs ${mse2})`);
    tf.dispose([probs, changed]);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. A short training run
// ---------------------------------------------------------------------------------------------

describe("CausalMMM training on a tiny VAR-DAG panel", () => {
  it("lowers the objective and raises the validation AUROC well above chance", async (t) => {
    const seed = 9;
    const panel = tinyPanel(seed);
    const split = splitUnits(panel, { train: 0.75, validation: 0.25, test: 0, seed });
    const modelConfig = { hidden: 16, encoderHidden: 16, seed };
    // The same configuration and seed give the same initial weights as the trained model had.
    const initial = modelFor(panel, modelConfig);
    const truth = unitGraphs(panel);
    const valTruth = split.validation.map((u) => truth[u]);
    const auroc0 = scoreGraphs(learnedGraphs(initial, panel, split.validation), valTruth).mean.auroc;
    const loss0 = objective(initial, panel, split.train);
    const run = await trainCausalMMM(panel, split, { model: modelConfig, fit: { epochs: 4, learningRate: 1e-2, seed, label: null, workers: 1 }, batchSize: 4 });
    assert.deepEqual(run.model.spec, initial.spec);
    const loss1 = objective(run.model, panel, split.train);
    const auroc1 = run.evidence.scores.auroc;
    const h = run.fit.history;
    t.diagnostic(
      `AUROC ${auroc0.toFixed(3)} -> ${auroc1.toFixed(3)} (per epoch ${h.map((r) => r.val.auroc.toFixed(3)).join(" ")}); ` +
        `objective ${loss0.total.toExponential(3)} -> ${loss1.total.toExponential(3)}, ` +
        `MSE ${loss0.mse.toFixed(3)} -> ${loss1.mse.toFixed(3)}; ${run.fit.seconds.toFixed(1)} s`,
    );
    assert.equal(run.fit.status, "completed");
    assert.equal(h.length, 4);
    // The bounds come from this setting run with seeds 1-20 (data, split, model and fit all seeded
    // alike): the training MSE fell to 0.45-0.67 of its initial value, and the validation AUROC
    // ended at 0.77-0.98, above its initial value (0.26-0.87) every time. Seed 9 here: 0.53 -> 0.91.
    // the objective falls
    assert.ok(loss1.total < 0.75 * loss0.total, `objective ${loss0.total} -> ${loss1.total}`);
    assert.ok(loss1.mse < 0.75 * loss0.mse, `MSE ${loss0.mse} -> ${loss1.mse}`);
    assert.ok(h[h.length - 1].train.total < h[0].train.total);
    // graph recovery well above chance, and better than the untrained encoder's
    assert.ok(auroc1 >= 0.7, `final validation AUROC ${auroc1}`);
    assert.ok(auroc1 > auroc0, `AUROC did not rise: ${auroc0} -> ${auroc1}`);
    // the experiment's record agrees with the model it returns (restoreBest is off)
    assert.equal(h[h.length - 1].val.auroc, auroc1);
    assert.equal(run.evidence.probs.length, split.validation.length);
    initial.dispose();
    run.model.dispose();
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Checkpoints
// ---------------------------------------------------------------------------------------------

describe("CausalMMM checkpoints", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("a saved and reloaded model predicts exactly as the original", async () => {
    const panel = tinyPanel(3, 8, 30);
    const units = Array.from({ length: panel.units }, (_, u) => u);
    const a = modelFor(panel, { hidden: 8, encoderHidden: 8, horizon: 5, seed: 1 });
    // a few Adam steps so that every parameter moved away from its initial value
    await fit(a, { batches: (_e, rng) => shuffledUnitBatches(panel, { units, batchSize: 4, rng }) }, { epochs: 1, learningRate: 1e-2, label: null });
    const parent = tempDir("graph-mmm-causalmmm-");
    dirs.push(parent);
    const dir = join(parent, "ckpt");
    const meta: CheckpointMeta = { kind: a.kind, spec: a.spec, epoch: 1, state: { note: "test" } };
    await saveCheckpoint(dir, a.params, [], meta);

    const b = new CausalMMM({ ...(meta.spec as unknown as CausalMMMConfig), seed: 99 });
    const batch = unitBatch(panel, units);
    const predict = (m: CausalMMM) =>
      tf.tidy(() => {
        const x = x3(batch.x);
        const history = x.slice([0, 0, 0], [-1, 20, -1]) as tf.Tensor3D;
        const graph = m.graphMatrices(x);
        return {
          probs: m.edgeProbs(x).dataSync(),
          rollout: m.forecaster().rollout(history, 10, { graph }).dataSync(),
          loss: m.lossTerms({ x, enc: x }, 1234).total.dataSync()[0],
        };
      });
    const pa = predict(a);
    const p0 = predict(b);
    assert.ok(maxAbsDiff(p0.probs, pa.probs) > 1e-4 && maxAbsDiff(p0.rollout, pa.rollout) > 1e-4, "models of different seeds should differ before loading");
    const loaded = loadCheckpoint(dir, b.params);
    assert.deepEqual(loaded.meta, meta);
    assert.equal(loaded.optimizerWeights.length, 0);
    const pb = predict(b);
    assert.deepEqual(pb.probs, pa.probs);
    assert.deepEqual(pb.rollout, pa.rollout);
    assert.equal(pb.loss, pa.loss);
    for (const name of a.params.names()) assert.deepEqual(b.params.get(name).dataSync(), a.params.get(name).dataSync(), name);
    // A model of another size refuses the checkpoint and names the parameter.
    const other = new CausalMMM({ ...(meta.spec as unknown as CausalMMMConfig), hidden: 4 });
    assert.throws(() => loadCheckpoint(dir, other.params), /parameter "dec\.[^"]+": checkpoint shape \[8,8\] differs from the model's \[4,4\]/);
    assert.throws(() => loadCheckpoint(join(dir, "missing"), b.params), /no checkpoint in/);
    for (const m of [a, b, other]) m.dispose();
  });
});
