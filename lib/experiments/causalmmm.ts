/**
 * CausalMMM experiments: train on a panel's training units, watch graph recovery (AUROC of the
 * encoder's edge probabilities on validation units) and forecasting (validation MSE) epoch by
 * epoch. The data layer, the model, the training loop and the diagnostics meet here; notebooks
 * call these functions and plot what they return.
 */
import { type Panel, sliceSteps, splitUnits, targetIndex } from "../data/panel";
import type { UnitSplit } from "../data/panel";
import { type Graph, emptyGraph } from "../graph";
import { type MseConfig, type MseResult, mseAtHorizons } from "../diagnostics/mse";
import { type GraphScoreSet, type MeanRanking, scoreGraphs, unitGraphs } from "../diagnostics/ranking";
import { type GrangerConfig, fitGranger } from "../models/granger";
import { CausalMMM, type CausalMMMConfig } from "../models/causalmmm";
import { tf } from "../tf";
import { shuffledUnitBatches, unitBatch } from "../train/batches";
import { type EpochRecord, type FitConfig, fit } from "../train/fit";
import { type ForecastingRun, type GraphEvidence, type TimePanel, VARIANT_LABELS, allUnits } from "./protocol";

export interface CausalMMMExperimentConfig {
  model: Partial<CausalMMMConfig>;
  fit: Partial<FitConfig>;
  batchSize: number;
  /** Rows per evaluation call (memory bound). */
  evalRows: number;
}

export const CAUSALMMM_EXPERIMENT_DEFAULTS: CausalMMMExperimentConfig = {
  model: {},
  fit: { epochs: 20, learningRate: 5e-4, monitor: "auroc", mode: "max", restoreBest: false, label: "CausalMMM" },
  batchSize: 16,
  evalRows: 64,
};

/** A trained CausalMMM (evidence: the learned P(j -> i) of the validation units) and its unit split. */
export type CausalMMMRun = ForecastingRun<CausalMMM> & { split: UnitSplit; evidence: GraphEvidence & { scores: MeanRanking } };

/** P(j -> i) per unit from the encoder, reading each unit's whole series. */
export function learnedGraphs(model: CausalMMM, panel: Panel, units: readonly number[], rows = 64): Graph[] {
  const out: Graph[] = [];
  for (let s = 0; s < units.length; s += rows) {
    const batch = unitBatch(panel, units.slice(s, s + rows));
    const g = tf.tidy(() => model.graphMatrices(tf.tensor3d(batch.x.data, batch.x.shape as [number, number, number])));
    out.push(...(g.arraySync() as Graph[]));
    g.dispose();
  }
  return out;
}

/** Mean squared one-step error of the training objective's decoding (teacher forcing, then rollout) on the given units, edges = probabilities. */
export function validationMse(model: CausalMMM, panel: Panel, units: readonly number[], rows = 64): number {
  let sum = 0;
  for (let s = 0; s < units.length; s += rows) {
    const part = units.slice(s, s + rows);
    const batch = unitBatch(panel, part);
    const mse = tf.tidy(() => {
      const x = tf.tensor3d(batch.x.data, batch.x.shape as [number, number, number]);
      const context = batch.context ? tf.tensor2d(batch.context.data, batch.context.shape as [number, number]) : undefined;
      return model.lossTerms({ x, enc: x, context }).mse.dataSync()[0];
    });
    sum += mse * part.length;
  }
  return sum / units.length;
}

/**
 * Trains CausalMMM on `split.train` units of a (scaled) panel with a true graph and records,
 * after every epoch, the mean per-unit AUROC and nAUPRC of the learned graph on `split.validation`
 * (or `split.test` when there is no validation set) and the validation MSE.
 */
export async function trainCausalMMM(panel: Panel, split: UnitSplit, config: Partial<CausalMMMExperimentConfig> = {}): Promise<CausalMMMRun> {
  const cfg: CausalMMMExperimentConfig = {
    ...CAUSALMMM_EXPERIMENT_DEFAULTS,
    ...config,
    fit: { ...CAUSALMMM_EXPERIMENT_DEFAULTS.fit, ...config.fit },
  };
  if (!panel.truth) throw new Error(`trainCausalMMM: panel "${panel.provenance.generator}" has no true graph to score against`);
  const valUnits = split.validation.length > 0 ? split.validation : split.test;
  if (split.train.length === 0 || valUnits.length === 0) throw new Error("trainCausalMMM: the split needs training units and validation (or test) units");
  const truth = unitGraphs(panel);
  const valTruth = valUnits.map((u) => truth[u]);
  const model = new CausalMMM({
    nodes: panel.nodes,
    target: targetIndex(panel),
    contextDim: panel.context?.names.length ?? 0,
    encoderSteps: panel.steps,
    ...cfg.model,
  });
  const result = await fit(
    model,
    {
      batches: (_epoch, rng) => shuffledUnitBatches(panel, { units: split.train, batchSize: cfg.batchSize, rng }),
      validate: () => {
        const scores = scoreGraphs(learnedGraphs(model, panel, valUnits, cfg.evalRows), valTruth).mean;
        return { auroc: scores.auroc, nauprc: scores.nauprc, mse: validationMse(model, panel, valUnits, cfg.evalRows) };
      },
    },
    cfg.fit,
  );
  const probs = learnedGraphs(model, panel, valUnits, cfg.evalRows);
  const evidence = { units: [...valUnits], probs, scores: scoreGraphs(probs, valTruth).mean };
  return {
    name: "causalmmm",
    label: VARIANT_LABELS.causalmmm,
    model,
    forecaster: model.forecaster(),
    graphs: null,
    fit: result,
    evidence,
    split,
    dispose: () => model.dispose(),
  };
}

/**
 * CausalMMM on the same footing as DICE Stage 1: trained on every unit's training window (the
 * standardised panel cut to it) and scored on the same units' graphs after every epoch
 * (transductive graph recovery: the truth is never used in training).
 */
export async function trainCausalMMMOnTrainingWindow(tp: TimePanel, config: Partial<CausalMMMExperimentConfig> = {}): Promise<CausalMMMRun> {
  const cut = sliceSteps(tp.panel, tp.split.train.from, tp.split.train.to);
  const units = allUnits(cut);
  return trainCausalMMM(cut, { train: units, validation: units, test: [], config: { train: 1, validation: 0, test: 0, seed: 0, shuffle: false } }, config);
}

/**
 * MSE@M of the trained decoder on `units`, each decoding with its own learned graph (the
 * encoder's probabilities from its whole series).
 */
export function causalMMMForecastMse(model: CausalMMM, panel: Panel, units: readonly number[], config: Partial<MseConfig> = {}): MseResult {
  const learned = learnedGraphs(model, panel, units);
  const graphs: Graph[] = Array.from({ length: panel.units }, () => emptyGraph(panel.nodes));
  units.forEach((u, k) => (graphs[u] = learned[k]));
  return mseAtHorizons(model.forecaster(), panel, { ...config, units: [...units], graph: graphs });
}

/** CausalMMM on its shipped simulation, as the official code splits it (notebook 02). */
export interface ShippedConfig {
  /** Training units: the first this many of the 80% side of the unit split. */
  trainUnits: number;
  /** Held-out units, scored after every epoch: the first this many of the 20% side. */
  valUnits: number;
  /** Seed of the 80/20 unit split (the official code's is 100). */
  splitSeed: number;
  /** Model, training and batches; CausalMMM's experiment defaults fill the rest. */
  experiment: Partial<CausalMMMExperimentConfig>;
  /** MSE@M of the trained decoder on the held-out units (raw scale). */
  mse: Partial<MseConfig>;
}

export const SHIPPED_DEFAULTS: ShippedConfig = {
  trainUnits: 240,
  valUnits: 60,
  splitSeed: 100,
  experiment: {},
  mse: { window: { from: 60, to: 100 }, history: 60, horizons: [1, 7, 14, 30] },
};

/** What one seed of CausalMMM on the shipped data leaves: plain values, so that a runner job can cache them. */
export interface ShippedSeedResult {
  seed: number;
  /** Per epoch: seconds, training loss terms, and `val.auroc`, `val.nauprc`, `val.mse` on the held-out units. */
  history: EpochRecord[];
  /** The learned P(j -> i) of the held-out units after the last epoch, and their scores against the truth. */
  evidence: GraphEvidence & { scores: MeanRanking };
  /** MSE@M of the trained decoder on the held-out units, each with its own learned graph. */
  forecast: MseResult;
}

/** The unit split of {@link ShippedConfig}: the 80/20 split of all units, each side cut to its first `trainUnits` / `valUnits`. */
export function shippedSplit(panel: Pick<Panel, "units">, config: Partial<ShippedConfig> = {}): UnitSplit {
  const cfg = { ...SHIPPED_DEFAULTS, ...config };
  const full = splitUnits(panel, { train: 0.8, validation: 0, test: 0.2, seed: cfg.splitSeed });
  return { ...full, train: full.train.slice(0, cfg.trainUnits), test: full.test.slice(0, cfg.valUnits) };
}

/** One seed (of the model and of its batches) of CausalMMM on a panel split by {@link shippedSplit}; the model is disposed. */
export async function shippedCausalMMMSeed(panel: Panel, seed: number, config: Partial<ShippedConfig> = {}): Promise<ShippedSeedResult> {
  const cfg = { ...SHIPPED_DEFAULTS, ...config };
  const e = cfg.experiment;
  const run = await trainCausalMMM(panel, shippedSplit(panel, cfg), { ...e, model: { ...e.model, seed }, fit: { ...e.fit, seed } });
  try {
    const forecast = causalMMMForecastMse(run.model, panel, run.evidence.units, cfg.mse);
    return { seed, history: run.fit.history, evidence: run.evidence, forecast };
  } finally {
    run.dispose();
  }
}

/** The linear Granger baseline fitted per unit; edge scores per unit and their ranking against the truth. */
export function grangerPerUnit(panel: Panel, units: readonly number[], config: Partial<GrangerConfig> = {}): { graphs: Graph[]; scores: GraphScoreSet } {
  const result = fitGranger(panel, { ...config, scope: "unit", units });
  const fits = result.unitFits ?? [];
  const byUnit = new Map(fits.map((f) => [f.unit, f]));
  const graphs = units.map((u) => {
    const f = byUnit.get(u);
    if (!f) throw new Error(`Granger: no fit for unit ${u}`);
    return f.scores;
  });
  const truth = unitGraphs(panel);
  return {
    graphs,
    scores: scoreGraphs(
      graphs,
      units.map((u) => truth[u]),
    ),
  };
}
