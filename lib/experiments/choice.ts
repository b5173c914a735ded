/**
 * Which graph a diagnosis reports. DICE Stage 1 is fitted beside two cheap baselines (the pooled
 * linear Granger VAR and PCMCI), and the graph reported is the one whose ranking held-out
 * forecasts support best (lib/diagnostics/evidence.ts): no true graph enters the choice. The
 * same rule is what the graph-recovery study scores as "diagnose", so the study measures exactly
 * what a user receives.
 */
import { type EvidenceComparison, compareRankings } from "../diagnostics/evidence";
import type { NodeRole } from "../data/panel";
import type { Graph } from "../graph";
import { fitGranger } from "../models/granger";
import { fitPcmci } from "../models/pcmci";
import { type Stage1Run, stage1ValidationMse } from "./dice";
import { type TimePanel, VARIANT_LABELS } from "./protocol";

/** The methods a diagnosis can report a graph from. */
export type GraphSource = "dice-stage1" | "granger-pooled" | "pcmci";
export const GRAPH_SOURCES: readonly GraphSource[] = ["dice-stage1", "granger-pooled", "pcmci"];

export interface GraphChoiceConfig {
  /** Lags of the baselines and of the held-out linear probe. */
  lags: number;
  /** Random rankings in the probe's null distribution. */
  draws: number;
  /** A ranking is distinguishable from a random one when its probe area lies this many null SDs below the null mean. */
  zMin: number;
  /** Two rankings are indistinguishable when their probe areas differ by less than this many null SDs. */
  margin: number;
  /**
   * Per-unit graphs are reported only when the units' own Stage 1 graphs lower the restricted
   * decoder's validation MSE by at least this share against the mean graph given to every unit.
   */
  perUnitGain: number;
  /** Rule out edges into channels and out of the target in every candidate (the diagnosis' `roles`). */
  roles: NodeRole[] | null;
  seed: number;
}

export const GRAPH_CHOICE_DEFAULTS: GraphChoiceConfig = { lags: 3, draws: 20, zMin: 2, margin: 0.5, perUnitGain: 0.01, roles: null, seed: 1 };

/** One candidate graph: its pooled edge scores and the held-out evidence for them. */
export interface GraphCandidate {
  source: GraphSource;
  label: string;
  /** Edge scores `[j][i]` (j -> i), pooled over units; ruled-out pairs 0. */
  scores: Graph;
  /** Mean over k of the probe's relative validation MSE with the top-k edges, minus its own-lag value (lower: better supported). */
  area: number;
  /** (null mean - area) / null SD: how far the ranking is from a random one. */
  z: number;
  distinguishable: boolean;
  seconds: number;
}

/** The reported graph and why. */
export interface GraphChoice {
  candidates: GraphCandidate[];
  chosen: GraphSource;
  /** The reported graph (pooled): the chosen candidate's scores. */
  graph: Graph;
  /**
   * Per-unit graphs, only when Stage 1 is chosen and the units' own graphs beat the mean graph
   * on validation by `perUnitGain` (null otherwise; see `perUnitEvidence`).
   */
  unitGraphs: Graph[] | null;
  /** Stage 1's validation MSE with each unit's own graph and with the mean graph for every unit. */
  perUnitEvidence: { own: number; pooled: number; gain: number };
  /** The null distribution of the probe (random rankings of the allowed pairs). */
  null: { mean: number; sd: number };
  /** One line each: what the user must know about the reported graph. */
  warnings: string[];
}

/** 1 for the pairs the roles allow (not into a channel, not out of the target), the diagonal 0. */
export function allowedPairs(nodes: number, roles: readonly NodeRole[] | null): Graph {
  return Array.from({ length: nodes }, (_, j) =>
    Array.from({ length: nodes }, (_, i) => (i === j || (roles && (roles[i] === "channel" || roles[j] === "target")) ? 0 : 1)),
  );
}

const meanOf = (gs: readonly Graph[]): Graph => gs[0].map((row, j) => row.map((_, i) => gs.reduce((s, g) => s + g[j][i], 0) / gs.length));
const masked = (g: Graph, allowed: Graph): Graph => g.map((row, j) => row.map((v, i) => (allowed[j][i] ? v : 0)));

/** The pooled baselines' edge scores on the training window. */
export function baselineScores(tp: TimePanel, source: Exclude<GraphSource, "dice-stage1">, config: Pick<GraphChoiceConfig, "lags" | "roles">): Graph {
  const steps = { from: tp.split.train.from, to: tp.split.train.to };
  if (source === "granger-pooled") return fitGranger(tp.panel, { lags: config.lags, scope: "pooled", steps }).scores;
  return fitPcmci(tp.panel, { maxLag: config.lags, steps, roles: config.roles }).scores;
}

/** What {@link chooseAmong} decides from candidate scores alone. */
export interface RankingChoice {
  candidates: GraphCandidate[];
  chosen: GraphSource;
  null: { mean: number; sd: number };
  warnings: string[];
}

/**
 * The rule, on candidate edge scores: every candidate's ranking is scored by held-out linear
 * forecasts on the validation window (lib/diagnostics/evidence.ts) and the lowest probe area wins
 * (see {@link GraphCandidate.area}). Warnings say when Stage 1 is no better than a random ranking
 * of the same pairs (so it carries no more than its prior), when it cannot be told from a
 * baseline, and when no candidate is distinguishable from random. `candidates` maps each source
 * to its scores (and the seconds its fit took); at least one is needed.
 */
export function chooseAmong(
  tp: TimePanel,
  candidates: Partial<Record<GraphSource, { scores: Graph; seconds: number }>>,
  config: Partial<GraphChoiceConfig> = {},
): RankingChoice {
  const c: GraphChoiceConfig = { ...GRAPH_CHOICE_DEFAULTS, ...config };
  const allowed = allowedPairs(tp.panel.nodes, c.roles);
  const sources = GRAPH_SOURCES.filter((s) => candidates[s]);
  if (sources.length === 0) throw new Error("chooseAmong: no candidate graphs");
  const scores = Object.fromEntries(sources.map((s) => [s, masked(candidates[s]!.scores, allowed)])) as Record<GraphSource, Graph>;
  const cmp: EvidenceComparison = compareRankings(
    tp.panel,
    sources.map((s) => ({ name: s, scores: scores[s] })),
    { lags: c.lags, train: tp.split.train, validation: tp.split.validation, allowed, draws: c.draws, seed: c.seed, margin: c.margin, zMin: c.zMin },
  );
  const judged: GraphCandidate[] = cmp.candidates.map((e) => {
    const source = e.name as GraphSource;
    return {
      source,
      label: VARIANT_LABELS[source],
      scores: scores[source],
      area: e.area,
      z: e.z,
      distinguishable: e.distinguishable,
      seconds: candidates[source]!.seconds,
    };
  });
  const warnings: string[] = [];
  const s1 = judged.find((x) => x.source === "dice-stage1");
  const label = (s: string) => VARIANT_LABELS[s as GraphSource];
  if (s1 && !s1.distinguishable)
    warnings.push(
      `Stage 1's graph is indistinguishable from its prior: held-out forecasts rank it no better than a random ordering of the pairs (z = ${s1.z.toFixed(2)} < ${c.zMin}).`,
    );
  for (const p of cmp.indistinguishable)
    if (p.a === "dice-stage1" || p.b === "dice-stage1")
      warnings.push(
        `Stage 1's graph is indistinguishable from the ${label(p.a === "dice-stage1" ? p.b : p.a)} baseline by held-out forecasts (areas within ${c.margin} null SD).`,
      );
  if (!judged.some((x) => x.distinguishable))
    warnings.push("No candidate graph is supported by held-out forecasts better than a random ordering: the reported graph is not evidence of any edge.");
  return { candidates: judged, chosen: cmp.chosen as GraphSource, null: { mean: cmp.null.mean, sd: cmp.null.sd }, warnings };
}

/**
 * Fits the baselines beside a trained Stage 1 and reports the graph {@link chooseAmong} picks;
 * per-unit graphs only when Stage 1 is picked and its units' own graphs lower the restricted
 * decoder's validation MSE by `perUnitGain` against the mean graph given to every unit.
 */
export function chooseGraph(tp: TimePanel, stage1: Stage1Run, config: Partial<GraphChoiceConfig> = {}): GraphChoice {
  const c: GraphChoiceConfig = { ...GRAPH_CHOICE_DEFAULTS, ...config };
  const allowed = allowedPairs(tp.panel.nodes, c.roles);
  const mean = masked(meanOf(stage1.probs), allowed);
  const choice = chooseAmong(
    tp,
    {
      "dice-stage1": { scores: mean, seconds: stage1.fit.seconds },
      "granger-pooled": timed(() => baselineScores(tp, "granger-pooled", c)),
      pcmci: timed(() => baselineScores(tp, "pcmci", c)),
    },
    c,
  );
  const own = stage1ValidationMse(stage1.model, tp, stage1.probs);
  const pooled = stage1ValidationMse(
    stage1.model,
    tp,
    stage1.probs.map(() => mean),
  );
  const gain = (pooled - own) / pooled;
  const perUnit = choice.chosen === "dice-stage1" && gain >= c.perUnitGain;
  return {
    ...choice,
    graph: choice.candidates.find((k) => k.source === choice.chosen)!.scores,
    unitGraphs: perUnit ? stage1.probs.map((g) => masked(g, allowed)) : null,
    perUnitEvidence: { own, pooled, gain },
  };
}

function timed(f: () => Graph): { scores: Graph; seconds: number } {
  const t0 = Date.now();
  const scores = f();
  return { scores, seconds: (Date.now() - t0) / 1000 };
}
