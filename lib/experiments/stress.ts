/**
 * Stress tests of graph recovery (STUDY.md claim 4): DICE Stage 1 against CausalMMM and the
 * linear Granger baseline across the R/d/T swap grid, the rawlog stress and the external
 * CausalMMM data. Each (setting, method, seed) is one runner job (see jobs.ts): graph AUROC and
 * nAUPRC per epoch (Final-20 stability) and at the end, and the target's MSE@7 on the test period.
 *
 * Every method reads each unit's training window (the first 70% of its steps) and is scored on the
 * same units' graphs (transductive graph recovery; the truth is never used in training). The
 * Granger baseline has no epochs: its Final-20 SD is 0 by construction, and it has no MSE@7 here
 * (its per-unit VARs are scored on graphs only).
 */
import { mseAt, mseAtHorizons } from "../diagnostics/mse";
import { finalWindow } from "../diagnostics/stability";
import { type CausalMMMExperimentConfig } from "./causalmmm";
import { type Stage1Config } from "./dice";
import { type Summary, summarise } from "./measures";
import { EVALUATION_DEFAULTS, type EvaluationConfig, type TimePanel, VARIANT_LABELS, type VariantName } from "./protocol";
import { type VariantSpec, createRun } from "./variants";

export type StressMethod = Extract<VariantName, "dice-stage1" | "causalmmm" | "granger-unit">;
export const STRESS_METHODS: readonly StressMethod[] = ["dice-stage1", "causalmmm", "granger-unit"];

export interface StressCellConfig {
  stage1: Partial<Stage1Config>;
  causal: Partial<CausalMMMExperimentConfig>;
  evaluation: Partial<EvaluationConfig>;
  /** Granger lags. */
  lags: number;
}

/**
 * CausalMMM trains on batches of 8 units here (notebook 02: 4), which makes an epoch cheaper.
 * Larger batches give smoother gradients, which if anything lowers CausalMMM's within-run SD: the
 * stability comparison stays conservative.
 */
export const STRESS_DEFAULTS: StressCellConfig = {
  stage1: {},
  causal: { model: { hidden: 32, encoderHidden: 32 }, fit: { epochs: 20, learningRate: 2e-3 }, batchSize: 8 },
  evaluation: {},
  lags: 3,
};

/** One (setting, method, seed) of the stress study. */
export interface StressCellResult {
  method: StressMethod;
  seed: number;
  /** Graph AUROC after each epoch (one value for Granger). */
  aurocHistory: number[];
  /** Validation MSE after each epoch (empty for Granger). */
  mseHistory: number[];
  auroc: number;
  nauprc: number;
  /** Mean and SD of the AUROC over the last 20 epochs. */
  final20: { mean: number; sd: number };
  /** Target MSE@7 on the test period (NaN for Granger). */
  mse7: number;
  seconds: number;
}

/** Trains and scores one method on one panel. */
export async function stressCell(tp: TimePanel, method: StressMethod, seed: number, config: Partial<StressCellConfig> = {}): Promise<StressCellResult> {
  const c: StressCellConfig = { ...STRESS_DEFAULTS, ...config };
  if (!tp.truth) throw new Error("stressCell: the panel has no true graphs to score against");
  const t0 = Date.now();
  const ev = { ...EVALUATION_DEFAULTS, ...c.evaluation };
  const window = { from: tp.split.test.from, to: tp.split.test.to };
  const mseConfig = { window, history: ev.history, stride: ev.stride, horizons: [ev.horizon] };
  const finish = (aurocHistory: number[], mseHistory: number[], scores: { auroc: number; nauprc: number }, mse7: number): StressCellResult => {
    const f = finalWindow(aurocHistory, { lastEpochs: 20 });
    // a single fit (Granger) has no spread over epochs
    const sd = aurocHistory.length === 1 ? 0 : f.sd;
    return {
      method,
      seed,
      aurocHistory,
      mseHistory,
      auroc: scores.auroc,
      nauprc: scores.nauprc,
      final20: { mean: f.mean, sd },
      mse7,
      seconds: (Date.now() - t0) / 1000,
    };
  };
  const run = await createRun(tp, stressVariant(method, c), { seed, label: null });
  try {
    const scores = run.evidence!.scores!;
    const mse = run.forecaster ? mseAt(mseAtHorizons(run.forecaster, tp.panel, { ...mseConfig, graph: run.evidence!.probs }), ev.horizon).target : NaN;
    const history = run.fit?.history ?? [];
    return history.length > 0
      ? finish(
          history.map((h) => h.val.auroc),
          history.map((h) => h.val.mse),
          scores,
          mse,
        )
      : finish([scores.auroc], [], scores, mse);
  } finally {
    run.dispose();
  }
}

/** The variant each stress method stands for (every one reads each unit's training window). */
function stressVariant(method: StressMethod, c: StressCellConfig): VariantSpec {
  const specs: Record<StressMethod, VariantSpec> = {
    "dice-stage1": { kind: "dice-stage1", config: c.stage1 },
    causalmmm: { kind: "causalmmm", config: c.causal },
    "granger-unit": { kind: "granger", scope: "unit", config: { lags: c.lags } },
  };
  return specs[method];
}

const avg = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const sdOf = (v: readonly number[]) => (v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - avg(v)) ** 2, 0) / (v.length - 1)) : NaN);

/** A stress result with its setting. */
type StressRowOf = StressCellResult & { setting: string };

/** The measures of the stress table. */
export type StressMeasure = "auroc" | "nauprc" | "final20" | "withinRunSd" | "mse7Target";

/** The stress study's rows "setting / method" (method by its label) with their measures over seeds. */
export function stressSummary(rows: readonly (StressCellResult & { setting: string })[]): Summary<string, StressMeasure> {
  return summarise<StressRowOf, string, StressMeasure>("setting / method", rows, (r) => `${r.setting} / ${VARIANT_LABELS[r.method]}`, {
    auroc: (r) => r.auroc,
    nauprc: (r) => r.nauprc,
    final20: (r) => r.final20.mean,
    withinRunSd: (r) => r.final20.sd,
    mse7Target: (r) => r.mse7,
  });
}

/** One panel of the stress figure: a factor, and each method's Final-20 AUROC at its values. */
export interface StressPanel {
  factor: string;
  xTitle: string;
  /** x of each point: the factor's value, or the position of the setting (rawlog / external, see xTitle). */
  points: { method: StressMethod; x: number; mean: number; sd: number }[];
}

/**
 * The stress figure's data: one panel per swapped factor (its values with the base setting at its
 * own value) and one for the rawlog / external settings.
 */
export function stressPanels(
  rows: readonly (StressCellResult & { setting: string; factor: string })[],
  base?: { R: number; d: number; T: number },
): StressPanel[] {
  const bySetting = new Map<string, Map<StressMethod, number[]>>();
  for (const r of rows) {
    const m = bySetting.get(r.setting) ?? new Map<StressMethod, number[]>();
    m.set(r.method, [...(m.get(r.method) ?? []), r.final20.mean]);
    bySetting.set(r.setting, m);
  }
  const factorOf = new Map(rows.map((r) => [r.setting, r.factor]));
  const point = (setting: string, x: number) =>
    [...(bySetting.get(setting) ?? new Map()).entries()].map(([method, v]) => ({ method, x, mean: avg(v), sd: sdOf(v) }));
  const panels: StressPanel[] = [];
  for (const factor of ["R", "d", "T"]) {
    const settings = [...factorOf.entries()].filter(([, f]) => f === factor).map(([s]) => s);
    if (settings.length === 0) continue;
    const points = settings.flatMap((s) => point(s, Number(s.split("=")[1])));
    if (base && bySetting.has("base")) points.push(...point("base", base[factor as "R" | "d" | "T"]));
    const titles: Record<string, string> = { R: "R (units)", d: "d (nodes)", T: "T (steps)" };
    panels.push({ factor, xTitle: titles[factor], points: points.sort((a, b) => a.x - b.x) });
  }
  const other = [...factorOf.entries()].filter(([, f]) => f === "rawlog" || f === "external").map(([s]) => s);
  if (other.length)
    panels.push({ factor: other.join(" / "), xTitle: other.map((s, k) => `${k + 1}: ${s}`).join(", "), points: other.flatMap((s, k) => point(s, k + 1)) });
  return panels;
}

/** The stress study's conclusion in words, from its own numbers (Markdown): claim 4. */
export function stressConclusion(rows: readonly (StressCellResult & { setting: string })[]): string {
  const settings = [...new Set(rows.map((r) => r.setting))];
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
  let higher = 0;
  let steadier = 0;
  let compared = 0;
  const lines: string[] = [];
  for (const s of settings) {
    const of = (m: StressMethod) => rows.filter((r) => r.setting === s && r.method === m);
    const dice = of("dice-stage1");
    const cm = of("causalmmm");
    if (dice.length === 0 || cm.length === 0) continue;
    compared++;
    const dMean = avg(dice.map((r) => r.final20.mean));
    const cMean = avg(cm.map((r) => r.final20.mean));
    const dSd = avg(dice.map((r) => r.final20.sd));
    const cSd = avg(cm.map((r) => r.final20.sd));
    if (dMean > cMean) higher++;
    if (dSd < cSd) steadier++;
    const g = of("granger-unit")[0];
    lines.push(`- ${s}: Final-20 AUROC DICE ${f(dMean)} (within-run SD ${f(dSd)}), CausalMMM ${f(cMean)} (SD ${f(cSd)})${g ? `, Granger ${f(g.auroc)}` : ""}`);
  }
  const holds = compared > 0 && higher === compared && steadier === compared;
  const part = compared > 0 && (higher > compared / 2 || steadier > compared / 2);
  return [
    `**Claim 4 ${holds ? "holds" : part ? "holds in part" : "does not hold"}** on this run: DICE Stage 1's Final-20 AUROC is higher than CausalMMM's ` +
      `in ${higher} of ${compared} settings, and its within-run SD lower in ${steadier} of ${compared}.`,
    "",
    ...lines,
  ].join("\n");
}
