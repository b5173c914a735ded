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
import { HeapAdam } from "./adam";
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from "./checkpoint";
import { type GradientEngine, gradientEngine } from "./gradients";
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

/** What the steps of one {@link fit} call share: the model, its optimiser, the saved state and the weight copies. */
interface Loop {
  model: Trainable;
  cfg: FitConfig;
  /** The trainable parameters' names and variables, in the model's order. */
  names: string[];
  vars: tf.Variable[];
  optimizer: tf.AdamOptimizer;
  engine: GradientEngine;
  state: SavedState;
  /** Checkpoint folders: `last/` after every epoch, `best/` at each improvement (null: none). */
  lastDir: string | null;
  bestDir: string | null;
  /** Weights at the end of the last finished epoch (the initial ones before the first). */
  lastGood: Map<string, tf.Tensor>;
  /** Weights of the best epoch by `monitor` (only with a monitor). */
  bestSnapshot?: Map<string, tf.Tensor>;
  progress?: Progress;
}

function setLearningRate(optimizer: tf.AdamOptimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

/**
 * The state training starts from: fresh, or with `resume`, the state, weights and optimiser
 * moments of the checkpoint in `lastDir` (when there is one).
 */
async function startState(model: Trainable, optimizer: tf.AdamOptimizer, cfg: FitConfig, lastDir: string | null): Promise<SavedState> {
  let state: SavedState = { history: [], best: null, bestEpoch: -1, sinceBest: 0, learningRate: cfg.learningRate };
  if (cfg.resume && lastDir && hasCheckpoint(lastDir)) {
    const loaded = loadCheckpoint(lastDir, model.params);
    state = loaded.meta.state as unknown as SavedState;
    if (loaded.optimizerWeights.length > 0) {
      await optimizer.setWeights(loaded.optimizerWeights.map((t, i) => ({ name: `w${i}`, tensor: t })));
      replayAdamPowers(optimizer);
    }
    // the optimiser's variables share these tensors' data; the tensors themselves are ours to free
    tf.dispose(loaded.optimizerWeights);
    setLearningRate(optimizer, state.learningRate);
  }
  return state;
}

/**
 * One epoch of optimiser steps over `batches`: the loss terms and gradient norm averaged over
 * the batches, or, at a non-finite loss term or gradient norm, why training diverged (the
 * weights are then put back to `lastGood`).
 */
async function trainEpoch(loop: Loop, epoch: number, batches: ArrayBatch[], rng: Rng): Promise<{ train: Record<string, number> } | { diverged: string }> {
  const { model, names, vars, optimizer, engine, lastDir } = loop;
  const sums: Record<string, number> = {};
  for (let b = 0; b < batches.length; b++) {
    const { grads, terms } = await engine.compute(batches[b], rng.nextUint32());
    const gradNorm = tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => g.square().sum()))).dataSync()[0]);
    const bad = !Number.isFinite(gradNorm) || Object.values(terms).some((v) => !Number.isFinite(v));
    if (bad) {
      tf.dispose([...grads.values()]);
      model.params.assign(loop.lastGood);
      const shown = Object.entries(terms)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");
      const restored = epoch === 0 ? "their initial values" : `the end of epoch ${epoch - 1}`;
      const kept = lastDir && hasCheckpoint(lastDir) ? `, kept in ${lastDir}` : "";
      return { diverged: `training diverged at epoch ${epoch}, batch ${b} (${shown}, gradient norm ${gradNorm}); weights restored to ${restored}${kept}` };
    }
    const named: tf.NamedTensorMap = {};
    names.forEach((n, i) => (named[vars[i].name] = grads.get(n) as tf.Tensor));
    optimizer.applyGradients(named as unknown as Parameters<typeof optimizer.applyGradients>[0]);
    tf.dispose([...grads.values()]);
    for (const [k, v] of Object.entries({ ...terms, gradNorm })) sums[k] = (sums[k] ?? 0) + v;
    loop.progress?.update(epoch + (b + 1) / batches.length, { loss: terms.total });
    await yieldToEventLoop();
  }
  const train: Record<string, number> = {};
  for (const [k, v] of Object.entries(sums)) train[k] = v / batches.length;
  return { train };
}

/**
 * Updates the best epoch after an epoch with validation metrics `val`: by `monitor` (counting
 * the epochs without improvement), or the last epoch without a monitor. True when it improved.
 */
function trackBest(loop: Loop, epoch: number, val: Record<string, number>): boolean {
  const { cfg, state } = loop;
  if (!cfg.monitor) {
    state.bestEpoch = epoch;
    return true;
  }
  const v = val[cfg.monitor];
  if (v === undefined) throw new Error(`monitor "${cfg.monitor}" is not among the validation metrics (${Object.keys(val).join(", ") || "none"})`);
  const better = state.best === null || (cfg.mode === "min" ? v < state.best : v > state.best);
  if (Number.isFinite(v) && better) {
    state.best = v;
    state.bestEpoch = epoch;
    state.sinceBest = 0;
    return true;
  }
  state.sinceBest++;
  return false;
}

/** After an epoch: a copy of the best weights (and `best/`) at an improvement by `monitor`, then `last/` with the optimiser. */
async function saveEpoch(loop: Loop, epoch: number, improved: boolean): Promise<void> {
  const { model, cfg, optimizer, lastDir, bestDir } = loop;
  const meta = () => ({ kind: model.kind, spec: model.spec, epoch: epoch + 1, state: { ...loop.state } as unknown as Record<string, unknown> });
  if (improved && cfg.monitor) {
    if (loop.bestSnapshot) tf.dispose([...loop.bestSnapshot.values()]);
    loop.bestSnapshot = model.params.snapshot();
    if (bestDir) await saveCheckpoint(bestDir, model.params, [], meta());
  }
  if (lastDir) {
    const optimizerWeights = await optimizer.getWeights();
    await saveCheckpoint(lastDir, model.params, optimizerWeights, meta());
    // getWeights makes a new tensor for the iteration count (the moments are the optimiser's own variables)
    tf.dispose(optimizerWeights.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
  }
}

/** Trains `model` in place; returns the history and how training ended. */
export async function fit(model: Trainable, data: FitData, config: Partial<FitConfig> = {}): Promise<FitResult> {
  const cfg: FitConfig = { ...FIT_DEFAULTS, ...config };
  const started = Date.now();
  const names = model.trainableNames();
  const vars = names.map((n) => model.params.get(n));
  const optimizer = new HeapAdam(cfg.learningRate);
  const lastDir = cfg.checkpointDir ? join(cfg.checkpointDir, "last") : null;
  const bestDir = cfg.checkpointDir ? join(cfg.checkpointDir, "best") : null;
  const state = await startState(model, optimizer, cfg, lastDir);
  const lastGood = model.params.snapshot();
  const engine = gradientEngine(model, cfg.workers);
  const progress = cfg.label ? new Progress(cfg.label, cfg.epochs) : undefined;
  const loop: Loop = { model, cfg, names, vars, optimizer, engine, state, lastDir, bestDir, lastGood, progress };
  const firstEpoch = state.history.length;
  let status: FitResult["status"] = "completed";
  let message = `trained ${cfg.epochs} epochs`;
  const finish = (): FitResult => {
    if (status !== "diverged" && cfg.restoreBest && cfg.monitor && loop.bestSnapshot) model.params.assign(loop.bestSnapshot);
    const epochsRun = state.history.length - firstEpoch;
    return { status, message, history: state.history, bestEpoch: state.bestEpoch, best: state.best, epochsRun, seconds: (Date.now() - started) / 1000 };
  };
  try {
    for (let epoch = firstEpoch; epoch < cfg.epochs; epoch++) {
      const t0 = Date.now();
      if (cfg.lrDecay && epoch > 0 && epoch % cfg.lrDecay.every === 0) {
        state.learningRate *= cfg.lrDecay.gamma;
        setLearningRate(optimizer, state.learningRate);
      }
      const rng = epochRng(cfg.seed, epoch);
      const batches = data.batches(epoch, rng);
      if (batches.length === 0) throw new Error(`epoch ${epoch}: no training batches`);
      const trained = await trainEpoch(loop, epoch, batches, rng);
      if ("diverged" in trained) {
        status = "diverged";
        message = trained.diverged;
        return finish();
      }
      const { train } = trained;
      const val = data.validate ? await data.validate(epoch) : {};
      state.history.push({ epoch, seconds: (Date.now() - t0) / 1000, learningRate: state.learningRate, train, val });
      tf.dispose([...loop.lastGood.values()]);
      loop.lastGood = model.params.snapshot();
      const improved = trackBest(loop, epoch, val);
      await saveEpoch(loop, epoch, improved);
      progress?.update(epoch + 1, { loss: train.total, ...Object.fromEntries(Object.entries(val).map(([k, v]) => [`val ${k}`, v])) });
      await yieldToEventLoop();
      if (cfg.monitor && cfg.patience > 0 && state.sinceBest >= cfg.patience) {
        status = "early-stopped";
        message =
          `stopped early after epoch ${epoch}: ${cfg.monitor} did not improve for ${cfg.patience} epochs ` + `(best ${state.best} at epoch ${state.bestEpoch})`;
        break;
      }
    }
    return finish();
  } finally {
    await engine.close();
    optimizer.dispose();
    tf.dispose([...loop.lastGood.values()]);
    if (loop.bestSnapshot) tf.dispose([...loop.bestSnapshot.values()]);
  }
}
