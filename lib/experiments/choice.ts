/**
 * Which graph a diagnosis reports. DICE Stage 1 is fitted beside two cheap baselines (the pooled
 * linear Granger VAR and PCMCI); the graph reported is the one whose ranking held-out forecasts
 * of the outcome nodes support clearly best (lib/diagnostics/evidence.ts), and PCMCI's when the
 * forecasts cannot tell the best candidates apart. No true graph enters the choice. The same rule
 * is what the graph-recovery study scores as "diagnose", so the study measures exactly what a
 * user receives.
 */
import { type EvidenceComparison, compareRankings } from "../diagnostics/evidence";
import { type NodeRole, allowedPairs } from "../data/panel";
import { type Graph, maskGraph, meanGraph } from "../graph";
import { fitGranger } from "../models/granger";
import { fitPcmci } from "../models/pcmci";
import { type Stage1Run, stage1ValidationMse } from "./dice";
import { type TimePanel, VARIANT_LABELS } from "./protocol";

/** The methods a diagnosis can report a graph from. */
export type GraphSource = "dice-stage1" | "granger-pooled" | "pcmci";
export const GRAPH_SOURCES: readonly GraphSource[] = ["dice-stage1", "granger-pooled", "pcmci"];
/** What a diagnosis reports: one candidate's graph, or the consensus of candidates held-out forecasts cannot tell apart. */
export type ReportedSource = GraphSource | "consensus";

export interface GraphChoiceConfig {
  /** Lags of the baselines and of the held-out linear probe. */
  lags: number;
  /** Random rankings in the probe's null distribution. */
  draws: number;
  /** Folds of the blocked cross-validation probe over the training and validation windows (the second probe). */
  folds: number;
  /** A ranking is distinguishable from a random one when its evidence z (mean over the two probes) is at least this. */
  zMin: number;
  /**
   * Two rankings are indistinguishable when their evidence z differ by less than this; the
   * candidates within it of the best z are reported as their consensus (mean normalised rank).
   */
  margin: number;
  /**
   * Per-unit graphs are reported only when the units' own Stage 1 graphs lower the restricted
   * decoder's validation MSE by at least this share against the mean graph given to every unit.
   */
  perUnitGain: number;
  /** Rule out edges into channels and out of the target in every candidate (the diagnosis' `roles`). */
  roles: NodeRole[] | null;
  /**
   * Whose held-out forecasts judge a ranking: "outcomes", the nodes that are not channels (the
   * funnel and the target; every node when the panel has no channel role), or "all" nodes. A
   * channel's spend follows its own calendar, and a node with longer memory (sales that carry
   * the adstock of past flights) forecasts that calendar better than its few own lags do: such
   * pairs into channels lower held-out error without being causes, so by default they are not
   * counted as evidence.
   */
  judge: "outcomes" | "all";
  /**
   * What is reported when held-out forecasts cannot tell the best candidates apart (their z
   * within `margin`): this candidate when it is among them, otherwise (or with "consensus")
   * their consensus. PCMCI by default: its tests condition on the receiver's and the sender's
   * own pasts, the error a forecast probe cannot see.
   */
  tieBreak: GraphSource | "consensus";
  seed: number;
}

export const GRAPH_CHOICE_DEFAULTS: GraphChoiceConfig = { lags: 3, draws: 20, folds: 5, zMin: 2, margin: 0.5, perUnitGain: 0.01, roles: null, judge: "outcomes", tieBreak: "pcmci", seed: 1 };

/** One candidate graph: its pooled edge scores and the held-out evidence for them. */
export interface GraphCandidate {
  source: GraphSource;
  label: string;
  /** Edge scores `[j][i]` (j -> i), pooled over units; ruled-out pairs 0. */
  scores: Graph;
  /** Mean over k of the probe's relative validation MSE with the top-k edges, minus its own-lag value (lower: better supported), per probe. */
  area: { validation: number; crossValidation: number };
  /** Mean over the two probes of (null mean - area) / null SD: how far the ranking is from a random one. */
  z: number;
  distinguishable: boolean;
  seconds: number;
}

/** The reported graph and why. */
export interface GraphChoice extends RankingChoice {
  /**
   * Per-unit graphs, only when Stage 1 is chosen and the units' own graphs beat the mean graph
   * on validation by `perUnitGain` (null otherwise; see `perUnitEvidence`).
   */
  unitGraphs: Graph[] | null;
  /** Stage 1's validation MSE with each unit's own graph and with the mean graph for every unit. */
  perUnitEvidence: { own: number; pooled: number; gain: number };
}

/** The pooled baselines' edge scores on the training window. */
export function baselineScores(tp: TimePanel, source: Exclude<GraphSource, "dice-stage1">, config: Pick<GraphChoiceConfig, "lags" | "roles">): Graph {
  const steps = { from: tp.split.train.from, to: tp.split.train.to };
  if (source === "granger-pooled") return fitGranger(tp.panel, { lags: config.lags, scope: "pooled", steps }).scores;
  return fitPcmci(tp.panel, { maxLag: config.lags, steps, roles: config.roles }).scores;
}

/** What {@link chooseAmong} decides from candidate scores alone. */
export interface RankingChoice {
  candidates: GraphCandidate[];
  /** The reported candidate, or "consensus". */
  chosen: ReportedSource;
  /** The candidates the reported graph stands for (one, or those of the consensus), best first. */
  members: GraphSource[];
  /** The candidates held-out forecasts cannot tell apart from the best one (z within `margin`; the best included), best first. */
  tied: GraphSource[];
  /** A display label of the reported graph. */
  label: string;
  /** The reported graph (pooled; ruled-out pairs 0): the chosen candidate's scores, or the consensus' mean normalised rank in (0, 1]. */
  graph: Graph;
  /** The null distribution of the validation-window probe (random rankings of the allowed pairs). */
  null: { mean: number; sd: number };
  /** One line each: what the user must know about the reported graph. */
  warnings: string[];
}

/**
 * Mean over graphs of each allowed pair's normalised rank (1 = the highest score; tied scores
 * share their mean rank), so graphs on different scales count alike; 0 off the allowed pairs.
 */
export function consensusGraph(graphs: readonly Graph[], allowed: Graph): Graph {
  const N = allowed.length;
  const pairs: [number, number][] = [];
  for (let j = 0; j < N; j++) for (let i = 0; i < N; i++) if (i !== j && allowed[j][i]) pairs.push([j, i]);
  const out: Graph = Array.from({ length: N }, () => new Array<number>(N).fill(0));
  for (const g of graphs) {
    const order = pairs.map((p, k) => ({ k, v: g[p[0]][p[1]] })).sort((a, b) => a.v - b.v);
    for (let a = 0; a < order.length;) {
      let b = a;
      while (b + 1 < order.length && order[b + 1].v === order[a].v) b++;
      const rank = (a + b) / 2 + 1;
      for (let q = a; q <= b; q++) {
        const [j, i] = pairs[order[q].k];
        out[j][i] += rank / pairs.length / graphs.length;
      }
      a = b + 1;
    }
  }
  return out;
}

/**
 * The rule, on candidate edge scores: every candidate's ranking is scored by held-out linear
 * forecasts of the outcome nodes (`judge`; lib/diagnostics/evidence.ts: its edges added one at a
 * time to a pooled linear VAR, the area under the held-out error curve) twice, on the validation
 * window and by blocked cross-validation over the training and validation windows; each area
 * becomes a z against the areas of random rankings of the same pairs, and the candidate with the
 * largest mean z wins. When other candidates are within `margin` of its z, the data cannot tell
 * them apart (`tied`), and `tieBreak` decides: PCMCI by default when it is among them, else their
 * consensus (mean normalised rank, {@link consensusGraph}). Warnings say when Stage 1 is no
 * better than a random ranking of the same pairs (so it carries no more than its prior), when it
 * cannot be told from a baseline, and when no candidate is distinguishable from random.
 * `candidates` maps each source to its scores (and the seconds its fit took); at least one is
 * needed.
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
  const scores = Object.fromEntries(sources.map((s) => [s, maskGraph(candidates[s]!.scores, allowed)])) as Record<GraphSource, Graph>;
  const outcomes = tp.panel.roles.flatMap((r, i) => (r === "channel" ? [] : [i]));
  const receivers = c.judge === "outcomes" && outcomes.length > 0 ? outcomes : undefined;
  const probe = (folds: number): EvidenceComparison =>
    compareRankings(
      tp.panel,
      sources.map((s) => ({ name: s, scores: scores[s] })),
      { lags: c.lags, train: tp.split.train, validation: tp.split.validation, allowed, draws: c.draws, seed: c.seed, margin: c.margin, zMin: c.zMin, folds, receivers },
    );
  // two probes: the validation window alone, and blocked cross-validation over training and
  // validation (more held-out rows); a candidate's evidence is the mean of its two z
  const split = probe(1);
  const cv = probe(c.folds);
  const judged: GraphCandidate[] = sources.map((source, k) => {
    const z = (split.candidates[k].z + cv.candidates[k].z) / 2;
    return {
      source,
      label: VARIANT_LABELS[source],
      scores: scores[source],
      area: { validation: split.candidates[k].area, crossValidation: cv.candidates[k].area },
      z,
      distinguishable: z >= c.zMin,
      seconds: candidates[source]!.seconds,
    };
  });
  let best = 0;
  judged.forEach((x, k) => {
    if (x.z > judged[best].z) best = k;
  });
  const warnings: string[] = [];
  const s1 = judged.find((x) => x.source === "dice-stage1");
  const label = (s: string) => VARIANT_LABELS[s as GraphSource];
  if (s1 && !s1.distinguishable)
    warnings.push(
      `Stage 1's graph is indistinguishable from its prior: held-out forecasts rank it no better than a random ordering of the pairs (z = ${s1.z.toFixed(2)} < ${c.zMin}).`,
    );
  if (s1)
    for (const x of judged)
      if (x.source !== "dice-stage1" && Math.abs(x.z - s1.z) < c.margin)
        warnings.push(`Stage 1's graph is indistinguishable from the ${label(x.source)} baseline by held-out forecasts (evidence z within ${c.margin}).`);
  if (!judged.some((x) => x.distinguishable))
    warnings.push("No candidate graph is supported by held-out forecasts better than a random ordering: the reported graph is not evidence of any edge.");
  const nul = { mean: split.null.mean, sd: split.null.sd };
  const tied = judged
    .filter((x) => x.z >= judged[best].z - c.margin)
    .sort((a, b) => b.z - a.z)
    .map((x) => x.source);
  const members = tied.length > 1 && c.tieBreak !== "consensus" && tied.includes(c.tieBreak) ? [c.tieBreak] : tied;
  const consensus = members.length > 1;
  return {
    candidates: judged,
    chosen: consensus ? "consensus" : members[0],
    members,
    tied,
    label: consensus ? `consensus of ${members.map(label).join(", ")}` : label(members[0]),
    graph: consensus
      ? consensusGraph(
          members.map((m) => scores[m]),
          allowed,
        )
      : scores[members[0]],
    null: nul,
    warnings,
  };
}

/**
 * Fits the baselines beside a trained Stage 1 and reports the graph {@link chooseAmong} picks;
 * per-unit graphs only when Stage 1 is picked and its units' own graphs lower the restricted
 * decoder's validation MSE by `perUnitGain` against the mean graph given to every unit.
 */
export function chooseGraph(tp: TimePanel, stage1: Stage1Run, config: Partial<GraphChoiceConfig> = {}): GraphChoice {
  const c: GraphChoiceConfig = { ...GRAPH_CHOICE_DEFAULTS, ...config };
  const allowed = allowedPairs(tp.panel.nodes, c.roles);
  const mean = maskGraph(meanGraph(stage1.probs), allowed);
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
    unitGraphs: perUnit ? stage1.probs.map((g) => maskGraph(g, allowed)) : null,
    perUnitEvidence: { own, pooled, gain },
  };
}

function timed(f: () => Graph): { scores: Graph; seconds: number } {
  const t0 = Date.now();
  const scores = f();
  return { scores, seconds: (Date.now() - t0) / 1000 };
}
