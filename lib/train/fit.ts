/**
 * The training loop every model of the study uses: Adam, explicit seeds, early stopping on a
 * validation criterion, per-epoch history, live progress, checkpoints (tfjs format) with exact
 * resumption, a NaN/Inf guard, optional data-parallel gradients over worker threads.
 *
 * Reproducibility: epoch e's batches and noise come from `new Rng(seed).fork()`-style streams
 * derived from (seed, epoch) alone, so a run resumed from a checkpoint after epoch e continues
 * exactly as the uninterrupted run would have (same backend, same worker count).
 */
import { join } from "node:path";
import { Progress, yieldToEventLoop } from "../progress";
import { Rng } from "../rng";
import { tf } from "../tf";
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from "./checkpoint";
import { gradientEngine } from "./gradients";
import type { ArrayBatch, Trainable } from "../core/trainable";

export interface FitConfig {
  epochs: number;
  learningRate: number;
  /** Multiply the learning rate by `gamma` every `every` epochs (the official StepLR), or null. */
  lrDecay: { every: number; gamma: number } | null;
  seed: number;
  /** Validation metric that early stopping and best-epoch selection watch (a key of `validate`'s result), or null. */
  monitor: string | null;
  mode: "min" | "max";
  /** Stop after this many epochs without improvement of `monitor` (0: never stop early). */
  patience: number;
  /** At the end, put back the weights of the best epoch (by `monitor`). */
  restoreBest: boolean;
  /** Gradient shards: 1 = this thread; 2 = this thread + one worker thread (both cores). */
  workers: number;
  /** Where checkpoints go (`last/` after every epoch, `best/` at each improvement), or null. */
  checkpointDir: string | null;
  /** Continue from `checkpointDir/last` when it exists. */
  resume: boolean;
  /** Label of the progress line; null hides progress. */
  label: string | null;
}

export const FIT_DEFAULTS: FitConfig = {
  epochs: 20,
  learningRate: 5e-4,
  lrDecay: null,
  seed: 0,
  monitor: null,
  mode: "min",
  patience: 0,
  restoreBest: true,
  workers: 1,
  checkpointDir: null,
  resume: false,
  label: "training",
};

/** What the loop trains on. */
export interface FitData {
  /** The batches of an epoch, drawn with that epoch's generator (shuffle, windows...). */
  batches: (epoch: number, rng: Rng) => ArrayBatch[];
  /** Validation metrics after an epoch (e.g. { mse, auroc }); may be async. */
  validate?: (epoch: number) => Record<string, number> | Promise<Record<string, number>>;
}

export interface EpochRecord {
  epoch: number;
  seconds: number;
  learningRate: number;
  /** Loss terms averaged over the epoch's batches, and the mean gradient norm. */
  train: Record<string, number>;
  val: Record<string, number>;
}

export interface FitResult {
  status: "completed" | "early-stopped" | "diverged";
  /** Why training stopped, in one sentence. */
  message: string;
  history: EpochRecord[];
  /** Epoch with the best `monitor` value (the last epoch when there is no monitor). */
  bestEpoch: number;
  best: number | null;
  /** Epochs run by this call (resumed ones excluded). */
  epochsRun: number;
  seconds: number;
}

interface SavedState {
  history: EpochRecord[];
  best: number | null;
  bestEpoch: number;
  sinceBest: number;
  learningRate: number;
}

function epochRng(seed: number, epoch: number): Rng {
  return new Rng((Math.imul(seed + 1, 0x2545f491) ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
}

/**
 * Adam's `setWeights` sets its bias-correction powers beta^(t+1) with one `pow`, while training
 * multiplies them by beta once per step; in float32 the two differ in the last bit at many step
 * counts (t = 2, 5, 18, ... for beta2 = 0.999), which is enough for a resumed run to drift from
 * the uninterrupted one. This redoes the products as training computes them.
 */
function replayAdamPowers(optimizer: tf.AdamOptimizer): void {
  const adam = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable; beta1: number; beta2: number; iterations: number };
  if (!(adam.accBeta1 instanceof tf.Variable && adam.accBeta2 instanceof tf.Variable)) {
    throw new Error("resume: this TensorFlow.js version's Adam has no accBeta1/accBeta2; its state cannot be restored exactly");
  }
  const { accBeta1, accBeta2, beta1, beta2, iterations } = adam;
  tf.tidy(() => {
    let a1: tf.Tensor = tf.scalar(beta1);
    let a2: tf.Tensor = tf.scalar(beta2);
    for (let t = 0; t < iterations; t++) {
      a1 = tf.mul(a1, beta1);
      a2 = tf.mul(a2, beta2);
    }
    accBeta1.assign(a1);
    accBeta2.assign(a2);
  });
}

/** Trains `model` in place; returns the history and how training ended. */
export async function fit(model: Trainable, data: FitData, config: Partial<FitConfig> = {}): Promise<FitResult> {
  const cfg: FitConfig = { ...FIT_DEFAULTS, ...config };
  const started = Date.now();
  const names = model.trainableNames();
  const vars = names.map((n) => model.params.get(n));
  const optimizer = tf.train.adam(cfg.learningRate);
  const setLr = (lr: number) => {
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
  };
  let state: SavedState = { history: [], best: null, bestEpoch: -1, sinceBest: 0, learningRate: cfg.learningRate };
  const lastDir = cfg.checkpointDir ? join(cfg.checkpointDir, "last") : null;
  const bestDir = cfg.checkpointDir ? join(cfg.checkpointDir, "best") : null;
  if (cfg.resume && lastDir && hasCheckpoint(lastDir)) {
    const loaded = loadCheckpoint(lastDir, model.params);
    state = loaded.meta.state as unknown as SavedState;
    if (loaded.optimizerWeights.length > 0) {
      await optimizer.setWeights(loaded.optimizerWeights.map((t, i) => ({ name: `w${i}`, tensor: t })));
      replayAdamPowers(optimizer);
    }
    // the optimiser's variables share these tensors' data; the tensors themselves are ours to free
    tf.dispose(loaded.optimizerWeights);
    setLr(state.learningRate);
  }
  const better = (v: number, b: number | null) => b === null || (cfg.mode === "min" ? v < b : v > b);
  let bestSnapshot: Map<string, tf.Tensor> | undefined;
  let lastGood = model.params.snapshot();
  const engine = gradientEngine(model, cfg.workers);
  const firstEpoch = state.history.length;
  const progress = cfg.label ? new Progress(cfg.label, cfg.epochs) : undefined;
  let status: FitResult["status"] = "completed";
  let message = `trained ${cfg.epochs} epochs`;
  try {
    for (let epoch = firstEpoch; epoch < cfg.epochs; epoch++) {
      const t0 = Date.now();
      if (cfg.lrDecay && epoch > 0 && epoch % cfg.lrDecay.every === 0) {
        state.learningRate *= cfg.lrDecay.gamma;
        setLr(state.learningRate);
      }
      const rng = epochRng(cfg.seed, epoch);
      const batches = data.batches(epoch, rng);
      if (batches.length === 0) throw new Error(`epoch ${epoch}: no training batches`);
      const sums: Record<string, number> = {};
      for (let b = 0; b < batches.length; b++) {
        const { grads, terms } = await engine.compute(batches[b], rng.nextUint32());
        const gradNorm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => g.square().sum()))).dataSync()[0]);
        const bad = !Number.isFinite(gradNorm) || Object.values(terms).some((v) => !Number.isFinite(v));
        if (bad) {
          tf.dispose([...grads.values()]);
          model.params.assign(lastGood);
          status = "diverged";
          const shown = Object.entries(terms).map(([k, v]) => `${k} ${v}`).join(", ");
          message = `training diverged at epoch ${epoch}, batch ${b} (${shown}, gradient norm ${gradNorm}); ` +
            `weights restored to ${epoch === 0 ? "their initial values" : `the end of epoch ${epoch - 1}`}${lastDir && hasCheckpoint(lastDir) ? `, kept in ${lastDir}` : ""}`;
          return finish();
        }
        const named: tf.NamedTensorMap = {};
        names.forEach((n, i) => (named[vars[i].name] = grads.get(n) as tf.Tensor));
        optimizer.applyGradients(named as unknown as Parameters<typeof optimizer.applyGradients>[0]);
        tf.dispose([...grads.values()]);
        for (const [k, v] of Object.entries({ ...terms, gradNorm })) sums[k] = (sums[k] ?? 0) + v;
        progress?.update(epoch + (b + 1) / batches.length, { loss: terms.total });
        await yieldToEventLoop();
      }
      const train: Record<string, number> = {};
      for (const [k, v] of Object.entries(sums)) train[k] = v / batches.length;
      const val = data.validate ? await data.validate(epoch) : {};
      const record: EpochRecord = { epoch, seconds: (Date.now() - t0) / 1000, learningRate: state.learningRate, train, val };
      state.history.push(record);
      tf.dispose([...lastGood.values()]);
      lastGood = model.params.snapshot();
      let improved = false;
      if (cfg.monitor) {
        const v = val[cfg.monitor];
        if (v === undefined) throw new Error(`monitor "${cfg.monitor}" is not among the validation metrics (${Object.keys(val).join(", ") || "none"})`);
        if (Number.isFinite(v) && better(v, state.best)) {
          state.best = v;
          state.bestEpoch = epoch;
          state.sinceBest = 0;
          improved = true;
        } else state.sinceBest++;
      } else {
        state.bestEpoch = epoch;
        improved = true;
      }
      if (improved && cfg.monitor) {
        if (bestSnapshot) tf.dispose([...bestSnapshot.values()]);
        bestSnapshot = model.params.snapshot();
        if (bestDir) await saveCheckpoint(bestDir, model.params, [], { kind: model.kind, spec: model.spec, epoch: epoch + 1, state: { ...state } as unknown as Record<string, unknown> });
      }
      if (lastDir) {
        const optimizerWeights = await optimizer.getWeights();
        await saveCheckpoint(lastDir, model.params, optimizerWeights, { kind: model.kind, spec: model.spec, epoch: epoch + 1, state: { ...state } as unknown as Record<string, unknown> });
        // getWeights makes a new tensor for the iteration count (the moments are the optimiser's own variables)
        tf.dispose(optimizerWeights.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
      }
      progress?.update(epoch + 1, { loss: train.total, ...Object.fromEntries(Object.entries(val).map(([k, v]) => [`val ${k}`, v])) });
      await yieldToEventLoop();
      if (cfg.monitor && cfg.patience > 0 && state.sinceBest >= cfg.patience) {
        status = "early-stopped";
        message = `stopped early after epoch ${epoch}: ${cfg.monitor} did not improve for ${cfg.patience} epochs (best ${state.best} at epoch ${state.bestEpoch})`;
        break;
      }
    }
    return finish();
  } finally {
    await engine.close();
    optimizer.dispose();
    tf.dispose([...lastGood.values()]);
    if (bestSnapshot) tf.dispose([...bestSnapshot.values()]);
  }

  function finish(): FitResult {
    if (status !== "diverged" && cfg.restoreBest && cfg.monitor && bestSnapshot) model.params.assign(bestSnapshot);
    return {
      status,
      message,
      history: state.history,
      bestEpoch: state.bestEpoch,
      best: state.best,
      epochsRun: state.history.length - firstEpoch,
      seconds: (Date.now() - started) / 1000,
    };
  }
}
