/**
 * What attribution bypass does to budget decisions (notebook 07): on a generated panel with a
 * known data-generating process, each model recommends an allocation of a fixed budget (its own
 * optimum, found by intervention on the model: lib/analysis/budget.ts), and every allocation is
 * then scored by the revenue it really earns under the true process (lib/analysis/truth.ts).
 * {@link budgetSeed} lists the models, the reference allocations and the budget.
 */
import { allocationResponses, budgetFromForecaster, optimiseBudget, scalerScale } from "../analysis/budget";
import { trueAllocationResponses } from "../analysis/truth";
import { targetIndex } from "../data/panel";
import type { Forecaster } from "../core/forecaster";
import { mseAt, mseAtHorizons } from "../diagnostics/mse";
import { spearman } from "../diagnostics/ranking";
import type { Graph } from "../graph";
import type { DeepCausalMMMConfig } from "../models/deepcausalmmm";
import type { Stage1Config } from "./dice";
import { type Summary, summarise } from "./measures";
import { type DecoderTrainConfig, type EvaluationConfig, EVALUATION_DEFAULTS, type TimePanel, VARIANT_LABELS, type VariantName } from "./protocol";
import { type VariantSpec, createRun } from "./variants";

export type BudgetModel = Extract<VariantName, "oracle" | "dice-hard" | "high-capacity" | "no-graph" | "deepcausalmmm">;
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
 * One seed of the budget study.
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
  const toCurves = (name: string, values: readonly number[]): ResponseCurves => ({
    name,
    levels,
    byChannel: channels.map((_, ch) => values.slice(ch * levels.length, (ch + 1) * levels.length)),
  });
  const curves: ResponseCurves[] = [toCurves("true process", truth(curveAllocations))];

  const ev = { ...EVALUATION_DEFAULTS, ...c.evaluation };
  const window = { from: tp.split.test.from, to: tp.split.test.to };
  const scale = scalerScale(tp.scaler, tp.panel);
  const plan = (name: string, forecaster: Forecaster, graphs: readonly Graph[] | null) => {
    const mse = mseAt(
      mseAtHorizons(forecaster, tp.panel, { window, history: ev.history, stride: ev.stride, horizons: [ev.horizon], ...(graphs ? { graph: graphs } : {}) }),
      ev.horizon,
    ).target;
    const intervention = {
      units,
      origins,
      window: { from: window.from, to: tp.panel.steps },
      history: ev.history,
      horizon: c.horizon,
      carryover: c.carryover,
      channels,
      target: targetIndex(tp.panel),
      scale,
      ...(graphs ? { graph: graphs } : {}),
    };
    const b = budgetFromForecaster(forecaster, tp.panel, { ...intervention, total, lower: 0, upper, maxIter: c.maxIter });
    outcomes.push(outcome(name, b.allocation, b.value, mse));
    curves.push(toCurves(name, allocationResponses(forecaster, tp.panel, curveAllocations, intervention).values));
  };
  for (const m of c.models) {
    const run = await createRun(tp, budgetVariant(m, c), { seed, label: null, stage1Config: c.stage1 });
    plan(run.label, run.forecaster!, run.graphs);
    run.dispose();
  }
  return { seed, channels: channels.map((j) => raw.nodeNames[j]), total, upper, observedRevenue, outcomes, curves, seconds: (Date.now() - t0) / 1000 };
}

/** The variant each model of the budget study stands for (DICE-hard with its own Stage 1). */
function budgetVariant(m: BudgetModel, c: BudgetStudyConfig): VariantSpec {
  if (m === "deepcausalmmm") return { kind: "deepcausalmmm", model: c.deepCausal, config: c.deepCausalTrain };
  return { kind: "decoder", decoder: m, config: c.decoder };
}

const avg = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** The measures of the budget table. */
export type BudgetMeasure = "mse7Target" | "trueRevenue" | "gainCaptured" | "predictedRevenue";

/** Per allocation (the true optimum, the allocations without a model, each model's own): its measures over seeds. */
export function budgetSummary(results: readonly BudgetSeedResult[]): Summary<string, BudgetMeasure> {
  return summarise(
    "allocation",
    results.flatMap((r) => r.outcomes),
    (o) => o.name,
    {
      mse7Target: (o) => o.mse7,
      trueRevenue: (o) => o.trueRevenue,
      gainCaptured: (o) => o.gainCaptured,
      predictedRevenue: (o) => o.predictedRevenue,
    },
  );
}

/** The allocations recommended by a model (those with a forecast error), in table order. */
export function modelAllocations(summary: Summary<string, BudgetMeasure>): string[] {
  return summary.rows.filter((r) => summary.values(r, "mse7Target").every(Number.isFinite));
}

/** The budget study's conclusion in words, from its own numbers (Markdown). */
export function budgetConclusion(results: readonly BudgetSeedResult[]): string {
  const v = budgetSummary(results);
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
  const rows = modelAllocations(v).map((name) => ({ name, mse: avg(v.values(name, "mse7Target")), gain: avg(v.values(name, "gainCaptured")) }));
  const byMse = [...rows].sort((a, b) => a.mse - b.mse);
  const byGain = [...rows].sort((a, b) => b.gain - a.gain);
  const rho = spearman(
    rows.map((r) => -r.mse),
    rows.map((r) => r.gain),
  );
  // "roughly ranks" needs a correlation above 0.8 over at least three models; anything less is no ranking
  const ranks = rows.length >= 3 && rho > 0.8;
  return [
    `**Forecast accuracy ${ranks ? "roughly ranks" : "does not rank"} these allocations** on this run: the Spearman correlation between a model's ` +
      `forecast accuracy (−MSE@7) and the share of the true optimum's gain its allocation captures is ${f(rho)} over ${rows.length} models.`,
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
