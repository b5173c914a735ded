/**
 * DICE Stage 1 on the shared protocol: the graph encoder trained through the restricted
 * graph-mediated decoder on every unit's training window, its edge probabilities per unit,
 * the validation MSE of the restricted decoder with a supplied graph, and the support
 * selections of STUDY.md (validation-MSE threshold, top-k, stability) compared. Stage 2 and the
 * reference decoders are variants (variants.ts); the bypass benchmark is bypass.ts.
 */
import { scoreGraphs, scoreSupport, type MeanRanking, type SupportScore } from "../diagnostics/ranking";
import type { Graph } from "../graph";
import { DiceStage1, type DiceStage1Config } from "../models/dice-stage1";
import { type SupportSelection, type ValidationEvidence, selectByStability, selectByValidation, selectTopK } from "../models/support";
import { tf } from "../tf";
import { graphExtras, shuffledUnitBatches, unitSeries } from "../train/batches";
import { type FitConfig, type FitResult, fit } from "../train/fit";
import { type Summary, summarise } from "./measures";
import { type TimePanel, allUnits } from "./protocol";

// ---------------------------------------------------------------------------------------------
// Stage 1
// ---------------------------------------------------------------------------------------------

export interface Stage1Config {
  model: Partial<DiceStage1Config>;
  fit: Partial<FitConfig>;
  /** Units per batch. */
  batchSize: number;
}

export const STAGE1_DEFAULTS: Stage1Config = {
  model: {},
  fit: { epochs: 200, learningRate: 5e-3, monitor: "mse", mode: "min", restoreBest: false, label: "DICE Stage 1" },
  batchSize: 8,
};

export interface Stage1Run {
  model: DiceStage1;
  fit: FitResult;
  /** P(j -> i) per unit (read from its training window), after training. */
  probs: Graph[];
  /** Their scores against the true graphs (null without a truth). */
  scores: MeanRanking | null;
}

/** P(j -> i) per unit from the Stage 1 encoder reading each unit's training window. */
export function stage1Graphs(model: DiceStage1, tp: TimePanel, rows = 64): Graph[] {
  const units = allUnits(tp.panel);
  const out: Graph[] = [];
  for (let s = 0; s < units.length; s += rows) {
    const enc = unitSeries(tp.panel, units.slice(s, s + rows), tp.split.train);
    const g = tf.tidy(() => model.graphMatrices(tf.tensor3d(enc.data, enc.shape as [number, number, number])));
    out.push(...(g.arraySync() as Graph[]));
    g.dispose();
  }
  return out;
}

/**
 * One-step MSE of the restricted decoder on the validation window (all nodes, all units) with
 * one supplied graph per unit (edge probabilities or a 0/1 support). The history before the
 * window provides the first lags.
 */
export function stage1ValidationMse(model: DiceStage1, tp: TimePanel, graphs: readonly Graph[], rows = 64): number {
  const L = model.config.lags;
  const { from, to } = tp.split.validation.length > 0 ? tp.split.validation : tp.split.test;
  if (from - L < 0) throw new Error(`stage1ValidationMse: the validation window starts at ${from}, before ${L} lags of history`);
  const units = allUnits(tp.panel);
  const N = tp.panel.nodes;
  let sum = 0;
  let count = 0;
  for (let s = 0; s < units.length; s += rows) {
    const part = units.slice(s, s + rows);
    const x = unitSeries(tp.panel, part, { from: from - L, to });
    const g = graphExtras(graphs, N)(part).graph;
    sum += tf.tidy(() => {
      const xt = tf.tensor3d(x.data, x.shape as [number, number, number]);
      const z = model.withoutDiagonal(tf.tensor3d(g.data, g.shape as [number, number, number]));
      const B = part.length;
      const pred = model.predictWindows(xt.slice([0, 0, 0], [B, to - from + L - 1, N]), z);
      return pred
        .sub(xt.slice([0, L, 0], [B, to - from, N]))
        .square()
        .sum()
        .dataSync()[0];
    });
    count += part.length * (to - from) * N;
  }
  return sum / count;
}

/** Trains DICE Stage 1 on every unit's training window; per-epoch validation MSE and graph scores. */
export async function trainStage1(tp: TimePanel, config: Partial<Stage1Config> = {}): Promise<Stage1Run> {
  const cfg: Stage1Config = { ...STAGE1_DEFAULTS, ...config, fit: { ...STAGE1_DEFAULTS.fit, ...config.fit } };
  const { panel, split, truth } = tp;
  const model = new DiceStage1({ nodes: panel.nodes, encoderSteps: split.train.length, ...cfg.model });
  const units = allUnits(panel);
  const result = await fit(
    model,
    {
      batches: (_epoch, rng) => shuffledUnitBatches(panel, { units, batchSize: cfg.batchSize, rng, steps: split.train }),
      validate: () => {
        const probs = stage1Graphs(model, tp);
        const metrics: Record<string, number> = { mse: stage1ValidationMse(model, tp, probs) };
        if (truth) {
          const s = scoreGraphs(probs, truth).mean;
          metrics.auroc = s.auroc;
          metrics.nauprc = s.nauprc;
        }
        return metrics;
      },
    },
    cfg.fit,
  );
  const probs = stage1Graphs(model, tp);
  return { model, fit: result, probs, scores: truth ? scoreGraphs(probs, truth).mean : null };
}

/** Support selection (a): the threshold whose 0/1 support gives the lowest validation MSE of the restricted decoder. */
export function selectSupportByValidation(
  run: Stage1Run,
  tp: TimePanel,
  config: { thresholds?: readonly number[]; tolerance?: number } = {},
): SupportSelection<ValidationEvidence> {
  return selectByValidation(run.probs, (graphs) => stage1ValidationMse(run.model, tp, graphs), config);
}

// ---------------------------------------------------------------------------------------------
// Support selections compared
// ---------------------------------------------------------------------------------------------

/** Stage 1 support selections compared on one set of runs (one per seed). */
export interface SupportComparison {
  name: string;
  selection: SupportSelection;
  score: SupportScore;
}

/**
 * The three support selections of STUDY.md on Stage 1 runs over seeds: the validation-MSE
 * threshold and top-k (k = the prior density x N(N-1)) of each run, scored and averaged over
 * runs; stability selection across the runs (one support).
 */
export function compareSupportSelections(runs: readonly Stage1Run[], tp: TimePanel, config: { frequencyCut?: number } = {}): SupportComparisons {
  if (!tp.truth) throw new Error("compareSupportSelections: needs true graphs");
  const truth = tp.truth;
  const validation = runs.map((r) => selectSupportByValidation(r, tp));
  const perRun = runs.map((r, k) => {
    const topK = selectTopK(r.probs, { density: r.model.config.priorDensity });
    return [
      { name: "validation-MSE threshold", selection: validation[k] as SupportSelection, score: scoreSupport(validation[k].graphs, truth) },
      { name: `top-k (k = ${topK.evidence.k})`, selection: topK as SupportSelection, score: scoreSupport(topK.graphs, truth) },
    ];
  });
  const stable = selectByStability(
    runs.map((r) => r.probs),
    { frequencyCut: config.frequencyCut ?? 0.6 },
  );
  return { perRun, validation, stability: { name: `stability (${runs.length} seeds)`, selection: stable, score: scoreSupport(stable.graphs, truth) } };
}

/** The selections compared: per run (validation-MSE threshold, top-k), the validation selections with their evidence, and stability across runs. */
export interface SupportComparisons {
  perRun: SupportComparison[][];
  /** Each run's validation-MSE selection with its candidates (threshold, score, edges). */
  validation: SupportSelection<ValidationEvidence>[];
  stability: SupportComparison;
}

/** The measures of the support-selection table. */
export type SupportMeasure = "precision" | "recall" | "f1" | "shd" | "edges";

/** The support selections' scores as a summary: per-run selections over seeds, stability once. */
export function supportSummary(cmp: Pick<SupportComparisons, "perRun" | "stability">): Summary<string, SupportMeasure> {
  const items = [...cmp.perRun.flat(), cmp.stability];
  return summarise("selection", items, (c) => c.name, {
    precision: (c) => c.score.precision,
    recall: (c) => c.score.recall,
    f1: (c) => c.score.f1,
    shd: (c) => c.score.shd,
    edges: (c) => c.score.edges,
  });
}
