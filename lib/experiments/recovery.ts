/**
 * Graph recovery on data the study's own generator did not make (STUDY.md claim 6): every
 * graph-recovery method side by side on the evaluation family (lib/data/family.ts) and the
 * external CausalMMM data, and the graph `diagnose` would report on the same panel
 * (choice.ts). A seed draws its own family panel and its own model initialisation.
 *
 * Scores, per unit against its own true graph and averaged: AUROC and nAUPRC over all N(N-1)
 * pairs, and over the role-consistent pairs alone (not into a channel, not out of the target),
 * which is where a role-constrained fit has to learn something: a constraint that zeroes the
 * ruled-out pairs raises the all-pairs score by construction.
 */
import { rankingMetrics, meanRanking } from "../diagnostics/ranking";
import { type Graph, maskGraph } from "../graph";
import { type NodeRole, allowedPairs } from "../data/panel";
import { meanSd } from "../diagnostics/stability";
import { type FamilyInput, familyPanel } from "../data/family";
import type { DeepCausalMMM } from "../models/deepcausalmmm";
import { type CausalMMMExperimentConfig } from "./causalmmm";
import { type GraphChoiceConfig, type GraphSource, type ReportedSource, baselineScores, chooseGraph } from "./choice";
import { type Stage1Config, trainStage1 } from "./dice";
import { type Summary, summarise } from "./measures";
import { type DecoderTrainConfig, type TimePanel, VARIANT_LABELS, type VariantName } from "./protocol";
import { createRun } from "./variants";

/** The methods of the recovery study: every graph-recovery variant, and the graph diagnose reports. */
export type RecoveryMethod =
  Extract<VariantName, "dice-stage1" | "granger-pooled" | "pcmci" | "granger-unit" | "causalmmm" | "deepcausalmmm"> | "dice-stage1-mean" | "diagnose";

export const RECOVERY_LABELS: Readonly<Record<RecoveryMethod, string>> = {
  "dice-stage1": `${VARIANT_LABELS["dice-stage1"]} (per unit)`,
  "dice-stage1-mean": `${VARIANT_LABELS["dice-stage1"]} (mean graph)`,
  "granger-pooled": VARIANT_LABELS["granger-pooled"],
  pcmci: VARIANT_LABELS.pcmci,
  "granger-unit": VARIANT_LABELS["granger-unit"],
  causalmmm: VARIANT_LABELS.causalmmm,
  deepcausalmmm: VARIANT_LABELS.deepcausalmmm,
  diagnose: "diagnose (reported graph)",
};

export interface RecoveryCellConfig {
  stage1: Partial<Stage1Config>;
  causal: Partial<CausalMMMExperimentConfig>;
  deepcausal: Partial<DecoderTrainConfig>;
  /** Lags of the Granger baselines and PCMCI (and of diagnose's probe). */
  lags: number;
  /** Fit with the role constraints (Stage 1 and PCMCI in training, the other methods' scores masked). */
  roles: boolean;
  choice: Partial<Omit<GraphChoiceConfig, "roles" | "seed" | "lags">>;
}

export const RECOVERY_DEFAULTS: RecoveryCellConfig = {
  stage1: {},
  causal: { model: { hidden: 32, encoderHidden: 32 }, fit: { epochs: 20, learningRate: 2e-3 }, batchSize: 8 },
  deepcausal: {},
  lags: 3,
  roles: false,
  choice: {},
};

/** AUROC / nAUPRC over all pairs and within the role-consistent pairs (means over units). */
export interface RecoveryScores {
  auroc: number;
  nauprc: number;
  withinAuroc: number;
  withinNauprc: number;
}

/** One method on one panel and seed. */
export interface RecoveryResult {
  method: RecoveryMethod;
  seed: number;
  roles: boolean;
  scores: RecoveryScores;
  /** diagnose: the candidate it reported, whether per unit, and its warnings. */
  choice?: { chosen: ReportedSource; members: GraphSource[]; tied: GraphSource[]; perUnit: boolean; warnings: string[]; z: Partial<Record<GraphSource, number>> };
  seconds: number;
}

/** Scores one graph per unit against the unit's true graph, over all pairs and within `allowed`. */
export function recoveryScores(graphs: readonly Graph[], truth: readonly Graph[], allowed: Graph): RecoveryScores {
  if (graphs.length !== truth.length) throw new Error(`recoveryScores: ${graphs.length} graphs for ${truth.length} units`);
  const N = allowed.length;
  const over = (keep: (j: number, i: number) => boolean) =>
    meanRanking(
      graphs.map((g, u) => {
        const labels: number[] = [];
        const values: number[] = [];
        for (let j = 0; j < N; j++) for (let i = 0; i < N; i++) if (i !== j && keep(j, i)) (labels.push(truth[u][j][i]), values.push(g[j][i]));
        return rankingMetrics(labels, values);
      }),
    );
  const all = over(() => true);
  const within = over((j, i) => allowed[j][i] === 1);
  return { auroc: all.auroc, nauprc: all.nauprc, withinAuroc: within.auroc, withinNauprc: within.nauprc };
}

const rolesOf = (tp: TimePanel, c: RecoveryCellConfig): NodeRole[] | null => (c.roles ? [...tp.panel.roles] : null);

function truthOf(tp: TimePanel): Graph[] {
  if (!tp.truth) throw new Error("graph recovery: the panel has no true graphs to score against");
  return tp.truth;
}

/**
 * DICE Stage 1, the pooled Granger baseline and PCMCI on one panel, and the graph diagnose
 * reports from them (its rule never sees the truth).
 */
export async function recoveryCore(tp: TimePanel, seed: number, config: Partial<RecoveryCellConfig> = {}): Promise<RecoveryResult[]> {
  const c: RecoveryCellConfig = { ...RECOVERY_DEFAULTS, ...config };
  const truth = truthOf(tp);
  const roles = rolesOf(tp, c);
  const allowed = allowedPairs(tp.panel.nodes, tp.panel.roles);
  const t0 = Date.now();
  const fit = { ...c.stage1.fit, seed, label: c.stage1.fit?.label ?? null };
  const s1 = await trainStage1(tp, { ...c.stage1, model: { ...c.stage1.model, seed, roles }, fit });
  try {
    const stage1Seconds = (Date.now() - t0) / 1000;
    const choice = chooseGraph(tp, s1, { ...c.choice, lags: c.lags, roles, seed });
    const row = (method: RecoveryMethod, graphs: Graph[], seconds: number, extra: Partial<RecoveryResult> = {}): RecoveryResult => ({
      method,
      seed,
      roles: c.roles,
      scores: recoveryScores(graphs, truth, allowed),
      seconds,
      ...extra,
    });
    const each = (g: Graph) => truth.map(() => g);
    const cand = (s: GraphSource) => choice.candidates.find((x) => x.source === s)!;
    const z = Object.fromEntries(choice.candidates.map((x) => [x.source, x.z])) as Record<GraphSource, number>;
    return [
      row("dice-stage1", s1.probs, stage1Seconds),
      row("dice-stage1-mean", each(cand("dice-stage1").scores), stage1Seconds),
      row("granger-pooled", each(cand("granger-pooled").scores), cand("granger-pooled").seconds),
      row("pcmci", each(cand("pcmci").scores), cand("pcmci").seconds),
      row("diagnose", choice.unitGraphs ?? each(choice.graph), (Date.now() - t0) / 1000, {
        choice: { chosen: choice.chosen, members: choice.members, tied: choice.tied, perUnit: choice.unitGraphs !== null, warnings: choice.warnings, z },
      }),
    ];
  } finally {
    s1.model.dispose();
  }
}

/** One of the methods diagnose does not fit (per-unit Granger, CausalMMM, the DeepCausalMMM-style DAG) on one panel. */
export async function recoveryExtra(tp: TimePanel, method: RecoveryMethod, seed: number, config: Partial<RecoveryCellConfig> = {}): Promise<RecoveryResult> {
  const c: RecoveryCellConfig = { ...RECOVERY_DEFAULTS, ...config };
  const truth = truthOf(tp);
  const allowed = allowedPairs(tp.panel.nodes, tp.panel.roles);
  const t0 = Date.now();
  let graphs: Graph[];
  if (method === "granger-unit") {
    const run = await createRun(tp, { kind: "granger", scope: "unit", config: { lags: c.lags } }, { seed, label: null });
    graphs = run.evidence!.probs;
  } else if (method === "causalmmm") {
    const cfg = { ...c.causal, fit: { ...c.causal.fit, label: null } };
    const run = await createRun(tp, { kind: "causalmmm", config: cfg }, { seed, label: null });
    try {
      graphs = run.evidence!.probs;
    } finally {
      run.dispose();
    }
  } else if (method === "deepcausalmmm") {
    const run = await createRun(tp, { kind: "deepcausalmmm", config: c.deepcausal }, { seed, label: null });
    try {
      const g = (run.model as DeepCausalMMM).graph();
      graphs = truth.map(() => g);
    } finally {
      run.dispose();
    }
  } else if (method === "granger-pooled" || method === "pcmci") {
    const g = baselineScores(tp, method, { lags: c.lags, roles: rolesOf(tp, c) });
    graphs = truth.map(() => g);
  } else {
    throw new Error(`recoveryExtra: "${method}" is fitted by recoveryCore`);
  }
  // with roles, the ruled-out pairs get no weight (Stage 1 and PCMCI rule them out in training)
  const scores = recoveryScores(c.roles ? graphs.map((g) => maskGraph(g, allowed)) : graphs, truth, allowed);
  return { method, seed, roles: c.roles, scores, seconds: (Date.now() - t0) / 1000 };
}

/** A recovery result with the data it was measured on. */
export interface RecoveryRow extends RecoveryResult {
  /** A family member's name, or "causalmmm-sim". */
  data: string;
}

export type RecoveryMeasure = "auroc" | "nauprc" | "withinAuroc" | "withinNauprc";

/** Rows "data / method" with their measures over seeds. */
export function recoverySummary(rows: readonly RecoveryRow[]): Summary<string, RecoveryMeasure> {
  return summarise<RecoveryRow, string, RecoveryMeasure>("data / method", rows, (r) => `${r.data} / ${RECOVERY_LABELS[r.method]}${r.roles ? " (roles)" : ""}`, {
    auroc: (r) => r.scores.auroc,
    nauprc: (r) => r.scores.nauprc,
    withinAuroc: (r) => r.scores.withinAuroc,
    withinNauprc: (r) => r.scores.withinNauprc,
  });
}

/** The mean and SD over seeds of one measure, per data set and method (the bars of the recovery figure). */
export interface RecoveryBars {
  /** Data sets, in the order they first appear. */
  data: string[];
  groups: { method: RecoveryMethod; roles: boolean; label: string; mean: number[]; sd: number[] }[];
}

/** Mean +/- SD of `measure` per data set and (method, roles) over seeds. */
export function recoveryBars(rows: readonly RecoveryRow[], measure: RecoveryMeasure = "auroc", methods?: readonly RecoveryMethod[]): RecoveryBars {
  const data = [...new Set(rows.map((r) => r.data))];
  const keys = [...new Set(rows.filter((r) => !methods || methods.includes(r.method)).map((r) => `${r.method}|${r.roles}`))];
  const groups = keys.map((k) => {
    const [method, roles] = [k.split("|")[0] as RecoveryMethod, k.endsWith("|true")];
    const values = data.map((d) => rows.filter((r) => r.data === d && r.method === method && r.roles === roles).map((r) => r.scores[measure]));
    const stats = values.map((v) => meanSd(v));
    return { method, roles, label: `${RECOVERY_LABELS[method]}${roles ? " (roles)" : ""}`, mean: stats.map((s) => s.mean), sd: stats.map((s) => s.sd) };
  });
  return { data, groups };
}

/** What diagnose reported on each data set: how often each candidate was chosen, and how often it warned. */
export interface RecoveryChoiceRow {
  data: string;
  roles: boolean;
  seeds: number;
  /** Seeds on which each candidate was reported alone, or a consensus ("consensus"). */
  chosen: Partial<Record<ReportedSource, number>>;
  perUnit: number;
  /** Seeds on which held-out forecasts could not tell the best candidates apart (the tie rule decided). */
  ties: number;
  /** Seeds on which Stage 1 was flagged as indistinguishable from its prior. */
  priorWarnings: number;
  /** Seeds on which Stage 1 was flagged as indistinguishable from a baseline. */
  baselineWarnings: number;
  /** Mean held-out evidence z of each candidate. */
  z: Partial<Record<GraphSource, number>>;
}

export function recoveryChoices(rows: readonly RecoveryRow[]): RecoveryChoiceRow[] {
  const diag = rows.filter((r) => r.method === "diagnose" && r.choice);
  const keys = [...new Set(diag.map((r) => `${r.data}|${r.roles}`))];
  return keys.map((k) => {
    const rs = diag.filter((r) => `${r.data}|${r.roles}` === k);
    const chosen: Partial<Record<ReportedSource, number>> = {};
    for (const r of rs) chosen[r.choice!.chosen] = (chosen[r.choice!.chosen] ?? 0) + 1;
    const sources = [...new Set(rs.flatMap((r) => Object.keys(r.choice!.z)))] as GraphSource[];
    const z = Object.fromEntries(sources.map((s) => [s, meanSd(rs.map((r) => r.choice!.z[s] ?? NaN)).mean]));
    return {
      data: rs[0].data,
      roles: rs[0].roles,
      seeds: rs.length,
      chosen,
      perUnit: rs.filter((r) => r.choice!.perUnit).length,
      ties: rs.filter((r) => r.choice!.tied.length > 1).length,
      priorWarnings: rs.filter((r) => r.choice!.warnings.some((w) => w.includes("from its prior"))).length,
      baselineWarnings: rs.filter((r) => r.choice!.warnings.some((w) => w.includes("baseline"))).length,
      z,
    };
  });
}

/** The verdict of claim 6 on one data set (unconstrained fits), from mean AUROC over seeds. */
export interface RecoveryVerdict {
  data: string;
  stage1: number;
  granger: number;
  /** The best method on the data set (every method and its mean AUROC, diagnose excluded). */
  best: { method: RecoveryMethod; auroc: number };
  diagnose: number;
  /** Stage 1 (mean graph) within `tolerance` of the pooled Granger baseline, or above it. */
  stage1Holds: boolean;
  /** The reported graph above 0.5 and within `tolerance` of the best method, or above it. */
  diagnoseHolds: boolean;
}

/** Claim 6 per data set: Stage 1 against pooled Granger, diagnose against the best method. */
export function recoveryVerdicts(rows: readonly RecoveryRow[], tolerance = 0.03): RecoveryVerdict[] {
  const free = rows.filter((r) => !r.roles);
  const bars = recoveryBars(free, "auroc");
  return bars.data.map((d, k) => {
    const at = (m: RecoveryMethod) => bars.groups.find((g) => g.method === m)?.mean[k] ?? NaN;
    const others = bars.groups.filter((g) => g.method !== "diagnose" && Number.isFinite(g.mean[k]));
    const top = others.reduce((a, b) => (b.mean[k] > a.mean[k] ? b : a));
    const stage1 = at("dice-stage1-mean");
    const granger = at("granger-pooled");
    const diagnose = at("diagnose");
    return {
      data: d,
      stage1,
      granger,
      best: { method: top.method, auroc: top.mean[k] },
      diagnose,
      stage1Holds: stage1 >= granger - tolerance,
      diagnoseHolds: diagnose > 0.5 && diagnose >= top.mean[k] - tolerance,
    };
  });
}

/** Claim 6 in a few sentences, from the verdicts (Markdown). */
export function recoveryConclusion(rows: readonly RecoveryRow[], tolerance = 0.03): string {
  const v = recoveryVerdicts(rows, tolerance);
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
  const list = (xs: RecoveryVerdict[], what: (x: RecoveryVerdict) => string) => (xs.length ? xs.map(what).join("; ") : "none");
  const s1Fail = v.filter((x) => !x.stage1Holds);
  const dFail = v.filter((x) => !x.diagnoseHolds);
  const seeds = Math.min(...v.map((x) => rows.filter((r) => r.data === x.data && r.method === "diagnose" && !r.roles).length));
  const verdict = s1Fail.length === 0 && dFail.length === 0 ? "holds" : dFail.length === 0 || s1Fail.length < v.length / 2 ? "holds in part" : "does not hold";
  return [
    `**Claim 6 ${verdict}** on ${v.length} data sets (mean AUROC over at least ${seeds} seeds; tolerance ${tolerance}).`,
    `DICE Stage 1's mean graph matches or beats the pooled Granger baseline on ${v.length - s1Fail.length} of ${v.length}; it falls short on: ` +
      `${list(s1Fail, (x) => `${x.data} (${f(x.stage1)} against ${f(x.granger)})`)}.`,
    `The graph diagnose reports is above 0.5 and within ${tolerance} of the best method on ${v.length - dFail.length} of ${v.length}; it is not on: ` +
      `${list(dFail, (x) => `${x.data} (${f(x.diagnose)} against ${RECOVERY_LABELS[x.best.method]} ${f(x.best.auroc)})`)}.`,
    tieSentence(recoveryChoices(rows).filter((c) => !c.roles)),
  ].join("\n\n");
}

/** How often held-out forecasts separated the candidates, and what was reported, summed over data sets. */
function tieSentence(choices: readonly RecoveryChoiceRow[]): string {
  const fits = choices.reduce((a, c) => a + c.seeds, 0);
  const ties = choices.reduce((a, c) => a + c.ties, 0);
  const counts = new Map<string, number>();
  for (const c of choices)
    for (const [source, n] of Object.entries(c.chosen) as [ReportedSource, number][]) {
      const k = source === "consensus" ? "a consensus" : VARIANT_LABELS[source];
      counts.set(k, (counts.get(k) ?? 0) + n);
    }
  const reported = [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ");
  return (
    `Held-out forecasts of the outcome nodes told the best candidate apart from the others on ${fits - ties} of ${fits} unconstrained fits; ` +
    `on the other ${ties} the tie rule decided. Reported: ${reported}.`
  );
}

/** One family member as a seed draws it: its size, how units share graphs, and how much the graph is worth to a forecast. */
export interface FamilyOverviewRow {
  member: string;
  kind: string;
  units: number;
  steps: number;
  nodes: number;
  sharing: string;
  /** Distinct true graphs among the units, and their mean number of edges. */
  graphs: number;
  edges: number;
  /** MSE@7 ratio of the target: own-past linear forecaster / linear forecaster on the true parents (> 1: the graph helps). */
  graphGain: number;
}

/** The family members (with `override` merged over each) as seed `seed` draws them. */
export function familyOverview(members: readonly string[], override: FamilyInput = {}, seed = 1): FamilyOverviewRow[] {
  return members.map((m) => {
    const f = familyPanel(m, seed, override);
    const p = f.panel;
    const gs = f.truth.graphs;
    return {
      member: m,
      kind: f.config.kind,
      units: p.units,
      steps: p.steps,
      nodes: p.nodes,
      sharing: f.config.graph.sharing.mode,
      graphs: gs.length,
      edges: meanSd(gs.map((g) => g.flat().reduce((a, b) => a + b, 0))).mean,
      graphGain: f.graphForecast.ratio,
    };
  });
}
