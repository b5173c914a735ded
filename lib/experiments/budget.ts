/**
 * What attribution bypass does to budget decisions (notebook 07): on a generated panel with a
 * known data-generating process, each model recommends an allocation of a fixed budget (its own
 * optimum, found by intervention on the model: lib/analysis/budget.ts), and every allocation is
 * then scored by the revenue it really earns under the true process (lib/analysis/truth.ts).
 *
 * Models: the graph-safe decoder with the oracle graph, DICE (Stage 1, the validation-MSE
 * support, the DICE-hard decoder), the unconstrained high-capacity joint GRU, the graph-safe
 * decoder with no graph, and the DeepCausalMMM-style model. Beside them, allocations that use no
 * model: the true optimum (the same optimiser on the true response), the observed spend mix
 * rescaled to the budget, and an equal split.
 *
 * The budget: one allocation per step for all evaluated units (a national plan), spend per step
 * of each channel held over `horizon` steps from each origin, revenue = the target summed over
 * `horizon + carryover` steps, mean over units and origins; the total is the observed mean spend
 * per step (the sum over channels) of those units over the training window; each channel is
 * bounded by [0, upperMultiple x total / channels].
 */
import { allocationResponses, budgetFromForecaster, optimiseBudget, scalerScale } from "../analysis/budget";
import { trueAllocationResponses } from "../analysis/truth";
import { scaleValue, targetIndex } from "../data/panel";
import type { Forecaster } from "../core/forecaster";
import { mseAt, mseAtHorizons } from "../diagnostics/mse";
import { spearman } from "../diagnostics/ranking";
import { groupValues } from "../diagnostics/stability";
import { type Graph, emptyGraph } from "../graph";
import { DeepCausalMMM, type DeepCausalMMMConfig, deepCausalConfigFor, regionExtras } from "../models/deepcausalmmm";
import type { FitResult } from "../train/fit";
import {
  type DecoderTrainConfig,
  type EvaluationConfig,
  EVALUATION_DEFAULTS,
  type Stage1Config,
  STAGE1_DEFAULTS,
  type TimePanel,
  decoderTrainConfig,
  selectSupportByValidation,
  trainDecoder,
  trainOnWindows,
  trainStage1,
  trainStage2,
} from "./dice";

export type BudgetModel = "oracle" | "dice-hard" | "high-capacity" | "no-graph" | "deepcausalmmm";
export const BUDGET_MODELS: readonly BudgetModel[] = ["oracle", "dice-hard", "high-capacity", "no-graph", "deepcausalmmm"];

export interface BudgetStudyConfig {
  stage1: Partial<Stage1Config>;
  decoder: Partial<DecoderTrainConfig>;
  /** The DeepCausalMMM-style model (its required fields come from the panel) and its training windows. */
  deepCausal: Partial<DeepCausalMMMConfig>;
  deepCausalTrain: Partial<DecoderTrainConfig>;
  /** MSE@M settings (history, stride, horizon) on the test period. */
  evaluation: Partial<EvaluationConfig>;
  /** The first `units` units are the market the budget is planned for. */
  units: number;
  /** Origins: `origins` evenly spaced steps from the start of the test period. */
  origins: number;
  /** Steps of spend set from each origin. */
  horizon: number;
  /** Steps measured after the horizon. */
  carryover: number;
  /** Upper bound of a channel's spend per step, as a multiple of the equal share total / channels. */
  upperMultiple: number;
  /** Optimiser iterations of a model's budget. */
  maxIter: number;
  /** Spend levels of the response curves (0 .. the channel bound). */
  curveLevels: number;
  models: readonly BudgetModel[];
}

export const BUDGET_STUDY_DEFAULTS: BudgetStudyConfig = {
  stage1: {},
  decoder: {},
  deepCausal: {},
  deepCausalTrain: {},
  evaluation: {},
  units: 40,
  origins: 4,
  horizon: 7,
  carryover: 14,
  upperMultiple: 3,
  maxIter: 100,
  curveLevels: 6,
  models: BUDGET_MODELS,
};

/** An allocation and what it earns. */
export interface AllocationOutcome {
  name: string;
  /** Spend per step of each channel (raw scale). */
  allocation: number[];
  /** Revenue under the true process (raw target over the measured steps; mean over units and origins). */
  trueRevenue: number;
  /** Share of the true optimum's gain over the equal split that this allocation achieves (1: optimal). */
  gainCaptured: number;
  /** Revenue the model predicts for its own allocation (NaN for allocations without a model). */
  predictedRevenue: number;
  /** Target MSE@7 on the test period (NaN without a model). */
  mse7: number;
}

/**
 * Response curves: revenue when one channel's spend per step is `levels[k]` and every other
 * channel gets the equal share (total / channels), by the model or by the true process.
 */
export interface ResponseCurves {
  name: string;
  levels: number[];
  /** byChannel[c][k]: revenue with channel c at levels[k]. */
  byChannel: number[][];
}

export interface BudgetSeedResult {
  seed: number;
  channels: string[];
  total: number;
  upper: number;
  /** Observed revenue over the same windows (spend as observed). */
  observedRevenue: number;
  outcomes: AllocationOutcome[];
  /** The true process's curves first, then each model's. */
  curves: ResponseCurves[];
  seconds: number;
}

/** The window settings shared by the models' and the truth's evaluation. */
function budgetWindows(tp: TimePanel, c: BudgetStudyConfig) {
  const T = tp.panel.steps;
  const from = tp.split.test.from;
  const last = T - c.horizon - c.carryover;
  if (last < from) throw new Error(`budget study: the test period [${from}, ${T}) is shorter than horizon + carryover (${c.horizon + c.carryover} steps)`);
  const n = Math.max(1, c.origins);
  const origins = [...new Set(Array.from({ length: n }, (_, k) => Math.round(from + (n === 1 ? 0 : (k * (last - from)) / (n - 1)))))];
  const units = Array.from({ length: Math.min(c.units, tp.panel.units) }, (_, u) => u);
  return { origins, units };
}

/**
 * Trains the DeepCausalMMM-style model on a time panel's training windows (regions = units);
 * `config.channels` sets the DAG order (default: the panel's channel order).
 */
export async function trainDeepCausal(tp: TimePanel, config: Partial<DeepCausalMMMConfig> = {}, train: Partial<DecoderTrainConfig> = {}, seed = 0): Promise<{ model: DeepCausalMMM; forecaster: Forecaster; fit: FitResult }> {
  if (!tp.scaler) throw new Error("trainDeepCausal: the time panel carries no scaler (build it with prepareTimePanel)");
  const base = deepCausalConfigFor(tp.panel);
  // zero spend on the model's scale, per channel in the model's (DAG) order
  const channels = config.channels ?? base.channels;
  const zeroSpend = channels.map((ch) => scaleValue(tp.scaler!, ch, 0));
  const model = new DeepCausalMMM({ ...base, zeroSpend, ...config, channels, seed });
  const result = await trainOnWindows(tp, "DeepCausalMMM-style", model, regionExtras(), decoderTrainConfig(train), seed);
  return { model, forecaster: model.forecaster(), fit: result };
}

/** One seed of the budget study (see the module comment). */
export async function budgetSeed(tp: TimePanel, seed: number, config: Partial<BudgetStudyConfig> = {}): Promise<BudgetSeedResult> {
  const c: BudgetStudyConfig = { ...BUDGET_STUDY_DEFAULTS, ...config };
  if (!tp.truth || !tp.raw || !tp.scaler) throw new Error("budgetSeed: needs a generated panel prepared by prepareTimePanel (true graphs, raw data, scaler)");
  const t0 = Date.now();
  const raw = tp.raw;
  const N = raw.nodes;
  const channels = raw.roles.flatMap((r, i) => (r === "channel" ? [i] : []));
  const C = channels.length;
  const { origins, units } = budgetWindows(tp, c);
  // the budget: observed mean spend per step over the training window of the planned units
  let total = 0;
  for (const j of channels) {
    let s = 0;
    for (const u of units) for (let t = tp.split.train.from; t < tp.split.train.to; t++) s += raw.values[(u * raw.steps + t) * N + j];
    total += s / (units.length * tp.split.train.length);
  }
  const upper = (c.upperMultiple * total) / C;
  const truthConfig = { units, origins, horizon: c.horizon, carryover: c.carryover, measure: "sum" as const };
  const truth = (xs: readonly (readonly number[])[]) => trueAllocationResponses(raw, xs, truthConfig).responses;
  const observedRevenue = trueAllocationResponses(raw, [], truthConfig).observed;

  const equal = channels.map(() => total / C);
  const mix = (() => {
    const m = channels.map((j) => {
      let s = 0;
      for (const u of units) for (let t = tp.split.train.from; t < tp.split.train.to; t++) s += raw.values[(u * raw.steps + t) * N + j];
      return s;
    });
    const sum = m.reduce((a, b) => a + b, 0);
    return m.map((v) => Math.min(upper, (v / sum) * total));
  })();
  const best = optimiseBudget((x) => truth([x])[0], C, { total, lower: 0, upper, maxIter: 500, objectiveMany: (xs) => truth(xs) });
  const [equalRevenue] = truth([equal]);
  const gain = (v: number) => (best.value - equalRevenue > 1e-12 ? (v - equalRevenue) / (best.value - equalRevenue) : NaN);
  const outcome = (name: string, allocation: number[], predictedRevenue = NaN, mse7 = NaN): AllocationOutcome => {
    const [trueRevenue] = truth([allocation]);
    return { name, allocation, trueRevenue, gainCaptured: gain(trueRevenue), predictedRevenue, mse7 };
  };
  const outcomes: AllocationOutcome[] = [outcome("true optimum", best.allocation), outcome("observed mix", mix), outcome("equal split", equal)];
  const levels = Array.from({ length: c.curveLevels }, (_, k) => (k * upper) / (c.curveLevels - 1));
  const curveAllocations = channels.flatMap((_, ch) => levels.map((l) => equal.map((v, k) => (k === ch ? l : v))));
  const toCurves = (name: string, values: readonly number[]): ResponseCurves => ({ name, levels, byChannel: channels.map((_, ch) => values.slice(ch * levels.length, (ch + 1) * levels.length)) });
  const curves: ResponseCurves[] = [toCurves("true process", truth(curveAllocations))];

  const ev = { ...EVALUATION_DEFAULTS, ...c.evaluation };
  const window = { from: tp.split.test.from, to: tp.split.test.to };
  const scale = scalerScale(tp.scaler, tp.panel);
  const plan = (name: string, forecaster: Forecaster, graphs: readonly Graph[] | null) => {
    const mse = mseAt(mseAtHorizons(forecaster, tp.panel, { window, history: ev.history, stride: ev.stride, horizons: [ev.horizon], ...(graphs ? { graph: graphs } : {}) }), ev.horizon).target;
    const intervention = {
      units, origins, window: { from: window.from, to: tp.panel.steps }, history: ev.history,
      horizon: c.horizon, carryover: c.carryover, channels, target: targetIndex(tp.panel), scale,
      ...(graphs ? { graph: graphs } : {}),
    };
    const b = budgetFromForecaster(forecaster, tp.panel, { ...intervention, total, lower: 0, upper, maxIter: c.maxIter });
    outcomes.push(outcome(name, b.allocation, b.value, mse));
    curves.push(toCurves(name, allocationResponses(forecaster, tp.panel, curveAllocations, intervention).values));
  };
  const stage1Fit = { ...STAGE1_DEFAULTS.fit, ...c.stage1.fit, seed, label: null };
  for (const m of c.models) {
    if (m === "deepcausalmmm") {
      const run = await trainDeepCausal(tp, c.deepCausal, { ...c.deepCausalTrain, fit: { ...c.deepCausalTrain.fit, label: null } }, seed);
      plan("DeepCausalMMM-style", run.forecaster, null);
      run.model.dispose();
      continue;
    }
    if (m === "dice-hard") {
      const s1 = await trainStage1(tp, { ...c.stage1, model: { ...c.stage1.model, seed }, fit: stage1Fit });
      const run = await trainStage2(s1, tp, "hard", selectSupportByValidation(s1, tp), { ...c.decoder, fit: { ...c.decoder.fit, label: null } }, seed);
      plan("DICE-hard", run.forecaster, run.graphs);
      run.model.dispose();
      s1.model.dispose();
      continue;
    }
    const graphs = m === "oracle" ? tp.truth : m === "no-graph" ? tp.panel.unitIds.map(() => emptyGraph(N)) : null;
    const run = await trainDecoder(tp, m, graphs, { ...c.decoder, fit: { ...c.decoder.fit, label: null } }, seed);
    plan(m === "oracle" ? "oracle graph" : m, run.forecaster, run.graphs);
    run.model.dispose();
  }
  return { seed, channels: channels.map((j) => raw.nodeNames[j]), total, upper, observedRevenue, outcomes, curves, seconds: (Date.now() - t0) / 1000 };
}

const avg = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** Per allocation: metric -> values over seeds (for `meanSdTable`). */
export function budgetValues(results: readonly BudgetSeedResult[]): Record<string, Record<string, number[]>> {
  return groupValues(results.flatMap((r) => r.outcomes), (o) => o.name, {
    "MSE@7 target": (o) => o.mse7,
    "true revenue": (o) => o.trueRevenue,
    "gain captured": (o) => o.gainCaptured,
    "predicted revenue": (o) => o.predictedRevenue,
  });
}

/** The budget study's conclusion in words, from its own numbers (Markdown). */
export function budgetConclusion(results: readonly BudgetSeedResult[]): string {
  const v = budgetValues(results);
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
  const models = Object.entries(v).filter(([, m]) => m["MSE@7 target"].every(Number.isFinite));
  const rows = models.map(([name, m]) => ({ name, mse: avg(m["MSE@7 target"]), gain: avg(m["gain captured"]) }));
  const byMse = [...rows].sort((a, b) => a.mse - b.mse);
  const byGain = [...rows].sort((a, b) => b.gain - a.gain);
  const rho = spearman(rows.map((r) => -r.mse), rows.map((r) => r.gain));
  const ranks = rows.length >= 3 && !(rho > 0.8);
  return [
    `**Forecast accuracy ${ranks ? "does not rank" : "roughly ranks"} these allocations** on this run: the Spearman correlation between a model's forecast accuracy (−MSE@7) and the share of the true optimum's gain its allocation captures is ${f(rho)} over ${rows.length} models.`,
    "",
    `- best forecaster: ${byMse[0]?.name} (MSE@7 ${f(byMse[0]?.mse)}), whose allocation captures ${f(byMse[0]?.gain)} of the attainable gain;`,
    `- best allocation among the models: ${byGain[0]?.name} (captures ${f(byGain[0]?.gain)}; MSE@7 ${f(byGain[0]?.mse)});`,
    ...rows.map((r) => `- ${r.name}: MSE@7 ${f(r.mse)}, gain captured ${f(r.gain)}`),
  ].join("\n");
}

/** One channel's response curves averaged over seeds, as the change from zero spend. */
export interface CurvePanel {
  channel: string;
  levels: number[];
  /** Per curve (the true process first): mean over seeds of revenue(level) - revenue(0). */
  series: { name: string; y: number[] }[];
}

/**
 * The response-curve figure's data: per channel, each curve's incremental revenue over zero
 * spend, averaged over seeds (levels are the same in every seed of one panel and budget).
 */
export function curvePanels(results: readonly BudgetSeedResult[]): CurvePanel[] {
  if (results.length === 0) return [];
  const first = results[0];
  return first.channels.map((channel, ch) => ({
    channel,
    levels: first.curves[0].levels,
    series: first.curves.map((curve, k) => ({
      name: curve.name,
      y: curve.levels.map((_, l) => avg(results.map((r) => r.curves[k].byChannel[ch][l] - r.curves[k].byChannel[ch][0]))),
    })),
  }));
}
