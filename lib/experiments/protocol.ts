/**
 * The protocol every study shares: a panel standardised on its training window and split in
 * time (`TimePanel`), window training of any sequence model, and the evaluation of a forecaster
 * on the test window (MSE@M, CIG, direct and total AR-CIG, scored against the true graphs, on
 * all pairs and on the target's column, and against the generator's true influence).
 * DICE, the bypass benchmark, the graph swap, the stress and budget studies and diagnose are
 * configurations on top of it.
 *
 * Ours where the papers are silent (the notebooks say so): every unit is used and split in time
 * into train / validation / test windows; sequence models train on random windows of the
 * training window (teacher forcing, then a rollout of `horizon` steps) and keep the weights of
 * the best validation MSE.
 */
import { TRUE_INFLUENCE_GENERATORS, type TrueInfluence, trueInfluence } from "../analysis/true-influence";
import { type AgreementValue, influenceAgreement, scoreTargetColumn } from "../diagnostics/agreement";
import {
  type Panel,
  targetIndex,
  type Scaler,
  type ScalerConfig,
  type TimeSplit,
  type TimeSplitConfig,
  applyScaler,
  fitScaler,
  splitTime,
} from "../data/panel";
import { type ArCigScores, type InfluenceMatrix, type InfluenceScore, arCig, cig, scoreArCig, scoreInfluence } from "../diagnostics/influence";
import type { Forecaster } from "../core/forecaster";
import { type MseResult, mseAt, mseAtHorizons } from "../diagnostics/mse";
import { meanSd } from "../diagnostics/stability";
import { unitGraphs } from "../diagnostics/ranking";
import type { Graph } from "../graph";
import type { MeanRanking } from "../diagnostics/ranking";
import type { GraphSafeConfig, JointGruConfig } from "../models/graph-safe";
import { tf } from "../tf";
import { shuffledWindowBatches, windowBatch } from "../train/batches";
import { type FitConfig, type FitResult, fit } from "../train/fit";
import type { BatchExtras, Trainable } from "../core/trainable";
import { panelFingerprint, trainOnce } from "./trained";

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/** A panel standardised on its training window, with its time split and true graphs. */
export interface TimePanel {
  /** Standardised panel (training-window statistics, pooled over units). */
  panel: Panel;
  split: TimeSplit;
  /** True graph per unit, or null when the panel has none. */
  truth: Graph[] | null;
  /** The scaler fitted on the training window (raw <-> model scale); set by `prepareTimePanel`. */
  scaler?: Scaler;
  /** The panel before scaling (with its provenance); set by `prepareTimePanel`. */
  raw?: Panel;
}

/**
 * Standardises a panel by the statistics of its training window and splits it in time; `scaler`
 * adds options of the pipeline's scaler (e.g. `log1p: "all"` for raw spend and KPIs).
 */
export function prepareTimePanel(raw: Panel, split: Partial<TimeSplitConfig> = {}, scaler: Partial<Omit<ScalerConfig, "steps" | "units">> = {}): TimePanel {
  const s = splitTime(raw, split);
  const fitted = fitScaler(raw, { ...scaler, steps: { from: s.train.from, to: s.train.to } });
  return { panel: applyScaler(raw, fitted), split: s, truth: raw.truth ? unitGraphs(raw) : null, scaler: fitted, raw };
}

/** Every unit index of a panel, in order. */
export const allUnits = (p: Panel): number[] => Array.from({ length: p.units }, (_, u) => u);

/** At most `n` unit indices evenly spaced over `units` (null when all are used). */
export function evaluationUnits(units: number, n: number | null): number[] | null {
  if (n === null || n >= units) return null;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`evaluationUnits: the number of units must be a positive integer or null, got ${n}`);
  return [...new Set(Array.from({ length: n }, (_, k) => Math.floor((k * units) / n)))];
}

// ---------------------------------------------------------------------------------------------
// Runs: every trained variant has one shape
// ---------------------------------------------------------------------------------------------

/** The graph-safe decoder's supplied graphs, and the unconstrained joint GRU. */
export type DecoderName = "no-graph" | "full-graph" | "oracle" | "dice-hard" | "dice-soft" | "high-capacity";

/** Every variant of the study, by name. */
export type VariantName = DecoderName | "dice-stage1" | "causalmmm" | "granger-pooled" | "granger-unit" | "pcmci" | "deepcausalmmm";

/** One display label per variant, used by every table and figure. */
export const VARIANT_LABELS: Readonly<Record<VariantName, string>> = {
  "no-graph": "no-graph",
  "full-graph": "full-graph",
  oracle: "oracle",
  "dice-hard": "DICE-hard",
  "dice-soft": "DICE-soft",
  "high-capacity": "high-capacity",
  "dice-stage1": "DICE Stage 1",
  causalmmm: "CausalMMM",
  "granger-pooled": "Granger (pooled)",
  "granger-unit": "Granger (per unit)",
  pcmci: "PCMCI (pooled)",
  deepcausalmmm: "DeepCausalMMM-style",
};

/** What a variant learned about the graph: edge scores per unit (in `units` order) and their ranking against the truth. */
export interface GraphEvidence {
  units: number[];
  probs: Graph[];
  /** Mean per-unit AUROC / AP / nAUPRC against the true graphs (null without a truth). */
  scores: MeanRanking | null;
}

/** A trained variant, whatever its kind. */
export interface Run<M = unknown> {
  name: VariantName;
  label: string;
  model: M;
  /** Null for a variant that does not forecast (the Granger baseline's scores only). */
  forecaster: Forecaster | null;
  /** The graph supplied to the decoder per unit (null when the model takes none). */
  graphs: Graph[] | null;
  /** Training history (null for a fit without epochs). */
  fit: FitResult | null;
  /** Edge scores the variant reports as its graph (null for a decoder that is given one). */
  evidence: GraphEvidence | null;
  /** Frees the model's tensors. */
  dispose(): void;
}

/** A run that forecasts (a decoder or a sequence model). */
export type ForecastingRun<M = unknown> = Run<M> & { forecaster: Forecaster; fit: FitResult };

// ---------------------------------------------------------------------------------------------
// Window training
// ---------------------------------------------------------------------------------------------

export interface DecoderTrainConfig {
  graphSafe: Partial<GraphSafeConfig>;
  jointGru: Partial<JointGruConfig>;
  fit: Partial<FitConfig>;
  /** Length of a training window (steps). */
  window: number;
  /** Windows drawn per unit per epoch. */
  windowsPerUnit: number;
  batchSize: number;
}

export const DECODER_TRAIN_DEFAULTS: DecoderTrainConfig = {
  graphSafe: {},
  jointGru: {},
  fit: { epochs: 15, learningRate: 5e-3, monitor: "mse", mode: "min", restoreBest: true, label: "decoder" },
  window: 40,
  windowsPerUnit: 2,
  batchSize: 32,
};

/** The decoder training configuration with its defaults filled in. */
export function decoderTrainConfig(config: Partial<DecoderTrainConfig> = {}): DecoderTrainConfig {
  return { ...DECODER_TRAIN_DEFAULTS, ...config, fit: { ...DECODER_TRAIN_DEFAULTS.fit, ...config.fit } };
}

/** What {@link trainOnWindows} trains a model with. */
export interface WindowTraining {
  /** The model's name in its progress label, `<name> (seed <seed>)`. */
  name: string;
  /** Further inputs per window row (e.g. the supplied graphs of a decoder); none when omitted. */
  extras?: BatchExtras;
  /**
   * What `extras` holds, for sharing the training (lib/experiments/trained.ts): e.g. a fingerprint
   * of the supplied graphs. With extras but no key, the training is never shared.
   */
  extrasKey?: string;
  config: DecoderTrainConfig;
  /** Seed of the fit (its batches and noise). */
  seed: number;
}

/**
 * Trains any window model (a decoder, the DeepCausalMMM-style model) on random windows of every
 * unit's training window, validated by the same window loss on the validation window.
 */
export async function trainOnWindows(tp: TimePanel, model: Trainable, training: WindowTraining): Promise<FitResult> {
  const { name, extras, extrasKey, config: cfg, seed } = training;
  const { panel, split } = tp;
  const units = allUnits(panel);
  const W = Math.min(cfg.window, split.train.length);
  // validation windows: one per unit, the last W steps up to the end of the validation period,
  // scored by the training loss (teacher forcing, then the rollout of the last `horizon` steps);
  // with a validation period shorter than W, the window's first steps (and predictions) lie in
  // the training period, so this is a model-selection signal, not a held-out test score
  // (the test period is scored by evaluateDecoder).
  const valLength = Math.min(W, split.validation.to);
  const valRows = units.map((unit) => ({ unit, start: split.validation.to - valLength }));
  const val = split.validation.length > 0 ? windowBatch(panel, valRows, valLength, extras) : undefined;
  const batchOptions = { units, range: split.train, length: W, perUnit: cfg.windowsPerUnit, batchSize: cfg.batchSize, extras };
  const fitConfig = { ...cfg.fit, seed, label: cfg.fit.label === null ? null : `${name} (seed ${seed})`, monitor: val ? (cfg.fit.monitor ?? "mse") : null };
  const train = () =>
    fit(
      model,
      {
        batches: (_e, rng) => shuffledWindowBatches(panel, { ...batchOptions, rng }),
        validate: val ? () => tf.tidy(() => ({ mse: model.loss(val, 0).mse.dataSync()[0] })) : undefined,
      },
      fitConfig,
    );
  if (extras && extrasKey === undefined) return train();
  const { fit: _fit, ...windows } = cfg;
  return trainOnce(model, { panel: panelFingerprint(tp), windows, extras: extrasKey ?? null }, fitConfig, train);
}

// ---------------------------------------------------------------------------------------------
// Evaluation on the test window
// ---------------------------------------------------------------------------------------------

export interface EvaluationConfig {
  /** History fed before each origin. */
  history: number;
  /** Distance between origins in the test window. */
  stride: number;
  /** Distance between origins for the influence measures (they cost N^2 rollouts per origin). */
  influenceStride: number;
  horizon: number;
  /** Units evaluated (default all). */
  units?: number[];
}

export const EVALUATION_DEFAULTS: EvaluationConfig = { history: 20, stride: 2, influenceStride: 12, horizon: 7 };

/** What an evaluation needs of a trained model: its forecaster and the graph it decodes with. */
export interface Evaluable {
  name: string;
  forecaster: Forecaster;
  /** The supplied graph per unit (null: the model takes none). */
  graphs: Graph[] | null;
}

/**
 * A decoder's influence against the generator's true influence (lib/analysis/true-influence.ts,
 * the same windows, perturbation and horizon): the mean over the evaluated units of each unit's
 * agreement (lib/diagnostics/agreement.ts). `relativeError` (sum |m - t| / sum |t| over all
 * off-diagonal pairs: 0 exact, 1 for no influence at all) is the headline: it counts influence
 * sent where there is none and influence of the wrong size alike, and no decoder gets it right by
 * construction. `spearman` over all pairs is dominated by the pairs without true influence (a
 * graph-safe decoder given the true graph ranks them last by construction); `supportSpearman`
 * ranks the pairs the truth reaches. A model whose influence is constant over the pairs ranks
 * nothing: its Spearman counts as 0, as a constant score's nAUPRC does.
 */
export interface TruthAgreement {
  relativeError: number;
  spearman: number;
  supportSpearman: number;
  target: { spearman: number; relativeError: number };
}

/** A decoder's forecasting and attribution measures on the test window. */
export interface DecoderEvaluation {
  name: string;
  mse: MseResult;
  /** MSE@7 of the target and of all nodes. */
  mse7: { target: number; allNodes: number };
  /** The influence matrices themselves (mean and per unit). */
  influence: { cig: InfluenceMatrix; direct?: InfluenceMatrix; total?: InfluenceMatrix };
  cig: InfluenceScore | null;
  arCig: ArCigScores | null;
  /** Headline nAUPRCs (NaN without a truth). */
  nauprc: { cig: number; direct: number; total: number; totalVsClosure: number };
  /** The same on the target's column alone (pairs j -> target: the attribution to sales; NaN without a truth). */
  targetNauprc: { cig: number; direct: number; total: number };
  /** Direct and total AR-CIG against the generator's true influence (null when the panel's generator has none). */
  agreement: { direct: TruthAgreement; total: TruthAgreement } | null;
  seconds: number;
}

/** The true influence of a time panel's generator per influence setting, computed once (null: the generator has none). */
const trueInfluences = new WeakMap<TimePanel, Map<string, TrueInfluence | null>>();

function trueInfluenceOf(tp: TimePanel, config: Parameters<typeof trueInfluence>[2]): TrueInfluence | null {
  let cache = trueInfluences.get(tp);
  if (!cache) trueInfluences.set(tp, (cache = new Map()));
  const key = JSON.stringify(config);
  if (!cache.has(key)) {
    const gen = tp.raw?.provenance?.generator;
    const raw = tp.raw;
    const ok = raw && tp.scaler && gen !== undefined && TRUE_INFLUENCE_GENERATORS.includes(gen) && generatorNodesMatch(raw);
    cache.set(key, ok ? trueInfluence(raw!, tp.scaler!, config) : null);
  }
  return cache.get(key)!;
}

/** The windows of the influence measures on the test window (origins every `influenceStride` steps whose rollout stays inside it). */
function influenceSettings(tp: TimePanel, c: EvaluationConfig) {
  const { test } = tp.split;
  return { window: { from: test.from, to: test.to - c.horizon + 1 }, history: c.history, units: c.units, stride: c.influenceStride };
}

/**
 * The generator's true influence (direct and total) on the windows, units and horizon an
 * evaluation with `config` uses, so that it can be shown beside the decoders' AR-CIG; null when
 * the panel's generator has none. Computed once per time panel and setting.
 */
export function evaluationTrueInfluence(tp: TimePanel, config: Partial<EvaluationConfig> = {}): TrueInfluence | null {
  const c = { ...EVALUATION_DEFAULTS, ...config };
  return trueInfluenceOf(tp, { ...influenceSettings(tp, c), horizon: c.horizon });
}

/** Whether every edge a generated panel's provenance records joins nodes the panel still has (not so after renaming nodes, e.g. in a CSV round trip). */
function generatorNodesMatch(raw: Panel): boolean {
  const edges = (raw.provenance?.params as { drawn?: { edges?: { source: string; target: string }[] } } | undefined)?.drawn?.edges ?? [];
  const names = new Set(raw.nodeNames);
  return edges.every((e) => names.has(e.source) && names.has(e.target));
}

/** Mean over units of each unit's agreement of `m` with the true influence `t` (same units, in order). */
export function truthAgreement(m: InfluenceMatrix, t: InfluenceMatrix, target: number): TruthAgreement {
  if (m.units.length !== t.units.length || m.units.some((u, k) => u !== t.units[k]))
    throw new Error("truthAgreement: the model and the truth cover different units");
  const per = m.perUnit.map((pm, k) => influenceAgreement(pm, t.perUnit[k], target));
  const rho = (v: AgreementValue) => (Number.isNaN(v.value) && v.reason?.startsWith("the model's influence is constant") ? 0 : v.value);
  const mean = (f: (a: (typeof per)[number]) => number) => meanSd(per.map(f)).mean;
  return {
    relativeError: mean((a) => a.all.relativeError.value),
    spearman: mean((a) => rho(a.all.spearman)),
    supportSpearman: mean((a) => rho(a.support.spearman)),
    target: { spearman: mean((a) => rho(a.target.spearman)), relativeError: mean((a) => a.target.relativeError.value) },
  };
}

/** MSE@M, CIG and AR-CIG of a trained model on the test window, scored against the truth. */
export function evaluateDecoder(run: Evaluable, tp: TimePanel, config: Partial<EvaluationConfig> = {}): DecoderEvaluation {
  const t0 = Date.now();
  const c = { ...EVALUATION_DEFAULTS, ...config };
  const { panel, split, truth } = tp;
  const graph = run.graphs ?? undefined;
  const window = { from: split.test.from, to: split.test.to };
  const common = { window, history: c.history, units: c.units, graph };
  const mse = mseAtHorizons(run.forecaster, panel, { ...common, stride: c.stride, horizons: [1, c.horizon, 14].filter((h) => h <= window.to - window.from) });
  const m7 = mseAt(mse, c.horizon);
  const influenceWindow = { ...influenceSettings(tp, c), graph };
  const cigM = cig(run.forecaster, panel, influenceWindow);
  const ar = arCig(run.forecaster, panel, { ...influenceWindow, horizon: c.horizon });
  // the scores look each evaluated unit's graph up by its index in the panel
  const cigScore = truth ? scoreInfluence(cigM, truth) : null;
  const arScores = truth ? scoreArCig(ar, truth) : null;
  const target = targetIndex(panel);
  const column = (m: InfluenceMatrix | undefined) => (truth && m ? scoreTargetColumn(m, truth, target).headline.nauprc : NaN);
  const ti = evaluationTrueInfluence(tp, c);
  const agreement =
    ti && ar.direct && ar.total ? { direct: truthAgreement(ar.direct, ti.direct, target), total: truthAgreement(ar.total, ti.total, target) } : null;
  return {
    name: run.name,
    mse,
    mse7: { target: m7.target, allNodes: m7.allNodes },
    influence: { cig: cigM, direct: ar.direct, total: ar.total },
    cig: cigScore,
    arCig: arScores,
    nauprc: {
      cig: cigScore?.headline.nauprc ?? NaN,
      direct: arScores?.direct?.headline.nauprc ?? NaN,
      total: arScores?.total?.headline.nauprc ?? NaN,
      totalVsClosure: arScores?.totalVsClosure?.headline.nauprc ?? NaN,
    },
    targetNauprc: { cig: column(cigM), direct: column(ar.direct), total: column(ar.total) },
    agreement,
    seconds: (Date.now() - t0) / 1000,
  };
}

/**
 * An evaluation's influence matrix averaged over some of its units and divided by its largest
 * off-diagonal value (all zeros stay zeros), for heatmaps. kind: "cig", "direct" or "total".
 */
export function normalisedInfluence(ev: DecoderEvaluation, kind: "cig" | "direct" | "total", units?: readonly number[]): Graph {
  const m = kind === "cig" ? ev.influence.cig : ev.influence[kind];
  if (!m) throw new Error(`normalisedInfluence: ${ev.name} has no ${kind} influence`);
  return normalisedMatrix(m, units);
}

/** An influence matrix (a decoder's or the true influence) averaged over some of its units and divided by its largest off-diagonal value. */
export function normalisedMatrix(m: InfluenceMatrix, units?: readonly number[]): Graph {
  const rows = units
    ? units.map((u) => {
        const k = m.units.indexOf(u);
        if (k < 0) throw new Error(`normalisedInfluence: unit ${u} was not evaluated`);
        return m.perUnit[k];
      })
    : m.perUnit;
  const N = rows[0].length;
  const mean = Array.from({ length: N }, (_, j) => Array.from({ length: N }, (_, i) => rows.reduce((s, r) => s + r[j][i], 0) / rows.length));
  return scaleToMaxOffDiagonal(mean);
}

/** A matrix divided by its largest off-diagonal value, diagonal 0 (all zeros stay zeros), for heatmaps. */
export function scaleToMaxOffDiagonal(m: number[][]): number[][] {
  let max = 0;
  m.forEach((row, j) =>
    row.forEach((v, i) => {
      if (i !== j) max = Math.max(max, v);
    }),
  );
  return m.map((row, j) => row.map((v, i) => (i === j ? 0 : max > 0 ? v / max : 0)));
}
